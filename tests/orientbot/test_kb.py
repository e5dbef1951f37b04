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
