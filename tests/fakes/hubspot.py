"""HubSpot's CRM v3 objects API on loopback, as its public documentation describes it.

- ``POST /crm/v3/objects/contacts/batch/upsert`` (``idProperty: email``): creates or updates by e-mail;
- ``POST /crm/v3/objects/{contacts,deals,notes}``: creates, with ``associations``; a contact
  whose e-mail exists already answers 409 ``CONFLICT`` ("Contact already exists. Existing ID: …");
- ``PATCH /crm/v3/objects/{type}/{id}``: updates the properties; 404 for an unknown id;
- every request needs ``Authorization: Bearer <private app token>`` (401 otherwise).

Required properties are checked: a deal's ``dealname``, ``pipeline`` and ``dealstage``,
a note's ``hs_timestamp``; association types must be ``HUBSPOT_DEFINED`` ones.
"""

from __future__ import annotations

import itertools
import re
from datetime import datetime, timezone
from typing import Any, Dict, List

from tests.fakes.crm_base import Answer, CrmServer

OBJECTS = ("contacts", "deals", "notes")
#: HubSpot-defined association type ids between the object types used here.
ASSOCIATION_TYPES = {("deals", 3), ("notes", 202), ("notes", 214), ("contacts", 4)}
REQUIRED = {"deals": ("dealname", "pipeline", "dealstage"), "notes": ("hs_timestamp",)}


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class HubSpot(CrmServer):
    """Contacts, deals and notes, with their associations, kept in memory."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.objects: Dict[str, Dict[str, Dict[str, Any]]] = {name: {} for name in OBJECTS}
        self.associations: List[tuple] = []
        self._ids = itertools.count(1001)
        super().__init__()

    def error_body(self, status: int) -> Any:
        if status == 429:
            return {
                "status": "error",
                "message": "You have reached your secondly limit.",
                "errorType": "RATE_LIMIT",
                "correlationId": "c0ffee00-0000-4000-8000-000000000001",
                "policyName": "SECONDLY",
            }
        return {"status": "error", "message": "internal error", "correlationId": "c0ffee00-0000-4000-8000-0000000000"}

    @staticmethod
    def _error(status: int, category: str, message: str) -> Answer:
        return status, {"status": "error", "message": message, "correlationId": "0b9f", "category": category}, {}

    def _record(self, kind: str, object_id: str) -> Dict[str, Any]:
        stored = self.objects[kind][object_id]
        return {
            "id": object_id,
            "properties": dict(stored["properties"]),
            "createdAt": stored["createdAt"],
            "updatedAt": stored["updatedAt"],
            "archived": False,
        }

    def _create(self, kind: str, properties: Dict[str, Any]) -> str:
        object_id = str(next(self._ids))
        self.objects[kind][object_id] = {"properties": dict(properties), "createdAt": _now(), "updatedAt": _now()}
        return object_id

    def _by_email(self, email: str) -> Any:
        contacts = self.objects["contacts"].items()
        return next((i for i, o in contacts if o["properties"].get("email", "").lower() == email.lower()), None)

    def answer(self, method: str, path: str, headers: Dict[str, str], query: Dict[str, str], body: Any) -> Answer:
        if headers.get("authorization") != f"Bearer {self.token}":
            return self._error(401, "INVALID_AUTHENTICATION", "Authentication credentials not found.")
        if method in ("POST", "PATCH") and "application/json" not in headers.get("content-type", ""):
            return self._error(415, "UNSUPPORTED_MEDIA_TYPE", "Content-Type must be application/json")
        if method == "POST" and path == "/crm/v3/objects/contacts/batch/upsert":
            return self._upsert(body)
        found = re.fullmatch(r"/crm/v3/objects/(\w+)(?:/(\d+))?", path)
        if not found or found.group(1) not in OBJECTS:
            return self._error(404, "OBJECT_NOT_FOUND", f"No route for {method} {path}")
        kind, object_id = found.groups()
        if not isinstance(body, dict) or not isinstance(body.get("properties"), dict):
            return self._error(400, "VALIDATION_ERROR", "Invalid input JSON: properties is required")
        properties = body["properties"]
        if any(not isinstance(v, (str, int, float, bool)) for v in properties.values()):
            return self._error(400, "VALIDATION_ERROR", "Property values must be strings, numbers or booleans")
        if method == "PATCH" and object_id:
            if object_id not in self.objects[kind]:
                return self._error(404, "OBJECT_NOT_FOUND", "resource not found")
            stored = self.objects[kind][object_id]
            stored["properties"].update(properties)
            stored["updatedAt"] = _now()
            return 200, self._record(kind, object_id), {}
        if method != "POST" or object_id:
            return self._error(405, "METHOD_NOT_ALLOWED", f"{method} not allowed on {path}")
        missing = [name for name in REQUIRED.get(kind, ()) if not properties.get(name)]
        if missing:
            return self._error(400, "VALIDATION_ERROR", f"Property values were not valid: missing {missing}")
        if kind == "contacts" and properties.get("email") and self._by_email(properties["email"]):
            existing = self._by_email(properties["email"])
            return self._error(409, "CONFLICT", f"Contact already exists. Existing ID: {existing}")
        associations = body.get("associations") or []
        for association in associations:
            to = (association.get("to") or {}).get("id")
            types = association.get("types") or []
            known = all(
                t.get("associationCategory") == "HUBSPOT_DEFINED"
                and (kind, t.get("associationTypeId")) in ASSOCIATION_TYPES
                for t in types
            )
            if not to or not types or not known:
                return self._error(400, "VALIDATION_ERROR", f"invalid association {association!r}")
            if not any(str(to) in self.objects[other] for other in OBJECTS):
                return self._error(400, "VALIDATION_ERROR", f"object {to} to associate does not exist")
        object_id = self._create(kind, properties)
        for association in associations:
            for kind_of in association["types"]:
                self.associations.append((kind, object_id, str(association["to"]["id"]), kind_of["associationTypeId"]))
        return 201, self._record(kind, object_id), {}

    def _upsert(self, body: Any) -> Answer:
        inputs = body.get("inputs") if isinstance(body, dict) else None
        if not isinstance(inputs, list) or not inputs:
            return self._error(400, "VALIDATION_ERROR", "inputs is required")
        results = []
        for item in inputs:
            if item.get("idProperty") != "email" or not item.get("id") or not isinstance(item.get("properties"), dict):
                return self._error(400, "VALIDATION_ERROR", "each input needs idProperty, id and properties")
            existing = self._by_email(item["id"])
            if existing:
                stored = self.objects["contacts"][existing]
                stored["properties"].update(item["properties"])
                stored["updatedAt"] = _now()
                results.append({**self._record("contacts", existing), "new": False})
            else:
                object_id = self._create("contacts", {"email": item["id"], **item["properties"]})
                results.append({**self._record("contacts", object_id), "new": True})
        stamp = _now()
        return 200, {"status": "COMPLETE", "results": results, "startedAt": stamp, "completedAt": stamp}, {}
