"""The queue in pages (issue 13): every open ticket reachable, urgent first across pages, the counts, the filters
and the school kept from page to page, a French message for a page that does not exist; the JSON twin alike."""
from dataclasses import replace
from datetime import timedelta
from html import unescape

import pytest

from console.queue import QueuePage
from orientbot import schools
from orientbot.db import session_scope
from orientbot.settings import Settings
from tests.factories import MONDAY_10H, add_account, add_ticket

SIZE = 3
SCHOOL_A, SCHOOL_B = "0751234A", "0931234B"


@pytest.fixture
def console_settings():
    settings = Settings()
    return replace(settings, console=replace(settings.console, queue_page_size=SIZE))


def _add(engine, tickets):
    """``tickets``: (question, values) pairs; their ids in the same order."""
    with session_scope(engine) as session:
        return [add_ticket(session, question=question, **values).id for question, values in tickets]


def _ids(browser, query=""):
    return [t["id"] for t in browser.get(f"/api/queue{query}").json()["tickets"]]


@pytest.fixture
def seven(engine):
    """Two urgent tickets (the later due first in time but after the urgent ones) and five others: the queue's order."""
    normal = _add(engine, [(f"question {n}", {"due_in": timedelta(minutes=10 * (n + 1))}) for n in range(4)])
    no_promise = _add(engine, [("sans délai promis", {"due_in": None})])
    urgent = _add(engine, [("on me harcèle", {"priority": "urgent", "reason": "distress", "due_in": timedelta(hours=3)}),
                           ("je veux en finir", {"priority": "urgent", "reason": "distress",
                                                 "due_in": timedelta(hours=2)})])
    return [urgent[1], urgent[0], *normal, *no_promise]


def test_the_pages_follow_the_queue_s_order_urgent_first_with_the_counts(alice, seven):
    pages = [alice.get(f"/api/queue?page={n}").json() for n in (1, 2, 3)]
    assert [t["id"] for page in pages for t in page["tickets"]] == seven
    assert [t["urgent"] for t in pages[0]["tickets"]] == [True, True, False]
    assert [(p["page"], p["pages"], p["total"], p["urgent"], p["count"]) for p in pages] == [
        (1, 3, 7, 2, 3), (2, 3, 7, 2, 3), (3, 3, 7, 2, 1)]
    assert [p["summary"] for p in pages] == ["Tickets 1–3 sur 7 · 2 urgents", "Tickets 4–6 sur 7 · 2 urgents",
                                             "Ticket 7 sur 7 · 2 urgents"]
    assert _ids(alice) == seven[:3]  # no page: the first
    assert seven[3] in pages[1]["html"] and seven[0] not in pages[1]["html"]


def test_the_page_shows_its_counts_and_links_to_the_others(alice, seven):
    first = unescape(alice.get("/queue").text)
    assert "Tickets 1–3 sur 7 · 2 urgents" in first and "Page 1 sur 3" in first
    assert 'href="/queue?page=2" rel="next"' in first and 'rel="prev"' not in first
    assert 'data-live="/api/queue"' in first
    middle = unescape(alice.get("/queue?page=2").text)
    assert 'href="/queue" rel="prev"' in middle and 'href="/queue?page=3" rel="next"' in middle
    assert 'data-live="/api/queue?page=2"' in middle  # the live refresh stays on this page
    assert seven[3] in middle and seven[0] not in middle
    last = unescape(alice.get("/queue?page=3").text)
    assert 'rel="next"' not in last and "Ticket 7 sur 7" in last


def test_the_filters_are_kept_from_page_to_page(alice, engine):
    parents = _add(engine, [(f"mon fils, question {n}", {"audience": "parent", "due_in": timedelta(minutes=n + 1)})
                            for n in range(4)])
    _add(engine, [("question d'élève", {"due_in": timedelta(minutes=1)})] * 2)
    page = unescape(alice.get("/queue?audience=parent").text)
    assert "Tickets 1–3 sur 4 · 0 urgent" in page
    assert 'href="/queue?audience=parent&page=2" rel="next"' in page
    assert 'data-live="/api/queue?audience=parent"' in page
    second = unescape(alice.get("/queue?audience=parent&page=2").text)
    assert 'href="/queue?audience=parent" rel="prev"' in second
    assert 'data-live="/api/queue?audience=parent&page=2"' in second
    data = alice.get("/api/queue?audience=parent&page=2").json()
    assert [t["id"] for t in data["tickets"]] == parents[3:] and data["total"] == 4 and data["pages"] == 2
    assert _ids(alice, "?audience=parent") + _ids(alice, "?audience=parent&page=2") == parents


def test_a_page_past_the_end_shows_the_last_one_and_says_so(alice, seven):
    page = unescape(alice.get("/queue?page=9").text)
    assert "La page 9 n'existe pas (plus) : il n'y en a que 3. Voici la dernière." in page
    assert seven[6] in page and "Page 3 sur 3" in page
    data = alice.get("/api/queue?page=9").json()
    assert data["page"] == 3 and [t["id"] for t in data["tickets"]] == seven[6:]
    assert data["problems"] == ["La page 9 n'existe pas (plus) : il n'y en a que 3. Voici la dernière."]


def test_a_page_past_the_end_of_a_short_or_empty_queue(alice, engine):
    empty = alice.get("/api/queue?page=2").json()
    assert empty["problems"] == ["La page 2 n'existe pas (plus) : aucun ticket ne correspond pour l'instant."]
    assert empty["tickets"] == [] and empty["summary"] == "Aucun ticket" and empty["pages"] == 1
    _add(engine, [("une seule question", {})])
    page = unescape(alice.get("/queue?page=2").text)
    assert "La page 2 n'existe pas (plus) : tout tient sur une seule page, la voici." in page
    assert "Ticket 1 sur 1 · 0 urgent" in page and "Page 1 sur 1" not in page  # one page: no page links


@pytest.mark.parametrize("value", ["abc", "0", "-1", "2.5", "<b>", "²", "1" * 12])
def test_a_bad_page_value_shows_the_first_page_in_french(alice, seven, value):
    page = alice.get("/queue", params={"page": value})
    shown = value if len(value) <= 20 else value[:20] + "…"
    assert page.status == 200 and f"« {shown} » n'est pas un numéro de page : voici la première page." in unescape(page.text)
    assert "<b>" not in page.text
    data = alice.get("/api/queue", params={"page": value}).json()
    assert data["page"] == 1 and [t["id"] for t in data["tickets"]] == seven[:3] and len(data["problems"]) == 1


def test_tickets_due_at_the_same_moment_are_neither_repeated_nor_skipped(alice, engine):
    same = _add(engine, [(f"question {n}", {"created": MONDAY_10H}) for n in range(8)])
    seen = [ticket_id for n in (1, 2, 3) for ticket_id in _ids(alice, f"?page={n}")]
    assert sorted(seen) == sorted(same) and len(set(seen)) == 8
    assert seen == sorted(same)  # the same due and creation times: by id


def test_a_counsellor_of_a_school_pages_through_that_school_s_tickets_only(console, people, engine):
    with session_scope(engine) as session:
        add_account(session, "anne", display_name="Anne Roux", school=SCHOOL_A)
        add_account(session, "cio", display_name="Céline Orient")
    ours = _add(engine, [(f"dossier {n}", {"school": SCHOOL_A, "sender_id": schools.sender_for_school(SCHOOL_A, f"{n:032x}"),
                                            "due_in": timedelta(minutes=n + 1)}) for n in range(4)])
    ours.insert(0, _add(engine, [("on me menace", {"school": SCHOOL_A, "priority": "urgent", "reason": "distress",
                                                   "sender_id": schools.sender_for_school(SCHOOL_A, "f" * 32)})])[0])
    theirs = _add(engine, [(f"stage {n}", {"school": SCHOOL_B, "due_in": timedelta(seconds=n),
                                           "sender_id": schools.sender_for_school(SCHOOL_B, f"{n:032x}")})
                           for n in range(3)])
    anne = console()
    assert anne.login("anne").status == 303
    first, second = anne.get("/api/queue").json(), anne.get("/api/queue?page=2").json()
    assert [t["id"] for t in first["tickets"] + second["tickets"]] == ours
    assert (first["total"], first["urgent"], first["pages"]) == (5, 1, 2)
    assert anne.get("/api/queue?page=3").json()["page"] == 2
    assert not set(theirs) & set(unescape(anne.get("/queue?page=2").text).split('"'))
    cio = console()
    assert cio.login("cio").status == 303
    data = cio.get("/api/queue").json()
    assert (data["total"], data["urgent"], data["pages"]) == (8, 1, 3)


def test_the_summary_counts_in_french():
    rows = [{}] * 50
    assert QueuePage(rows, 2, 25, 51, 1234, 12).summary == "Tickets 51–100 sur 1\u202f234 · 12 urgents"
    assert QueuePage(rows[:1], 1, 1, 1, 1, 1).summary == "Ticket 1 sur 1 · 1 urgent"
    assert QueuePage([], 1, 1, 0, 0, 0).summary == "Aucun ticket"
    assert QueuePage([], 2, 2, 0, 3, 0).summary == "Plus aucun ticket sur cette page, 3 en tout · 0 urgent"


def test_an_existing_database_gets_the_queue_s_and_the_dashboard_s_indexes_at_the_next_start(engine):
    from sqlalchemy import text

    from orientbot.db import _index_names, create_schema

    added = {"ix_tickets_queue", "ix_tickets_created_at", "ix_tickets_school_created_at"}
    with engine.begin() as connection:  # a database made before issue 13
        for name in added:
            connection.execute(text(f"DROP INDEX {name}"))
    assert not added & _index_names(engine, "tickets")
    create_schema(engine)
    create_schema(engine)  # the next start: nothing left to add
    assert added <= _index_names(engine, "tickets")
