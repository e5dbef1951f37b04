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


# --- a request resent while its ticket waits in the spool ------------------------------------------------------

def down_and_up(tmp_path):
    down = make_engine(f"sqlite:///{tmp_path}/missing/dir/db.sqlite")  # cannot be opened
    up = make_engine(f"sqlite:///{tmp_path}/db.sqlite")
    create_schema(up)
    return down, up


def promised(letter, **overrides):
    """A deferred handoff that gave the person a retrieval code (its hash made of ``letter``) and owes an alert."""
    from datetime import datetime, timedelta, timezone

    now = datetime.now(timezone.utc)
    values = dict(mode="deferred", created_at=now.isoformat(), due_at=(now + timedelta(hours=12)).isoformat(),
                  pickup_hash=letter * 64, pickup_expires_at=(now + timedelta(days=30)).isoformat())
    values.update(overrides)
    return new_ticket(**values)


def codes_and_alerts(engine):
    from orientbot.db import Delivery, PickupCode

    with session_scope(engine) as session:
        codes = {code.code_hash[0]: code.ticket_id for code in session.execute(select(PickupCode)).scalars()}
        alerts = [row.ticket_id for row in session.execute(select(Delivery).where(Delivery.channel == "on_call")).scalars()]
    return codes, alerts


def spooled_tickets(spool):
    return [line for line in map(json.loads, spool.read_text(encoding="utf-8").splitlines()) if "joins" not in line]


def test_a_request_resent_while_the_database_is_down_joins_its_spooled_ticket(tmp_path):
    spool = tmp_path / "spool.jsonl"
    down, up = down_and_up(tmp_path)
    asked = [{"from": "user", "text": "aide"}]
    first = TicketStore(down, spool).open_ticket(promised("a", transcript=asked, alert_on_call=True))
    resent = asked + [{"from": "bot", "text": "Un conseiller vous répondra."}, {"from": "user", "text": "aide"}]
    again = TicketStore(down, spool).open_ticket(promised("b", transcript=resent, alert_on_call=True))
    assert (again.ticket_id, again.stored, again.new) == (first.ticket_id, False, False)
    assert [line["id"] for line in spooled_tickets(spool)] == [first.ticket_id]

    assert TicketStore(up, spool).flush() == 2
    [row] = stored_tickets(up)
    assert row.id == first.ticket_id and row.spooled and row.transcript == resent
    codes, alerts = codes_and_alerts(up)
    assert codes == {"a": first.ticket_id, "b": first.ticket_id}  # the code given with either reply reads it
    assert alerts == [first.ticket_id]  # on-call is told once
    assert not spool.exists()


def test_an_urgent_resend_makes_the_spooled_ticket_urgent_and_owes_its_alert(tmp_path):
    from datetime import datetime, timedelta, timezone

    from orientbot.db import as_utc

    spool = tmp_path / "spool.jsonl"
    down, up = down_and_up(tmp_path)
    first = TicketStore(down, spool).open_ticket(promised("a"))
    soon = datetime.now(timezone.utc) + timedelta(hours=1)
    again = TicketStore(down, spool).open_ticket(promised("b", priority="urgent", alert_on_call=True, due_at=soon.isoformat()))
    assert again.ticket_id == first.ticket_id and len(spooled_tickets(spool)) == 1

    TicketStore(up, spool).flush()
    [row] = stored_tickets(up)
    assert row.priority == "urgent" and as_utc(row.due_at) == soon
    assert codes_and_alerts(up)[1] == [first.ticket_id]
    # A normal resend after that does not make it normal again.
    TicketStore(up, spool).open_ticket(promised("c"))
    [row] = stored_tickets(up)
    assert row.priority == "urgent" and codes_and_alerts(up)[1] == [first.ticket_id]


def test_a_resend_spooled_while_the_database_is_down_joins_the_ticket_already_open_there(tmp_path):
    spool = tmp_path / "spool.jsonl"
    down, up = down_and_up(tmp_path)
    first = TicketStore(up, spool).open_ticket(promised("a", alert_on_call=True))
    again = TicketStore(down, spool).open_ticket(promised("b", alert_on_call=True))
    assert not again.stored  # the database could not be read: the spool cannot know the ticket yet

    assert TicketStore(up, spool).flush() == 1
    [row] = stored_tickets(up)
    assert row.id == first.ticket_id and not row.spooled
    codes, alerts = codes_and_alerts(up)
    assert codes == {"a": first.ticket_id, "b": first.ticket_id} and alerts == [first.ticket_id]
    # A second resend joined in the spool to the first resend follows it to the ticket in the database.
    TicketStore(down, spool).open_ticket(promised("c"))
    TicketStore(down, spool).open_ticket(promised("d"))
    TicketStore(up, spool).flush()
    assert [row.id for row in stored_tickets(up)] == [first.ticket_id]
    assert set(codes_and_alerts(up)[0]) == {"a", "b", "c", "d"}


def test_a_different_request_while_the_database_is_down_is_a_ticket_of_its_own(tmp_path):
    from datetime import datetime, timedelta, timezone

    spool = tmp_path / "spool.jsonl"
    down, up = down_and_up(tmp_path)
    store = TicketStore(down, spool)
    first = store.open_ticket(new_ticket(question="un conseiller svp"))
    assert store.open_ticket(new_ticket(question="et pour mon stage aussi")).new
    assert store.open_ticket(new_ticket(question="un conseiller svp", sender_id="quelqu-un-d-autre")).new
    an_hour_later = (datetime.now(timezone.utc) + timedelta(hours=1)).isoformat()
    assert store.open_ticket(new_ticket(question="un conseiller svp", created_at=an_hour_later)).new
    assert not store.open_ticket(new_ticket(question="un conseiller svp")).new
    assert len(spooled_tickets(spool)) == 4
    TicketStore(up, spool).flush()
    assert len(stored_tickets(up)) == 4 and first.ticket_id in {row.id for row in stored_tickets(up)}


def test_a_resend_joined_in_the_spool_of_an_erased_conversation_brings_no_words(tmp_path):
    from datetime import datetime, timedelta, timezone

    from orientbot import chatlog

    spool = tmp_path / "spool.jsonl"
    down, up = down_and_up(tmp_path)
    TicketStore(down, spool).open_ticket(promised("a", transcript=[{"from": "user", "text": "aide"}]))
    TicketStore(down, spool).open_ticket(promised("b", priority="urgent", alert_on_call=True,
                                                  transcript=[{"from": "user", "text": "mon dossier a un souci"}]))
    with session_scope(up) as session:
        chatlog.erase(session, sender_id="s1", now=datetime.now(timezone.utc) + timedelta(minutes=1))
    TicketStore(up, spool).flush()
    [row] = stored_tickets(up)
    assert "dossier" not in str(row.transcript) + row.summary and row.priority == "urgent"  # its facts count
    codes, alerts = codes_and_alerts(up)
    assert codes == {} and alerts == [row.id]


def test_handoffs_spooled_by_several_processes_while_one_imports_are_all_kept(tmp_path):
    spool = tmp_path / "spool.jsonl"
    down, up = down_and_up(tmp_path)
    importer, stop = TicketStore(up, spool), threading.Event()

    def import_until_stopped():
        while not stop.is_set():
            importer.flush()

    thread = threading.Thread(target=import_until_stopped)
    thread.start()
    try:
        writers = [threading.Thread(target=TicketStore(down, spool).open_ticket, args=(new_ticket(sender_id=f"s{i}"),))
                   for i in range(16)]
        for writer in writers:
            writer.start()
        for writer in writers:
            writer.join()
    finally:
        stop.set()
        thread.join()
    importer.flush()
    assert sorted(row.sender_id for row in stored_tickets(up)) == sorted(f"s{i}" for i in range(16))


def test_a_resend_with_the_database_up_escalates_the_ticket_it_joins(engine, tmp_path):
    store = TicketStore(engine, tmp_path / "spool.jsonl")
    first = store.open_ticket(promised("a", transcript=[{"from": "user", "text": "aide"}]))
    again = store.open_ticket(promised("b", priority="urgent", alert_on_call=True,
                                       transcript=[{"from": "user", "text": "aide"}, {"from": "user", "text": "vite"}]))
    assert (again.ticket_id, again.new) == (first.ticket_id, False)
    [row] = stored_tickets(engine)
    assert row.priority == "urgent" and [line["text"] for line in row.transcript] == ["aide", "vite"]
    assert "vite" in row.summary
    assert codes_and_alerts(engine)[1] == [first.ticket_id]


def test_a_line_cut_short_by_a_crash_does_not_take_the_next_handoffs_with_it(tmp_path):
    spool = tmp_path / "spool.jsonl"
    down, up = down_and_up(tmp_path)
    TicketStore(down, spool).open_ticket(new_ticket(sender_id="before"))
    with open(spool, "a", encoding="utf-8") as handle:
        handle.write('{"sender_id": "crashed", "quest')  # a process killed mid-append
    TicketStore(down, spool).open_ticket(new_ticket(sender_id="after"))
    assert TicketStore(up, spool).flush() == 2
    assert sorted(row.sender_id for row in stored_tickets(up)) == ["after", "before"]
