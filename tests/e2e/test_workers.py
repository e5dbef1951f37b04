"""Issue 13: `make run`'s layout with several Rasa workers (scripts/workers.py): one port, Redis locks, SQLite.

Many conversations at once, their messages interleaved, on the two workers of one Rasa server: every message
is answered, its conversation's history (read from the SQLite tracker store the workers share) holds each
message once, in order, each followed by the bot's replies; every handoff has its ticket, once; both workers
did part of the work; and SQLite never made a worker give up ("database is locked").
"""
from __future__ import annotations

import json
import os
import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Dict, List

import pytest

from orientbot.settings import load_settings
from scripts.servers import MODEL, running_bot
from scripts.workers import lock_store_unreachable
from tests.conftest import stack_risk_model
from tests.e2e.test_scaleout import (
    CONVERSATIONS,
    Conversation,
    check_history,
    conversations,
    handoffs,
    tickets_by_sender,
)

pytestmark = pytest.mark.e2e

WORKERS = 2


def worker_pids(rasa_pid: int) -> List[int]:
    children = Path(f"/proc/{rasa_pid}/task/{rasa_pid}/children").read_text().split()
    return [int(pid) for pid in children]


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@pytest.fixture(scope="module")
def workers_bot(tmp_path_factory):
    reason = lock_store_unreachable(load_settings().serve.lock_store_url)
    if reason:
        pytest.skip(f"several Rasa workers need Redis: {reason}")
    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing: `make test` trains it first (make train)")
    work = tmp_path_factory.mktemp("workers")
    with running_bot(work, risk_model=stack_risk_model(work), workers=WORKERS) as served:
        yield served, work


def converse(bot, conversation: Conversation, failures: List[str], lock: threading.Lock) -> None:
    for sent in conversation.messages:
        sent.attempts += 1
        try:
            sent.replies = bot.ask(sent.text, sender=conversation.sender)
            sent.acknowledged = True
        except Exception as error:  # an HTTP error or a timeout: reported below, with the others
            with lock:
                failures.append(f"{conversation.sender}: « {sent.text} »: {error}")
            return


def stored_events(tracker_db: Path, senders: List[str]) -> Dict[str, List[dict]]:
    connection = sqlite3.connect(tracker_db, timeout=30)
    try:
        rows = connection.execute(
            f"SELECT sender_id, data FROM events WHERE sender_id IN ({','.join('?' * len(senders))}) ORDER BY id",
            senders).fetchall()
    finally:
        connection.close()
    events: Dict[str, List[dict]] = {}
    for sender, data in rows:
        events.setdefault(sender, []).append(json.loads(data))
    return events


def test_interleaved_conversations_on_several_workers_keep_complete_ordered_histories(workers_bot):
    bot, work = workers_bot
    rasa = bot.processes[1]
    pids = worker_pids(rasa.pid)
    assert len(pids) == WORKERS, f"Rasa started {len(pids)} worker(s), not {WORKERS}"
    before = {pid: cpu_seconds(pid) for pid in pids}

    made = conversations("workers")
    failures: List[str] = []
    lock = threading.Lock()
    with ThreadPoolExecutor(max_workers=CONVERSATIONS) as pool:
        for future in [pool.submit(converse, bot, conversation, failures, lock) for conversation in made]:
            future.result()
    assert not failures, failures

    # Both workers took messages (each loads its own model, ~0 CPU when idle).
    used = {pid: cpu_seconds(pid) - before[pid] for pid in pids}
    assert all(seconds > 0.5 for seconds in used.values()), f"CPU seconds per worker during the wave: {used}"

    events = stored_events(work / "tracker.db", [c.sender for c in made])
    for conversation in made:
        history = events.get(conversation.sender, [])
        check_history(conversation, history)
        # What the person was told is what the tracker store kept.
        told = [event.get("text") for event in history if event["event"] == "bot"]
        received = [reply.get("text") for sent in conversation.messages for reply in sent.replies]
        assert [text for text in received if text] == [text for text in told if text], conversation.sender

    check_tickets_once(bot.database_url, made)
    log = (work / "servers.log").read_text(errors="replace")
    assert "database is locked" not in log
    assert "InMemoryTrackerStore" not in log, "a worker fell back to keeping conversations in memory"


def check_tickets_once(database_url: str, made: List[Conversation]) -> None:
    written: Dict[str, List[str]] = tickets_by_sender(database_url, made)
    for index, conversation in enumerate(made):
        promised = [ticket for sent in conversation.messages for ticket in handoffs(sent.replies)]
        if index % 3 == 0:
            assert promised, f"{conversation.sender} asked for a counsellor and got no handoff"
        assert sorted(written.get(conversation.sender, [])) == sorted(set(promised)), conversation.sender


def test_the_workers_share_one_chat_window_conversation(workers_bot):
    """One token key (made before the workers start) and one database: any worker serves any message."""
    bot, _ = workers_bot
    base = bot.url + "/webhooks/chat"
    started = _chat(base + "/start", {})
    sender, token = started["sender"], started["token"]
    texts = ["bonjour", "c'est quoi affelnet exactement ?", "un CAP ça se prépare en combien d'années ?",
             "merci pour les infos"]
    for number, text in enumerate(texts):
        reply = _chat(base + "/message", {"sender": sender, "text": text, "client_id": f"m-{number}",
                                          "metadata": {"audience": "eleve"}}, token)
        assert reply["messages"][0]["author"] == "user" and len(reply["messages"]) > 1
    history = _chat(f"{base}/history?sender={sender}", None, token)
    assert [m["text"] for m in history["messages"] if m["author"] == "user"] == texts


def _chat(url: str, body, token: str = ""):
    import urllib.request

    headers = {"Content-Type": "application/json", **({"X-Orientbot-Token": token} if token else {})}
    data = json.dumps(body).encode() if body is not None else None
    with urllib.request.urlopen(urllib.request.Request(url, data=data, headers=headers), timeout=90) as response:
        return json.loads(response.read())

