"""Command line for the leads: serve, list, show, export, retry hand-offs, erase a person.

python -m leads serve [--host 127.0.0.1] [--port 5077]   # the leads API and rep page
python -m leads list [--status qualified] [--since 2026-11-01]
python -m leads show LEAD_ID
python -m leads export --format csv|json [--out FILE]
python -m leads retry            # outbox, waiting hand-offs, failed notifications
python -m leads erase EMAIL|PHONE   # GDPR: everything about one person, for good
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from typing import Any, Dict, List, Optional, TextIO

from leads.filters import parse_filters
from leads.storage.db import migrate, session_scope

CSV_COLUMNS = (
    "id",
    "conversation_id",
    "channel",
    "language",
    "status",
    "score",
    "contact.name",
    "contact.email",
    "contact.phone",
    "contact.company",
    "contact.job_title",
    "need.summary",
    "need.category",
    "interest.level",
    "authority",
    "benefits",
    "current_vendor",
    "stakeholders",
    "reasons",
    "risks",
    "handoff.rep",
    "handoff.status",
    "created_at",
    "updated_at",
)


def _leads(filters: Dict[str, Any]) -> List[Dict[str, Any]]:
    from leads.storage.repository import lead_to_contract, list_leads

    with session_scope() as session:
        return [lead_to_contract(lead) for lead in list_leads(session, **filters)]


def _cell(lead: Dict[str, Any], column: str) -> str:
    value: Any = lead
    for part in column.split("."):
        value = (value or {}).get(part) if isinstance(value, dict) else None
    if column == "stakeholders":
        return "; ".join(
            f"{p.get('name') or ''} ({p.get('role') or ''}) {p['stance']}"
            + (f": {p['concern']}" if p.get("concern") else "")
            for p in value or []
        )
    if isinstance(value, list):
        return "; ".join(str(v) for v in value)
    return "" if value is None else str(value)


def write_csv(leads: List[Dict[str, Any]], out: TextIO) -> None:
    """Leads as CSV, one row each; cells that a spreadsheet would run as formulas are quoted."""
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for lead in leads:
        row = [_cell(lead, c) for c in CSV_COLUMNS]
        writer.writerow(["'" + v if v[:1] in ("=", "+", "-", "@") else v for v in row])


def main(argv: Optional[List[str]] = None, out: TextIO = sys.stdout) -> int:
    parser = argparse.ArgumentParser(prog="python -m leads", description="Serve and work with the stored leads.")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the leads API, the rep page and the Slack buttons")
    serve.add_argument("--host", help="address to listen on (default: LEADS_HOST, else loopback only)")
    serve.add_argument("--port", type=int, default=5077)
    listing = commands.add_parser("list", help="list leads")
    export = commands.add_parser("export", help="export leads as CSV or JSON")
    for sub in (listing, export):
        sub.add_argument("--status")
        sub.add_argument("--since")
        sub.add_argument("--rep")
        sub.add_argument("--limit", default="1000")
    export.add_argument("--format", choices=("csv", "json"), default="json")
    export.add_argument("--out")
    commands.add_parser("show", help="one lead as JSON").add_argument("lead_id")
    commands.add_parser("retry", help="retry the outbox, hand-offs and notifications now")
    commands.add_parser("erase", help="erase everything about one person, for good").add_argument(
        "who", metavar="EMAIL|PHONE", help="the person's e-mail address or phone number"
    )
    args = parser.parse_args(argv)
    if args.command == "serve":
        from leads.server import serve as run_server

        run_server(args.host, args.port)
        return 0
    migrate()

    if args.command in ("list", "export"):
        try:
            filters = parse_filters(
                {k: v for k, v in vars(args).items() if k in ("status", "since", "rep", "limit") and v}
            )
        except ValueError as error:
            parser.error(str(error))
        leads = _leads(filters)
        if args.command == "list":
            for lead in leads:
                who = lead["contact"].get("company") or lead["contact"].get("name") or lead["conversation_id"]
                print(f"{lead['id']}  {lead['status']:<12} {lead['score']:>3}  {lead['updated_at']}  {who}", file=out)
            return 0
        buffer = io.StringIO()
        if args.format == "csv":
            write_csv(leads, buffer)
        else:
            json.dump(leads, buffer, ensure_ascii=False, indent=2)
        if args.out:
            with open(args.out, "w", encoding="utf-8", newline="") as handle:
                handle.write(buffer.getvalue())
        else:
            out.write(buffer.getvalue())
        return 0
    if args.command == "show":
        from leads.storage.repository import get_lead, lead_to_contract

        with session_scope() as session:
            lead = get_lead(session, args.lead_id)
            if lead is None:
                print(f"No lead with id {args.lead_id}.", file=sys.stderr)
                return 1
            print(
                json.dumps({**lead_to_contract(lead), "transcript": lead.transcript}, ensure_ascii=False, indent=2),
                file=out,
            )
        return 0
    if args.command == "retry":
        from leads.delivery import deliver_pending, retry_now
        from leads.pipeline import hand_off_waiting, writer

        flushed = writer().flush()
        handed = hand_off_waiting()
        due = retry_now()
        result = deliver_pending()
        print(
            f"outbox: {flushed} written; hand-offs: {handed} queued; notifications: {due} due, "
            f"{result['delivered']} delivered, {result['failed']} still failing",
            file=out,
        )
        return 0 if result["failed"] == 0 else 2
    if args.command == "erase":
        from leads.storage.erasure import erase_everywhere, kind_of

        try:
            kind_of(args.who)
        except ValueError as error:
            parser.error(str(error))
        counts = erase_everywhere(args.who)
        print(f"Erased everything about this {kind_of(args.who)}:", file=out)
        for what, count in counts.items():
            print(f"  {what}: {count}", file=out)
        return 0
    return 1


if __name__ == "__main__":
    sys.exit(main())
