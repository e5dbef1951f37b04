"""The rate limits counted in Redis (``bot.channels.guard.SharedCounts``): one count for every worker, and the
in-memory window when Redis does not answer.

Against the machine's Redis (127.0.0.1:6379, database 15, a key prefix of each test's own, deleted after it) and,
for a Redis that dies and comes back, a private ``redis-server`` (``scripts.private_stores``).
"""
from __future__ import annotations

import logging
import time
import uuid

import pytest

from bot.channels.guard import RateLimits, SharedCounts, SlidingWindow, shared_counts
from scripts import private_stores
from scripts.servers import free_port

REDIS_URL = "redis://127.0.0.1:6379/15"


@pytest.fixture
def redis_client():
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_timeout=2, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as error:
        pytest.skip(f"no Redis on 127.0.0.1:6379 here: {error}")
    yield client
    client.close()


@pytest.fixture
def prefix(redis_client):
    prefix = f"orientbot-test-limits:{uuid.uuid4().hex}"
    yield prefix
    for key in redis_client.scan_iter(match=f"{prefix}:*"):
        redis_client.delete(key)


def workers(prefix, count=2):
    """``count`` Rasa workers' counts: separate clients (as separate processes have) on one Redis."""
    return [SharedCounts(REDIS_URL, prefix) for _ in range(count)]


def test_two_workers_share_one_limit_where_memory_gave_each_its_own(prefix):
    first, second = (SlidingWindow(5, name="message-address", shared=counts) for counts in workers(prefix))
    taken = [(first if i % 2 else second).take("10.0.0.1") for i in range(8)]
    assert taken[:5] == [None] * 5
    assert all(wait is not None and 1 <= wait <= 60 for wait in taken[5:]), taken
    # What the limits were before: each process its own window, twice the limit through two workers.
    alone = [SlidingWindow(5), SlidingWindow(5)]
    assert [alone[i % 2].take("10.0.0.1") for i in range(8)] == [None] * 8


def test_the_window_slides_and_a_refused_hit_is_not_counted(prefix, redis_client):
    window = SlidingWindow(2, seconds=1.0, name="rest-address", shared=SharedCounts(REDIS_URL, prefix))
    assert [window.take("10.0.0.2") for _ in range(5)] == [None, None, 1, 1, 1]
    assert redis_client.zcard(f"{prefix}:rest-address:10.0.0.2") == 2
    assert 0 < redis_client.pttl(f"{prefix}:rest-address:10.0.0.2") <= 1000  # nothing kept past the window
    time.sleep(1.1)
    assert [window.take("10.0.0.2") for _ in range(3)] == [None, None, 1]


def test_counts_are_apart_per_key_window_and_deployment(prefix):
    counts = SharedCounts(REDIS_URL, prefix)
    one = SlidingWindow(1, name="message-address", shared=counts)
    assert one.take("10.0.0.3") is None and one.take("10.0.0.3") is not None
    assert one.take("10.0.0.4") is None  # another address
    assert SlidingWindow(1, name="read-address", shared=counts).take("10.0.0.3") is None  # another window
    other_deployment = SharedCounts(REDIS_URL, prefix + ":other")
    assert SlidingWindow(1, name="message-address", shared=other_deployment).take("10.0.0.3") is None


def test_the_chat_limits_per_sender_and_address_hold_across_workers(prefix):
    limits = [RateLimits(messages_per_sender=3, messages_per_address=5, reads_per_sender=2, reads_per_address=100,
                         shared=counts) for counts in workers(prefix)]
    assert [limits[i % 2].check("message", sender="a", address="10.0.0.1") for i in range(4)][:3] == [None] * 3
    assert limits[1].check("message", sender="a", address="10.0.0.1") is not None
    # The refused ones did not count for the address: two more pupils of the class may write, not a third.
    assert limits[0].check("message", sender="b", address="10.0.0.1") is None
    assert limits[1].check("message", sender="c", address="10.0.0.1") is None
    assert limits[0].check("message", sender="d", address="10.0.0.1") is not None
    assert limits[1].check_address("message", "10.0.0.9") is None


def test_the_rest_channels_limit_per_sender_is_one_for_every_worker_and_apart_from_the_address(monkeypatch,
                                                                                                redis_client):
    from bot.channels.rest import GuardedRestInput

    database_url = f"sqlite:////tmp/orientbot-test-{uuid.uuid4().hex}.db"  # this test's own keys' prefix
    monkeypatch.setenv("ORIENTBOT_SERVE_LOCK_STORE_URL", REDIS_URL)
    monkeypatch.setenv("ORIENTBOT_DATABASE_URL", database_url)
    monkeypatch.setenv("ORIENTBOT_CHAT_REST_MESSAGES_PER_MINUTE_PER_SENDER", "3")
    prefix = shared_counts(REDIS_URL, database_url).prefix
    try:
        # Two Rasa workers' channels, one sender writing from a new address each time.
        by_sender = [GuardedRestInput()._sender_and_address_limits()[0] for _ in range(2)]
        assert [by_sender[i % 2].take("flood") for i in range(3)] == [None] * 3
        assert all(1 <= by_sender[i % 2].take("flood") <= 60 for i in range(2))
        assert redis_client.zcard(f"{prefix}:rest-sender:flood") == 3
        assert by_sender[1].take("other") is None  # another sender
        assert GuardedRestInput()._sender_and_address_limits()[1].take("flood") is None  # the addresses' own count
    finally:
        for key in redis_client.scan_iter(match=f"{prefix}:*"):
            redis_client.delete(key)


def test_a_deployment_is_keyed_by_its_database_and_no_url_means_memory():
    assert shared_counts("", "sqlite:///var/orientbot.db") is None
    one = shared_counts(REDIS_URL, "postgresql://db/orientbot")
    assert shared_counts(REDIS_URL, "postgresql://db/orientbot") is one  # one client per process
    assert shared_counts(REDIS_URL, "postgresql://db/other").prefix != one.prefix


def test_a_closed_port_falls_back_to_memory_says_so_once_and_tries_again_later(caplog):
    clock = [100.0]
    counts = SharedCounts(f"redis://127.0.0.1:{free_port()}/0", "orientbot-test-limits", now=lambda: clock[0])
    asked = []
    real_take = counts._take

    def spy():
        asked.append(clock[0])
        return real_take()

    counts._take = spy
    window = SlidingWindow(3, name="message-address", shared=counts, now=lambda: clock[0])
    with caplog.at_level(logging.WARNING, logger="bot.channels.guard"):
        assert [window.take("10.0.0.1") for _ in range(5)] == [None, None, None, 60, 60]
    warnings = [r.getMessage() for r in caplog.records if "does not answer" in r.getMessage()]
    assert len(warnings) == 1 and "ConnectionError" in warnings[0], caplog.text
    assert asked == [100.0]  # a dead Redis is not asked at every request
    clock[0] += counts._retry_seconds + 0.1
    window.take("10.0.0.2")
    assert len(asked) == 2 and len([r for r in caplog.records if "does not answer" in r.getMessage()]) == 1


def test_a_redis_that_dies_and_returns_counts_again(caplog):
    if private_stores.redis_unavailable():
        pytest.skip(private_stores.redis_unavailable())
    import redis

    clock = [0.0]
    with private_stores.private_redis() as server:
        counts = SharedCounts(server.url, "orientbot-test-limits", now=lambda: clock[0])
        window = SlidingWindow(10, name="read-address", shared=counts, now=lambda: clock[0])
        direct = redis.Redis.from_url(server.url)
        key = "orientbot-test-limits:read-address:10.0.0.1"
        assert window.take("10.0.0.1") is None and direct.zcard(key) == 1
        server.kill()
        with caplog.at_level(logging.WARNING, logger="bot.channels.guard"):
            assert window.take("10.0.0.1") is None  # counted in memory meanwhile
            server.start()  # same port, empty (it keeps nothing on disk)
            clock[0] += counts._retry_seconds + 0.1
            assert window.take("10.0.0.1") is None
        assert direct.zcard(key) == 1, "the count did not go back to Redis"
        said = [r.getMessage() for r in caplog.records]
        assert sum("does not answer" in m for m in said) == 1 and sum("answers again" in m for m in said) == 1
        direct.close()
