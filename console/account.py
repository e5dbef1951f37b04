"""The "Mon compte" page: every counsellor changes their own password.

Owns the form (current password, the new one twice): a wrong current password
counts as a failed log-in, and a success ends every other session of the
account, the one in use staying open.  An account whose password was chosen
by someone else (the first ``admin``, an admin's reset) is sent here first.
"""
from __future__ import annotations

from aiohttp import web

from console.auth import COOKIE, client_address
from console.pages import db, form, now, render, see_other, sentence
from orientbot import accounts


def _account_page(request: web.Request, *, error: str = "", status: int = 200) -> web.Response:
    return render(request, "account.html", status=status, error=error, roles=accounts.ROLE_LABELS,
                  min_password=accounts.MIN_PASSWORD_CHARS, must_change=request.get("must_change_password", False))


async def account_page(request: web.Request) -> web.Response:
    return _account_page(request)


async def change_password(request: web.Request) -> web.Response:
    fields = await form(request)
    current, new, again = (fields.get(key, "")[:accounts.MAX_PASSWORD_CHARS + 1]
                           for key in ("current_password", "new_password", "new_password_again"))
    if new != again:
        return _account_page(request, error="Les deux nouveaux mots de passe ne sont pas identiques : retapez-les.",
                             status=400)
    with db(request) as session:
        try:  # inside the session: a wrong current password is counted even though it is refused
            accounts.change_password(session, counsellor_id=request["user"].id, current_password=current,
                                     new_password=new, keep_token=request.cookies.get(COOKIE),
                                     address=client_address(request), now=now(request))
        except accounts.AccountError as error:
            status = 429 if isinstance(error, accounts.TooManyAttempts) else 400
            return _account_page(request, error=sentence(error), status=status)
    raise see_other("/account", "password_changed")


def routes() -> list:
    return [web.get("/account", account_page), web.post("/account/password", change_password)]
