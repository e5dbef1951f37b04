"""The console served by aiohttp's TestServer on the ``engine`` fixture's database, and small sync browsers."""
from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from datetime import datetime

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from console import create_app
from orientbot.db import session_scope
from orientbot.settings import Settings
from tests.factories import MONDAY_10H, PASSWORD, add_account

_CSRF = re.compile(r'<meta name="csrf-token" content="([^"]*)">')
_LOGIN_CSRF = re.compile(r'name="login_csrf" value="([^"]*)"')


class Clock:
    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment


@dataclass
class Page:
    status: int
    text: str
    headers: dict
    location: str

    def json(self):
        import json

        return json.loads(self.text)


class Browser:
    """One person's browser: its own cookies, and the page's CSRF token once logged in."""

    def __init__(self, server: TestServer, loop: asyncio.AbstractEventLoop, headers=None) -> None:
        self._server, self._loop = server, loop
        self._session = loop.run_until_complete(self._open(headers))
        self.csrf = ""

    async def _open(self, headers):
        return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True), headers=headers)

    def request(self, method: str, path: str, **kwargs) -> Page:
        async def go():
            async with self._session.request(method, self._server.make_url(path), allow_redirects=False, **kwargs) as r:
                return Page(r.status, await r.text(), dict(r.headers), r.headers.get("Location", ""))
        page = self._loop.run_until_complete(go())
        found = _CSRF.search(page.text)
        if found and found.group(1):
            self.csrf = found.group(1)
        return page

    def get(self, path: str, **kwargs) -> Page:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, data=None, *, csrf: bool = True, **kwargs) -> Page:
        data = dict(data or {})
        if csrf:
            data.setdefault("csrf_token", self.csrf)
        return self.request("POST", path, data=data, **kwargs)

    def follow(self, page: Page) -> Page:
        return self.get(page.location) if page.status in (302, 303) else page

    def login(self, username: str, password: str = PASSWORD) -> Page:
        form = self.get("/login")
        token = _LOGIN_CSRF.search(form.text).group(1)
        page = self.post("/login", {"username": username, "password": password, "login_csrf": token, "next": "/queue"},
                         csrf=False)
        if page.status == 303:
            self.get("/queue")
        return page

    def close(self) -> None:
        self._loop.run_until_complete(self._session.close())


@pytest.fixture
def clock():
    return Clock(MONDAY_10H)


@pytest.fixture
def console_settings():
    """The console's settings (a test may parametrize ``console_settings`` to change them)."""
    return Settings()


@pytest.fixture
def console(engine, clock, console_settings):
    """A function making logged-out browsers on one running console (``address``: sent as X-Forwarded-For, which
    counts with ``console.trust_forwarded_for`` only)."""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    server = TestServer(create_app(console_settings, engine=engine, now=clock))
    loop.run_until_complete(server.start_server())
    browsers = []

    def browser(address=None) -> Browser:
        browsers.append(Browser(server, loop, {"X-Forwarded-For": address} if address else None))
        return browsers[-1]

    yield browser
    for opened in browsers:
        opened.close()
    loop.run_until_complete(server.close())
    loop.close()
    asyncio.set_event_loop(None)


@pytest.fixture
def people(engine):
    """Two counsellors and an admin."""
    with session_scope(engine) as session:
        add_account(session, "alice", display_name="Alice Martin")
        add_account(session, "bruno", display_name="Bruno Petit")
        add_account(session, "chef", role="admin", display_name="Claire Admin")


@pytest.fixture
def alice(console, people):
    browser = console()
    assert browser.login("alice").status == 303
    return browser


@pytest.fixture
def admin(console, people):
    browser = console()
    assert browser.login("chef").status == 303
    return browser
