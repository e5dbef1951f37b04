"""A counsellor of a school sees that school's tickets only, through every page and action of the console."""
from html import unescape

import pytest
from sqlalchemy import select

from orientbot import schools
from orientbot.db import ChatMessage, Counsellor, KBProposal, Ticket, session_scope
from orientbot.settings import SchoolSettings, Settings
from tests.factories import add_account, add_entry, add_ticket

SCHOOL_A, SCHOOL_B = "0751234A", "0931234B"
SENDER_A = schools.sender_for_school(SCHOOL_A, "a" * 32)
SENDER_B = schools.sender_for_school(SCHOOL_B, "b" * 32)
CANDIDATES = [{"kb_id": "parcoursup-voeux", "title": "Combien de vœux peut-on faire sur Parcoursup ?",
               "retrieval_score": 0.41, "selector_confidence": 0.33}]


@pytest.fixture
def tickets(engine, people):
    """Counsellors of school A and B, one without a school, an admin of school A; a ticket of each school and one
    of no school (a REST conversation)."""
    with session_scope(engine) as session:
        add_account(session, "anne", display_name="Anne Roux", school=SCHOOL_A)
        add_account(session, "boris", display_name="Boris Lenoir", school=SCHOOL_B)
        add_account(session, "cio", display_name="Céline Orient")
        add_account(session, "chefa", role="admin", display_name="Admin A", school=SCHOOL_A)
        add_entry(session)
        ids = {
            "a": add_ticket(session, question="dossier de bourse lycée Voltaire", sender_id=SENDER_A, school=SCHOOL_A,
                            candidates=CANDIDATES).id,
            "b": add_ticket(session, question="stage de seconde", sender_id=SENDER_B, school=SCHOOL_B,
                            candidates=CANDIDATES).id,
            "none": add_ticket(session, question="internat en BTS", sender_id="rest-1", candidates=CANDIDATES).id,
        }
    return ids


def _login(console, username):
    browser = console()
    assert browser.login(username).status == 303
    return browser


def test_the_queue_lists_only_the_school_s_tickets(console, tickets):
    expected = {"anne": {tickets["a"]}, "boris": {tickets["b"]}, "cio": set(tickets.values())}
    for username, seen in expected.items():
        browser = _login(console, username)
        assert {t["id"] for t in browser.get("/api/queue").json()["tickets"]} == seen
        page = browser.get("/queue").text
        for ticket_id in tickets.values():
            assert (ticket_id in page) == (ticket_id in seen)
        assert ("Les tickets de l'établissement" in unescape(page)) == (username != "cio")


def test_another_school_s_ticket_is_not_found_on_view_and_on_every_action(console, tickets, engine):
    anne = _login(console, "anne")
    assert anne.get(f"/tickets/{tickets['a']}").status == 200
    for hidden in (tickets["b"], tickets["none"]):
        base = f"/tickets/{hidden}"
        assert anne.get(base).status == 404
        assert anne.get(f"/api{base}/transcript").status == 404
        assert anne.get(base + "/propose").status == 404
        for action, data in (("take", {}), ("reply", {"text": "Bonjour"}), ("reply", {"kb_id": "parcoursup-voeux"}),
                             ("reply", {"kb_id": "parcoursup-voeux", "as_is": "1"}), ("reply", {"text": "x" * 9000}),
                             ("reply", {"text": ""}), ("dismiss", {}), ("hand-back", {}), ("reopen", {}),
                             ("propose", {"title": "Internat", "questions": "internat en BTS",
                                          "answer_eleve": "Oui.", "answer_parent": "Oui."})):
            page = anne.post(f"{base}/{action}", data)
            assert page.status == 404, (action, data, page.status)
            assert "existe pas" in page.text
    with session_scope(engine) as session:
        for hidden in (tickets["b"], tickets["none"]):
            assert session.get(Ticket, hidden).status == "new" and session.get(Ticket, hidden).owner_id is None
        assert not session.execute(select(ChatMessage)).scalars().all()
        assert not session.execute(select(KBProposal)).scalars().all()
    # The same 404 as an id that does not exist: nothing tells the ticket is there.
    assert anne.get("/tickets/inconnu").text == anne.get(f"/tickets/{tickets['b']}").text
    # Her own school's ticket works as before; the counsellor without a school reaches every ticket.
    assert anne.post(f"/tickets/{tickets['a']}/take").status == 303
    cio = _login(console, "cio")
    for ticket_id in (tickets["b"], tickets["none"]):
        assert cio.get(f"/tickets/{ticket_id}").status == 200
        assert cio.post(f"/tickets/{ticket_id}/take").status == 303


def test_the_dashboard_counts_only_the_school_s_tickets(console, tickets):
    assert "<strong>1</strong> escalades" in _login(console, "anne").get("/dashboard").text
    assert "<strong>1</strong> escalades" in _login(console, "boris").get("/dashboard").text
    assert "<strong>3</strong> escalades" in _login(console, "cio").get("/dashboard").text


def test_an_admin_of_a_school_finds_only_that_school_s_conversations(console, tickets, engine, admin):
    chefa = _login(console, "chefa")
    page = chefa.get("/admin/personnes?text=lyc%C3%A9e")
    assert SENDER_A in page.text
    found = chefa.get("/admin/personnes?text=stage").text
    assert SENDER_B not in found and "0 conversation" in found
    assert chefa.get(f"/admin/personnes/{SENDER_B}/export").status == 404
    assert chefa.get("/admin/personnes/rest-1/export").status == 404
    assert chefa.get(f"/admin/personnes/{SENDER_A}/export").status == 200
    page = chefa.post(f"/admin/personnes/{SENDER_B}/erase", {"confirm": SENDER_B})
    assert page.status == 404 and "Aucune donnée pour cette conversation" in page.text
    with session_scope(engine) as session:
        assert session.get(Ticket, tickets["b"]).question == "stage de seconde"
    # The admin without a school (the first one) still sees every conversation.
    assert SENDER_B in admin.get("/admin/personnes?text=stage").text


def test_an_admin_sets_an_account_s_school_and_a_bad_code_is_refused_in_french(admin, tickets, engine):
    with session_scope(engine) as session:
        cio_id = session.execute(select(Counsellor.id).where(Counsellor.username == "cio")).scalar_one()
    page = admin.post(f"/admin/accounts/{cio_id}", {"role": "counsellor", "active": "1", "school": " 0931234b "})
    assert page.status == 303
    with session_scope(engine) as session:
        assert session.get(Counsellor, cio_id).school == SCHOOL_B
    page = admin.post(f"/admin/accounts/{cio_id}", {"role": "admin", "active": "1", "school": "75ABC"})
    assert page.status == 400
    assert "« 75ABC » n'est pas un code UAI d'établissement : 7 chiffres suivis d'une lettre" in unescape(page.text)
    with session_scope(engine) as session:  # nothing of the refused form was kept
        account = session.get(Counsellor, cio_id)
        assert account.school == SCHOOL_B and account.role == "counsellor"
    assert admin.post(f"/admin/accounts/{cio_id}", {"role": "counsellor", "active": "1", "school": ""}).status == 303
    with session_scope(engine) as session:
        assert session.get(Counsellor, cio_id).school is None
    page = admin.post("/admin/accounts", {"username": "denis", "display_name": "Denis", "role": "counsellor",
                                          "password": "un-mot-de-passe-long", "school": "0751234A"})
    assert page.status == 303
    page = admin.post("/admin/accounts", {"username": "emma", "display_name": "Emma", "role": "counsellor",
                                          "password": "un-mot-de-passe-long", "school": "lycée"})
    assert page.status == 400 and "n'est pas un code UAI" in unescape(page.text) and 'value="emma"' in page.text
    with session_scope(engine) as session:
        assert session.execute(select(Counsellor.school).where(Counsellor.username == "denis")).scalar_one() == SCHOOL_A
        assert session.execute(select(Counsellor).where(Counsellor.username == "emma")).first() is None
    assert 'name="school" value="0751234A"' in admin.get("/admin/accounts").text


@pytest.mark.parametrize("console_settings", [Settings(schools=SchoolSettings(known={"0751234A": "Lycée Jean Jaurès"}))])
def test_with_a_list_of_known_schools_another_code_is_refused(admin, tickets, engine, console_settings):
    page = admin.post("/admin/accounts", {"username": "fanny", "display_name": "Fanny", "role": "counsellor",
                                          "password": "un-mot-de-passe-long", "school": "0931234B"})
    assert page.status == 400 and "L'établissement 0931234B n'est pas parmi ceux que ce service dessert." in unescape(page.text)
    assert '<option value="0751234A">Lycée Jean Jaurès</option>' in admin.get("/admin/accounts").text


def test_a_proposal_from_another_school_s_ticket_is_not_reviewed_by_that_school_s_admin(console, tickets, engine,
                                                                                       admin, clock):
    from orientbot import proposals

    with session_scope(engine) as session:
        boris = session.execute(select(Counsellor.id).where(Counsellor.username == "boris")).scalar_one()
        proposal = proposals.propose(session, proposed_by=boris, ticket_id=tickets["b"], title="Stage de seconde",
                                     questions=["stage de seconde ?"], answer_eleve="Deux semaines en juin.",
                                     answer_parent="Deux semaines en juin.", target_entry_id=None, sources=[],
                                     anonymise=lambda text: text, now=clock()).id
    chefa = _login(console, "chefa")
    assert "Stage de seconde" not in chefa.get("/admin/proposals").text
    page = chefa.post(f"/admin/proposals/{proposal}/approve")
    assert page.status == 400 and "Cette proposition n'existe pas." in unescape(page.text)
    with session_scope(engine) as session:
        assert session.get(KBProposal, proposal).status == "proposed"
    assert "Stage de seconde" in admin.get("/admin/proposals").text
