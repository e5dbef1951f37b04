"""The whole stack (trained bot, action server, console) and a headless Debian Chromium driven by Playwright.

No test tool downloads a browser: Playwright drives ``/usr/bin/chromium`` (``make test`` installs
Debian's ``chromium``).  The stack runs on free ports, on a copy of the database.
"""
import os
from pathlib import Path

import pytest

from orientbot.db import make_engine
from scripts.servers import MODEL, running_bot
from tests.conftest import stack_risk_model

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]
ROOT = Path(__file__).resolve().parents[2]


class Stack:
    def __init__(self, bot):
        self.bot = bot
        self.rasa_url = bot.url
        self.console_url = bot.console_url
        self.database_url = bot.database_url
        self.engine = make_engine(self.database_url)
        self.widget_demo_url = f"{bot.url}/webhooks/chat/widget/demo-ent.html"


@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing: `make test` trains it first (make train)")
    work = tmp_path_factory.mktemp("stack")
    with running_bot(work, with_console=True, risk_model=stack_risk_model(work)) as bot:
        served = Stack(bot)
        yield served
        served.engine.dispose()


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield launched
        launched.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="fr-FR", timezone_id="Europe/Paris", viewport={"width": 1280, "height": 800})
    opened = context.new_page()
    yield opened
    context.close()
