"""Reps sign in once with the leads token and get a signed session cookie; the token never goes in a URL.

The cookie holds an expiry and an HMAC of it keyed with the token (not the
token itself): changing the token signs everyone out. It is HttpOnly,
SameSite=Strict, and Secure when the page is served over https.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import time
from typing import Optional

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from common import settings

COOKIE = "leads_session"
LOGIN_PATH = "/reps/login"
SESSION_SECONDS = 12 * 3600

#: The sign-in form's texts, per language (from the browser's Accept-Language).
TEXTS = {
    "en": {
        "title": "Sign in",
        "label": "Leads access token",
        "button": "Sign in",
        "wrong": "This token is not valid. Please check it and try again.",
    },
    "fr": {
        "title": "Connexion",
        "label": "Jeton d'accès aux leads",
        "button": "Se connecter",
        "wrong": "Ce jeton n'est pas valide. Vérifiez-le et réessayez.",
    },
    "pl": {
        "title": "Logowanie",
        "label": "Token dostępu do leadów",
        "button": "Zaloguj się",
        "wrong": "Ten token jest nieprawidłowy. Sprawdź go i spróbuj ponownie.",
    },
}


def _signature(token: str, expires: int) -> str:
    return hmac.new(token.encode(), f"reps-session:{expires}".encode(), hashlib.sha256).hexdigest()


def session_value(token: str, now: Optional[float] = None) -> str:
    """A fresh session cookie value: ``expiry.signature``."""
    expires = int((now or time.time()) + SESSION_SECONDS)
    return f"{expires}.{_signature(token, expires)}"


def valid_session(value: str, token: str, now: Optional[float] = None) -> bool:
    """Whether a cookie value was signed with ``token`` and has not expired."""
    expires, _, signature = (value or "").partition(".")
    if not expires.isdigit() or int(expires) < (now or time.time()):
        return False
    return hmac.compare_digest(signature.encode(), _signature(token, int(expires)).encode())


def bearer_ok(request: web.Request, token: str) -> bool:
    """Whether the request carries ``Authorization: Bearer <token>``."""
    header = request.headers.get("Authorization", "")
    given = header[7:].strip() if header.lower().startswith("bearer ") else ""
    return bool(given) and hmac.compare_digest(given.encode(), token.encode())


def signed_in(request: web.Request, token: str) -> bool:
    """A bearer token (tools, the API) or a valid session cookie (reps' browsers)."""
    return bearer_ok(request, token) or valid_session(request.cookies.get(COOKIE, ""), token)


def is_https(request: web.Request) -> bool:
    """Served over https: directly, behind a proxy that says so, or by configuration."""
    forwarded = request.headers.get("X-Forwarded-Proto", "").split(",")[0].strip().lower()
    return request.secure or forwarded == "https" or settings.leads_behind_https()


def language(request: web.Request) -> str:
    """The browser's first language among EN, FR and PL (English otherwise)."""
    for part in request.headers.get("Accept-Language", "").split(","):
        code = part.split(";")[0].strip()[:2].lower()
        if code in TEXTS:
            return code
    return "en"


def login_page(lang: str, wrong: bool = False, status: int = 200) -> web.Response:
    """The sign-in form (the token is posted, never put in the address)."""
    text = TEXTS.get(lang, TEXTS["en"])
    notice = f"<p class='error' role='alert'>{html.escape(text['wrong'])}</p>" if wrong else ""
    page = (
        f"<!doctype html><html lang='{lang}'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{html.escape(text['title'])}</title>"
        "<style>body{font-family:system-ui,sans-serif;max-width:24rem;margin:4rem auto;padding:0 1rem}"
        "input,button{font:inherit;padding:.5rem;width:100%;box-sizing:border-box;margin:.25rem 0}"
        ".error{color:#b00020}</style></head><body>"
        f"<h1>{html.escape(text['title'])}</h1>{notice}"
        f"<form method='post' action='{LOGIN_PATH}'><label for='token'>{html.escape(text['label'])}</label>"
        "<input id='token' name='token' type='password' autocomplete='current-password' required autofocus>"
        f"<button type='submit'>{html.escape(text['button'])}</button></form></body></html>"
    )
    return web.Response(status=status, content_type="text/html", text=page, headers={"Cache-Control": "no-store"})


async def login_form(request: web.Request) -> web.Response:
    return login_page(language(request))


async def login(request: web.Request) -> web.StreamResponse:
    """Exchange the token for a session cookie, then go to the lead list."""
    token = request.app["token"]
    form = await request.post()
    given = str(form.get("token") or "").strip()
    if not given or not hmac.compare_digest(given.encode(), token.encode()):
        return login_page(language(request), wrong=True, status=401)
    response = web.HTTPSeeOther("/reps")
    response.set_cookie(
        COOKIE,
        session_value(token),
        max_age=SESSION_SECONDS,
        path="/",
        httponly=True,
        samesite="Strict",
        secure=is_https(request),
    )
    raise response


class PathOnlyAccessLogger(AbstractAccessLogger):
    """The access log without query strings (they may hold filters or, from old links, a token)."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        self.logger.info('%s "%s %s" %s %.3fs', request.remote, request.method, request.path, response.status, time)
