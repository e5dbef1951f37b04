"""A school's UAI code, the sender ids that carry it, and who sees which school's tickets."""
from datetime import timedelta

import pytest
from sqlalchemy import inspect, select, text

from orientbot import schools
from orientbot.db import Ticket, create_schema, make_engine, session_scope
from orientbot.tickets import NewTicket, TicketStore
from tests.factories import add_ticket

RANDOM = "0123456789abcdef0123456789abcdef"


@pytest.mark.parametrize("typed, code", [
    ("0751234A", "0751234A"), (" 0931234b ", "0931234B"),
    ("075123A", None), ("07512345A", None), ("0751234", None), ("A0751234", None), ("0751234É", None),
    ("", None), (None, None), (751234, None), ("0751234A; DROP", None),
])
def test_a_uai_is_seven_digits_and_a_letter(typed, code):
    assert schools.valid_uai(typed) == code


def test_a_known_list_accepts_only_its_schools():
    known = {"0751234A": "Lycée Jean Jaurès"}
    assert schools.valid_uai("0751234a", known) == "0751234A"
    assert schools.valid_uai("0931234B", known) is None
    assert schools.valid_uai("0931234B", {}) == "0931234B"
    assert schools.school_name("0751234A", known) == "Lycée Jean Jaurès (0751234A)"
    assert schools.school_name("0931234B", known) == "0931234B"


def test_the_sender_id_carries_the_school_and_reads_back():
    sender = schools.sender_for_school("0751234a", RANDOM)
    assert sender == f"e-0751234A-{RANDOM}"
    assert schools.school_of_sender(sender) == "0751234A"
    for other in (f"w-{RANDOM}", "eleve-1", f"e-0751234A-{RANDOM}x", f"E-0751234A-{RANDOM}", f"e-075123A-{RANDOM}",
                  f"e-0751234a-{RANDOM}", None, 42):
        assert schools.school_of_sender(other) is None
    with pytest.raises(ValueError):
        schools.sender_for_school("lycée", RANDOM)
    with pytest.raises(ValueError):
        schools.sender_for_school("0751234A", "court")


def test_only_the_chat_window_s_signed_ids_give_a_school():
    sender = schools.sender_for_school("0751234A", RANDOM)
    assert schools.school_of_conversation(sender, "chat") == "0751234A"
    # The REST channel lets the caller choose its sender: the same id there is of no school.
    assert schools.school_of_conversation(sender, "rest") is None
    assert schools.school_of_conversation(sender, None) is None


def test_the_visibility_rule(engine):
    with session_scope(engine) as session:
        a = add_ticket(session, question="bourse", school="0751234A").id
        b = add_ticket(session, question="stage", school="0931234B").id
        none = add_ticket(session, question="internat").id
    with session_scope(engine) as session:
        def seen(school):
            return set(session.execute(schools.visible_to(select(Ticket.id), school)).scalars())
        assert seen(None) == {a, b, none}
        assert seen("0751234A") == {a}
        assert seen("0931234B") == {b}
    assert schools.ticket_visible(None, None) and schools.ticket_visible("0751234A", None)
    assert not schools.ticket_visible(None, "0751234A") and not schools.ticket_visible("0931234B", "0751234A")
    sender = schools.sender_for_school("0751234A", RANDOM)
    assert schools.conversation_visible(sender, [], "0751234A")
    assert schools.conversation_visible(sender, ["0751234A"], "0751234A")
    assert not schools.conversation_visible(sender, [None], "0751234A")  # a REST caller's look-alike id
    assert not schools.conversation_visible("eleve-1", [], "0751234A")
    assert schools.conversation_visible("eleve-1", [None], None)


def test_a_ticket_keeps_the_school_it_is_given(engine, tmp_path):
    sender = schools.sender_for_school("0751234A", RANDOM)
    store = TicketStore(engine, tmp_path / "spool.jsonl")
    ticket = NewTicket(sender_id=sender, priority="normal", reason="asked_for_human", audience="eleve",
                       question="je veux un conseiller", school="0751234a")
    assert ticket.school == "0751234A"
    store.open_ticket(ticket)
    assert NewTicket(sender_id=sender, priority="normal", reason="asked_for_human", audience="eleve",
                     question="x", school="pas un code").school is None
    with session_scope(engine) as session:
        assert session.get(Ticket, ticket.id).school == "0751234A"


def test_a_spooled_ticket_keeps_its_school(tmp_path):
    spool = tmp_path / "spool.jsonl"
    down = TicketStore(make_engine("sqlite:////nonexistent/dir/x.db"), spool)
    ticket = NewTicket(sender_id=schools.sender_for_school("0751234A", RANDOM), priority="urgent", reason="distress",
                       audience="eleve", question="ça va pas", school="0751234A")
    assert down.open_ticket(ticket).stored is False
    engine = make_engine(f"sqlite:///{tmp_path / 'up.db'}")
    create_schema(engine)
    assert TicketStore(engine, spool).flush() == 1
    with session_scope(engine) as session:
        assert session.get(Ticket, ticket.id).school == "0751234A"


def test_an_existing_database_gets_the_two_columns(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    create_schema(engine)
    with engine.begin() as connection:  # a database made before the schools (and before the indexes that use them)
        connection.execute(text("DROP INDEX ix_tickets_school_created_at"))
        connection.execute(text("ALTER TABLE tickets DROP COLUMN school"))
        connection.execute(text("ALTER TABLE counsellors DROP COLUMN school"))
    create_schema(engine)
    for table in ("tickets", "counsellors"):
        assert "school" in {column["name"] for column in inspect(engine).get_columns(table)}
    with session_scope(engine) as session:
        add_ticket(session, question="bourse", due_in=timedelta(minutes=5))


def test_the_known_schools_come_from_the_file_or_a_variable(tmp_path):
    from orientbot.settings import load_settings

    config = tmp_path / "orientbot.yml"
    config.write_text("schools:\n  known:\n    0751234A: Lycée Jean Jaurès\n", encoding="utf-8")
    assert load_settings({"ORIENTBOT_CONFIG": str(config)}).schools.known == {"0751234A": "Lycée Jean Jaurès"}
    environ = {"ORIENTBOT_CONFIG": str(tmp_path / "none.yml"),
               "ORIENTBOT_SCHOOLS_KNOWN": "0751234A=Lycée Jean Jaurès; 0931234B=Lycée Voltaire"}
    assert load_settings(environ).schools.known == {"0751234A": "Lycée Jean Jaurès", "0931234B": "Lycée Voltaire"}
    assert load_settings({"ORIENTBOT_CONFIG": str(tmp_path / "none.yml")}).schools.known == {}
