"""A throw-away PostgreSQL cluster for the tests: Debian's ``postgresql`` package (installed by
``make postgres``, which ``make test`` runs), a data folder in a temp folder, a unix socket there
and a free loopback port; stopped and deleted afterwards. PostgreSQL refuses to run as root, so
as root (CI) initdb and pg_ctl run as the ``postgres`` OS user the package creates."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from itertools import count
from pathlib import Path

import psycopg


class ClusterError(RuntimeError):
    pass


def _bin_dir() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    if not found:
        raise ClusterError("PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb): run `make postgres` (apt-get install postgresql)")
    return Path(found[-1]).parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Cluster:
    folder: Path
    port: int
    as_user: list[str]
    bin: Path
    _names = count()

    @property
    def admin_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def url(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        """A fresh, empty database; its URL."""
        name = f"t{os.getpid()}_{next(self._names)}"
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name} TEMPLATE template0")
        return self.url(name)

    def password_database(self, user: str, password: str) -> str:
        """A fresh database owned by a role that must give its password over TCP (the cluster
        trusts everyone else); its URL, password included."""
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f"CREATE ROLE {user} LOGIN PASSWORD '{password}'")  # test names only, no quoting needed
            conn.execute(f"CREATE DATABASE {user} OWNER {user} TEMPLATE template0")
        hba = self.folder / "data" / "pg_hba.conf"
        rules = hba.read_text()
        hba.write_text(f"host all {user} 127.0.0.1/32 scram-sha-256\n" + rules)  # the first matching line decides
        subprocess.run([*self.as_user, str(self.bin / "pg_ctl"), "-D", str(self.folder / "data"), "reload"], capture_output=True, timeout=60, check=True)
        return f"postgresql://{user}:{password}@127.0.0.1:{self.port}/{user}"

    def stop(self) -> None:
        subprocess.run([*self.as_user, str(self.bin / "pg_ctl"), "-D", str(self.folder / "data"), "-m", "immediate", "-w", "stop"], capture_output=True, timeout=60)
        shutil.rmtree(self.folder, ignore_errors=True)


def start_cluster() -> Cluster:
    bin_dir = _bin_dir()
    folder = Path(tempfile.mkdtemp(prefix="graphsim-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:
        import pwd

        try:
            user = pwd.getpwnam("postgres")
        except KeyError:
            raise ClusterError("running as root, and there is no `postgres` OS user to run PostgreSQL as (Debian's postgresql package creates it)") from None
        os.chown(folder, user.pw_uid, user.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]
    data, log = folder / "data", folder / "server.log"
    port = _free_port()
    run = [*as_user, str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--locale=C", "--no-sync"]
    done = subprocess.run(run, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        shutil.rmtree(folder, ignore_errors=True)
        raise ClusterError(f"initdb failed ({' '.join(run)}): {done.stderr.strip() or done.stdout.strip()}")
    # A test cluster: fsync off (its data is thrown away; the tests kill graphsim processes, never
    # this server), the socket in its own folder, loopback only.
    options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c synchronous_commit=off -c max_connections=200"
    start = [*as_user, str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", options, "-w", "-t", "60", "start"]
    done = subprocess.run(start, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        text = log.read_text() if log.exists() else ""
        shutil.rmtree(folder, ignore_errors=True)
        raise ClusterError(f"PostgreSQL did not start ({' '.join(start)}): {done.stderr.strip()}\n{text[-2000:]}")
    return Cluster(folder, port, as_user, bin_dir)
