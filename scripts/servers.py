"""Starting the Rasa and action servers (and the console) on free ports, on copies of the KB and tracker store.

Used by the end-to-end tests and by ``scripts/bench.py``; ``scripts/run.sh`` is the interactive twin.
"""
from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Optional, Sequence, Tuple

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "models" / "orientation.tar.gz"
VENV_BIN = Path(os.environ.get("VIRTUAL_ENV", ROOT / ".venv")) / "bin"
BOT_MAX_BODY = 1_000_000  # bytes a request to the Rasa server may carry (Sanic's default: 100 MB); as scripts/run.sh


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url: str, processes, timeout: float = 240.0) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        for process in processes:
            if process.poll() is not None:
                raise RuntimeError(f"a server stopped while starting (exit {process.returncode})")
        try:
            # Our own servers, on http://127.0.0.1.
            with urllib.request.urlopen(url, timeout=2):  # nosec B310
                return
        except (urllib.error.URLError, OSError):
            time.sleep(1)
    raise RuntimeError(f"{url} did not answer within {timeout} s")


class Bot:
    """A client of the REST channel."""

    def __init__(self, url: str, env: dict):
        self.url = url
        self.env = env
        self.console_url = ""
        # The servers' commands and processes (the action server first), so that a fault test can stop the
        # action server and start it again; ``running_bot`` stops whatever the list holds at the end.
        self.commands: list = []
        self.processes: list = []
        self._logs = None

    def stop_action_server(self) -> None:
        stop(self.processes[:1])

    def start_action_server(self) -> None:
        self.processes[0] = spawn(self.commands[0], self.env, self._logs)
        wait_for(self.env["ACTION_SERVER_URL"].rsplit("/", 1)[0] + "/health", self.processes[:1])

    @property
    def database_url(self) -> str:
        return self.env["ORIENTBOT_DATABASE_URL"]

    def post_raw(self, body: bytes, content_type: str = "application/json") -> Tuple[int, str]:
        request = urllib.request.Request(
            self.url + "/webhooks/rest/webhook", data=body, headers={"Content-Type": content_type}
        )
        try:
            # Our own servers, on http://127.0.0.1.
            with urllib.request.urlopen(request, timeout=60) as response:  # nosec B310
                return response.status, response.read().decode("utf-8")
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode("utf-8", "replace")

    def ask(self, message, *, sender: str, audience: str = "eleve"):
        body = json.dumps({"sender": sender, "message": message, "metadata": {"audience": audience}}).encode()
        status, text = self.post_raw(body)
        if status != 200:
            raise AssertionError(f"HTTP {status}: {text[:500]}")
        return json.loads(text)


def server_env(**settings: str) -> dict:
    """The environment every server of a test stack or of the scaled-out layout starts with, plus ``settings``."""
    return dict(os.environ, PYTHONPATH=str(ROOT), RASA_TELEMETRY_ENABLED="false", TF_CPP_MIN_LOG_LEVEL="2",
                SQLALCHEMY_SILENCE_UBER_WARNING="1", **settings)


def spawn(command: list, env: dict, logs) -> subprocess.Popen:
    # In a session of its own (``stop`` ends its whole group); umask as scripts/run.sh: what the servers
    # write is their user's only.
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=logs, stderr=subprocess.STDOUT, start_new_session=True,
                            umask=0o077)


def stop(processes: Sequence[subprocess.Popen]) -> None:
    """Stop servers started with ``start_new_session`` (their whole process group): SIGTERM, then SIGKILL after 30 s."""
    for process in processes:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@contextmanager
def running_bot(work: Path, model: Path = MODEL, *, with_console: bool = False, keep_database: bool = False,
                risk_model: Optional[Path] = None, workers: int = 1, database_url: Optional[str] = None) -> Iterator[Bot]:
    """Both servers (and the console), on a copy of ``var/orientbot.db``; stopped (process groups) on exit.

    ``keep_database``: a restart in ``work``, on the database and tracker store the last run left there.
    ``risk_model``: the answer policy's risk model instead of the one `make kb` fitted (tests of the chat
    window and the channels must not hang on a fitted model's borderline decision).
    ``workers``: Rasa workers, as `make run` starts them when Redis answers (``scripts/workers.py``: Redis lock
    store, SQLite tracker store in WAL mode); RuntimeError when it would fall back to one process.
    ``database_url``: a PostgreSQL database for the bot's data and Rasa's tracker store both, as in production
    (``privacy.tracker_database_url``); the KB of ``var/orientbot.db`` is copied into it when it has none.
    """
    if not (keep_database and (work / "orientbot.db").exists()):
        shutil.copyfile(ROOT / "var" / "orientbot.db", work / "orientbot.db")
        os.chmod(work / "orientbot.db", 0o600)
    rasa_port, action_port, console_port = free_port(), free_port(), free_port()
    if database_url:
        from scripts.scaleout import copy_kb

        copy_kb(f"sqlite:///{work / 'orientbot.db'}", database_url)
    env = server_env(
        ORIENTBOT_DATABASE_URL=database_url or f"sqlite:///{work / 'orientbot.db'}",
        ORIENTBOT_PRIVACY_TRACKER_DATABASE_URL=database_url or "",
        ORIENTBOT_TICKET_SPOOL=str(work / "spool.jsonl"),
        ACTION_SERVER_URL=f"http://127.0.0.1:{action_port}/webhook",
        ORIENTBOT_ACTION_SECRET=secrets.token_urlsafe(32),
        SANIC_REQUEST_MAX_SIZE=str(BOT_MAX_BODY),
        TRACKER_DB=str(work / "tracker.db"),
        ORIENTBOT_CONSOLE_ADMIN_PASSWORD_FILE=str(work / "console-admin-password.txt"),
        **({"ORIENTBOT_GATE_RISK_MODEL": str(risk_model)} if risk_model else {}),
    )
    endpoints, rasa_env = "endpoints.yml", env
    if workers > 1 or database_url:
        from orientbot.settings import load_settings
        from scripts.workers import plan

        # The stack's own tracker store: SQLite in ``work`` or ``database_url``, whatever the environment names.
        chosen = plan(work / "endpoints.yml", tracker_db=work / "tracker.db", settings=load_settings(env),
                      workers=workers)
        if chosen.workers != workers:
            raise RuntimeError(chosen.summary)
        endpoints = str(chosen.endpoints)
        if workers > 1:
            rasa_env = dict(env, SANIC_WORKERS=str(workers))
    logs = open(os.open(work / "servers.log", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w")
    commands = [
        [str(VENV_BIN / "python"), "-m", "bot.action_server", "--actions", "bot.actions", "--host", "127.0.0.1",
         "--port", str(action_port)],
        [str(VENV_BIN / "rasa"), "run", "--model", str(model), "--endpoints", endpoints,
         "--credentials", "credentials.yml", "--interface", "127.0.0.1", "--port", str(rasa_port), "--cors", "*"],
    ]
    if with_console:
        commands.append([str(VENV_BIN / "python"), "-m", "console", "serve", "--host", "127.0.0.1",
                         "--port", str(console_port)])
    processes = [spawn(command, rasa_env if index == 1 else env, logs) for index, command in enumerate(commands)]
    try:
        wait_for(f"http://127.0.0.1:{action_port}/health", processes)
        wait_for(f"http://127.0.0.1:{rasa_port}/webhooks/rest/", processes)
        bot = Bot(f"http://127.0.0.1:{rasa_port}", env)
        bot.commands, bot.processes, bot._logs = commands, processes, logs
        if with_console:
            wait_for(f"http://127.0.0.1:{console_port}/login", processes)
            bot.console_url = f"http://127.0.0.1:{console_port}"
        yield bot
    finally:
        stop(processes)
        logs.close()
