"""A private PostgreSQL cluster for interop tests: initdb into a temporary directory, pg_ctl start
on a free loopback port with the unix socket in the same directory, trust auth for `postgres`,
and stop plus removal afterwards. As root (CI) the server binaries run as the `postgres` user.

If PostgreSQL cannot start, the fixture raises: the tests that need it fail, never skip.
"""
import glob
import os
import shutil
import subprocess
import tempfile

import pytest

import harness


def _bindir():
    env = os.environ.get("PAYTRACK_PG_BINDIR")
    if env:
        return env
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    return os.path.dirname(found[-1]) if found else ""


class Cluster:
    def __init__(self):
        self.bindir = _bindir()
        self.as_postgres = os.geteuid() == 0
        self.dir = tempfile.mkdtemp(prefix="paytrack-pg-")
        os.chmod(self.dir, 0o755)
        self.port = harness.free_port()
        self.running = False
        self.databases = 0
        if self.as_postgres:
            shutil.chown(self.dir, "postgres", "postgres")

    def _run(self, tool, *args):
        path = os.path.join(self.bindir, tool) if self.bindir else tool
        cmd = ["runuser", "-u", "postgres", "--", path, *args] if self.as_postgres else [path, *args]
        # Output to a file, not a pipe: the server that `pg_ctl start` leaves running inherits it.
        with tempfile.TemporaryFile() as out:
            rc = subprocess.call(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
            out.seek(0)
            text = out.read().decode(errors="replace")
        if rc != 0:
            raise RuntimeError(f"{' '.join(cmd)} exited {rc}: {text}\n{self.log()}")
        return text

    def log(self):
        try:
            with open(os.path.join(self.dir, "server.log"), errors="replace") as f:
                return f.read()[-3000:]
        except OSError:
            return ""

    def init(self):
        data = os.path.join(self.dir, "data")
        self._run("initdb", "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
        with open(os.path.join(data, "postgresql.conf"), "a") as f:
            f.write(f"\n# PayTrack test cluster\nlisten_addresses = '127.0.0.1'\nport = {self.port}\n"
                    f"unix_socket_directories = '{self.dir}'\nmax_connections = 300\nfsync = off\n")
        self.start()
        return self

    def start(self):
        self._run("pg_ctl", "-D", os.path.join(self.dir, "data"), "-l", os.path.join(self.dir, "server.log"),
                  "-w", "-t", "60", "start")
        self.running = True

    def stop(self, mode="fast"):
        if self.running:
            self._run("pg_ctl", "-D", os.path.join(self.dir, "data"), "-m", mode, "-w", "-t", "60", "stop")
            self.running = False

    def dsn(self, database="postgres"):
        return f"host={self.dir} port={self.port} user=postgres dbname={database}"

    def create_database(self):
        """A fresh empty database; returns its DSN."""
        self.databases += 1
        name = f"t{self.databases}"
        self._run("createdb", "-h", self.dir, "-p", str(self.port), "-U", "postgres", name)
        return self.dsn(name)

    def psql(self, dsn, sql):
        """Runs one SQL command with psql; returns its unaligned output (tests' own inspection only)."""
        path = os.path.join(self.bindir, "psql") if self.bindir else "psql"
        return subprocess.check_output([path, "-X", "-A", "-t", "-d", dsn, "-c", sql], text=True).strip()

    def destroy(self):
        try:
            self.stop("immediate")
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_cluster():
    """One private cluster for the test session; each test takes its own database from it."""
    c = Cluster().init()
    yield c
    c.destroy()


@pytest.fixture
def pg_dsn(pg_cluster):
    return pg_cluster.create_database()
