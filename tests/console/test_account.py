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
    for number in range(accounts.MAX_ADDRESS_FAILURES - 1):
        assert browser.login(f"essai{number}", "mauvais-mot-de-passe").status == 401
    assert browser.login("personne", "mauvais-mot-de-passe").status == 401
    page = browser.login("bruno")  # twenty failures from this address in 15 minutes
    assert page.status == 429 and LOCKED in page.text


FORWARDED = Settings(console=ConsoleSettings(trust_forwarded_for=True))


@pytest.mark.parametrize("console_settings", [FORWARDED])
def test_guessing_admin_from_elsewhere_does_not_lock_the_real_admin_out(console, people):
    """Issue 11: five wrong passwords for a known name used to lock that account for everyone."""
    for number in range(3):  # three attackers' addresses, five failures each
        attacker = console(address=f"203.0.113.{number}")
        for _ in range(5):
            assert attacker.login("chef", "mauvais-mot-de-passe").status == 401
        page = attacker.login("chef")
        assert page.status == 429 and LOCKED in page.text
    assert console(address="198.51.100.4").login("chef").status == 303


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


@pytest.fixture
def umask():
    """``console serve`` sets the process's umask to 077: put the test process's back afterwards."""
    before = os.umask(0o022)
    os.umask(before)
    yield
    os.umask(before)


def _serve(tmp_path, monkeypatch, *argv, **environ):
    monkeypatch.setenv("ORIENTBOT_CONFIG", str(tmp_path / "none.yml"))
    monkeypatch.setenv("ORIENTBOT_DATABASE_URL", f"sqlite:///{tmp_path / 'data' / 'console.db'}")
    for key, value in environ.items():
        monkeypatch.setenv(key, value)
    served = []
    monkeypatch.setattr(command.web, "run_app", lambda *args, **kwargs: served.append(kwargs))
    command.main(["serve", *argv])
    return served


def test_the_first_admin_password_file_is_a_setting_and_the_password_is_never_printed(tmp_path, monkeypatch, capsys,
                                                                                      umask):
    settings = load_settings({"ORIENTBOT_CONFIG": str(tmp_path / "none.yml"),
                              "ORIENTBOT_CONSOLE_ADMIN_PASSWORD_FILE": "var/ailleurs.txt"})
    assert settings.console.admin_password_file == PROJECT_ROOT / "var" / "ailleurs.txt"
    assert ConsoleSettings().admin_password_file == PROJECT_ROOT / "var" / "console-admin-password.txt"
    target = tmp_path / "secret" / "admin.txt"
    _serve(tmp_path, monkeypatch, ORIENTBOT_CONSOLE_ADMIN_PASSWORD_FILE=str(target))
    password = target.read_text(encoding="utf-8").strip()
    out = capsys.readouterr().out
    assert password not in out and f"mot de passe dans {target}" in out  # the output lands in var/log/console.log
    # Nobody else reads the password, the database, or opens their folders (umask 077).
    for path in (target, tmp_path / "data" / "console.db"):
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600, path
    for folder in (target.parent, tmp_path / "data"):
        assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700, folder
    engine = make_engine(f"sqlite:///{tmp_path / 'data' / 'console.db'}")
    create_schema(engine)
    with session_scope(engine) as session:
        admin = accounts.verify(session, username="admin", password=password)
        assert admin is not None and accounts.must_change_password(session, counsellor_id=admin.id)
    assert command.ensure_first_admin(engine, password_file=target) is None  # once only
    engine.dispose()


@pytest.mark.parametrize("host, environ, argv, serves", [
    ("127.0.0.1", {}, (), True),
    ("::1", {}, (), True),
    ("localhost", {}, (), True),
    ("0.0.0.0", {}, (), False),
    ("192.0.2.10", {}, (), False),
    ("0.0.0.0", {"ORIENTBOT_CONSOLE_SECURE_COOKIES": "1"}, (), True),
    ("0.0.0.0", {}, ("--allow-insecure-remote",), True),
    ("0.0.0.0", {"ORIENTBOT_CONSOLE_ALLOW_INSECURE_REMOTE": "1"}, (), True),
])
def test_the_console_refuses_a_public_address_without_https(tmp_path, monkeypatch, capsys, umask, host, environ, argv,
                                                            serves):
    monkeypatch.setenv("ORIENTBOT_CONSOLE_ADMIN_PASSWORD_FILE", str(tmp_path / "admin.txt"))
    if serves:
        assert _serve(tmp_path, monkeypatch, "--host", host, *argv, **environ)[0]["host"] == host
    else:
        with pytest.raises(SystemExit, match="HTTPS") as refused:
            _serve(tmp_path, monkeypatch, "--host", host, *argv, **environ)
        assert "en clair" in str(refused.value) and not (tmp_path / "admin.txt").exists()


def _first_admin(engine, tmp_path):
    password = command.ensure_first_admin(engine, password_file=tmp_path / "admin.txt")
    assert password
    return password


def test_the_first_admin_must_choose_a_password_before_anything_else(console, engine, tmp_path):
    password = _first_admin(engine, tmp_path)
    browser = console()
    page = browser.login("admin", password)
    assert page.status == 303 and page.location == "/account"
    page = browser.get("/account")
    assert page.status == 200 and "choisissez le vôtre pour accéder à la console" in page.text
    for path in ("/queue", "/dashboard", "/admin/accounts", "/tickets/x"):
        page = browser.get(path)
        assert page.status == 303 and page.location == "/account", path
    assert browser.get("/api/queue").status == 403
    assert browser.post("/admin/accounts", {"username": "pirate", "password": NEW, "role": "admin"}).location == "/account"
    page = _change(browser, password, password, password)
    assert page.status == 400 and "différent de l&#39;actuel" in page.text
    page = _change(browser, password)
    assert page.status == 303 and browser.get("/queue").status == 200 and browser.get("/api/queue").status == 200
    assert console().login("admin", NEW).location == "/queue"


def test_an_account_reset_or_made_by_an_admin_chooses_its_own_password(admin, console, engine):
    admin.post(f"/admin/accounts/{_id(engine, 'alice')}/password", {"password": NEW})
    alice = console()
    assert alice.login("alice", NEW).location == "/account" and alice.get("/queue").location == "/account"
    admin.post("/admin/accounts", {"username": "dora", "password": NEW, "role": "counsellor"})
    assert console().login("dora", NEW).location == "/account"


def test_the_session_cookie_ends_with_the_browser(console, people):
    cookie = console().login("alice").headers["Set-Cookie"]
    assert "orientbot_console=" in cookie and "max-age" not in cookie.lower() and "expires" not in cookie.lower()


def test_a_session_ends_after_30_minutes_idle_and_live_refreshes_do_not_count(console, people, clock):
    assert Settings().console.idle_minutes == 30
    browser = console()
    browser.login("alice")
    clock.moment += timedelta(minutes=25)
    assert browser.get("/queue").status == 200  # a page opened: 30 more minutes
    for _ in range(5):
        clock.moment += timedelta(minutes=5)
        assert browser.get("/api/queue").status == 200  # the queue refreshing itself
    clock.moment += timedelta(minutes=5, seconds=1)
    assert browser.get("/api/queue").status == 401
    assert browser.get("/queue").location.startswith("/login")


def test_a_busy_session_still_ends_after_its_hours(console, people, clock):
    browser = console()
    browser.login("alice")
    for _ in range(Settings().console.session_hours * 3 - 1):  # 9 h 40 min, a page every 20 minutes
        clock.moment += timedelta(minutes=20)
        assert browser.get("/queue").status == 200
    clock.moment += timedelta(minutes=19)
    assert browser.get("/queue").status == 200
    clock.moment += timedelta(minutes=1)  # 10 hours after the log-in
    assert browser.get("/queue").location.startswith("/login")
