"""Command line for the leads: serve, list, show, export, retry hand-offs, erase a person.

python -m leads serve [--host 127.0.0.1] [--port 5077]   # the leads API and rep page
python -m leads list [--status qualified] [--since 2026-11-01]
python -m leads show LEAD_ID
python -m leads export --format csv|json [--out FILE] [--language en|fr|pl]   # CSV: headers in words
python -m leads retry            # outbox, waiting hand-offs, failed notifications
python -m leads erase EMAIL|PHONE   # GDPR: everything about one person, for good
"""

from __future__ import annotations

import argparse
import io
import json
import sys
from typing import Any, Dict, List, Optional, TextIO

from leads.filters import parse_filters
from leads.storage.db import migrate, session_scope

#: The exported columns (the contract's fields) and the label of each header, in ``config/rep_labels.yml``.
CSV_COLUMNS = (
    ("id", "lead_id"),
    ("conversation_id", "conversation_id"),
    ("channel", "channel"),
    ("language", "language"),
    ("status", "status"),
    ("score", "score"),
    ("contact.name", "name"),
    ("contact.email", "email"),
    ("contact.phone", "phone"),
    ("contact.company", "company"),
    ("contact.job_title", "job_title"),
    ("need.summary", "need"),
    ("need.category", "category"),
    ("interest.level", "interest"),
    ("authority", "authority"),
    ("benefits", "benefits"),
    ("current_vendor", "vendor"),
    ("stakeholders", "buying_center"),
    ("reasons", "reasons"),
    ("risks", "risks"),
    ("handoff.rep", "rep"),
    ("handoff.status", "handoff"),
    ("created_at", "created"),
    ("updated_at", "updated"),
)
#: Columns holding a code, and the label group that turns it into words.
CODED = {
    "channel": "channel",
    "language": "language",
    "status": "status",
    "need.category": "category",
    "interest.level": "interest",
    "authority": "authority",
    "benefits": "benefit",
}


def _leads(filters: Dict[str, Any]) -> List[Dict[str, Any]]:
    from leads.storage.repository import lead_to_contract, list_leads

    with session_scope() as session:
        return [lead_to_contract(lead) for lead in list_leads(session, **filters)]


def _cell(lead: Dict[str, Any], column: str, language: str) -> str:
    from leads import describe
    from leads.labels import text, words

    value: Any = lead
    for part in column.split("."):
        value = (value or {}).get(part) if isinstance(value, dict) else None
    if column == "stakeholders":
        return "; ".join(
            f"{describe.person(p, language)}, {text('stance', p.get('stance') or 'unknown', language)}"
            + (f": {p['concern']}" if p.get("concern") else "")
            for p in value or []
        )
    if column == "handoff.status":
        return describe.handoff(lead, language) if lead.get("handoff") else ""
    if column in CODED:
        return words(CODED[column], value if isinstance(value, list) else [value], language, "")
    if isinstance(value, list):
        return "; ".join(str(v) for v in value)
    return "" if value is None else str(value)


def write_csv(leads: List[Dict[str, Any]], out: TextIO, language: str = "en") -> None:
    """Leads as CSV, one row each, headers and codes in words; cells a spreadsheet would run as formulas are quoted."""
    from leads.labels import text
    from leads.spreadsheet import write_rows

    header = [text("field", label, language) for _, label in CSV_COLUMNS]
    write_rows(out, header, ([_cell(lead, column, language) for column, _ in CSV_COLUMNS] for lead in leads))


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
    export.add_argument("--language", choices=("en", "fr", "pl"), default="en", help="of the CSV headers and words")
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
            from leads.facts import lead_title
            from leads.labels import text

            for lead in leads:
                status = text("status", lead["status"], "en")
                print(
                    f"{lead['id']}  {status:<24} {lead['score']:>3}  {lead['updated_at']}  {lead_title(lead, 'en')}",
                    file=out,
                )
            return 0
        buffer = io.StringIO()
        if args.format == "csv":
            write_csv(leads, buffer, args.language)
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
        from leads.pipeline import crm_updates_waiting, hand_off_waiting, writer

        flushed = writer().flush()
        handed = hand_off_waiting()
        crm_updates_waiting()
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
