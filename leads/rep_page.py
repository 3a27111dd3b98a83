"""The rep page's HTML, drawn on the server in the rep's language: every visitor-typed text is escaped.

Dates are written in UTC on the server and shown by a few lines of script in
the browser's own time zone (``<time datetime=…>``). The layout fits a laptop
and a phone: at 700 px and below the list becomes one card per lead.
"""

from __future__ import annotations

from datetime import datetime
from html import escape
from typing import Any, List, Mapping, Optional, Sequence
from urllib.parse import quote, urlencode

from leads import describe
from leads.facts import lead_title, short_concern
from leads.filters import CHANNELS, SORTS, STATUSES
from leads.labels import colon, format_time, text
from leads.promise import Promise, promise_text, time_left

STYLE = (
    "*{box-sizing:border-box}body{font:15px/1.5 system-ui,sans-serif;margin:0;color:#1c2330;background:#f6f8fb}"
    "main{max-width:1200px;margin:0 auto;padding:16px}a{color:#0b5fff}h1{font-size:1.6em;margin:.2em 0 .4em;"
    "overflow-wrap:anywhere}h2{font-size:1.15em;margin:1.2em 0 .4em}"
    ".box{background:#fff;border:1px solid #e3e8f0;border-radius:10px;padding:12px 14px;margin:10px 0}"
    "table{border-collapse:collapse;width:100%;table-layout:fixed}td,th{border-bottom:1px solid #e3e8f0;"
    "padding:8px 6px;text-align:left;vertical-align:top;overflow-wrap:break-word}th{font-weight:600}"
    ".facts th{width:30%;color:#4a5566}.tabs{display:flex;flex-wrap:wrap;gap:6px;margin:6px 0}"
    ".tabs a{padding:3px 10px;border-radius:14px;background:#e7ecf5;text-decoration:none;color:#1c2330}"
    ".tabs a.on{background:#0b5fff;color:#fff}form.filters{display:flex;flex-wrap:wrap;gap:8px;align-items:end}"
    "form.filters label{display:flex;flex-direction:column;font-size:.85em;color:#4a5566;min-width:0}"
    "input,select,textarea,button{font:inherit;max-width:100%}input[type=search]{width:16em}"
    "button{padding:5px 14px;border-radius:6px;border:1px solid #0b5fff;background:#0b5fff;color:#fff;"
    "cursor:pointer}button.pass{background:#fff;color:#b42318;border-color:#b42318}"
    ".tag{display:inline-block;padding:1px 8px;border-radius:10px;background:#eef2f8}"
    ".tag.qualified{background:#dcf5e3}.tag.nurture{background:#fff4d6}.tag.disqualified{background:#f1f1f1}"
    ".saboteur,.late{color:#b42318;font-weight:600}.muted{color:#5b6575;font-size:.9em}.visitor{color:#0b5fff}"
    ".promise{border-left:4px solid #0b5fff}.done{border-left:4px solid #1a7f37}.error{border-left:4px solid #b42318}"
    ".pager{display:flex;gap:12px;align-items:center;flex-wrap:wrap}textarea{width:100%;min-height:5em}"
    "col.c-lead{width:22%}col.c-status{width:13%}col.c-need{width:27%}col.c-role{width:12%}col.c-rep{width:16%}"
    "col.c-when{width:10%}"
    "@media (max-width:700px){main{padding:10px}table.leads,table.leads tbody,table.leads tr,table.leads td"
    "{display:block;width:100%}table.leads thead,table.leads colgroup{display:none}table.leads tr{background:#fff;"
    "border:1px solid #e3e8f0;border-radius:10px;margin:8px 0;padding:4px 8px}table.leads td{border:0;"
    "padding:3px 0}table.leads td[data-label]::before{content:attr(data-label) ': ';color:#5b6575;font-size:.9em}"
    "input[type=search]{width:100%}form.filters label{flex:1 1 45%}.facts th{width:42%;font-size:.92em}}"
)
#: Shows every <time> in the browser's time zone and language.
SCRIPT = (
    "var lang=document.documentElement.lang,nav=navigator.language||'',"
    "loc=nav.slice(0,2).toLowerCase()===lang?nav:lang;"
    "document.querySelectorAll('time[datetime]').forEach(function(t){var d=new Date(t.getAttribute('datetime'));"
    "if(!isNaN(d)){t.textContent=d.toLocaleString(loc,{day:'numeric',month:'short',"
    "hour:'2-digit',minute:'2-digit'});t.title=Intl.DateTimeFormat().resolvedOptions().timeZone;}});"
)
TIME = "\x00time\x00"


def page(title: str, body: str, language: str = "en", style: str = "") -> str:
    """A whole HTML page around ``body`` (already escaped); ``style``: rules added to the page's own."""
    return (
        f"<!doctype html><html lang='{escape(language)}'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width,initial-scale=1'>"
        f"<title>{escape(title)}</title><style>{STYLE}{style}</style></head><body><main>{body}</main>"
        f"<script>{SCRIPT}</script></body></html>"
    )


def message(title: str, sentence: str, language: str = "en") -> str:
    """A page with one sentence."""
    back = f"<p><a href='/reps'>{escape(text('page', 'back', language))}</a></p>"
    return page(title, f"{back}<p class='box error'>{escape(sentence)}</p>", language)


def when(moment: Any, language: str) -> str:
    """A ``<time>`` element: UTC from the server, the browser's time zone once the script ran."""
    if not moment:
        return "—"
    return f"<time datetime='{escape(str(moment))}'>{escape(format_time(moment, language))} UTC</time>"


def _with_time(sentence: str, moment: Any, language: str) -> str:
    """An escaped sentence whose time placeholder becomes a ``<time>`` element."""
    return escape(sentence).replace(escape(TIME), when(moment, language))


def title_html(lead: Mapping[str, Any], language: str) -> str:
    """The lead's title, escaped; a visitor's title carries its time in the browser's zone."""
    return _with_time(lead_title(lead, language, shown_time=TIME), lead.get("created_at"), language)


def handoff_html(lead: Mapping[str, Any], language: str) -> str:
    """``Sent to Ewa at 10:42, not accepted yet``, with the time in the browser's zone."""
    data = lead.get("handoff") or {}
    moment = data.get("accepted_at") if data.get("status") == "accepted" else data.get("notified_at")
    return _with_time(describe.handoff(lead, language, shown_time=TIME), moment, language)


def steps_html(steps: List[Mapping[str, Any]], language: str) -> str:
    """The hand-off's history (offered, expired, passed, offered next, queued, accepted), oldest first."""
    if not steps:
        return ""
    items = "".join(
        f"<li class='step {escape(step['kind'])}'>"
        f"{escape(text('step', step['kind'], language, rep=step.get('rep') or '—'))}"
        f" <span class='muted'>{when(step.get('at'), language)}</span></li>"
        for step in steps
    )
    return f"<h2>{escape(text('page', 'steps', language))}</h2><ol id='steps'>{items}</ol>"


def promise_html(promise: Optional[Promise], now: datetime, language: str, long: bool = False) -> str:
    """What was promised and the time left (``long``: the whole sentence, for the lead page)."""
    if promise is None:
        return ""
    if promise.kind == "none":
        return f"<span class='muted'>{escape(promise_text(promise, language))}</span>" if long else ""
    left = time_left(promise, now, language)
    late = promise.deadline is not None and promise.deadline < now
    deadline = _with_time(text("time", "by", language, time=TIME), promise.deadline.isoformat(), language)
    short = f"<span class='{'late' if late else ''}'>{escape(left)}</span>"
    if not long:
        return short
    return f"{escape(promise_text(promise, language))} · {deadline} · {short}"


def _query(filters: Mapping[str, Any], **changes: Any) -> str:
    merged = {**filters, **changes}
    kept = {}
    for key, value in merged.items():
        if value in (None, "") or (key == "page" and value == 1):
            continue
        kept[key] = value.strftime("%Y-%m-%d") if isinstance(value, datetime) else value
    return "/reps" + ("?" + urlencode(kept) if kept else "")


def select_field(name: str, label: str, options: Sequence[tuple], chosen: Any) -> str:
    items = "".join(
        f"<option value='{escape(str(value))}'{' selected' if str(value) == str(chosen or '') else ''}>"
        f"{escape(shown)}</option>"
        for value, shown in options
    )
    return f"<label>{escape(label)}<select name='{name}'>{items}</select></label>"


def _filter_form(raw: Mapping[str, str], language: str, rep_names: Sequence[str]) -> str:
    def t(key: str) -> str:
        return text("page", key, language)

    statuses = [("", t("all"))] + [(s, text("status", s, language)) for s in STATUSES]
    reps = [("", t("all_reps"))] + [(n, n) for n in rep_names]
    languages = [("", t("all_languages"))] + [(c, text("language", c, language)) for c in ("en", "fr", "pl")]
    channels = [("", t("all_channels"))] + [(c, text("channel", c, language)) for c in CHANNELS]
    sorts = [(s, t("sort_" + s)) for s in SORTS]

    def date(field: str) -> str:
        value = escape(raw.get(field, "")[:10])
        return f"<label>{escape(t(field))}<input type='date' name='{field}' value='{value}'></label>"

    hidden = f"<input type='hidden' name='lang' value='{escape(raw['lang'])}'>" if raw.get("lang") else ""
    return (
        "<form class='filters box' method='get' action='/reps' role='search'>"
        f"<label>{escape(t('search'))}<input type='search' name='q' value='{escape(raw.get('q', '')[:200])}' "
        f"placeholder='{escape(t('search_hint'))}'></label>"
        + select_field("status", text("field", "status", language), statuses, raw.get("status"))
        + select_field("rep", text("field", "rep", language), reps, raw.get("rep"))
        + select_field("language", text("field", "language", language), languages, raw.get("language"))
        + select_field("channel", text("field", "channel", language), channels, raw.get("channel"))
        + date("since")
        + date("until")
        + select_field("sort", t("sort"), sorts, raw.get("sort") or "newest")
        + hidden
        + f"<button type='submit'>{escape(t('apply'))}</button>"
        f"<a href='{'/reps?lang=' + quote(raw['lang']) if raw.get('lang') else '/reps'}'>{escape(t('clear'))}</a>"
        "</form>"
    )


def index(
    result: Mapping[str, Any],
    raw: Mapping[str, str],
    language: str,
    now: datetime,
    rep_names: Sequence[str] = (),
    bad: Sequence[str] = (),
    promises: Optional[Mapping[str, Optional[Promise]]] = None,
) -> str:
    """The list of leads: counts per status, filters, search, sort, one page of results."""
    promises = promises or {}
    query = {k: v for k, v in raw.items() if k != "page" and v}
    counts = result["counts"]
    tabs = [("", text("page", "all", language), sum(counts.values()))] + [
        (s, text("status", s, language), counts.get(s, 0)) for s in STATUSES
    ]
    tab_html = "".join(
        f"<a class='{'on' if (raw.get('status') or '') == s else ''}' href='{escape(_query(query, status=s))}'>"
        f"{escape(label)} <b>{n}</b></a>"
        for s, label, n in tabs
    )
    notice = ""
    if bad:
        fields = ", ".join(
            text("field", f, language) if f in ("status", "rep", "language", "channel") else f for f in bad
        )
        notice = f"<p class='box error'>{escape(text('page', 'bad_filter', language, field=fields))}</p>"
    heads = [
        text("page", "lead", language),
        text("field", "status", language),
        text("field", "need", language),
        text("field", "authority", language),
        text("field", "handoff", language),
        text("field", "updated", language),
    ]
    rows = []
    for lead in result["leads"]:
        contact = lead["contact"]
        title = lead_title(lead, language)
        sub = ", ".join(str(v) for v in (contact.get("name"), contact.get("email")) if v and v != title)
        promise = promise_html(promises.get(lead["id"]), now, language)
        cells = [
            f"<a href='/reps/leads/{escape(quote(lead['id']))}{_lang_suffix(raw)}'>{title_html(lead, language)}</a>"
            + (f"<br><span class='muted'>{escape(sub)}</span>" if sub else ""),
            f"<span class='tag {escape(lead['status'])}'>{escape(text('status', lead['status'], language))}</span> "
            f"<span class='muted'>{lead['score']}/100</span>",
            escape(describe.need(lead, language)),
            escape(describe.authority(lead, language)),
            handoff_html(lead, language) + (f"<br>{promise}" if promise else ""),
            when(lead["updated_at"], language)
            + f"<br><span class='muted'>{escape(text('channel', lead['channel'], language))} · "
            f"{escape(lead['language'].upper())}</span>",
        ]
        rows.append("<tr>" + "".join(f"<td data-label='{escape(h)}'>{c}</td>" for h, c in zip(heads, cells)) + "</tr>")
    cols = "".join(f"<col class='c-{c}'>" for c in ("lead", "status", "need", "role", "rep", "when"))
    table = (
        f"<table class='leads'><colgroup>{cols}</colgroup><thead><tr>"
        + "".join(f"<th scope='col'>{escape(h)}</th>" for h in heads)
        + "</tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table>"
        if rows
        else f"<p class='box'>{escape(text('page', 'nothing', language))}</p>"
    )
    page_no, pages = result["page"], result["pages"]
    pager = [f"<span>{escape(text('page', 'page_of', language, page=page_no, pages=pages))}</span>"]
    if page_no > 1:
        pager.insert(
            0,
            f"<a rel='prev' href='{escape(_query(query, page=page_no - 1))}'>"
            f"{escape(text('page', 'previous', language))}</a>",
        )
    if page_no < pages:
        pager.append(
            f"<a rel='next' href='{escape(_query(query, page=page_no + 1))}'>"
            f"{escape(text('page', 'next', language))}</a>"
        )
    count = escape(text("page", "count", language, count=result["total"]))
    return page(
        text("page", "leads", language),
        f"<h1>{escape(text('page', 'leads', language))}</h1>"
        f"<p><a id='funnel-link' href='/reps/funnel{_lang_suffix(raw)}'>"
        f"{escape(text('page', 'funnel_link', language))}</a></p>"
        f"<nav class='tabs'>{tab_html}</nav>"
        + _filter_form(raw, language, rep_names)
        + notice
        + f"<p class='muted' id='count'>{count}</p>{table}<nav class='pager'>{''.join(pager)}</nav>",
        language,
    )


def _lang_suffix(raw: Mapping[str, str]) -> str:
    return f"?lang={quote(raw['lang'])}" if raw.get("lang") else ""


def _facts_table(lines: List[describe.Line], extra: Sequence[tuple] = ()) -> str:
    body = "".join(f"<tr><th scope='row'>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in lines)
    body += "".join(f"<tr><th scope='row'>{escape(k)}</th><td>{v}</td></tr>" for k, v in extra)
    return f"<table class='facts'>{body}</table>"


def _lead_link(lead: Mapping[str, Any], language: str, suffix: str) -> str:
    return (
        f"<a href='/reps/leads/{escape(quote(lead['id']))}{suffix}'>{title_html(lead, language)}</a> "
        f"<span class='muted'>({escape(text('status', lead['status'], language))})</span>"
    )


def crm_html(states: Sequence[Mapping[str, Any]], language: str) -> str:
    """Each CRM's delivery of the lead: up to date, waiting for a retry (with the last error), or being sent."""
    if not states:
        return ""
    items = []
    for state in states:
        status = state.get("status")
        if status == "delivered":
            line = _with_time(text("crm", "delivered", language, time=TIME), state.get("delivered_at"), language)
        elif status == "sending":
            line = escape(text("crm", "sending", language))
        else:
            line = _with_time(text("crm", "pending", language, time=TIME), state.get("next_attempt_at"), language)
        detail = ""
        if status != "delivered" and state.get("attempts"):
            tries = text("crm", "attempts", language, count=state["attempts"])
            detail += f"<br><span class='muted'>{escape(tries)}</span>"
        if status != "delivered" and state.get("last_error"):
            label = text("crm", "last_error", language) + colon(language)
            detail += f"<br><span class='muted'>{escape(label)}<code>{escape(state['last_error'])}</code></span>"
        items.append(
            f"<li class='crm {escape(str(status))}' data-crm='{escape(state['crm'])}'>"
            f"<b>{escape(text('crm', state['crm'], language))}</b> — {line}{detail}</li>"
        )
    return f"<h2>{escape(text('crm', 'title', language))}</h2><ul id='crm'>{''.join(items)}</ul>"


def _speaker(line: Mapping[str, Any], language: str) -> str:
    """Who said a transcript line: the visitor, the assistant, or a rep by name (live hand-off)."""
    if line.get("sender") == "rep" and line.get("name"):
        return str(line["name"])[:200]
    return text("word", "visitor" if line.get("sender") == "visitor" else "assistant", language)


def lead_page(
    lead: Mapping[str, Any],
    language: str,
    now: datetime,
    promise: Optional[Promise] = None,
    rep_names: Sequence[str] = (),
    chosen_rep: Optional[str] = None,
    done: Optional[str] = None,
    raw: Optional[Mapping[str, str]] = None,
) -> str:
    """One lead: what was promised, Accept/Pass, the key facts, the buying center, notes, the transcript."""
    raw = raw or {}
    suffix = _lang_suffix(raw)

    def t(key: str, **values: Any) -> str:
        return text("page", key, language, **values)

    title = lead_title(lead, language)
    contact = lead["contact"]
    notice = ""
    if done in ("accept", "pass", "note"):
        notice = f"<p class='box done' role='status'>{escape(t('recorded_' + done))}</p>"
    elif done in ("note_empty", "note_too_long", "who_missing", "taken"):
        notice = f"<p class='box error' role='alert'>{escape(t(done))}</p>"
    promise_box = ""
    if promise is not None:
        promise_box = (
            f"<div class='box promise' id='promise'>"
            f"<b>{escape(text('field', 'promise', language) + colon(language))}</b>"
            f"{promise_html(promise, now, language, long=True)}</div>"
        )
    reps = list(dict.fromkeys([*rep_names, *([chosen_rep] if chosen_rep else [])]))
    who = select_field("rep", t("as_rep"), [("", "—")] + [(n, n) for n in reps], chosen_rep)
    decision = (
        f"<form class='filters box' method='post' action='/reps/leads/{escape(quote(lead['id']))}/decision{suffix}' "
        f"id='decide'><b style='flex-basis:100%'>{escape(t('decide'))}</b>{who}"
        f"<button type='submit' name='decision' value='accept'>{escape(t('accept'))}</button>"
        f"<button type='submit' name='decision' value='pass' class='pass'>{escape(t('pass'))}</button></form>"
    )
    contact_lines = [
        (text("field", key, language), str(contact[key]))
        for key in ("name", "job_title", "company", "email", "phone")
        if contact.get(key)
    ]
    budget = describe.budget(lead)
    more = describe.other_facts(lead, language)[:4] + [
        (text("field", "timeline", language), lead.get("timeline") or "—"),
        (text("field", "budget", language), budget),
        (text("field", "category", language), text("category", lead["need"].get("category"), language) or "—"),
        (text("field", "consent", language), text("word", "agreed" if lead.get("consent") else "not_agreed", language)),
        (
            text("field", "channel", language),
            f"{text('channel', lead['channel'], language)} · {text('language', lead['language'], language)}",
        ),
    ]
    times = [
        (text("field", "handoff", language), handoff_html(lead, language)),
        (text("field", "created", language), when(lead.get("created_at"), language)),
        (text("field", "updated", language), when(lead.get("updated_at"), language)),
    ]
    people = (
        "".join(
            f"<li class='{escape(p['stance'])}'>{escape(describe.person(p, language))} — "
            f"{escape(text('stance', p['stance'], language))}"
            + (
                f"{escape(colon(language) + (short_concern(p['concern']) or ''))}"
                if p.get("concern") and p["stance"] == "saboteur"
                else ""
            )
            + "</li>"
            for p in lead["stakeholders"]
        )
        or f"<li>{escape(text('word', 'none_named', language))}</li>"
    )
    referral = ""
    if lead.get("referrer"):
        referral += (
            f"<p id='referred-by'><b>{escape(text('field', 'referred_by', language) + colon(language))}</b>"
            f"{_lead_link(lead['referrer'], language, suffix)}</p>"
        )
    if lead.get("referred"):
        items = "".join(f"<li>{_lead_link(r, language, suffix)}</li>" for r in lead["referred"])
        referral += f"<h2>{escape(text('field', 'referred', language))}</h2><ul id='referred'>{items}</ul>"
    notes = (
        "".join(
            f"<li><b>{escape(n['author'])}</b> <span class='muted'>{when(n['at'], language)}</span><br>"
            f"{escape(n['text'])}</li>"
            for n in lead.get("notes") or []
        )
        or f"<li class='muted'>{escape(t('no_notes'))}</li>"
    )
    note_form = (
        f"<form method='post' action='/reps/leads/{escape(quote(lead['id']))}/notes{suffix}' class='box' id='note'>"
        + select_field("author", t("as_rep"), [("", "—")] + [(n, n) for n in reps], chosen_rep)
        + f"<textarea name='text' maxlength='2000' placeholder='{escape(t('note_placeholder'))}'></textarea>"
        f"<button type='submit'>{escape(t('add_note'))}</button></form>"
    )
    transcript = "".join(
        f"<tr><td class='{escape(line.get('sender') or '')}' style='width:9.5em'>"
        f"{escape(_speaker(line, language))}</td>"
        f"<td>{escape(str(line.get('text') or ''))}</td></tr>"
        for line in lead.get("transcript") or []
    )
    transcript_html = (
        f"<table id='transcript'>{transcript}</table>"
        if transcript
        else f"<p class='muted'>{escape(t('transcript_empty'))}</p>"
    )
    status = (
        f"<span class='tag {escape(lead['status'])}'>{escape(text('status', lead['status'], language))}</span> "
        f"<span class='muted'>{lead['score']}/100</span>"
    )
    return page(
        title,
        f"<p><a href='/reps{suffix}'>{escape(t('back'))}</a></p><h1>{title_html(lead, language)}</h1><p>{status}</p>"
        + notice
        + promise_box
        + decision
        + steps_html(lead.get("steps") or [], language)
        + f"<h2>{escape(t('summary'))}</h2>"
        + _facts_table(describe.key_facts(lead, language))
        + f"<h2>{escape(text('field', 'contact', language))}</h2>"
        + _facts_table(contact_lines or [(text("field", "contact", language), describe.contact(lead, language))])
        + f"<h2>{escape(text('field', 'buying_center', language))}</h2><ul id='people'>{people}</ul>"
        + referral
        + f"<h2>{escape(text('card', 'more', language))}</h2>"
        + _facts_table(more, times)
        + crm_html(lead.get("crm") or [], language)
        + f"<h2>{escape(t('notes'))}</h2><ul id='notes'>{notes}</ul>{note_form}"
        + f"<h2>{escape(t('conversation'))}</h2>{transcript_html}",
        language,
    )
