"""The admins' pages: accounts and office hours.

Owns the forms an admin fills in: creating an account, changing its role, its school (the tickets it
sees, ``orientbot.schools``) or deactivating it (never deleting: tickets keep their owner), resetting its
password (its sessions end), and the office
hours (weekly hours, closed periods typed one per line, the delays promised to
families).  A refused value is explained in French and the form keeps what
was typed.
"""
from __future__ import annotations

from aiohttp import web

from console.pages import SETTINGS, db, form, render, see_other, sentence
from orientbot import accounts, schools, workflow
from orientbot.office_hours import DAY_NAMES, OfficeHours, periods_from_text

MAX_PERIOD_LINES = 200
DELAY_LABELS = {"deferred_answer_hours": "délai promis le soir (heures ouvrées)",
                "live_answer_minutes": "délai promis en journée (minutes)",
                "urgent_answer_minutes": "délai pour une urgence (minutes)",
                "minutes_per_waiting_ticket": "temps moyen par ticket en attente (minutes)"}


def _accounts_page(request: web.Request, *, error: str = "", values: dict = None, status: int = 200) -> web.Response:
    with db(request) as session:
        known = _known(request)
        return render(request, "accounts.html", status=status, error=error, accounts=accounts.accounts(session),
                      roles=accounts.ROLE_LABELS, values=values or {"role": "counsellor"},
                      min_password=accounts.MIN_PASSWORD_CHARS, known_schools=known,
                      school_name=lambda code: schools.school_name(code, known))


def _known(request: web.Request) -> dict:
    return request.app[SETTINGS].schools.known


async def accounts_page(request: web.Request) -> web.Response:
    return _accounts_page(request)


async def create_account(request: web.Request) -> web.Response:
    fields = await form(request)
    values = {key: fields.get(key, "")[:200] for key in ("username", "display_name", "role", "school")}
    try:
        with db(request) as session:
            accounts.create_counsellor(session, username=values["username"], display_name=values["display_name"],
                                       role=values["role"], password=fields.get("password", ""),
                                       must_change_password=True, school=values["school"],
                                       known_schools=_known(request))
    except accounts.AccountError as error:
        return _accounts_page(request, error=sentence(error), values=values, status=400)
    raise see_other("/admin/accounts", "created")


async def _change_account(request: web.Request, change, notice: str) -> web.Response:
    """``change(session, counsellor_id, fields)`` on the account of the URL, then back to the accounts page."""
    fields = await form(request)
    try:
        counsellor_id = int(request.match_info["counsellor_id"])
        with db(request) as session:
            change(session, counsellor_id, fields)
    except ValueError as error:  # AccountError, or an id that is not a number
        message = sentence(error) if isinstance(error, accounts.AccountError) else "Ce compte n'existe pas."
        return _accounts_page(request, error=message, status=400)
    raise see_other("/admin/accounts", notice)


async def update_account(request: web.Request) -> web.Response:
    def change(session, counsellor_id: int, fields) -> None:
        accounts.update_account(session, counsellor_id=counsellor_id, role=fields.get("role", ""),
                                active=fields.get("active") == "1")
        if "school" in fields:  # a form without the field leaves the school as it is
            accounts.set_school(session, counsellor_id=counsellor_id, school=fields.get("school", "")[:200],
                                known=_known(request))

    return await _change_account(request, change, "updated")


async def reset_password(request: web.Request) -> web.Response:
    """A new password chosen by the admin (too long is refused, not cut); every session of the account ends."""
    return await _change_account(request, lambda session, counsellor_id, fields: accounts.set_password(
        session, counsellor_id=counsellor_id, password=fields.get("password", "")[:accounts.MAX_PASSWORD_CHARS + 1],
        must_change=True),
        "password_reset")


def _hours_values(hours: OfficeHours) -> dict:
    data = hours.to_json()
    return {
        "weekly": {int(day): {"open": True, "opens": opens, "closes": closes} for day, (opens, closes) in data["weekly"].items()},
        "periods": "\n".join(f"{start} {end}" if start != end else start for start, end in data["closed_periods"]),
        **{key: data[key] for key in ("timezone", "public_holidays", "deferred_answer_hours", "live_answer_minutes",
                                      "urgent_answer_minutes", "minutes_per_waiting_ticket")},
    }


def _hours_page(request: web.Request, *, values: dict, error: str = "", status: int = 200) -> web.Response:
    return render(request, "hours.html", status=status, values=values, error=error, days=DAY_NAMES)


async def hours_page(request: web.Request) -> web.Response:
    with db(request) as session:
        return _hours_page(request, values=_hours_values(workflow.office_hours(session)))


async def save_hours(request: web.Request) -> web.Response:
    fields = await form(request)
    weekly = {day: {"open": fields.get(f"open_{day}") == "1", "opens": fields.get(f"opens_{day}", "")[:5],
                    "closes": fields.get(f"closes_{day}", "")[:5]} for day in range(7)}
    values = {
        "weekly": weekly, "periods": fields.get("periods", "")[:20000], "timezone": fields.get("timezone", "")[:60],
        "public_holidays": fields.get("public_holidays") == "1",
        **{key: fields.get(key, "")[:10] for key in DELAY_LABELS},
    }
    try:
        lines = values["periods"].splitlines()
        if len(lines) > MAX_PERIOD_LINES:
            raise ValueError(f"{MAX_PERIOD_LINES} périodes fermées au plus")
        hours = OfficeHours.from_json({
            "timezone": values["timezone"], "public_holidays": values["public_holidays"],
            "weekly": {str(day): [v["opens"], v["closes"]] for day, v in weekly.items() if v["open"]},
            "closed_periods": periods_from_text(lines),
            **{key: _number(values[key], key) for key in DELAY_LABELS},
        })
        with db(request) as session:
            workflow.save_office_hours(session, hours=hours)
    except ValueError as error:
        return _hours_page(request, values=values, error=sentence(error), status=400)
    raise see_other("/admin/hours", "updated")


def _number(text: str, key: str) -> float:
    try:
        return float(text.replace(",", "."))
    except ValueError:
        raise ValueError(f"« {DELAY_LABELS[key]} » doit être un nombre") from None


def routes() -> list:
    return [
        web.get("/admin/accounts", accounts_page), web.post("/admin/accounts", create_account),
        web.post("/admin/accounts/{counsellor_id}", update_account),
        web.post("/admin/accounts/{counsellor_id}/password", reset_password),
        web.get("/admin/hours", hours_page), web.post("/admin/hours", save_hours),
    ]
