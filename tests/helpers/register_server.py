"""A real register process on 127.0.0.1 (port 0, read back from its first line) over a real
database: a SQLite file, or a database in a throw-away PostgreSQL cluster (Debian's
postgresql package; initdb runs as the `postgres` user because it refuses root).

    with PostgresCluster.start() as pg:              # once per session (a few seconds)
        url = pg.create_database()                   # a fresh database per test
        with RegisterProcess.start(url) as reg:      # `bench register serve --db url --port 0`
            token = reg.token("station-1")
            httpx.get(reg.url + "/v1/health")
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_LISTENING = re.compile(r"listening on (https?://\S+)")


def bench_argv(*args: str) -> list[str]:
    return [sys.executable, "-m", "bench.cli.main", *args]


@dataclass
class RegisterProcess:
    db_url: str
    proc: subprocess.Popen
    url: str
    output: list[str] = field(default_factory=list)

    @classmethod
    def start(cls, db_url: str, *extra: str, timeout: float = 60.0) -> RegisterProcess:
        proc = subprocess.Popen(
            bench_argv("register", "serve", "--db", db_url, "--host", "127.0.0.1", "--port", "0", *extra),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            cwd=ROOT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        lines: list[str] = []
        found: list[str] = []

        def reader() -> None:
            assert proc.stdout is not None
            for line in proc.stdout:
                lines.append(line.rstrip("\n"))
                m = _LISTENING.search(line)
                if m and not found:
                    found.append(m.group(1))

        threading.Thread(target=reader, daemon=True).start()
        deadline = time.monotonic() + timeout
        while not found:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError("register did not start:\n" + "\n".join(lines))
            time.sleep(0.02)
        return cls(db_url, proc, found[0], lines)

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    def token(self, station_id: str, org: str = "") -> str:
        """A bearer token for the station (a new station goes in `org`, or the default organisation)."""
        with self.storage() as reg:
            return reg.create_token(station_id, org)

    def storage(self):
        """A second connection to the register's database (for counting, chain checks, set-up)."""
        from bench.register.service import open_register

        return open_register(self.db_url)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def __enter__(self) -> RegisterProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _pg_bin() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        raise RuntimeError("PostgreSQL is not installed (apt-get install postgresql; it is in the Makefile)")
    return Path(found[-1]).parent


@dataclass
class PostgresCluster:
    """A private cluster in a temp dir, reachable only through a unix socket in that dir."""

    directory: Path
    bin: Path
    counter: int = 0

    @classmethod
    def start(cls) -> PostgresCluster:
        pg_bin = _pg_bin()
        directory = Path(tempfile.mkdtemp(prefix="bench-pg-"))
        os.chmod(directory, 0o755)
        shutil.chown(directory, "postgres", "postgres")
        as_pg = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        data = directory / "data"
        subprocess.run(
            [
                *as_pg,
                str(pg_bin / "initdb"),
                "-D",
                str(data),
                "-U",
                "postgres",
                "--auth=trust",
                "--no-sync",
                "-E",
                "UTF8",
                "--locale=C",
            ],
            check=True,
            capture_output=True,
            timeout=60,
        )
        opts = f"-c listen_addresses='' -c unix_socket_directories='{directory}' -c fsync=off -c port=5432"
        subprocess.run(
            [
                *as_pg,
                str(pg_bin / "pg_ctl"),
                "-D",
                str(data),
                "-l",
                str(directory / "log"),
                "-o",
                opts,
                "-w",
                "-t",
                "60",
                "start",
            ],
            check=True,
            capture_output=True,
            timeout=90,
        )
        return cls(directory, pg_bin)

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://postgres@/{dbname}?host={self.directory}&port=5432"

    def create_database(self) -> str:
        import psycopg

        self.counter += 1
        name = f"register_{os.getpid()}_{self.counter}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        as_pg = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run(
            [*as_pg, str(self.bin / "pg_ctl"), "-D", str(self.directory / "data"), "-m", "immediate", "-w", "stop"],
            capture_output=True,
            timeout=60,
        )
        shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self) -> PostgresCluster:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


_shared: list[PostgresCluster] = []
_shared_lock = threading.Lock()


def shared_cluster() -> PostgresCluster:
    """One cluster for the whole test process (started on first use, stopped at exit), so
    every test module parametrised over PostgreSQL shares the start-up cost."""
    import atexit

    with _shared_lock:
        if not _shared:
            _shared.append(PostgresCluster.start())
            atexit.register(_shared[0].stop)
        return _shared[0]


def database_url(backend: str, tmp_path: Path) -> str:
    """A fresh, empty register database: `sqlite` (a file in tmp_path) or `postgres`."""
    if backend == "sqlite":
        return str(tmp_path / "register.db")
    if backend == "postgres":
        return shared_cluster().create_database()
    raise ValueError(backend)
