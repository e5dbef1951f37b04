"""Accounts, office hours and the dashboard pages."""
from datetime import timedelta

from sqlalchemy import select

from orientbot import workflow
from orientbot.db import Counsellor, session_scope
from tests.factories import MONDAY_10H, seed_demo

HOURS_FORM = {
    "open_0": "1", "opens_0": "08:30", "closes_0": "17:00", "open_2": "1", "opens_2": "09:00", "closes_2": "12:00",
    "public_holidays": "1", "timezone": "Europe/Paris", "periods": "2027-02-20 2027-03-07\n2027-05-14",
    "deferred_answer_hours": "3,5", "live_answer_minutes": "20", "urgent_answer_minutes": "10",
    "minutes_per_waiting_ticket": "8",
}


def test_admin_creates_and_deactivates_an_account(admin, console, engine):
    page = admin.post("/admin/accounts", {"username": "dora", "display_name": "Dora <b>Roux</b>",
                                          "password": "un-mot-de-passe-long", "role": "counsellor"})
    assert "Compte créé" in admin.follow(page).text
    assert "Dora &lt;b&gt;Roux&lt;/b&gt;" in admin.get("/admin/accounts").text
    dora = console()
    assert dora.login("dora", "un-mot-de-passe-long").status == 303
    with session_scope(engine) as session:
        dora_id = session.execute(select(Counsellor.id).where(Counsellor.username == "dora")).scalar_one()
    admin.post(f"/admin/accounts/{dora_id}", {"role": "counsellor"})  # "active" unticked
    assert dora.get("/account").location.startswith("/login")  # logged out at once


def test_account_form_errors_are_french_and_keep_the_values(admin):
    page = admin.post("/admin/accounts", {"username": "eve", "display_name": "Ève", "password": "court", "role": "admin"})
    assert page.status == 400 and "entre 10 et 200 caractères" in page.text and 'value="eve"' in page.text
    assert admin.post("/admin/accounts/abc", {"role": "admin"}).status == 400


def test_last_admin_cannot_demote_themself(admin, engine):
    with session_scope(engine) as session:
        chef = session.execute(select(Counsellor.id).where(Counsellor.username == "chef")).scalar_one()
    page = admin.post(f"/admin/accounts/{chef}", {"role": "counsellor", "active": "1"})
    assert page.status == 400 and "au moins un administrateur actif" in page.text


def test_office_hours_are_saved(admin, engine):
    assert "Vendredi" in admin.get("/admin/hours").text
    assert "Modifications enregistrées." in admin.follow(admin.post("/admin/hours", HOURS_FORM)).text
    with session_scope(engine) as session:
        hours = workflow.office_hours(session)
    assert sorted(hours.weekly) == [0, 2] and hours.deferred_answer_hours == 3.5 and hours.minutes_per_waiting_ticket == 8
    assert [(s.isoformat(), e.isoformat()) for s, e in hours.closed_periods] == [
        ("2027-02-20", "2027-03-07"), ("2027-05-14", "2027-05-14")]
    assert "2027-05-14" in admin.get("/admin/hours").text


def test_bad_office_hours_are_explained_and_kept(admin, engine):
    for change, message in (({"periods": "20/02/2027"}, "Ligne 1 : date invalide"),
                            ({"closes_0": "08:00"}, "Horaire invalide pour le lundi"),
                            ({"live_answer_minutes": "vingt"}, "doit être un nombre"),
                            ({"open_0": "", "open_2": ""}, "au moins un jour d&#39;ouverture")):
        page = admin.post("/admin/hours", {**HOURS_FORM, **change})
        assert page.status == 400 and message in page.text, message
    assert "20/02/2027" in admin.post("/admin/hours", {**HOURS_FORM, "periods": "20/02/2027"}).text
    with session_scope(engine) as session:
        assert workflow.office_hours(session).weekly[4]  # defaults unchanged


def test_dashboard_draws_charts_and_tables(console, engine, clock):
    with session_scope(engine) as session:
        seed_demo(session, now=MONDAY_10H)
    browser = console()
    browser.login("alice")
    page = browser.get("/dashboard")
    assert page.status == 200
    assert page.text.count("<svg") == 4 and "Escalades par jour" in page.text
    assert "Combien de vœux peut-on faire sur Parcoursup ?" in page.text and "délai médian" in page.text
    clock.moment = MONDAY_10H + timedelta(days=60)  # the session has expired, and the window is empty
    assert browser.get("/dashboard").status == 303
    browser.login("alice")
    assert "Aucune escalade." in browser.get("/dashboard").text
