"""``orientbot.db.ping_on_checkout``: a pooled connection that died (the database restarted) is replaced, not used."""
from sqlalchemy import create_engine, event, text
from sqlalchemy.pool import QueuePool

from orientbot.db import _ping, ping_on_checkout


def test_a_dead_pooled_connection_is_replaced_before_use(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'x.db'}", poolclass=QueuePool, pool_size=1, max_overflow=0)
    assert ping_on_checkout(ping_on_checkout(engine)) is engine
    assert event.contains(engine.pool, "checkout", _ping)
    with engine.connect() as connection:
        dead = connection.connection.dbapi_connection
        dead.close()  # what a database's restart does to a pooled connection, behind the pool's back
    with engine.connect() as connection:
        assert connection.execute(text("SELECT 1")).scalar() == 1
        assert connection.connection.dbapi_connection is not dead
    engine.dispose()
