"""What the browser tests share: one `lectern up` of their own on a fresh
data directory, one headless Chromium (Debian's, never a downloaded one),
a new browser context per test, the JSON API for setting things up, and a
watch on every page's console.

Environment:
  LECTERN_BIN          the binary (default target/debug/lectern in the repo)
  LECTERN_HTTP_PORT    the HTTP edge's port (default: a free one)
  LECTERN_GRPC_PORT    the gateway's gRPC port (default: a free one)
  LECTERN_CHROMIUM     the browser (default /usr/bin/chromium)
  LECTERN_SCREENSHOTS  where screenshots go (default: a temporary folder)

The server runs with a two-minute token and a renewal margin as long, so
every browser request renews the session: the two-tab test then renews on
every reload.
"""

import json
import os
import re
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

REPO = Path(__file__).resolve().parents[2]
READY_LINE = "Press Ctrl-C to stop."
STOPPED_LINE = "Lectern stopped."
START_DEADLINE_SECS = 60
STOP_DEADLINE_SECS = 30
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}

# Every expect() waits at most this long: the pages answer in milliseconds.
expect.set_options(timeout=10_000)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Lectern:
    """The running `lectern up`, and the JSON API in front of it."""

    def __init__(self, base_url, admin_password, log_path):
        self.base_url = base_url
        self.log_path = log_path
        # The admin's password: the one-time one until a test changes it.
        self.admin_password = admin_password
        self.admin_password_changed = False

    def url(self, path):
        return self.base_url + path

    def log(self):
        return self.log_path.read_text(errors="replace")

    def api(self, method, body, token=None):
        """POST /api/<method>: (HTTP status, JSON body)."""
        request = urllib.request.Request(
            self.url(f"/api/{method}"),
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"{}")

    def call(self, method, body, token=None):
        """An API call that must succeed: its JSON answer."""
        status, answer = self.api(method, body, token)
        assert status == 200, f"{method}: {status} {answer}"
        return answer

    def staff_token(self, username, password):
        login = self.call(
            "lectern.gateway.v1.GatewayService/Login",
            {"staff": {"username": username, "password": password}},
        )
        return login["accessToken"]


@pytest.fixture(scope="session")
def lectern(tmp_path_factory):
    binary = Path(os.environ.get("LECTERN_BIN", "target/debug/lectern"))
    if not binary.is_absolute():
        binary = REPO / binary
    assert binary.exists(), f"no lectern binary at {binary} (build it, or set LECTERN_BIN)"
    http_port = int(os.environ.get("LECTERN_HTTP_PORT") or free_port())
    grpc_port = int(os.environ.get("LECTERN_GRPC_PORT") or free_port())
    workdir = tmp_path_factory.mktemp("lectern")
    log_path = workdir / "lectern.log"
    env = dict(
        os.environ,
        LECTERN_TOKEN_TTL_SECS="120",
        LECTERN_SESSION_RENEW_MARGIN_SECS="120",
    )
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [
                str(binary),
                "up",
                "--http-listen",
                f"127.0.0.1:{http_port}",
                "--listen",
                f"127.0.0.1:{grpc_port}",
                "--data-dir",
                str(workdir / "data"),
            ],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=workdir,
        )
    try:
        deadline = time.monotonic() + START_DEADLINE_SECS
        text = ""
        while READY_LINE not in text:
            assert process.poll() is None, f"lectern up exited ({process.returncode}):\n{text}"
            assert time.monotonic() < deadline, f"lectern up not ready in {START_DEADLINE_SECS} s:\n{text}"
            time.sleep(0.05)
            text = log_path.read_text(errors="replace")
        found = re.search(r"first admin:\s+admin / (\S+)", text)
        assert found, f"no one-time admin password in the banner:\n{text}"
        yield Lectern(f"http://127.0.0.1:{http_port}", found.group(1), log_path)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=STOP_DEADLINE_SECS)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
                pytest.fail(f"lectern up did not stop within {STOP_DEADLINE_SECS} s of Ctrl-C")
    text = log_path.read_text(errors="replace")
    assert STOPPED_LINE in text, f"no '{STOPPED_LINE}' after Ctrl-C:\n{text[-3000:]}"


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=os.environ.get("LECTERN_CHROMIUM", "/usr/bin/chromium"),
            headless=True,
            args=CHROMIUM_ARGS,
        )
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def screenshots():
    folder = os.environ.get("LECTERN_SCREENSHOTS")
    path = Path(folder) if folder else Path(tempfile.mkdtemp(prefix="lectern-screenshots-"))
    path.mkdir(parents=True, exist_ok=True)
    print(f"\nscreenshots: {path}")
    return path


class Console:
    """Console messages and page errors of one browser context."""

    def __init__(self):
        self.messages = []
        self.allowed = []

    def allow(self, pattern):
        """An error the test causes on purpose (a 403 it asks for)."""
        self.allowed.append(re.compile(pattern))

    def errors(self):
        return [
            text
            for kind, text in self.messages
            if kind == "error" and not any(pattern.search(text) for pattern in self.allowed)
        ]


class Visitor:
    """A browser context (one person's browser) with a console watch."""

    def __init__(self, context, lectern, screenshots):
        self.context = context
        self.lectern = lectern
        self.folder = screenshots
        self.console = Console()
        context.on("console", self._console)
        context.on("weberror", lambda error: self.console.messages.append(("error", str(error.error))))

    def _console(self, message):
        where = message.location.get("url", "") if message.location else ""
        self.console.messages.append((message.type, f"{message.text} ({where})"))

    def shot(self, page, name):
        page.screenshot(path=self.folder / f"{name}.png", type="png", full_page=True)

    def session_cookie(self):
        for cookie in self.context.cookies():
            if cookie["name"] in ("lectern_session", "__Host-lectern_session"):
                return cookie["value"]
        return None

    def cookie(self, name):
        return next((c["value"] for c in self.context.cookies() if c["name"] == name), None)

    def sign_in_staff(self, page, username, password):
        page.goto(self.lectern.url("/signin"))
        staff = page.locator("form[action='/signin/staff']")
        staff.get_by_label("用户名").fill(username)
        staff.get_by_label("密码").fill(password)
        staff.get_by_role("button", name="工作人员登录").click()
        expect(page.locator("h1")).to_have_text("我的账号")


def new_visitor(browser, lectern, screenshots, viewport):
    # A Chinese teacher's browser: it asks for Chinese first.
    context = browser.new_context(
        viewport=viewport,
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
        base_url=lectern.base_url,
    )
    return Visitor(context, lectern, screenshots)


@pytest.fixture
def visitor(browser, lectern, screenshots):
    visitor = new_visitor(browser, lectern, screenshots, DESKTOP)
    yield visitor
    visitor.context.close()
    errors = visitor.console.errors()
    assert not errors, "console errors:\n" + "\n".join(errors)


@pytest.fixture
def phone_visitor(browser, lectern, screenshots):
    visitor = new_visitor(browser, lectern, screenshots, PHONE)
    yield visitor
    visitor.context.close()
    errors = visitor.console.errors()
    assert not errors, "console errors:\n" + "\n".join(errors)


@pytest.fixture
def admin_password(lectern):
    """The admin's own password, changing the one-time one through the API
    if the browser test of the first sign-in has not run."""
    if not lectern.admin_password_changed:
        one_time = lectern.admin_password
        login = lectern.call(
            "lectern.gateway.v1.GatewayService/Login",
            {"staff": {"username": "admin", "password": one_time}},
        )
        new = "读书破万卷 lectern 2024"
        lectern.call(
            "lectern.reader.v1.IdentityService/ChangePassword",
            {"currentPassword": one_time, "newPassword": new},
            token=login["accessToken"],
        )
        lectern.admin_password = new
        lectern.admin_password_changed = True
    return lectern.admin_password
