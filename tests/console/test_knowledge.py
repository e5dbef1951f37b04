"""The knowledge pages: list, entry, edits (at once for an admin, pending for a counsellor), merges, splits, roles."""
import re
from datetime import date

import pytest
from sqlalchemy import select

from orientbot.db import ChatMessage, Feedback, KBEntry, KBEntryVersion, KBProposal, KBVariant, session_scope

BOURSE_ANSWER = "La demande de bourse de lycée se fait en ligne sur Scolarité Services, entre mai et octobre."
NEW_ANSWER = "Tu fais la demande de bourse en ligne sur Scolarité Services : la campagne ouvre fin mai."


def _entry(kb_id, title, answer, questions, **fields):
    return KBEntry(id=kb_id, title=title, answer_eleve=answer, answer_parent=answer.replace("Tu ", "Votre enfant "),
                   sources=fields.pop("sources", []), times_asked=len(questions),
                   variants=[KBVariant(text=q, conversation_id=f"t-{kb_id}-{n}") for n, q in enumerate(questions)],
                   **fields)


@pytest.fixture
def kb(engine, people):
    with session_scope(engine) as session:
        session.add_all([
            _entry("bourse-lycee", "Comment demander une bourse de lycée ?", BOURSE_ANSWER,
                   ["dossier de bourse lycée à rendre où", "coup de pouce financier pour les lycéens, comment faire ?"],
                   sources=["https://www.education.gouv.fr/les-bourses-de-college-et-de-lycee"],
                   valid_until=date(2027, 10, 31), title_parent="Comment demander une bourse de lycée pour votre enfant ?"),
            _entry("aide-bourse-lycee", "Qui peut avoir la bourse de lycée ?",
                   "Tu peux l'avoir selon les revenus de ta famille ; fais la simulation en ligne.",
                   ["c'est qui qui a droit à la bourse du lycée", "ma famille gagne peu, j'ai droit à une bourse ?"]),
            _entry("stage-3e-dates", "Quand se fait le stage de 3e ?",
                   "Tu fais ton stage d'observation de 3e sur une semaine fixée par ton collège.",
                   ["stage d'observation de 3e : à quelle période", "nombre de jours du stage de troisième"],
                   valid_until=date(2026, 6, 30)),
            _entry("internat-places", "Comment avoir une place à l'internat ?",
                   "Tu demandes l'internat avec ton inscription ; les places sont attribuées en juin.",
                   ["comment on demande l'internat", "l'internat il faut le demander quand"],
                   status="review", review_reasons=["La réponse pour les parents a été déduite de celle des élèves."]),
        ])
        for n in range(3):
            session.add(ChatMessage(sender_id=f"s{n}", author="bot", text=BOURSE_ANSWER,
                                    payload={"answer": {"kb_id": "bourse-lycee"}}))
        session.add(Feedback(sender_id="s1", kb_id="stage-3e-dates", value=-1))
        session.add(Feedback(sender_id="s2", kb_id="stage-3e-dates", value=-1))
        session.add(Feedback(sender_id="s3", kb_id="bourse-lycee", value=1))


def _edit_form(**changes):
    values = {"title": "Comment demander une bourse de lycée ?",
              "title_parent": "Comment demander une bourse de lycée pour votre enfant ?",
              "answer_eleve": BOURSE_ANSWER, "answer_parent": BOURSE_ANSWER,
              "sources": "https://www.education.gouv.fr/les-bourses-de-college-et-de-lycee", "valid_until": "2027-10-31"}
    values.update(changes)
    return values


def _listed(page):
    return re.findall(r'data-entry="([^"]+)"', page.text)


def _answer(engine, kb_id="bourse-lycee"):
    with session_scope(engine) as session:
        return session.get(KBEntry, kb_id).answer_eleve


def test_the_list_searches_filters_and_orders(alice, kb):
    page = alice.get("/knowledge")
    assert page.status == 200 and "Base de connaissances" in page.text
    # Most served first, then by title.
    assert _listed(page) == ["bourse-lycee", "internat-places", "stage-3e-dates", "aide-bourse-lycee"]
    assert "3 fois" in page.text and "👎 2" in page.text
    assert _listed(alice.get("/knowledge?q=BOURSE+lycee")) == ["bourse-lycee", "aide-bourse-lycee"]
    assert _listed(alice.get("/knowledge?q=troisième")) == ["stage-3e-dates"]
    assert _listed(alice.get("/knowledge?show=review")) == ["internat-places"]
    assert _listed(alice.get("/knowledge?show=outdated")) == ["stage-3e-dates"]
    assert _listed(alice.get("/knowledge?order=disliked"))[0] == "stage-3e-dates"
    assert set(_listed(alice.get("/knowledge?topic=Bourses+et+vie+étudiante"))) == {"bourse-lycee", "aide-bourse-lycee"}
    assert "Aucune entrée ne correspond." in alice.get("/knowledge?q=zzzz").text
    assert 'href="/knowledge"' in page.text  # in the navigation


def test_the_entry_page_shows_everything_a_counsellor_needs(alice, kb):
    page = alice.get("/knowledge/entries/bourse-lycee")
    assert page.status == 200
    for shown in (BOURSE_ANSWER, "dossier de bourse lycée à rendre où", "coup de pouce financier pour les lycéens, comment faire ?",
                  'href="https://www.education.gouv.fr/les-bourses-de-college-et-de-lycee"', "31/10/2027",
                  "jamais relue", "Servie par le bot</dt><dd>3 fois", "👍 « utile » : 1 · 👎 « pas utile » : 0",
                  "Comment demander une bourse de lycée pour votre enfant ?",
                  "Vos modifications seront appliquées après la validation d'un administrateur."):
        assert shown in page.text, shown
    outdated = alice.get("/knowledge/entries/stage-3e-dates")
    assert "Sa date de validité est dépassée" in outdated.text
    assert "La réponse pour les parents a été déduite" in alice.get("/knowledge/entries/internat-places").text
    assert alice.get("/knowledge/entries/nexiste-pas").status == 404


def test_an_admin_edit_applies_at_once_and_shows_in_the_history(admin, kb, engine):
    form = admin.get("/knowledge/entries/bourse-lycee/edit")
    assert form.status == 200 and "s'applique tout de suite" in form.text and BOURSE_ANSWER in form.text
    page = admin.post("/knowledge/entries/bourse-lycee/edit", _edit_form(answer_eleve=NEW_ANSWER, valid_until=""))
    assert page.status == 303 and page.location.startswith("/knowledge/entries/bourse-lycee")
    shown = admin.follow(page)
    assert "Modification enregistrée" in shown.text
    assert _answer(engine) == NEW_ANSWER
    with session_scope(engine) as session:
        entry = session.get(KBEntry, "bourse-lycee")
        assert entry.edited and entry.valid_until is None
    history = shown.text[shown.text.index('id="history"'):]
    assert "Modification" in history and "Claire Admin" in history and NEW_ANSWER in history and BOURSE_ANSWER in history


def test_a_counsellor_edit_waits_and_only_an_admin_approves_it(alice, admin, kb, engine):
    page = alice.post("/knowledge/entries/bourse-lycee/edit", _edit_form(answer_eleve=NEW_ANSWER))
    assert "attend la validation d&#39;un administrateur" in alice.follow(page).text
    assert _answer(engine) == BOURSE_ANSWER
    with session_scope(engine) as session:
        proposal_id = session.execute(select(KBProposal.id).where(KBProposal.kind == "edit")).scalar_one()
    changes = alice.get("/knowledge/changes")
    assert NEW_ANSWER in changes.text and "Approuver" not in changes.text and "Alice Martin" in changes.text
    refused = alice.post(f"/admin/knowledge/changes/{proposal_id}/approve")
    assert refused.status == 403 and "réservée aux administrateurs" in refused.text
    assert _answer(engine) == BOURSE_ANSWER
    assert "Approuver" in admin.get("/knowledge/changes").text
    assert "1 modification en attente" in admin.get("/knowledge").text
    approved = admin.post(f"/admin/knowledge/changes/{proposal_id}/approve?back=entry")
    assert approved.location.startswith("/knowledge/entries/bourse-lycee")
    entry_page = admin.follow(approved)
    assert "Modification approuvée" in entry_page.text and "approuvée par Claire Admin" in entry_page.text
    assert _answer(engine) == NEW_ANSWER
    again = admin.post(f"/admin/knowledge/changes/{proposal_id}/approve")
    assert again.status == 400 and "déjà été examinée" in again.text


def test_a_rejected_change_is_not_applied(alice, admin, kb, engine):
    alice.post("/knowledge/entries/stage-3e-dates/retire")
    with session_scope(engine) as session:
        proposal_id = session.execute(select(KBProposal.id).where(KBProposal.kind == "retire")).scalar_one()
    assert "Modification refusée" in admin.follow(admin.post(f"/admin/knowledge/changes/{proposal_id}/reject")).text
    with session_scope(engine) as session:
        assert session.get(KBEntry, "stage-3e-dates").status == "active"


def test_forms_need_the_csrf_token(admin, kb, engine):
    for token in ("", "un-jeton-invente"):
        page = admin.post("/knowledge/entries/bourse-lycee/edit", {**_edit_form(answer_eleve=NEW_ANSWER),
                                                                  "csrf_token": token})
        assert page.status == 403
    assert admin.post("/knowledge/entries/bourse-lycee/retire", csrf=False).status == 403
    assert _answer(engine) == BOURSE_ANSWER
    with session_scope(engine) as session:
        assert session.get(KBEntry, "bourse-lycee").status == "active"


def test_html_typed_in_an_answer_is_shown_as_text(admin, kb, engine):
    typed = "<script>alert('pirate')</script><b>Important</b> : la demande se fait en ligne."
    admin.post("/knowledge/entries/bourse-lycee/edit", _edit_form(answer_eleve=typed))
    page = admin.get("/knowledge/entries/bourse-lycee")
    assert "<script>alert" not in page.text and "<b>Important</b>" not in page.text
    assert "&lt;script&gt;alert(&#39;pirate&#39;)&lt;/script&gt;&lt;b&gt;Important&lt;/b&gt;" in page.text


def test_form_errors_are_french_and_keep_what_was_typed(admin, kb, engine):
    page = admin.post("/knowledge/entries/bourse-lycee/edit",
                      _edit_form(answer_eleve=NEW_ANSWER, sources="javascript:alert(1)"))
    assert page.status == 400 and "Une source doit être une adresse web complète" in page.text
    assert NEW_ANSWER in page.text
    page = admin.post("/knowledge/entries/bourse-lycee/edit", _edit_form(valid_until="demain"))
    assert page.status == 400 and "AAAA-MM-JJ" in page.text
    assert _answer(engine) == BOURSE_ANSWER


def test_an_admin_merges_a_duplicate(admin, kb, engine):
    page = admin.post("/knowledge/entries/bourse-lycee/merge", {"duplicate": "aide-bourse-lycee"})
    assert "Doublon fusionné" in admin.follow(page).text
    with session_scope(engine) as session:
        duplicate = session.get(KBEntry, "aide-bourse-lycee")
        assert (duplicate.status, duplicate.merged_into) == ("merged", "bourse-lycee")
        assert len(session.get(KBEntry, "bourse-lycee").variants) == 4
    merged = admin.get("/knowledge/entries/aide-bourse-lycee")
    assert "a été fusionnée dans" in merged.text and "Modifier" not in merged.text
    assert "aide-bourse-lycee" not in _listed(admin.get("/knowledge"))
    assert "aide-bourse-lycee" in _listed(admin.get("/knowledge?show=merged"))
    same = admin.post("/knowledge/entries/bourse-lycee/merge", {"duplicate": "bourse-lycee"})
    assert same.status == 400 and "avec elle-même" in same.text


def test_an_admin_splits_retires_restores_and_reviews(admin, kb, engine):
    with session_scope(engine) as session:
        moved = session.execute(select(KBVariant.id).where(KBVariant.text == "l'internat il faut le demander quand")).scalar_one()
    assert "Questions qui partent" in admin.get("/knowledge/entries/internat-places/split").text
    page = admin.post("/knowledge/entries/internat-places/split", {
        f"variant_{moved}": "1", "title": "Quand demander l'internat ?", "title_parent": "",
        "answer_eleve": "Tu le demandes au moment de ton inscription, en juin.",
        "answer_parent": "Vous le demandez au moment de l'inscription, en juin.", "sources": ""})
    assert page.status == 303 and "/knowledge/entries/console-quand-demander-l-internat-" in page.location
    assert "l&#39;internat il faut le demander quand" in admin.follow(page).text
    page = admin.post("/knowledge/entries/internat-places/review")
    assert "Entrée marquée comme relue" in admin.follow(page).text
    with session_scope(engine) as session:
        entry = session.get(KBEntry, "internat-places")
        assert (entry.status, entry.review_reasons) == ("active", [])
    assert "Claire Admin, lun. 07/12" in admin.get("/knowledge/entries/internat-places").text
    assert "Entrée retirée" in admin.follow(admin.post("/knowledge/entries/internat-places/retire")).text
    assert "Remettre en service" in admin.get("/knowledge/entries/internat-places").text
    assert "remise en service" in admin.follow(admin.post("/knowledge/entries/internat-places/restore")).text
    with session_scope(engine) as session:
        actions = session.execute(select(KBEntryVersion.action).where(KBEntryVersion.entry_id == "internat-places")
                                  .order_by(KBEntryVersion.id)).scalars().all()
        assert actions == ["split", "review", "retire", "restore"]
