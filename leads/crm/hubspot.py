"""HubSpot (CRM v3 objects): the contact upserted by e-mail, a deal, a note with the summary, associated.

Authenticated with a private app's access token (``HUBSPOT_TOKEN``) as a bearer token.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Dict, MutableMapping

from common import settings
from leads.crm.http import CrmError, call, updated
from leads.crm.text import as_html

NAME = "hubspot"
#: HubSpot's own association types (``HUBSPOT_DEFINED``): deal to contact, note to contact, note to deal.
DEAL_TO_CONTACT, NOTE_TO_CONTACT, NOTE_TO_DEAL = 3, 202, 214


def enabled() -> bool:
    """On when a private app token is set."""
    return bool(settings.hubspot_token())


def base_url() -> str:
    return settings.hubspot_api_url()


def _association(to_id: str, type_id: int) -> Dict[str, Any]:
    return {"to": {"id": to_id}, "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": type_id}]}


def _id(answer: Any) -> str:
    if not isinstance(answer, dict) or not answer.get("id"):
        raise CrmError("HubSpot answered without an object id")
    return str(answer["id"])


def push(data: Dict[str, Any], ids: MutableMapping[str, str]) -> None:
    """Create or update the lead's contact, deal and note; ``ids`` holds their ids as each one is made."""
    base = f"{base_url()}/crm/v3/objects"
    headers = {"Authorization": f"Bearer {settings.hubspot_token()}", "Content-Type": "application/json"}
    objects = data["objects"]
    contact = objects.get("contact") or {}
    if ids.get("contact") and updated("PATCH", f"{base}/contacts/{ids['contact']}", headers, {"properties": contact}):
        pass
    elif contact.get("email"):
        inputs = [{"idProperty": "email", "id": contact["email"], "properties": contact}]
        answer = call("POST", f"{base}/contacts/batch/upsert", headers, {"inputs": inputs})
        results = (answer or {}).get("results") or [{}]
        ids["contact"] = _id(results[0])
    else:
        ids["contact"] = _id(call("POST", f"{base}/contacts", headers, {"properties": contact}))
    deal = objects.get("deal") or {}
    if ids.get("deal") and updated("PATCH", f"{base}/deals/{ids['deal']}", headers, {"properties": deal}):
        pass
    else:
        body = {"properties": deal, "associations": [_association(ids["contact"], DEAL_TO_CONTACT)]}
        ids["deal"] = _id(call("POST", f"{base}/deals", headers, body))
    note = {"hs_note_body": as_html(data["summary"])}
    if ids.get("note") and updated("PATCH", f"{base}/notes/{ids['note']}", headers, {"properties": note}):
        pass
    else:
        note["hs_timestamp"] = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        associations = [_association(ids["contact"], NOTE_TO_CONTACT), _association(ids["deal"], NOTE_TO_DEAL)]
        ids["note"] = _id(call("POST", f"{base}/notes", headers, {"properties": note, "associations": associations}))
