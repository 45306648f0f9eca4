"""The JSON API (`POST /api/<package.Service>/<Method>`, uploads and
downloads) driven with `requests` against a running `lectern up --demo`, the
way a school's IT person would script the desk without gRPC:

1. every call the `lectern` CLI makes, once, on records the test makes in
   the demo district (a reader, a title and its copies, a shelf, a rule),
   asserting what the desk would see;
2. refusals, unknown records, duplicates, roles and tokens as HTTP statuses
   with Lectern's reason codes;
3. bad requests refused at the edge or by the service, changing nothing;
4. MARC and roster uploads as NDJSON progress, and the MARC export.

Needs LECTERN_HTTP (http://host:port) and LECTERN_ADMIN_PASSWORD. Names,
barcodes and ISBNs carry the time, so the test runs again against the same
suite; it changes no demo record that other tests read, and leaves no rule
or calendar change behind.
"""

import base64
import datetime
import http.client
import io
import itertools
import json
import random
import time
import urllib.parse
import uuid

import pymarc
import pytest
from conftest import PASSWORD
from pymarc import Field, Indicators, Record, Subfield

GATEWAY = "lectern.gateway.v1.GatewayService"
IDENTITY = "lectern.reader.v1.IdentityService"
READERS = "lectern.reader.v1.ReaderService"
PROFILE = "lectern.reader.v1.ReaderProfileService"
SCHOOL_YEAR = "lectern.reader.v1.SchoolYearService"
ROSTER = "lectern.reader.v1.RosterService"
AUDIT = "lectern.reader.v1.AuditService"
CATALOG = "lectern.catalog.v1.CatalogService"
COLLECTION = "lectern.catalog.v1.CollectionService"
STOCKTAKE = "lectern.catalog.v1.StocktakeService"
MARC = "lectern.catalog.v1.MarcService"
LOANS = "lectern.circulation.v1.LoanService"
HOLDS = "lectern.circulation.v1.HoldService"
FEES = "lectern.circulation.v1.FeeService"
RULES = "lectern.circulation.v1.CirculationRuleService"
CALENDARS = "lectern.circulation.v1.SchoolCalendarService"
NOTICES = "lectern.notification.v1.NotificationService"

# Every method the CLI (src/cli/*.rs) calls. Left out on purpose:
# - ReaderService/CreateSchool: a school cannot be removed again, and other
#   tests take the district's first school by name;
# - SchoolYearService/ApplyYearEnd: moves every demo student up a grade
#   (its preview is called);
# the CLI calls no other method.
CLI_METHODS = [
    f"{GATEWAY}/Login",
    f"{GATEWAY}/WhoAmI",
    f"{IDENTITY}/RefreshSession",
    f"{IDENTITY}/Logout",
    f"{IDENTITY}/ChangePassword",
    f"{IDENTITY}/CreateStaffAccount",
    f"{IDENTITY}/ListStaffAccounts",
    f"{IDENTITY}/SetStaffSchools",
    f"{IDENTITY}/SetStaffAccountDisabled",
    f"{IDENTITY}/CreateDevice",
    f"{IDENTITY}/ListDevices",
    f"{IDENTITY}/DisableDevice",
    f"{READERS}/ListSchools",
    f"{READERS}/CreateClass",
    f"{READERS}/ListClasses",
    f"{READERS}/CreateReader",
    f"{READERS}/GetReader",
    f"{READERS}/LookupReader",
    f"{READERS}/SearchReaders",
    f"{READERS}/ListReaderCategories",
    f"{READERS}/ExportReaderData",
    f"{READERS}/EraseReader",
    f"{ROSTER}/ImportRoster",
    f"{SCHOOL_YEAR}/PreviewYearEnd",
    f"{CATALOG}/CreateTitle",
    f"{CATALOG}/LookupTitle",
    f"{CATALOG}/SearchTitles",
    f"{CATALOG}/CreateCopy",
    f"{CATALOG}/LookupCopy",
    f"{COLLECTION}/CreateShelfLocation",
    f"{COLLECTION}/ListShelfLocations",
    f"{COLLECTION}/BrowseShelf",
    f"{COLLECTION}/ChangeCopyStatus",
    f"{COLLECTION}/GetCopyHistory",
    f"{MARC}/ImportMarc",
    f"{MARC}/ExportMarc",
    f"{MARC}/IntakeIsbn",
    f"{STOCKTAKE}/StartStocktake",
    f"{STOCKTAKE}/RecordScans",
    f"{STOCKTAKE}/GetStocktake",
    f"{STOCKTAKE}/ListStocktakes",
    f"{STOCKTAKE}/GetStocktakeReport",
    f"{STOCKTAKE}/FinalizeStocktake",
    f"{STOCKTAKE}/CancelStocktake",
    f"{RULES}/ListCirculationRules",
    f"{RULES}/GetCirculationRule",
    f"{RULES}/CreateCirculationRule",
    f"{RULES}/UpdateCirculationRule",
    f"{RULES}/DeleteCirculationRule",
    f"{CALENDARS}/GetSchoolCalendar",
    f"{CALENDARS}/SetSchoolCalendar",
    f"{LOANS}/ExplainCheckOut",
    f"{LOANS}/CheckOut",
    f"{LOANS}/CheckIn",
    f"{LOANS}/Renew",
    f"{LOANS}/RenewAll",
    f"{LOANS}/ListLoans",
    f"{LOANS}/ListOverdueLoans",
    f"{LOANS}/ListTransits",
    f"{LOANS}/GetReaderSummary",
    f"{LOANS}/GetReadingReport",
    f"{HOLDS}/PlaceHold",
    f"{HOLDS}/CancelHold",
    f"{HOLDS}/ListHolds",
    f"{HOLDS}/ListPullList",
    f"{NOTICES}/ListNotices",
]

# Not made by the CLI but part of a desk's day (fees, notes, contacts,
# blocks, the audit log), or needed here (a PIN, for a reader's token).
OTHER_METHODS = [
    f"{READERS}/SetReaderPin",
    f"{READERS}/CreateReaderBlock",
    f"{READERS}/DeleteReaderBlock",
    f"{PROFILE}/CreateReaderNote",
    f"{PROFILE}/ListReaderNotes",
    f"{PROFILE}/DeleteReaderNote",
    f"{PROFILE}/CreateReaderContact",
    f"{PROFILE}/ListReaderContacts",
    f"{PROFILE}/DeleteReaderContact",
    f"{FEES}/ChargeFee",
    f"{FEES}/ListFees",
    f"{FEES}/PayFees",
    f"{FEES}/WaiveFee",
    f"{AUDIT}/ListAuditEvents",
]

RUN = f"{time.time_ns() // 1000 % 10**10:010d}"
PIN = "4826"
TODAY = datetime.date.today()
TWO_MIB = 2 << 20


SERIAL = itertools.count(1)


def unique(prefix):
    """A barcode, number or name no other run has used."""
    return f"{prefix}{RUN}{next(SERIAL):02d}"


def isbn13(rng):
    digits = "979" + "".join(str(rng.randrange(10)) for _ in range(9))
    total = sum((3 if index % 2 else 1) * int(digit) for index, digit in enumerate(digits))
    return digits + str((10 - total % 10) % 10)


def eventually(probe, what, seconds=10):
    """Polls `probe` until it returns something true, or fails saying `what`."""
    deadline = time.monotonic() + seconds
    while True:
        found = probe()
        if found:
            return found
        assert time.monotonic() < deadline, f"{what} within {seconds} s"
        time.sleep(0.05)


# --- The demo district and the records this test makes in it ---


@pytest.fixture(scope="module")
def admin(api):
    return api.admin_token()


@pytest.fixture(scope="module")
def schools(api, admin):
    found = api.call(f"{READERS}/ListSchools", {}, admin)["schools"]
    by_code = {school["code"]: school for school in found}
    assert {"XH-PRI", "XH-MID"} <= set(by_code), by_code
    return by_code


@pytest.fixture(scope="module")
def primary(schools):
    return schools["XH-PRI"]["id"]


@pytest.fixture(scope="module")
def new_reader(api, admin, primary):
    def register(name):
        return api.call(
            f"{READERS}/CreateReader",
            {
                "schoolId": primary,
                "cardBarcode": unique("JR"),
                "name": name,
                "category": "other",
                "number": unique("N"),
                "requestId": str(uuid.uuid4()),
            },
            admin,
        )

    return register


@pytest.fixture(scope="module")
def reader(new_reader):
    return new_reader(f"接口测试读者{RUN}")


@pytest.fixture(scope="module")
def reader_token(api, admin, reader):
    assert api.call(f"{READERS}/SetReaderPin", {"readerId": reader["id"], "pin": PIN}, admin) == {}
    answer = api.login({"reader": {"cardBarcode": reader["cardBarcode"], "pin": PIN}})
    assert answer["subjectId"] == reader["id"]
    return answer["accessToken"]


@pytest.fixture(scope="module")
def title(api, admin):
    isbn = isbn13(random.Random(RUN))
    created = api.call(
        f"{CATALOG}/CreateTitle",
        {
            "isbn": isbn,
            "title": f"接口测试书{RUN}",
            "contributors": [{"name": "曹文轩"}],
            "publisher": "江苏少年儿童出版社",
            "publicationYear": 2017,
            "language": "zh",
            "clc": "I287.45",
        },
        admin,
    )
    assert created["isbn13"] == isbn and created["callNumber"].startswith("I287.45/")
    return created


@pytest.fixture(scope="module")
def shelf(api, admin, primary):
    location = api.call(
        f"{COLLECTION}/CreateShelfLocation", {"schoolId": primary, "name": f"接口测试架 {RUN}"}, admin
    )
    assert location["schoolId"] == primary
    return location


@pytest.fixture(scope="module")
def new_copy(api, admin, primary, title, shelf):
    """A new copy of the test's title on the test's shelf, lent by nobody."""

    def add():
        copy = api.call(
            f"{CATALOG}/CreateCopy",
            {
                "titleId": title["id"],
                "barcode": unique("JC"),
                "schoolId": primary,
                "locationId": shelf["id"],
                "price": {"minorUnits": "2500", "currency": "CNY"},
            },
            admin,
        )
        assert copy["availability"] == "AVAILABILITY_ON_SHELF" and copy["locationName"] == shelf["name"]
        return copy

    return add


def availability(api, token, barcode):
    return api.call(f"{CATALOG}/LookupCopy", {"barcode": barcode}, token)["availability"]


def wait_for_availability(api, token, barcode, wanted):
    """The catalog learns of loans from circulation's events, a moment later."""
    eventually(lambda: availability(api, token, barcode) == wanted, f"{barcode} is {wanted}")


def open_loans(api, token, reader_id):
    return api.call(f"{LOANS}/ListLoans", {"readerId": reader_id, "pageSize": 500}, token)["loans"]


def lend(api, token, reader, copy):
    loan = api.call(
        f"{LOANS}/CheckOut",
        {"readerCardBarcode": reader["cardBarcode"], "copyBarcode": copy["barcode"]},
        token,
    )["loan"]
    assert loan["copyBarcode"] == copy["barcode"] and loan["readerId"] == reader["id"]
    return loan


def give_back(api, token, copy, **more):
    return api.call(f"{LOANS}/CheckIn", {"copyBarcode": copy["barcode"], **more}, token)


# --- 1. Every call the CLI makes ---


def test_signing_in_renewing_and_signing_out(api, admin):
    me = api.call(f"{GATEWAY}/WhoAmI", {}, admin)
    assert me["kind"] == "staff" and me["role"] == "district_admin"
    assert int(me["expiresInSeconds"]) > 60

    session = api.login({"staff": {"username": "admin", "password": PASSWORD}})
    assert session["role"] == "STAFF_ROLE_DISTRICT_ADMIN" and session["refreshToken"]
    renewed = api.call(f"{IDENTITY}/RefreshSession", {"refreshToken": session["refreshToken"]})
    assert renewed["sessionId"] == session["sessionId"]
    assert renewed["accessToken"] != session["accessToken"]

    ended = api.call(f"{IDENTITY}/Logout", {}, renewed["accessToken"])
    assert ended["sessionId"] == session["sessionId"]
    # The session's tokens stop working within seconds.
    eventually(
        lambda: api.post(f"{GATEWAY}/WhoAmI", {}, renewed["accessToken"]).status_code == 401,
        "a signed-out token is refused",
    )


def test_staff_accounts(api, admin, schools, primary):
    username = unique("json.")
    password = f"Erst-{RUN}"
    account = api.call(
        f"{IDENTITY}/CreateStaffAccount",
        {
            "username": username,
            "displayName": "接口测试馆员",
            "role": "STAFF_ROLE_LIBRARIAN",
            "initialPassword": password,
            "schoolIds": [primary],
        },
        admin,
    )
    assert account["passwordChangeRequired"] is True and account["schoolIds"] == [primary]
    listed = api.call(f"{IDENTITY}/ListStaffAccounts", {"pageSize": 500}, admin)["accounts"]
    assert account["id"] in [listed_account["id"] for listed_account in listed]

    first = api.login({"staff": {"username": username, "password": password}})
    assert first["passwordChangeRequired"] is True
    changed = api.call(
        f"{IDENTITY}/ChangePassword",
        {"currentPassword": password, "newPassword": f"Zweit-{RUN}"},
        first["accessToken"],
    )
    assert changed["login"]["passwordChangeRequired"] is False
    me = api.call(f"{GATEWAY}/WhoAmI", {}, changed["login"]["accessToken"])
    assert me["subjectId"] == account["id"] and me["role"] == "librarian"

    both = sorted(school["id"] for school in schools.values())
    moved = api.call(f"{IDENTITY}/SetStaffSchools", {"staffId": account["id"], "schoolIds": both}, admin)
    assert sorted(moved["schoolIds"]) == both

    gone = api.call(
        f"{IDENTITY}/SetStaffAccountDisabled", {"staffId": account["id"], "disabled": True}, admin
    )
    assert gone["disabled"] is True
    refused = api.refused(
        f"{GATEWAY}/Login", {"staff": {"username": username, "password": f"Zweit-{RUN}"}}, None, 403
    )
    assert refused["reason"] == "ACCOUNT_LOCKED"


def test_self_service_devices(api, admin, primary):
    created = api.call(
        f"{IDENTITY}/CreateDevice",
        {"schoolId": primary, "kind": "DEVICE_KIND_KIOSK", "label": f"接口测试自助机 {RUN}"},
        admin,
    )
    device = created["device"]
    assert created["key"] and device["disabled"] is False
    listed = api.call(f"{IDENTITY}/ListDevices", {"schoolId": primary, "pageSize": 500}, admin)["devices"]
    assert device["id"] in [listed_device["id"] for listed_device in listed]
    kiosk = api.login({"device": {"deviceId": device["id"], "key": created["key"]}})
    assert kiosk["subjectId"] == device["id"]

    disabled = api.call(f"{IDENTITY}/DisableDevice", {"deviceId": device["id"]}, admin)
    assert disabled["disabled"] is True
    refused = api.refused(
        f"{GATEWAY}/Login", {"device": {"deviceId": device["id"], "key": created["key"]}}, None, 403
    )
    assert refused["reason"] == "ACCOUNT_LOCKED"


def test_classes_and_readers(api, admin, schools, primary, reader):
    middle = schools["XH-MID"]["id"]
    year = api.call(f"{READERS}/ListClasses", {"schoolId": primary}, admin)["classes"][0]["schoolYear"]
    homeroom = api.call(
        f"{READERS}/CreateClass",
        {"schoolId": middle, "name": f"接口测试班{RUN}", "grade": 7, "schoolYear": year},
        admin,
    )
    classes = api.call(f"{READERS}/ListClasses", {"schoolId": middle, "schoolYear": year}, admin)["classes"]
    assert homeroom["id"] in [listed["id"] for listed in classes]

    assert api.call(f"{READERS}/GetReader", {"id": reader["id"]}, admin)["name"] == reader["name"]
    scanned = api.call(f"{READERS}/LookupReader", {"cardBarcode": reader["cardBarcode"]}, admin)
    assert scanned["id"] == reader["id"] and scanned["status"] == "READER_STATUS_ACTIVE"
    found = api.call(f"{READERS}/SearchReaders", {"schoolId": primary, "query": f"读者{RUN}"}, admin)
    assert [hit["id"] for hit in found["readers"]] == [reader["id"]]
    categories = api.call(f"{READERS}/ListReaderCategories", {}, admin)["categories"]
    assert "other" in [category["code"] for category in categories]


def test_cataloguing(api, admin, primary, title, shelf, new_copy):
    assert api.call(f"{CATALOG}/LookupTitle", {"isbn": title["isbn13"]}, admin)["id"] == title["id"]
    copy = new_copy()
    hits = api.call(f"{CATALOG}/SearchTitles", {"query": title["title"], "schoolId": primary}, admin)["hits"]
    assert [hit["title"]["id"] for hit in hits] == [title["id"]]
    assert copy["barcode"] in [found["barcode"] for found in hits[0]["copies"]]

    scanned = api.call(
        f"{MARC}/IntakeIsbn",
        {"isbn": title["isbn13"], "schoolId": primary, "barcode": unique("JC"), "location": shelf["name"]},
        admin,
    )
    assert scanned["titleCreated"] is False and scanned["source"] == "catalog"
    assert scanned["title"]["id"] == title["id"] and scanned["copy"]["locationId"] == shelf["id"]

    locations = api.call(f"{COLLECTION}/ListShelfLocations", {"schoolId": primary}, admin)["locations"]
    assert shelf["id"] in [location["id"] for location in locations]
    on_shelf = api.call(
        f"{COLLECTION}/BrowseShelf", {"schoolId": primary, "locationId": shelf["id"], "pageSize": 200}, admin
    )["copies"]
    assert {copy["barcode"], scanned["copy"]["barcode"]} <= {found["barcode"] for found in on_shelf}

    damaged = api.call(
        f"{COLLECTION}/ChangeCopyStatus",
        {"copyId": scanned["copy"]["id"], "status": "COPY_STATUS_DAMAGED", "reason": "封面撕破"},
        admin,
    )
    assert damaged["status"] == "COPY_STATUS_DAMAGED"
    history = api.call(f"{COLLECTION}/GetCopyHistory", {"copyId": scanned["copy"]["id"]}, admin)
    assert [(change["toStatus"], change["reason"]) for change in history["changes"]][-1] == (
        "COPY_STATUS_DAMAGED",
        "封面撕破",
    )


def test_a_rule_of_the_school_decides_the_loan(api, admin, primary, reader, new_copy):
    rules = api.call(f"{RULES}/ListCirculationRules", {"schoolId": primary}, admin)["rules"]
    assert any(rule["districtDefault"] for rule in rules)
    terms = {
        "schoolId": primary,
        "readerCategory": "other",
        "name": f"接口测试 访客 {RUN}",
        "loanable": True,
        "loanPeriodUnit": "LOAN_PERIOD_UNIT_DAYS",
        "loanPeriod": 7,
        "maxLoans": 3,
        "renewals": 1,
        "renewalPeriodDays": 7,
        "holdShelfDays": 5,
        "maxHolds": 2,
    }
    rule = api.call(f"{RULES}/CreateCirculationRule", {"rule": terms}, admin)
    try:
        assert rule["version"] == 1 and rule["loanPeriod"] == 7
        assert api.call(f"{RULES}/GetCirculationRule", {"id": rule["id"]}, admin)["name"] == terms["name"]
        changed = api.call(
            f"{RULES}/UpdateCirculationRule",
            {"rule": {**terms, "id": rule["id"], "version": 1, "loanPeriod": 10}},
            admin,
        )
        assert changed["version"] == 2 and changed["loanPeriod"] == 10

        copy = new_copy()
        why = api.call(
            f"{LOANS}/ExplainCheckOut",
            {"readerCardBarcode": reader["cardBarcode"], "copyBarcode": copy["barcode"]},
            admin,
        )
        assert why["rule"]["id"] == rule["id"] and why["wouldLend"] is True
        assert why["dueHow"].startswith("10 days"), why["dueHow"]
    finally:
        retired = api.call(f"{RULES}/DeleteCirculationRule", {"id": rule["id"]}, admin)
        assert retired["rule"]["id"] == rule["id"]


def test_a_closed_day_in_the_school_calendar(api, admin, primary):
    calendar = api.call(f"{CALENDARS}/GetSchoolCalendar", {"schoolId": primary}, admin)
    day = (TODAY + datetime.timedelta(days=200)).isoformat()
    closure = {"firstDay": day, "lastDay": day, "kind": "CLOSURE_KIND_HOLIDAY", "name": f"接口测试 {RUN}"}
    kept = {key: calendar[key] for key in ("schoolId", "closedWeekdays", "closures", "terms")}
    try:
        changed = api.call(
            f"{CALENDARS}/SetSchoolCalendar",
            {"calendar": {**kept, "closures": kept["closures"] + [closure]}},
            admin,
        )
        assert closure in changed["closures"]
        assert changed["closedWeekdays"] == calendar["closedWeekdays"]
    finally:
        api.call(f"{CALENDARS}/SetSchoolCalendar", {"calendar": kept}, admin)


def test_lending_renewing_and_taking_back(api, admin, primary, reader, title, new_copy):
    copy = new_copy()
    loan = lend(api, admin, reader, copy)
    assert datetime.date.fromisoformat(loan["dueDate"]) > TODAY
    assert loan["dueAt"].endswith("Z") and loan["renewals"] == 0
    wait_for_availability(api, admin, copy["barcode"], "AVAILABILITY_ON_LOAN")

    summary = api.call(f"{LOANS}/GetReaderSummary", {"readerCardBarcode": reader["cardBarcode"]}, admin)
    assert summary["reader"]["id"] == reader["id"]
    assert loan["id"] in [open_loan["id"] for open_loan in summary["loans"]]
    assert loan["id"] in [open_loan["id"] for open_loan in open_loans(api, admin, reader["id"])]
    due_soon = api.call(
        f"{LOANS}/ListOverdueLoans", {"schoolId": primary, "dueWithinDays": 60, "pageSize": 500}, admin
    )["loans"]
    assert loan["id"] in [soon["id"] for soon in due_soon]

    renewed = api.call(f"{LOANS}/Renew", {"copyBarcode": copy["barcode"]}, admin)["loan"]
    assert renewed["id"] == loan["id"] and renewed["renewals"] == 1
    outcomes = api.call(f"{LOANS}/RenewAll", {"readerId": reader["id"]}, admin)["outcomes"]
    [outcome] = [outcome for outcome in outcomes if outcome["loan"]["id"] == loan["id"]]
    assert outcome["renewed"] or outcome["refusalReason"] == "RENEWAL_LIMIT_REACHED", outcome

    notices = eventually(
        lambda: api.call(f"{NOTICES}/ListNotices", {"readerId": reader["id"]}, admin)["notices"],
        "a check-out receipt",
    )
    assert any(
        notice["kind"] == "NOTICE_KIND_CHECKOUT_RECEIPT" and notice["loanId"] == loan["id"]
        for notice in notices
    )

    returned = give_back(api, admin, copy)
    assert returned["wasOnLoan"] is True and returned["route"] == "CHECK_IN_ROUTE_SHELF"
    assert returned["loan"]["returnedAt"]
    wait_for_availability(api, admin, copy["barcode"], "AVAILABILITY_ON_SHELF")

    report = api.call(
        f"{LOANS}/GetReadingReport",
        {
            "schoolId": primary,
            "fromDate": (TODAY - datetime.timedelta(days=1)).isoformat(),
            "toDate": (TODAY + datetime.timedelta(days=1)).isoformat(),
            "topTitles": 100,
        },
        admin,
    )
    assert report["loans"] >= 1
    assert title["id"] in [top["titleId"] for top in report["topTitles"]]


def test_a_copy_returned_at_another_school_travels_home(api, admin, schools, reader, new_copy):
    copy = new_copy()
    lend(api, admin, reader, copy)
    middle = schools["XH-MID"]["id"]
    returned = give_back(api, admin, copy, deskSchoolId=middle)
    try:
        assert returned["route"] == "CHECK_IN_ROUTE_TRANSIT"
        assert returned["transit"]["toSchoolId"] == copy["schoolId"]
        # As `lectern transit list --school XH-MID` asks: both directions.
        transits = api.call(f"{LOANS}/ListTransits", {"schoolId": middle, "pageSize": 500}, admin)["transits"]
        assert returned["transit"]["id"] in [transit["id"] for transit in transits]
    finally:
        home = give_back(api, admin, copy)
        assert home["transit"]["receivedTime"]


def test_a_hold_on_a_title_out_on_loan(api, admin, primary, reader, new_reader, title, new_copy):
    # One copy out on loan, one on the shelf for the desk to pull.
    lent, _ = new_copy(), new_copy()
    lend(api, admin, reader, lent)
    other = new_reader(f"接口测试预约者{RUN}")
    hold = api.call(
        f"{HOLDS}/PlaceHold", {"readerCardBarcode": other["cardBarcode"], "titleId": title["id"]}, admin
    )
    try:
        assert hold["status"] == "HOLD_STATUS_WAITING" and hold["pickupSchoolId"] == primary
        holds = api.call(f"{HOLDS}/ListHolds", {"readerId": other["id"]}, admin)["holds"]
        assert [listed["id"] for listed in holds] == [hold["id"]]
        pulls = api.call(f"{HOLDS}/ListPullList", {"schoolId": primary}, admin)["entries"]
        assert any(entry["holdId"] == hold["id"] for entry in pulls)
    finally:
        cancelled = api.call(f"{HOLDS}/CancelHold", {"holdId": hold["id"]}, admin)
        assert cancelled["status"] == "HOLD_STATUS_CANCELLED"
        give_back(api, admin, lent)


def test_a_damage_fee_charged_paid_and_waived(api, admin, reader, new_copy):
    copy = new_copy()
    loan = lend(api, admin, reader, copy)
    try:
        fee = api.call(
            f"{FEES}/ChargeFee",
            {"loanId": loan["id"], "kind": "FEE_KIND_DAMAGED", "amount": "500", "note": "封面撕破"},
            admin,
        )
        assert fee["outstanding"] == "500" and fee["copyBarcode"] == copy["barcode"]
        owed = api.call(f"{FEES}/ListFees", {"readerId": reader["id"]}, admin)
        assert owed["balance"] == "500" and [listed["id"] for listed in owed["fees"]] == [fee["id"]]
        paid = api.call(
            f"{FEES}/PayFees", {"readerId": reader["id"], "amount": "200", "feeId": fee["id"]}, admin
        )
        assert paid["balance"] == "300"
        waived = api.call(f"{FEES}/WaiveFee", {"feeId": fee["id"], "reason": "家庭困难"}, admin)
        assert waived["outstanding"] == "0"
        assert [entry["kind"] for entry in waived["entries"]] == [
            "FEE_ENTRY_KIND_PAYMENT",
            "FEE_ENTRY_KIND_WAIVER",
        ]
        assert api.call(f"{FEES}/ListFees", {"readerId": reader["id"]}, admin)["balance"] == "0"
    finally:
        give_back(api, admin, copy)


def test_a_stocktake_of_one_shelf(api, admin, primary, shelf, new_copy):
    scanned, not_scanned = new_copy(), new_copy()
    stocktake = api.call(
        f"{STOCKTAKE}/StartStocktake",
        {"schoolId": primary, "name": f"接口测试盘点 {RUN}", "locations": [shelf["id"]]},
        admin,
    )
    try:
        assert stocktake["state"] == "STOCKTAKE_STATE_OPEN" and stocktake["locationIds"] == [shelf["id"]]
        stranger = unique("NOPE")
        results = api.call(
            f"{STOCKTAKE}/RecordScans",
            {
                "stocktakeId": stocktake["id"],
                "scans": [{"barcode": scanned["barcode"]}, {"barcode": stranger}],
                "location": shelf["id"],
            },
            admin,
        )["results"]
        assert [(result["barcode"], result["outcome"]) for result in results] == [
            (scanned["barcode"], "SCAN_OUTCOME_OK"),
            (stranger, "SCAN_OUTCOME_UNKNOWN_BARCODE"),
        ]
        progress = api.call(f"{STOCKTAKE}/GetStocktake", {"id": stocktake["id"]}, admin)["progress"]
        assert progress["scanned"] == 1 and progress["unknownBarcodes"] == 1
        sessions = api.call(f"{STOCKTAKE}/ListStocktakes", {"schoolId": primary}, admin)["stocktakes"]
        assert stocktake["id"] in [session["id"] for session in sessions]
        missing = api.call(
            f"{STOCKTAKE}/GetStocktakeReport",
            {"id": stocktake["id"], "section": "REPORT_SECTION_MISSING", "pageSize": 1000},
            admin,
        )
        missing_barcodes = [entry["barcode"] for entry in missing["entries"]]
        assert not_scanned["barcode"] in missing_barcodes and scanned["barcode"] not in missing_barcodes
        preview = api.call(f"{STOCKTAKE}/FinalizeStocktake", {"id": stocktake["id"]}, admin)
        assert preview["finalized"] is False and preview["count"] == missing["total"]
        assert preview["count"] == progress["wouldMarkMissing"] and preview["previewToken"]
    finally:
        cancelled = api.call(f"{STOCKTAKE}/CancelStocktake", {"id": stocktake["id"]}, admin)
        assert cancelled["state"] == "STOCKTAKE_STATE_CANCELLED"
    assert availability(api, admin, not_scanned["barcode"]) == "AVAILABILITY_ON_SHELF"


def test_the_year_end_preview_changes_nothing(api, admin, primary):
    classes = api.call(f"{READERS}/ListClasses", {"schoolId": primary}, admin)["classes"]
    year = classes[0]["schoolYear"]
    first = int(year[:4])
    plan = api.call(
        f"{SCHOOL_YEAR}/PreviewYearEnd",
        {
            "schoolId": primary,
            "fromSchoolYear": year,
            "toSchoolYear": f"{first + 1}-{first + 2}",
            "topGrade": 6,
            "graduateExpiresOn": f"{first + 1}-07-31",
        },
        admin,
    )
    assert plan["applied"] is False and plan["promotions"]
    assert all(
        move["toGrade"] == move["fromGrade"] + 1 and not move["toClassId"] for move in plan["promotions"]
    )
    assert api.call(f"{READERS}/ListClasses", {"schoolId": primary}, admin)["classes"] == classes


def test_notes_contacts_and_a_block_at_the_desk(api, admin, reader, new_copy):
    reader_id = reader["id"]
    note = api.call(f"{PROFILE}/CreateReaderNote", {"readerId": reader_id, "text": "借书证丢过两次"}, admin)
    notes = api.call(f"{PROFILE}/ListReaderNotes", {"readerId": reader_id}, admin)["notes"]
    assert [(listed["id"], listed["text"]) for listed in notes] == [(note["id"], "借书证丢过两次")]
    api.call(f"{PROFILE}/DeleteReaderNote", {"readerId": reader_id, "noteId": note["id"]}, admin)

    contact = api.call(
        f"{PROFILE}/CreateReaderContact",
        {
            "readerId": reader_id,
            "who": "CONTACT_WHO_GUARDIAN",
            "channel": "CONTACT_CHANNEL_PHONE",
            "value": "+86 138-0013-8000",
            "label": "妈妈",
        },
        admin,
    )
    assert contact["value"] == "+8613800138000"
    contacts = api.call(f"{PROFILE}/ListReaderContacts", {"readerId": reader_id}, admin)["contacts"]
    assert [listed["id"] for listed in contacts] == [contact["id"]]
    api.call(f"{PROFILE}/DeleteReaderContact", {"readerId": reader_id, "contactId": contact["id"]}, admin)
    assert api.call(f"{PROFILE}/ListReaderContacts", {"readerId": reader_id}, admin)["contacts"] == []

    blocked = api.call(
        f"{READERS}/CreateReaderBlock", {"readerId": reader_id, "reason": "请先来找馆员"}, admin
    )
    [block] = blocked["blocks"]
    copy = new_copy()
    try:
        refusal = api.refused(
            f"{LOANS}/CheckOut",
            {"readerCardBarcode": reader["cardBarcode"], "copyBarcode": copy["barcode"]},
            admin,
            400,
        )
        assert refusal["reason"] == "READER_BLOCKED"
    finally:
        lifted = api.call(
            f"{READERS}/DeleteReaderBlock", {"readerId": reader_id, "blockId": block["id"]}, admin
        )
    assert lifted["blocks"] == []


def test_the_audit_log_has_the_sign_ins(api, admin):
    events = api.call(f"{AUDIT}/ListAuditEvents", {"action": "login", "pageSize": 50}, admin)["events"]
    assert events and all(event["action"] == "login" for event in events)


def test_a_reader_data_export_then_erasure(api, admin, new_reader):
    leaving = new_reader(f"接口测试离校{RUN}")
    exported = json.loads(api.call(f"{READERS}/ExportReaderData", {"readerId": leaving["id"]}, admin)["json"])
    assert leaving["cardBarcode"] in json.dumps(exported, ensure_ascii=False)
    erased = api.call(f"{READERS}/EraseReader", {"readerId": leaving["id"]}, admin)
    assert erased["readerId"] == leaving["id"]
    gone = api.refused(f"{READERS}/LookupReader", {"cardBarcode": leaving["cardBarcode"]}, admin, 404)
    assert gone["reason"] == "READER_NOT_FOUND"


# --- 2. Errors and statuses ---


def test_lending_a_copy_already_on_loan_is_refused(api, admin, reader, new_reader, new_copy):
    copy = new_copy()
    loan = lend(api, admin, reader, copy)
    try:
        other = new_reader(f"接口测试第二位{RUN}")
        refusal = api.refused(
            f"{LOANS}/CheckOut",
            {"readerCardBarcode": other["cardBarcode"], "copyBarcode": copy["barcode"]},
            admin,
            400,
        )
        assert refusal["code"] == "failed_precondition" and refusal["reason"] == "COPY_ALREADY_ON_LOAN"
        assert refusal["message"]
        assert open_loans(api, admin, other["id"]) == []
        assert [open_loan["id"] for open_loan in open_loans(api, admin, reader["id"])] == [loan["id"]]
    finally:
        give_back(api, admin, copy)


def test_unknown_records_are_not_found(api, admin):
    copy = api.refused(f"{CATALOG}/LookupCopy", {"barcode": unique("NOPE")}, admin, 404)
    assert copy["code"] == "not_found" and copy["reason"] == "COPY_NOT_FOUND"
    card = api.refused(f"{READERS}/LookupReader", {"cardBarcode": unique("NOPE")}, admin, 404)
    assert card["code"] == "not_found" and card["reason"] == "READER_NOT_FOUND"


def test_a_card_barcode_already_taken(api, admin, primary, reader):
    taken = api.refused(
        f"{READERS}/CreateReader",
        {"schoolId": primary, "cardBarcode": reader["cardBarcode"], "name": "同卡号", "category": "other"},
        admin,
        409,
    )
    assert taken["code"] == "already_exists" and taken["reason"] == "CARD_BARCODE_TAKEN"


def test_a_reader_may_not_make_staff_calls(api, reader_token):
    refusal = api.refused(f"{IDENTITY}/ListStaffAccounts", {}, reader_token, 403)
    assert refusal["code"] == "permission_denied" and refusal["reason"] == "ROLE_NOT_ALLOWED"


def tampered(token):
    """`token` with its expiry moved into the past: the signature no longer holds."""
    header, claims, signature = token.split(".")
    decoded = json.loads(base64url_decode(claims))
    decoded["exp"] = decoded["iat"] - 60
    return ".".join([header, base64url_encode(json.dumps(decoded).encode()), signature])


def base64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def base64url_encode(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@pytest.mark.parametrize("token", ["", "garbage", "expired"])
def test_calls_without_a_good_token_are_unauthenticated(api, admin, token):
    sent = tampered(admin) if token == "expired" else token
    refusal = api.refused(f"{CATALOG}/SearchTitles", {"query": "草房子"}, sent, 401)
    assert refusal["code"] == "unauthenticated"


# --- 3. Bad input changes nothing ---


@pytest.fixture(scope="module")
def bystanders(reader, new_copy):
    """A reader and a copy on the shelf that bad check-outs name."""
    return reader, new_copy()


def check_out_body(bystanders):
    reader, copy = bystanders
    return {"readerCardBarcode": reader["cardBarcode"], "copyBarcode": copy["barcode"]}


# name: (how the request is sent, HTTP status, code, the field named or
# None for none)
BAD_CHECK_OUTS = {
    "malformed JSON": (lambda body: {"data": json.dumps(body)[:-1].encode()}, 400, "invalid_argument", None),
    "wrong type": (lambda body: {"body": {**body, "copyBarcode": 5}}, 400, "invalid_argument", "copyBarcode"),
    "unknown field": (
        lambda body: {"body": {**body, "copyBarcodes": "x"}},
        400,
        "invalid_argument",
        "copyBarcodes",
    ),
    "missing field": (
        lambda body: {"body": {"readerCardBarcode": body["readerCardBarcode"]}},
        400,
        "invalid_argument",
        "copyBarcode",
    ),
    "text/plain": (
        lambda body: {"body": body, "headers": {"Content-Type": "text/plain"}},
        415,
        "invalid_argument",
        None,
    ),
    # On a connection of its own: what follows a refused large body on the
    # same connection is the next test's business.
    "2 MiB body": (
        lambda body: {"body": {**body, "requestId": "x" * TWO_MIB}, "headers": {"Connection": "close"}},
        413,
        "resource_exhausted",
        None,
    ),
}


@pytest.mark.parametrize("case", BAD_CHECK_OUTS)
def test_a_bad_check_out_is_refused_and_lends_nothing(api, admin, bystanders, case):
    build, status, code, field = BAD_CHECK_OUTS[case]
    reader, copy = bystanders
    before = open_loans(api, admin, reader["id"])
    answer = api.post(f"{LOANS}/CheckOut", token=admin, **build(check_out_body(bystanders)))
    assert answer.status_code == status, answer.text
    error = answer.json()
    assert error["code"] == code and error["message"], error
    assert error.get("field") == field, error
    assert_nothing_lent(api, admin, reader, copy, before)


def test_a_keep_alive_connection_still_works_after_a_large_body_is_refused(api, admin):
    """Browsers and `requests.Session` send their next call on the same
    connection: after a 413 the server must either read the rest of the
    body or say `Connection: close` (http.client then opens a new one)."""
    address = urllib.parse.urlsplit(api.base)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=30)
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {admin}"}
    try:
        connection.request(
            "POST", f"/api/{LOANS}/CheckOut", json.dumps({"requestId": "x" * TWO_MIB}), headers
        )
        refused = connection.getresponse()
        assert (refused.status, json.loads(refused.read())["code"]) == (413, "resource_exhausted")
        connection.request("POST", f"/api/{GATEWAY}/WhoAmI", "{}", headers)
        answer = connection.getresponse()
        assert answer.status == 200 and json.loads(answer.read())["kind"] == "staff"
    finally:
        connection.close()


# (HTTP method, path, status, the Allow header of a 405)
WRONG_ROUTES = [
    ("POST", f"/api/{LOANS}/CheckOutNow", 404, None),
    ("GET", f"/api/{LOANS}/CheckOutNow", 404, None),
    ("GET", f"/api/{LOANS}/CheckOut", 405, "POST"),
    ("POST", f"/api/download/{MARC}/ExportMarc", 405, "GET"),
    ("GET", f"/api/upload/{MARC}/ImportMarc", 405, "POST"),
]


@pytest.mark.parametrize(("method", "path", "status", "allow"), WRONG_ROUTES)
def test_a_wrong_route_is_refused_and_lends_nothing(api, admin, bystanders, method, path, status, allow):
    reader, copy = bystanders
    before = open_loans(api, admin, reader["id"])
    answer = api.session.request(
        method,
        f"{api.base}{path}",
        json=check_out_body(bystanders),
        headers={"Authorization": f"Bearer {admin}"},
        timeout=30,
    )
    assert answer.status_code == status, answer.text
    assert answer.json()["code"] == ("not_found" if status == 404 else "unimplemented"), answer.text
    assert answer.headers.get("Allow") == allow
    assert_nothing_lent(api, admin, reader, copy, before)


def assert_nothing_lent(api, token, reader, copy, before):
    assert open_loans(api, token, reader["id"]) == before
    assert availability(api, token, copy["barcode"]) == "AVAILABILITY_ON_SHELF"


# --- 4. Uploads and downloads ---


def marc_field(tag, indicators, *subfields):
    return Field(
        tag=tag,
        indicators=Indicators(*indicators),
        subfields=[Subfield(code=code, value=value) for code, value in subfields],
    )


def marc_record(isbn, title_proper, author, barcodes):
    record = Record(force_utf8=True)
    record.leader = pymarc.Leader("00000nam a2200000   4500")
    record.add_field(marc_field("020", "  ", ("a", isbn)))
    record.add_field(marc_field("100", "1 ", ("a", author)))
    record.add_field(marc_field("245", "10", ("a", title_proper)))
    for barcode in barcodes:
        record.add_field(marc_field("952", "  ", ("o", "I287.45/C12"), ("p", barcode), ("y", "book")))
    return record


def ndjson(answer):
    assert answer.status_code == 200, answer.text
    assert answer.headers["Content-Type"].startswith("application/x-ndjson")
    return [json.loads(line) for line in answer.text.splitlines()]


def import_marc(api, token, school_id, data, dry_run):
    params = {"format": "MARC_FORMAT_ISO2709", "schoolId": school_id, "dryRun": str(dry_run).lower()}
    headers = {"Content-Type": "application/octet-stream"}
    lines = ndjson(api.upload(f"{MARC}/ImportMarc", params, data, token, headers))
    *progress, last = lines
    assert progress, "a progress line before the last"
    assert all(line["done"] is False and "counts" in line for line in progress), lines
    assert last["done"] is True and last["dryRun"] is dry_run and last["results"] == [], last
    return last["counts"]


def test_a_marc_file_checked_imported_and_exported(api, admin, schools):
    school = schools["XH-MID"]
    rng = random.Random(f"marc-{RUN}")
    books = [
        marc_record(isbn13(rng), f"接口导入一{RUN}", "曹文轩", [unique("JM"), unique("JM")]),
        marc_record(isbn13(rng), f"JSON import two {RUN}", "White, E. B.", [unique("JM")]),
    ]
    data = b"".join(book.as_marc() for book in books)

    checked = import_marc(api, admin, school["id"], data, dry_run=True)
    assert (checked["recordsRead"], checked["titlesCreated"], checked["copiesCreated"]) == ("2", "2", "3")
    isbn = books[0]["020"]["a"]
    assert api.refused(f"{CATALOG}/LookupTitle", {"isbn": isbn}, admin, 404)["reason"] == "TITLE_NOT_FOUND"

    imported = import_marc(api, admin, school["id"], data, dry_run=False)
    assert (imported["titlesCreated"], imported["copiesCreated"], imported["recordsRejected"]) == (
        "2",
        "3",
        "0",
    )
    assert api.call(f"{CATALOG}/LookupTitle", {"isbn": isbn}, admin)["title"] == f"接口导入一{RUN}"

    exported = api.download(
        f"{MARC}/ExportMarc", {"schoolId": school["id"], "format": "MARC_FORMAT_ISO2709"}, admin
    )
    assert exported.status_code == 200, exported.text
    assert exported.headers["Content-Type"] == "application/octet-stream"
    assert exported.headers["Content-Disposition"].startswith("attachment")
    records = list(pymarc.MARCReader(io.BytesIO(exported.content), to_unicode=True, force_utf8=True))
    by_isbn = {record["020"]["a"]: record for record in records if record["020"]}
    assert by_isbn[isbn]["245"]["a"] == f"接口导入一{RUN}"
    assert sorted(item["p"] for item in by_isbn[isbn].get_fields("952")) == sorted(
        item["p"] for item in books[0].get_fields("952")
    )


def test_a_roster_dry_run_reports_what_it_would_do(api, admin, primary):
    numbers = [unique("S"), unique("S")]
    roster = (
        f"学号,姓名,班级,年级\n{numbers[0]},接口测试甲,三年级(1)班,3\n{numbers[1]},接口测试乙,三年级(1)班,3\n"
    )
    answer = api.upload(
        f"{ROSTER}/ImportRoster",
        {"format": "ROSTER_FORMAT_LECTERN_CSV", "schoolId": primary, "partial": "true"},
        roster.encode(),
        admin,
        {"Content-Type": "text/csv", "Content-Disposition": 'attachment; filename="roster.csv"'},
    )
    *progress, last = ndjson(answer)
    assert progress and all("progress" in line for line in progress), progress
    report = last["report"]
    assert report["applied"] is False and report["errors"] == [], report
    assert (report["readersInFile"], report["created"], report["deactivated"]) == ("2", "2", "0")
    assert sorted(change["number"] for change in report["changes"]) == sorted(numbers)
    found = api.call(f"{READERS}/SearchReaders", {"schoolId": primary, "query": numbers[0]}, admin)
    assert found["readers"] == [], "a dry run registers nobody"


def test_an_upload_by_a_reader_is_refused_before_any_line(api, reader_token, primary):
    answer = api.upload(
        f"{MARC}/ImportMarc",
        {"format": "MARC_FORMAT_ISO2709", "schoolId": primary, "dryRun": "true"},
        b"not read",
        reader_token,
    )
    assert answer.status_code == 403, answer.text
    assert answer.headers["Content-Type"].startswith("application/json")
    assert answer.json()["reason"] == "ROLE_NOT_ALLOWED"


# --- Coverage: keep these last ---


def test_every_cli_method_was_called(api):
    missed = [method for method in CLI_METHODS + OTHER_METHODS if method not in api.called]
    assert missed == [], "not called over JSON (see the failures above)"


def test_every_cli_method_is_in_the_openapi_document(api):
    answer = api.session.get(f"{api.base}/api/openapi.json", timeout=30)
    assert answer.status_code == 200
    document = answer.json()
    assert document["openapi"].startswith("3.1")
    paths = document["paths"]
    missing = [
        method
        for method in CLI_METHODS + OTHER_METHODS
        if not {f"/api/{method}", f"/api/upload/{method}", f"/api/download/{method}"} & set(paths)
    ]
    assert missing == []
