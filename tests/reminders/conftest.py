"""What the reminder tests share: a real SMTP server (aiosmtpd) that keeps
every message and can answer "451 try again later" to a DATA; the
district's webhook bridge (an HTTP server that checks the HMAC signature);
and `lectern up --demo` sending through both, once on SQLite and once on
PostgreSQL (its own databases, dropped afterwards whatever happens).

Environment:
  LECTERN_BIN                 the binary (default target/debug/lectern in the repo)
  LECTERN_TEST_DATABASE_URL   the PostgreSQL server (default
                              postgres://postgres@127.0.0.1:5432/postgres);
                              never skipped: unreachable, the postgres run fails

Real time: the schools' quiet hours (21:00–07:30 in Shanghai) and closed
days would hold mail back depending on when the tests run, so the tests
turn both off for the demo's primary school before anything is due.
"""

import email
import email.header
import email.policy
import hashlib
import hmac
import http.server
import json
import os
import re
import sys
import threading
import time
from pathlib import Path

import pytest
import requests
from aiosmtpd.controller import Controller

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
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

# How long a test waits for the sender to hand a message to the relay.
SENDING_SECS = 30
SMTP_FROM = "library@district.example.cn"
WEBHOOK_SECRET = "bridge-secret-for-the-tests"

API_REMINDERS = "lectern.notification.v1.ReminderService"


def eventually(probe, what, within=SENDING_SECS):
    """Polls `probe` until it returns something truthy (a deadline, never a
    fixed sleep)."""
    deadline = time.monotonic() + within
    while True:
        value = probe()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out after {within} s waiting for {what}"
        time.sleep(0.1)


# ---- the SMTP server -------------------------------------------------------


class Mail:
    """One message the relay accepted, parsed."""

    def __init__(self, envelope):
        self.sender = envelope.mail_from
        self.recipients = list(envelope.rcpt_tos)
        self.raw = envelope.content if isinstance(envelope.content, bytes) else envelope.content.encode()
        self.message = email.message_from_bytes(self.raw, policy=email.policy.default)

    def header(self, name):
        """The header decoded (RFC 2047 words turned back into text)."""
        value = self.message.get(name)
        return None if value is None else str(value)

    def text(self):
        """Every text/plain part, decoded."""
        parts = [self.message] if not self.message.is_multipart() else list(self.message.walk())
        return "\n".join(
            part.get_content() for part in parts if part.get_content_type() == "text/plain"
        )

    def unsubscribe_link(self):
        found = re.search(r"<([^>]+)>", self.header("List-Unsubscribe") or "")
        assert found, f"no List-Unsubscribe link in {self.header('List-Unsubscribe')!r}"
        return found.group(1)


class Recorder:
    """aiosmtpd handler: keeps every message; answers "451 try again later"
    to the next `refuse` DATA commands (and keeps their recipients)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.mails = []
        self.refused = []
        self.refuse = 0

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            if self.refuse > 0:
                self.refuse -= 1
                self.refused.append(list(envelope.rcpt_tos))
                return "451 4.3.0 try again later"
            self.mails.append(Mail(envelope))
        return "250 2.0.0 OK queued"

    def refuse_next(self, count):
        with self.lock:
            self.refuse = count

    def reset(self):
        with self.lock:
            self.mails, self.refused, self.refuse = [], [], 0

    def to(self, address):
        with self.lock:
            return [mail for mail in self.mails if address in mail.recipients]

    def all(self):
        with self.lock:
            return list(self.mails)


@pytest.fixture(scope="session")
def smtp():
    recorder = Recorder()
    controller = Controller(recorder, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield recorder, controller.port
    finally:
        controller.stop()


# ---- the webhook bridge ----------------------------------------------------


class Bridge:
    """The district's SMS/WeChat bridge: checks each signature, keeps each
    call, answers 500 to the next `fail` calls."""

    def __init__(self):
        self.lock = threading.Lock()
        self.calls = []
        self.fail = 0

    def fail_next(self, count):
        with self.lock:
            self.fail = count

    def reset(self):
        with self.lock:
            self.calls, self.fail = [], 0

    def record(self, headers, body):
        timestamp = headers.get("X-Lectern-Timestamp", "")
        signature = headers.get("X-Lectern-Signature", "")
        wanted = hmac.new(WEBHOOK_SECRET.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
        signed = hmac.compare_digest(signature, f"sha256={wanted}")
        fresh = timestamp.isdigit() and abs(time.time() - int(timestamp)) < 300
        with self.lock:
            if not (signed and fresh):
                status = 401
            elif self.fail > 0:
                self.fail -= 1
                status = 500
            else:
                status = 200
            call = {"status": status, "signed": signed, "fresh": fresh, "body": json.loads(body or b"null")}
            self.calls.append(call)
        return status

    def accepted(self):
        with self.lock:
            return [call["body"] for call in self.calls if call["status"] == 200]

    def all(self):
        with self.lock:
            return list(self.calls)


@pytest.fixture(scope="session")
def bridge():
    state = Bridge()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            status = state.record(self.headers, body)
            answer = json.dumps({"id": f"bridge-{len(state.all())}"}).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state, f"http://127.0.0.1:{server.server_address[1]}/sms"
    finally:
        server.shutdown()
        server.server_close()


# ---- lectern up --demo -----------------------------------------------------


class Lectern:
    """A running `lectern up --demo` and the JSON API in front of it."""

    def __init__(self, backend, workdir, http_port, grpc_port, process, log_path, banner):
        self.backend = backend
        self.workdir = workdir
        self.base_url = f"http://127.0.0.1:{http_port}"
        self.grpc_url = f"http://127.0.0.1:{grpc_port}"
        self.process = process
        self.log_path = log_path
        self.accounts = {}
        for label in ("admin sign-in", "librarian", "assistant"):
            found = re.search(rf"^\s*{label}:\s+(\S+) / (\S+)", banner, re.M)
            assert found, f"no '{label}' sign-in in the demo banner:\n{banner}"
            self.accounts[label] = (found.group(1), found.group(2))
        self.session = requests.Session()
        self._token = None
        self._token_at = 0.0

    def log(self):
        return self.log_path.read_text(errors="replace")

    def post(self, method, body, token=None):
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        # A bearer client: no cookies, so no CSRF token is asked for.
        return requests.post(f"{self.base_url}/api/{method}", data=json.dumps(body), headers=headers, timeout=30)

    def call(self, method, body, token=None):
        answer = self.post(method, body, token or self.token())
        assert answer.status_code == 200, f"{method} {body}: {answer.status_code} {answer.text}"
        return answer.json()

    def sign_in(self, label):
        username, password = self.accounts[label]
        answer = self.post(
            "lectern.gateway.v1.GatewayService/Login", {"staff": {"username": username, "password": password}}
        )
        assert answer.status_code == 200, answer.text
        return answer.json()["accessToken"]

    def token(self):
        """The demo admin's token (signed in again every few minutes)."""
        if self._token is None or time.monotonic() - self._token_at > 300:
            self._token = self.sign_in("admin sign-in")
            self._token_at = time.monotonic()
        return self._token

    def school(self, code):
        schools = self.call("lectern.reader.v1.ReaderService/ListSchools", {})["schools"]
        return next(school for school in schools if school["code"] == code)

    def reminders(self, method, body, token=None):
        return self.call(f"{API_REMINDERS}/{method}", body, token)

    def deliveries(self, school_id, **filters):
        answer = self.reminders("ListDeliveries", {"schoolId": school_id, "pageSize": 500, **filters})
        return answer.get("deliveries", [])


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def lectern(request, tmp_path_factory, smtp, bridge):
    """`lectern up --demo` sending mail to the test's SMTP server and SMS to
    its bridge: on SQLite, then on PostgreSQL."""
    backend = request.param
    recorder, smtp_port = smtp
    bridge_state, bridge_url = bridge
    # Each backend's run reads only what its own `lectern up` sent.
    recorder.reset()
    bridge_state.reset()
    database = None
    if backend == "postgres":
        database = PostgresDatabases(database_server_url(), "lectern_reminders", "reminder")
        database.check_reachable()
    workdir = tmp_path_factory.mktemp(f"reminders-{backend}")
    http_port, grpc_port = free_port(), free_port()
    public_url = f"http://127.0.0.1:{http_port}"
    env = dict(
        os.environ,
        LECTERN_SMTP_URL=f"smtp://127.0.0.1:{smtp_port}?tls=none",
        LECTERN_SMTP_FROM=SMTP_FROM,
        LECTERN_WEBHOOK_URL=bridge_url,
        LECTERN_WEBHOOK_SECRET=WEBHOOK_SECRET,
        LECTERN_PUBLIC_URL=public_url,
        # The tests ask for passes themselves; the sender looks often, so
        # a message queued is handed over within a second.
        LECTERN_REMINDER_INTERVAL_MS="3600000",
        LECTERN_SENDER_INTERVAL_MS="1000",
    )
    arguments = [
        "up",
        "--demo",
        "--http-listen",
        f"127.0.0.1:{http_port}",
        # Self-check machines on a port of its own: both backends run at once.
        "--sip2-listen",
        "127.0.0.1:0",
        "--listen",
        f"127.0.0.1:{grpc_port}",
        "--data-dir",
        str(workdir / "data"),
    ]
    if database:
        arguments += ["--database-url", database.url]
    log_path = workdir / "lectern.log"
    began = time.monotonic()
    process = launch(lectern_binary(), arguments, log_path, env)
    try:
        text = wait_until_ready(process, log_path, DEMO_START_DEADLINE_SECS)
        shown = "PostgreSQL" if database else "SQLite"
        assert re.search(rf"^\s*databases:\s+{shown}\b", text, re.M), f"not on {shown}:\n{text}"
        print(f"\n{backend}: lectern up --demo ready in {time.monotonic() - began:.1f} s")
        server = Lectern(backend, workdir, http_port, grpc_port, process, log_path, text)
        open_the_primary_school(server)
        yield server
    finally:
        try:
            stop_with_ctrl_c(process)
            assert_stopped_cleanly(log_path)
        finally:
            if database:
                database.drop()


def open_the_primary_school(server):
    """No quiet hours, and reminders on closed days too, at the demo's
    primary school: the tests run at any hour of any day. Its sender name
    and Reply-To, as a librarian sets them."""
    school = server.school("XH-PRI")
    settings = server.reminders("GetReminderSettings", {"schoolId": school["id"]})
    settings.update(
        quietHoursStart="00:00",
        quietHoursEnd="00:00",
        sendOnClosedDays=True,
        senderName="徐汇区实验小学图书馆",
        replyTo="library@xh-pri.example.cn",
    )
    for output_only in ("updatedBy", "updateTime"):
        settings.pop(output_only, None)
    server.reminders("UpdateReminderSettings", {"settings": settings})


# ---- readers and loans of the tests' own -------------------------------------


def demo_reader(server, card):
    return server.call("lectern.reader.v1.ReaderService/LookupReader", {"cardBarcode": card})


def add_contact(server, reader, who, channel, value):
    return server.call(
        "lectern.reader.v1.ReaderProfileService/CreateReaderContact",
        {"readerId": reader["id"], "who": who, "channel": channel, "value": value, "label": "家长"},
    )


def prefer(server, reader, channels, language):
    server.call(
        "lectern.reader.v1.ReaderProfileService/UpdateNotificationPreferences",
        {"readerId": reader["id"], "channels": channels, "language": language},
    )


def lend_overdue(server, card, copies):
    """Lends the first of `copies` that is on the shelf to `card`, dated so
    the loan is overdue by one to six days today (the first overdue
    reminder; a due day on a weekend moves to Monday); returns the loan."""
    now = time.time()
    for copy in copies:
        for days_ago in range(15, 25):
            occurred = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - days_ago * 86400))
            answer = server.post(
                "lectern.circulation.v1.LoanService/CheckOut",
                {"readerCardBarcode": card, "copyBarcode": copy, "occurredAt": occurred},
                server.token(),
            )
            if answer.status_code != 200:
                break  # not on the shelf (or not lendable): the next copy
            loan = answer.json()["loan"]
            if loan.get("overdue") and days_overdue(loan["dueDate"]) <= 6:
                return loan
            server.call("lectern.circulation.v1.LoanService/CheckIn", {"copyBarcode": copy})
    raise AssertionError(f"no copy of {copies[:3]}… could be lent to {card} overdue by 1–6 days")


def days_overdue(due_date):
    import datetime
    from zoneinfo import ZoneInfo

    today = datetime.datetime.now(ZoneInfo("Asia/Shanghai")).date()
    return (today - datetime.date.fromisoformat(due_date)).days


def primary_copies(start):
    """Barcodes of the demo primary school's copies, from P{start}."""
    return [f"P{number:06d}" for number in range(start, start + 60)]
