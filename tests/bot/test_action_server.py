"""The action server (``python -m bot.action_server``) answers only who knows the secret, on loopback.

Served for real (a subprocess on a free port) with a one-action package that writes a file when it runs,
standing for ``action_handoff`` writing a ticket.
"""
from __future__ import annotations

import gzip
import json
import os
import stat
import subprocess
import sys
import textwrap
import time
import urllib.error
import urllib.request
import zlib
from pathlib import Path

import pytest

from bot.action_server import SECRET_HEADER
from scripts.servers import ROOT, free_port

SECRET = "s3cret-for-the-tests-only-0123456789"
FAKE_ACTIONS = '''
import os
from rasa_sdk import Action


class WriteTicket(Action):
    def name(self):
        return "action_write_ticket"

    def run(self, dispatcher, tracker, domain):
        with open(os.environ["TICKETS_FILE"], "a") as handle:
            handle.write(tracker.sender_id + "\\n")
        # The real spool writer, as when the database is down: what it writes must be private (umask 077).
        from pathlib import Path
        from orientbot.tickets import NewTicket, TicketStore
        store = TicketStore(None, Path(os.environ["TICKETS_FILE"]).parent / "spool" / "ticket-spool.jsonl")
        store._append_to_spool(NewTicket(sender_id=tracker.sender_id, priority="normal", reason="asked_for_human",
                                         audience="eleve", question="..."))
        dispatcher.utter_message(text="ticket écrit")
        return []


class Fails(Action):
    def name(self):
        return "action_fails"

    def run(self, dispatcher, tracker, domain):
        raise RuntimeError("échec avec " + tracker.latest_message.get("text", ""))
'''


def call(sender="eleve-1", text="jpeux parler a qqn en vrai ?", action="action_write_ticket"):
    return {"next_action": action, "sender_id": sender, "version": "3.6.0", "domain": {},
            "tracker": {"sender_id": sender, "slots": {}, "latest_message": {"text": text, "intent": {}},
                        "events": [], "paused": False, "followup_action": None, "active_loop": {},
                        "latest_action_name": None}}


def post(url, body: bytes, headers=None):
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    work = tmp_path_factory.mktemp("actions")
    (work / "fake_actions.py").write_text(textwrap.dedent(FAKE_ACTIONS), encoding="utf-8")
    port = free_port()
    env = dict(os.environ, PYTHONPATH=f"{work}{os.pathsep}{ROOT}", ORIENTBOT_ACTION_SECRET=SECRET,
               TICKETS_FILE=str(work / "tickets.txt"))
    log = open(work / "server.log", "w")
    process = subprocess.Popen([sys.executable, "-m", "bot.action_server", "--actions", "fake_actions",
                                "--port", str(port), "--max-body", "100000"],
                               cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            assert process.poll() is None, (work / "server.log").read_text()
            try:
                urllib.request.urlopen(url + "/health", timeout=2).close()
                break
            except OSError:
                time.sleep(0.25)
        yield url, work
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()


def tickets(work: Path):
    path = work / "tickets.txt"
    return path.read_text().split() if path.exists() else []


def test_a_forged_call_without_the_secret_writes_no_ticket(server):
    url, work = server
    body = json.dumps(call(sender="forged")).encode()
    for headers in ({}, {SECRET_HEADER: "wrong"}, {SECRET_HEADER: SECRET[:-1]}):
        status, text = post(url + "/webhook", body, headers)
        assert status == 401 and "forged" not in text and "parler" not in text
    status, _ = post(url + f"/webhook?token={SECRET}", body)  # only the header counts
    assert status == 401
    assert "forged" not in tickets(work)
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(url + "/actions", timeout=5)
    assert refused.value.code == 401


def test_rasa_s_call_with_the_secret_runs_the_action(server):
    url, work = server
    status, text = post(url + "/webhook", json.dumps(call(sender="real")).encode(), {SECRET_HEADER: SECRET})
    assert status == 200 and json.loads(text)["responses"][0]["text"] == "ticket écrit"
    assert "real" in tickets(work)
    # Written by the server (umask 077): the file, the spool and its new folder are nobody else's.
    for path, mode in ((work / "tickets.txt", 0o600), (work / "spool" / "ticket-spool.jsonl", 0o600),
                       (work / "spool", 0o700)):
        assert stat.S_IMODE(path.stat().st_mode) == mode, path


def test_compressed_and_oversized_bodies_are_refused_and_the_server_keeps_serving(server):
    url, work = server
    body = json.dumps(call(sender="packed")).encode()
    for encoding, packed in (("gzip", gzip.compress(body)), ("deflate", zlib.compress(body))):
        status, _ = post(url + "/webhook", packed, {SECRET_HEADER: SECRET, "Content-Encoding": encoding})
        assert status == 415
    big = json.dumps(call(sender="big", text="a" * 200_000)).encode()
    status, text = post(url + "/webhook", big, {SECRET_HEADER: SECRET})
    assert status == 413 and "aaaa" not in text
    assert "packed" not in tickets(work) and "big" not in tickets(work)
    status, _ = post(url + "/webhook", json.dumps(call(sender="after")).encode(), {SECRET_HEADER: SECRET})
    assert status == 200 and "after" in tickets(work)


def test_errors_never_repeat_the_request(server):
    url, work = server
    status, text = post(url + "/webhook", json.dumps(call(action="action_fails", text="mon nom est Zoé")).encode(),
                        {SECRET_HEADER: SECRET})
    assert status == 500 and "Zoé" not in text and "request_body" not in text
    status, text = post(url + "/webhook", b"{pas du json Zo\xc3\xa9", {SECRET_HEADER: SECRET})
    assert 400 <= status < 500 and "Zo" not in text
    assert "Zoé" not in (work / "server.log").read_text(encoding="utf-8", errors="replace")


def listening_addresses(port: int):
    """The local addresses a TCP socket listens on for ``port`` (Linux's /proc/net/tcp*)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if not Path(table).exists():
            continue
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, port_hex = local.rsplit(":", 1)
            if state == "0A" and int(port_hex, 16) == port:
                found.add(address)
    return found


def test_it_listens_on_loopback_only(server):
    url, _ = server
    addresses = listening_addresses(int(url.rsplit(":", 1)[1]))
    if not Path("/proc/net/tcp").exists():
        pytest.skip("no /proc/net/tcp here")
    assert addresses == {"0100007F"}  # 127.0.0.1, not 0.0.0.0 (00000000)


def test_it_refuses_to_start_without_a_secret():
    env = {key: value for key, value in os.environ.items() if key != "ORIENTBOT_ACTION_SECRET"}
    for secret in (None, "court"):
        result = subprocess.run([sys.executable, "-m", "bot.action_server", "--port", str(free_port())], cwd=ROOT,
                                env=dict(env, PYTHONPATH=str(ROOT), **({"ORIENTBOT_ACTION_SECRET": secret} if secret else {})),
                                capture_output=True, text=True, timeout=60)
        assert result.returncode != 0 and "ORIENTBOT_ACTION_SECRET" in result.stderr
