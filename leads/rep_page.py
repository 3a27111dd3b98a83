"""The rep page's HTML, drawn on the server: every visitor-typed text is escaped."""

from __future__ import annotations

import json
from html import escape
from typing import Any, Dict, List

from leads.filters import STATUSES


def page(title: str, body: str) -> str:
    """A whole HTML page around ``body`` (already escaped)."""
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>" + escape(title) + "</title><style>"
        "body{font:15px/1.5 system-ui,sans-serif;margin:24px auto;max-width:1000px;color:#1c2330}"
        "table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #e3e8f0;padding:6px;text-align:left;"
        "vertical-align:top}.saboteur{color:#b42318;font-weight:600}.visitor{color:#0b5fff}.tag{padding:1px 6px;"
        "border-radius:8px;background:#eef2f8}</style></head><body>" + body + "</body></html>"
    )


def message(title: str, text: str) -> str:
    """A page with one sentence."""
    return page(title, f"<p>{escape(text)}</p>")


def index(leads: List[Dict[str, Any]]) -> str:
    """The list of leads."""
    rows = []
    for lead in leads:
        contact = lead["contact"]
        who = contact.get("company") or contact.get("name") or lead["conversation_id"]
        rows.append(
            f"<tr><td><a href='/reps/leads/{escape(lead['id'])}'>{escape(str(who))}</a></td>"
            f"<td><span class='tag'>{escape(lead['status'])}</span> {lead['score']}</td>"
            f"<td>{escape(lead['need']['summary'] or '—')}</td><td>{escape(lead['authority'])}</td>"
            f"<td>{escape((lead['handoff'] or {}).get('rep') or '—')}</td><td>{escape(lead['updated_at'])}</td></tr>"
        )
    links = " · ".join(f"<a href='/reps?status={s}'>{s}</a>" for s in STATUSES)
    return page(
        "Leads",
        f"<h1>Leads</h1><p><a href='/reps'>all</a> · {links}</p><table><tr><th>Lead</th>"
        f"<th>Status</th><th>Need</th><th>Authority</th><th>Rep</th><th>Updated</th></tr>" + "".join(rows) + "</table>",
    )


def lead_page(lead: Dict[str, Any]) -> str:
    """One lead: summary, buying center, transcript."""
    contact = lead["contact"]
    title = contact.get("company") or contact.get("name") or "Lead"
    people = (
        "".join(
            f"<li class='{escape(p['stance'])}'>{escape(p.get('name') or '')} {escape(p.get('role') or '')} — "
            f"{escape(p['stance'])}{': ' + escape(p['concern']) if p.get('concern') else ''}</li>"
            for p in lead["stakeholders"]
        )
        or "<li>nobody named</li>"
    )
    transcript = "".join(
        f"<tr><td class='{escape(line['sender'])}'>{escape(line['sender'])}</td><td>{escape(line['text'])}</td></tr>"
        for line in lead["transcript"]
    )
    facts = [
        ("Status", f"{lead['status']} ({lead['score']})"),
        ("Need", lead["need"]["summary"] or "—"),
        ("Category", lead["need"]["category"] or "—"),
        ("Interest", lead["interest"]["level"] or "—"),
        ("Signals", ", ".join(lead["interest"]["signals"]) or "—"),
        ("Authority", lead["authority"]),
        ("Benefits", ", ".join(lead["benefits"]) or "—"),
        ("Current vendor", lead["current_vendor"] or "—"),
        ("Contact", ", ".join(str(v) for v in contact.values() if v) or "—"),
        ("Why", " ".join(lead["reasons"])),
        ("Risks", " ".join(lead["risks"]) or "—"),
        ("Hand-off", json.dumps(lead["handoff"]) if lead["handoff"] else "—"),
    ]
    table = "".join(f"<tr><th>{escape(k)}</th><td>{escape(str(v))}</td></tr>" for k, v in facts)
    return page(
        "Lead",
        f"<p><a href='/reps'>← all leads</a></p><h1>{escape(str(title))}</h1>"
        f"<table>{table}</table><h2>Buying center</h2><ul>{people}</ul>"
        f"<h2>Conversation</h2><table>{transcript}</table>",
    )
