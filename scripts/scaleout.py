"""The scaled-out layout on one machine: nginx in front of N Rasa servers and M action servers.

Owns starting and stopping that layout (``make scaleout`` in the foreground, ``scaled_out()`` for
``tests/e2e/test_scaleout.py`` and the load figures of docs/deploy.md):

    client ─► nginx :public ─► /webhooks/… ─► Rasa ×N (least_conn) ─► nginx :actions ─► action servers ×M
              nginx :api (loopback only) ─► Rasa's HTTP API (trackers; --auth-token)
    Rasa ×N:  tracker store on PostgreSQL, Redis lock store (one conversation at a time, whichever server)
    actions:  KB, tickets, chat log on PostgreSQL (ORIENTBOT_DATABASE_URL); each its own ticket spool

Everything listens on loopback, on free ports unless told; every file (generated endpoints and nginx
configuration, logs, spools) goes to one work directory, readable by its user only. Without
``--database-url`` a fresh PostgreSQL database is created, the KB of ``var/orientbot.db`` copied into it,
and the database dropped at the end, with the lock store's Redis keys. ``make run`` is one Rasa server on one
port (a worker per core when Redis answers, ``scripts/workers.py``) on SQLite: see docs/deploy.md.
"""
from __future__ import annotations

import argparse
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, List, Optional

if __package__ in (None, ""):  # `python scripts/scaleout.py`: the project's modules are importable too
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.action_server import DEFAULT_MAX_BODY as ACTIONS_MAX_BODY  # noqa: E402
from scripts.servers import (  # noqa: E402
    BOT_MAX_BODY,
    MODEL,
    ROOT,
    VENV_BIN,
    free_port,
    server_env,
    spawn,
    stop,
    wait_for,
)

# Tunables (each also an option of `python scripts/scaleout.py`, or an environment variable).
NGINX = os.environ.get("NGINX", "/usr/sbin/nginx")
PG_ADMIN_URL = os.environ.get("SCALEOUT_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_HOST = os.environ.get("REDIS_HOST", "127.0.0.1")
REDIS_PORT = int(os.environ.get("REDIS_PORT", "6379"))
REDIS_DB = int(os.environ.get("SCALEOUT_REDIS_DB", "1"))
# Rasa's lock on a conversation outlives a server killed while holding it by this many seconds: the
# conversation's next message waits that long. It must exceed the slowest message's processing.
LOCK_LIFETIME = int(os.environ.get("TICKET_LOCK_LIFETIME", "60"))
# The ENT pages allowed to embed the chat window, separated by spaces ("*": any page), as scripts/run.sh.
CORS_ORIGINS = os.environ.get("CHAT_ALLOWED_ORIGINS", "*").split()
# Sanic closes an idle keep-alive connection after 5 s: nginx drops its own first, so that it never sends a
# POST on a connection the server is closing (a POST is not retried: it would be a 502 for nothing).
UPSTREAM_KEEPALIVE_SECONDS = 4
# A Rasa or action server that failed is left out this long before nginx tries it again.
FAIL_TIMEOUT_SECONDS = 10
# Tables of var/orientbot.db copied into a new database: the KB, its history, the accounts its reviews refer to
# and the admin's settings (office hours); never a conversation nor a ticket.
COPIED = ("counsellors", "app_settings", "kb_entries", "kb_variants", "kb_entry_versions")


def unreachable() -> Optional[str]:
    """Why the layout cannot start here (nginx, PostgreSQL or Redis missing), or None."""
    if not os.access(NGINX, os.X_OK):
        return f"nginx absent ({NGINX}; scripts/install-nginx.sh)"
    try:
        import psycopg2

        psycopg2.connect(PG_ADMIN_URL, connect_timeout=3).close()
    except Exception as error:  # any driver error means the same: no PostgreSQL to use
        return f"PostgreSQL unreachable ({PG_ADMIN_URL}): {type(error).__name__}"
    try:
        import redis

        redis.Redis(host=REDIS_HOST, port=REDIS_PORT, socket_timeout=3).ping()
    except Exception as error:
        return f"Redis unreachable ({REDIS_HOST}:{REDIS_PORT}): {type(error).__name__}"
    return None


def _admin(statement: str) -> None:
    import psycopg2

    connection = psycopg2.connect(PG_ADMIN_URL, connect_timeout=5)
    try:
        connection.autocommit = True  # CREATE/DROP DATABASE cannot run in a transaction
        with connection.cursor() as cursor:
            cursor.execute(statement)
    finally:
        connection.close()


def _database_url(name: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)


def copy_kb(source_url: str, target_url: str) -> int:
    """Creates the schema in ``target_url`` and copies the KB's rows into it when it has none; rows copied."""
    from sqlalchemy import func, inspect, select

    from orientbot.db import Base, KBEntry, create_schema, make_engine

    source, target = make_engine(source_url), make_engine(target_url)
    try:
        create_schema(target)
        with target.connect() as connection:
            if connection.execute(select(func.count()).select_from(KBEntry.__table__)).scalar():
                return 0  # a database already in use keeps its KB (counsellors' edits included)
        copied = 0
        present = inspect(source)
        with source.connect() as reading, target.begin() as writing:
            for table in Base.metadata.sorted_tables:  # parents before children: foreign keys hold
                if table.name not in COPIED or not present.has_table(table.name):
                    continue
                # The columns the source has: a database made before a column was added still copies.
                columns = {column["name"] for column in present.get_columns(table.name)}
                query = select(*[column for column in table.columns if column.name in columns])
                rows = [dict(row) for row in reading.execute(query).mappings()]
                if rows:
                    writing.execute(table.insert(), rows)
                    copied += len(rows)
            for table in Base.metadata.sorted_tables:  # serial ids go on after the copied ones
                for column in table.primary_key.columns:
                    if table.name in COPIED and column.autoincrement is True:
                        writing.exec_driver_sql(
                            f"SELECT setval(pg_get_serial_sequence('{table.name}', '{column.name}'), "
                            # Table and column names come from our own schema, never from input.
                            f"COALESCE((SELECT MAX({column.name}) FROM {table.name}), 0) + 1, false)")  # nosec B608
        return copied
    finally:
        source.dispose()
        target.dispose()


def _create_tracker_table(database_url: str, env: dict, log) -> None:
    # Rasa creates its `events` table when it starts; N servers starting together would race to create it.
    code = ("import sys; from sqlalchemy.engine import make_url; from rasa.core.tracker_store import SQLTrackerStore;"
            "u = make_url(sys.argv[1]); SQLTrackerStore(dialect='postgresql', host=u.host, port=u.port, db=u.database,"
            " username=u.username, password=u.password)")
    subprocess.run([str(VENV_BIN / "python"), "-c", code, database_url], cwd=ROOT, env=env, check=True,
                   stdout=log, stderr=subprocess.STDOUT, timeout=180)


ENDPOINTS = """\
# Generated by scripts/scaleout.py: {rasa} Rasa servers share this tracker store and this lock store.
action_endpoint:
  url: http://127.0.0.1:{actions_port}/webhook
  headers:
    X-Orientbot-Action-Secret: ${{ORIENTBOT_ACTION_SECRET}}
  enable_selective_domain: true
tracker_store:
  type: SQL
  dialect: postgresql
  url: {host}
  port: {port}
  db: {db}
  username: {user}
  password: ${{TRACKER_DB_PASSWORD}}
lock_store:
  type: redis
  url: {redis_host}
  port: {redis_port}
  db: {redis_db}
  key_prefix: {key_prefix}
"""

NGINX_CONF = """\
# Generated by scripts/scaleout.py.
worker_processes 1;
pid {work}/nginx.pid;
error_log {work}/nginx-error.log warn;
events {{ worker_connections 2048; }}
http {{
    access_log off;
    client_body_temp_path {work}/nginx/body;
    proxy_temp_path {work}/nginx/proxy;
    fastcgi_temp_path {work}/nginx/fastcgi;
    uwsgi_temp_path {work}/nginx/uwsgi;
    scgi_temp_path {work}/nginx/scgi;
    client_max_body_size {max_body};
    # Bodies and replies stay in memory, never in temporary files: they are conversations of minors (and,
    # started as root, nginx's workers could not write in this directory of mode 700 anyway).
    client_body_buffer_size {max_body};
    proxy_max_temp_file_size 0;
    proxy_http_version 1.1;
    proxy_set_header Connection "";
    proxy_set_header Host $host;
    # The bot's rate limits are per client address: Rasa reads it here (SANIC_REAL_IP_HEADER), never from the client.
    proxy_set_header X-Real-IP $remote_addr;
    # A failure before the request was sent (refused, timed out connecting) goes to the next server; a POST
    # already sent is never sent again (nginx's default for non-idempotent methods): no message handled twice.
    proxy_next_upstream error timeout;
    proxy_next_upstream_tries 2;
    proxy_connect_timeout 2s;
    # The chat window's long poll and a message waiting for a conversation's lock take long.
    proxy_read_timeout 150s;
    proxy_send_timeout 60s;

    upstream rasa {{
        least_conn;
{rasa_servers}
        keepalive 32;
        keepalive_timeout {keepalive}s;
    }}
    # socket.io's polling transport keeps its session in one process: one client, one server.
    upstream rasa_sticky {{
        ip_hash;
{rasa_servers}
    }}
    upstream actions {{
        least_conn;
{action_servers}
        keepalive 32;
        keepalive_timeout {keepalive}s;
    }}
    map $http_upgrade $connection_upgrade {{ default upgrade; '' ''; }}

    # What the ENT pages and the REST clients reach (a school puts HTTPS in front, docs/deploy.md).
    server {{
        listen {listen}:{public_port};
        location /webhooks/ {{ proxy_pass http://rasa; }}
        location /socket.io/ {{
            proxy_pass http://rasa_sticky;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
        }}
        location = /health {{ return 200 "ok\\n"; }}
        # Rasa's HTTP API (trackers, model) is never public: it reads any conversation.
        location / {{ return 404; }}
    }}
    # Rasa's HTTP API, for operators and tests only (loopback; Rasa also wants its --auth-token).
    server {{
        listen 127.0.0.1:{api_port};
        location / {{ proxy_pass http://rasa; }}
    }}
    # The action servers, for the Rasa servers only.
    server {{
        listen 127.0.0.1:{actions_port};
        # Rasa sends the conversation's tracker and the domain with every call (the action server's limit).
        client_max_body_size {actions_max_body};
        client_body_buffer_size {actions_max_body};
        location / {{ proxy_pass http://actions; }}
    }}
}}
"""


@dataclass
class Layout:
    """The running layout: where to reach it, and its processes."""

    work: Path
    url: str  # nginx, public side: /webhooks/…
    api_url: str  # nginx, Rasa's HTTP API (loopback only)
    api_token: str
    database_url: str
    redis_db: int
    redis_prefix: str
    rasa: List[subprocess.Popen] = field(default_factory=list)
    actions: List[subprocess.Popen] = field(default_factory=list)
    nginx: Optional[subprocess.Popen] = None
    rasa_ports: List[int] = field(default_factory=list)

    @property
    def processes(self) -> List[subprocess.Popen]:
        return [*self.rasa, *self.actions, *([self.nginx] if self.nginx else [])]

    def kill_rasa(self, index: int, sig: int = signal.SIGKILL) -> None:
        """Stops one Rasa server at once (SIGKILL: nothing it had not written survives)."""
        os.killpg(self.rasa[index].pid, sig)
        self.rasa[index].wait(timeout=30)


def _log(path: Path):
    return open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w")


def _start(command: List[str], env: dict, log_path: Path) -> subprocess.Popen:
    with _log(log_path) as log:
        return spawn(command, env, log)


def _drop_redis_keys(db: int, prefix: str) -> None:
    import redis

    client = redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=db, socket_timeout=5)
    keys = list(client.scan_iter(match=f"{prefix}:*", count=500))
    if keys:
        client.delete(*keys)


@contextmanager
def scaled_out(work: Path, *, rasa: int = 2, actions: int = 2, model: Path = MODEL,
               database_url: Optional[str] = None, public_port: int = 0, api_port: int = 0,
               listen: str = "127.0.0.1", lock_lifetime: int = LOCK_LIFETIME,
               risk_model: Optional[Path] = None, keep_database: bool = False) -> Iterator[Layout]:
    """Starts the layout (see the module's docstring) and stops it on exit, then drops what it created.

    ``database_url``: an existing PostgreSQL database (its KB is kept; the schema is created when missing);
    without it a fresh one is created and, unless ``keep_database``, dropped at the end.
    """
    work.mkdir(parents=True, exist_ok=True)
    os.chmod(work, 0o700)
    (work / "nginx").mkdir(exist_ok=True)
    created = None
    if database_url is None:
        created = f"orientbot_scaleout_{os.getpid()}_{secrets.token_hex(3)}"
        _admin(f'CREATE DATABASE "{created}"')
        database_url = _database_url(created)
    layout: Optional[Layout] = None
    redis_prefix = ""
    try:
        redis_prefix = f"orientbot{secrets.token_hex(4)}"  # the lock store wants an alphanumeric prefix
        secret = os.environ.get("ORIENTBOT_ACTION_SECRET") or secrets.token_urlsafe(32)
        api_token = secrets.token_urlsafe(24)
        actions_port = free_port()
        public_port = public_port or free_port()
        api_port = api_port or free_port()
        rasa_ports = [free_port() for _ in range(rasa)]
        action_ports = [free_port() for _ in range(actions)]
        from sqlalchemy.engine import make_url

        pg = make_url(database_url)
        env = server_env(
            ORIENTBOT_DATABASE_URL=database_url,
            ORIENTBOT_ACTION_SECRET=secret,
            # One key signs the chat window's tokens for every Rasa server (else each would generate its own).
            ORIENTBOT_PRIVACY_TOKEN_KEY=os.environ.get("ORIENTBOT_PRIVACY_TOKEN_KEY") or secrets.token_urlsafe(32),
            ORIENTBOT_PRIVACY_TRACKER_DATABASE_URL=database_url,
            TRACKER_DB_PASSWORD=pg.password or "",
            TICKET_LOCK_LIFETIME=str(lock_lifetime),
            SANIC_REQUEST_MAX_SIZE=str(BOT_MAX_BODY),
            SANIC_REAL_IP_HEADER="X-Real-IP",
            **({"ORIENTBOT_GATE_RISK_MODEL": str(risk_model)} if risk_model else {}),
        )
        endpoints = work / "endpoints.yml"
        with _log(endpoints) as handle:
            handle.write(ENDPOINTS.format(rasa=rasa, actions_port=actions_port, host=pg.host or "127.0.0.1",
                                          port=pg.port or 5432, db=pg.database, user=pg.username or "postgres",
                                          redis_host=REDIS_HOST, redis_port=REDIS_PORT, redis_db=REDIS_DB,
                                          key_prefix=redis_prefix))
        def upstream(ports: List[int]) -> str:
            return "\n".join(f"        server 127.0.0.1:{port} max_fails=1 fail_timeout={FAIL_TIMEOUT_SECONDS}s;"
                             for port in ports)

        with _log(work / "nginx.conf") as handle:
            handle.write(NGINX_CONF.format(
                work=work, max_body=BOT_MAX_BODY, actions_max_body=ACTIONS_MAX_BODY,
                keepalive=UPSTREAM_KEEPALIVE_SECONDS, listen=listen, public_port=public_port, api_port=api_port,
                actions_port=actions_port, rasa_servers=upstream(rasa_ports), action_servers=upstream(action_ports)))
        # Comparing with the wildcard addresses, not binding: the clients then use loopback.
        public_host = "127.0.0.1" if listen in ("0.0.0.0", "[::]", "*") else listen  # nosec B104
        layout = Layout(work=work, url=f"http://{public_host}:{public_port}", api_url=f"http://127.0.0.1:{api_port}",
                        api_token=api_token, database_url=database_url, redis_db=REDIS_DB, redis_prefix=redis_prefix,
                        rasa_ports=rasa_ports)
        copy_kb(f"sqlite:///{ROOT / 'var' / 'orientbot.db'}", database_url)
        with _log(work / "tracker-schema.log") as log:
            _create_tracker_table(database_url, env, log)
        layout.nginx = _start([NGINX, "-c", str(work / "nginx.conf"), "-p", str(work), "-e",
                               str(work / "nginx-error.log"), "-g", "daemon off;"], env, work / "nginx.log")
        for index, port in enumerate(action_ports):
            layout.actions.append(_start(
                [str(VENV_BIN / "python"), "-m", "bot.action_server", "--actions", "bot.actions",
                 "--host", "127.0.0.1", "--port", str(port)],
                dict(env, ORIENTBOT_TICKET_SPOOL=str(work / f"ticket-spool-{index}.jsonl")),
                work / f"actions-{index}.log"))
        for index, port in enumerate(rasa_ports):
            layout.rasa.append(_start(
                [str(VENV_BIN / "rasa"), "run", "--model", str(model), "--endpoints", str(endpoints),
                 "--credentials", "credentials.yml", "--interface", "127.0.0.1", "--port", str(port),
                 "--enable-api", "--auth-token", api_token, "--cors", *CORS_ORIGINS],
                env, work / f"rasa-{index}.log"))
        for port in action_ports:
            wait_for(f"http://127.0.0.1:{port}/health", layout.processes)
        for port in rasa_ports:
            wait_for(f"http://127.0.0.1:{port}/webhooks/rest/", layout.processes)
        wait_for(f"{layout.url}/health", layout.processes)
        yield layout
    finally:
        if layout is not None:
            stop(layout.processes)
        try:
            if redis_prefix:
                _drop_redis_keys(REDIS_DB, redis_prefix)
        finally:
            if created and not keep_database:
                _admin(f'DROP DATABASE IF EXISTS "{created}" WITH (FORCE)')


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/scaleout.py", description=__doc__.splitlines()[0])
    parser.add_argument("--rasa", type=int, default=int(os.environ.get("SCALEOUT_RASA", "2")), help="Rasa servers")
    parser.add_argument("--actions", type=int, default=int(os.environ.get("SCALEOUT_ACTIONS", "2")),
                        help="action servers")
    parser.add_argument("--port", type=int, default=int(os.environ.get("SCALEOUT_PORT", "8080")),
                        help="nginx's public port (the ENT pages and REST clients)")
    parser.add_argument("--api-port", type=int, default=int(os.environ.get("SCALEOUT_API_PORT", "8081")),
                        help="nginx's port for Rasa's HTTP API (loopback only)")
    parser.add_argument("--listen", default=os.environ.get("SCALEOUT_LISTEN", "127.0.0.1"),
                        help="the public side's address (behind the school's HTTPS proxy)")
    parser.add_argument("--database-url", default=os.environ.get("SCALEOUT_DATABASE_URL"),
                        help="an existing PostgreSQL database (kept); default: a fresh one, dropped on exit")
    parser.add_argument("--keep-database", action="store_true", help="do not drop the fresh database on exit")
    parser.add_argument("--model", type=Path, default=MODEL)
    parser.add_argument("--work", type=Path, help="where the generated configuration and logs go (default: a "
                                                  "temporary directory, removed on exit)")
    args = parser.parse_args(argv)
    reason = unreachable()
    if reason:
        print(f"[scaleout] {reason}", file=sys.stderr)
        return 1
    if not args.model.exists():
        print(f"[scaleout] {args.model} manque : make train", file=sys.stderr)
        return 1
    work = args.work or Path(tempfile.mkdtemp(prefix="orientbot-scaleout-"))
    stopping = {"signal": 0}

    def on_signal(number, _frame):
        if stopping["signal"]:  # a second Ctrl-C while stopping: the stopping goes on (processes, database, keys)
            return
        stopping["signal"] = number
        raise KeyboardInterrupt

    # Both, explicitly: a shell's background job inherits SIGINT ignored, and Python would keep it so.
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    print(f"[scaleout] démarrage de {args.rasa} serveurs Rasa et {args.actions} serveurs d'actions derrière nginx "
          f"(une à deux minutes sur 2 cœurs) ; journaux dans {work}")
    try:
        with scaled_out(work, rasa=args.rasa, actions=args.actions, model=args.model,
                        database_url=args.database_url, public_port=args.port, api_port=args.api_port,
                        listen=args.listen, keep_database=args.keep_database) as layout:
            print(f"[scaleout] Le bot répond : POST {layout.url}/webhooks/rest/webhook, fenêtre de discussion "
                  f"{layout.url}/webhooks/chat/widget/demo-ent.html\n"
                  f"           API de Rasa (boucle locale) : {layout.api_url}/conversations/<id>/tracker?token=… "
                  f"(jeton dans {work}/api-token)\n"
                  f"           base : {layout.database_url.split('@')[-1]} ; verrous : Redis "
                  f"{REDIS_HOST}:{REDIS_PORT} db {REDIS_DB}, préfixe {layout.redis_prefix}\n"
                  f"           Ctrl-C pour tout arrêter.")
            with _log(work / "api-token") as handle:
                handle.write(layout.api_token + "\n")
            while all(process.poll() is None for process in layout.processes):
                time.sleep(1)
            print("[scaleout] un serveur s'est arrêté : voir les journaux", file=sys.stderr)
            return 1
    except KeyboardInterrupt:
        print("[scaleout] arrêt…")
        return 143 if stopping["signal"] == signal.SIGTERM else 130
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
