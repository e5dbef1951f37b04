"""How many Rasa processes `make run` starts, and the endpoints that make several of them safe.

Owns the choice ``scripts/run.sh`` and ``scripts/servers.running_bot`` make between two layouts of one machine:

* **several Rasa workers** (Sanic processes sharing one port, one per core by default: ``serve.rasa_workers``)
  when the lock store of ``serve.lock_store_url`` (Redis) answers: Rasa's Redis lock store lets any worker take
  any message, one message of a conversation at a time; the tracker store is SQLite in WAL mode (several writers
  wait their turn, readers never block) or PostgreSQL when ``privacy.tracker_database_url`` names one;
* **one Rasa process** with Rasa's in-memory lock store and ``endpoints.yml`` as it is, otherwise (no Redis,
  ``serve.lock_store_url`` empty, ``serve.rasa_workers`` 1, or one core): what ``make run`` always was.

``python scripts/workers.py --out FILE`` prints "<workers> <endpoints file>" for run.sh and says on stderr, in
French, which layout it chose and why.
"""
from __future__ import annotations

import argparse
import hashlib
import os
import sqlite3
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Optional
from urllib.parse import unquote, urlsplit

import yaml

if __package__ in (None, ""):  # `python scripts/workers.py`: the project's modules are importable too
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.channels.guard import load_or_create_key  # noqa: E402
from orientbot.settings import PROJECT_ROOT, Settings, load_settings  # noqa: E402

BASE_ENDPOINTS = PROJECT_ROOT / "endpoints.yml"
# SQLite's wait for another worker's write, in seconds (Python's default is 5): a busy machine may take longer,
# and a wait that runs out is a "database is locked" error, i.e. a lost message.
SQLITE_BUSY_SECONDS = 30


@dataclass(frozen=True)
class Plan:
    workers: int
    endpoints: Path
    # In French, for whoever starts the bot: the layout chosen and, when it fell back to one process, why.
    summary: str


def lock_store_unreachable(url: str) -> Optional[str]:
    """Why the lock store cannot be used (in French), or None."""
    if not url:
        return "serve.lock_store_url est vide"
    try:
        import redis

        redis.Redis.from_url(url, socket_timeout=3, socket_connect_timeout=3).ping()
    except Exception as error:  # any client error means the same: no lock store to share
        return f"Redis injoignable ({_without_password(url)} : {type(error).__name__})"
    return None


def _without_password(url: str) -> str:
    parts = urlsplit(url)
    return url if not parts.password else url.replace(f":{parts.password}@", ":…@", 1)


def key_prefix(tracker: str) -> str:
    """The lock store's key prefix: the same for every process writing one tracker store, another for another.

    Locks guard a tracker store's conversations, so two stacks on two stores (tests running side by side) never
    wait for each other's senders. Rasa wants it alphanumeric.
    """
    return "orientbot" + hashlib.sha256(tracker.encode("utf-8")).hexdigest()[:12]


def lock_store_section(url: str, prefix: str) -> dict:
    parts = urlsplit(url)
    section = {"type": "redis", "url": parts.hostname or "127.0.0.1", "port": parts.port or 6379,
               "db": int(parts.path.strip("/") or 0), "key_prefix": prefix}
    if parts.password:  # the file is its user's only (mode 600, in var/ beside the action secret)
        section["password"] = unquote(parts.password)
    if parts.scheme == "rediss":
        section["use_ssl"] = True
    return section


def prepare_tracker(tracker_url: str, path: Path) -> None:
    """Rasa's ``events`` table made once before the workers start; SQLite also switched to WAL.

    Each worker creates the table when missing: two doing it at once, the loser's tracker store fails and Rasa
    falls back to keeping conversations in memory. WAL (a property of the file, kept) lets a worker read while
    another writes; writes still take turns, each waiting up to SQLITE_BUSY_SECONDS.
    """
    if tracker_url.startswith("postgresql"):
        _create_events_table(dialect="postgresql", host=tracker_url)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(path, timeout=SQLITE_BUSY_SECONDS)
    try:
        connection.execute("PRAGMA journal_mode=WAL")
        present = connection.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'events'").fetchone()
    finally:
        connection.close()
    if not present:
        _create_events_table(dialect="sqlite", db=str(path))


def _create_events_table(**where) -> None:
    with warnings.catch_warnings():  # Rasa's SQLAlchemy 2.0 notices, not ours to act on
        warnings.simplefilter("ignore")
        from rasa.core.tracker_store import SQLTrackerStore

        SQLTrackerStore(**where).engine.dispose()


def write_endpoints(out: Path, *, tracker_url: str, lock_store: Optional[dict]) -> Path:
    """endpoints.yml with the tracker store of ``tracker_url`` (PostgreSQL, or SQLite waiting its turn) and the lock store."""
    endpoints = yaml.safe_load(BASE_ENDPOINTS.read_text(encoding="utf-8"))
    if tracker_url.startswith("postgresql"):
        # Rasa takes a whole URL in `url`; the file is its user's only (mode 600, in var/).
        endpoints["tracker_store"] = {"type": "SQL", "dialect": "postgresql", "url": tracker_url}
    else:
        endpoints["tracker_store"] = dict(endpoints["tracker_store"], query={"timeout": str(SQLITE_BUSY_SECONDS)})
    if lock_store:
        endpoints["lock_store"] = lock_store
    out.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write("# Generated by scripts/workers.py from endpoints.yml: what several Rasa workers share.\n")
        yaml.safe_dump(endpoints, handle, allow_unicode=True, sort_keys=False)
    return out


def plan(out: Path, *, tracker_db: Path, settings: Optional[Settings] = None, workers: Optional[int] = None) -> Plan:
    """The layout for this machine: several workers when the lock store answers, else one process."""
    settings = settings or load_settings()
    tracker_url = settings.privacy.tracker_database_url
    wanted = workers if workers is not None else (settings.serve.rasa_workers or os.cpu_count() or 1)
    postgres = tracker_url.startswith("postgresql")
    where = "PostgreSQL" if postgres else f"SQLite {tracker_db}"
    why = lock_store_unreachable(settings.serve.lock_store_url) if wanted > 1 else "un seul processus Rasa demandé"
    if why:
        # One process on SQLite is what `make run` always was: endpoints.yml as it stands.
        endpoints = write_endpoints(out, tracker_url=tracker_url, lock_store=None) if postgres else BASE_ENDPOINTS
        return Plan(1, endpoints, f"{why} : un seul processus Rasa (verrous en mémoire, un cœur pour Rasa), "
                                  f"conversations dans {where}.")
    url = settings.serve.lock_store_url
    prepare_tracker(tracker_url, tracker_db)
    # The chat window's token key, made now: workers making it at once would each sign with their own.
    load_or_create_key(settings.privacy.token_key, settings.privacy.token_key_file)
    prefix = key_prefix(tracker_url if postgres else str(tracker_db.resolve()))
    endpoints = write_endpoints(out, tracker_url=tracker_url, lock_store=lock_store_section(url, prefix))
    return Plan(wanted, endpoints, f"{wanted} processus Rasa (verrous Redis {_without_password(url)}), "
                                   f"conversations dans {where}.")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/workers.py", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "var" / "endpoints.run.yml",
                        help="the generated endpoints file (several workers, or a PostgreSQL tracker store)")
    parser.add_argument("--tracker-db", type=Path, default=Path(os.environ.get("TRACKER_DB", PROJECT_ROOT / "var" /
                                                                                 "tracker.db")))
    args = parser.parse_args(argv)
    chosen = plan(args.out, tracker_db=args.tracker_db)
    print(f"[run] {chosen.summary}", file=sys.stderr)
    print(chosen.workers, chosen.endpoints)
    return 0


if __name__ == "__main__":
    sys.exit(main())
