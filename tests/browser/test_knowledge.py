"""The knowledge pages in headless Chromium, against the whole stack: what counsellors change reaches the bot.

The entries are the stack's own (a copy of the built KB).  Each test takes entries no other browser test asks
about, and a question the bot answers outright with them before anything changes: one of the entry's own
wordings, asked through the REST channel.
"""
import json
import time
import urllib.request
import uuid
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from orientbot.db import KBEntry, KBProposal, session_scope
from orientbot.kb import load_entries
from orientbot.retrieval import Retriever
from tests.factories import PASSWORD, add_account

pytestmark = pytest.mark.browser
# Starts with a letter: six hex digits that happen to be all figures ("252227") are a number the proposals'
# anonymiser takes out, and the test then looked for words that were rightly not there.
RUN = "r" + uuid.uuid4().hex[:6]
# What the bot must answer from a change, at the latest. The action server looks for changes every 5 s and
# rebuilds its retriever in ~1.5 s: 4.5-5.4 s here on a quiet machine, over 10 s once with a 200,000-message
# pipeline benchmark on the other core (2026-12-05).
REACHES_THE_BOT_SECONDS = 20
# Questions the other browser tests ask (tests/browser/test_widget.py, test_console.py): their entries are left alone.
ASKED_ELSEWHERE = (
    "quand sont publiés les résultats d'affelnet ?", "Quand les résultats d'Affelnet sont-ils publiés ?",
    "apprentissage", "cb de voeux sur parcoursup ?", "c'est quoi la cvec ?",
    "Est-ce qu'un élève de 4e peut faire un stage d'observation chez un fleuriste pendant les vacances ?",
)
_taken = set()


def ask(stack, question, audience="eleve"):
    """The bot's replies over REST: (the texts, the KB entry it answered from or None)."""
    body = {"sender": f"kb-{RUN}-{uuid.uuid4().hex[:8]}", "message": question, "metadata": {"audience": audience}}
    request = urllib.request.Request(f"{stack.rasa_url}/webhooks/rest/webhook", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as answer:
        replies = json.loads(answer.read().decode())
    texts = [r["text"] for r in replies if r.get("text")]
    kb_id = next((r["custom"]["answer"]["kb_id"] for r in replies if (r.get("custom") or {}).get("answer")), None)
    return texts, kb_id


def until(check, seconds=REACHES_THE_BOT_SECONDS):
    """Ask again every second until ``check()`` is true; its last value."""
    deadline = time.monotonic() + seconds
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(1)


def fresh_entries(stack, count):
    """``count`` served entries nobody else asks about, each with a wording the bot answers outright from it."""
    with session_scope(stack.engine) as session:
        entries = load_entries(session)
    retriever = Retriever(entries)
    elsewhere = {m.kb_id for q in ASKED_ELSEWHERE for m in retriever.search(q, limit=5)}
    today = date.today()
    found = []
    for entry in sorted(entries, key=lambda e: -len(e.variants)):
        if entry.id in elsewhere or entry.id in _taken or (entry.valid_until and entry.valid_until < today):
            continue
        # The longest wordings first: short ones may be read as a bare topic and get "did you mean" buttons.
        for variant in sorted(entry.variants, key=lambda v: -len(v.text.split()))[:3]:
            if len(variant.text.split()) >= 4 and ask(stack, variant.text)[1] == entry.id:
                found.append((entry, variant.text))
                _taken.add(entry.id)
                break
        if len(found) == count:
            return found
    pytest.fail(f"only {len(found)} entries of the stack's KB are answered outright by one of their wordings")


@pytest.fixture(scope="module")
def staff(stack):
    names = {"counsellor": f"kbalice{RUN}", "admin": f"kbchef{RUN}"}
    with session_scope(stack.engine) as session:
        add_account(session, names["counsellor"], display_name="Alice Martin")
        add_account(session, names["admin"], role="admin", display_name="Claire Admin")
    return names


def log_in(page, stack, username):
    page.goto(f"{stack.console_url}/knowledge")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button:has-text('Se connecter')")
    page.wait_for_selector("h1:has-text('Base de connaissances')")


def edit_answer(page, stack, entry_id, answer_eleve, *, valid_until=None, button="Enregistrer"):
    page.goto(f"{stack.console_url}/knowledge/entries/{entry_id}")
    page.click("a:has-text('Modifier')")
    page.fill("#answer_eleve", answer_eleve)
    if valid_until is not None:
        page.fill("#valid_until", valid_until)
    page.click(f"button:has-text('{button}')")


def test_an_admin_edit_reaches_the_bot_within_seconds_and_shows_in_the_history(page, stack, staff):
    [(entry, question)] = fresh_entries(stack, 1)
    new_answer = f"Réponse relue par l'équipe ({RUN}) : regarde le calendrier de ton établissement et demande conseil au CIO."
    log_in(page, stack, staff["admin"])
    page.goto(f"{stack.console_url}/knowledge?q={entry.id}")
    page.click(f"tr[data-entry='{entry.id}'] a")
    page.wait_for_selector("#answers-title")
    edit_answer(page, stack, entry.id, new_answer)
    page.wait_for_selector("text=Modification enregistrée")
    texts = until(lambda: [t for t in ask(stack, question)[0] if new_answer in t])
    assert texts, f"the bot still gives the old answer {REACHES_THE_BOT_SECONDS} s after the change"
    history = page.locator("#history")
    assert "Modification" in history.inner_text() and "Claire Admin" in history.inner_text()
    assert new_answer in history.inner_text() and entry.answer_eleve[:40] in history.inner_text()


def test_a_merge_answers_both_entries_questions_with_the_kept_answer(page, stack, staff):
    (kept, kept_question), (duplicate, duplicate_question) = fresh_entries(stack, 2)
    log_in(page, stack, staff["admin"])
    page.goto(f"{stack.console_url}/knowledge/entries/{kept.id}")
    page.select_option("#duplicate", duplicate.id)
    page.click("button:has-text('Fusionner')")
    page.wait_for_selector("text=Doublon fusionné")
    assert duplicate_question in page.locator(".kb-questions").inner_text()

    def answered_by_kept():
        texts, kb_id = ask(stack, duplicate_question)
        return kb_id == kept.id and any(kept.answer_eleve in t for t in texts)

    assert until(answered_by_kept), "the duplicate's question is not answered with the kept entry's answer"
    texts, kb_id = ask(stack, kept_question)
    assert kb_id == kept.id and any(kept.answer_eleve in t for t in texts)
    page.goto(f"{stack.console_url}/knowledge/entries/{duplicate.id}")
    assert "a été fusionnée dans" in page.locator("main").inner_text()


def test_an_entry_past_its_validity_is_not_served_as_is(page, stack, staff):
    [(entry, question)] = fresh_entries(stack, 1)
    # A dated sentence (the campaign's year) and a general rule: past its validity, only the rule may be said.
    dated = f"Pour la campagne 2025, les inscriptions ferment le 12 mars ({RUN})."
    dated_answer = f"{dated} Pense à compléter ton dossier à temps."
    log_in(page, stack, staff["admin"])
    edit_answer(page, stack, entry.id, dated_answer)
    page.wait_for_selector("text=Modification enregistrée")
    assert until(lambda: any(dated in t for t in ask(stack, question)[0])), "the new answer never reached the bot"
    edit_answer(page, stack, entry.id, dated_answer, valid_until=(date.today() - timedelta(days=1)).isoformat())
    page.wait_for_selector("text=Modification enregistrée")
    assert "date de validité est dépassée" in page.locator("main").inner_text()
    assert until(lambda: not any(f"({RUN})" in t for t in ask(stack, question)[0])), \
        "the bot still serves the dated answer past its validity"
    assert not any(f"({RUN})" in t for t in ask(stack, question)[0])


def test_a_counsellor_proposes_and_cannot_approve_an_admin_does(browser, stack, staff):
    [(entry, question)] = fresh_entries(stack, 1)
    proposed = f"Réponse proposée par une conseillère ({RUN}) : le CIO t'aide à préparer ce dossier."
    counsellor_context, admin_context = browser.new_context(locale="fr-FR"), browser.new_context(locale="fr-FR")
    try:
        counsellor = counsellor_context.new_page()
        log_in(counsellor, stack, staff["counsellor"])
        edit_answer(counsellor, stack, entry.id, proposed, button="Proposer la modification")
        counsellor.wait_for_selector("text=attend la validation d'un administrateur")
        with session_scope(stack.engine) as session:
            proposal_id = session.execute(select(KBProposal.id).where(
                KBProposal.target_entry_id == entry.id, KBProposal.kind == "edit",
                KBProposal.status == "proposed")).scalar_one()
        counsellor.goto(f"{stack.console_url}/knowledge/changes")
        change = counsellor.locator(f"[data-change='{proposal_id}']")
        assert proposed in change.inner_text() and change.locator("button:has-text('Approuver')").count() == 0
        token = counsellor.locator("meta[name=csrf-token]").get_attribute("content")
        refused = counsellor.request.post(f"{stack.console_url}/admin/knowledge/changes/{proposal_id}/approve",
                                          form={"csrf_token": token}, max_redirects=0)
        assert refused.status == 403
        with session_scope(stack.engine) as session:
            assert session.get(KBEntry, entry.id).answer_eleve == entry.answer_eleve
            assert session.get(KBProposal, proposal_id).status == "proposed"
        time.sleep(REACHES_THE_BOT_SECONDS / 2)  # a reload of the KB, had anything changed
        assert not any(proposed in t for t in ask(stack, question)[0])

        admin = admin_context.new_page()
        log_in(admin, stack, staff["admin"])
        admin.goto(f"{stack.console_url}/knowledge/changes")
        admin.locator(f"[data-change='{proposal_id}']").locator("button:has-text('Approuver')").click()
        admin.wait_for_selector("text=Modification approuvée")
        assert until(lambda: any(proposed in t for t in ask(stack, question)[0])), "the approved change never reached the bot"
        admin.goto(f"{stack.console_url}/knowledge/entries/{entry.id}")
        assert "approuvée par Claire Admin" in admin.locator("#history").inner_text()
    finally:
        counsellor_context.close()
        admin_context.close()
