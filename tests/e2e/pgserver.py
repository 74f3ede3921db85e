"""A private PostgreSQL server for the tests: initdb into a temporary
directory, a Unix socket in that directory and no TCP (listen_addresses=''),
trust authentication (except for the role `pwuser`, which must give its
password, so failed authentication can be tested), stopped at exit. As root the server runs as the
`postgres` system user (PostgreSQL refuses to run as root), in a directory
that user owns. Client programs (psql, overlap) connect as the database
superuser `postgres` through the socket."""
import atexit
import glob
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile


def _bin_dir():
    for d in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if os.path.exists(os.path.join(d, "initdb")):
            return d
    found = shutil.which("initdb")
    return os.path.dirname(found) if found else None


class PgServer:
    """Starts on construction; `available` is False (with `why`) when the
    PostgreSQL server binaries are missing or do not start."""

    def __init__(self, port=5432):
        self.available = False
        self.why = ""
        self.port = port
        self.bindir = _bin_dir()
        self.dir = None
        self.started = False
        if self.bindir is None:
            self.why = "PostgreSQL server binaries not found (make deps installs postgresql)"
            return
        self.dir = tempfile.mkdtemp(prefix="overlap-pg-")
        os.chmod(self.dir, 0o755)
        self.data = os.path.join(self.dir, "data")
        self.sock = self.dir
        self.as_user = []
        if os.geteuid() == 0:
            pw = pwd.getpwnam("postgres")
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)
            self.as_user = ["runuser", "-u", "postgres", "--"]
        atexit.register(self.stop)
        # A terminated test or benchmark still stops its server: SIGTERM
        # becomes an ordinary exit, which runs the atexit hook.
        if signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
            signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
        self._start()

    def _run(self, args):
        return subprocess.run(self.as_user + args, capture_output=True, text=True)

    def _start(self):
        r = self._run([os.path.join(self.bindir, "initdb"), "-D", self.data, "-U", "postgres",
                       "--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C"])
        if r.returncode != 0:
            self.why = "initdb failed: " + r.stderr.strip()[-300:]
            return
        with open(os.path.join(self.data, "pg_hba.conf"), "w") as f:
            f.write("local all pwuser scram-sha-256\nlocal all all trust\n")
        opts = (f"-c listen_addresses='' -c unix_socket_directories='{self.sock}' "
                f"-p {self.port} -c fsync=off -c max_connections=20 -c shared_buffers=16MB")
        r = self._run([os.path.join(self.bindir, "pg_ctl"), "-D", self.data, "-l",
                       os.path.join(self.dir, "log"), "-o", opts, "-w", "-t", "60", "start"])
        if r.returncode != 0:
            self.why = "pg_ctl start failed: " + r.stderr.strip()[-300:]
            return
        self.started = True
        self.available = True

    def stop(self):
        if self.started:
            self._run([os.path.join(self.bindir, "pg_ctl"), "-D", self.data, "-m", "immediate",
                       "-w", "stop"])
            self.started = False
        if self.dir:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None

    def uri(self, db="postgres", user="postgres", params=""):
        """A libpq URI reaching this server through its socket."""
        sock = self.sock.replace("/", "%2F")
        extra = "&" + params if params else ""
        return f"postgresql://{user}@{sock}:{self.port}/{db}?{extra.lstrip('&')}".rstrip("?")

    def psql(self, sql, db="postgres", user="postgres", stdin=None):
        """Runs SQL through psql; returns the CompletedProcess (stdout unaligned, tuples only)."""
        psql = os.path.join(self.bindir, "psql")
        if not os.path.exists(psql):
            psql = "psql"
        args = [psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-At", "-h", self.sock, "-p",
                str(self.port), "-U", user, "-d", db, "-c", sql]
        return subprocess.run(args, input=stdin, capture_output=True, text=True)

    def load_csv(self, table, columns, csv_text, db="postgres"):
        """Creates `table` with `columns` ("email text, amount numeric") and
        copies CSV text (with a header row) into it."""
        r = self.psql(f"DROP TABLE IF EXISTS {table}; CREATE TABLE {table} ({columns})", db)
        if r.returncode != 0:
            raise RuntimeError("psql: " + r.stderr)
        r = self.psql(f"\\copy {table} FROM STDIN WITH (FORMAT csv, HEADER true)", db,
                      stdin=csv_text)
        if r.returncode != 0:
            raise RuntimeError("psql copy: " + r.stderr)
