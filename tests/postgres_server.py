"""A real PostgreSQL server for the tests and the grading benchmark: Debian's package (installed with apt-get when
missing), its data and its Unix socket (no TCP) in a temporary folder, stopped and removed at the end."""

import contextlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

PORT = "54329"  # names the socket file only: the server listens on no TCP port


class Unavailable(Exception):
    """PostgreSQL is not installed and cannot be installed here; the message says why."""


def server_programs() -> Path | None:
    """The folder of PostgreSQL's server programs (Debian's layout), or None."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    return found[-1].parent if found else None


def install() -> Path:
    """The server programs' folder, installing Debian's postgresql package first when they are missing."""
    if server_programs() is None:
        if not shutil.which("apt-get") or os.geteuid() != 0:
            raise Unavailable("PostgreSQL is not installed and cannot be installed here (needs root and apt-get)")
        subprocess.run("apt-get update && apt-get install -y --no-install-recommends postgresql", shell=True,
                       capture_output=True, timeout=900, env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
    found = server_programs()
    if found is None:
        raise RuntimeError("`apt-get install postgresql` did not install initdb under /usr/lib/postgresql")
    return found


@contextlib.contextmanager
def running(programs: Path):
    """Start a server; yields the URL of its empty database "gradebook"."""
    folder = Path(tempfile.mkdtemp(prefix="course-postgres-"))  # pytest's folders are closed to other users
    as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    if as_postgres:
        shutil.chown(folder, "postgres")
    data = str(folder / "data")
    try:
        subprocess.run([*as_postgres, str(programs / "initdb"), "-D", data, "--auth=trust", "-U", "postgres"],
                       check=True, capture_output=True)
        subprocess.run([*as_postgres, str(programs / "pg_ctl"), "-D", data, "-w", "-l", str(folder / "log"),
                        "-o", f"-k {folder} -p {PORT} -c listen_addresses=''", "start"], check=True, capture_output=True)
        yield create_database(f"postgresql://postgres@/postgres?host={folder}&port={PORT}", "gradebook")
    finally:
        subprocess.run([*as_postgres, str(programs / "pg_ctl"), "-D", data, "-m", "immediate", "stop"],
                       capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)


def create_database(url: str, name: str) -> str:
    """Create the empty database `name` (dropped first if it exists) on the server of `url`; its URL."""
    import psycopg

    parts = urlsplit(url)
    with psycopg.connect(dbname="postgres", user="postgres", autocommit=True, **dict(parse_qsl(parts.query))) as db:
        db.execute(f'DROP DATABASE IF EXISTS "{name}"')
        db.execute(f'CREATE DATABASE "{name}"')
    return parts._replace(path=f"/{name}").geturl()
