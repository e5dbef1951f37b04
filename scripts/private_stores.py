"""A private PostgreSQL and a private Redis, for tests that crash them on purpose.

Owns starting, killing (SIGKILL: a crash) and restarting, on the same port and the same data directory, a
PostgreSQL cluster made with Debian's binaries (``/usr/lib/postgresql/*/bin``) and a ``redis-server`` that keeps
nothing on disk. Both listen on loopback, on a free port, in a temporary directory removed at the end: the
machine's shared PostgreSQL (:5432) and Redis (:6379), which CI and other work use, are never touched.

PostgreSQL refuses to run as root: as root, its processes run as the ``postgres`` user, in a directory it owns.
``postgres_unavailable()`` and ``redis_unavailable()`` say why a store cannot be started here (for a skip).
"""
from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, List, Optional

from scripts.servers import free_port

DATABASE = "orientbot"
REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


def _postgres_bin() -> Optional[Path]:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"), key=lambda p: int(Path(p).parts[-3]))
    return Path(found[-1]).parent if found else None


def _run_as() -> Optional[pwd.struct_passwd]:
    """The user PostgreSQL runs as: ``postgres`` when we are root (initdb refuses root), else ourselves."""
    if os.geteuid() != 0:
        return None
    return pwd.getpwnam("postgres")


def postgres_unavailable() -> Optional[str]:
    binaries = _postgres_bin()
    if binaries is None:
        return "no PostgreSQL server binaries in /usr/lib/postgresql/*/bin"
    for tool in ("initdb", "postgres"):
        if not os.access(binaries / tool, os.X_OK):
            return f"{binaries / tool} is not executable"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and there is no postgres user to run PostgreSQL as"
    try:
        import psycopg2  # noqa: F401
    except ImportError:
        return "psycopg2 is not installed"
    return None


def redis_unavailable() -> Optional[str]:
    if not os.access(REDIS_SERVER, os.X_OK):
        return f"redis-server absent ({REDIS_SERVER})"
    return None


def _spawn(command: List[str], log: Path, user: Optional[pwd.struct_passwd]) -> subprocess.Popen:
    # A session of its own: killing its process group is killing the server and all its children at once.
    with open(log, "ab") as handle:
        return subprocess.Popen(command, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True,
                                **({"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []} if user else {}))


def _kill(process: Optional[subprocess.Popen]) -> None:
    if process is not None and process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    if process is not None:
        process.wait(timeout=30)


class PrivatePostgres:
    """One cluster in ``root``: ``start()``, ``kill()`` (a crash), ``start()`` again on the same data."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.data = root / "data"
        self.port = free_port()
        self.process: Optional[subprocess.Popen] = None
        self._bin = _postgres_bin()
        self._user = _run_as()

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{DATABASE}"

    def init(self) -> None:
        if self._user:
            os.chown(self.root, self._user.pw_uid, self._user.pw_gid)
        command = [str(self._bin / "initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8",
                   "--no-locale", "--no-sync"]
        process = _spawn(command, self.root / "initdb.log", self._user)
        if process.wait(timeout=120) != 0:
            raise RuntimeError("initdb failed: " + (self.root / "initdb.log").read_text(errors="replace")[-2000:])

    def start(self, timeout: float = 60.0) -> None:
        # fsync off: a test crashes the server, never the machine; what PostgreSQL wrote survives in the kernel.
        self.process = _spawn([str(self._bin / "postgres"), "-D", str(self.data), "-p", str(self.port),
                               "-c", "listen_addresses=127.0.0.1", "-c", f"unix_socket_directories={self.root}",
                               "-c", "fsync=off", "-c", "max_connections=200"],
                              self.root / "postgres.log", self._user)
        self._wait(timeout)

    def _wait(self, timeout: float) -> None:
        import psycopg2

        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("PostgreSQL stopped while starting: " +
                                   (self.root / "postgres.log").read_text(errors="replace")[-2000:])
            try:
                psycopg2.connect(host="127.0.0.1", port=self.port, user="postgres", dbname="postgres",
                                 connect_timeout=2).close()
                return
            except psycopg2.OperationalError:
                time.sleep(0.2)
        raise RuntimeError(f"PostgreSQL did not answer on port {self.port} within {timeout} s")

    def create_database(self) -> None:
        import psycopg2

        connection = psycopg2.connect(host="127.0.0.1", port=self.port, user="postgres", dbname="postgres")
        try:
            connection.autocommit = True  # CREATE DATABASE cannot run in a transaction
            with connection.cursor() as cursor:
                cursor.execute(f'CREATE DATABASE "{DATABASE}"')
        finally:
            connection.close()

    def kill(self) -> None:
        """SIGKILL to the postmaster and every backend at once: a crash, as when the machine's OOM killer strikes."""
        _kill(self.process)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None


class PrivateRedis:
    """A ``redis-server`` keeping nothing on disk: ``start()``, ``kill()``, ``start()`` again on the same port."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.port = free_port()
        self.process: Optional[subprocess.Popen] = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 30.0) -> None:
        import redis

        self.process = _spawn([REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                               "--appendonly", "no", "--dir", str(self.root), "--daemonize", "no"],
                              self.root / "redis.log", None)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("redis-server stopped while starting: " +
                                   (self.root / "redis.log").read_text(errors="replace")[-2000:])
            try:
                redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=2).ping()
                return
            except redis.RedisError:
                time.sleep(0.1)
        raise RuntimeError(f"redis-server did not answer on port {self.port} within {timeout} s")

    def kill(self) -> None:
        _kill(self.process)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None


@contextmanager
def private_postgres() -> Iterator[PrivatePostgres]:
    """A started cluster with an empty ``orientbot`` database; killed and removed on exit."""
    # Not under pytest's tmp_path: its parents are root's only, and the postgres user must reach its directory.
    root = Path(tempfile.mkdtemp(prefix="orientbot-pg-"))
    server = PrivatePostgres(root)
    try:
        server.init()
        server.start()
        server.create_database()
        yield server
    finally:
        server.kill()
        shutil.rmtree(root, ignore_errors=True)


@contextmanager
def private_redis() -> Iterator[PrivateRedis]:
    root = Path(tempfile.mkdtemp(prefix="orientbot-redis-"))
    server = PrivateRedis(root)
    try:
        server.start()
        yield server
    finally:
        server.kill()
        shutil.rmtree(root, ignore_errors=True)
