import json
import threading
import time

import pytest
from sqlalchemy import select

from orientbot.db import Ticket, create_schema, make_engine, session_scope
from orientbot.tickets import NewTicket, TicketStore


def new_ticket(**overrides):
    values = dict(sender_id="s1", priority="normal", reason="asked_for_human", audience="eleve", question="aide")
    values.update(overrides)
    return NewTicket(**values)


def stored_tickets(engine):
    with session_scope(engine) as session:
        return list(session.execute(select(Ticket)).scalars())


def test_ticket_is_written_with_its_packet(engine, tmp_path):
    store = TicketStore(engine, tmp_path / "spool.jsonl")
    ticket = new_ticket(
        priority="urgent", reason="distress", transcript=[{"from": "user", "text": "<script>x</script>"}],
        candidates=[{"kb_id": "a", "selector_confidence": 0.2}],
    )
    receipt = store.open_ticket(ticket)
    assert receipt.stored and receipt.ticket_id == ticket.id
    [row] = stored_tickets(engine)
    assert row.priority == "urgent" and row.reason == "distress"
    assert row.transcript[0]["text"] == "<script>x</script>"  # stored as typed; escaping is the display's job
    assert row.candidates[0]["kb_id"] == "a"


def test_unknown_priority_or_reason_is_refused():
    with pytest.raises(ValueError):
        new_ticket(priority="whenever")
    with pytest.raises(ValueError):
        new_ticket(reason="because")


def test_database_down_spools_the_ticket_then_flushes_it(tmp_path):
    spool = tmp_path / "spool.jsonl"
    down = make_engine(f"sqlite:///{tmp_path}/missing/dir/db.sqlite")  # cannot be opened
    receipt = TicketStore(down, spool).open_ticket(new_ticket(question="rappelez-moi"))
    assert not receipt.stored
    assert json.loads(spool.read_text(encoding="utf-8").splitlines()[0])["question"] == "rappelez-moi"

    up = make_engine(f"sqlite:///{tmp_path}/db.sqlite")
    create_schema(up)
    store = TicketStore(up, spool)
    assert store.flush() == 1
    assert not spool.exists()
    [row] = stored_tickets(up)
    assert row.id == receipt.ticket_id and row.spooled


def test_the_spool_is_imported_when_the_database_is_back_without_waiting_for_a_handoff(tmp_path):
    spool = tmp_path / "spool.jsonl"
    down = make_engine(f"sqlite:///{tmp_path}/missing/dir/db.sqlite")
    TicketStore(down, spool).open_ticket(new_ticket(question="au secours", priority="urgent", reason="distress"))
    up = make_engine(f"sqlite:///{tmp_path}/db.sqlite")
    create_schema(up)
    stop = threading.Event()
    thread = TicketStore(up, spool).import_regularly(0.02, stop=stop)
    try:
        for _ in range(250):
            if stored_tickets(up):
                break
            time.sleep(0.02)
    finally:
        stop.set()
        thread.join(timeout=5)
    [row] = stored_tickets(up)
    assert row.question == "au secours" and row.spooled and not spool.exists()


def test_flush_is_idempotent_when_a_spooled_ticket_already_landed(engine, tmp_path):
    spool = tmp_path / "spool.jsonl"
    ticket = new_ticket()
    store = TicketStore(engine, spool)
    store.open_ticket(ticket)
    spool.write_text(json.dumps(ticket.__dict__) + "\n", encoding="utf-8")
    assert store.flush() == 1
    assert len(stored_tickets(engine)) == 1


def test_concurrent_handoffs_all_land(engine, tmp_path):
    store = TicketStore(engine, tmp_path / "spool.jsonl")
    threads = [threading.Thread(target=store.open_ticket, args=(new_ticket(sender_id=f"s{i}"),)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(stored_tickets(engine)) == 8


def test_times_given_with_an_offset_are_read_back_as_the_same_moment(engine, tmp_path):
    from datetime import datetime, timezone

    from orientbot import workflow
    from orientbot.db import session_scope
    from orientbot.tickets import NewTicket, TicketStore

    ticket = NewTicket(sender_id="s-offset", priority="normal", reason="asked_for_human", audience="parent",
                       question="Je souhaite parler à un conseiller.", created_at="2026-12-04T21:00:00+01:00",
                       mode="deferred", due_at="2026-12-07T13:00:00+01:00")
    TicketStore(engine, tmp_path / "spool.jsonl").open_ticket(ticket)
    with session_scope(engine) as session:
        state = workflow.conversation_state(session, sender_id="s-offset")
        stored = workflow.get(session, ticket_id=ticket.id)
        assert workflow.as_utc(stored.created_at) == datetime(2026, 12, 4, 20, 0, tzinfo=timezone.utc)
    assert datetime.fromisoformat(state.due_at) == datetime(2026, 12, 7, 12, 0, tzinfo=timezone.utc)


def test_a_resent_request_joins_the_ticket_it_already_opened(engine, tmp_path):

    store = TicketStore(engine, tmp_path / "spool.jsonl")
    asked = "un conseiller pourrait-il m'appeler pour changer de filière ?"
    first = store.open_ticket(new_ticket(question=asked))
    again = store.open_ticket(new_ticket(question=asked))
    assert (again.ticket_id, again.new, again.stored) == (first.ticket_id, False, True)
    assert store.open_ticket(new_ticket(question="et pour mon stage aussi")).new
    assert store.open_ticket(new_ticket(question=asked, sender_id="quelqu-un-d-autre")).new
    assert len(stored_tickets(engine)) == 3
    with session_scope(engine) as session:
        session.get(Ticket, first.ticket_id).status = "closed"
    assert store.open_ticket(new_ticket(question=asked)).new  # the earlier one is closed: a new request


def test_the_same_words_long_after_are_a_new_request(engine, tmp_path):
    from datetime import datetime, timedelta, timezone

    store = TicketStore(engine, tmp_path / "spool.jsonl")
    an_hour_ago = (datetime.now(timezone.utc) - timedelta(hours=1)).isoformat()
    store.open_ticket(new_ticket(question="un conseiller svp", created_at=an_hour_ago))
    assert store.open_ticket(new_ticket(question="un conseiller svp")).new


def test_a_conversation_erased_while_its_ticket_waited_in_the_spool_arrives_without_its_words(tmp_path):
    from datetime import datetime, timedelta, timezone

    from orientbot import chatlog
    from orientbot.db import PickupCode

    spool = tmp_path / "spool.jsonl"
    down = make_engine(f"sqlite:///{tmp_path}/missing/dir/db.sqlite")
    handed_over = datetime(2026, 12, 7, 21, 0, tzinfo=timezone.utc)
    erased, kept = (new_ticket(sender_id=sender, question="mon dossier a un souci", summary="son dossier",
                               created_at=handed_over.isoformat(), pickup_hash=f"{sender:0<64}",
                               pickup_expires_at=(handed_over + timedelta(days=30)).isoformat())
                    for sender in ("erased", "kept"))
    for ticket in (erased, kept):
        TicketStore(down, spool).open_ticket(ticket)

    up = make_engine(f"sqlite:///{tmp_path}/db.sqlite")
    create_schema(up)
    with session_scope(up) as session:  # the person erases before the spool is imported
        chatlog.erase(session, sender_id="erased", now=handed_over + timedelta(minutes=1))
    assert TicketStore(up, spool).flush() == 2

    rows = {row.sender_id: row for row in stored_tickets(up)}
    assert "dossier" not in rows["erased"].question + rows["erased"].summary + str(rows["erased"].transcript)
    assert rows["erased"].reason == "asked_for_human"  # its facts still count
    assert rows["kept"].question == "mon dossier a un souci"
    with session_scope(up) as session:
        codes = {code.ticket_id for code in session.execute(select(PickupCode)).scalars()}
    assert codes == {kept.id}
