"""Tickets, accounts and KB entries for the console's tests (unit and browser): fictional but realistic."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Optional

from orientbot import accounts
from orientbot.db import KBEntry, KBVariant, Ticket
from orientbot.tickets import NewTicket, summarise
from orientbot.topics import topic_of

PASSWORD = "mot-de-passe-solide"
MONDAY_10H = datetime(2026, 12, 7, 9, 0, tzinfo=timezone.utc)  # 10:00 in Paris, a working Monday


def add_account(session, username: str, *, role: str = "counsellor", display_name: Optional[str] = None,
                school: Optional[str] = None):
    return accounts.create_counsellor(session, username=username, password=PASSWORD, role=role,
                                      display_name=display_name or username.capitalize(), school=school)


def add_ticket(session, *, question: str, sender_id: str = "eleve-1", priority: str = "normal",
               reason: str = "asked_for_human", audience: str = "eleve", created: datetime = MONDAY_10H,
               due_in: Optional[timedelta] = timedelta(minutes=30), mode: str = "live", candidates=(),
               transcript=None, ticket_id: Optional[str] = None, school: Optional[str] = None) -> Ticket:
    lines = transcript if transcript is not None else [
        {"from": "user", "text": question, "at": str(created.timestamp())},
        {"from": "bot", "text": "Je te mets en relation avec un conseiller.", "at": str(created.timestamp())},
    ]
    packet = NewTicket(sender_id=sender_id, priority=priority, reason=reason, audience=audience, question=question,
                       transcript=lines, candidates=list(candidates), mode=mode, topic=topic_of(question),
                       **({"id": ticket_id} if ticket_id else {}))
    ticket = Ticket(id=packet.id, sender_id=sender_id, priority=priority, reason=reason, audience=audience,
                    question=question, transcript=lines, candidates=list(candidates), created_at=created, mode=mode,
                    summary=summarise(packet), topic=packet.topic, due_at=created + due_in if due_in else None,
                    school=school)
    session.add(ticket)
    session.flush()
    return ticket


def add_entry(session, *, kb_id: str = "parcoursup-voeux", title: str = "Combien de vœux peut-on faire sur Parcoursup ?",
              answer_eleve: str = "Tu peux formuler jusqu'à 10 vœux.", answer_parent: str = "Votre enfant peut formuler jusqu'à 10 vœux.",
              variants=("cb de voeux sur parcoursup ?", "on a droit à combien de vœux ?")) -> KBEntry:
    entry = KBEntry(id=kb_id, title=title, answer_eleve=answer_eleve, answer_parent=answer_parent, sources=[],
                    variants=[KBVariant(text=text, conversation_id="c1") for text in variants])
    session.add(entry)
    session.flush()
    return entry


def seed_demo(session, *, now: datetime) -> None:
    """A realistic morning: evening tickets, an urgent one, answers, feedback, over the last weeks."""
    from orientbot import chatlog, workflow

    alice = add_account(session, "alice", display_name="Alice Martin")
    add_entry(session)
    add_entry(session, kb_id="bourse-lycee", title="Comment demander une bourse de lycée ?",
              answer_eleve="La demande se fait en ligne sur Scolarité Services, entre mai et octobre.",
              answer_parent="Vous faites la demande en ligne sur Scolarité Services, entre mai et octobre.",
              variants=("bourse lycée comment faire", "on peut avoir une aide pour le lycée ?"))
    voeux = [{"kb_id": "parcoursup-voeux", "title": "Combien de vœux peut-on faire sur Parcoursup ?",
              "retrieval_score": 0.41, "selector_confidence": 0.33}]
    bourse = [{"kb_id": "bourse-lycee", "title": "Comment demander une bourse de lycée ?",
               "retrieval_score": 0.38, "selector_confidence": 0.29}]
    history = [
        ("je sais pas quoi mettre dans mon projet motivé pour un BTS", "not_understood", "eleve", voeux),
        ("mon fils n'a eu aucune proposition affelnet, que faire ?", "personal_case", "parent", []),
        ("c'est quoi la différence entre alternance et apprentissage", "none_of_the_suggestions", "eleve", []),
        ("Comment est calculée la bourse de lycée et où la demander ?", "not_understood", "parent", bourse),
        ("jvoudrais voir un conseiller pour me reorienter apres ma L1", "asked_for_human", "eleve", []),
        ("mon stage de seconde pro est annulé, je fais comment", "personal_case", "eleve", []),
    ]
    for day in range(1, 28):
        for n in range(1 + (day * 7) % 4):
            question, reason, audience, candidates = history[(day + n) % len(history)]
            created = now - timedelta(days=day, hours=n * 2 + 1)
            ticket = add_ticket(session, question=question, reason=reason, audience=audience, created=created,
                                sender_id=f"archive-{day}-{n}", candidates=candidates)
            answered = (day + n) % 5 != 0
            if answered:
                workflow.reply(session, ticket_id=ticket.id, counsellor_id=alice.id, now=created + timedelta(minutes=12 + 9 * n),
                               text="Bonjour, je regarde votre question avec vous.")
            workflow.close(session, ticket_id=ticket.id, counsellor_id=alice.id, now=created + timedelta(hours=1),
                           resolution="handed_back" if answered else "dismissed")
    for n, (kb_id, up, down) in enumerate((("parcoursup-voeux", 14, 2), ("bourse-lycee", 6, 3))):
        for i in range(up + down):
            message = chatlog.append(session, sender_id=f"fb-{n}-{i}", author="bot", text="…", now=now,
                                     payload={"answer": {"kb_id": kb_id}})
            session.flush()
            chatlog.give_feedback(session, sender_id=f"fb-{n}-{i}", message_id=message.id, value=1 if i < up else -1, now=now)
    evening = now.replace(hour=18, minute=40) - timedelta(days=3)  # Friday evening, answers promised for Monday
    add_ticket(session, question="Bonsoir, mon fils est en 3e et hésite entre un CAP cuisine et une seconde générale, "
                                 "pouvez-vous nous conseiller ?", audience="parent", reason="personal_case", mode="deferred",
               created=evening, due_in=(now + timedelta(hours=2, minutes=40)) - evening, sender_id="parent-durand")
    add_ticket(session, question="on se moque de moi tous les jours en classe et je veux plus y aller",
               priority="urgent", reason="distress", created=now - timedelta(minutes=4), due_in=timedelta(minutes=15),
               sender_id="eleve-urgent")
    add_ticket(session, question="je comprends pas comment marche la phase complémentaire parcoursup",
               reason="none_of_the_suggestions", created=now - timedelta(minutes=50), due_in=timedelta(minutes=30),
               candidates=voeux, sender_id="eleve-psup")
    late = add_ticket(session, question="est-ce que je peux faire une demande de bourse après la rentrée ?",
                      reason="not_understood", audience="eleve", created=now - timedelta(minutes=20),
                      due_in=timedelta(minutes=30), candidates=bourse, sender_id="eleve-bourse")
    workflow.take(session, ticket_id=late.id, counsellor_id=alice.id, now=now - timedelta(minutes=5))
