"""A PostgreSQL server for store tests: Debian's own binaries, a throw-away cluster.

``SCHAKEL_TEST_POSTGRES_URL`` (e.g. ``postgresql+psycopg://postgres@127.0.0.1:5432/x``)
names a server to use instead. Otherwise the session fixture runs ``initdb`` and ``pg_ctl``
from ``/usr/lib/postgresql/<version>/bin`` (Debian's ``postgresql`` package) into a temporary
directory, on a free port of 127.0.0.1, with trust authentication; as root it runs them as
the ``postgres`` user (PostgreSQL refuses to run as root). Without the binaries the
PostgreSQL cases are skipped with the line that installs them.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

__all__ = ["INSTALL_HINT", "postgres_url"]

INSTALL_HINT = "apt-get install -y postgresql"


def _bin_dir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=_version, reverse=True)
    return Path(found[0]).parent if found else None


def _version(path: str) -> int:
    try:
        return int(Path(path).parent.parent.name)
    except ValueError:
        return 0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _as_owner(command: list[str], user: str | None) -> list[str]:
    return ["runuser", "-u", user, "--", *command] if user else command


class _Cluster:
    """A throw-away cluster: initdb into a temporary directory, pg_ctl start and stop."""

    def __init__(self, bin_dir: Path) -> None:
        self.bin_dir = bin_dir
        self.user = "postgres" if os.geteuid() == 0 else None
        self.root = Path(tempfile.mkdtemp(prefix="schakel-pg-"))
        self.data = self.root / "data"
        self.port = _free_port()
        if self.user:
            shutil.chown(self.root, self.user, self.user)

    def _run(self, *command: str) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"}
        return subprocess.run(
            _as_owner(list(command), self.user),
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    def start(self) -> str:
        bin_dir, data = self.bin_dir, str(self.data)
        initdb = str(bin_dir / "initdb")
        done = self._run(initdb, "-D", data, "-U", "postgres", "--auth=trust", "--no-sync")
        if done.returncode != 0:
            pytest.fail(f"initdb failed:\n{done.stdout}\n{done.stderr}")
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={self.port} "
            f"-c unix_socket_directories={self.root} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        log = self.root / "server.log"
        done = self._run(
            str(bin_dir / "pg_ctl"), "-D", data, "-o", options, "-l", str(log), "-w", "start"
        )
        if done.returncode != 0:
            text = log.read_text() if log.exists() else ""
            pytest.fail(f"pg_ctl start failed:\n{done.stdout}\n{done.stderr}\n{text}")
        _wait_ready(self.port)
        _create_database(self.port, "schakel_test")
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/schakel_test"

    def stop(self) -> None:
        self._run(str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-m", "fast", "stop")
        shutil.rmtree(self.root, ignore_errors=True)


#: One cluster per test session, however many modules import the fixture (each import is a
#: fixture definition of its own; they share the cluster and the last one stops it).
_shared: dict[str, Any] = {"cluster": None, "url": "", "users": 0}


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """An empty database on a running PostgreSQL: its SQLAlchemy (psycopg, async) URL."""
    given = os.environ.get("SCHAKEL_TEST_POSTGRES_URL")
    if given:
        yield given
        return
    if _shared["cluster"] is None:
        bin_dir = _bin_dir()
        if bin_dir is None:
            pytest.skip(f"PostgreSQL is not installed ({INSTALL_HINT})")
        cluster = _Cluster(bin_dir)
        try:
            _shared["url"] = cluster.start()
        except BaseException:
            cluster.stop()
            raise
        _shared["cluster"] = cluster
    _shared["users"] += 1
    try:
        yield _shared["url"]
    finally:
        _shared["users"] -= 1
        if _shared["users"] == 0:
            _shared["cluster"].stop()
            _shared["cluster"] = None


def _wait_ready(port: int) -> None:
    import psycopg

    deadline = time.monotonic() + 30
    while True:
        try:
            with psycopg.connect(
                host="127.0.0.1", port=port, user="postgres", dbname="postgres", connect_timeout=2
            ):
                return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def _create_database(port: int, name: str) -> None:
    import psycopg

    with psycopg.connect(
        host="127.0.0.1", port=port, user="postgres", dbname="postgres", autocommit=True
    ) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
