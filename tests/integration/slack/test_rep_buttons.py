"""Reps take leads from Slack: the Accept/Pass buttons of a hand-off notification.

The notification is the real one (queued and delivered by ``leads.delivery``
to the rep's incoming webhook on the local Slack server); the click is signed
like Slack signs it and goes to the leads server's ``/slack/interactivity``.
"""

from __future__ import annotations

import json
import time
import urllib.request
import uuid
from typing import Any, Dict, Optional

from sqlalchemy import select

from leads.delivery import deliver_pending, enqueue_handoff, last_assignments
from leads.routing import load_config, pick_rep
from leads.storage.db import session_scope
from leads.storage.models import Handoff
from leads.storage.repository import lead_to_contract, save_lead
from testkit.servers import http
from tests.integration.slack.conftest import API_TOKEN, Workspace
from tests.samples import lead


def notified_lead(workspace: Workspace) -> Dict[str, Any]:
    """A qualified English lead handed off to Emma; the Slack notification she received."""
    config = load_config(workspace.reps_file)
    with session_scope(workspace.db_url) as session:
        saved = save_lead(session, lead(f"slack-rep-{uuid.uuid4().hex[:8]}", language="en"))
        route = pick_rep(lead_to_contract(saved), None, last_assignments(session), config)
        enqueue_handoff(session, saved, route, config)
        lead_id = saved.id
    deliver_pending(workspace.db_url, lead_id=lead_id)
    notifications = workspace.slack.wait_for(
        lambda: [n for n in workspace.slack.calls_to("/slack") if lead_id in str(n.get("blocks"))]
    )
    buttons = {b["action_id"]: b for b in notifications[0]["blocks"][-1]["elements"]}
    return {"id": lead_id, "accept": buttons["lead_accept"], "pass": buttons["lead_pass"]}


def handoff(workspace: Workspace, lead_id: str) -> Optional[Handoff]:
    with session_scope(workspace.db_url) as session:
        found = session.execute(select(Handoff).where(Handoff.lead_id == lead_id)).scalar_one_or_none()
        if found:
            session.expunge(found)
        return found


def click(workspace: Workspace, button: Dict[str, Any], user: str, hook: str, **signing: Any) -> tuple:
    body = workspace.click_body(
        button["value"],
        user,
        "CREPS001",
        thread_ts=workspace.next_ts(),
        action_id=button["action_id"],
        response_url=workspace.slack.url(hook),
    )
    return workspace.click(body, f"{workspace.leads_url}/slack/interactivity", **signing)


def test_accept_is_recorded_without_the_api_token(workspace):
    notified = notified_lead(workspace)
    assert notified["accept"]["value"] == notified["id"]
    assert (handoff(workspace, notified["id"]).status, handoff(workspace, notified["id"]).accepted_by) == (
        "notified",
        None,
    )
    assert click(workspace, notified["accept"], "UEMMA", "/actions/T0001/1/accept")[0] == 200
    recorded = handoff(workspace, notified["id"])
    assert (recorded.status, recorded.accepted_by) == ("accepted", "Emma Clarke")
    assert recorded.accepted_at is not None
    update = workspace.slack.wait_for(lambda: workspace.slack.calls_to("/actions/T0001/1/accept"))[0]
    assert update["replace_original"] is False and update["text"].startswith("<@UEMMA> accepted this lead")
    request = urllib.request.Request(
        f"{workspace.leads_url}/api/leads/{notified['id']}", headers={"Authorization": f"Bearer {API_TOKEN}"}
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert json.loads(answer.read())["handoff"]["status"] == "accepted"


def test_pass_by_someone_not_in_the_reps_file_names_the_slack_user(workspace):
    notified = notified_lead(workspace)
    assert click(workspace, notified["pass"], "UGUEST01", "/actions/T0001/2/pass")[0] == 200
    recorded = handoff(workspace, notified["id"])
    assert (recorded.status, recorded.accepted_by) == ("passed", "uguest01 (Slack UGUEST01)")


def test_bad_or_stale_signatures_are_refused_and_nothing_is_recorded(workspace):
    notified = notified_lead(workspace)
    status, error = click(workspace, notified["accept"], "UEMMA", "/actions/T0001/3/x", secret="guessed")
    assert status == 401 and "signature" in error["error"]
    stale = int(time.time()) - 10 * 60
    assert click(workspace, notified["accept"], "UEMMA", "/actions/T0001/3/x", timestamp=stale)[0] == 401
    assert http("POST", f"{workspace.leads_url}/slack/interactivity", raw=b"payload=%7B%7D")[0] == 401
    untouched = handoff(workspace, notified["id"])
    assert (untouched.status, untouched.accepted_by, untouched.accepted_at) == ("notified", None, None)
    assert workspace.slack.calls_to("/actions/T0001/3/x") == []
    # the rest of the leads API still wants its token
    assert http("GET", f"{workspace.leads_url}/api/leads/{notified['id']}")[0] == 401


def test_a_click_on_a_lead_that_is_gone_gets_a_clear_answer(workspace):
    button = {"action_id": "lead_accept", "value": "0" * 32}
    assert click(workspace, button, "UEMMA", "/actions/T0001/4/gone")[0] == 200
    update = workspace.slack.wait_for(lambda: workspace.slack.calls_to("/actions/T0001/4/gone"))[0]
    assert update["response_type"] == "ephemeral" and "no longer" in update["text"]


def test_a_late_accept_is_told_in_the_reps_language_that_the_lead_was_taken(workspace):
    notified = notified_lead(workspace)
    assert click(workspace, notified["accept"], "UEMMA", "/actions/T0001/5/first")[0] == 200
    assert click(workspace, notified["accept"], "UMAREK", "/actions/T0001/5/late")[0] == 200
    update = workspace.slack.wait_for(lambda: workspace.slack.calls_to("/actions/T0001/5/late"))[0]
    assert update["response_type"] == "ephemeral" and update["replace_original"] is False
    assert update["text"] == "Dziękujemy, ale ten kontakt został już przyjęty przez: Emma Clarke."  # Marek's Polish
    recorded = handoff(workspace, notified["id"])
    assert (recorded.status, recorded.accepted_by) == ("accepted", "Emma Clarke")
