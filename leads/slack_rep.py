"""The rep side in Slack: Accept/Pass clicks on a hand-off notification.

The Slack app's interactivity URL is the leads server's ``/slack/interactivity``.
A rep's click on Accept or Pass (``action_id`` ``lead_accept``/``lead_pass``,
value = the lead id) is recorded there; any other click is a visitor's answer
to the assistant and is passed on, unchanged and still signed, to the Rasa
server's Slack channel.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any, Dict, Mapping, Optional, Tuple

import aiohttp

from common.slack_payloads import REP_ACTIONS, first_action
from common.slack_signature import SIGNATURE_HEADER, TIMESTAMP_HEADER
from leads import labels
from leads.notify import slack_escape
from leads.routing import load_config

logger = logging.getLogger(__name__)

PATH = "/slack/interactivity"
ASSISTANT_PATH = "/webhooks/slack/interactivity"
#: Slack expects an answer within 3 seconds.
FORWARD_TIMEOUT_SECONDS = 2.5
MAX_LEAD_ID_CHARS = 64


@dataclass
class RepDecision:
    """A rep took (or passed on) a lead from Slack."""

    lead_id: str
    passed: bool
    by: str
    slack_user: str
    response_url: Optional[str]
    #: The language of the rep's answer in Slack (the rep's own, from the reps file).
    language: str = "en"


def rep_name(slack_user_id: str, reps: Optional[Mapping[str, Any]] = None) -> Optional[str]:
    """The name in the reps file of the rep with this Slack user id, if any."""
    person = rep_entry(slack_user_id, reps)
    return person.get("name") if person else None


def rep_entry(slack_user_id: str, reps: Optional[Mapping[str, Any]] = None) -> Optional[Mapping[str, Any]]:
    """The entry of the reps file (a rep or the team queue) with this Slack user id, if any."""
    try:
        config = reps if reps is not None else load_config()
    except Exception as error:  # a broken reps file must not lose the decision
        logger.warning("Could not read the reps file to name a Slack user (%s).", type(error).__name__)
        return None
    people = list(config.get("reps") or []) + [config.get("team_queue") or {}]
    for person in people:
        if isinstance(person, dict) and (person.get("slack") or {}).get("user_id") == slack_user_id:
            return person
    return None


def decision(payload: Dict[str, Any], reps: Optional[Mapping[str, Any]] = None) -> Optional[RepDecision]:
    """The rep's decision in a ``block_actions`` payload; ``None`` when it is not an Accept/Pass click."""
    action = first_action(payload)
    if not action or action.get("action_id") not in REP_ACTIONS:
        return None
    user = payload.get("user") if isinstance(payload.get("user"), dict) else {}
    user_id = str(user.get("id") or "")[:64]
    lead_id = action.get("value")
    if not user_id or not isinstance(lead_id, str) or not 0 < len(lead_id) <= MAX_LEAD_ID_CHARS:
        raise ValueError("The click must name the Slack user and carry the lead id as its value.")
    slack_name = str(user.get("name") or user.get("username") or "")[:100]
    person = rep_entry(user_id, reps)
    named = person.get("name") if person else None
    by = named or (f"{slack_name} (Slack {user_id})" if slack_name else f"Slack user {user_id}")
    response_url = payload.get("response_url")
    return RepDecision(
        lead_id,
        REP_ACTIONS[action["action_id"]],
        by,
        user_id,
        response_url if isinstance(response_url, str) and response_url.startswith("http") else None,
        labels.rep_language(person),
    )


def outcome_message(choice: RepDecision, found: bool, taken_by: Optional[str] = None) -> Dict[str, Any]:
    """What the channel sees after the click (posted to the click's ``response_url``).

    ``taken_by``: someone else accepted the lead first; only the rep who clicked is told.
    """
    if found and taken_by:
        return {
            "response_type": "ephemeral",
            "replace_original": False,
            "text": slack_escape(labels.text("slack_outcome", "taken", choice.language, by=taken_by)),
        }
    if not found:
        return {
            "response_type": "ephemeral",
            "replace_original": False,
            "text": labels.text("slack_outcome", "gone", choice.language),
        }
    said = labels.text("slack_outcome", "passed" if choice.passed else "accepted", choice.language, by=choice.by)
    return {
        "response_type": "in_channel",
        "replace_original": False,
        "text": f"<@{choice.slack_user}> {slack_escape(said)}",
    }


async def respond(response_url: str, message: Dict[str, Any]) -> None:
    """Post the outcome to Slack; a failure is logged, the decision is already recorded."""
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as client:
            async with client.post(response_url, json=message) as answer:
                if answer.status >= 300:
                    logger.warning("Slack answered %s to a lead decision update.", answer.status)
    except (aiohttp.ClientError, OSError, asyncio.TimeoutError) as error:
        logger.warning("Could not post a lead decision to Slack (%s).", type(error).__name__)


async def forward_to_assistant(rasa_url: str, body: bytes, headers: Mapping[str, str]) -> Tuple[int, Dict[str, Any]]:
    """Pass a visitor's click, still signed by Slack, to the Rasa server's Slack channel."""
    forwarded = {
        "Content-Type": "application/x-www-form-urlencoded",
        TIMESTAMP_HEADER: headers.get(TIMESTAMP_HEADER, ""),
        SIGNATURE_HEADER: headers.get(SIGNATURE_HEADER, ""),
    }
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=FORWARD_TIMEOUT_SECONDS)) as client:
            async with client.post(f"{rasa_url}{ASSISTANT_PATH}", data=body, headers=forwarded) as answer:
                try:
                    result = await answer.json(content_type=None)
                except ValueError:
                    result = None
                return answer.status, result if isinstance(result, dict) else {"status": answer.status}
    except (aiohttp.ClientError, OSError, asyncio.TimeoutError) as error:
        logger.warning("Could not pass a Slack click to the assistant (%s).", type(error).__name__)
        return 502, {"error": f"The assistant is unreachable ({type(error).__name__})."}
