"""docs/mini-program.md, driven like a mini-program: every call the
document names, through the JSON API, against a `lectern up --demo` of
this module's own whose gateway asks the WeChat stand-in
(tests/wechat/standin.py) — on the backend `LECTERN_UP_BACKEND` names
(`sqlite` or `postgres`; both when unset). It records each call that
answered 200 and fails if the document names a call no test made.

Also: a reader never sees another reader's data (others' ids on every
call are refused), a parent sees a sibling only after switching, and bad
input answers 4xx and changes nothing.

Demo facts: R100002 and R100003 are one mother's children at XH-PRI
(guardian e-mail ren.mama@example.cn); PINs are the card's last four
digits; copy P000030 is on the shelf at XH-PRI; R100004 has P000010.
"""

import http.cookiejar
import os
import re
import sys
import uuid
from pathlib import Path

import pytest
import requests
from conftest import JsonApi

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
from wechat.standin import WechatStandin  # noqa: E402

DOC = Path(__file__).resolve().parents[2] / "docs" / "mini-program.md"
GATEWAY = "lectern.gateway.v1.GatewayService"
FAMILY = "lectern.reader.v1.FamilyService"
IDENTITY = "lectern.reader.v1.IdentityService"
LOANS = "lectern.circulation.v1.LoanService"
HOLDS = "lectern.circulation.v1.HoldService"
CATALOG = "lectern.catalog.v1.CatalogService"
PROFILE = "lectern.reader.v1.ReaderProfileService"
NOTICES = "lectern.notification.v1.NotificationService"
READERS = "lectern.reader.v1.ReaderService"
MOTHER = "ren.mama@example.cn"

BACKENDS = [os.environ["LECTERN_UP_BACKEND"]] if os.environ.get("LECTERN_UP_BACKEND") else ["sqlite", "postgres"]

# Every call answered 200, across the backends.
CALLED = set()


class Phone(JsonApi):
    """A mini-program's `wx.request`: JSON, a bearer token, no cookies."""

    def call(self, method, body=None, token=None):
        answer = super().call(method, body, token)
        CALLED.add(method)
        return answer

    def refused(self, method, body, token, status):
        error = super().refused(method, body, token, status)
        assert set(error) >= {"code", "message"}, error
        return error


@pytest.fixture(scope="module", params=BACKENDS)
def phone(request, tmp_path_factory):
    scratch = tmp_path_factory.mktemp(f"mini-program-{request.param}")
    http_port = free_port()
    arguments = [
        "up", "--demo", "--data-dir", str(scratch / "data"),
        "--listen", f"127.0.0.1:{free_port()}", "--http-listen", f"127.0.0.1:{http_port}",
        "--sip2-listen", "off",
    ]
    databases = None
    if request.param == "postgres":
        databases = PostgresDatabases(database_server_url(), "lectern_mini_program", "mini-program")
        databases.check_reachable()
        arguments += ["--database-url", databases.url]
    wechat = WechatStandin(slow_secs=5).start()
    env = {**os.environ, **wechat.env(timeout_ms=1000), "LECTERN_LOG": "warn"}
    log = scratch / "up.log"
    process = launch(lectern_binary(), arguments, log, env=env)
    try:
        banner = wait_until_ready(process, log, DEMO_START_DEADLINE_SECS)
        password = re.search(r"admin sign-in:\s+admin / (\S+)", banner).group(1)
        session = requests.Session()
        session.cookies.set_policy(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
        api = Phone(f"http://127.0.0.1:{http_port}", session)
        api.admin = api.login({"staff": {"username": "admin", "password": password}})["accessToken"]
        api.wechat = wechat
        yield api
        session.close()
        # The session keys WeChat handed out reached no answer and no log line.
        text = log.read_text(errors="replace")
        assert not any(key in text for key in wechat.session_keys)
    finally:
        stop_with_ctrl_c(process)
        wechat.stop()
        if databases is not None:
            databases.drop()
    assert_stopped_cleanly(log)


def reader(phone, card):
    return phone.call(f"{READERS}/LookupReader", {"cardBarcode": card}, phone.admin)


def wechat_sign_in(phone, name, reader_id=""):
    answer = phone.call(f"{GATEWAY}/WechatSignIn", {"code": f"ok-{name}", "readerId": reader_id})
    assert not any(key in str(answer) for key in phone.wechat.session_keys)
    return answer


def test_a_parent_binds_two_children_and_switches(phone):
    first = wechat_sign_in(phone, f"mama-{uuid.uuid4().hex[:8]}")
    assert "login" not in first and first["bindingTicket"] and first["readers"] == []
    ticket = first["bindingTicket"]
    # Bad input: named, and the ticket still works afterwards.
    phone.refused(f"{FAMILY}/BindReader", {"bindingTicket": ticket, "cardBarcode": "", "pin": "0002"}, None, 400)
    wrong = phone.refused(
        f"{FAMILY}/BindReader",
        {"bindingTicket": ticket, "cardBarcode": "R100002", "pin": "0002",
         "relation": "BINDING_RELATION_GUARDIAN", "guardianContact": "someone.else@example.cn"},
        None, 400,
    )
    assert wrong["reason"] == "GUARDIAN_CONTACT_MISMATCH"
    bound = phone.call(
        f"{FAMILY}/BindReader",
        {"bindingTicket": ticket, "cardBarcode": "R100002", "pin": "0002",
         "relation": "BINDING_RELATION_GUARDIAN", "guardianContact": MOTHER},
    )
    elder = reader(phone, "R100002")
    younger = reader(phone, "R100003")
    token = bound["login"]["accessToken"]
    assert bound["login"]["subjectId"] == elder["id"]
    # The ticket was single use.
    used = phone.refused(
        f"{FAMILY}/BindReader",
        {"bindingTicket": ticket, "cardBarcode": "R100003", "pin": "0003",
         "relation": "BINDING_RELATION_GUARDIAN", "guardianContact": MOTHER},
        None, 401,
    )
    assert used["reason"] == "BINDING_TICKET_INVALID"
    # Before the second child is bound, their loans are not the parent's to see.
    phone.refused(f"{LOANS}/ListLoans", {"readerId": younger["id"]}, token, 403)
    second = phone.call(
        f"{FAMILY}/BindReader",
        {"cardBarcode": "R100003", "pin": "0003", "relation": "BINDING_RELATION_GUARDIAN", "guardianContact": MOTHER},
        token,
    )
    younger_token = second["login"]["accessToken"]
    assert second["login"]["subjectId"] == younger["id"]
    family = phone.call(f"{FAMILY}/ListFamilyReaders", {}, younger_token)["readers"]
    assert {one["readerId"] for one in family} == {elder["id"], younger["id"]}
    # Acting for the younger child: the elder's loans stay closed until switching.
    phone.refused(f"{LOANS}/ListLoans", {"readerId": elder["id"]}, younger_token, 403)
    switched = phone.call(f"{FAMILY}/SwitchReader", {"readerId": elder["id"]}, younger_token)
    elder_token = switched["login"]["accessToken"]
    assert switched["login"]["subjectId"] == elder["id"]
    phone.call(f"{LOANS}/ListLoans", {"readerId": elder["id"]}, elder_token)
    # A reader of another family cannot be switched to.
    stranger = reader(phone, "R100004")
    phone.refused(f"{FAMILY}/SwitchReader", {"readerId": stranger["id"]}, elder_token, 404)
    # Card + PIN is not a family sign-in.
    by_card = phone.call(f"{GATEWAY}/Login", {"reader": {"cardBarcode": "R100004", "pin": "0004"}})
    refused = phone.refused(f"{FAMILY}/ListFamilyReaders", {}, by_card["accessToken"], 403)
    assert refused["reason"] == "FAMILY_SIGN_IN_REQUIRED"


def test_wechat_signs_a_bound_account_straight_in_and_a_binding_can_be_removed(phone):
    name = f"self-{uuid.uuid4().hex[:8]}"
    ticket = wechat_sign_in(phone, name)["bindingTicket"]
    phone.call(
        f"{FAMILY}/BindReader",
        {"bindingTicket": ticket, "cardBarcode": "R100005", "pin": "0005", "relation": "BINDING_RELATION_SELF"},
    )
    again = wechat_sign_in(phone, name)
    me = reader(phone, "R100005")
    assert again["login"]["subjectId"] == me["id"] and [r["readerId"] for r in again["readers"]] == [me["id"]]
    token = again["login"]["accessToken"]
    whoami = phone.call(f"{GATEWAY}/WhoAmI", {}, token)
    assert whoami["subjectId"] == me["id"] and whoami["kind"] == "reader"
    refreshed = phone.call(f"{IDENTITY}/RefreshSession", {"refreshToken": again["login"]["refreshToken"]})
    token = refreshed["accessToken"]
    bindings = phone.call(f"{FAMILY}/ListBindings", {"readerId": me["id"]}, token)["bindings"]
    assert len(bindings) == 1 and "openid" not in str(bindings) and f"o-{name}" not in str(bindings)
    # Another reader's bindings are not mine to list or remove.
    other = reader(phone, "R100002")
    phone.refused(f"{FAMILY}/ListBindings", {"readerId": other["id"]}, token, 403)
    phone.refused(f"{FAMILY}/DeleteBinding", {"bindingId": str(uuid.uuid4())}, token, 404)
    phone.refused(f"{FAMILY}/DeleteBinding", {"bindingId": "not-an-id"}, token, 400)
    phone.call(f"{FAMILY}/DeleteBinding", {"bindingId": bindings[0]["id"]}, token)
    after = wechat_sign_in(phone, name)
    assert "login" not in after and after["bindingTicket"]
    phone.call(f"{IDENTITY}/Logout", {}, by_card_token(phone, "R100006"))


def by_card_token(phone, card):
    return phone.call(f"{GATEWAY}/Login", {"reader": {"cardBarcode": card, "pin": card[-4:]}})["accessToken"]


def test_wechat_refusals_are_reasons(phone):
    for code, status, reason in [
        ("bad", 401, "WECHAT_CODE_INVALID"),
        ("used", 401, "WECHAT_CODE_INVALID"),
        ("limited", 429, "WECHAT_RATE_LIMITED"),
        ("blocked", 403, "WECHAT_USER_BLOCKED"),
        ("busy", 503, "WECHAT_UNAVAILABLE"),
        ("slow", 503, "WECHAT_UNAVAILABLE"),
    ]:
        assert phone.refused(f"{GATEWAY}/WechatSignIn", {"code": code}, None, status)["reason"] == reason
    error = phone.refused(f"{GATEWAY}/WechatSignIn", {"code": ""}, None, 400)
    assert error["code"] == "invalid_argument" and "code" in error["message"]


def test_a_readers_library_and_nobody_elses(phone):
    me = reader(phone, "R100002")
    token = by_card_token(phone, "R100002")
    other = reader(phone, "R100004")
    school = me["schoolId"]
    phone.call(f"{READERS}/GetReader", {"id": me["id"]}, token)
    phone.refused(f"{READERS}/GetReader", {"id": other["id"]}, token, 403)
    # A loan to renew: the desk lends P000030.
    loan = phone.call(f"{LOANS}/CheckOut", {"readerCardBarcode": "R100002", "copyBarcode": "P000030"}, phone.admin)["loan"]
    hits = phone.call(f"{CATALOG}/SearchTitles", {"query": loan["title"], "schoolId": school, "pageSize": 5}, token)
    assert hits, hits
    phone.call(f"{CATALOG}/GetTitle", {"id": loan["titleId"]}, token)
    mine = phone.call(f"{LOANS}/ListLoans", {"readerId": me["id"], "filter": "LOAN_FILTER_OPEN"}, token)["loans"]
    assert loan["id"] in [one["id"] for one in mine]
    phone.call(f"{LOANS}/ListLoans", {"readerId": me["id"], "filter": "LOAN_FILTER_RETURNED"}, token)
    phone.refused(f"{LOANS}/ListLoans", {"readerId": other["id"]}, token, 403)
    others_loan = phone.call(f"{LOANS}/ListLoans", {"readerId": other["id"]}, phone.admin)["loans"][0]
    before = others_loan["dueDate"]
    phone.refused(f"{LOANS}/Renew", {"loanId": others_loan["id"], "requestId": str(uuid.uuid4())}, token, 403)
    assert phone.call(f"{LOANS}/GetLoan", {"id": others_loan["id"]}, phone.admin)["dueDate"] == before
    phone.refused(f"{LOANS}/Renew", {"loanId": "nope", "requestId": str(uuid.uuid4())}, token, 400)
    phone.call(f"{LOANS}/Renew", {"loanId": loan["id"], "requestId": str(uuid.uuid4())}, token)
    phone.call(f"{LOANS}/RenewAll", {"readerId": me["id"], "requestId": str(uuid.uuid4())}, token)
    phone.refused(f"{LOANS}/RenewAll", {"readerId": other["id"], "requestId": str(uuid.uuid4())}, token, 403)
    # Reserve a title lent to someone else, at my school.
    hold = phone.call(
        f"{HOLDS}/PlaceHold",
        {"readerCardBarcode": "R100002", "titleId": others_loan["titleId"], "pickupSchoolId": school,
         "requestId": str(uuid.uuid4())},
        token,
    )
    phone.refused(
        f"{HOLDS}/PlaceHold",
        {"readerCardBarcode": "R100004", "titleId": loan["titleId"], "pickupSchoolId": school,
         "requestId": str(uuid.uuid4())},
        token, 403,
    )
    holds = phone.call(f"{HOLDS}/ListHolds", {"readerId": me["id"]}, token)["holds"]
    assert hold["id"] in [one["id"] for one in holds]
    phone.refused(f"{HOLDS}/ListHolds", {"readerId": other["id"]}, token, 403)
    phone.call(f"{HOLDS}/CancelHold", {"holdId": hold["id"], "requestId": str(uuid.uuid4())}, token)
    phone.call(f"{NOTICES}/ListNotices", {"readerId": me["id"], "language": "zh-CN"}, token)
    phone.refused(f"{NOTICES}/ListNotices", {"readerId": other["id"]}, token, 403)
    phone.call(f"{PROFILE}/GetNotificationPreferences", {"readerId": me["id"]}, token)
    phone.refused(f"{PROFILE}/GetNotificationPreferences", {"readerId": other["id"]}, token, 403)
    phone.refused(
        f"{PROFILE}/UpdateNotificationPreferences",
        {"readerId": me["id"], "channels": ["NOTIFICATION_CHANNEL_PIGEON"]}, token, 400,
    )
    changed = phone.call(
        f"{PROFILE}/UpdateNotificationPreferences",
        {"readerId": me["id"], "channels": ["NOTIFICATION_CHANNEL_IN_APP"], "language": "zh-CN"},
        token,
    )
    assert changed["channels"] == ["NOTIFICATION_CHANNEL_IN_APP"]
    phone.call(f"{LOANS}/GetReaderReadingReport", {"readerId": me["id"], "fromDate": "2026-09-01", "toDate": "2026-12-31"}, token)
    phone.refused(f"{LOANS}/GetReaderReadingReport", {"readerId": other["id"]}, token, 403)


def test_zz_every_call_in_the_document_was_made():
    documented = set(re.findall(r"/api/(lectern\.[A-Za-z0-9_.]+/[A-Za-z]+)", DOC.read_text()))
    assert documented, "no calls found in docs/mini-program.md"
    missing = sorted(documented - CALLED)
    assert not missing, f"docs/mini-program.md names calls no test made: {missing}"
