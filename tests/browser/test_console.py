"""The counsellors' console in headless Chromium, against the whole stack (bot, actions, console).

The people's messages go through the chat window's API of the running bot, so the tickets are the
bot's own; the counsellors' replies are read back from that same API.
"""
import json
import time
import urllib.request
import uuid
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.channels.guard import TOKEN_HEADER, token_for
from orientbot.db import KBEntry, Ticket, session_scope
from tests.factories import PASSWORD, add_account

pytestmark = pytest.mark.browser
DOCS = Path(__file__).resolve().parents[2] / "docs"
RUN = uuid.uuid4().hex[:6]
NEW_QUESTION = "Est-ce qu'un élève de 4e peut faire un stage d'observation chez un fleuriste pendant les vacances ?"


def _call(url, body=None, sender=None):
    data = json.dumps(body).encode() if body is not None else None
    sender = sender or (body or {}).get("sender")
    headers = {"Content-Type": "application/json", **({TOKEN_HEADER: token_for(sender)} if sender else {})}
    request = urllib.request.Request(url, data=data, headers=headers)
    with urllib.request.urlopen(request, timeout=60) as answer:
        return json.loads(answer.read().decode())


def say(stack, sender, text, audience="eleve"):
    return _call(f"{stack.rasa_url}/webhooks/chat/message", {"sender": sender, "text": text, "audience": audience})


def ticket_of(stack, sender):
    with session_scope(stack.engine) as session:
        return session.execute(select(Ticket).where(Ticket.sender_id == sender)
                               .order_by(Ticket.created_at.desc())).scalars().first()


@pytest.fixture(scope="module")
def staff(stack):
    names = {"counsellor": f"alice{RUN}", "other": f"bruno{RUN}", "admin": f"chef{RUN}"}
    with session_scope(stack.engine) as session:
        add_account(session, names["counsellor"], display_name="Alice Martin")
        add_account(session, names["other"], display_name="Bruno Petit")
        add_account(session, names["admin"], role="admin", display_name="Claire Admin")
    return names


@pytest.fixture(scope="module")
def tickets(stack):
    """A normal request first, then an urgent one: the urgent one must still come first."""
    senders = {"normal": f"normal-{RUN}-eleve", "urgent": f"urgent-{RUN}-eleve", "script": f"script-{RUN}-eleve"}
    say(stack, senders["normal"], "Je voudrais parler à un conseiller s'il vous plaît.")
    say(stack, senders["urgent"], "on se moque de moi tous les jours au self et dans le bus, jveux en finir")
    say(stack, senders["script"], "<script>alert('pirate')</script> je veux parler à un conseiller")
    found = {kind: ticket_of(stack, sender) for kind, sender in senders.items()}
    assert all(found.values()), found
    assert found["urgent"].priority == "urgent"
    return {kind: (ticket.id, senders[kind]) for kind, ticket in found.items()}


def log_in(page, stack, username):
    page.goto(f"{stack.console_url}/queue")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button:has-text('Se connecter')")
    page.wait_for_selector("h1:has-text(\"File d'attente\")")


def test_counsellor_takes_the_urgent_ticket_first_and_the_reply_reaches_the_person(page, stack, staff, tickets):
    log_in(page, stack, staff["counsellor"])
    rows = page.locator("tr.ticket").evaluate_all("rows => rows.map(r => r.dataset.ticket)")
    urgent, normal = tickets["urgent"][0], tickets["normal"][0]
    assert rows.index(urgent) < rows.index(normal)
    assert page.locator(f"tr[data-ticket='{urgent}'] .badge.urgent").inner_text() == "URGENT"

    page.click(f"tr[data-ticket='{normal}'] a")
    page.click("button:has-text('Prendre')")
    page.wait_for_selector("text=Vous suivez maintenant ce ticket.")
    page.fill("#reply-text", "Bonjour, je suis Alice, conseillère d'orientation. Dis-moi tout !")
    page.click("#reply button:has-text('Envoyer')")
    page.wait_for_selector("text=Votre réponse a été envoyée dans la conversation.")
    history = _call(f"{stack.rasa_url}/webhooks/chat/history?sender={tickets['normal'][1]}", sender=tickets['normal'][1])
    assert any(m.get("text") == "Bonjour, je suis Alice, conseillère d'orientation. Dis-moi tout !"
               for m in history["messages"])


def test_second_counsellor_cannot_take_a_taken_ticket(browser, stack, staff, tickets):
    first, second = browser.new_context(locale="fr-FR"), browser.new_context(locale="fr-FR")
    try:
        alice, bruno = first.new_page(), second.new_page()
        log_in(alice, stack, staff["counsellor"])
        log_in(bruno, stack, staff["other"])
        url = f"{stack.console_url}/tickets/{tickets['urgent'][0]}"
        alice.goto(url)
        bruno.goto(url)  # both see "Prendre"
        alice.click("button:has-text('Prendre')")
        alice.wait_for_selector("text=Vous suivez maintenant ce ticket.")
        bruno.click("button:has-text('Prendre')")
        assert "Ce ticket est déjà pris par Alice Martin." in bruno.locator("[role=alert]").inner_text()
    finally:
        first.close()
        second.close()


def test_a_script_in_a_message_shows_as_text(page, stack, staff, tickets):
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    log_in(page, stack, staff["counsellor"])
    assert "<script>alert('pirate')</script>" in page.locator(f"tr[data-ticket='{tickets['script'][0]}']").inner_text()
    page.goto(f"{stack.console_url}/tickets/{tickets['script'][0]}")
    assert "<script>alert('pirate')</script> je veux parler à un conseiller" in page.locator("#transcript").inner_text()
    page.wait_for_timeout(4500)  # one live refresh of the transcript
    assert "<script>alert('pirate')</script>" in page.locator("#transcript").inner_text()
    assert dialogs == []


def test_added_to_the_kb_and_approved_the_bot_answers_it(browser, stack, staff):
    sender = f"kb-{RUN}-parent"
    say(stack, sender, "Je souhaite parler à un conseiller, s'il vous plaît.", audience="parent")
    say(stack, sender, NEW_QUESTION, audience="parent")
    ticket_id = ticket_of(stack, sender).id
    answer = ("Oui : le stage d'observation se fait normalement en 3e, mais un élève de 4e peut découvrir un métier "
              "pendant les vacances avec une convention signée par le collège.")
    context = browser.new_context(locale="fr-FR")
    try:
        page = context.new_page()
        log_in(page, stack, staff["counsellor"])
        page.goto(f"{stack.console_url}/tickets/{ticket_id}")
        page.fill("#reply-text", answer)
        page.click("#reply button:has-text('Envoyer')")
        page.wait_for_selector("text=Votre réponse a été envoyée")
        page.click("text=Ajouter à la base de connaissances")
        page.check("input[name=target][value='']")
        page.fill("#title", "Stage d'observation en 4e pendant les vacances")
        page.fill("#questions", NEW_QUESTION)
        page.fill("#answer_eleve", answer.replace("un élève de 4e peut", "tu peux"))
        page.fill("#answer_parent", answer)
        page.click("button:has-text('Proposer')")
        page.wait_for_selector("text=attend la validation")
        page.click("button:has-text('Se déconnecter')")
        log_in(page, stack, staff["admin"])
        page.goto(f"{stack.console_url}/admin/proposals")
        page.locator("article.proposal", has_text="Stage d'observation en 4e").locator("button:has-text('Approuver')").click()
        page.wait_for_selector("text=Proposition approuvée")
    finally:
        context.close()
    with session_scope(stack.engine) as session:
        entry_id = session.execute(select(KBEntry.id).where(KBEntry.title == "Stage d'observation en 4e pendant les vacances")).scalar_one()
    deadline, kb_id = time.monotonic() + 30, None
    while time.monotonic() < deadline and kb_id != entry_id:
        time.sleep(2)
        replies = _call(f"{stack.rasa_url}/webhooks/rest/webhook",
                        {"sender": f"ask-{uuid.uuid4().hex[:8]}", "message": NEW_QUESTION, "metadata": {"audience": "parent"}})
        kb_id = next((r["custom"]["answer"]["kb_id"] for r in replies if (r.get("custom") or {}).get("answer")), None)
    assert kb_id == entry_id
