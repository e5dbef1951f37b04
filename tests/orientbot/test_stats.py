from datetime import timedelta

from orientbot import chatlog, stats, workflow
from orientbot.db import session_scope
from tests.factories import MONDAY_10H, add_account, add_entry, add_ticket

NEAR = [{"kb_id": "parcoursup-voeux", "title": "Combien de vœux ?", "retrieval_score": 0.4, "selector_confidence": 0.3}]


def test_dashboard_figures(engine):
    with session_scope(engine) as session:
        alice = add_account(session, "alice").id
        add_entry(session)
        quick = add_ticket(session, question="combien de voeux parcoursup", reason="not_understood", candidates=NEAR,
                           created=MONDAY_10H - timedelta(days=1))
        slow = add_ticket(session, question="combien de voeux parcoursup", reason="not_understood", candidates=NEAR,
                          created=MONDAY_10H - timedelta(days=1))
        add_ticket(session, question="mon stage est annulé", reason="personal_case", created=MONDAY_10H)
        dropped = add_ticket(session, question="test", reason="asked_for_human", created=MONDAY_10H)
        add_ticket(session, question="trop vieux", created=MONDAY_10H - timedelta(days=45))
        workflow.reply(session, ticket_id=quick.id, counsellor_id=alice, text="10 vœux.", now=quick.created_at + timedelta(minutes=10))
        workflow.reply(session, ticket_id=slow.id, counsellor_id=alice, text="10 vœux.", now=slow.created_at + timedelta(minutes=30))
        workflow.close(session, ticket_id=dropped.id, counsellor_id=alice, now=MONDAY_10H, resolution="dismissed")
        for n, value in enumerate((1, 1, -1)):
            message = chatlog.append(session, sender_id=f"s{n}", author="bot", text="…", now=MONDAY_10H,
                                     payload={"answer": {"kb_id": "parcoursup-voeux"}})
            session.flush()
            chatlog.give_feedback(session, sender_id=f"s{n}", message_id=message.id, value=value, now=MONDAY_10H)
    with session_scope(engine) as session:
        figures = stats.dashboard(session, now=MONDAY_10H)
    assert figures.total == 4 and len(figures.per_day) == 30
    assert figures.per_day[-1] == (MONDAY_10H.date(), 2) and figures.per_day[-2][1] == 2
    assert dict(figures.by_reason) == {"not_understood": 2, "personal_case": 1, "asked_for_human": 1}
    assert figures.answered == 2 and figures.dismissed == 1 and round(figures.answer_rate, 2) == 0.67
    assert figures.median_first_reply == timedelta(minutes=20)
    by_topic = {group.label: group for group in figures.unanswered_by_topic}
    assert by_topic["Parcoursup"].count == 2 and by_topic["Parcoursup"].examples == ("combien de voeux parcoursup",)
    assert [(g.key, g.count) for g in figures.unanswered_by_entry] == [("parcoursup-voeux", 2), (None, 1)]
    [voeux] = figures.feedback
    assert (voeux.kb_id, voeux.up, voeux.down) == ("parcoursup-voeux", 2, 1)


def test_empty_dashboard(engine):
    with session_scope(engine) as session:
        figures = stats.dashboard(session, now=MONDAY_10H)
    assert figures.total == 0 and figures.answer_rate is None and figures.median_first_reply is None
    assert figures.feedback == [] and figures.unanswered_by_topic == []
