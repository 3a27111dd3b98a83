"""Pipedrive's API v1 (persons, leads, notes) on loopback, as documented.

- the API token goes in the ``x-api-token`` header (or the ``api_token`` query
  parameter); 401 ``unauthorized access`` otherwise;
- ``POST /api/v1/persons`` (``name`` required; ``email``/``phone`` as lists of
  ``{value, primary, label}``), ``PUT /api/v1/persons/{id}``;
- ``POST /api/v1/leads`` (``title`` and an existing ``person_id`` required; ``value``
  is ``{amount, currency}``), ``PATCH /api/v1/leads/{uuid}``;
- ``POST /api/v1/notes`` (``content`` and an existing ``lead_id``), ``PUT /api/v1/notes/{id}``.
Answers are ``{"success": true, "data": {...}}``.
"""

from __future__ import annotations

import itertools
import re
import uuid
from datetime import datetime, timezone
from typing import Any, Dict

from tests.fakes.crm_base import Answer, CrmServer


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


class Pipedrive(CrmServer):
    """One company's persons, leads and notes."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.persons: Dict[str, Dict[str, Any]] = {}
        self.leads: Dict[str, Dict[str, Any]] = {}
        self.notes: Dict[str, Dict[str, Any]] = {}
        self._ids = itertools.count(1)
        super().__init__()

    def error_body(self, status: int) -> Any:
        if status == 429:
            return {"success": False, "error": "Request over limit", "errorCode": 429}
        return {"success": False, "error": "Internal server error", "errorCode": status}

    @staticmethod
    def _error(status: int, message: str) -> Answer:
        return status, {"success": False, "error": message, "errorCode": status, "error_info": ""}, {}

    def answer(self, method: str, path: str, headers: Dict[str, str], query: Dict[str, str], body: Any) -> Answer:
        if self.token not in (headers.get("x-api-token"), query.get("api_token")):
            return self._error(401, "unauthorized access")
        found = re.fullmatch(r"/api/v1/(persons|leads|notes)(?:/([\w-]+))?", path)
        if not found:
            return self._error(404, "Unknown method .")
        if "application/json" not in headers.get("content-type", ""):
            return self._error(415, "Content-Type must be application/json")
        if not isinstance(body, dict):
            return self._error(400, "Request body must be a JSON object")
        kind, key = found.groups()
        store = {"persons": self.persons, "leads": self.leads, "notes": self.notes}[kind]
        update_method = "PATCH" if kind == "leads" else "PUT"
        if key:
            if method != update_method:
                return self._error(405, "Method not allowed")
            if key not in store:
                return self._error(404, f"{kind[:-1].capitalize()} not found")
            problem = self._check(kind, {**store[key], **body})
            if problem:
                return self._error(400, problem)
            store[key].update(body, update_time=_now())
            return 200, {"success": True, "data": dict(store[key])}, {}
        if method != "POST":
            return self._error(405, "Method not allowed")
        problem = self._check(kind, body)
        if problem:
            return self._error(400, problem)
        key = str(uuid.uuid4()) if kind == "leads" else str(next(self._ids))
        record = {**body, "id": key if kind == "leads" else int(key), "add_time": _now(), "update_time": _now()}
        store[key] = record
        return 201, {"success": True, "data": dict(record)}, {}

    def _check(self, kind: str, data: Dict[str, Any]) -> Any:
        if kind == "persons":
            if not isinstance(data.get("name"), str) or not data["name"].strip():
                return "Name must be given."
            for field in ("email", "phone"):
                values = data.get(field, [])
                if not isinstance(values, list) or not all(isinstance(v, dict) and "value" in v for v in values):
                    return f"{field} must be a list of objects with a value"
        elif kind == "leads":
            if not isinstance(data.get("title"), str) or not data["title"].strip():
                return "Title must be given."
            if str(data.get("person_id")) not in self.persons:
                return "A lead must be linked to an existing person or organization."
            value = data.get("value")
            if value is not None and not (
                isinstance(value, dict)
                and isinstance(value.get("amount"), (int, float))
                and re.fullmatch(r"[A-Z]{3}", str(value.get("currency")))
            ):
                return "Value must be an object with a numeric amount and a currency code."
        elif kind == "notes":
            if not isinstance(data.get("content"), str) or not data["content"]:
                return "Content must be given."
            if str(data.get("lead_id")) not in self.leads:
                return "The note must be attached to an existing lead, deal, person or organization."
        return None
