from datetime import timedelta

import pytest
from sqlalchemy import select

from knowledge.anonymise import anonymise_text
from orientbot import proposals
from orientbot.db import KBEntry, KBProposal, session_scope
from orientbot.kb import KnowledgeEntry, Variant, load_entries, replace_pipeline_entries
from orientbot.retrieval import Retriever
from tests.factories import MONDAY_10H, add_account, add_entry, add_ticket

QUESTION = "Est-ce que je peux faire un stage de 3e dans une boulangerie ?"
ANSWER = "Oui, le stage d'observation de 3e peut se faire dans un commerce : demande une convention à ton collège."


@pytest.fixture
def setup(engine):
    with session_scope(engine) as session:
        counsellor, admin = add_account(session, "alice").id, add_account(session, "chef", role="admin").id
        add_entry(session)
        ticket_id = add_ticket(session, question=QUESTION).id
    return counsellor, admin, ticket_id


def _propose(session, counsellor, ticket_id, **changes):
    values = dict(proposed_by=counsellor, ticket_id=ticket_id, questions=[QUESTION], answer_eleve=ANSWER,
                  answer_parent=ANSWER.replace("ton", "son"), anonymise=anonymise_text, now=MONDAY_10H)
    values.update(changes)
    return proposals.propose(session, **values)


def test_approved_proposal_becomes_an_active_console_entry_the_retriever_finds(engine, setup):
    counsellor, admin, ticket_id = setup
    with session_scope(engine) as session:
        proposal_id = _propose(session, counsellor, ticket_id).id
    with session_scope(engine) as session:
        entry = proposals.approve(session, proposal_id=proposal_id, reviewer_id=admin, now=MONDAY_10H + timedelta(hours=1))
        entry_id = entry.id
    with session_scope(engine) as session:
        entry = session.get(KBEntry, entry_id)
        assert entry.origin == "console" and entry.status == "active" and entry.id.startswith("console-est-ce-que")
        assert [v.text for v in entry.variants] == [QUESTION]
        proposal = session.get(KBProposal, proposal_id)
        assert proposal.status == "approved" and proposal.created_entry_id == entry_id and proposal.reviewed_by == admin
        assert Retriever(load_entries(session)).search(QUESTION)[0].kb_id == entry_id
        with pytest.raises(proposals.ProposalError, match="déjà été examinée"):
            proposals.approve(session, proposal_id=proposal_id, reviewer_id=admin, now=MONDAY_10H)


def test_personal_data_is_anonymised_before_it_is_stored(engine, setup):
    counsellor, _, ticket_id = setup
    with session_scope(engine) as session:
        proposal = _propose(session, counsellor, ticket_id,
                            questions=["Je suis Léa, au lycée Jean Moulin, mon mail lea.d@gmail.com, stage ?"],
                            answer_eleve="Appelle le CIO au 01 23 45 67 89.")
        assert proposal.questions == ["Je suis [NOM], au [ÉTABLISSEMENT], mon mail [E-MAIL], stage ?"]
        assert proposal.answer_eleve == "Appelle le CIO au [TÉLÉPHONE]."


def test_variants_of_an_existing_entry_survive_a_pipeline_rebuild(engine, setup):
    counsellor, admin, ticket_id = setup
    with session_scope(engine) as session:
        proposal_id = _propose(session, counsellor, ticket_id, questions=["jusqu'à combien de voeux psup"],
                               target_entry_id="parcoursup-voeux").id
        entry = proposals.approve(session, proposal_id=proposal_id, reviewer_id=admin, now=MONDAY_10H)
        assert entry.id == "parcoursup-voeux" and "jusqu'à combien de voeux psup" in [v.text for v in entry.variants]
    with session_scope(engine) as session:  # the pipeline rebuilds the KB: the console's variant stays
        replace_pipeline_entries(session, entries=[KnowledgeEntry(
            id="parcoursup-voeux", title="Combien de vœux ?", answer_eleve="10.", answer_parent="10.",
            variants=(Variant("cb de voeux ?", "c9"),))])
    with session_scope(engine) as session:
        [entry] = [e for e in load_entries(session) if e.id == "parcoursup-voeux"]
        assert [v.text for v in entry.variants] == ["cb de voeux ?", "jusqu'à combien de voeux psup"]


def test_suggested_targets_put_the_nearest_entry_first(engine, setup):
    with session_scope(engine) as session:
        [best] = proposals.suggest_targets(session, questions=["combien de voeux parcoursup svp"], limit=1)
        assert best.kb_id == "parcoursup-voeux" and best.score > 0.3


@pytest.mark.parametrize("changes, message", [
    ({"questions": ["  ", ""]}, "au moins une question"),
    ({"questions": ["x" * 501]}, "500 caractères"),
    ({"answer_parent": " "}, "une réponse pour les élèves et une pour les parents"),
    ({"answer_eleve": "x" * 5001}, "5000 caractères"),
    ({"target_entry_id": "inconnue"}, "n'existe pas"),
])
def test_bad_proposals_are_refused_in_french(engine, setup, changes, message):
    counsellor, _, ticket_id = setup
    with session_scope(engine) as session:
        with pytest.raises(proposals.ProposalError, match=message):
            _propose(session, counsellor, ticket_id, **changes)


def test_rejected_proposal_writes_nothing_to_the_kb(engine, setup):
    counsellor, admin, ticket_id = setup
    with session_scope(engine) as session:
        proposal_id = _propose(session, counsellor, ticket_id).id
        proposals.reject(session, proposal_id=proposal_id, reviewer_id=admin, now=MONDAY_10H)
    with session_scope(engine) as session:
        assert [e.id for e in load_entries(session)] == ["parcoursup-voeux"]
        assert session.execute(select(KBProposal.status)).scalar_one() == "rejected"
        assert [p.id for p in proposals.proposals(session, status="proposed")] == []
