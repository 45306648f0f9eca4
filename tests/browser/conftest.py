"""What the browser tests share: one `lectern up` of their own on a fresh
data directory, one headless Chromium (Debian's, never a downloaded one),
a new browser context per test, the JSON API for setting things up, and a
watch on every page's console.

The desk's tests (test_desk.py) get `desk_lectern` instead: a `lectern up
--demo` of their own, once on SQLite and once on PostgreSQL, which a test
may stop and start again. The portal's tests (test_portal.py) start theirs
with `LECTERN_WECHAT_…` pointing at `wechat_standin`, the Python stand-in
for WeChat's code2session (tests/wechat/standin.py), and open phones
(`phone_context`: 390×844, WeChat's in-app browser's user agent).

Environment:
  LECTERN_BIN                 the binary (default target/debug/lectern in the repo)
  LECTERN_HTTP_PORT           the HTTP edge's port (default: a free one)
  LECTERN_GRPC_PORT           the gateway's gRPC port (default: a free one)
  LECTERN_CHROMIUM            the browser (default /usr/bin/chromium)
  LECTERN_SCREENSHOTS         where screenshots go (default: a temporary folder)
  LECTERN_TEST_DATABASE_URL   the PostgreSQL server the desk's tests make their
                              databases on (default postgres://postgres@127.0.0.1:5432/postgres);
                              never skipped: unreachable, the postgres tests fail

The server runs with a two-minute token and a renewal margin as long, so
every browser request renews the session: the two-tab test then renews on
every reload.
"""

import json
import os
import re
import sys
import tempfile
import time
import tomllib
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from wechat.standin import WechatStandin  # noqa: E402
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

START_DEADLINE_SECS = 60
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
# What WeChat's in-app browser says it is inside a mini-program's web-view
# (an Android phone): the portal is opened there.
WECHAT_USER_AGENT = (
    "Mozilla/5.0 (Linux; Android 13; V2183A Build/TP1A.220624.014; wv) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Version/4.0 Chrome/116.0.0.0 Mobile Safari/537.36 XWEB/1160065 "
    "MMWEBSDK/20231202 MMWEBID/2247 MicroMessenger/8.0.50.2701(0x2800323C) WeChat/arm64 "
    "Weixin NetType/WIFI Language/zh_CN ABI/arm64 miniProgram/wx0123456789abcdef"
)
MESSAGES = Path(__file__).resolve().parents[2] / "gateway" / "messages"

# Every expect() waits at most this long: the pages answer in milliseconds.
expect.set_options(timeout=10_000)


class Texts:
    """The message catalogue of one language, as the pages use it."""

    def __init__(self, lang):
        self.texts = {}
        for source in [MESSAGES / f"{lang}.toml", *sorted((MESSAGES / lang).glob("*.toml"))]:
            self._flatten("", tomllib.loads(source.read_text()))

    def _flatten(self, prefix, table):
        for key, value in table.items():
            if isinstance(value, dict):
                self._flatten(f"{prefix}{key}.", value)
            else:
                self.texts[f"{prefix}{key}"] = value

    def __call__(self, text_id, **values):
        text = self.texts[text_id]
        for name, value in values.items():
            text = text.replace("{" + name + "}", str(value))
        return text

    def day(self, date):
        """A day as the pages write it ("12月21日 周一")."""
        return self(
            "time.day",
            year=date.year,
            month=date.month,
            month_name=self(f"time.month.{date.month}"),
            day=date.day,
            weekday=self(f"time.weekday.{date.isoweekday()}"),
        )


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
    binary = lectern_binary()
    http_port = int(os.environ.get("LECTERN_HTTP_PORT") or free_port())
    grpc_port = int(os.environ.get("LECTERN_GRPC_PORT") or free_port())
    workdir = tmp_path_factory.mktemp("lectern")
    log_path = workdir / "lectern.log"
    env = dict(
        os.environ,
        LECTERN_TOKEN_TTL_SECS="120",
        LECTERN_SESSION_RENEW_MARGIN_SECS="120",
    )
    arguments = [
        "up",
        "--http-listen",
        f"127.0.0.1:{http_port}",
        # Self-check machines on a port of its own: suites run side by side.
        "--sip2-listen",
        "127.0.0.1:0",
        "--listen",
        f"127.0.0.1:{grpc_port}",
        "--data-dir",
        str(workdir / "data"),
    ]
    process = launch(binary, arguments, log_path, env=env, cwd=workdir)
    try:
        text = wait_until_ready(process, log_path, START_DEADLINE_SECS)
        found = re.search(r"first admin:\s+admin / (\S+)", text)
        assert found, f"no one-time admin password in the banner:\n{text}"
        yield Lectern(f"http://127.0.0.1:{http_port}", found.group(1), log_path)
    finally:
        stop_with_ctrl_c(process)
    assert_stopped_cleanly(log_path)


class DemoLectern(Lectern):
    """A `lectern up --demo` of one backend on fixed ports, which a test may
    stop (Ctrl-C) and start again on the same data, as a school's server is
    restarted while the desk is open."""

    def __init__(self, backend, workdir, database=None, env=None):
        self.backend = backend
        # Variables added to the environment it starts with (LECTERN_WECHAT_…).
        self.env = dict(env or {})
        self.binary = lectern_binary()
        self.workdir = workdir
        self.database = database
        self.http_port = free_port()
        self.grpc_port = free_port()
        self.process = None
        self.starts = 0
        # The demo's sign-ins by banner label ("admin sign-in", "librarian", …).
        self.accounts = {}
        super().__init__(f"http://127.0.0.1:{self.http_port}", None, workdir / "lectern-1.log")
        self.admin_password_changed = True

    def arguments(self):
        arguments = [
            "up",
            "--demo",
            "--http-listen",
            f"127.0.0.1:{self.http_port}",
            "--sip2-listen",
            "127.0.0.1:0",
            "--listen",
            f"127.0.0.1:{self.grpc_port}",
            "--data-dir",
            str(self.workdir / "data"),
        ]
        if self.database:
            arguments += ["--database-url", self.database.url]
        return arguments

    def start(self):
        """Starts it; the first start loads the demo district, later ones find
        the data there and keep it."""
        assert self.process is None or self.process.poll() is not None, "lectern up is running already"
        self.starts += 1
        self.log_path = self.workdir / f"lectern-{self.starts}.log"
        env = dict(os.environ, **self.env) if self.env else None
        self.process = launch(self.binary, self.arguments(), self.log_path, env=env, cwd=self.workdir)
        banner = wait_until_ready(self.process, self.log_path, DEMO_START_DEADLINE_SECS)
        shown = "PostgreSQL" if self.database else "SQLite"
        assert re.search(rf"^\s*databases:\s+{shown}\b", banner, re.M), f"not on {shown}:\n{banner}"
        if self.starts == 1:
            for label in ("admin sign-in", "librarian", "assistant", "district librarian"):
                found = re.search(rf"^\s*{label}:\s+(\S+) / (\S+)", banner, re.M)
                assert found, f"no '{label}' sign-in in the demo banner:\n{banner}"
                self.accounts[label] = (found.group(1), found.group(2))
            self.admin_password = self.accounts["admin sign-in"][1]

    def stop(self):
        """Ctrl-C; returns once it has stopped and said so."""
        stop_with_ctrl_c(self.process)
        assert_stopped_cleanly(self.log_path)

    def running(self):
        return self.process is not None and self.process.poll() is None

    def sign_in(self, label):
        """(username, password) of the demo account the banner calls `label`."""
        return self.accounts[label]


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def desk_lectern(request, tmp_path_factory):
    """`lectern up --demo` on SQLite, then on PostgreSQL (the tests of a
    module run on one, then on the other)."""
    backend = request.param
    database = None
    if backend == "postgres":
        database = PostgresDatabases(database_server_url(), "lectern_browser", "browser")
        database.check_reachable()
    server = DemoLectern(backend, tmp_path_factory.mktemp(f"lectern-demo-{backend}"), database)
    began = time.monotonic()
    try:
        server.start()
        ready = time.monotonic() - began
        print(f"\n{backend}: lectern up --demo ready in {ready:.1f} s")
        yield server
        print(f"\n{backend}: {time.monotonic() - began:.1f} s in all (demo start {ready:.1f} s)")
    finally:
        try:
            if server.running():
                server.stop()
        finally:
            # Dropped whatever happened above, so a failed run leaves
            # nothing on the server.
            if database:
                database.drop()


@pytest.fixture(scope="session")
def wechat_standin():
    """WeChat's code2session on loopback: code `ok-<name>` signs in the
    WeChat user `o-<name>`; `bad`, `busy`, `blocked`… fail as WeChat's do."""
    with WechatStandin() as standin:
        yield standin


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

    def sign_in_staff(self, page, username, password, next_path=""):
        """Signs in on the sign-in page; staff land on `next_path`, else on
        the start page (their school's day, or where they must go first)."""
        query = "?" + urllib.parse.urlencode({"next": next_path}) if next_path else ""
        page.goto(self.lectern.url(f"/signin{query}"))
        staff = page.locator("form[action='/signin/staff']")
        staff.get_by_label("用户名").fill(username)
        staff.get_by_label("密码").fill(password)
        staff.get_by_role("button", name="工作人员登录").click()
        expect(page).not_to_have_url(re.compile(r"/signin"))
        expect(page.locator("header").get_by_role("button", name="退出登录")).to_be_visible()


def new_visitor(browser, lectern, screenshots, viewport, user_agent=None, has_touch=False):
    # A Chinese teacher's browser: it asks for Chinese first.
    extra = {"user_agent": user_agent} if user_agent else {}
    context = browser.new_context(
        viewport=viewport,
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
        base_url=lectern.base_url,
        has_touch=has_touch,
        is_mobile=has_touch,
        **extra,
    )
    return Visitor(context, lectern, screenshots)


def new_phone(browser, lectern, screenshots):
    """A parent's or a child's phone: the portal in WeChat's web-view."""
    return new_visitor(browser, lectern, screenshots, PHONE, user_agent=WECHAT_USER_AGENT, has_touch=True)


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


@pytest.fixture
def desk_people(browser, desk_lectern, screenshots):
    """Opens one browser per person at the desk (`desk_people()`), with the
    screenshots in a folder per backend; closes them and checks their
    consoles at the end of the test."""
    if not desk_lectern.running():
        # A test that stopped it failed before starting it again.
        desk_lectern.start()
    folder = screenshots / f"desk-{desk_lectern.backend}"
    folder.mkdir(parents=True, exist_ok=True)
    opened = []

    def person(viewport=DESKTOP):
        visitor = new_visitor(browser, desk_lectern, folder, viewport)
        opened.append(visitor)
        return visitor

    yield person
    errors = []
    for visitor in opened:
        visitor.context.close()
        errors += visitor.console.errors()
    assert not errors, "console errors:\n" + "\n".join(errors)
