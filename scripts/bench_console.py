"""Prints figures, not verdicts: how long the console's queue and dashboard take with many tickets (PostgreSQL).

    .venv/bin/python scripts/bench_console.py                 # a throwaway database, 100,000 tickets, dropped after
    .venv/bin/python scripts/bench_console.py --keep          # keeps it and prints its URL, for a second run:
    .venv/bin/python scripts/bench_console.py --database-url postgresql://postgres@127.0.0.1:5432/console_bench_123
    BENCH_DATABASE_URL=postgresql://… .venv/bin/python scripts/bench_console.py --requests 50

Owns the benchmark of issue 13 (target: each page under 300 ms at 100,000 tickets). It fills a database with
realistic tickets in bulk (a mix of statuses, priorities, schools, reasons, topics, audiences and due times; a
backlog of open tickets as after a busy day; 👍/👎 on KB entries for the dashboard, which reads no ticket events),
starts the console in this process on a free loopback port (``create_schema`` first, as ``python -m console serve``
does: it creates the indexes an existing database lacks), logs in as a counsellor of no school and one of a school,
and times N sequential requests per page, after a few unmeasured ones. A database given with ``--database-url`` that
already holds tickets is used as it is (nothing inserted, nothing deleted); an empty one is filled and emptied of
what was inserted at the end, unless ``--keep``. The throwaway database is created on ``--server-url`` and dropped.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import statistics
import sys
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Dict, List, Optional, Tuple

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp  # noqa: E402
from aiohttp import web  # noqa: E402
from sqlalchemy import create_engine, delete, func, select, text  # noqa: E402
from sqlalchemy.engine import Engine, make_url  # noqa: E402

from console import create_app  # noqa: E402
from orientbot import accounts, schools  # noqa: E402
from orientbot.db import (  # noqa: E402
    Counsellor,
    Feedback,
    KBEntry,
    Ticket,
    WebSession,
    create_schema,
    make_engine,
    session_scope,
)
from orientbot.settings import Settings  # noqa: E402
from orientbot.tickets import REASONS  # noqa: E402
from orientbot.topics import topic_of  # noqa: E402

PASSWORD = "banc-d-essai-console"  # an account of the benchmark's own database only
BENCH_USERS = ("bench-cio", "bench-ecole")
SCHOOLS = tuple(f"{n:07d}{letter}" for n, letter in zip(range(751001, 751021), "ABCDEFGHJKLMNPRSTUVW"))
QUESTIONS = (
    ("je sais pas quoi mettre dans mon projet motivé pour un BTS", "eleve"),
    ("mon fils n'a eu aucune proposition affelnet, que faire ?", "parent"),
    ("c'est quoi la différence entre alternance et apprentissage", "eleve"),
    ("Comment est calculée la bourse de lycée et où la demander ?", "parent"),
    ("jvoudrais voir un conseiller pour me reorienter apres ma L1", "eleve"),
    ("mon stage de seconde pro est annulé, je fais comment", "eleve"),
    ("je suis sur liste d'attente partout sur parcoursup", "eleve"),
    ("ma fille veut faire une PASS mais elle hésite avec une LAS", "parent"),
    ("on se moque de moi tous les jours au lycée, j'en peux plus", "eleve"),
    ("comment trouver un employeur pour un CAP en alternance ?", "eleve"),
    ("est-ce que je peux redoubler ma terminale pour changer de spécialité", "eleve"),
    ("mon enfant décroche depuis la rentrée, qui peut l'aider ?", "parent"),
    ("la CVEC c'est obligatoire même en BTS ?", "eleve"),
    ("on peut demander une dérogation pour un autre lycée ?", "parent"),
    ("quelles études pour travailler dans le jeu vidéo ?", "eleve"),
)
# Written questions are rarely twice the same: openings, endings and details make tens of thousands of them.
OPENINGS = ("", "bonjour ", "Bonsoir, ", "slt ", "Madame, Monsieur, ")
ENDINGS = ("", " svp", " merci d'avance", " ?", " c'est urgent", " pour la rentrée", " je suis perdu",
           " (classe de première)", " c'est pour ma cousine", " avant les vacances", " !!", " merci")
OPEN = ("new", "taken", "answered", "reopened")


# ---------------------------------------------------------------- data


def _ticket(rng: random.Random, now: datetime, *, is_open: bool, days: int, owners: List[int]) -> dict:
    question, audience = rng.choice(QUESTIONS)
    question = rng.choice(OPENINGS) + question + rng.choice(ENDINGS)
    if rng.random() < 0.5:
        question += f" (dossier {rng.randrange(1000)})"
    if rng.random() < 0.2:
        audience = "parent" if audience == "eleve" else "eleve"
    urgent = rng.random() < 0.04
    reason = "distress" if urgent else rng.choice(REASONS[1:])
    school = rng.choice(SCHOOLS) if rng.random() < 0.9 else None
    random_part = "%032x" % rng.getrandbits(128)
    sender = schools.sender_for_school(school, random_part) if school else f"rest-{random_part}"
    # Open tickets are of the last two weeks (a backlog after busy days), closed ones of the whole period.
    created = now - timedelta(minutes=rng.uniform(1, (14 if is_open else days) * 24 * 60))
    due = None if rng.random() < 0.1 else created + timedelta(hours=rng.choice((0.5, 1, 4, 4, 4, 24)))
    status = rng.choices(OPEN, weights=(50, 20, 20, 10))[0] if is_open else "closed"
    owner = rng.choice(owners) if status != "new" else None
    replied = status in ("answered", "closed") and rng.random() < 0.85
    first_reply = created + timedelta(minutes=rng.uniform(5, 600)) if replied else None
    at = str(created.timestamp())
    candidates = [{"kb_id": f"bench-entree-{n}", "title": f"Entrée de la base n° {n}",
                   "retrieval_score": round(rng.random(), 2), "selector_confidence": round(rng.random(), 2)}
                  for n in rng.sample(range(40), 3)] if rng.random() < 0.7 else []
    return {
        "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)), "sender_id": sender,
        "priority": "urgent" if urgent else "normal", "reason": reason, "status": status, "audience": audience,
        "question": question, "summary": f"{'Un parent' if audience == 'parent' else 'Un élève'} : « {question} »",
        "transcript": [{"from": "user", "text": question, "at": at},
                       {"from": "bot", "text": "Je te mets en relation avec un conseiller.", "at": at}],
        "candidates": candidates, "created_at": created, "spooled": False,
        "mode": rng.choice(("live", "deferred")), "topic": topic_of(question), "due_at": due, "owner_id": owner,
        "taken_at": created + timedelta(minutes=3) if owner else None, "first_reply_at": first_reply,
        "answered_at": first_reply, "closed_at": first_reply + timedelta(hours=1) if status == "closed" and first_reply
        else (created + timedelta(days=1) if status == "closed" else None),
        "resolution": ("handed_back" if first_reply else "dismissed") if status == "closed" else None,
        "contact_channel": None, "contact_email": None, "contact_consent": False, "updated_at": created,
        "school": school,
    }


def fill(engine: Engine, *, tickets: int, open_share: float, days: int, feedback: int, seed: int) -> List[str]:
    """Inserts the tickets, 👍/👎 and accounts; the ids of the tickets."""
    rng = random.Random(seed)
    now = datetime.now(timezone.utc)
    with session_scope(engine) as session:
        owners = [accounts.create_counsellor(session, username=f"bench-owner-{n}", password=PASSWORD,
                                             display_name=f"Conseiller {n}").id for n in range(10)]
        for n in range(40):
            session.add(KBEntry(id=f"bench-entree-{n}", title=f"Entrée de la base n° {n}", answer_eleve="…",
                                answer_parent="…", sources=[]))
    started = time.perf_counter()
    table, chunk, ids = Ticket.__table__, 5000, []
    with engine.begin() as connection:
        for first in range(0, tickets, chunk):
            rows = [_ticket(rng, now, is_open=rng.random() < open_share, days=days, owners=owners)
                    for _ in range(min(chunk, tickets - first))]
            connection.execute(table.insert(), rows)
            ids.extend(row["id"] for row in rows)
        connection.execute(Feedback.__table__.insert(), [
            {"sender_id": f"bench-fb-{n}", "message_id": None, "kb_id": f"bench-entree-{rng.randrange(40)}",
             "value": rng.choice((1, 1, 1, -1)), "created_at": now - timedelta(days=rng.uniform(0, days))}
            for n in range(feedback)])
    # As autovacuum does after many inserts (PostgreSQL 13+): statistics, and the visibility map that lets a query
    # read an index alone.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE"))
    print(f"filled: {tickets} tickets ({open_share:.0%} open), {feedback} 👍/👎 in {time.perf_counter() - started:.1f} s",
          flush=True)
    return ids


def empty(engine: Engine, ids: List[str]) -> None:
    """Deletes what ``fill`` and the log-ins inserted (a database given with --database-url, without --keep)."""
    with session_scope(engine) as session:
        bench = select(Counsellor.id).where(Counsellor.username.like("bench-%"))
        session.execute(delete(Feedback).where(Feedback.sender_id.like("bench-fb-%")))
        for first in range(0, len(ids), 5000):
            session.execute(delete(Ticket).where(Ticket.id.in_(ids[first:first + 5000])))
        session.execute(delete(KBEntry).where(KBEntry.id.like("bench-entree-%")))
        session.execute(delete(WebSession).where(WebSession.counsellor_id.in_(bench)))
        session.execute(delete(Counsellor).where(Counsellor.username.like("bench-%")))


# ---------------------------------------------------------------- timing


async def _login(http: aiohttp.ClientSession, base: str, username: str) -> None:
    async with http.get(f"{base}/login") as response:
        token = re.search(r'name="login_csrf" value="([^"]*)"', await response.text()).group(1)
    async with http.post(f"{base}/login", data={"username": username, "password": PASSWORD, "login_csrf": token,
                                                 "next": "/queue"}, allow_redirects=False) as response:
        if response.status != 303:
            raise SystemExit(f"log-in of {username} refused ({response.status})")


async def _time(http: aiohttp.ClientSession, url: str, *, requests: int, warmup: int) -> List[float]:
    times = []
    for n in range(warmup + requests):
        started = time.perf_counter()
        async with http.get(url, headers={"Accept": "application/json"} if "/api/" in url else None) as response:
            await response.read()
            if response.status != 200:
                raise SystemExit(f"{url}: HTTP {response.status}")
        if n >= warmup:
            times.append((time.perf_counter() - started) * 1000)
    return times


async def measure(engine: Engine, *, requests: int, warmup: int, page_size: int) -> List[Tuple[str, List[float]]]:
    settings = Settings()
    runner = web.AppRunner(create_app(settings, engine), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    base = f"http://127.0.0.1:{port}"
    with session_scope(engine) as session:
        open_count = session.execute(select(func.count()).select_from(Ticket)
                                     .where(Ticket.status.in_(OPEN))).scalar_one()
        school = session.execute(select(Ticket.school).where(Ticket.school.is_not(None)).limit(1)).scalar()
        for username in BENCH_USERS:
            if session.execute(select(Counsellor.id).where(Counsellor.username == username)).first() is None:
                accounts.create_counsellor(session, username=username, password=PASSWORD,
                                           school=school if username == "bench-ecole" else None)
    deep = max(1, -(-open_count // page_size) // 2)  # the middle page of the open tickets: OFFSET ~ half of them
    last = max(1, -(-open_count // page_size))
    pages = [
        ("bench-cio", "/queue"),
        ("bench-cio", f"/queue?page={deep}"),
        ("bench-cio", f"/queue?page={last}"),
        ("bench-cio", "/queue?reason=not_understood&audience=parent"),
        ("bench-cio", "/queue?status=new&topic=Parcoursup&page=2"),
        ("bench-cio", "/queue?status=closed"),
        ("bench-cio", "/api/queue"),
        ("bench-cio", f"/api/queue?page={deep}"),
        ("bench-ecole", "/queue"),
        ("bench-ecole", "/api/queue?page=3"),
        ("bench-cio", "/dashboard"),
        ("bench-ecole", "/dashboard"),
    ]
    results = []
    try:
        browsers: Dict[str, aiohttp.ClientSession] = {}
        for username in BENCH_USERS:
            browsers[username] = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
            await _login(browsers[username], base, username)
        for username, path in pages:
            times = await _time(browsers[username], base + path, requests=requests, warmup=warmup)
            results.append((f"{path}  ({'no school' if username == 'bench-cio' else 'one school'})", times))
        for http in browsers.values():
            await http.close()
    finally:
        await runner.cleanup()
    print(f"open tickets: {open_count}, page size {page_size}, deep page {deep}, last page {last}")
    return results


def report(results: List[Tuple[str, List[float]]]) -> None:
    width = max(len(name) for name, _ in results)
    print(f"{'page':<{width}}  {'p50 ms':>7}  {'p95 ms':>7}  {'max ms':>7}")
    for name, times in results:
        ordered = sorted(times)
        p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
        print(f"{name:<{width}}  {statistics.median(ordered):7.1f}  {p95:7.1f}  {ordered[-1]:7.1f}")


# ---------------------------------------------------------------- databases


def _throwaway(server_url: str) -> Tuple[str, Engine]:
    server = create_engine(server_url, isolation_level="AUTOCOMMIT", future=True)
    name = f"console_bench_{os.getpid()}"
    with server.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    return make_url(server_url).set(database=name).render_as_string(hide_password=False), server


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", ""),
                        help="a PostgreSQL database to use (default: a throwaway one on --server-url)")
    parser.add_argument("--server-url", default=os.environ.get("BENCH_SERVER_URL",
                                                               "postgresql://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--tickets", type=int, default=100_000)
    # The defaults: a year of a large service with a backlog of 10,000 open tickets (200 pages), about 17,000
    # tickets in the dashboard's 30 days. --open-share 0.3 --days 180: a 30,000 backlog, 42,000 in the 30 days.
    parser.add_argument("--open-share", type=float, default=0.1, help="share of the tickets still open (of the "
                                                                      "last 14 days)")
    parser.add_argument("--days", type=int, default=365, help="closed tickets spread over this many days")
    parser.add_argument("--feedback", type=int, default=30_000)
    parser.add_argument("--requests", type=int, default=30, help="measured requests per page")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--keep", action="store_true", help="keep the database and what was inserted")
    args = parser.parse_args(argv)

    server = None
    url = args.database_url
    if not url:
        url, server = _throwaway(args.server_url)
        print(f"throwaway database: {url}")
    engine = make_engine(url)
    filled: List[str] = []
    try:
        started = time.perf_counter()
        create_schema(engine)  # as the console's start does: on a database of before issue 13, adds its indexes
        print(f"create_schema: {time.perf_counter() - started:.2f} s")
        with session_scope(engine) as session:
            present = session.execute(select(func.count()).select_from(Ticket)).scalar_one()
        if present:
            print(f"using the {present} tickets already there (nothing inserted)")
        else:
            filled = fill(engine, tickets=args.tickets, open_share=args.open_share, days=args.days,
                          feedback=args.feedback, seed=args.seed)
        page_size = getattr(Settings().console, "queue_page_size", 200)  # 200: the queue's limit before paging
        report(asyncio.run(measure(engine, requests=args.requests, warmup=args.warmup, page_size=page_size)))
    finally:
        if filled and not args.keep and server is None:
            empty(engine, filled)
        engine.dispose()
        if server is not None:
            if args.keep:
                print(f"kept: --database-url {url}")
            else:
                with server.connect() as connection:
                    connection.execute(text(f'DROP DATABASE "{make_url(url).database}"'))
            server.dispose()


if __name__ == "__main__":
    main()
