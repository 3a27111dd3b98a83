"""Salesforce's OAuth token endpoint and REST API (Lead sobject) on loopback, as documented.

- ``POST /services/oauth2/token`` (form-encoded, ``grant_type=client_credentials``,
  ``client_id``, ``client_secret``): an access token and the ``instance_url``;
  wrong credentials answer 400 ``invalid_client``;
- ``POST /services/data/vXX.X/sobjects/Lead/``: 201 ``{"id", "success", "errors"}``;
  missing ``LastName``/``Company`` answer 400 ``REQUIRED_FIELD_MISSING``, an unknown
  field ``INVALID_FIELD``, a text too long ``STRING_TOO_LONG``;
- ``PATCH /services/data/vXX.X/sobjects/Lead/{id}``: 204 without a body;
- every API call needs ``Authorization: Bearer <token>``; 401 ``INVALID_SESSION_ID`` otherwise.
"""

from __future__ import annotations

import itertools
import re
import secrets
import time
from typing import Any, Dict

from tests.fakes.crm_base import Answer, CrmServer

#: The Lead fields this org has, with their length limits (None: not text).
LEAD_FIELDS = {
    "FirstName": 40,
    "LastName": 80,
    "Company": 255,
    "Email": 80,
    "Phone": 40,
    "Title": 128,
    "LeadSource": 255,
    "Status": 255,
    "Description": 32000,
    "Qualification_Score__c": None,
    "Qualification_Status__c": 32,
    "Need_Category__c": 64,
    "Authority__c": 32,
    "Timeline__c": 255,
    "Current_Vendor__c": 255,
}


class Salesforce(CrmServer):
    """One org: a connected app's credentials, issued tokens, Lead records."""

    def __init__(self, client_id: str, client_secret: str) -> None:
        self.client_id, self.client_secret = client_id, client_secret
        self.tokens: set = set()
        self.leads: Dict[str, Dict[str, Any]] = {}
        self._ids = itertools.count(1)
        super().__init__()

    def error_body(self, status: int) -> Any:
        if status == 429:
            return [{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}]
        return [{"message": "An unexpected error occurred.", "errorCode": "UNKNOWN_EXCEPTION"}]

    def expire_tokens(self) -> None:
        """Every issued token stops working (a session timeout)."""
        with self.lock:
            self.tokens.clear()

    def answer(self, method: str, path: str, headers: Dict[str, str], query: Dict[str, str], body: Any) -> Answer:
        if path == "/services/oauth2/token":
            return self._token(method, headers, body)
        if headers.get("authorization", "")[len("Bearer ") :] not in self.tokens:
            return 401, [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}], {}
        found = re.fullmatch(r"/services/data/v\d+\.\d/sobjects/Lead/?([A-Za-z0-9]{15,18})?", path)
        if not found:
            return 404, [{"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}], {}
        if "application/json" not in headers.get("content-type", ""):
            return 415, [{"errorCode": "UNSUPPORTED_MEDIA_TYPE", "message": "Content-Type must be JSON"}], {}
        if not isinstance(body, dict):
            return 400, [{"errorCode": "JSON_PARSER_ERROR", "message": "Expected an object"}], {}
        problem = self._check(body)
        if problem:
            return 400, [problem], {}
        lead_id = found.group(1)
        if method == "PATCH" and lead_id:
            if lead_id not in self.leads:
                return 404, [{"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}], {}
            self.leads[lead_id].update(body)
            return 204, None, {}
        if method != "POST" or lead_id:
            return 405, [{"errorCode": "METHOD_NOT_ALLOWED", "message": f"HTTP Method '{method}' not allowed"}], {}
        missing = [name for name in ("LastName", "Company") if not body.get(name)]
        if missing:
            message = f"Required fields are missing: [{', '.join(missing)}]"
            return 400, [{"message": message, "errorCode": "REQUIRED_FIELD_MISSING", "fields": missing}], {}
        lead_id = f"00Q5g00000{next(self._ids):08d}"
        self.leads[lead_id] = dict(body)
        return 201, {"id": lead_id, "success": True, "errors": []}, {}

    @staticmethod
    def _check(body: Dict[str, Any]) -> Any:
        for name, value in body.items():
            if name not in LEAD_FIELDS:
                message = f"No such column '{name}' on sobject of type Lead"
                return {"message": message, "errorCode": "INVALID_FIELD", "fields": [name]}
            limit = LEAD_FIELDS[name]
            if limit and isinstance(value, str) and len(value) > limit:
                message = f"{name}: data value too large (max length={limit})"
                return {"message": message, "errorCode": "STRING_TOO_LONG", "fields": [name]}
        return None

    def _token(self, method: str, headers: Dict[str, str], form: Any) -> Answer:
        if method != "POST" or "x-www-form-urlencoded" not in headers.get("content-type", ""):
            return 400, {"error": "invalid_request", "error_description": "must use HTTP POST with a form"}, {}
        if not isinstance(form, dict) or form.get("grant_type") != "client_credentials":
            return 400, {"error": "unsupported_grant_type", "error_description": "grant type not supported"}, {}
        if form.get("client_id") != self.client_id or form.get("client_secret") != self.client_secret:
            return 400, {"error": "invalid_client", "error_description": "invalid client credentials"}, {}
        token = f"00D5g000004Xyz!{secrets.token_urlsafe(24)}"
        self.tokens.add(token)
        return (
            200,
            {
                "access_token": token,
                "signature": secrets.token_urlsafe(32),
                "token_format": "opaque",
                "scope": "api",
                "instance_url": self.url,
                "id": f"{self.url}/id/00D5g000004XyzEAA/0055g00000AbcdEAA",
                "token_type": "Bearer",
                "issued_at": str(int(time.time() * 1000)),
            },
            {},
        )
