"""``orientbot.db.tune_tracker_engine``: kept SQLite connections, no fsync per commit on a WAL file, nothing for PostgreSQL (issue 13)."""
import sqlite3

from sqlalchemy import create_engine, event, text

from orientbot.db import _synchronous_normal, sqlite_synchronous_normal

FULL, NORMAL = 2, 1


def wal_file(path):
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA journal_mode=WAL")  # what scripts/workers.py does to the tracker store's file
    connection.close()
    return path


def synchronous(engine) -> int:
    with engine.connect() as connection:
        return connection.execute(text("PRAGMA synchronous")).scalar()


def test_every_connection_to_a_wal_file_gets_synchronous_normal(tmp_path):
    engine = create_engine(f"sqlite:///{wal_file(tmp_path / 'tracker.db')}")
    assert synchronous(engine) == FULL  # SQLite's default: an fsync at every commit
    assert sqlite_synchronous_normal(sqlite_synchronous_normal(engine)) is engine
    engine.dispose()  # connections made from now on
    assert synchronous(engine) == NORMAL
    assert synchronous(engine) == NORMAL  # a second connection (a file database: one per session) as well
    engine.dispose()


def test_a_rollback_journal_keeps_full(tmp_path):
    # NORMAL could corrupt a rollback-journal file on power loss: it is for WAL files only.
    engine = sqlite_synchronous_normal(create_engine(f"sqlite:///{tmp_path / 'other.db'}"))
    assert synchronous(engine) == FULL
    engine.dispose()


def test_a_postgresql_engine_gets_nothing():
    engine = create_engine("postgresql://bot:secret@127.0.0.1:1/tracker")  # never connected
    assert sqlite_synchronous_normal(engine) is engine
    assert not event.contains(engine, "connect", _synchronous_normal)


def test_a_sqlite_file_engine_keeps_its_connections(tmp_path):
    from sqlalchemy.pool import NullPool, QueuePool

    from orientbot.db import sqlite_connection_pool, tune_tracker_engine

    # As scripts/workers.py writes it for Rasa: the wait for another worker's write in the URL.
    engine = create_engine(f"sqlite:///{wal_file(tmp_path / 'tracker.db')}?timeout=30")
    assert isinstance(engine.pool, NullPool)  # SQLAlchemy 1.4's choice for a file: a connection per session
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE events (id INTEGER PRIMARY KEY, data TEXT)"))
    assert tune_tracker_engine(tune_tracker_engine(engine)) is engine
    assert isinstance(engine.pool, QueuePool)
    assert event.contains(engine, "connect", _synchronous_normal)
    with engine.connect() as connection:
        first = connection.connection.dbapi_connection
        assert connection.execute(text("PRAGMA synchronous")).scalar() == NORMAL
        assert connection.execute(text("PRAGMA busy_timeout")).scalar() == 30000  # made from the same URL and arguments
    with engine.begin() as connection:
        assert connection.connection.dbapi_connection is first  # kept, not opened again
        connection.execute(text("INSERT INTO events (data) VALUES ('a')"))
    other = sqlite3.connect(tmp_path / "tracker.db")  # another worker's write, seen by the kept connection
    other.execute("INSERT INTO events (data) VALUES ('b')")
    other.commit()
    other.close()
    with engine.connect() as connection:
        assert connection.execute(text("SELECT data FROM events ORDER BY id")).scalars().all() == ["a", "b"]
    assert sqlite_connection_pool(engine).pool is engine.pool
    engine.dispose()


def test_a_kept_connection_serves_another_thread(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    from orientbot.db import tune_tracker_engine

    engine = tune_tracker_engine(create_engine(f"sqlite:///{wal_file(tmp_path / 'tracker.db')}"))
    assert synchronous(engine) == NORMAL  # made in this thread, back in the pool
    with ThreadPoolExecutor(1) as executor:
        assert executor.submit(synchronous, engine).result() == NORMAL
    engine.dispose()


def test_a_postgresql_engine_keeps_its_pool():
    from orientbot.db import tune_tracker_engine

    engine = create_engine("postgresql://bot:secret@127.0.0.1:1/tracker")
    pool = engine.pool
    assert tune_tracker_engine(engine) is engine and engine.pool is pool
    assert not event.contains(engine, "connect", _synchronous_normal)
