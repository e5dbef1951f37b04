"""Who may read or write a conversation of the chat window, and how often anyone may write.

Owns the per-conversation secret of ``bot/channels/chat.py`` and the rate limits of it and of
``bot/channels/rest.py``:

* a conversation's token is ``HMAC-SHA256(key, sender)``; the sender id of a school's window carries its
  UAI code (``orientbot.schools``), so the school is signed too: the server gives it once, when the conversation
  starts (``POST /start``), and the window sends it back in the ``X-Orientbot-Token`` header (never in a
  URL, where proxies and logs would keep it).  The key comes from ``privacy.token_key`` (or
  ``ORIENTBOT_PRIVACY_TOKEN_KEY``), else from ``privacy.token_key_file``, generated there (mode 600) on
  first use;
* the rate limits: a sliding window of one minute per sender and per client address (and the retrieval page's
  guesses per address, and the REST channel's messages per sender id and per address). With a Redis URL
  (``serve.lock_store_url``, the lock store's: the Rasa workers and servers of a deployment share it already) the
  hits are counted in Redis, so that N workers do not give a client N times the limit; when Redis does not
  answer, each process counts in memory (said once in the log) and tries Redis again every few seconds.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import math
import os
import secrets
import threading
import time
from collections import deque
from pathlib import Path
from typing import Any, Callable, Deque, Dict, Mapping, Optional, Tuple
from urllib.parse import urlsplit

from orientbot.schools import sender_for_school

TOKEN_HEADER = "X-Orientbot-Token"

logger = logging.getLogger(__name__)


def load_or_create_key(configured: str, key_file: Path) -> bytes:
    """The signing key: the configured one, else the file's, else a new one written to the file (mode 600)."""
    if configured:
        return configured.encode("utf-8")
    key_file = Path(key_file)
    try:
        return _read_key(key_file)
    except FileNotFoundError:
        pass
    key_file.parent.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process wrote it first: use theirs
        return _read_key(key_file)
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(secrets.token_hex(32) + "\n")
    return _read_key(key_file)


def _read_key(key_file: Path) -> bytes:
    key = key_file.read_text(encoding="ascii").strip()
    if len(key) < 32:
        raise ValueError(f"{key_file}: the chat token key is too short (32 characters at least)")
    return key.encode("ascii")


class ConversationTokens:
    def __init__(self, key: bytes) -> None:
        if len(key) < 16:
            raise ValueError("the chat token key is too short")
        self._key = key

    def issue(self, sender: str) -> str:
        digest = hmac.new(self._key, b"orientbot-chat:" + sender.encode("utf-8"), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")

    def check(self, sender: str, token: Optional[str]) -> bool:
        if not token or not isinstance(token, str) or len(token) > 100:
            return False
        return hmac.compare_digest(self.issue(sender), token)

    @staticmethod
    def new_sender(school: Optional[str] = None) -> str:
        """A new conversation's id; of ``school`` (a checked UAI) it carries it, signed with the rest by ``issue``."""
        if school:
            return sender_for_school(school, secrets.token_hex(16))
        return "w-" + secrets.token_hex(16)


# One sorted set per window and key: its hits in the last window, scored on Redis's own clock (the servers of a
# deployment may disagree by a little; Redis is one clock for all). Trimmed, counted and added to in one script:
# atomic (two workers cannot both take the last place) and one round trip. Returns 0 when the hit is counted, else
# the milliseconds until the oldest hit leaves the window. Needs Redis 5 or later (TIME before a write).
_TAKE_SCRIPT = """
local key, limit, window = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
if redis.call('ZCARD', key) < limit then
  redis.call('ZADD', key, now, ARGV[3])
  redis.call('PEXPIRE', key, window)
  return 0
end
local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
return math.max(1, tonumber(oldest[2]) + window - now)
"""


class SharedCounts:
    """The limits' hits counted in Redis, where every Rasa worker and server of a deployment sees them.

    ``take`` answers None when Redis does not: the caller then counts in its own memory. After a failure Redis is
    not asked again for ``retry_seconds`` (a dead Redis must not cost every request a timeout); the outage and the
    return are each logged once.
    """

    def __init__(self, url: str, prefix: str, *, timeout: float = 0.5, retry_seconds: float = 5.0,
                 now: Callable[[], float] = time.monotonic) -> None:
        self.url, self.prefix = url, prefix
        self._timeout, self._retry_seconds, self._now = timeout, retry_seconds, now
        self._script: Any = None
        self._retry_at: Optional[float] = None  # set while Redis is down
        self._lock = threading.Lock()

    @property
    def where(self) -> str:
        """The Redis server, without its password (for the log)."""
        parts = urlsplit(self.url)
        return f"{parts.hostname}:{parts.port or 6379}{parts.path}"

    def take(self, window: str, key: str, limit: int, seconds: float) -> Optional[int]:
        """0 when one more hit of ``key`` is allowed (and counted), else the seconds to wait; None: Redis is down."""
        with self._lock:
            if self._retry_at is not None and self._now() < self._retry_at:
                return None
        if len(key) > 128:  # a key is an address or a sender id; anything longer is hashed, not stored
            key = hashlib.sha256(key.encode("utf-8")).hexdigest()
        try:
            waited = int(self._take()(keys=[f"{self.prefix}:{window}:{key}"],
                                      args=[limit, int(seconds * 1000), secrets.token_hex(8)]))
        except Exception as error:  # any client error means the same: no shared count now
            with self._lock:
                if self._retry_at is None:
                    logger.warning("rate limits: Redis at %s does not answer (%s); each process counts its own "
                                   "hits until it does", self.where, type(error).__name__)
                self._retry_at = self._now() + self._retry_seconds
            return None
        with self._lock:
            if self._retry_at is not None:
                logger.warning("rate limits: Redis at %s answers again; hits are counted there", self.where)
                self._retry_at = None
        return 0 if waited <= 0 else max(1, math.ceil(waited / 1000))

    def _take(self) -> Any:
        # Made on first use: nothing connects at import or start-up (and each Sanic worker has its own pool).
        if self._script is None:
            import redis

            client = redis.Redis.from_url(self.url, socket_timeout=self._timeout,
                                          socket_connect_timeout=self._timeout)
            self._script = client.register_script(_TAKE_SCRIPT)  # EVALSHA, EVAL again after a Redis restart
        return self._script


_SHARED: Dict[Tuple[str, str], SharedCounts] = {}
_SHARED_LOCK = threading.Lock()


def shared_counts(url: str, database_url: str) -> Optional[SharedCounts]:
    """This process's Redis counts at ``url``, or None (empty URL: the limits are counted in memory).

    The keys' prefix comes from the bot's database URL: every process serving one deployment counts together,
    and two stacks on one Redis (tests side by side, two schools) never count each other's hits.
    """
    if not url:
        return None
    prefix = "orientbot-limits:" + hashlib.sha256(database_url.encode("utf-8")).hexdigest()[:12]
    with _SHARED_LOCK:
        counts = _SHARED.get((url, prefix))
        if counts is None:
            counts = _SHARED[(url, prefix)] = SharedCounts(url, prefix)
        return counts


class SlidingWindow:
    """At most ``limit`` events per key over the last ``seconds``.

    ``take`` counts one and says how long to wait when it is refused; with ``shared`` counts (Redis) the window is
    the same for every process, else (or while Redis is down) it is this process's own.
    """

    def __init__(self, limit: int, seconds: float = 60.0, now: Callable[[], float] = time.monotonic,
                 max_keys: int = 100_000, *, name: str = "", shared: Optional[SharedCounts] = None) -> None:
        self.limit, self.seconds, self._now, self._max_keys = limit, seconds, now, max_keys
        self.name, self._shared = name, shared
        self._hits: Dict[str, Deque[float]] = {}
        self._lock = threading.Lock()

    def take(self, key: str) -> Optional[int]:
        """None when one more event of ``key`` is allowed (it is counted), else the seconds to wait (at least 1)."""
        if self._shared is not None:
            waited = self._shared.take(self.name, key, self.limit, self.seconds)
            if waited is not None:
                return waited or None
        if self.hit(key):
            return None
        return self.retry_after(key)

    def hit(self, key: str) -> bool:
        """In this process's memory: counts one event of ``key`` and says if it is allowed."""
        now = self._now()
        with self._lock:
            hits = self._hits.get(key)
            if hits is None:
                if len(self._hits) >= self._max_keys:
                    self._forget_idle(now)
                hits = self._hits[key] = deque()
            while hits and hits[0] <= now - self.seconds:
                hits.popleft()
            if len(hits) >= self.limit:
                return False
            hits.append(now)
            return True

    def retry_after(self, key: str) -> int:
        """Seconds until ``key`` may try again in this process's memory (at least 1)."""
        with self._lock:
            hits = self._hits.get(key)
            if not hits or len(hits) < self.limit:
                return 1
            return max(1, math.ceil(hits[0] + self.seconds - self._now()))

    def _forget_idle(self, now: float) -> None:
        for key in [k for k, hits in self._hits.items() if not hits or hits[-1] <= now - self.seconds]:
            del self._hits[key]


class RateLimits:
    """The chat channel's limits: messages and reads (history, long polls), per sender and per address."""

    def __init__(self, *, messages_per_sender: int, messages_per_address: int, reads_per_sender: int,
                 reads_per_address: int, now: Callable[[], float] = time.monotonic,
                 shared: Optional[SharedCounts] = None) -> None:
        def window(limit: int, name: str) -> SlidingWindow:
            return SlidingWindow(limit, now=now, name=name, shared=shared)

        self._windows = {
            "message": (window(messages_per_sender, "message-sender"), window(messages_per_address, "message-address")),
            "read": (window(reads_per_sender, "read-sender"), window(reads_per_address, "read-address")),
        }

    def check(self, kind: str, *, sender: str, address: str) -> Optional[int]:
        """None when allowed, else the seconds to wait."""
        by_sender, by_address = self._windows[kind]
        # The person's own limit first: one runaway window does not use up its whole class's address.
        return by_sender.take(sender) or by_address.take(address or "?")

    def check_address(self, kind: str, address: str) -> Optional[int]:
        """The per-address limit alone (a new conversation has no sender yet)."""
        return self._windows[kind][1].take(address or "?")


def token_for(sender: str, environ: Optional[Mapping[str, str]] = None) -> str:
    """The token a server with these settings gives ``sender`` (same key): for tests and tools run beside it."""
    from orientbot.settings import load_settings

    privacy = load_settings(environ).privacy
    return ConversationTokens(load_or_create_key(privacy.token_key, privacy.token_key_file)).issue(sender)
