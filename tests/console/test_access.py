"""Log-in, sessions, CSRF and roles: nothing answers without them."""
import pytest

from orientbot.db import session_scope
from tests.factories import add_ticket

PAGES = ["/", "/queue", "/dashboard", "/tickets/x", "/tickets/x/propose", "/admin/accounts", "/admin/hours",
         "/admin/proposals", "/account"]
POSTS = ["/tickets/x/take", "/tickets/x/reply", "/tickets/x/dismiss", "/tickets/x/hand-back", "/tickets/x/reopen",
         "/tickets/x/propose", "/admin/accounts", "/admin/accounts/1", "/admin/hours", "/admin/proposals/1/approve",
         "/admin/proposals/1/reject", "/logout", "/admin/accounts/1/password", "/account/password"]


@pytest.mark.parametrize("path", PAGES)
def test_pages_redirect_to_login(console, path):
    page = console().get(path)
    assert page.status == 303 and page.location.startswith("/login?next=")


@pytest.mark.parametrize("path", POSTS)
def test_actions_redirect_to_login(console, path):
    page = console().post(path, {"text": "x"}, csrf=False)
    assert page.status == 303 and page.location.startswith("/login")


@pytest.mark.parametrize("path", ["/api/queue", "/api/tickets/x/transcript"])
def test_api_answers_401_json(console, path):
    page = console().get(path)
    assert page.status == 401 and "reconnectez-vous" in page.json()["error"]


def test_login_sets_a_strict_httponly_cookie_and_logout_ends_the_session(console, people):
    browser = console()
    page = browser.login("alice")
    assert page.status == 303 and page.location == "/queue"
    cookie = page.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Secure" not in cookie
    assert browser.get("/queue").status == 200
    assert browser.post("/logout").status == 303
    assert browser.get("/queue").status == 303


def test_wrong_password_is_refused_kindly(console, people):
    page = console().login("alice", "mauvais-mot-de-passe")
    assert page.status == 401 and "Identifiant ou mot de passe incorrect." in page.text


def test_login_without_its_form_token_is_refused(console, people):
    page = console().post("/login", {"username": "alice", "password": "mot-de-passe-solide"}, csrf=False)
    assert page.status == 400 and "La page de connexion a expiré" in page.text


def test_login_never_redirects_elsewhere(console, people):
    browser = console()
    browser.get("/login")
    token = browser.get("/login").text.split('name="login_csrf" value="')[1].split('"')[0]
    page = browser.post("/login", {"username": "alice", "password": "mot-de-passe-solide", "login_csrf": token,
                                   "next": "//evil.example/"}, csrf=False)
    assert page.location == "/queue"


def test_post_without_csrf_token_is_refused(alice, engine):
    with session_scope(engine) as session:
        ticket_id = add_ticket(session, question="aide").id
    page = alice.post(f"/tickets/{ticket_id}/take", {"csrf_token": "forged"})
    assert page.status == 403 and "Ce formulaire a expiré" in page.text
    assert alice.post(f"/tickets/{ticket_id}/take", csrf=False).status == 403
    # The same token works in the header fetch would use.
    assert alice.request("POST", f"/tickets/{ticket_id}/take", headers={"X-CSRF-Token": alice.csrf}).status == 303


@pytest.mark.parametrize("path", ["/admin/accounts", "/admin/hours", "/admin/proposals"])
def test_counsellors_do_not_see_admin_pages(alice, path):
    page = alice.get(path)
    assert page.status == 403 and "réservée aux administrateurs" in page.text
    assert alice.post(path, {"username": "pirate"}).status == 403


def test_admin_sees_admin_pages_and_counsellor_has_no_admin_links(alice, admin):
    for path in ("/admin/accounts", "/admin/hours", "/admin/proposals"):
        assert admin.get(path).status == 200
    assert "/admin/accounts" in admin.get("/queue").text
    assert "/admin/accounts" not in alice.get("/queue").text


def test_security_headers(alice):
    page = alice.get("/queue")
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert page.headers["X-Frame-Options"] == "DENY" and page.headers["Cache-Control"] == "no-store"
    assert page.headers["Content-Type"].startswith("text/html")


def test_static_files_are_served(console):
    browser = console()
    assert browser.get("/static/console.css").status == 200
    assert "data-live" in browser.get("/static/console.js").text


def test_a_too_large_log_in_gets_413_and_the_console_keeps_serving(console, people):
    browser = console()
    page = browser.post("/login", {"username": "alice", "password": "x" * 1_000_000}, csrf=False)
    assert page.status == 413 and "trop long" in page.text
    assert browser.login("alice").status == 303
