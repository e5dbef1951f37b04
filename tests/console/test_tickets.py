"""The queue, the ticket page and its actions, through HTTP."""
from datetime import timedelta

from sqlalchemy import select

from orientbot import chatlog
from orientbot.db import ChatMessage, KBEntry, Ticket, session_scope
from tests.factories import MONDAY_10H, add_entry, add_ticket

SCRIPT = "<script>alert('x')</script> je veux un conseiller"
CANDIDATES = [{"kb_id": "parcoursup-voeux", "title": "Combien de vœux peut-on faire sur Parcoursup ?",
               "retrieval_score": 0.41, "selector_confidence": 0.33}]


def _ticket(engine, **values):
    with session_scope(engine) as session:
        return add_ticket(session, **values).id


def test_queue_lists_urgent_first_with_time_left(alice, engine):
    normal = _ticket(engine, question="bourse de lycée", due_in=timedelta(minutes=10))
    urgent = _ticket(engine, question="on me harcèle", priority="urgent", reason="distress", due_in=timedelta(hours=2))
    page = alice.get("/queue")
    assert page.text.index(urgent) < page.text.index(normal)
    assert "URGENT" in page.text and "reste 10 min" in page.text and "reste 2 h 00" in page.text
    data = alice.get("/api/queue").json()
    assert [t["id"] for t in data["tickets"]] == [urgent, normal] and data["tickets"][0]["urgent"]
    assert urgent in data["html"] and data["count"] == 2


def test_queue_filters_and_unknown_filter_values(alice, engine):
    parent = _ticket(engine, question="mon fils et l'apprentissage", audience="parent")
    _ticket(engine, question="parcoursup voeux", reason="not_understood")
    assert [t["id"] for t in alice.get("/api/queue?audience=parent").json()["tickets"]] == [parent]
    assert alice.get("/api/queue?reason=not_understood&topic=Parcoursup").json()["count"] == 1
    assert alice.get("/api/queue?status=closed").json()["count"] == 0
    page = alice.get("/queue?audience=martien")
    assert page.status == 200 and "valeur inconnue" in page.text and parent in page.text


def test_everything_typed_is_escaped(alice, engine):
    ticket_id = _ticket(engine, question=SCRIPT)
    with session_scope(engine) as session:
        chatlog.append(session, sender_id="eleve-1", author="user", text="<img src=x onerror=alert(1)>",
                       now=session.get(Ticket, ticket_id).created_at + timedelta(minutes=1), ticket_id=ticket_id)
    for path in ("/queue", f"/tickets/{ticket_id}"):
        text = alice.get(path).text
        assert "<script>alert" not in text and "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in text
    text = alice.get(f"/tickets/{ticket_id}").text
    assert "<img src=x" not in text and "&lt;img src=x onerror=alert(1)&gt;" in text
    assert "<script>alert" not in alice.get("/api/queue").json()["html"]
    assert "&lt;img" in alice.get(f"/api/tickets/{ticket_id}/transcript").json()["html"]


def test_take_reply_and_hand_back(alice, engine):
    ticket_id = _ticket(engine, question="jpeux parler a qqn en vrai ?")
    page = alice.post(f"/tickets/{ticket_id}/take")
    assert page.status == 303 and "Vous suivez maintenant ce ticket." in alice.follow(page).text
    page = alice.follow(alice.post(f"/tickets/{ticket_id}/reply", {"text": "Bonjour, je suis Alice, conseillère."}))
    assert "Votre réponse a été envoyée" in page.text and "Bonjour, je suis Alice, conseillère." in page.text
    with session_scope(engine) as session:
        [message] = chatlog.history(session, sender_id="eleve-1")
        assert message.author == "counsellor" and message.ticket_id == ticket_id
    page = alice.follow(alice.post(f"/tickets/{ticket_id}/hand-back"))
    assert "La conversation est rendue au bot." in page.text and "Rouvrir" in page.text
    with session_scope(engine) as session:
        ticket = session.get(Ticket, ticket_id)
        assert ticket.status == "closed" and ticket.resolution == "handed_back"
    assert "Ticket rouvert." in alice.follow(alice.post(f"/tickets/{ticket_id}/reopen")).text


def test_dismiss(alice, engine):
    ticket_id = _ticket(engine, question="test test", mode="deferred")
    assert "Ticket ignoré et clos." in alice.follow(alice.post(f"/tickets/{ticket_id}/dismiss")).text
    with session_scope(engine) as session:
        assert session.get(Ticket, ticket_id).resolution == "dismissed"


def test_second_counsellor_cannot_take_the_same_ticket(console, people, alice, engine):
    ticket_id = _ticket(engine, question="aide")
    bruno = console()
    bruno.login("bruno")
    assert alice.post(f"/tickets/{ticket_id}/take").status == 303
    page = bruno.post(f"/tickets/{ticket_id}/take")
    assert page.status == 409 and "Ce ticket est déjà pris par Alice Martin." in page.text
    page = bruno.post(f"/tickets/{ticket_id}/reply", {"text": "Ma réponse à moi"})
    assert page.status == 409 and "Ma réponse à moi" in page.text  # what was typed is kept


def test_send_a_candidate_answer_as_is_or_edited(alice, engine):
    with session_scope(engine) as session:
        add_entry(session)
        ticket_id = add_ticket(session, question="combien de voeux ?", audience="parent", candidates=CANDIDATES).id
    page = alice.get(f"/tickets/{ticket_id}")
    assert "Envoyer cette réponse" in page.text and "score de recherche 0.41" in page.text
    assert "Votre enfant peut formuler jusqu&#39;à 10 vœux." in page.text  # the parents' wording
    edited = alice.get(f"/tickets/{ticket_id}?draft=parcoursup-voeux")
    assert ">Votre enfant peut formuler jusqu&#39;à 10 vœux.</textarea>" in edited.text
    alice.post(f"/tickets/{ticket_id}/reply", {"kb_id": "parcoursup-voeux", "as_is": "1"})
    with session_scope(engine) as session:
        [message] = session.execute(select(ChatMessage)).scalars().all()
        assert message.text == "Votre enfant peut formuler jusqu'à 10 vœux."
        assert message.payload == {"kind": "kb_answer", "kb_id": "parcoursup-voeux"}


def test_bad_input_gets_a_french_message_and_keeps_the_text(alice, engine):
    ticket_id = _ticket(engine, question="aide")
    page = alice.post(f"/tickets/{ticket_id}/reply", {"text": "   "})
    assert page.status == 400 and "La réponse est vide" in page.text
    long_text = "é" * 6000
    page = alice.post(f"/tickets/{ticket_id}/reply", {"text": long_text})
    assert page.status == 400 and "6000 caractères, 5000 au plus" in page.text and long_text in page.text
    page = alice.post(f"/tickets/{ticket_id}/reply", {"text": "x" * 400_000})
    assert page.status == 413 and "trop long" in page.text
    page = alice.post(f"/tickets/{ticket_id}/reply", {"kb_id": "n-existe-pas", "as_is": "1"})
    assert page.status == 400 and "n&#39;existe plus" in page.text
    for path in ("/tickets/inconnu", "/tickets/" + "x" * 500, "/tickets/inconnu/propose"):
        page = alice.get(path)
        assert page.status == 404 and "Ce ticket n&#39;existe pas" in page.text
    assert alice.post("/tickets/inconnu/take").status == 404
    assert alice.get("/api/tickets/inconnu/transcript").status == 404
    assert alice.get("/nulle-part").status == 404
    with session_scope(engine) as session:
        assert session.execute(select(ChatMessage)).scalars().all() == []


def test_add_to_kb_then_admin_approval_creates_an_active_entry(alice, admin, engine):
    with session_scope(engine) as session:
        add_entry(session)
        ticket_id = add_ticket(session, question="Je suis Léa, je peux faire mon stage de 3e chez un boulanger ?").id
    alice.post(f"/tickets/{ticket_id}/reply", {"text": "Oui, avec une convention signée par ton collège."})
    form = alice.get(f"/tickets/{ticket_id}/propose")
    assert "Je suis Léa, je peux faire mon stage de 3e chez un boulanger ?</textarea>" in form.text
    assert "Oui, avec une convention signée par ton collège.</textarea>" in form.text
    assert "Combien de vœux peut-on faire sur Parcoursup ?" in form.text  # a suggested entry
    page = alice.post(f"/tickets/{ticket_id}/propose", {
        "target": "", "title": "Stage de 3e chez un artisan",
        "questions": "Je suis Léa, je peux faire mon stage de 3e chez un boulanger ?",
        "answer_eleve": "Oui, avec une convention signée par ton collège.",
        "answer_parent": "Oui, avec une convention signée par son collège.", "sources": ""})
    assert "attend la validation" in alice.follow(page).text
    review = admin.get("/admin/proposals")
    assert "Je suis [NOM], je peux faire mon stage" in review.text
    proposal_id = review.text.split("/admin/proposals/")[1].split("/")[0]
    assert "le bot s&#39;en sert" in admin.follow(admin.post(f"/admin/proposals/{proposal_id}/approve")).text
    with session_scope(engine) as session:
        entry = session.execute(select(KBEntry).where(KBEntry.origin == "console")).scalars().one()
        assert entry.status == "active" and entry.title == "Stage de 3e chez un artisan"
        assert entry.answer_parent == "Oui, avec une convention signée par son collège."
    page = admin.post(f"/admin/proposals/{proposal_id}/approve")
    assert page.status == 400 and "déjà été examinée" in page.text
    assert admin.post("/admin/proposals/abc/reject").status == 400


def test_refused_proposal_keeps_the_form(alice, engine):
    ticket_id = _ticket(engine, question="aide")
    page = alice.post(f"/tickets/{ticket_id}/propose", {"target": "", "title": "t", "questions": "ma question",
                                                        "answer_eleve": "", "answer_parent": "réponse parent"})
    assert page.status == 400 and "une pour les parents" in page.text and "réponse parent</textarea>" in page.text


def test_the_ticket_page_says_whether_the_answer_reached_the_family(alice, engine, clock):
    from orientbot import delivery, workflow
    from orientbot.db import Delivery
    from orientbot.settings import DeliverySettings

    ticket_id = _ticket(engine, question="mon fils hésite entre CAP et seconde", audience="parent", sender_id="parent-1",
                        mode="deferred")
    with session_scope(engine) as session:
        workflow.set_contact(session, ticket_id=ticket_id, sender_id="parent-1", channel="email",
                             email="famille@exemple.fr", consent=True, now=clock())
    alice.post(f"/tickets/{ticket_id}/reply", {"text": "Bonjour, voici ce que je vous conseille."})
    page = alice.get(f"/tickets/{ticket_id}")
    assert "En attente d&#39;envoi par e-mail" in page.text and "famille@exemple.fr" in page.text

    class Down:
        name = "email"

        def send(self, outgoing):
            raise delivery.DeliveryFailed("serveur de messagerie injoignable")

    class Up:
        name = "email"

        def send(self, outgoing):
            pass

    settings = DeliverySettings(retry_first_seconds=120, max_attempts=2)
    delivery.send_due(engine, {"email": Down()}, clock(), settings=settings)
    page = alice.get(f"/tickets/{ticket_id}")
    assert "(nouvel essai à 10:02 ; dernier essai : serveur de messagerie injoignable)" in page.text
    delivery.send_due(engine, {"email": Up()}, clock() + timedelta(minutes=3), settings=settings)
    page = alice.get(f"/tickets/{ticket_id}")
    assert "Réponse envoyée par e-mail le lun. 07/12 à 10:03" in page.text
    assert "famille@exemple.fr" not in page.text and "(adresse effacée après l'envoi)" in page.text
    assert "réponse envoyée par e-mail" in page.text  # in the ticket's history
    with session_scope(engine) as session:  # a final failure reads as such
        session.add(Delivery(ticket_id=ticket_id, channel="ent", status="failed", attempts=10, reason="refus de l'ENT (HTTP 401)"))
    assert "Échec : refus de l&#39;ENT (HTTP 401)" in alice.get(f"/tickets/{ticket_id}").text


def test_the_ticket_page_says_whether_the_answer_or_the_on_call_alert_was_sent():
    from console.tickets import delivery_line
    from orientbot.db import Delivery

    sent = MONDAY_10H
    answer = delivery_line(Delivery(channel="email", status="sent", sent_at=sent), at=sent)
    alert = delivery_line(Delivery(channel="on_call", status="sent", sent_at=sent), at=sent)
    assert answer["text"].startswith("Réponse envoyée par e-mail")
    assert alert["text"].startswith("Alerte envoyée à l'astreinte")


def test_times_follow_the_services_time_zone(alice, engine):
    """A school in La Réunion (UTC+4) reads its tickets' times on its own clock, not Paris's (issue 14)."""
    from orientbot import workflow
    from orientbot.office_hours import OfficeHours

    ticket_id = _ticket(engine, question="stage de seconde", due_in=timedelta(minutes=30))  # 09:00 UTC
    page = alice.get(f"/tickets/{ticket_id}")
    assert "lun. 07/12 à 10:00" in page.text and "lun. 07/12 à 10:30" in page.text  # Paris, by default
    with session_scope(engine) as session:
        workflow.save_office_hours(session, hours=OfficeHours(timezone="Indian/Reunion"))
    page = alice.get(f"/tickets/{ticket_id}")
    assert "lun. 07/12 à 13:00" in page.text and "lun. 07/12 à 13:30" in page.text
    assert "à 10:00" not in page.text
    assert "13:00" in alice.get("/queue").text
