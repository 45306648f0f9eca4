"""Starting and stopping a real `lectern up` for the Python suites (the
browser tests, the reminder tests), and the PostgreSQL databases it makes
on the test server: a free port, the binary, launching it with its output
in a log, waiting for its banner, Ctrl-C and the check that it stopped
cleanly.

The suites' conftest.py files import it (tests/ on sys.path).
"""

import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.parse
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
READY_LINE = "Press Ctrl-C to stop."
STOPPED_LINE = "Lectern stopped."
# Loading the demo district takes half a minute on a laptop, longer on a
# busy two-core CI machine.
DEMO_START_DEADLINE_SECS = 300
STOP_DEADLINE_SECS = 30
DEFAULT_TEST_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/postgres"
# The databases `lectern up --database-url …/<prefix>` makes: <prefix>_<service>.
SERVICES = ("reader", "catalog", "circulation", "notification")


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def lectern_binary():
    """The binary: LECTERN_BIN, else target/debug/lectern in the repo
    (a relative path is taken from the repo)."""
    binary = Path(os.environ.get("LECTERN_BIN", "target/debug/lectern"))
    if not binary.is_absolute():
        binary = REPO / binary
    assert binary.exists(), f"no lectern binary at {binary} (build it, or set LECTERN_BIN)"
    return binary


def launch(binary, arguments, log_path, env=None, cwd=None):
    """`lectern ARGUMENTS`, its output (banner and log) into `log_path`."""
    with open(log_path, "wb") as log:
        return subprocess.Popen(
            [str(binary), *arguments],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=cwd,
        )


def wait_until_ready(process, log_path, deadline_secs):
    """The banner, once `lectern up` says it is ready (polling its output
    until a deadline)."""
    deadline = time.monotonic() + deadline_secs
    text = ""
    while READY_LINE not in text:
        assert process.poll() is None, f"lectern up exited ({process.returncode}):\n{text}"
        assert time.monotonic() < deadline, f"lectern up not ready in {deadline_secs} s:\n{text}"
        time.sleep(0.05)
        text = log_path.read_text(errors="replace")
    return text


def stop_with_ctrl_c(process):
    """Ctrl-C, as a person stops it, if it still runs: it must stop within
    the deadline."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=STOP_DEADLINE_SECS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        pytest.fail(f"lectern up did not stop within {STOP_DEADLINE_SECS} s of Ctrl-C")


def assert_stopped_cleanly(log_path):
    text = log_path.read_text(errors="replace")
    assert STOPPED_LINE in text, f"no '{STOPPED_LINE}' after Ctrl-C:\n{text[-3000:]}"


def database_server_url():
    """The PostgreSQL server the tests make their databases on:
    LECTERN_TEST_DATABASE_URL, else the local one."""
    return os.environ.get("LECTERN_TEST_DATABASE_URL") or DEFAULT_TEST_DATABASE_URL


class PostgresDatabases:
    """The four databases one `lectern up --database-url` makes on the test
    server, under a prefix of their own (`name_prefix`, then the process and
    the time), and their removal. `suite` names the tests in the message
    when psql is missing ("browser", "reminder")."""

    def __init__(self, server_url, name_prefix, suite):
        self.server_url = server_url
        self.suite = suite
        parts = urllib.parse.urlsplit(server_url)
        self.prefix = f"{name_prefix}_{os.getpid()}_{int(time.time())}"
        # The server's URL naming the prefix instead of its database, its
        # parameters (sslmode, …) kept.
        self.url = urllib.parse.urlunsplit((parts.scheme, parts.netloc, f"/{self.prefix}", parts.query, ""))
        self.names = [f"{self.prefix}_{service}" for service in SERVICES]

    def psql(self, sql):
        return subprocess.run(
            ["psql", self.server_url, "-v", "ON_ERROR_STOP=1", "-qAtc", sql],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=60,
        )

    def check_reachable(self):
        """Fails (never skips) when the server cannot be reached."""
        if shutil.which("psql") is None:
            pytest.fail(
                f"psql is needed for the PostgreSQL {self.suite} tests (apt-get install postgresql-client)"
            )
        answer = self.psql("select 1")
        if answer.returncode != 0:
            pytest.fail(
                f"PostgreSQL at {self.server_url} cannot be reached (set LECTERN_TEST_DATABASE_URL): "
                f"{answer.stderr.strip()}"
            )

    def drop(self):
        failures = []
        for name in self.names:
            answer = self.psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            if answer.returncode != 0:
                failures.append(f"{name}: {answer.stderr.strip()}")
        assert not failures, "could not drop the test databases:\n" + "\n".join(failures)
