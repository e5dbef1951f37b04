"""A parent's evening, in headless Chromium against the real stack: the question while the service is closed,
the promised time, the retrieval code, the e-mail choice (a bad address refused, the code recalled), then the
retrieval page showing "pas encore prête" and, once a counsellor has replied, the answer."""
from __future__ import annotations

import json
import re

import pytest

from tests.browser.test_widget import (
    WAIT,
    closed_today,
    counsellor_replies,
    office_hours,
    open_chat,
    open_ticket,
    person,
    run_axe,
    sender_of,
)

pytestmark = pytest.mark.browser

ANSWER = "Bonjour, votre fille peut faire jusqu'à 10 vœux, et 10 de plus en apprentissage. Bonne soirée !"


def test_in_the_evening_a_parent_gets_a_code_and_reads_the_answer_with_it(browser, stack):
    with office_hours(stack, closed_today()), person(browser, stack, "parent") as page:
        open_chat(page)
        page.get_by_role("button", name="Parler à un conseiller").click()
        status = page.locator(".bar [role=status]")
        status.filter(has_text="Demande transmise : réponse attendue").wait_for(timeout=WAIT)
        assert re.search(r"(lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche) \d+ \w+ à \d\d:\d\d",
                         status.inner_text())

        # The code, in the conversation, with a link that fills it in.
        box = page.locator(".pickup")
        box.wait_for(timeout=WAIT)
        code = box.locator(".code").inner_text()
        assert re.fullmatch(r"[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}", code)
        assert "Votre code de réponse" in box.inner_text() and "sans laisser d'adresse" in box.inner_text()
        link = box.get_by_role("link", name="Lire la réponse avec ce code")
        href = link.get_attribute("href")
        assert href == f"{stack.rasa_url}/webhooks/chat/reponse#{code}"

        # A badly formed address is refused, and the code is recalled as the other way.
        form = page.get_by_role("group", name="Comment souhaitez-vous recevoir la réponse ?")
        form.get_by_label("Par e-mail").check()
        form.get_by_label("Votre adresse e-mail").fill("parent@exemple")
        form.get_by_label(re.compile("J'accepte que mon adresse")).check()
        form.get_by_role("button", name="Valider").click()
        alert = form.get_by_role("alert")
        alert.filter(has_text="ne semble pas valide").wait_for()
        assert f"avec votre code {code}" in alert.inner_text()
        form.get_by_label("Votre adresse e-mail").fill("parent@example.org")
        form.get_by_role("button", name="Valider").click()
        page.get_by_text("La réponse arrivera par e-mail.").wait_for()
        violations = [v for v in run_axe(page) if v["impact"] in ("serious", "critical")]
        assert not violations, json.dumps(violations, ensure_ascii=False, indent=1)
        ticket_id = open_ticket(stack, sender_of(page))

        # The page, opened from the link: nothing yet, and when to come back.
        reader = page.context.new_page()
        reader.goto(href)
        reader.get_by_text("La réponse n'est pas encore prête").wait_for(timeout=WAIT)
        assert "vous répondra" in reader.inner_text("main") and "#" not in reader.url
        assert not page.errors

        counsellor_replies(stack, ticket_id, ANSWER)
        reader.goto(f"{stack.rasa_url}/webhooks/chat/reponse")
        reader.get_by_label("Code de réponse").fill(code.lower())
        reader.get_by_role("button", name="Lire la réponse").click()
        reader.get_by_role("heading", name="La réponse du conseiller d'orientation").wait_for(timeout=WAIT)
        assert ANSWER in reader.inner_text("main")
        assert "Votre question" in reader.inner_text("main")

        # A wrong code: the same sentence whatever the reason, and the field marked invalid.
        reader.get_by_role("link", name="Saisir un autre code").click()
        reader.get_by_label("Code de réponse").fill("ABCD-EFGH")
        reader.get_by_role("button", name="Lire la réponse").click()
        reader.get_by_role("alert").filter(has_text="Code inconnu ou expiré").wait_for()
        assert reader.get_by_label("Code de réponse").get_attribute("aria-invalid") == "true"


def test_the_retrieval_page_has_no_accessibility_violation(browser, stack):
    # axe is injected as a script: the page's strict CSP would (rightly) refuse it without bypass_csp.
    context = browser.new_context(locale="fr-FR", bypass_csp=True)
    try:
        page = context.new_page()
        page.goto(f"{stack.rasa_url}/webhooks/chat/reponse")
        page.get_by_label("Code de réponse").fill("ABCD-EFGH")
        page.get_by_role("button", name="Lire la réponse").click()
        page.get_by_role("alert").wait_for()
        violations = [v for v in run_axe(page) if v["impact"] in ("serious", "critical")]
        assert not violations, json.dumps(violations, ensure_ascii=False, indent=1)
    finally:
        context.close()
