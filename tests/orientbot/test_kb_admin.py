"""Counsellors' changes to KB entries: applied at once for an admin, pending for a counsellor, versioned, kept by a
rebuild from the transcripts."""
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from knowledge.anonymise import anonymise_text
from orientbot import kb_admin, proposals
from orientbot.db import ChatMessage, Feedback, KBEntry, KBEntryVersion, KBProposal, KBVariant, session_scope
from orientbot.kb import KnowledgeEntry, Variant, load_entries, replace_pipeline_entries
from orientbot.kb_admin import Actor, KnowledgeAdminError
from orientbot.retrieval import Retriever
from tests.factories import MONDAY_10H, add_account

LATER = MONDAY_10H + timedelta(hours=1)

STAGE = KnowledgeEntry(
    id="stage-seconde-pro",
    title="Quand a lieu la première période de stage en seconde pro ?",
    title_parent="Quand a lieu la première période de stage de votre enfant en seconde pro ?",
    answer_eleve="Ta première PFMP a lieu en général au deuxième trimestre ; ton lycée te donne les dates.",
    answer_parent="La première PFMP a lieu en général au deuxième trimestre ; le lycée vous donne les dates.",
    sources=("https://www.onisep.fr",),
    variants=(Variant("1ere PFMP de 2nde pro elle commence quand ?", "t1"),
              Variant("la pfmp de seconde commence à quelle période", "t2"),
              Variant("mon fils part en stage quand en 2nde pro", "t3")),
    times_asked=3,
)
STAGE_DUPLICATE = KnowledgeEntry(
    id="periode-pfmp-seconde",
    title="À quel moment se fait la PFMP en seconde professionnelle ?",
    answer_eleve="Regarde le calendrier de ton lycée : la PFMP de seconde tombe souvent entre janvier et mars.",
    answer_parent="Le calendrier du lycée fixe la PFMP de seconde, souvent entre janvier et mars.",
    variants=(Variant("à quel moment on part en pfmp en seconde professionnelle", "t4"),
              Variant("les dates de pfmp en 2nde c'est quand", "t5")),
    times_asked=2,
)
INTERNAT = KnowledgeEntry(
    id="internat-demande",
    title="Comment demander une place à l'internat ?",
    answer_eleve="Tu demandes l'internat avec ton dossier d'inscription ; les places sont attribuées en juin.",
    answer_parent="La demande d'internat se fait avec le dossier d'inscription ; les places sont attribuées en juin.",
    variants=(Variant("comment on fait pour avoir une place à l'internat", "t6"),
              Variant("combien coûte l'internat au lycée", "t7"),
              Variant("l'internat est payant ou gratuit ?", "t8")),
    times_asked=3,
    status="review",
    review_reasons=("La réponse pour les parents a été déduite de celle des élèves.",),
)
NEW_ANSWER = "Ta première PFMP a lieu entre janvier et mars ; demande le calendrier à ton professeur principal."


def same_text(text: str) -> str:
    return text


@pytest.fixture
def team(engine):
    with session_scope(engine) as session:
        counsellor = add_account(session, "alice", display_name="Alice Martin").id
        admin = add_account(session, "chef", role="admin", display_name="Claire Admin").id
        replace_pipeline_entries(session, entries=[STAGE, STAGE_DUPLICATE, INTERNAT])
    return Actor(counsellor, is_admin=False), Actor(admin, is_admin=True)


def _edit(session, actor, entry_id="stage-seconde-pro", anonymise=same_text, **changes):
    entry = session.get(KBEntry, entry_id)
    values = dict(title=entry.title, title_parent=entry.title_parent, answer_eleve=entry.answer_eleve,
                  answer_parent=entry.answer_parent, sources=list(entry.sources),
                  valid_until=entry.valid_until.isoformat() if entry.valid_until else "")
    values.update(changes)
    return kb_admin.request_edit(session, actor=actor, entry_id=entry_id, anonymise=anonymise, now=MONDAY_10H, **values)


def _versions(session, entry_id):
    return kb_admin.history(session, entry_id)


def test_an_admin_edit_applies_at_once_and_is_versioned(engine, team):
    _, admin = team
    with session_scope(engine) as session:
        change = _edit(session, admin, answer_eleve=NEW_ANSWER, valid_until="2027-07-31",
                       sources=["https://www.onisep.fr", "https://eduscol.education.fr/pfmp"])
        assert change.applied and change.proposal is None
    with session_scope(engine) as session:
        entry = session.get(KBEntry, "stage-seconde-pro")
        assert entry.answer_eleve == NEW_ANSWER and entry.edited and entry.valid_until == date(2027, 7, 31)
        assert entry.updated_at is not None
        [version] = _versions(session, "stage-seconde-pro")
        assert (version.action, version.counsellor_id, version.approved_by) == ("edit", admin.id, None)
        assert version.before["answer_eleve"] == STAGE.answer_eleve and version.after["answer_eleve"] == NEW_ANSWER
        changed = {name for name, _, _ in kb_admin.changed_fields(version)}
        assert changed == {"answer_eleve", "valid_until", "sources"}
        served = {e.id: e for e in load_entries(session)}["stage-seconde-pro"]
        assert served.answer_for("eleve") == NEW_ANSWER


def test_a_counsellor_edit_waits_for_an_admin(engine, team):
    counsellor, admin = team
    with session_scope(engine) as session:
        change = _edit(session, counsellor, answer_eleve=NEW_ANSWER)
        assert not change.applied and change.proposal.kind == "edit"
        proposal_id = change.proposal.id
    with session_scope(engine) as session:
        assert session.get(KBEntry, "stage-seconde-pro").answer_eleve == STAGE.answer_eleve
        assert _versions(session, "stage-seconde-pro") == []
        assert [p.id for p in kb_admin.pending_changes(session, entry_id="stage-seconde-pro")] == [proposal_id]
        with pytest.raises(KnowledgeAdminError, match="seul un administrateur"):
            kb_admin.approve_change(session, proposal_id=proposal_id, reviewer=counsellor, now=LATER)
        # The proposals' review page neither lists it nor approves it without applying it.
        assert proposal_id not in [p.id for p in proposals.proposals(session)]
        with pytest.raises(proposals.ProposalError):
            proposals.approve(session, proposal_id=proposal_id, reviewer_id=admin.id, now=LATER)
    with session_scope(engine) as session:
        assert kb_admin.approve_change(session, proposal_id=proposal_id, reviewer=admin, now=LATER) == "stage-seconde-pro"
    with session_scope(engine) as session:
        assert session.get(KBEntry, "stage-seconde-pro").answer_eleve == NEW_ANSWER
        [version] = _versions(session, "stage-seconde-pro")
        assert (version.counsellor_id, version.approved_by, version.proposal_id) == (counsellor.id, admin.id, proposal_id)
        proposal = session.get(KBProposal, proposal_id)
        assert (proposal.status, proposal.reviewed_by) == ("approved", admin.id)
        with pytest.raises(KnowledgeAdminError, match="déjà été examinée"):
            kb_admin.approve_change(session, proposal_id=proposal_id, reviewer=admin, now=LATER)


def test_a_rejected_change_changes_nothing(engine, team):
    counsellor, admin = team
    with session_scope(engine) as session:
        proposal_id = kb_admin.request_retire(session, actor=counsellor, entry_id="internat-demande", now=MONDAY_10H).proposal.id
    with session_scope(engine) as session:
        kb_admin.reject_change(session, proposal_id=proposal_id, reviewer=admin, now=LATER)
    with session_scope(engine) as session:
        assert session.get(KBEntry, "internat-demande").status == "review"
        assert session.get(KBProposal, proposal_id).status == "rejected"
        assert kb_admin.pending_changes(session) == []


def test_what_a_counsellor_types_is_anonymised_and_checked(engine, team):
    _, admin = team
    with session_scope(engine) as session:
        kb_admin.request_edit(session, actor=admin, entry_id="stage-seconde-pro", title=STAGE.title, title_parent="",
                              answer_eleve="Écris à Mme Dupont : claire.dupont@ac-exemple.fr ou au 06 12 34 56 78.",
                              answer_parent=STAGE.answer_parent, sources=[], valid_until="",
                              anonymise=anonymise_text, now=MONDAY_10H)
        answer = session.get(KBEntry, "stage-seconde-pro").answer_eleve
        assert "claire.dupont" not in answer and "06 12" not in answer and "[E-MAIL]" in answer
    with session_scope(engine) as session:
        for changes, message in (({"answer_parent": "  "}, "une réponse pour les élèves et une pour les parents"),
                                 ({"title": ""}, "il faut un titre"),
                                 ({"valid_until": "31/07/2027"}, "AAAA-MM-JJ"),
                                 ({"sources": ["javascript:alert(1)"]}, "adresse web complète"),
                                 ({"sources": ["https://suivi.example.org/dossier?eleve=lea.dupont@gmail.com"]},
                                  "données personnelles"),
                                 ({}, "rien n'a changé")):
            with pytest.raises(KnowledgeAdminError, match=message):
                _edit(session, admin, anonymise=anonymise_text, **changes)


def test_merging_moves_the_questions_and_the_kept_answer_serves_both(engine, team):
    _, admin = team
    with session_scope(engine) as session:
        kb_admin.request_merge(session, actor=admin, entry_id="stage-seconde-pro", duplicate_id="periode-pfmp-seconde",
                               now=MONDAY_10H)
    with session_scope(engine) as session:
        kept, duplicate = session.get(KBEntry, "stage-seconde-pro"), session.get(KBEntry, "periode-pfmp-seconde")
        assert (duplicate.status, duplicate.merged_into, duplicate.variants) == ("merged", "stage-seconde-pro", [])
        assert len(kept.variants) == 5 and kept.times_asked == 5
        served = load_entries(session)
        assert "periode-pfmp-seconde" not in {e.id for e in served}
        best = Retriever(served).search("à quel moment on part en pfmp en seconde professionnelle")[0]
        assert best.kb_id == "stage-seconde-pro"
        assert [v.action for v in _versions(session, "periode-pfmp-seconde")] == ["merged"]
        [merge] = _versions(session, "stage-seconde-pro")
        assert merge.action == "merge" and len(merge.after["questions"]) == 5 and len(merge.before["questions"]) == 3
        for duplicate_id, message in (("stage-seconde-pro", "elle-même"), ("periode-pfmp-seconde", "déjà fusionné")):
            with pytest.raises(KnowledgeAdminError, match=message):
                kb_admin.request_merge(session, actor=admin, entry_id="stage-seconde-pro", duplicate_id=duplicate_id,
                                       now=LATER)
        with pytest.raises(KnowledgeAdminError, match="fusionnée dans"):
            _edit(session, admin, entry_id="periode-pfmp-seconde", answer_eleve="autre chose")


def test_splitting_moves_the_chosen_questions_to_a_new_entry(engine, team):
    counsellor, admin = team
    with session_scope(engine) as session:
        cost = [v.id for v in session.get(KBEntry, "internat-demande").variants
                if "coûte" in v.text or "payant" in v.text]
        assert len(cost) == 2
        change = kb_admin.request_split(
            session, actor=counsellor, entry_id="internat-demande", variant_ids=cost, title="Combien coûte l'internat ?",
            title_parent="Combien coûte l'internat pour votre enfant ?",
            answer_eleve="L'internat est payant, mais ta bourse peut en couvrir une partie.",
            answer_parent="L'internat est payant ; la bourse de lycée peut en couvrir une partie.",
            sources=["https://www.education.gouv.fr"], anonymise=same_text, now=MONDAY_10H)
        assert not change.applied
    with session_scope(engine) as session:
        created_id = kb_admin.approve_change(session, proposal_id=change.proposal.id, reviewer=admin, now=LATER)
    with session_scope(engine) as session:
        created, origin = session.get(KBEntry, created_id), session.get(KBEntry, "internat-demande")
        assert created.origin == "console" and created.status == "active" and created.reviewed_by == counsellor.id
        assert sorted(v.text for v in created.variants) == ["combien coûte l'internat au lycée", "l'internat est payant ou gratuit ?"]
        assert [v.text for v in origin.variants] == ["comment on fait pour avoir une place à l'internat"]
        assert [v.action for v in _versions(session, created_id)] == ["split_from"]
        assert [v.action for v in _versions(session, "internat-demande")] == ["split"]
        assert Retriever(load_entries(session)).search("combien coûte l'internat au lycée")[0].kb_id == created_id
        only = [v.id for v in origin.variants]
        with pytest.raises(KnowledgeAdminError, match="au moins une question"):
            kb_admin.request_split(session, actor=admin, entry_id="internat-demande", variant_ids=only, title="x",
                                   title_parent="", answer_eleve="a", answer_parent="b", sources=[],
                                   anonymise=same_text, now=LATER)


def test_retiring_stops_serving_and_restoring_serves_again(engine, team):
    _, admin = team
    with session_scope(engine) as session:
        kb_admin.request_retire(session, actor=admin, entry_id="stage-seconde-pro", now=MONDAY_10H)
    with session_scope(engine) as session:
        assert "stage-seconde-pro" not in {e.id for e in load_entries(session)}
        with pytest.raises(KnowledgeAdminError, match="déjà retirée"):
            kb_admin.request_retire(session, actor=admin, entry_id="stage-seconde-pro", now=LATER)
        kb_admin.request_restore(session, actor=admin, entry_id="stage-seconde-pro", now=LATER)
    with session_scope(engine) as session:
        assert "stage-seconde-pro" in {e.id for e in load_entries(session)}
        assert [v.action for v in _versions(session, "stage-seconde-pro")] == ["restore", "retire"]


def test_reviewing_clears_the_doubts_and_serves_the_entry(engine, team):
    counsellor, admin = team
    with session_scope(engine) as session:
        assert "internat-demande" not in {e.id for e in load_entries(session)}
        proposal_id = kb_admin.request_review(session, actor=counsellor, entry_id="internat-demande", now=MONDAY_10H).proposal.id
        kb_admin.approve_change(session, proposal_id=proposal_id, reviewer=admin, now=LATER)
    with session_scope(engine) as session:
        entry = session.get(KBEntry, "internat-demande")
        assert (entry.status, entry.review_reasons, entry.reviewed_by) == ("active", [], counsellor.id)
        assert entry.reviewed_at is not None
        assert "internat-demande" in {e.id for e in load_entries(session)}


def test_a_change_waiting_for_an_admin_is_checked_again_when_approved(engine, team):
    counsellor, admin = team
    with session_scope(engine) as session:
        pending = kb_admin.request_edit(session, actor=counsellor, entry_id="periode-pfmp-seconde",
                                        title=STAGE_DUPLICATE.title, title_parent="", answer_eleve="Autre réponse.",
                                        answer_parent=STAGE_DUPLICATE.answer_parent, sources=[], valid_until="",
                                        anonymise=same_text, now=MONDAY_10H).proposal.id
        kb_admin.request_merge(session, actor=admin, entry_id="stage-seconde-pro", duplicate_id="periode-pfmp-seconde",
                               now=MONDAY_10H)
    with session_scope(engine) as session:
        with pytest.raises(KnowledgeAdminError, match="fusionnée"):
            kb_admin.approve_change(session, proposal_id=pending, reviewer=admin, now=LATER)


def test_the_list_filters_searches_and_counts_use(engine, team):
    _, admin = team
    with session_scope(engine) as session:
        for n in range(3):
            session.add(ChatMessage(sender_id=f"s{n}", author="bot", text="…",
                                    payload={"answer": {"kb_id": "periode-pfmp-seconde"}}))
        session.add(ChatMessage(sender_id="s9", author="bot", text="…", payload={"answer": {"kb_id": "stage-seconde-pro"}}))
        session.add(Feedback(sender_id="s1", kb_id="stage-seconde-pro", value=-1))
        session.add(Feedback(sender_id="s2", kb_id="stage-seconde-pro", value=-1))
        session.add(Feedback(sender_id="s3", kb_id="periode-pfmp-seconde", value=1))
        session.get(KBEntry, "stage-seconde-pro").valid_until = date(2026, 9, 1)
    today = date(2026, 12, 7)
    with session_scope(engine) as session:
        listed = kb_admin.list_entries(session, today=today)
        assert [e.id for e in listed] == ["periode-pfmp-seconde", "stage-seconde-pro", "internat-demande"]
        assert listed[0].usage == kb_admin.Usage(served=3, liked=1, disliked=0)
        assert listed[0].topic == "Stages (PFMP)"
        assert [e.id for e in kb_admin.list_entries(session, today=today, order="disliked")][0] == "stage-seconde-pro"
        assert [e.id for e in kb_admin.list_entries(session, today=today, show="review")] == ["internat-demande"]
        assert [e.id for e in kb_admin.list_entries(session, today=today, show="outdated")] == ["stage-seconde-pro"]
        assert [e.id for e in kb_admin.list_entries(session, today=today, search="INTERNAT payant")] == ["internat-demande"]
        assert {e.id for e in kb_admin.list_entries(session, today=today, topic="Stages (PFMP)")} == {
            "stage-seconde-pro", "periode-pfmp-seconde"}
        kb_admin.request_retire(session, actor=admin, entry_id="internat-demande", now=MONDAY_10H)
    with session_scope(engine) as session:
        assert [e.id for e in kb_admin.list_entries(session, today=today, show="retired")] == ["internat-demande"]
        assert "internat-demande" not in [e.id for e in kb_admin.list_entries(session, today=today)]


# ---------------------------------------------------------------------------------------------------- rebuilds


def _rebuilt(**changes):
    """The pipeline's output at the next build: the same entries, with fresh questions and counts."""
    from dataclasses import replace

    fresh = {entry.id: replace(entry, variants=entry.variants + (Variant(f"nouvelle question sur {entry.id}", "t99"),),
                               times_asked=entry.times_asked + 1) for entry in (STAGE, STAGE_DUPLICATE, INTERNAT)}
    for entry_id, fields in changes.items():
        fresh[entry_id.replace("_", "-")] = replace(fresh[entry_id.replace("_", "-")], **fields)
    return list(fresh.values())


def test_a_rebuild_keeps_counsellors_edits_and_refreshes_questions(engine, team):
    _, admin = team
    with session_scope(engine) as session:
        _edit(session, admin, answer_eleve=NEW_ANSWER, title="Quand part-on en PFMP en seconde pro ?",
              valid_until="2027-06-30")
    with session_scope(engine) as session:
        replace_pipeline_entries(session, entries=_rebuilt(
            stage_seconde_pro={"answer_eleve": "Réponse regénérée par le pipeline.", "status": "review",
                               "review_reasons": ("Réponse à vérifier.",)}))
    with session_scope(engine) as session:
        entry = session.get(KBEntry, "stage-seconde-pro")
        assert (entry.answer_eleve, entry.title, entry.valid_until) == (
            NEW_ANSWER, "Quand part-on en PFMP en seconde pro ?", date(2027, 6, 30))
        assert entry.status == "active" and entry.edited and entry.times_asked == 4
        assert "nouvelle question sur stage-seconde-pro" in [v.text for v in entry.variants]
        assert len(_versions(session, "stage-seconde-pro")) == 1  # the history survives the rebuild


def test_a_rebuild_keeps_retired_and_merged_entries_so(engine, team):
    _, admin = team
    with session_scope(engine) as session:
        kb_admin.request_retire(session, actor=admin, entry_id="internat-demande", now=MONDAY_10H)
        kb_admin.request_merge(session, actor=admin, entry_id="stage-seconde-pro", duplicate_id="periode-pfmp-seconde",
                               now=MONDAY_10H)
    for _ in range(2):  # twice: the merged questions are not added again
        with session_scope(engine) as session:
            replace_pipeline_entries(session, entries=_rebuilt())
    with session_scope(engine) as session:
        assert session.get(KBEntry, "internat-demande").status == "retired"
        duplicate, kept = session.get(KBEntry, "periode-pfmp-seconde"), session.get(KBEntry, "stage-seconde-pro")
        assert (duplicate.status, duplicate.merged_into, duplicate.variants) == ("merged", "stage-seconde-pro", [])
        texts = [v.text for v in kept.variants]
        assert "à quel moment on part en pfmp en seconde professionnelle" in texts
        assert "nouvelle question sur periode-pfmp-seconde" in texts and len(texts) == len(set(texts)) == 7
        assert {e.id for e in load_entries(session)} == {"stage-seconde-pro"}


def test_a_rebuild_keeps_a_review_while_the_answers_are_the_same(engine, team):
    _, admin = team
    with session_scope(engine) as session:
        kb_admin.request_review(session, actor=admin, entry_id="internat-demande", now=MONDAY_10H)
    with session_scope(engine) as session:
        replace_pipeline_entries(session, entries=_rebuilt())
    with session_scope(engine) as session:
        entry = session.get(KBEntry, "internat-demande")
        assert (entry.status, entry.review_reasons, entry.reviewed_by) == ("active", [], admin.id)
    with session_scope(engine) as session:
        replace_pipeline_entries(session, entries=_rebuilt(internat_demande={"answer_eleve": "Une réponse nouvelle."}))
    with session_scope(engine) as session:
        entry = session.get(KBEntry, "internat-demande")
        assert entry.status == "review" and entry.review_reasons == list(INTERNAT.review_reasons)


def test_a_rebuild_leaves_split_questions_in_their_new_entry(engine, team):
    _, admin = team
    with session_scope(engine) as session:
        cost = [v.id for v in session.get(KBEntry, "internat-demande").variants if "coûte" in v.text]
        created_id = kb_admin.request_split(
            session, actor=admin, entry_id="internat-demande", variant_ids=cost, title="Combien coûte l'internat ?",
            title_parent="", answer_eleve="L'internat est payant.", answer_parent="L'internat est payant.",
            sources=[], anonymise=same_text, now=MONDAY_10H).entry_id
    with session_scope(engine) as session:
        replace_pipeline_entries(session, entries=_rebuilt())
    with session_scope(engine) as session:
        assert "combien coûte l'internat au lycée" not in [v.text for v in session.get(KBEntry, "internat-demande").variants]
        assert [v.text for v in session.get(KBEntry, created_id).variants] == ["combien coûte l'internat au lycée"]
        total = session.execute(select(func.count(KBVariant.id)).where(
            KBVariant.text == "combien coûte l'internat au lycée")).scalar_one()
        assert total == 1
        assert session.execute(select(func.count(KBEntryVersion.id))).scalar_one() == 2


def test_a_rebuild_keeps_an_edited_entry_the_pipeline_no_longer_makes(engine, team):
    _, admin = team
    with session_scope(engine) as session:
        _edit(session, admin, answer_eleve=NEW_ANSWER)
    with session_scope(engine) as session:
        replace_pipeline_entries(session, entries=[INTERNAT])
    with session_scope(engine) as session:
        assert session.get(KBEntry, "periode-pfmp-seconde") is None  # not edited: gone with the pipeline's output
        kept = session.get(KBEntry, "stage-seconde-pro")
        assert kept.answer_eleve == NEW_ANSWER and len(kept.variants) == 3
        assert "stage-seconde-pro" in {e.id for e in load_entries(session)}


def test_an_older_database_gets_the_pending_changes_columns(tmp_path):
    import sqlite3

    from orientbot.db import create_schema, make_engine

    path = tmp_path / "old.db"
    with sqlite3.connect(path) as db:
        db.execute("create table kb_proposals (id integer primary key, ticket_id varchar(36), target_entry_id varchar(120), "
                   "title text not null, questions json not null, answer_eleve text not null, answer_parent text not null, "
                   "sources json not null, status varchar(12) not null, proposed_by integer not null, "
                   "reviewed_by integer, created_entry_id varchar(120), created_at datetime not null, reviewed_at datetime)")
        db.execute("insert into kb_proposals values (1, null, null, 'Stage', '[\"stage ?\"]', 'a', 'b', '[]', 'proposed', 1, "
                   "null, null, '2026-11-30 10:00:00', null)")
    engine = make_engine(f"sqlite:///{path}")
    create_schema(engine)
    with session_scope(engine) as session:
        proposal = session.get(KBProposal, 1)
        assert (proposal.kind, proposal.payload) == ("knowledge", None)
        assert kb_admin.pending_changes(session) == []
        assert session.execute(select(func.count(KBEntryVersion.id))).scalar_one() == 0
