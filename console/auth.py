"""Logging in and out, and the guard every other page goes through.

Owns the console's session cookie (HttpOnly, SameSite=Strict, Secure behind
HTTPS) and the checks made before any handler runs: a live session (else a
redirect to /login, or 401 JSON for the API), the CSRF token on every POST
(hidden field or ``X-CSRF-Token`` header), the admin role for /admin pages,
and *Mon compte* first for an account that must change its password.  The
cookie has no Max-Age (it ends with the browser); the session also ends after
``console.idle_minutes`` without a page or a form (live refreshes under /api/
do not count) and ``console.session_hours`` after the log-in.  The log-in form
itself is protected by a double-submit token, and repeated failures lock a
username from an address, or an address, for a while (``accounts.log_in``).
"""
from __future__ import annotations

import hmac
import secrets
from urllib.parse import quote

from aiohttp import web

from console.pages import SETTINGS, User, db, form, now, render, see_other, sentence, use_zone
from orientbot import accounts, workflow

COOKIE = "orientbot_console"
LOGIN_COOKIE = "orientbot_login"
PUBLIC_PATHS = ("/login",)
# What an account that must change its password may still open.
PASSWORD_CHANGE_PATHS = ("/account", "/account/password", "/logout")
STATIC_PREFIX = "/static/"


def wants_json(request: web.Request) -> bool:
    return request.path.startswith("/api/")


def _same(sent: str, expected: str) -> bool:
    return bool(sent) and bool(expected) and hmac.compare_digest(sent.encode(), expected.encode())


def client_address(request: web.Request) -> str:
    """Who is trying to log in: the peer, or behind a trusted proxy the address it appended to X-Forwarded-For."""
    forwarded = request.headers.get("X-Forwarded-For", "")
    if request.app[SETTINGS].console.trust_forwarded_for and forwarded.strip():
        return forwarded.split(",")[-1].strip()[:64]
    return (request.remote or "")[:64]


def _safe_next(target: str) -> str:
    """Only a path of this site: no "//other.example" nor "https://…"."""
    return target if target.startswith("/") and not target.startswith("//") and "\\" not in target else "/queue"


@web.middleware
async def guard(request: web.Request, handler):
    if request.path in PUBLIC_PATHS or request.path.startswith(STATIC_PREFIX):
        return await handler(request)
    settings = request.app[SETTINGS].console
    active = not (wants_json(request) and request.method == "GET")  # a live refresh is not someone at work
    with db(request) as session:
        web_session = accounts.session_for(session, token=request.cookies.get(COOKIE), now=now(request),
                                           hours=settings.session_hours if active else None,
                                           idle_minutes=settings.idle_minutes if active else None)
        if web_session is not None:
            request["user"], request["csrf"] = User.of(web_session.counsellor), web_session.csrf_token
            request["must_change_password"] = accounts.must_change_password(
                session, counsellor_id=web_session.counsellor_id)
            use_zone(workflow.office_hours(session).timezone)
    if "user" not in request:
        if wants_json(request):
            return web.json_response({"error": "Votre session a expiré : reconnectez-vous."}, status=401)
        target = request.path_qs if request.method == "GET" else "/queue"
        raise web.HTTPSeeOther(f"/login?next={quote(target, safe='')}")
    if request["must_change_password"] and request.path not in PASSWORD_CHANGE_PATHS:
        if wants_json(request):
            return web.json_response({"error": "Choisissez d'abord votre propre mot de passe sur « Mon compte »."},
                                     status=403)
        raise web.HTTPSeeOther("/account")
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        sent = request.headers.get("X-CSRF-Token") or (await form(request)).get("csrf_token", "")
        if not _same(sent, request["csrf"]):
            return forbidden(request, "Ce formulaire a expiré ou ne vient pas de la console : rechargez la page et recommencez.")
    if request.path.startswith(("/admin", "/api/admin")) and not request["user"].is_admin:
        return forbidden(request, "Cette page est réservée aux administrateurs.")
    return await handler(request)


def forbidden(request: web.Request, message: str) -> web.Response:
    if wants_json(request):
        return web.json_response({"error": message}, status=403)
    return render(request, "error.html", status=403, title="Accès refusé", message=message)


async def login_page(request: web.Request) -> web.Response:
    return _login_form(request, next_url=_safe_next(request.query.get("next", "/queue")))


def _login_form(request: web.Request, *, next_url: str, error: str = "", username: str = "",
                status: int = 200) -> web.Response:
    # Reused when present: a second log-in page (another tab, the browser's favicon request) must not void the first.
    token = request.cookies.get(LOGIN_COOKIE) or secrets.token_urlsafe(24)
    response = render(request, "login.html", status=status, login_csrf=token, next_url=next_url, error=error,
                      username=username, bye=request.query.get("ok") == "bye")
    response.set_cookie(LOGIN_COOKIE, token, httponly=True, samesite="Strict", path="/login",
                        secure=request.app[SETTINGS].console.secure_cookies)
    return response


async def login(request: web.Request) -> web.Response:
    fields = await form(request)
    next_url = _safe_next(fields.get("next", "/queue"))
    username = fields.get("username", "")[:80]
    if not _same(fields.get("login_csrf", ""), request.cookies.get(LOGIN_COOKIE, "")):
        return _login_form(request, next_url=next_url, username=username, status=400,
                           error="La page de connexion a expiré : recommencez, s'il vous plaît.")
    settings = request.app[SETTINGS].console
    with db(request) as session:
        try:
            account = accounts.log_in(session, username=username, address=client_address(request), now=now(request),
                                      password=fields.get("password", "")[:accounts.MAX_PASSWORD_CHARS])
        except accounts.TooManyAttempts as refused:
            return _login_form(request, next_url=next_url, username=username, status=429, error=sentence(refused))
        if account is None:
            return _login_form(request, next_url=next_url, username=username, status=401,
                               error="Identifiant ou mot de passe incorrect.")
        opened = accounts.open_session(session, counsellor_id=account.id, now=now(request), hours=settings.session_hours,
                                       idle_minutes=settings.idle_minutes)
        if accounts.must_change_password(session, counsellor_id=account.id):
            next_url = "/account"
    response = see_other(next_url)
    # No Max-Age nor Expires: the cookie ends with the browser; the server ends the session sooner when idle.
    response.set_cookie(COOKIE, opened.token, httponly=True, samesite="Strict", secure=settings.secure_cookies,
                        path="/")
    response.del_cookie(LOGIN_COOKIE, path="/login")
    raise response


async def logout(request: web.Request) -> web.Response:
    with db(request) as session:
        accounts.close_session(session, token=request.cookies.get(COOKIE))
    response = see_other("/login", "bye")
    response.del_cookie(COOKIE, path="/")
    raise response


def routes() -> list:
    return [web.get("/login", login_page), web.post("/login", login), web.post("/logout", logout)]
