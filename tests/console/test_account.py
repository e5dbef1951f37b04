"""Passwords: "Mon compte", the admin's reset, the log-in limit, and where the first admin's password goes."""
import os
import stat
from datetime import timedelta

import pytest
from aiohttp.test_utils import make_mocked_request
from sqlalchemy import select

from console import __main__ as command
from console.auth import client_address
from console.pages import SETTINGS
from orientbot import accounts
from orientbot.db import Counsellor, create_schema, make_engine, session_scope
from orientbot.settings import PROJECT_ROOT, ConsoleSettings, Settings, load_settings
from tests.factories import PASSWORD

NEW = "un-nouveau-mot-de-passe"
LOCKED = "Trop de tentatives de connexion : par sécurité, réessayez dans 15 minutes."


def _change(browser, current=PASSWORD, new=NEW, again=NEW, **extra):
    return browser.post("/account/password", {"current_password": current, "new_password": new,
                                              "new_password_again": again, **extra})


def _id(engine, username):
    with session_scope(engine) as session:
        return session.execute(select(Counsellor.id).where(Counsellor.username == username)).scalar_one()


def test_every_counsellor_has_a_my_account_page(alice):
    assert 'href="/account"' in alice.get("/queue").text
    page = alice.get("/account")
    assert page.status == 200 and "Changer mon mot de passe" in page.text and "Alice Martin" in page.text


@pytest.mark.parametrize("current, new, again, message", [
    ("pas-le-bon-mot-de-passe", NEW, NEW, "Le mot de passe actuel n&#39;est pas le bon."),
    (PASSWORD, NEW, NEW + "x", "Les deux nouveaux mots de passe ne sont pas identiques"),
    (PASSWORD, "court", "court", "Le mot de passe doit faire entre 10 et 200 caractères."),
])
def test_a_refused_password_change_is_explained(alice, console, current, new, again, message):
    page = _change(alice, current, new, again)
    assert page.status == 400 and message in page.text
    assert console().login("alice").status == 303  # unchanged


def test_changing_ones_password_ends_the_other_sessions_only(alice, console):
    other = console()
    other.login("alice")
    page = _change(alice)
    assert page.status == 303 and "Votre mot de passe est changé" in alice.follow(page).text
    assert other.get("/queue").status == 303  # logged out
    assert alice.get("/queue").status == 200  # still in
    assert console().login("alice").status == 401
    assert console().login("alice", NEW).status == 303


def test_password_forms_need_the_csrf_token(alice, admin, engine):
    assert _change(alice, csrf_token="forged").status == 403
    page = alice.post("/account/password", {"current_password": PASSWORD, "new_password": NEW,
                                            "new_password_again": NEW}, csrf=False)
    assert page.status == 403 and "Ce formulaire a expiré" in page.text
    page = admin.post(f"/admin/accounts/{_id(engine, 'alice')}/password", {"password": NEW, "csrf_token": "forged"})
    assert page.status == 403 and "Ce formulaire a expiré" in page.text
    assert alice.get("/queue").status == 200 and alice.login("alice", NEW).status == 401


def test_admin_resets_a_password_and_ends_its_sessions(alice, admin, console, engine):
    page = admin.get("/admin/accounts")
    assert "Réinitialiser le mot de passe" in page.text and f'action="/admin/accounts/{_id(engine, "alice")}/password"' in page.text
    page = admin.post(f"/admin/accounts/{_id(engine, 'alice')}/password", {"password": NEW})
    assert "Mot de passe réinitialisé" in admin.follow(page).text
    assert alice.get("/queue").status == 303
    assert console().login("alice").status == 401 and console().login("alice", NEW).status == 303
    assert admin.get("/queue").status == 200


def test_a_refused_reset_is_explained(admin, engine):
    page = admin.post(f"/admin/accounts/{_id(engine, 'alice')}/password", {"password": "court"})
    assert page.status == 400 and "entre 10 et 200 caractères" in page.text
    assert admin.post("/admin/accounts/999999/password", {"password": NEW}).status == 400
    assert admin.post("/admin/accounts/abc/password", {"password": NEW}).status == 400


def test_counsellors_cannot_reset_passwords(alice, engine):
    assert alice.post(f"/admin/accounts/{_id(engine, 'bruno')}/password", {"password": NEW}).status == 403


@pytest.mark.parametrize("username", ["alice", "personne"])
def test_five_failed_logins_lock_the_username_for_15_minutes(console, people, clock, username):
    browser = console()
    for _ in range(5):
        assert browser.login(username, "mauvais-mot-de-passe").status == 401
    page = browser.login(username)  # even the right password
    assert page.status == 429 and LOCKED in page.text and "n&#39;existe" not in page.text
    clock.moment += timedelta(minutes=15)
    assert browser.login(username).status == (303 if username == "alice" else 401)


def test_a_success_resets_the_username_and_failures_from_one_address_lock_it(console, people):
    browser = console()  # every browser here comes from 127.0.0.1
    for _ in range(4):
        browser.login("alice", "mauvais-mot-de-passe")
    assert browser.login("alice").status == 303  # alice's failures are forgotten
    for _ in range(4):
        assert browser.login("bruno", "mauvais-mot-de-passe").status == 401
    assert browser.login("personne", "mauvais-mot-de-passe").status == 401
    page = browser.login("bruno")  # five failures from this address in 15 minutes
    assert page.status == 429 and LOCKED in page.text


def test_wrong_current_passwords_lock_the_page_too(alice):
    for _ in range(5):
        assert _change(alice, "pas-le-bon-mot-de-passe").status == 400
    page = _change(alice)
    assert page.status == 429 and LOCKED in page.text


@pytest.mark.parametrize("trusted, address", [(False, "127.0.0.1"), (True, "198.51.100.4")])
def test_the_client_address_comes_from_a_trusted_proxy_only(trusted, address):
    app = {SETTINGS: Settings(console=ConsoleSettings(trust_forwarded_for=trusted))}
    request = make_mocked_request("POST", "/login", headers={"X-Forwarded-For": "203.0.113.9, 198.51.100.4"}, app=app)
    assert client_address(request.clone(remote="127.0.0.1")) == address


def test_the_first_admin_password_file_is_a_setting(tmp_path, monkeypatch, capsys):
    settings = load_settings({"ORIENTBOT_CONFIG": str(tmp_path / "none.yml"),
                              "ORIENTBOT_CONSOLE_ADMIN_PASSWORD_FILE": "var/ailleurs.txt"})
    assert settings.console.admin_password_file == PROJECT_ROOT / "var" / "ailleurs.txt"
    assert ConsoleSettings().admin_password_file == PROJECT_ROOT / "var" / "console-admin-password.txt"
    target = tmp_path / "secret" / "admin.txt"
    monkeypatch.setenv("ORIENTBOT_CONFIG", str(tmp_path / "none.yml"))
    monkeypatch.setenv("ORIENTBOT_DATABASE_URL", f"sqlite:///{tmp_path / 'console.db'}")
    monkeypatch.setenv("ORIENTBOT_CONSOLE_ADMIN_PASSWORD_FILE", str(target))
    monkeypatch.setattr(command.web, "run_app", lambda *args, **kwargs: None)
    command.main(["serve"])
    password = target.read_text(encoding="utf-8").strip()
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600 and f"{password}\n(aussi dans {target}" in capsys.readouterr().out
    engine = make_engine(f"sqlite:///{tmp_path / 'console.db'}")
    create_schema(engine)
    with session_scope(engine) as session:
        assert accounts.verify(session, username="admin", password=password) is not None
    assert command.ensure_first_admin(engine, password_file=target) is None  # once only
    engine.dispose()
