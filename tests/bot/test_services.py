"""The action server's knowledge follows the database: an entry approved in the console is answered without a restart."""
import time

from bot.actions.services import LiveKnowledge
from orientbot.db import Base, KBEntry, KBVariant, session_scope
from orientbot.kb import replace_pipeline_entries
from tests.conftest import VOEUX


def test_an_entry_added_to_the_database_is_found_after_the_refresh_period(engine):
    with session_scope(engine) as session:
        replace_pipeline_entries(session, entries=[VOEUX])
    live = LiveKnowledge(engine, every_seconds=0.2)
    assert [e.id for e in live.entries()] == ["parcoursup-voeux"]
    with session_scope(engine) as session:
        session.add(KBEntry(id="console-internat", title="Comment s'inscrire à l'internat du lycée ?",
                            answer_eleve="Demande-la à ton lycée.", answer_parent="Demandez-la au lycée.",
                            sources=[], origin="console",
                            variants=[KBVariant(text="comment avoir une place a l'internat ?")]))
    assert live.get("console-internat") is None  # within the period: no query at all
    time.sleep(0.25)
    assert live.rank("comment avoir une place a l'internat ?")[0].kb_id == "console-internat"
    assert live.get("console-internat").origin == "console"


def test_a_database_error_keeps_the_knowledge_already_loaded(engine):
    with session_scope(engine) as session:
        replace_pipeline_entries(session, entries=[VOEUX])
    live = LiveKnowledge(engine, every_seconds=0)
    assert live.get("parcoursup-voeux") is not None
    Base.metadata.drop_all(engine)  # every later query fails
    assert live.get("parcoursup-voeux") is not None
