from datetime import date

from orientbot.db import session_scope
from orientbot.kb import SqlKnowledgeBase, load_entries, replace_pipeline_entries
from tests.conftest import CVEC, VOEUX


def test_pipeline_entries_round_trip_through_the_database(engine):
    with session_scope(engine) as session:
        assert replace_pipeline_entries(session, entries=[VOEUX, CVEC]) == 2
    with session_scope(engine) as session:
        loaded = {e.id: e for e in load_entries(session)}
    assert loaded["cvec-montant"].valid_until == date(2026, 8, 31)
    assert [v.text for v in loaded["parcoursup-voeux"].variants] == [v.text for v in VOEUX.variants]
    assert loaded["parcoursup-voeux"].conversation_ids == ("c1", "c2", "c3")


def test_rebuilding_replaces_pipeline_entries_but_keeps_console_ones(engine):
    from dataclasses import replace

    console_entry = replace(CVEC, id="ajout-conseiller", origin="console")
    with session_scope(engine) as session:
        replace_pipeline_entries(session, entries=[VOEUX, console_entry])
    with session_scope(engine) as session:
        replace_pipeline_entries(session, entries=[CVEC])
    kb = SqlKnowledgeBase(engine)
    assert sorted(e.id for e in kb.entries()) == ["ajout-conseiller", "cvec-montant"]


def test_answer_follows_the_audience_and_dates_are_checked():
    assert VOEUX.answer_for("parent").startswith("Votre enfant")
    assert VOEUX.answer_for("eleve").startswith("Tu peux")
    assert CVEC.is_out_of_date(date(2026, 11, 23)) and not CVEC.is_out_of_date(date(2025, 9, 1))
    assert not VOEUX.is_out_of_date(date(2030, 1, 1))


def test_an_older_database_gets_the_columns_added_since(tmp_path):
    import sqlite3

    from orientbot.db import Ticket, create_schema, make_engine, session_scope

    path = tmp_path / "old.db"
    with sqlite3.connect(path) as db:
        db.execute("create table tickets (id varchar(36) primary key, sender_id varchar(255) not null, "
                   "priority varchar(10) not null, reason varchar(40) not null, status varchar(20) not null, "
                   "audience varchar(10) not null, question text not null, transcript json not null, "
                   "candidates json not null, created_at datetime not null, spooled boolean not null)")
        db.execute("insert into tickets values ('t1', 's', 'normal', 'asked_for_human', 'new', 'eleve', 'q', '[]', "
                   "'[]', '2026-11-30 10:00:00', 0)")
    engine = make_engine(f"sqlite:///{path}")
    create_schema(engine)
    create_schema(engine)  # twice: nothing left to add
    with session_scope(engine) as session:
        ticket = session.get(Ticket, "t1")
        assert (ticket.mode, ticket.contact_consent, ticket.owner_id) == ("live", False, None)
