"""What the SIP2 tests share: `lectern up --demo` with SIP2 on plain TCP
and on TLS (a throw-away self-signed certificate for 127.0.0.1), once on
SQLite and once on PostgreSQL (its own databases, dropped afterwards
whatever happens); the banner's SIP2 machine (device id and key) and
librarian; the JSON API and the `lectern` CLI for what a librarian does
(placing a hold, registering a GB18030 machine) and for checking what the
machine did (loans, copies) without going through SIP2.

Both backends' `lectern up` start together, so the second demo loads
while the first backend's tests run.

Environment:
  LECTERN_BIN                 the binary (default target/debug/lectern in the repo)
  LECTERN_TEST_DATABASE_URL   the PostgreSQL server (default
                              postgres://postgres@127.0.0.1:5432/postgres);
                              never skipped: unreachable, the postgres run fails
"""

import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from lectern_process import (  # noqa: E402  (tests/ on the path first)
    DEMO_START_DEADLINE_SECS,
    PostgresDatabases,
    assert_stopped_cleanly,
    database_server_url,
    free_port,
    launch,
    lectern_binary,
    stop_with_ctrl_c,
    wait_until_ready,
)

BACKENDS = ("sqlite", "postgres")


class Lectern:
    """A running `lectern up --demo`: where its SIP2 listeners are, the
    demo's SIP2 machine, and a librarian of the machine's school at the
    JSON API and the CLI."""

    def __init__(self, backend, workdir, ports, process, log_path, banner, cert_path):
        self.backend = backend
        self.workdir = workdir
        self.process = process
        self.log_path = log_path
        self.cert_path = cert_path
        self.base_url = f"http://127.0.0.1:{ports['http']}"
        self.grpc_url = f"http://127.0.0.1:{ports['grpc']}"
        self.sip2 = banner_address(banner, r"SIP2 \(self-check\):")
        assert self.sip2 == ("127.0.0.1", ports["sip2"]), f"SIP2 not where asked:\n{banner}"
        self.sip2_tls = banner_address(banner, r"SIP2 over TLS:")
        assert self.sip2_tls == ("127.0.0.1", ports["sip2_tls"]), f"SIP2 over TLS not where asked:\n{banner}"
        found = re.search(r"^\s*SIP2 machine:\s+(\S+) / (\S+)", banner, re.MULTILINE)
        assert found, f"no SIP2 machine in the demo banner:\n{banner}"
        self.machine_id, self.machine_key = found.groups()
        found = re.search(r"^\s*librarian:\s+(\S+) / (\S+)", banner, re.MULTILINE)
        assert found, f"no librarian in the demo banner:\n{banner}"
        self.librarian = found.groups()
        self._token = None
        self.session_file = workdir / "librarian-session.json"
        self.cli("login", "--username", self.librarian[0], env={"LECTERN_PASSWORD": self.librarian[1]})

    def log(self):
        return self.log_path.read_text(errors="replace")

    # -- the JSON API, as the librarian ---------------------------------------

    def token(self):
        if self._token is None:
            answer = self.call(
                "lectern.gateway.v1.GatewayService/Login",
                {"staff": {"username": self.librarian[0], "password": self.librarian[1]}},
                token="",
            )
            self._token = answer["accessToken"]
        return self._token

    def call(self, method, body, token=None):
        """POST /api/<method> as the librarian (or with `token`); its JSON
        answer, which must be 200."""
        request = urllib.request.Request(
            f"{self.base_url}/api/{method}",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        bearer = self.token() if token is None else token
        if bearer:
            request.add_header("Authorization", f"Bearer {bearer}")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as error:
            raise AssertionError(f"{method} {body}: {error.code} {error.read()!r}") from None

    def school_id(self, code):
        schools = self.call("lectern.reader.v1.ReaderService/ListSchools", {})["schools"]
        return next(school["id"] for school in schools if school["code"] == code)

    def reader(self, card):
        return self.call("lectern.reader.v1.ReaderService/LookupReader", {"cardBarcode": card})

    def open_loans(self, card):
        """The reader's open loans' copy barcodes, as the desk sees them."""
        answer = self.call(
            "lectern.circulation.v1.LoanService/ListLoans", {"readerId": self.reader(card)["id"], "pageSize": 500}
        )
        return sorted(loan.get("copyBarcode", "") for loan in answer.get("loans", []))

    def add_sip2_machine(self, label, settings=None):
        """Registers another SIP2 machine at the demo's primary school, as
        its librarian does (with `settings`, or the defaults); (device id,
        key)."""
        settings = {"settings": settings} if settings else {}
        answer = self.call(
            "lectern.reader.v1.IdentityService/CreateDevice",
            {"schoolId": self.school_id("XH-PRI"), "kind": "DEVICE_KIND_SIP2", "label": label, **settings},
        )
        return answer["device"]["id"], answer["key"]

    # -- the CLI, as the librarian at the desk --------------------------------

    def cli(self, *arguments, env=None):
        """`lectern ARGUMENTS` with the librarian's session; its output."""
        environment = dict(
            os.environ,
            LECTERN_SESSION_FILE=str(self.session_file),
            LECTERN_SERVER=self.grpc_url,
            **(env or {}),
        )
        done = subprocess.run(
            [str(lectern_binary()), *arguments],
            check=False,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            env=environment,
            timeout=60,
        )
        assert done.returncode == 0, f"lectern {' '.join(arguments)}: {done.returncode}\n{done.stdout}{done.stderr}"
        return done.stdout

    def place_hold(self, card, copy):
        """A librarian places a hold on one copy for a reader (pickup at
        the reader's school)."""
        return self.cli("hold", "place", card, "--copy", copy)

    def hold_statuses(self, card):
        return self.cli("hold", "list", card)


def banner_address(banner, label):
    found = re.search(rf"^\s*{label}\s+(\d+\.\d+\.\d+\.\d+):(\d+)", banner, re.MULTILINE)
    assert found, f"no '{label}' line in the banner:\n{banner}"
    return found.group(1), int(found.group(2))


def self_signed_certificate(folder):
    """A throw-away certificate for 127.0.0.1 (its CN too: the sip2 client
    compares the CN of a self-signed certificate with the host name)."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return cert, key


class Launch:
    """One backend's `lectern up --demo`, started but maybe not ready."""

    def __init__(self, backend, workdir):
        self.backend = backend
        self.workdir = workdir
        self.database = None
        if backend == "postgres":
            self.database = PostgresDatabases(database_server_url(), "lectern_sip2", "SIP2")
            self.database.check_reachable()
        self.cert, key = self_signed_certificate(workdir)
        self.ports = {name: free_port() for name in ("http", "grpc", "sip2", "sip2_tls")}
        arguments = [
            "up",
            "--demo",
            "--http-listen",
            f"127.0.0.1:{self.ports['http']}",
            "--listen",
            f"127.0.0.1:{self.ports['grpc']}",
            "--sip2-listen",
            f"127.0.0.1:{self.ports['sip2']}",
            "--sip2-tls-listen",
            f"127.0.0.1:{self.ports['sip2_tls']}",
            "--data-dir",
            str(workdir / "data"),
        ]
        if self.database:
            arguments += ["--database-url", self.database.url]
        # The certificate for SIP2 only: the desk and the JSON API stay on
        # plain HTTP, as on a school's server whose machines want TLS.
        env = dict(os.environ, LECTERN_SIP2_TLS_CERT_FILE=str(self.cert), LECTERN_SIP2_TLS_KEY_FILE=str(key))
        self.log_path = workdir / "lectern.log"
        self.began = time.monotonic()
        self.process = launch(lectern_binary(), arguments, self.log_path, env)
        self.lectern = None

    def ready(self):
        if self.lectern is None:
            banner = wait_until_ready(self.process, self.log_path, DEMO_START_DEADLINE_SECS)
            shown = "PostgreSQL" if self.database else "SQLite"
            assert re.search(rf"^\s*databases:\s+{shown}\b", banner, re.MULTILINE), f"not on {shown}:\n{banner}"
            print(f"\n{self.backend}: lectern up --demo ready in {time.monotonic() - self.began:.1f} s")
            self.lectern = Lectern(
                self.backend, self.workdir, self.ports, self.process, self.log_path, banner, self.cert
            )
        return self.lectern

    def stop(self):
        try:
            stop_with_ctrl_c(self.process)
            assert_stopped_cleanly(self.log_path)
        finally:
            if self.database:
                self.database.drop()


@pytest.fixture(scope="session")
def launches(request, tmp_path_factory):
    """Every backend the chosen tests need, started at once."""
    wanted = {
        item.callspec.params["lectern"]
        for item in request.session.items
        if hasattr(item, "callspec") and "lectern" in item.callspec.params
    }
    started = {}
    try:
        for backend in BACKENDS:
            if backend in wanted:
                started[backend] = Launch(backend, tmp_path_factory.mktemp(f"sip2-{backend}"))
        yield started
    finally:
        failures = []
        for launched in started.values():
            try:
                launched.stop()
            except BaseException as error:  # noqa: BLE001  (stop the others, then fail)
                failures.append(f"{launched.backend}: {error}")
        assert not failures, "\n".join(failures)


@pytest.fixture(scope="session", params=BACKENDS)
def lectern(request, launches):
    """`lectern up --demo` with SIP2 (plain and TLS): on SQLite, then on
    PostgreSQL."""
    return launches[request.param].ready()
