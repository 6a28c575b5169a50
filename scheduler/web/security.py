"""Who may read, and what a browser may run: the access token and the security headers.

One middleware (:class:`Guard`) answers every request in this order: only ``GET``/``HEAD`` (and
``POST /login``) are allowed, 405 otherwise, since the app only reads; when a token is set,
everything but ``/static`` and ``/login`` needs ``Authorization: Bearer TOKEN`` or the login
cookie (the API answers 401 JSON, a page redirects to ``/login``); and every response carries
a strict Content-Security-Policy (no inline script or style, no framing) and the usual
no-sniff, no-referrer, deny-framing headers. The cookie holds an HMAC of the token, never the
token, so a leaked cookie does not reveal it; comparisons use :func:`hmac.compare_digest`.
"""

from __future__ import annotations

import hashlib
import hmac
import html
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.responses import Response

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
COOKIE = "newswatch_session"
READS = {"GET", "HEAD"}
OPEN_PREFIXES = ("/static/", "/login")
MAX_LOGIN_BODY = 4096

router = APIRouter(include_in_schema=False)


def session_value(token: str) -> str:
    """What the login cookie holds: an HMAC of the token (keyed by a fixed label), so the
    cookie proves the token was given without being it."""
    return hmac.new(token.encode(), b"newswatch web session", hashlib.sha256).hexdigest()


def authorized(request: Request, token: str) -> bool:
    """A bearer token equal to ``token``, or the login cookie made from it."""
    given = request.headers.get("authorization", "")
    scheme, _, value = given.partition(" ")
    if scheme.lower() == "bearer" and hmac.compare_digest(
        value.strip().encode("latin-1", "replace"), token.encode()
    ):
        return True
    cookie = request.cookies.get(COOKIE, "")
    return hmac.compare_digest(cookie.encode(), session_value(token).encode())


class Guard(BaseHTTPMiddleware):
    """Method check, token check, then the security headers on whatever is answered."""

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        response = await self._answer(request, call_next)
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    async def _answer(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        path = request.url.path
        api = path.startswith("/api/")
        login_post = request.method == "POST" and path == "/login"
        if request.method not in READS and not login_post:
            return _refuse(
                api, 405, "read-only: only GET and HEAD are allowed", {"Allow": "GET, HEAD"}
            )
        token = request.app.state.web.token
        if token and not path.startswith(OPEN_PREFIXES) and not authorized(request, token):
            if api or path == "/openapi.json":
                return _refuse(True, 401, "a token is required: Authorization: Bearer TOKEN",
                               {"WWW-Authenticate": "Bearer"})  # fmt: skip
            return RedirectResponse("/login", status_code=303)
        return await call_next(request)


def _refuse(api: bool, status: int, message: str, headers: dict[str, str]) -> Response:
    if api:
        return JSONResponse({"error": message}, status_code=status, headers=headers)
    return PlainTextResponse(message, status_code=status, headers=headers)


LOGIN_PAGE = """<!doctype html>
<html lang="es"><head><meta charset="utf-8"><title>newswatch: login</title>
<link rel="stylesheet" href="/static/style.css"></head>
<body><main><h1>newswatch</h1>{message}
<form method="post" action="/login">
<label>Token <input type="password" name="token" autocomplete="current-password" required></label>
<button type="submit">Enter</button></form></main></body></html>
"""


@router.get("/login", response_class=HTMLResponse)
def login_form() -> HTMLResponse:
    """The login form (only useful when the app has a token)."""
    return HTMLResponse(LOGIN_PAGE.format(message=""))


@router.post("/login", response_class=HTMLResponse)
async def login(request: Request) -> Response:
    """Check the posted token; when it is right, set the HttpOnly, SameSite=Strict cookie."""
    token = request.app.state.web.token
    body = (await request.body())[:MAX_LOGIN_BODY].decode("utf-8", "replace")
    given = (parse_qs(body).get("token") or [""])[0]
    if not token or not hmac.compare_digest(given.encode(), token.encode()):
        message = "<p role=alert>" + html.escape("Wrong token.") + "</p>"
        return HTMLResponse(LOGIN_PAGE.format(message=message), status_code=401)
    response = RedirectResponse("/", status_code=303)
    response.set_cookie(
        COOKIE, session_value(token), httponly=True, samesite="strict", secure=False, path="/"
    )
    return response
