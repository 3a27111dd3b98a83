"""The leads server: a token-protected JSON API for CRMs and a rep page, no build step.

    GET  /api/leads                 ?status=&since=&rep=&conversation_id=&limit=
    GET  /api/leads/{id}
    POST /api/leads/{id}/accept     {"rep": "Anna"}  (also /pass)
    POST /api/leads/{id}/resume     hands the conversation back to the bot
    DELETE /api/people              {"email": ...} or {"phone": ...}: erases everything about one person
    GET  /reps, /reps/leads/{id}    the rep page (sign in once at /reps/login): filters, search, sort, paging
    GET  /reps/funnel               the manager's funnel (?week=&channel=&language=&rep=&by=)
    GET  /reps/funnel.csv?chart=    one funnel chart's numbers as CSV (same filters)
    POST /reps/leads/{id}/decision  a rep's Accept or Pass (form: rep, decision=accept|pass)
    POST /reps/leads/{id}/notes     a rep's note (form: author, text)
    POST /slack/interactivity       Slack's button clicks (signed by Slack, no token)
    POST /slack/events              Slack thread replies relayed by the Rasa server (signed by Slack): live hand-offs

An Accept that comes after someone else's is refused (409; the rep page and
Slack say so politely). The server also runs the escalation clock
(``leads.escalation``) every ``LEADS_ESCALATION_SECONDS``.

Every route but ``/health``, the sign-in form and Slack's takes
``Authorization: Bearer <token>`` or the rep session cookie. Run with
``python -m leads serve --port 5077`` (``LEADS_HOST``: loopback unless told
otherwise); the token is ``LEADS_API_TOKEN`` (when unset, one is generated and
written to ``var/``, 0600).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any, AsyncIterator, Awaitable, Callable, Dict, List, Optional, Tuple
from urllib.parse import quote, urlencode

import aiohttp
from aiohttp import web

from common import settings
from common.languages import LANGUAGES
from common.secret_files import read_or_create
from common.slack_payloads import interaction_payload
from common.slack_signature import SIGNATURE_HEADER, TIMESTAMP_HEADER, check
from common.tokens import rasa_api_token
from leads import auth, funnel, funnel_page, live, rep_page, slack_rep
from leads.crm.sync import states as crm_states
from leads.delivery import accept, taken_by_other
from leads.escalation import run_clock
from leads.filters import PER_PAGE, parse_filters, parse_page_filters
from leads.labels import browser_language, text
from leads.promise import open_promise
from leads.routing import load_config
from leads.storage.db import migrate, session_scope
from leads.storage.erasure import erase_everywhere, kind_of
from leads.storage.models import utcnow
from leads.storage.repository import (
    add_note,
    get_lead,
    lead_for_reps,
    lead_to_contract,
    list_leads,
    notes_of,
    referred_leads,
    search_leads,
    steps_of,
)

logger = logging.getLogger(__name__)

REP_COOKIE = "leads_rep"
MAX_NOTE_CHARS = 2000
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def api_token() -> str:
    """``LEADS_API_TOKEN``, or a generated one kept in ``var/leads_api_token``."""
    return read_or_create(settings.leads_token_file(), settings.leads_api_token())


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


#: Routes that need no token: the health check, the sign-in form, and Slack's (Slack signs instead).
OPEN_PATHS = ("/health", auth.LOGIN_PATH, slack_rep.PATH, live.PATH)


@web.middleware
async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Token or session check, and clean JSON errors instead of tracebacks."""
    if request.path not in OPEN_PATHS and not auth.signed_in(request, request.app["token"]):
        if request.path.startswith("/reps"):  # a browser: to the sign-in form (a token in the URL is ignored)
            return auth.login_page(auth.language(request), status=401)
        return _error(401, "A valid bearer token is required.")
    try:
        return await handler(request)
    except web.HTTPException:
        raise
    except Exception:
        logger.exception("Leads API error on %s", request.path)
        return _error(500, "Internal error; it has been logged.")


def _run(request: web.Request, work: Callable[..., Any], *args: Any) -> Awaitable[Any]:
    return asyncio.get_running_loop().run_in_executor(None, work, request.app["db_url"], *args)


def _list(url: Optional[str], filters: Dict[str, Any]) -> list:
    with session_scope(url) as session:
        return [lead_to_contract(lead) for lead in list_leads(session, **filters)]


def _one(url: Optional[str], lead_id: str) -> Optional[Dict[str, Any]]:
    with session_scope(url) as session:
        lead = get_lead(session, lead_id)
        return None if lead is None else {**lead_to_contract(lead), "transcript": list(lead.transcript or [])}


def _accept(url: Optional[str], lead_id: str, rep: str, passed: bool) -> Tuple[Optional[Dict[str, Any]], Optional[str]]:
    """The lead after the decision (``None``: no such lead), and who had accepted it first when not ``rep``."""
    with session_scope(url) as session:
        handoff = accept(session, lead_id, rep, passed)
        if handoff is None:
            return None, None
        return lead_to_contract(get_lead(session, lead_id)), taken_by_other(handoff, rep)


async def leads_index(request: web.Request) -> web.Response:
    try:
        filters = parse_filters(request.query)
    except ValueError as error:
        return _error(400, str(error))
    return web.json_response({"leads": await _run(request, _list, filters)})


async def lead_detail(request: web.Request) -> web.Response:
    lead = await _run(request, _one, request.match_info["lead_id"][:64])
    if lead is None:
        return _error(404, "No lead with this id.")
    lead.pop("transcript", None)
    return web.json_response(lead)


async def _read_json(request: web.Request) -> Dict[str, Any]:
    if request.content_length and request.content_length > 10_000:
        raise ValueError("The body is too large.")
    raw = await request.read()
    if not raw:
        return {}
    try:
        body = json.loads(raw)
    except ValueError:
        raise ValueError("The body must be JSON.") from None
    if not isinstance(body, dict):
        raise ValueError("The body must be a JSON object.")
    return body


async def lead_accept(request: web.Request) -> web.Response:
    try:
        body = await _read_json(request)
    except ValueError as error:
        return _error(400, str(error))
    rep = body.get("rep")
    if not isinstance(rep, str) or not rep.strip():
        return _error(400, "'rep' (the name of who takes the lead) is required.")
    passed = request.path.endswith("/pass")
    lead, taken_by = await _run(request, _accept, request.match_info["lead_id"][:64], rep.strip(), passed)
    if lead is None:
        return _error(404, "No lead with this id.")
    if taken_by:
        return _error(409, "Someone else accepted this lead first; nothing was changed.")
    return web.json_response(lead)


async def lead_resume(request: web.Request) -> web.Response:
    lead = await _run(request, _one, request.match_info["lead_id"][:64])
    if lead is None:
        return _error(404, "No lead with this id.")
    url = f"{request.app['rasa_url']}/conversations/{lead['conversation_id']}/tracker/events"
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as client:
            params = {"token": request.app["rasa_token"] or rasa_api_token()}
            async with client.post(url, json={"event": "resume"}, params=params) as response:
                if response.status >= 300:
                    return _error(502, f"The assistant answered {response.status}.")
    except aiohttp.ClientError as error:
        return _error(502, f"The assistant is unreachable ({type(error).__name__}).")
    return web.json_response({"resumed": lead["conversation_id"]})


def _erase(url: Optional[str], who: str) -> Dict[str, int]:
    return erase_everywhere(who, url)


async def erase_person(request: web.Request) -> web.Response:
    """Erase everything about one person (the address goes in the body, never in the logged URL)."""
    try:
        body = await _read_json(request)
    except ValueError as error:
        return _error(400, str(error))
    who = body.get("email") or body.get("phone")
    if not isinstance(who, str):
        return _error(400, "Give the person's 'email' or 'phone'.")
    try:
        kind_of(who)
    except ValueError as error:
        return _error(400, str(error))
    return web.json_response({"erased": await _run(request, _erase, who)})


def _slack_body_refusal(request: web.Request, body: bytes) -> Optional[web.Response]:
    """The error for a request Slack did not sign (or when Slack is not configured here), if any."""
    secret = settings.slack_signing_secret()
    if not secret:
        return _error(503, "Slack is not configured here: set SLACK_SIGNING_SECRET.")
    refusal = check(secret, request.headers.get(TIMESTAMP_HEADER), request.headers.get(SIGNATURE_HEADER), body)
    if refusal:
        logger.warning("Refused a Slack request: %s", refusal[1])
        return _error(*refusal)
    return None


def _servers(request: web.Request) -> live.Servers:
    return live.Servers(request.app["db_url"], request.app["rasa_url"], request.app["rasa_token"] or rasa_api_token())


def _in_background(request: web.Request, work: Awaitable[Any]) -> None:
    """Slack wants a fast 200: the rest happens after the answer."""
    task = asyncio.create_task(work)
    request.app["slack_tasks"].add(task)
    task.add_done_callback(request.app["slack_tasks"].discard)


async def _live_start(servers: live.Servers, choice: slack_rep.RepDecision, payload: Dict[str, Any]) -> None:
    try:
        await live.start(servers, choice, payload)
    except Exception:
        logger.exception("Could not start a live hand-off for lead %s", choice.lead_id)


async def _answer_click(request: web.Request, response_url: Optional[str], message: Dict[str, Any]) -> web.Response:
    if not response_url:
        return web.json_response(message)
    _in_background(request, slack_rep.respond(response_url, message))
    return web.Response(status=200)


async def slack_interactivity(request: web.Request) -> web.Response:
    """A rep's Accept/Pass or hand-back click is handled here; a visitor's click goes on to the assistant."""
    body = await request.read()
    refusal = _slack_body_refusal(request, body)
    if refusal is not None:  # (a response is a mapping: empty, so false)
        return refusal
    try:
        payload = interaction_payload(body)
        back = live.hand_back_click(payload)
        choice = slack_rep.decision(payload)
    except ValueError as error:
        return _error(400, str(error))
    if back is not None:
        message = await live.hand_back(_servers(request), back.lead_id, back.slack_user)
        return await _answer_click(request, back.response_url, message)
    if choice is None:
        status, answer = await slack_rep.forward_to_assistant(request.app["rasa_url"], body, request.headers)
        return web.json_response(answer, status=status)
    lead, taken_by = await _run(request, _accept, choice.lead_id, choice.by, choice.passed)
    if lead is not None and not choice.passed and not taken_by:
        _in_background(request, _live_start(_servers(request), choice, payload))
    message = slack_rep.outcome_message(choice, lead is not None, taken_by)
    return await _answer_click(request, choice.response_url, message)


async def slack_events(request: web.Request) -> web.Response:
    """A message in a Slack thread (relayed, still signed, by the Rasa server): a rep's live reply, or nothing."""
    body = await request.read()
    refusal = _slack_body_refusal(request, body)
    if refusal is not None:  # (a response is a mapping: empty, so false)
        return refusal
    try:
        envelope = json.loads(body)
    except ValueError:
        return _error(400, "The body must be JSON.")
    if not isinstance(envelope, dict):
        return _error(400, "The body must be a JSON object.")
    reply = live.thread_reply(envelope)
    if reply is None:
        return web.json_response({"ignored": "not a person's reply in a thread"})
    try:
        outcome = await live.rep_message(_servers(request), reply)
    except Exception as error:
        logger.warning("Could not relay a rep's reply to the visitor (%s).", error)
        return _error(502, "The visitor's conversation could not be reached.")
    return web.json_response({"relayed": True} if outcome == "relayed" else {"ignored": outcome})


def _reps_config() -> Dict[str, Any]:
    """The reps file, or nothing when it cannot be read (the page still works)."""
    try:
        return load_config()
    except Exception as error:
        logger.warning("Could not read the reps file (%s).", type(error).__name__)
        return {}


def _rep_names(config: Dict[str, Any]) -> List[str]:
    people = [*(config.get("reps") or []), config.get("team_queue") or {}]
    return [str(p["name"]) for p in people if isinstance(p, dict) and p.get("name")]


def _page_data(url: Optional[str], filters: Dict[str, Any]) -> Dict[str, Any]:
    with session_scope(url) as session:
        result = search_leads(session, **{"per_page": PER_PAGE, **filters})
        return {
            "leads": [lead_for_reps(lead) for lead in result.leads],
            "total": result.total,
            "counts": result.counts,
            "page": result.page,
            "pages": result.pages,
        }


def _lead_data(url: Optional[str], lead_id: str) -> Optional[Dict[str, Any]]:
    with session_scope(url) as session:
        lead = get_lead(session, lead_id)
        if lead is None:
            return None
        data = {**lead_for_reps(lead), "transcript": list(lead.transcript or [])}
        data["notes"] = notes_of(session, lead_id)
        data["crm"] = crm_states(session, lead_id)
        data["steps"] = steps_of(session, lead_id)
        data["referred"] = referred_leads(session, lead_id)
        referrer = get_lead(session, lead.referred_by) if lead.referred_by else None
        data["referrer"] = lead_to_contract(referrer) if referrer else None
        return data


def _language(request: web.Request) -> str:
    return browser_language(request.headers.get("Accept-Language"), request.query.get("lang"))


def _raw_query(request: web.Request) -> Dict[str, str]:
    return {k: v[:200] for k, v in request.query.items() if isinstance(v, str)}


async def reps_index(request: web.Request) -> web.Response:
    language = _language(request)
    filters, bad = parse_page_filters(request.query)
    filters.pop("limit", None)
    config = _reps_config()
    result = await _run(request, _page_data, filters)
    promises = {lead["id"]: open_promise(lead, config) for lead in result["leads"]}
    raw = {k: v for k, v in _raw_query(request).items() if k not in bad}
    html = rep_page.index(result, raw, language, utcnow(), _rep_names(config), bad, promises)
    return _html(html)


async def reps_lead(request: web.Request) -> web.Response:
    language = _language(request)
    lead = await _run(request, _lead_data, request.match_info["lead_id"][:64])
    if lead is None:
        return _html(rep_page.message("404", text("page", "not_found", language), language), status=404)
    config = _reps_config()
    html = rep_page.lead_page(
        lead,
        language,
        utcnow(),
        open_promise(lead, config),
        _rep_names(config),
        request.cookies.get(REP_COOKIE, "")[:200] or None,
        request.query.get("done"),
        _raw_query(request),
    )
    return _html(html)


def _back(request: web.Request, lead_id: str, done: str, rep: Optional[str] = None) -> web.Response:
    query = {"done": done, **({"lang": request.query["lang"]} if request.query.get("lang") in LANGUAGES else {})}
    response = web.HTTPSeeOther(f"/reps/leads/{quote(lead_id)}?{urlencode(query)}")
    if rep:
        response.set_cookie(REP_COOKIE, rep, httponly=True, samesite="Strict", max_age=365 * 24 * 3600)
    return response


def _decide(url: Optional[str], lead_id: str, rep: str, passed: bool) -> Optional[str]:
    """What was recorded: ``accept``, ``pass``, ``taken`` (someone else accepted first), or ``None`` (no lead)."""
    with session_scope(url) as session:
        handoff = accept(session, lead_id, rep, passed)
        if handoff is None:
            return None
        return "taken" if taken_by_other(handoff, rep) else ("pass" if passed else "accept")


def _note(url: Optional[str], lead_id: str, author: str, note: str) -> bool:
    with session_scope(url) as session:
        return add_note(session, lead_id, author, note) is not None


async def _form(request: web.Request) -> Dict[str, str]:
    form = await request.post()
    return {k: v for k, v in form.items() if isinstance(v, str)}


async def reps_decision(request: web.Request) -> web.StreamResponse:
    """Accept or Pass from the lead page; back to the lead with what was recorded."""
    lead_id = request.match_info["lead_id"][:64]
    form = await _form(request)
    rep = " ".join(form.get("rep", "").split())[:200]
    decision = form.get("decision")
    if decision not in ("accept", "pass"):
        return _html(rep_page.message("400", text("page", "bad_form", _language(request)), _language(request)), 400)
    if not rep:
        raise _back(request, lead_id, "who_missing")
    recorded = await _run(request, _decide, lead_id, rep, decision == "pass")
    if recorded is None:
        return _html(rep_page.message("404", text("page", "not_found", _language(request)), _language(request)), 404)
    raise _back(request, lead_id, recorded, rep)


async def reps_note(request: web.Request) -> web.StreamResponse:
    """A rep's note from the lead page."""
    lead_id = request.match_info["lead_id"][:64]
    form = await _form(request)
    author = " ".join(form.get("author", "").split())[:200]
    note = form.get("text", "").replace("\r\n", "\n").strip()
    if not author:
        raise _back(request, lead_id, "who_missing")
    if not note:
        raise _back(request, lead_id, "note_empty")
    if len(note) > MAX_NOTE_CHARS:
        raise _back(request, lead_id, "note_too_long")
    if not await _run(request, _note, lead_id, author, note):
        return _html(rep_page.message("404", text("page", "not_found", _language(request)), _language(request)), 404)
    raise _back(request, lead_id, "note", author)


def _conversations(url: Optional[str]) -> List[funnel.Conversation]:
    with session_scope(url) as session:
        return funnel.conversations(session)


async def _funnel_figures(request: web.Request) -> tuple:
    """The funnel's figures for the request's filters, the filters as given, and the page's language."""
    raw = {
        k: v[: funnel_page.MAX_FILTER]
        for k, v in _raw_query(request).items()
        if k in (*funnel.DIMENSIONS, "by", "lang")
    }
    filters = {k: raw[k] for k in funnel.DIMENSIONS if raw.get(k)}
    figures = funnel.figures(await _run(request, _conversations), filters, raw.get("by") or "week")
    return figures, raw, _language(request)


async def reps_funnel(request: web.Request) -> web.Response:
    """The manager's funnel page."""
    figures, raw, language = await _funnel_figures(request)
    return _html(funnel_page.render(figures, raw, language))


async def reps_funnel_csv(request: web.Request) -> web.Response:
    """One chart's numbers as CSV (``?chart=stages|groups|questions|handoff|needs|benefits|concerns``)."""
    chart = request.query.get("chart", "")
    language = _language(request)
    if chart not in funnel_page.CHARTS:
        return web.Response(status=400, text=text("funnel", "bad_chart", language), content_type="text/plain")
    figures, _, language = await _funnel_figures(request)
    return web.Response(
        text=funnel_page.csv_text(figures, chart, language),
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="funnel-{chart}.csv"'},
    )


def _html(body: str, status: int = 200) -> web.Response:
    return web.Response(content_type="text/html", text=body, status=status)


async def health(_: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def _clock(app: web.Application) -> AsyncIterator[None]:
    """Every ``escalate_every`` seconds, hand-offs nobody accepted in time go to their next owner."""

    async def tick_forever() -> None:
        while True:
            await asyncio.sleep(app["escalate_every"])
            try:
                await asyncio.get_running_loop().run_in_executor(None, run_clock, app["db_url"])
            except Exception:  # the clock must survive a database that does not answer
                logger.exception("Escalation postponed")

    task = asyncio.create_task(tick_forever())
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def create_app(
    db_url: Optional[str] = None,
    token: Optional[str] = None,
    rasa_url: Optional[str] = None,
    rasa_token: Optional[str] = None,
    escalate_every: float = 0,
) -> web.Application:
    """The leads server's application; ``escalate_every`` (seconds, 0: never) runs the escalation clock."""
    app = web.Application(middlewares=[guard], client_max_size=64 * 1024)
    app["db_url"], app["token"] = db_url, token or api_token()
    app["rasa_url"] = (rasa_url or settings.rasa_url()).rstrip("/")
    app["rasa_token"] = rasa_token  # the Rasa HTTP API's token; read when first needed when not given
    app.router.add_get("/health", health)
    app.router.add_get("/api/leads", leads_index)
    app.router.add_get("/api/leads/{lead_id}", lead_detail)
    app.router.add_post("/api/leads/{lead_id}/accept", lead_accept)
    app.router.add_post("/api/leads/{lead_id}/pass", lead_accept)
    app.router.add_post("/api/leads/{lead_id}/resume", lead_resume)
    app.router.add_delete("/api/people", erase_person)
    app.router.add_get(auth.LOGIN_PATH, auth.login_form)
    app.router.add_post(auth.LOGIN_PATH, auth.login)
    app.router.add_get("/reps", reps_index)
    app.router.add_get("/reps/leads/{lead_id}", reps_lead)
    app.router.add_get("/reps/funnel", reps_funnel)
    app.router.add_get("/reps/funnel.csv", reps_funnel_csv)
    app.router.add_post("/reps/leads/{lead_id}/decision", reps_decision)
    app.router.add_post("/reps/leads/{lead_id}/notes", reps_note)
    app.router.add_post(slack_rep.PATH, slack_interactivity)
    app.router.add_post(live.PATH, slack_events)
    app["slack_tasks"] = set()
    app["escalate_every"] = escalate_every
    if escalate_every > 0:
        app.cleanup_ctx.append(_clock)
    return app


def serve(host: Optional[str] = None, port: int = 5077) -> None:
    """Run the leads server until interrupted (the schema is migrated first)."""
    logging.basicConfig(level=logging.INFO)
    migrate()
    web.run_app(
        create_app(escalate_every=settings.escalation_seconds()),
        host=host or settings.leads_host(),
        port=port,
        print=None,
        access_log_class=auth.PathOnlyAccessLogger,
    )
