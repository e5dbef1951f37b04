"""Who may read or write a conversation of the chat window, and how often.

Owns the per-conversation secret and the rate limits of ``bot/channels/chat.py``:

* a conversation's token is ``HMAC-SHA256(key, sender)``; the sender id of a school's window carries its
  UAI code (``orientbot.schools``), so the school is signed too: the server gives it once, when the conversation
  starts (``POST /start``), and the window sends it back in the ``X-Orientbot-Token`` header (never in a
  URL, where proxies and logs would keep it).  The key comes from ``privacy.token_key`` (or
  ``ORIENTBOT_PRIVACY_TOKEN_KEY``), else from ``privacy.token_key_file``, generated there (mode 600) on
  first use;
* a sliding window of one minute, in memory, per sender and per client address.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import math
import os
import secrets
import threading
import time
from collections import deque
from pathlib import Path
from typing import Callable, Deque, Dict, Mapping, Optional

from orientbot.schools import sender_for_school

TOKEN_HEADER = "X-Orientbot-Token"


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


class SlidingWindow:
    """At most ``limit`` events per key over the last ``seconds``; ``hit`` counts one and says if it is allowed."""

    def __init__(self, limit: int, seconds: float = 60.0, now: Callable[[], float] = time.monotonic,
                 max_keys: int = 100_000) -> None:
        self.limit, self.seconds, self._now, self._max_keys = limit, seconds, now, max_keys
        self._hits: Dict[str, Deque[float]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str) -> bool:
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
        """Seconds until ``key`` may try again (at least 1)."""
        with self._lock:
            hits = self._hits.get(key)
            if not hits or len(hits) < self.limit:
                return 1
            return max(1, math.ceil(hits[0] + self.seconds - self._now()))

    def _forget_idle(self, now: float) -> None:
        for key in [k for k, hits in self._hits.items() if not hits or hits[-1] <= now - self.seconds]:
            del self._hits[key]


class RateLimits:
    """The channel's limits: messages and reads (history, long polls), per sender and per address."""

    def __init__(self, *, messages_per_sender: int, messages_per_address: int, reads_per_sender: int,
                 reads_per_address: int, now: Callable[[], float] = time.monotonic) -> None:
        self._windows = {
            "message": (SlidingWindow(messages_per_sender, now=now), SlidingWindow(messages_per_address, now=now)),
            "read": (SlidingWindow(reads_per_sender, now=now), SlidingWindow(reads_per_address, now=now)),
        }

    def check(self, kind: str, *, sender: str, address: str) -> Optional[int]:
        """None when allowed, else the seconds to wait."""
        by_sender, by_address = self._windows[kind]
        # The person's own limit first: one runaway window does not use up its whole class's address.
        if not by_sender.hit(sender):
            return by_sender.retry_after(sender)
        if not by_address.hit(address or "?"):
            return by_address.retry_after(address or "?")
        return None

    def check_address(self, kind: str, address: str) -> Optional[int]:
        """The per-address limit alone (a new conversation has no sender yet)."""
        by_address = self._windows[kind][1]
        if not by_address.hit(address or "?"):
            return by_address.retry_after(address or "?")
        return None


def token_for(sender: str, environ: Optional[Mapping[str, str]] = None) -> str:
    """The token a server with these settings gives ``sender`` (same key): for tests and tools run beside it."""
    from orientbot.settings import load_settings

    privacy = load_settings(environ).privacy
    return ConversationTokens(load_or_create_key(privacy.token_key, privacy.token_key_file)).issue(sender)
