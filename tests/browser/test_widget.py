"""The ENT chat window (widget/orientbot-widget.js) in headless Chromium, against the real stack.

Every test opens the demo ENT page served by the bot (its own aggressive CSS, the one-line snippet) in a
fresh browser context, so each test is a new person with an empty sessionStorage and localStorage.  Counsellors' replies
are written through ``orientbot.workflow`` on the stack's database, as the console does.
"""
from __future__ import annotations

import json
import os
import re
import threading
import uuid
from contextlib import contextmanager
from datetime import datetime, time, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from time import monotonic
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

import orientbot
from orientbot import workflow
from orientbot.db import ChatMessage, Counsellor, Feedback, Ticket, session_scope
from orientbot.emergency import HOTLINES, RETIRED
from orientbot.office_hours import OfficeHours

pytestmark = pytest.mark.browser

ROOT = Path(orientbot.__file__).resolve().parents[1]
AXE = ROOT / "widget" / "node_modules" / "axe-core" / "axe.min.js"
DOCS = ROOT / "docs"
PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 800}
WAIT = 60_000  # ms: the first answers of a freshly started bot can be slow on 2 cores
PAGES = {"eleve": "demo-ent.html", "parent": "demo-ent-parents.html"}
LAUNCHER = {"eleve": "Une question d'orientation ?", "parent": "Une question sur l'orientation de votre enfant ?"}


# ---- helpers -------------------------------------------------------------------------------------------

@contextmanager
def person(browser, stack, audience="eleve", viewport=DESKTOP):
    """A fresh visitor on the demo ENT page, with the page's errors and dialogs recorded."""
    context = browser.new_context(locale="fr-FR", timezone_id="Europe/Paris", viewport=viewport)
    page = context.new_page()
    page.errors, page.dialogs = [], []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(f"{stack.rasa_url}/webhooks/chat/widget/{PAGES[audience]}")
    page.audience = audience
    try:
        yield page
    finally:
        context.close()


def launcher(page):
    return page.get_by_role("button", name=LAUNCHER[page.audience])


def open_chat(page):
    launcher(page).click()
    panel = page.get_by_role("dialog", name="Orientation")
    panel.wait_for()
    return panel


def box(page):
    return page.get_by_role("textbox", name=re.compile("^(Ta|Votre) question$"))


def ask(page, text):
    """Type a question, send it with Enter, wait until the bot's reply to it is shown."""
    before = page.locator(".msg.bot[data-id], .msg.system[data-id], .msg.counsellor[data-id]").count()
    box(page).fill(text)
    box(page).press("Enter")
    page.wait_for_function(
        """([before]) => {
             const root = document.querySelector('orientbot-chat').shadowRoot;
             return root.querySelectorAll('.msg.bot[data-id], .msg.system[data-id], .msg.counsellor[data-id]').length > before
                    && !root.querySelector('.msg.pending');
           }""",
        arg=[before], timeout=WAIT,
    )
    return page.locator(".msg.bot[data-id]").last


def stored(page):
    """What the window keeps for the browser session (sessionStorage: never localStorage by default)."""
    return page.evaluate(f"JSON.parse(sessionStorage.getItem('orientbot:{page.audience}'))")


def sender_of(page):
    return stored(page)["sender"]


def answers(page):
    """The bot messages that carry a KB answer (they have sources and 👍/👎)."""
    return page.locator(".msg.bot[data-id]").filter(has=page.locator(".fb"))


@contextmanager
def office_hours(stack, hours: OfficeHours):
    """Open or close the service for one test, then put the previous hours back."""
    with session_scope(stack.engine) as session:
        previous = workflow.office_hours(session)
        workflow.save_office_hours(session, hours=hours)
    try:
        yield
    finally:
        with session_scope(stack.engine) as session:
            workflow.save_office_hours(session, hours=previous)


ALWAYS_OPEN = OfficeHours(weekly={day: (time(0, 0), time(23, 59)) for day in range(7)}, public_holidays=False,
                          closed_periods=())


def closed_today() -> OfficeHours:
    today = datetime.now(ZoneInfo("Europe/Paris")).date()
    return OfficeHours(public_holidays=False, closed_periods=((today, today + timedelta(days=1)),))


def open_ticket(stack, sender):
    with session_scope(stack.engine) as session:
        ticket = workflow.open_ticket_for(session, sender_id=sender)
        return ticket.id if ticket else None


def counsellor(stack) -> int:
    with session_scope(stack.engine) as session:
        row = Counsellor(username=f"widget-{uuid.uuid4().hex[:8]}", display_name="Mme Conseillère",
                         password_hash="x", role="counsellor")
        session.add(row)
        session.flush()
        return row.id


def counsellor_replies(stack, ticket_id, text):
    counsellor_id = counsellor(stack)
    now = datetime.now(timezone.utc)
    with session_scope(stack.engine) as session:
        workflow.take(session, ticket_id=ticket_id, counsellor_id=counsellor_id, now=now)
    with session_scope(stack.engine) as session:
        workflow.reply(session, ticket_id=ticket_id, counsellor_id=counsellor_id, text=text, now=now)
    return counsellor_id


def screenshot(page, name):
    """Into docs/ with ORIENTBOT_SCREENSHOTS=1 (how the README's pictures are made), else into /tmp."""
    target = DOCS if os.environ.get("ORIENTBOT_SCREENSHOTS") else Path(os.environ.get("TMPDIR", "/tmp"))
    page.screenshot(path=str(target / name))


def run_axe(page):
    """axe-core (widget/node_modules, from the npm registry) over the page, shadow root included."""
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run `npm ci` in widget/ (make test does)")
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        """() => axe.run(document, {runOnly: {type: 'tag',
                 values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice']}})"""
    )
    return [
        {"id": v["id"], "impact": v["impact"], "help": v["help"], "targets": [n["target"] for n in v["nodes"]][:5]}
        for v in result["violations"]
    ]


# ---- the conversation ----------------------------------------------------------------------------------

@pytest.mark.parametrize("audience, question, address, not_address", [
    ("eleve", "quand sont publiés les résultats d'affelnet ?", r"\b(tu|tes|ton|ta|toi)\b", r"\b(vous|votre|vos)\b"),
    ("parent", "Quand les résultats d'Affelnet sont-ils publiés ?", r"\b(vous|votre|vos)\b", r"\b(tu|tes|ton|toi)\b"),
])
def test_an_answer_comes_in_the_right_form_of_address_with_its_source_link(browser, stack, audience, question,
                                                                              address, not_address):
    with person(browser, stack, audience) as page:
        open_chat(page)
        placeholder = box(page).get_attribute("placeholder")
        assert placeholder == ("Écris ta question…" if audience == "eleve" else "Écrivez votre question…")
        ask(page, question)
        answer = answers(page).last
        text = answer.locator(".bubble").inner_text()
        assert "Affelnet" in text and re.search(address, text, re.I) and not re.search(not_address, text, re.I)
        assert page.get_by_role("log", name="Conversation").get_attribute("aria-live") == "polite"
        source = answer.locator(".sources a").first
        assert source.get_attribute("href").startswith("https://")
        assert source.get_attribute("rel") == "noopener noreferrer"
        # The audience travelled with the message: the stored message says who asked.
        with session_scope(stack.engine) as session:
            asked = session.execute(select(ChatMessage).where(
                ChatMessage.sender_id == sender_of(page), ChatMessage.author == "user")).scalars().one()
            assert asked.payload["audience"] == audience
        assert not page.errors


def test_did_you_mean_buttons_send_the_choice_and_show_its_title(browser, stack):
    with person(browser, stack) as page:
        open_chat(page)
        ask(page, "apprentissage")
        choices = page.get_by_role("group", name="Propositions").first
        assert page.get_by_text("Tu voulais dire", exact=False).first.is_visible()
        first = choices.get_by_role("button").first
        title = first.inner_text()
        first.click()
        page.locator(".msg.user[data-id]", has_text=title).wait_for(timeout=WAIT)
        page.wait_for_function(
            "() => document.querySelector('orientbot-chat').shadowRoot.querySelectorAll('.msg.user[data-id]').length === 2"
            " && !document.querySelector('orientbot-chat').shadowRoot.querySelector('.msg.pending')", timeout=WAIT)
        answers(page).first.wait_for(timeout=WAIT)  # the chosen question is answered, with its sources
        with session_scope(stack.engine) as session:
            texts = session.execute(select(ChatMessage.text).where(
                ChatMessage.sender_id == sender_of(page), ChatMessage.author == "user").order_by(ChatMessage.id)).scalars().all()
        assert texts == ["apprentissage", title]


def test_a_thumbs_down_is_stored_in_the_feedback_table(browser, stack):
    with person(browser, stack) as page:
        open_chat(page)
        ask(page, "cb de voeux sur parcoursup ?")
        answer = answers(page).last
        message_id = int(answer.get_attribute("data-id"))
        down = answer.get_by_role("button", name="Pas utile")
        down.click()
        answer.get_by_text("Merci pour ton avis !").wait_for()
        assert down.get_attribute("aria-pressed") == "true"
        with session_scope(stack.engine) as session:
            rows = session.execute(select(Feedback.value, Feedback.kb_id).where(Feedback.message_id == message_id)).all()
        assert len(rows) == 1 and rows[0][0] == -1 and rows[0][1]


# ---- handoff ---------------------------------------------------------------------------------------------

def test_a_counsellors_reply_arrives_live_marked_as_from_a_person(browser, stack):
    with office_hours(stack, ALWAYS_OPEN), person(browser, stack) as page:
        open_chat(page)
        page.get_by_role("button", name="Parler à un conseiller").click()
        status = page.locator(".bar [role=status]")
        status.filter(has_text=re.compile(r"Un conseiller va te répondre… \(")).wait_for(timeout=WAIT)
        ticket_id = open_ticket(stack, sender_of(page))
        assert ticket_id
        counsellor_id = counsellor_replies(stack, ticket_id, "Bonjour, je suis Mme Conseillère. Regarde https://www.onisep.fr/metiers")
        reply = page.locator(".msg.counsellor")
        reply.wait_for(timeout=35_000)  # long polling: no reload
        assert "Conseiller·ère d'orientation" in reply.locator(".who").inner_text()
        assert reply.locator("a").get_attribute("href") == "https://www.onisep.fr/metiers"
        status.filter(has_text="Un conseiller a rejoint la conversation").wait_for(timeout=35_000)
        screenshot(page, "widget-eleve-counsellor-desktop.png")
        # While the counsellor has the conversation, the person's messages go to them, not to the bot.
        box(page).fill("merci, je regarde")
        box(page).press("Enter")
        page.locator(".msg.user[data-id]", has_text="merci, je regarde").wait_for(timeout=WAIT)
        with session_scope(stack.engine) as session:
            workflow.close(session, ticket_id=ticket_id, counsellor_id=counsellor_id, now=datetime.now(timezone.utc))
        page.get_by_text("Le conseiller a rendu la main au bot.").wait_for(timeout=35_000)
        page.locator(".bar").wait_for(state="hidden", timeout=35_000)
        assert not page.errors


def test_in_the_evening_the_ticket_says_when_and_asks_how_to_answer(browser, stack):
    with office_hours(stack, closed_today()), person(browser, stack, "parent") as page:
        open_chat(page)
        page.get_by_role("button", name="Parler à un conseiller").click()
        status = page.locator(".bar [role=status]")
        status.filter(has_text="Demande transmise : réponse attendue").wait_for(timeout=WAIT)
        assert re.search(r"(lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche) \d+ \w+ à \d\d:\d\d", status.inner_text())
        form = page.get_by_role("group", name="Comment souhaitez-vous recevoir la réponse ?")
        form.get_by_label("Par e-mail").check()
        form.get_by_label("Votre adresse e-mail").fill("parent@example.org")
        form.get_by_role("button", name="Valider").click()
        form.get_by_role("alert").filter(has_text="accord").wait_for()  # no consent, no e-mail
        form.get_by_label(re.compile("J'accepte que mon adresse")).check()
        form.get_by_role("button", name="Valider").click()
        page.get_by_text("La réponse arrivera par e-mail.").wait_for()
        screenshot(page, "widget-parent-deferred-desktop.png")
        with session_scope(stack.engine) as session:
            ticket = session.get(Ticket, open_ticket(stack, sender_of(page)))
            assert (ticket.contact_channel, ticket.contact_email, ticket.contact_consent) == ("email", "parent@example.org", True)
        violations = [v for v in run_axe(page) if v["impact"] in ("serious", "critical")]
        assert not violations, json.dumps(violations, ensure_ascii=False, indent=1)


def test_distress_keeps_the_emergency_numbers_on_screen_until_a_counsellor_takes_over(browser, stack):
    with person(browser, stack, viewport=PHONE) as page:
        open_chat(page)
        ask(page, "jme fais harceler depuis la 6e et la jai plus envie de vivre")
        numbers = page.get_by_role("region", name="Numéros d'urgence")
        numbers.wait_for()
        screenshot(page, "widget-eleve-urgent-phone.png")
        for hotline in HOTLINES:  # the numbers of orientbot/emergency.py, and never a retired one
            link = numbers.get_by_role("link", name=hotline.number, exact=True)
            assert link.get_attribute("href") == "tel:" + hotline.number.replace(" ", "")
        for number in RETIRED:
            assert numbers.get_by_text(number).count() == 0
        page.reload()  # still there after a reload
        numbers.wait_for(timeout=WAIT)
        ticket_id = open_ticket(stack, sender_of(page))
        with session_scope(stack.engine) as session:
            assert session.get(Ticket, ticket_id).priority == "urgent"
        counsellor_replies(stack, ticket_id, "Je suis là. On peut en parler maintenant.")
        page.locator(".msg.counsellor").wait_for(timeout=35_000)
        numbers.wait_for(state="hidden", timeout=35_000)


# ---- persistence, safety, failures -----------------------------------------------------------------------

def test_nothing_is_stored_before_opening_and_the_conversation_survives_a_reload(browser, stack):
    with person(browser, stack, viewport=PHONE) as page:
        launcher(page).wait_for()
        assert page.evaluate("localStorage.length + sessionStorage.length") == 0
        assert page.evaluate("document.cookie") == ""
        open_chat(page)
        ask(page, "cb de voeux sur parcoursup ?")
        assert page.evaluate("localStorage.length") == 0  # the browser session only
        before = page.locator(".log .msg[data-id]").all_inner_texts()
        sender = sender_of(page)
        page.reload()
        page.get_by_role("dialog", name="Orientation").wait_for()  # it was open: it is open again
        page.locator(".log .msg[data-id]").nth(len(before) - 1).wait_for(timeout=WAIT)
        assert page.locator(".log .msg[data-id]").all_inner_texts() == before
        assert sender_of(page) == sender and stored(page)["lastId"] >= 1
        assert page.evaluate("document.cookie") == ""
        # A phone waking up, many times: each resyncs, nothing is duplicated, and the abandoned long polls
        # do not eat the browser's 6 connections to the bot (the next message still goes through).
        for _ in range(8):
            page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
            page.wait_for_timeout(150)
        page.wait_for_timeout(500)
        assert page.locator(".log .msg[data-id]").all_inner_texts() == before
        started = monotonic()
        ask(page, "c'est quoi la cvec ?")
        assert monotonic() - started < 10, "the message waited for a free connection"


def test_on_a_shared_computer_the_next_person_does_not_see_the_previous_conversation(browser, stack):
    """Pupil A leaves the ENT tab; pupil B opens the ENT on the same computer: a new tab of the same browser
    profile, or a new browser session. Neither shows A's conversation, nor reopens the window."""
    context = browser.new_context(locale="fr-FR", timezone_id="Europe/Paris", viewport=DESKTOP)
    try:
        first = context.new_page()
        first.audience = "eleve"
        first.goto(f"{stack.rasa_url}/webhooks/chat/widget/demo-ent.html")
        # A conversation the version before this one left in localStorage, for ever: it is not reopened.
        first.evaluate("localStorage.setItem('orientbot:eleve', JSON.stringify({sender: 'w-ancien0000', lastId: 3,"
                       " outbox: [], votes: {}, open: true}))")
        first.reload()
        launcher(first).wait_for()
        assert first.get_by_role("dialog").count() == 0
        assert first.evaluate("localStorage.getItem('orientbot:eleve')") is None
        open_chat(first)
        ask(first, "cb de voeux sur parcoursup ?")
        secret = sender_of(first)
        assert first.evaluate("localStorage.length") == 0
        first.close()
        other = browser.new_context(locale="fr-FR", timezone_id="Europe/Paris", viewport=DESKTOP)
        # The next pupil: a new tab of the same browser profile, then a new browser session.
        for next_person in (context.new_page(), other.new_page()):
            next_person.audience = "eleve"
            next_person.goto(f"{stack.rasa_url}/webhooks/chat/widget/demo-ent.html")
            launcher(next_person).wait_for()
            next_person.wait_for_timeout(500)
            assert next_person.get_by_role("dialog").count() == 0  # not reopened by itself
            open_chat(next_person)
            next_person.wait_for_timeout(1000)
            assert next_person.locator(".msg.user").count() == 0
            assert "voeux" not in next_person.locator(".log").inner_text()
            assert sender_of(next_person) != secret
        other.close()
    finally:
        context.close()


def test_the_token_travels_in_a_header_never_in_a_url_and_another_person_cannot_read(browser, stack):
    with person(browser, stack) as page:
        calls = []
        page.on("request", lambda request: calls.append((request.url, request.headers.get("x-orientbot-token"))))
        open_chat(page)
        ask(page, "cb de voeux sur parcoursup ?")
        token = stored(page)["token"]
        chat_calls = [(url, header) for url, header in calls if "/webhooks/chat/" in url and "/widget/" not in url]
        assert token and all(token not in url for url, _ in calls)
        assert all(header == token for url, header in chat_calls if "/start" not in url), chat_calls
        sender = sender_of(page)
        # Someone who learnt the conversation's id (a URL in a proxy's log) but not its token: refused, in French.
        refused = page.evaluate("""async ([api, sender]) => {
            const res = await fetch(api + '/history?sender=' + sender);
            return [res.status, (await res.json()).error]; }""", [f"{stack.rasa_url}/webhooks/chat", sender])
        assert refused[0] == 403 and refused[1].startswith("Accès refusé")


def test_a_refused_token_starts_a_new_conversation_and_keeps_the_unsent_message(browser, stack):
    """403 (the server's key changed, or a forged token): the window starts afresh instead of failing."""
    with person(browser, stack) as page:
        page.evaluate("""sessionStorage.setItem('orientbot:eleve', JSON.stringify({sender: 'w-0123456789abcdef',
            token: 'jeton-faux', lastId: 0, votes: {}, open: true,
            outbox: [{client_id: 'm-1', text: 'cb de voeux sur parcoursup ?', display: 'cb de voeux sur parcoursup ?'}]}))""")
        page.reload()
        page.get_by_role("dialog", name="Orientation").wait_for()
        answers(page).first.wait_for(timeout=WAIT)  # the waiting message went, in the new conversation
        assert sender_of(page) != "w-0123456789abcdef" and stored(page)["token"] != "jeton-faux"
        assert stored(page)["outbox"] == [] and not page.errors


def test_keep_minutes_keeps_the_conversation_a_while_but_never_reopens_it_in_a_new_session(browser, stack):
    page_html = f"""<!doctype html><html lang="fr"><head><title>ENT</title></head><body><h1>ENT</h1>
        <script src="{stack.rasa_url}/webhooks/chat/widget/orientbot-widget.js" data-keep-minutes="10"
                data-audience="eleve"></script></body></html>"""
    context = browser.new_context(locale="fr-FR", viewport=DESKTOP)
    try:
        first = context.new_page()
        first.audience = "eleve"
        first.route("**/ent-keep.html", lambda route: route.fulfill(content_type="text/html", body=page_html))
        first.goto(f"{stack.rasa_url}/webhooks/chat/ent-keep.html")
        open_chat(first)
        ask(first, "cb de voeux sur parcoursup ?")
        kept = first.evaluate("JSON.parse(localStorage.getItem('orientbot:eleve'))")
        assert kept["sender"] and kept["expires"] > first.evaluate("Date.now()") + 9 * 60_000
        first.close()
        second = context.new_page()  # a new tab: a new session for the window
        second.audience = "eleve"
        second.route("**/ent-keep.html", lambda route: route.fulfill(content_type="text/html", body=page_html))
        second.goto(f"{stack.rasa_url}/webhooks/chat/ent-keep.html")
        launcher(second).wait_for()
        second.wait_for_timeout(500)
        assert second.get_by_role("dialog").count() == 0  # kept, but not reopened by itself
        # Past its expiry, it is gone.
        second.evaluate("""(() => { const v = JSON.parse(localStorage.getItem('orientbot:eleve'));
            v.expires = Date.now() - 1; localStorage.setItem('orientbot:eleve', JSON.stringify(v)); })()""")
        second.reload()
        open_chat(second)
        second.wait_for_timeout(1000)
        assert second.locator(".msg.user").count() == 0
    finally:
        context.close()


def test_too_many_messages_get_a_kind_notice_and_the_message_leaves_later(browser, stack):
    with person(browser, stack) as page:
        open_chat(page)
        message = re.compile(r"/webhooks/chat/message$")
        page.route(message, lambda route: route.fulfill(status=429, content_type="application/json", headers={
            "Retry-After": "2"}, body=json.dumps({"error": "Beaucoup de messages en peu de temps.", "retry_after": 2})))
        box(page).fill("cb de voeux sur parcoursup ?")
        box(page).press("Enter")
        page.get_by_text("Tu envoies beaucoup de messages en peu de temps").wait_for()
        assert page.get_by_role("alert").filter(has_text="Le service ne répond pas").count() == 0
        assert [item["text"] for item in stored(page)["outbox"]] == ["cb de voeux sur parcoursup ?"]
        page.unroute(message)
        answers(page).first.wait_for(timeout=WAIT)  # sent by itself once the wait is over
        assert stored(page)["outbox"] == [] and page.locator(".msg.user[data-id]").count() == 1


def test_html_in_a_message_is_shown_as_text_and_never_run(browser, stack):
    with person(browser, stack) as page:
        open_chat(page)
        attack = "<img src=x onerror=alert(1)>"
        ask(page, attack)
        mine = page.locator(".msg.user[data-id] .bubble").last
        assert mine.inner_text() == attack
        assert page.evaluate("document.querySelector('orientbot-chat').shadowRoot.querySelectorAll('.log img').length") == 0
        page.wait_for_timeout(500)
        assert page.dialogs == [] and not page.errors


def test_when_the_bot_is_unreachable_the_window_says_so_and_keeps_the_message(browser, stack):
    with person(browser, stack) as page:
        open_chat(page)
        api = re.compile(r"/webhooks/chat/(message|history|events)")
        page.context.route(api, lambda route: route.abort())
        box(page).fill("cb de voeux sur parcoursup ?")
        box(page).press("Enter")
        alert = page.get_by_role("alert").filter(has_text="Le service ne répond pas")
        alert.wait_for(timeout=WAIT)
        for way in ("psy-EN", "CIO", "3114"):
            assert way in alert.inner_text()
        page.get_by_text("En attente d'envoi…").wait_for()
        assert [m["text"] for m in stored(page)["outbox"]] == ["cb de voeux sur parcoursup ?"]
        page.reload()  # the message typed meanwhile survives a reload too
        page.get_by_text("En attente d'envoi…").wait_for()
        page.context.unroute(api)
        page.evaluate("window.dispatchEvent(new Event('online'))")
        answers(page).first.wait_for(timeout=WAIT)
        alert.wait_for(state="hidden")
        assert stored(page)["outbox"] == [] and page.locator(".msg.pending").count() == 0
        assert page.locator(".msg.user[data-id]").count() == 1  # sent once


def test_a_stored_but_unanswered_message_is_answered_later_and_a_refused_one_is_explained(browser, stack):
    """503 {stored: true} (the bot failed after storing the message) and 400 (refused), as the channel says them."""
    with person(browser, stack) as page:
        open_chat(page)
        message = re.compile(r"/webhooks/chat/message$")

        def bot_down(route):
            # What the channel answers when Rasa fails after storing the message (faked here).
            body = json.loads(route.request.post_data)
            route.fulfill(status=503, content_type="application/json", body=json.dumps({
                "error": "Le bot n'a pas pu répondre.", "stored": True,
                "messages": [{"id": 10**9, "author": "user", "text": body["text"], "payload": {}, "at": None}]}))

        page.route(message, bot_down)
        box(page).fill("cb de voeux sur parcoursup ?")
        box(page).press("Enter")
        note = page.locator(".msg.system").filter(has_text="Ton message est bien enregistré")
        note.wait_for()
        assert "psy-EN" in note.inner_text() and "3114" in note.inner_text()
        assert page.locator(".msg.pending").count() == 0
        assert [item["stored"] for item in stored(page)["outbox"]] == [True]  # kept, to be answered later
        page.unroute(message)
        page.evaluate("window.dispatchEvent(new Event('online'))")
        answers(page).first.wait_for(timeout=WAIT)
        assert stored(page)["outbox"] == []

        page.route(message, lambda route: route.fulfill(status=400, content_type="application/json", body=json.dumps(
            {"error": "Le message est trop long : peux-tu le raccourcir ?"})))
        box(page).fill("une autre")
        box(page).press("Enter")
        page.get_by_text("Message non envoyé : Le message est trop long : peux-tu le raccourcir ?").wait_for()
        assert stored(page)["outbox"] == []  # refused for good: not retried forever


# ---- keyboard and accessibility ----------------------------------------------------------------------------

def focused(page):
    """What has the focus, looking inside the widget's shadow root."""
    return page.evaluate("""() => {
        let el = document.activeElement;
        while (el && el.shadowRoot && el.shadowRoot.activeElement) el = el.shadowRoot.activeElement;
        const style = getComputedStyle(el);
        return {tag: el.tagName, text: (el.getAttribute('aria-label') || el.textContent || '').trim(),
                placeholder: el.getAttribute('placeholder'), outline: style.outlineStyle + ' ' + style.outlineWidth,
                shadow: style.boxShadow};
    }""")


def tab_to(page, predicate, key="Tab", limit=40):
    for _ in range(limit):
        page.keyboard.press(key)
        now = focused(page)
        if predicate(now):
            return now
    raise AssertionError(f"never reached with {key}: last focus {now}")


def test_a_whole_conversation_with_the_keyboard_only(browser, stack):
    with person(browser, stack) as page:
        # From the top of the ENT page, Tab reaches the launcher; its focus is visible.
        found = tab_to(page, lambda f: f["text"].startswith("Une question d'orientation"))
        assert found["outline"] != "none 0px"
        page.keyboard.press("Enter")
        assert focused(page)["placeholder"] == "Écris ta question…"  # the focus goes into the window
        page.keyboard.type("cb de voeux sur parcoursup ?")
        page.keyboard.press("Enter")
        answers(page).first.wait_for(timeout=WAIT)
        # Back through the conversation to the 👎 of the answer, and press it with the keyboard.
        found = tab_to(page, lambda f: f["text"] == "Pas utile", key="Shift+Tab")
        assert found["outline"] != "none 0px"
        page.keyboard.press("Space")
        page.get_by_text("Merci pour ton avis !").wait_for()
        # Forward to the source link, the counsellor button, the text box, then the erase button.
        tab_to(page, lambda f: f["text"] == "Parler à un conseiller")
        tab_to(page, lambda f: f["placeholder"] == "Écris ta question…")
        tab_to(page, lambda f: f["text"] == "Effacer la conversation")
        page.keyboard.press("Enter")
        assert focused(page)["text"] == "Annuler"  # the confirmation takes the focus, safe choice first
        # Before confirming, the person is told what is deleted, what the counsellors keep, and why.
        warning = page.get_by_role("alertdialog").inner_text()
        assert "supprimés du serveur" in warning and "garde seulement la date, le motif et le thème" in warning
        assert "sans tes messages" in warning and "combien de demandes" in warning
        page.keyboard.press("Escape")
        assert focused(page)["text"] == "Effacer la conversation"
        # Escape closes the window and gives the focus back to the launcher; Enter reopens it.
        page.keyboard.press("Escape")
        assert page.get_by_role("dialog").count() == 0
        assert focused(page)["text"].startswith("Une question d'orientation")
        page.keyboard.press("Enter")
        assert answers(page).count() == 1
        # A "did you mean" choice, from the keyboard: back from the text box to the first candidate.
        page.keyboard.type("apprentissage")
        page.keyboard.press("Enter")
        page.get_by_role("group", name="Propositions").first.wait_for(timeout=WAIT)
        candidate = page.get_by_role("group", name="Propositions").first.get_by_role("button").first.inner_text()
        tab_to(page, lambda f: f["text"] == candidate, key="Shift+Tab")
        page.keyboard.press("Enter")
        page.locator(".msg.user[data-id]", has_text=candidate).wait_for(timeout=WAIT)
        assert focused(page)["tag"] == "BUTTON"  # the focus stays where it was, not lost to <body>
        tab_to(page, lambda f: f["placeholder"] == "Écris ta question…")
        # Erase, confirmed from the keyboard: a new conversation, the old one hidden on the server.
        old_sender = sender_of(page)
        tab_to(page, lambda f: f["text"] == "Effacer la conversation")
        page.keyboard.press("Enter")
        page.keyboard.press("Shift+Tab")
        assert focused(page)["text"] == "Oui, effacer"
        page.keyboard.press("Enter")
        page.get_by_text("Conversation effacée.").wait_for()
        assert page.locator(".msg[data-id]").count() == 0 and sender_of(page) != old_sender
        with session_scope(stack.engine) as session:
            left = session.execute(select(ChatMessage).where(ChatMessage.sender_id == old_sender)).all()
            assert left == []  # deleted, not hidden
            assert session.execute(select(Feedback).where(Feedback.sender_id == old_sender)).all() == []


@pytest.mark.parametrize("audience", ["eleve", "parent"])
@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_no_serious_accessibility_violation_and_screenshots(browser, stack, audience, viewport):
    """axe-core over the demo page with a conversation showing an answer and "did you mean" buttons."""
    with person(browser, stack, audience, viewport) as page:
        launcher(page).wait_for()
        closed = [v for v in run_axe(page) if v["impact"] in ("serious", "critical")]
        assert not closed, json.dumps(closed, ensure_ascii=False, indent=1)
        open_chat(page)
        ask(page, "cb de voeux sur parcoursup ?" if audience == "eleve" else "Combien de vœux peut-on faire au maximum sur Parcoursup pour notre fille ?")
        ask(page, "apprentissage")
        page.get_by_role("group", name="Propositions").first.wait_for()
        violations = run_axe(page)
        print(f"axe {audience} {viewport['width']}px:", json.dumps(violations, ensure_ascii=False))
        serious = [v for v in violations if v["impact"] in ("serious", "critical")]
        assert not serious, json.dumps(serious, ensure_ascii=False, indent=1)
        # Full screen on a phone, a panel on a desktop.
        size = page.get_by_role("dialog").bounding_box()
        if viewport is PHONE:
            assert size["width"] == 360 and size["height"] == 740
        else:
            assert size["width"] <= 420
        screenshot(page, f"widget-{audience}-{'phone' if viewport is PHONE else 'desktop'}.png")


def test_a_reply_while_the_window_is_closed_shows_on_the_launcher(browser, stack):
    with office_hours(stack, ALWAYS_OPEN), person(browser, stack) as page:
        open_chat(page)
        page.get_by_role("button", name="Parler à un conseiller").click()
        page.locator(".bar [role=status]").filter(has_text="Un conseiller va te répondre").wait_for(timeout=WAIT)
        page.keyboard.press("Escape")
        counsellor_replies(stack, open_ticket(stack, sender_of(page)), "Bonjour, je suis là.")
        page.get_by_role("button", name=re.compile(r"Une question d'orientation \? \(1 nouveau message\)")).wait_for(timeout=35_000)
        launcher(page).click()
        assert page.locator(".msg.counsellor").is_visible()
        assert page.get_by_role("button", name=LAUNCHER["eleve"], exact=True).count() == 1  # badge cleared


def test_reduced_motion_stops_the_typing_animation(browser, stack):
    context = browser.new_context(viewport=DESKTOP, reduced_motion="reduce")
    page = context.new_page()
    try:
        page.goto(f"{stack.rasa_url}/webhooks/chat/widget/demo-ent.html")
        page.get_by_role("button", name=LAUNCHER["eleve"]).click()
        name = page.locator(".dots span").first.evaluate("s => getComputedStyle(s).animationName")
        assert name == "none"
    finally:
        context.close()


@pytest.mark.parametrize("width, height", [(640, 400), (320, 568)], ids=["zoom-200", "reflow-320"])
def test_zoom_200_percent_and_320_px_keep_everything_reachable(browser, stack, width, height):
    """1280 × 800 at 200 % is a 640 × 400 CSS-pixel viewport; WCAG reflow is 320 px: full screen, nothing cut off."""
    with person(browser, stack, viewport={"width": width, "height": height}) as page:
        open_chat(page)
        ask(page, "cb de voeux sur parcoursup ?")
        size = page.get_by_role("dialog").bounding_box()
        assert size["width"] == width and size["height"] == height
        for name in ("Envoyer", "Parler à un conseiller", "Effacer la conversation", "Fermer la fenêtre de discussion"):
            button = page.get_by_role("button", name=name)
            assert button.is_visible()
            box_ = button.bounding_box()
            assert 0 <= box_["x"] and box_["x"] + box_["width"] <= width and box_["y"] + box_["height"] <= height
        # no horizontal scrolling inside the window
        assert page.evaluate("(() => { const l = document.querySelector('orientbot-chat').shadowRoot.querySelector('.log');"
                             " return l.scrollWidth <= l.clientWidth; })()")


def test_the_host_page_css_does_not_leak_in_and_the_widget_does_not_leak_out(browser, stack):
    with person(browser, stack) as page:
        page_button = page.get_by_role("button", name="Bouton de l'ENT")
        before = page_button.evaluate("b => getComputedStyle(b).backgroundColor")
        open_chat(page)
        send = page.get_by_role("button", name="Envoyer")
        # The ENT restyles every button magenta, uppercase, 22 px: not ours.
        style = send.evaluate("b => { const s = getComputedStyle(b); return [s.backgroundColor, s.textTransform, s.fontSize]; }")
        assert style == ["rgb(29, 78, 216)", "none", "16px"]
        assert page_button.evaluate("b => getComputedStyle(b).backgroundColor") == before == "rgb(122, 11, 63)"
        assert page.evaluate("document.styleSheets.length") == 1  # no stylesheet added to the page
        # The only things the widget added to the page: its host element (and its shadow root).
        assert page.evaluate("[...document.body.children].filter(e => e.tagName.includes('-')).map(e => e.tagName)") == ["ORIENTBOT-CHAT"]


@contextmanager
def another_site(html: str):
    """A page on another origin than the bot (another port), as an ENT is: a tiny http.server in a thread."""
    body = html.encode()

    class Page(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


def test_the_snippet_works_cross_origin_in_another_sites_page_with_no_third_party_request(browser, stack):
    snippet = (f'<script src="{stack.rasa_url}/webhooks/chat/widget/orientbot-widget.js" defer '
               f'data-bot-url="{stack.rasa_url}" data-audience="parent" data-school="Lycée Jean Jaurès" '
               f'data-color="#1d4ed8"></script>')
    html = f'<!doctype html><html lang="fr"><head><title>ENT</title></head><body><main><h1>ENT</h1></main>{snippet}</body></html>'
    with another_site(html) as ent:
        context = browser.new_context(viewport=PHONE)
        page = context.new_page()
        requests = []
        page.on("request", lambda request: requests.append(request.url))
        try:
            page.goto(f"{ent}/accueil")
            page.audience = "parent"
            open_chat(page)
            ask(page, "Quand les résultats d'Affelnet sont-ils publiés ?")
            assert answers(page).last.locator(".sources a").count() >= 1
            assert page.evaluate("document.cookie") == ""
            strangers = [url for url in requests if not url.startswith((ent, stack.rasa_url))]
            assert strangers == []
        finally:
            context.close()


def test_a_low_contrast_accent_colour_is_darkened_to_aa(browser, stack):
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    try:
        page.goto(f"{stack.rasa_url}/webhooks/chat/")  # an origin the bot serves, for the script's default URL
        page.set_content(f"""<!doctype html><html lang="fr"><body><h1>Test</h1>
            <script src="{stack.rasa_url}/webhooks/chat/widget/orientbot-widget.js" data-color="#ffd400"
                    data-audience="eleve"></script></body></html>""")
        page.get_by_role("button", name=LAUNCHER["eleve"]).wait_for()
        colour = page.get_by_role("button", name=LAUNCHER["eleve"]).evaluate("b => getComputedStyle(b).backgroundColor")
        r, g, b = (int(x) for x in re.findall(r"\d+", colour)[:3])

        def channel(v):
            v /= 255
            return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4

        luminance = 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)
        assert 1.05 / (luminance + 0.05) >= 4.5
    finally:
        context.close()
