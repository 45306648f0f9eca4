"""The library desk in Chromium, as a school's librarian and her assistant
use it, on the demo district (`lectern up --demo`), once on SQLite and once
on PostgreSQL: sign in; lend books by typing barcodes and Enter as a
scanner does; meet a refusal and lend past it (the librarian) or not (the
assistant); renew; route returned books to the hold shelf and to the other
school; take a fee; print a receipt on three papers; switch to English;
refuse another school's reader; keep every scan through a server restart
and through a session ended in another tab; fit a laptop and a tablet; a
librarian of both schools chooses the one she stands in, and returns are
routed from there; find and edit a reader; print the overdue books for a
homeroom; see the hold shelf.

Each story runs in one browser per person, and each step leaves a
screenshot `desk-NN-what.png` (the receipts also as PDF) in desk-sqlite/ or
desk-postgres/ under the screenshots folder; the guide's pictures
(docs/screenshots/desk/) are the SQLite run's Chinese ones.

The words asserted come from the message catalogue (gateway/messages): a
test looks for the sentence a librarian reads, in the language shown.

What the tests take from the demo data (src/demo): the primary school
徐汇区实验小学 (staff xh-librarian, xh-assistant), the middle school
徐汇区第二中学, and district-librarian, a librarian of both; readers R1000xx
at the primary school and R2000xx at the middle school (readers.tsv);
copies P… at the primary school and M… at the middle school; loans made at
load: R100001 has P000001 a month overdue (the rules refuse them more
books: READER_HAS_OVERDUE), R100004 has P000010, the only copy of 蜻蜓眼,
R100005 has P000013, R100006 has P000016 and R100010 has P000028. Every
story has readers and copies of its own, so none depends on another having
run.
"""

import csv
import datetime
import re
import time
import uuid
from pathlib import Path
from zoneinfo import ZoneInfo

from conftest import Texts
from playwright.sync_api import expect

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "src" / "demo"

DESK = {"width": 1366, "height": 768}
TABLET = {"width": 800, "height": 1280}
PRIMARY = "徐汇区实验小学"
MIDDLE = "徐汇区第二中学"
# The demo's lending rule for students: 14 days; the libraries close at weekends.
STUDENT_LOAN_DAYS = 14
SCHOOL_ZONE = ZoneInfo("Asia/Shanghai")
# Waiting for Lectern to come back: its restart, then the desk's next retry
# (at most 8 s apart).
COMEBACK_MS = 60_000

SUMMARY = "lectern.circulation.v1.LoanService/GetReaderSummary"
# The district librarian's story: R100010 has the primary school's P000028
# from the demo's load, and returns it at the middle school.
AWAY_READER = "R100010"
AWAY_BOOK = "P000028"
# The hold shelf's: R100006 has P000016; R100030 waits for it.
SHELF_READER = "R100030"
SHELF_BOOK = "P000016"


ZH = Texts("zh-CN")
EN = Texts("en")


def demo_reader_name(card):
    with open(DEMO / "readers.tsv", encoding="utf-8") as file:
        for row in csv.DictReader(file, delimiter="\t"):
            if row["card_barcode"] == card:
                return row["name"]
    raise AssertionError(f"no demo reader {card}")


def due_day(days):
    """The due day of a loan made today for `days`: a day the library is
    closed (the demo's weekends) moves it to the next open day."""
    due = datetime.datetime.now(SCHOOL_ZONE).date() + datetime.timedelta(days=days)
    while due.isoweekday() in (6, 7):
        due += datetime.timedelta(days=1)
    return due


# ---- what a librarian does -------------------------------------------------


def sign_in(visitor, page, label, shot=None):
    """Signs in as the demo's `label` on the sign-in page."""
    username, password = visitor.lectern.sign_in(label)
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/signin"))
    staff = page.locator("form[action='/signin/staff']")
    staff.get_by_label(ZH("signin.staff.username")).fill(username)
    staff.get_by_label(ZH("signin.staff.password")).fill(password)
    if shot:
        visitor.shot(page, shot)
    staff.get_by_role("button", name=ZH("signin.staff.submit")).click()
    expect(page).not_to_have_url(re.compile(r"/signin"))


def desk_bar(page, texts=ZH):
    return page.get_by_role("navigation", name=texts("nav.label"))


def go_to(page, nav_id, texts=ZH):
    desk_bar(page, texts).get_by_role("link", name=texts(nav_id), exact=True).click()
    expect(desk_bar(page, texts).get_by_role("link", name=texts(nav_id), exact=True)).to_have_attribute(
        "aria-current", "page"
    )


def scan_box(page):
    return page.locator("[data-scan-box]")


def scan(page, code):
    """Types `code` and Enter into the scan box, as a barcode scanner does:
    the box must have the focus already, nothing is clicked."""
    expect(scan_box(page), "the scan box must have the focus before a scan").to_be_focused()
    page.keyboard.type(code)
    page.keyboard.press("Enter")


def reader_heading(page):
    return page.locator(".reader").get_by_role("heading", level=2)


def loans(page):
    return page.locator("table.loans tbody tr")


def loan_row(page, barcode):
    return loans(page).filter(has_text=barcode)


def outcome(page):
    return page.locator(".outcome")


def mark_answer(page):
    """Marks the answer on screen, so that the next one can be told from it
    even when it reads the same."""
    page.evaluate("() => document.querySelectorAll('.outcome').forEach((o) => o.setAttribute('data-seen', ''))")


def new_answer(page):
    return page.locator(".outcome:not([data-seen])")


def title_in(row):
    """The title in a loans-table row (its first cell: title, then barcode)."""
    return row.locator("td").first.inner_text().splitlines()[0].strip()


def reader_loans(lectern, token, card):
    """The reader's open loans as the circulation service has them."""
    summary = lectern.call(SUMMARY, {"readerCardBarcode": card}, token)
    return summary.get("loans", [])


def librarian_token(lectern):
    return lectern.staff_token(*lectern.sign_in("librarian"))


def assert_one_loan_each(lectern, card, barcodes):
    copies = [loan["copyBarcode"] for loan in reader_loans(lectern, librarian_token(lectern), card)]
    for barcode in barcodes:
        assert copies.count(barcode) == 1, f"{card} should have {barcode} on loan once: {copies}"


def pdf_page_width_mm(pdf):
    """The width of the PDF's first page (its MediaBox, in points)."""
    found = re.search(rb"/MediaBox\s*\[\s*([-\d.]+)\s+([-\d.]+)\s+([-\d.]+)\s+([-\d.]+)\s*\]", pdf)
    assert found, "no MediaBox in the PDF"
    width_points = float(found.group(3)) - float(found.group(1))
    return width_points / 72 * 25.4


# ---- the stories -------------------------------------------------------------


def test_a_librarians_morning(desk_lectern, desk_people):
    """Sign in, lend three books by scanning, renew one and all, meet a
    refusal in Chinese and lend past it with a reason."""
    librarian = desk_people(DESK)
    page = librarian.context.new_page()

    # A librarian of one school: no school to choose, straight to its day.
    sign_in(librarian, page, "librarian", shot="desk-01-signin")
    expect(page).to_have_url(desk_lectern.url("/"))
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.get_by_role("heading", level=1)).to_have_text(ZH("home.title"))
    expect(desk_bar(page)).to_contain_text(PRIMARY)
    expect(page.get_by_text(ZH("home.overdue"), exact=True)).to_be_visible()
    librarian.shot(page, "desk-02-today")

    go_to(page, "nav.desk")
    expect(page).to_have_url(desk_lectern.url("/desk"))
    expect(page.get_by_label(ZH("desk.scan_label"))).to_be_focused()
    expect(page.get_by_text(ZH("desk.empty"))).to_be_visible()

    # The card, then three books, each typed and Enter as a scanner does.
    scan(page, "R100011")
    expect(reader_heading(page)).to_have_text(demo_reader_name("R100011"))
    expect(page.get_by_text(ZH("desk.may_borrow"))).to_be_visible()
    expect(page.get_by_text(ZH("desk.no_loans"))).to_be_visible()
    expect(scan_box(page)).to_be_focused()
    librarian.shot(page, "desk-03-reader")

    due = ZH.day(due_day(STUDENT_LOAN_DAYS))
    titles = {}
    for count, barcode in enumerate(["P000002", "P000003", "P000005"], start=1):
        scan(page, barcode)
        expect(loan_row(page, barcode)).to_have_count(1)
        expect(loans(page)).to_have_count(count)
        titles[barcode] = title_in(loan_row(page, barcode))
        expect(outcome(page)).to_have_attribute("data-outcome", "ok")
        expect(outcome(page)).to_contain_text(ZH("desk.lent", title=titles[barcode]))
        expect(outcome(page)).to_contain_text(ZH("desk.due", due=due))
        expect(loan_row(page, barcode)).to_contain_text(due)
        expect(scan_box(page), "the focus goes back to the scan box after each book").to_be_focused()
    expect(page.get_by_role("heading", name=ZH("desk.loans_title", count=3))).to_be_visible()
    librarian.shot(page, "desk-04-three-lent")

    # Renew one, then all (the demo's open loans are all from today, so the
    # due day stays; each renewal counts).
    loan_row(page, "P000005").get_by_role("button", name=ZH("desk.renew")).click()
    expect(outcome(page)).to_contain_text(ZH("desk.renewed", title=titles["P000005"]))
    expect(outcome(page)).to_have_attribute("data-outcome", "ok")
    expect(outcome(page)).to_contain_text(ZH("desk.due", due=due))
    expect(scan_box(page)).to_be_focused()
    librarian.shot(page, "desk-05-renewed")

    page.get_by_role("button", name=ZH("desk.renew_all")).click()
    expect(outcome(page)).to_contain_text(ZH("desk.renewed_all", renewed=3, total=3))
    expect(outcome(page)).to_have_attribute("data-outcome", "ok")
    for barcode, title in titles.items():
        expect(outcome(page)).to_contain_text(ZH("desk.renewed_line", title=title, due=due))
    expect(scan_box(page)).to_be_focused()
    librarian.shot(page, "desk-06-renewed-all")
    token = librarian_token(desk_lectern)
    renewals = {loan["copyBarcode"]: loan.get("renewals", 0) for loan in reader_loans(desk_lectern, token, "R100011")}
    assert renewals == {"P000002": 1, "P000003": 1, "P000005": 2}, renewals

    # An overdue book cannot be renewed: the refusal says why.
    scan(page, "R100002")
    expect(reader_heading(page)).to_have_text(demo_reader_name("R100002"))
    overdue_row = loan_row(page, "P000004")
    expect(overdue_row).to_contain_text(ZH("desk.overdue"))
    overdue_row.get_by_role("button", name=ZH("desk.renew")).click()
    expect(page.get_by_role("alert")).to_contain_text(ZH("reason.LOAN_OVERDUE"))
    expect(loan_row(page, "P000004")).to_contain_text(ZH("desk.overdue"))
    expect(scan_box(page)).to_be_focused()
    librarian.shot(page, "desk-07-renew-refused")

    # The next reader has a book a month overdue: the rules refuse, in Chinese.
    scan(page, "R100001")
    expect(reader_heading(page)).to_have_text(demo_reader_name("R100001"))
    blocks = page.get_by_role("note")
    expect(blocks).to_contain_text(ZH("desk.blocks_title"))
    expect(blocks).to_contain_text(ZH("reason.READER_HAS_OVERDUE"))
    expect(loan_row(page, "P000001")).to_contain_text(ZH("desk.overdue"))
    scan(page, "P000006")
    refusal = page.get_by_role("alert")
    expect(refusal).to_contain_text(ZH("reason.READER_HAS_OVERDUE"))
    expect(refusal).to_contain_text(ZH("desk.rule", rule="学生"))
    expect(outcome(page)).to_have_attribute("data-outcome", "refused")
    expect(loan_row(page, "P000006")).to_have_count(0)
    librarian.shot(page, "desk-08-refused")

    # A librarian may lend it anyway, with a reason kept with the loan.
    why = "班级读书活动需要"
    page.get_by_label(ZH("desk.override_reason")).fill(why)
    librarian.shot(page, "desk-09-override-reason")
    page.get_by_role("button", name=ZH("desk.override_submit", barcode="P000006")).click()
    expect(loan_row(page, "P000006")).to_have_count(1)
    expect(outcome(page)).to_have_attribute("data-outcome", "ok")
    expect(outcome(page)).to_contain_text(ZH("desk.lent", title=title_in(loan_row(page, "P000006"))))
    expect(scan_box(page)).to_be_focused()
    librarian.shot(page, "desk-10-lent-anyway")
    [lent] = [loan for loan in reader_loans(desk_lectern, token, "R100001") if loan["copyBarcode"] == "P000006"]
    assert lent.get("override", {}).get("reason") == why, lent

    # Refused again; the refusal says "scan the next book to leave this
    # one", so the scanner's next barcode and Enter must leave it: not lend
    # it past the block with the barcode as the reason.
    scan(page, "P000009")
    expect(outcome(page)).to_have_attribute("data-outcome", "refused")
    expect(page.get_by_text(ZH("desk.override_cancel"))).to_be_visible()
    mark_answer(page)
    page.keyboard.type("P000012")
    page.keyboard.press("Enter")
    answer = new_answer(page)
    expect(answer).to_have_count(1)
    librarian.shot(page, "desk-11-next-book-after-refusal")
    expect(
        answer,
        "after a refusal, the next scan must go to the scan box and be refused in its turn, "
        "not lend the refused book past the block",
    ).to_have_attribute("data-outcome", "refused")
    expect(loan_row(page, "P000009")).to_have_count(0)
    expect(page.locator("form[action='/desk/override'] input[name='copy']")).to_have_value("P000012")
    lent = [loan["copyBarcode"] for loan in reader_loans(desk_lectern, token, "R100001")]
    assert "P000009" not in lent and "P000012" not in lent, lent


# Sends the desk's override form by hand, as a crafted request would: the
# reader in view, a copy and a reason.
OVERRIDE_BY_HAND = """async ({copy, reason, requestId}) => {
  const body = new URLSearchParams();
  document.querySelectorAll('input[type=hidden][form="scan-form"]').forEach((i) => body.set(i.name, i.value));
  body.set('csrf', document.querySelector('meta[name=csrf-token]').content);
  body.set('request_id', requestId);
  body.set('copy', copy);
  body.set('override_reason', reason);
  const response = await fetch('/desk/override', {
    method: 'POST',
    headers: {'X-Lectern-Fragment': '1', 'Content-Type': 'application/x-www-form-urlencoded'},
    body,
  });
  return {status: response.status, html: await response.text()};
}"""


def test_b_an_assistant_cannot_lend_past_a_block(desk_lectern, desk_people):
    """The assistant meets the same refusal, is told to ask a librarian, and
    is offered no way past it; the service refuses one sent by hand."""
    assistant = desk_people(DESK)
    page = assistant.context.new_page()
    sign_in(assistant, page, "assistant")
    go_to(page, "nav.desk")

    scan(page, "R100001")
    expect(reader_heading(page)).to_have_text(demo_reader_name("R100001"))
    scan(page, "P000008")
    refusal = page.get_by_role("alert")
    expect(refusal).to_contain_text(ZH("reason.READER_HAS_OVERDUE"))
    expect(refusal).to_contain_text(ZH("desk.ask_librarian"))
    expect(page.locator("form[action='/desk/override']")).to_have_count(0)
    expect(page.get_by_role("button", name=ZH("desk.override_submit", barcode="P000008"))).to_have_count(0)
    expect(scan_box(page)).to_be_focused()
    assistant.shot(page, "desk-12-assistant-refused")

    answer = page.evaluate(
        OVERRIDE_BY_HAND, {"copy": "P000008", "reason": "我想借给他", "requestId": str(uuid.uuid4())}
    )
    assert ZH("reason.OVERRIDE_NOT_ALLOWED") in answer["html"], answer
    lent = [loan["copyBarcode"] for loan in reader_loans(desk_lectern, librarian_token(desk_lectern), "R100001")]
    assert "P000008" not in lent, lent


def test_c_returned_books_go_to_the_hold_shelf_and_the_other_school(desk_lectern, desk_people):
    """A hold placed for a reader on the title page; the book it waits for
    comes back and goes to the hold shelf for that reader; the other
    school's book goes into the transit box; each with its slip. An unknown
    barcode is refused."""
    librarian = desk_people(DESK)
    page = librarian.context.new_page()
    sign_in(librarian, page, "librarian")

    # 曾琪 wants 蜻蜓眼, whose only copy another reader has.
    waiting = demo_reader_name("R100020")
    # Found by its author: each of 曹文轩's titles with its copies per school.
    go_to(page, "nav.search")
    expect(page.get_by_label(ZH("search.query"))).to_be_focused()
    page.keyboard.type("曹文轩")
    page.keyboard.press("Enter")
    expect(page.get_by_role("link", name="蜻蜓眼", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="草房子", exact=True)).to_be_visible()
    librarian.shot(page, "desk-40-search")
    page.get_by_role("link", name="蜻蜓眼", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("蜻蜓眼")
    copy_line = page.locator("tr").filter(has_text="P000010")
    expect(copy_line).to_contain_text(ZH("search.status.on_loan"))
    page.get_by_label(ZH("search.hold.card")).fill("R100020")
    expect(page.locator(".hold-panel")).to_contain_text(PRIMARY)
    librarian.shot(page, "desk-13-hold")
    page.get_by_role("button", name=ZH("search.hold.submit"), exact=True).click()
    expect(page.locator(".notice-success")).to_contain_text(ZH("search.hold.placed", position=1, school=PRIMARY))
    librarian.shot(page, "desk-14-hold-placed")
    # The guide's picture of the same moment.
    librarian.shot(page, "desk-41-hold-placed")

    go_to(page, "nav.returns")
    expect(page.get_by_label(ZH("returns.scan"))).to_be_focused()
    answers = page.locator("#returns-list > li")

    scan(page, "P000010")
    expect(answers).to_have_count(1)
    to_hold_shelf = answers.first
    expect(to_hold_shelf).to_have_class(re.compile(r"\breturn-hold\b"))
    expect(to_hold_shelf).to_contain_text(ZH("returns.to_hold_shelf", name=waiting))
    expect(to_hold_shelf).to_contain_text("蜻蜓眼")
    expect(scan_box(page)).to_be_focused()

    scan(page, "M000001")
    expect(answers).to_have_count(2)
    to_transit = answers.first
    expect(to_transit).to_have_class(re.compile(r"\breturn-transit\b"))
    expect(to_transit).to_contain_text(ZH("returns.to_transit", school=MIDDLE))
    expect(scan_box(page)).to_be_focused()

    scan(page, "X999999")
    expect(answers).to_have_count(3)
    refused = answers.first
    expect(refused).to_have_class(re.compile(r"\breturn-refused\b"))
    expect(refused).to_have_attribute("data-outcome", "refused")
    expect(refused).to_contain_text(ZH("reason.COPY_NOT_FOUND"))
    expect(scan_box(page)).to_be_focused()
    librarian.shot(page, "desk-15-returns")

    with librarian.context.expect_page() as opened:
        answers.nth(2).get_by_role("link", name=ZH("returns.print_slip")).click()
    slip = opened.value
    expect(slip.get_by_role("heading", level=1)).to_have_text(ZH("slips.hold"))
    for seen in (waiting, "蜻蜓眼", "P000010", PRIMARY):
        expect(slip.locator(".slip")).to_contain_text(seen)
    librarian.shot(slip, "desk-16-hold-slip")
    slip.close()

    with librarian.context.expect_page() as opened:
        answers.nth(1).get_by_role("link", name=ZH("returns.print_slip")).click()
    slip = opened.value
    expect(slip.get_by_role("heading", level=1)).to_have_text(ZH("slips.transit"))
    for seen in (ZH("slips.to"), MIDDLE, "M000001"):
        expect(slip.locator(".slip")).to_contain_text(seen)
    librarian.shot(slip, "desk-17-transit-slip")
    slip.close()


PAPERS = [
    # (paper in the link, its name's text id, width in mm)
    ("58", "slips.paper_58", 58),
    ("80", "slips.paper_80", 80),
    ("a4", "slips.paper_a4", 210),
]


def test_d_a_fee_taken_and_a_receipt_printed(desk_lectern, desk_people):
    """A book comes back damaged and a fee is charged; at the desk the fee
    shows and is paid; a book is lent and the receipt printed on 58 mm,
    80 mm and A4 paper."""
    librarian = desk_people(DESK)
    page = librarian.context.new_page()
    sign_in(librarian, page, "librarian")
    reader = demo_reader_name("R100005")

    # F2 marks the next book as damaged; Esc brings the focus back to the box.
    go_to(page, "nav.returns")
    page.keyboard.press("F2")
    expect(page.get_by_label(ZH("returns.damaged"))).to_be_checked()
    page.get_by_label(ZH("returns.damage_note")).fill("封面撕破了")
    page.get_by_label(ZH("returns.damage_fee_label")).fill("5.50")
    page.keyboard.press("Escape")
    scan(page, "P000013")
    answer = page.locator("#returns-list > li").first
    expect(answer).to_contain_text(ZH("returns.damage_fee", amount="¥5.50"))
    expect(page.get_by_label(ZH("returns.damaged")), "the damage mark is for one book only").not_to_be_checked()
    librarian.shot(page, "desk-18-returned-damaged")

    go_to(page, "nav.desk")
    scan(page, "R100005")
    expect(reader_heading(page)).to_have_text(reader)
    fees = page.locator(".fees")
    expect(fees).to_contain_text(ZH("desk.fee.damaged"))
    expect(fees).to_contain_text("¥5.50")
    expect(page.get_by_text(ZH("desk.balance", amount="¥5.50"))).to_be_visible()
    expect(page.get_by_label(ZH("desk.pay_amount"))).to_have_value("5.50")
    librarian.shot(page, "desk-19-fee")
    page.get_by_role("button", name=ZH("desk.pay_submit")).click()
    expect(outcome(page)).to_have_attribute("data-outcome", "ok")
    expect(outcome(page)).to_contain_text(ZH("desk.paid", amount="¥5.50"))
    expect(outcome(page)).to_contain_text(ZH("desk.still_owes", amount="¥0.00"))
    expect(page.get_by_text(ZH("desk.no_fees"))).to_be_visible()
    expect(scan_box(page)).to_be_focused()
    librarian.shot(page, "desk-20-paid")

    scan(page, "P000014")
    expect(loan_row(page, "P000014")).to_have_count(1)
    title = title_in(loan_row(page, "P000014"))

    with librarian.context.expect_page() as opened:
        page.get_by_role("link", name=ZH("desk.receipt")).click()
    receipt = opened.value
    slip = receipt.locator(".slip")
    expect(receipt.get_by_role("heading", level=1)).to_have_text(ZH("slips.receipt"))
    for seen in (PRIMARY, reader, "R100005", title, "P000014", ZH("slips.today")):
        expect(slip).to_contain_text(seen)
    librarian.shot(receipt, "desk-21-receipt")

    for number, (paper, name_id, width_mm) in enumerate(PAPERS, start=22):
        receipt.emulate_media(media="screen")
        receipt.set_viewport_size(DESK)
        receipt.get_by_role("link", name=ZH(name_id), exact=True).click()
        expect(receipt).to_have_url(re.compile(rf"[?&]paper={paper}\b"))
        expect(receipt.get_by_role("link", name=ZH(name_id), exact=True)).to_have_attribute("aria-current", "true")
        # In print, the slip alone, as wide as the paper.
        receipt.emulate_media(media="print")
        expect(receipt.get_by_role("button", name=ZH("slips.print"))).to_be_hidden()
        expect(receipt.locator("header")).to_be_hidden()
        expect(slip).to_contain_text(title)
        receipt.set_viewport_size({"width": round(width_mm / 25.4 * 96), "height": 900})
        librarian.shot(receipt, f"desk-{number}-receipt-{paper}-print")
        pdf = receipt.pdf(prefer_css_page_size=True, print_background=True)
        (librarian.folder / f"desk-{number}-receipt-{paper}.pdf").write_bytes(pdf)
        width = pdf_page_width_mm(pdf)
        assert abs(width - width_mm) <= 1, f"the {paper} receipt prints {width:.1f} mm wide"
    receipt.close()


def test_e_english_and_a_reader_of_another_school(desk_lectern, desk_people):
    """The header's English button turns the desk into English; a card of
    the middle school is refused at the primary school's desk, whether a
    reader is being served or not."""
    librarian = desk_people(DESK)
    page = librarian.context.new_page()
    sign_in(librarian, page, "librarian")
    go_to(page, "nav.desk")

    page.locator("header").get_by_role("button", name=EN("language.en")).click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page).to_have_title(f"{EN('desk.title')} – {EN('app.name')}")
    expect(page.get_by_label(EN("desk.scan_label"))).to_be_focused()
    expect(desk_bar(page, EN).get_by_role("link", name=EN("nav.desk"), exact=True)).to_have_attribute(
        "aria-current", "page"
    )
    expect(page.get_by_text(EN("desk.empty"))).to_be_visible()

    scan(page, "R100012")
    expect(reader_heading(page)).to_have_text(demo_reader_name("R100012"))
    expect(page.get_by_text(EN("desk.may_borrow"))).to_be_visible()
    expect(page.get_by_text(EN("desk.no_loans"))).to_be_visible()
    expect(page.get_by_role("link", name=EN("desk.receipt"))).to_be_visible()
    librarian.shot(page, "desk-25-english")

    # At an empty desk.
    page.get_by_role("link", name=EN("desk.next_reader")).click()
    expect(page.get_by_text(EN("desk.empty"))).to_be_visible()
    scan(page, "R200001")
    expect(page.get_by_role("alert")).to_contain_text(EN("reason.SCHOOL_NOT_ALLOWED"))
    expect(reader_heading(page)).to_have_count(0)
    expect(scan_box(page)).to_be_focused()
    librarian.shot(page, "desk-26-other-school-english")

    # The next reader in the queue, while one is still being served.
    scan(page, "R100012")
    expect(reader_heading(page)).to_have_text(demo_reader_name("R100012"))
    mark_answer(page)
    scan(page, "R200001")
    expect(new_answer(page)).to_have_count(1)
    librarian.shot(page, "desk-27-other-school-next-reader-english")
    expect(page.get_by_text(demo_reader_name("R200001"))).to_have_count(0)
    expect(
        page.get_by_role("alert"),
        "another school's card scanned while a reader is served must be refused as another school's",
    ).to_contain_text(EN("reason.SCHOOL_NOT_ALLOWED"))

    page.locator("header").get_by_role("button", name=ZH("language.zh-CN")).click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.get_by_label(ZH("desk.scan_label"))).to_be_visible()


def test_f_the_server_stops_mid_scan(desk_lectern, desk_people):
    """Lectern stops while a reader is at the desk: the books scanned
    meanwhile wait on screen, and once it runs again each is lent once."""
    librarian = desk_people(DESK)
    # Every send while Lectern is down fails to connect, on purpose.
    librarian.console.allow(r"net::ERR_CONNECTION_REFUSED")
    page = librarian.context.new_page()
    sign_in(librarian, page, "librarian")
    go_to(page, "nav.desk")
    scan(page, "R100013")
    expect(reader_heading(page)).to_have_text(demo_reader_name("R100013"))

    desk_lectern.stop()
    scan(page, "P000015")
    expect(page.get_by_text(ZH("connection.offline"))).to_be_visible()
    scan(page, "P000017")
    waiting = page.get_by_role("list", name=ZH("desk.pending"))
    expect(waiting.get_by_role("listitem")).to_have_text(["P000015", "P000017"])
    # The box still takes what is typed, and Esc still clears it.
    expect(scan_box(page)).to_be_focused()
    expect(scan_box(page)).to_be_editable()
    page.keyboard.type("R1000")
    expect(scan_box(page)).to_have_value("R1000")
    page.keyboard.press("Escape")
    expect(scan_box(page)).to_have_value("")
    librarian.shot(page, "desk-28-server-stopped")

    desk_lectern.start()
    expect(loan_row(page, "P000015")).to_have_count(1, timeout=COMEBACK_MS)
    expect(loan_row(page, "P000017")).to_have_count(1, timeout=COMEBACK_MS)
    expect(waiting).to_be_hidden()
    expect(loans(page)).to_have_count(2)
    expect(scan_box(page)).to_be_focused()
    assert_one_loan_each(desk_lectern, "R100013", ["P000015", "P000017"])
    librarian.shot(page, "desk-29-server-back")
    # And it says so: what was kept has been sent.
    expect(page.locator("#connection")).to_have_text(ZH("connection.back"))


def test_g_the_session_ends_in_another_tab(desk_lectern, desk_people):
    """Signed out in another tab while a book is scanned: the desk says so,
    keeps the book, and lends it once after signing in again."""
    librarian = desk_people(DESK)
    # The desk's send without a session answers 401, on purpose.
    librarian.console.allow(r"status of 401")
    librarian.console.allow(r"status of 403")
    desk = librarian.context.new_page()
    sign_in(librarian, desk, "librarian")
    go_to(desk, "nav.desk")
    scan(desk, "R100014")
    expect(reader_heading(desk)).to_have_text(demo_reader_name("R100014"))

    other = librarian.context.new_page()
    other.goto("/")
    other.locator("header").get_by_role("button", name=ZH("layout.signout")).click()
    expect(other.locator(".notice-success")).to_contain_text(ZH("signin.signed_out"))

    desk.bring_to_front()
    scan(desk, "P000018")
    ended = desk.locator("#connection")
    expect(ended).to_contain_text(ZH("desk.session_ended"))
    expect(ended.get_by_role("link", name=ZH("desk.sign_in_again"))).to_be_visible()
    expect(desk.get_by_role("list", name=ZH("desk.pending")).get_by_role("listitem")).to_have_text(["P000018"])
    expect(loan_row(desk, "P000018")).to_have_count(0)
    librarian.shot(desk, "desk-30-session-ended")

    sign_in(librarian, other, "librarian")
    # The kept scan is sent once the session is back.
    expect(desk.get_by_role("list", name=ZH("desk.pending"))).to_be_hidden(timeout=COMEBACK_MS)
    librarian.shot(desk, "desk-31-session-back")
    expect(reader_heading(desk), "the desk keeps the reader it served").to_have_text(demo_reader_name("R100014"))
    expect(loan_row(desk, "P000018"), "the kept book is lent once signed in again").to_have_count(1)
    assert_one_loan_each(desk_lectern, "R100014", ["P000018"])


def test_h_the_desk_fits_a_laptop_and_a_tablet(desk_lectern, desk_people):
    """The desk with a reader (loans, an overdue book, a block) at
    1366×768 and on a 10-inch tablet held upright: nothing wider than the
    screen."""
    for name, viewport in (("desk-32-laptop-1366", DESK), ("desk-33-tablet-800", TABLET)):
        librarian = desk_people(viewport)
        page = librarian.context.new_page()
        sign_in(librarian, page, "librarian")
        go_to(page, "nav.desk")
        scan(page, "R100001")
        expect(reader_heading(page)).to_have_text(demo_reader_name("R100001"))
        expect(loans(page).first).to_be_visible()
        overflow = page.evaluate("document.scrollingElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{viewport['width']} px wide: the desk is {overflow} px wider than the screen"
        librarian.shot(page, name)


def test_i_a_librarian_of_two_schools_chooses_where_she_stands(desk_lectern, desk_people):
    """The district librarian works for both schools: after signing in she
    is asked which school's library she is at; the bar shows it on every
    screen, this browser remembers it, and she can change it. A book comes
    back where she stands: the primary school's book returned at the middle
    school goes into the transit box, and scanned at home it has arrived."""
    token = librarian_token(desk_lectern)
    assert AWAY_BOOK in [loan["copyBarcode"] for loan in reader_loans(desk_lectern, token, AWAY_READER)]
    librarian = desk_people(DESK)
    page = librarian.context.new_page()
    sign_in(librarian, page, "district librarian")

    # First the question, one button per school; no desk screen before it.
    expect(page).to_have_url(re.compile(r"/school\?next="))
    expect(page.get_by_role("heading", level=1)).to_have_text(ZH("school.title"))
    expect(page.get_by_text(ZH("school.intro"))).to_be_visible()
    choices = page.locator("form[action='/school']").get_by_role("button")
    expect(choices).to_have_count(2)
    expect(choices.filter(has_text=PRIMARY)).to_have_count(1)
    expect(choices.filter(has_text=MIDDLE)).to_have_count(1)
    expect(page.get_by_text(ZH("school.remembered"))).to_be_visible()
    librarian.shot(page, "desk-34-choose-school")

    page.get_by_role("button", name=MIDDLE, exact=True).click()
    expect(page).to_have_url(desk_lectern.url("/"))
    where = page.locator(".desk-where")
    expect(where).to_contain_text(ZH("nav.at") + MIDDLE)
    expect(where.get_by_role("link", name=ZH("nav.change_school"))).to_be_visible()
    librarian.shot(page, "desk-35-at-the-middle-school")

    # Remembered in this browser for a long time, not for the session only.
    remembered = next(c for c in librarian.context.cookies() if c["name"].endswith("lectern_desk_school"))
    assert remembered["httpOnly"], remembered
    assert remembered["expires"] > time.time() + 300 * 24 * 3600, f"remembered only briefly: {remembered}"
    # A new page load, in a new tab, opens at the same school without asking.
    again = librarian.context.new_page()
    again.goto("/returns")
    expect(again).to_have_url(desk_lectern.url("/returns"))
    expect(again.locator(".desk-where")).to_contain_text(ZH("nav.at") + MIDDLE)
    again.close()

    # A pupil of the primary school returns her book at the middle school:
    # the book goes back to its school.
    go_to(page, "nav.returns")
    answers = page.locator("#returns-list > li")
    scan(page, AWAY_BOOK)
    expect(answers).to_have_count(1)
    expect(answers.first).to_have_class(re.compile(r"\breturn-transit\b"))
    expect(answers.first).to_contain_text(ZH("returns.to_transit", school=PRIMARY))
    expect(scan_box(page)).to_be_focused()
    librarian.shot(page, "desk-36-transit-home")

    # Back at the primary school the next morning: changed in the bar.
    where.get_by_role("link", name=ZH("nav.change_school")).click()
    expect(page).to_have_url(re.compile(r"/school"))
    current = page.get_by_role("button", name=MIDDLE, exact=True)
    expect(current).to_have_attribute("aria-current", "true")
    librarian.shot(page, "desk-37-change-school")
    page.get_by_role("button", name=PRIMARY, exact=True).click()
    expect(page.locator(".desk-where")).to_contain_text(ZH("nav.at") + PRIMARY)
    page.reload()
    expect(page.locator(".desk-where")).to_contain_text(ZH("nav.at") + PRIMARY)

    # The book arrives home: scanned at the returns, it goes to the shelf.
    go_to(page, "nav.returns")
    scan(page, AWAY_BOOK)
    arrived = page.locator("#returns-list > li").first
    expect(arrived).to_contain_text(ZH("returns.received", school=MIDDLE))
    expect(arrived).to_contain_text(ZH("returns.to_shelf"))
    expect(arrived).not_to_have_class(re.compile(r"\breturn-transit\b"))
    librarian.shot(page, "desk-38-arrived-home")
    assert AWAY_BOOK not in [loan["copyBarcode"] for loan in reader_loans(desk_lectern, token, AWAY_READER)]


HOLDS = "lectern.circulation.v1.HoldService"
CHECK_IN = "lectern.circulation.v1.LoanService/CheckIn"


def test_j_readers_and_the_lists_for_homeroom_teachers(desk_lectern, desk_people):
    """A reader found by part of her name and her record opened for editing;
    the school's overdue books, one class's printed for its homeroom
    teacher; the hold shelf with a book waiting for its reader."""
    librarian = desk_people(DESK)
    page = librarian.context.new_page()
    sign_in(librarian, page, "librarian")
    overdue_reader = demo_reader_name("R100001")

    go_to(page, "nav.readers")
    expect(page.get_by_label(ZH("readers.list.search"))).to_be_focused()
    page.keyboard.type(overdue_reader[0])
    page.keyboard.press("Enter")
    found = page.locator("table.readers-table tbody tr").filter(has_text="R100001")
    expect(found).to_contain_text(overdue_reader)
    expect(found).to_contain_text("三年级(1)班")
    librarian.shot(page, "desk-42-readers")

    found.get_by_role("link", name=overdue_reader).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(overdue_reader)
    page.get_by_role("link", name=ZH("readers.page.edit")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(ZH("readers.edit.title"))
    expect(page.get_by_label(ZH("readers.name"), exact=True)).to_have_value(overdue_reader)
    librarian.shot(page, "desk-43-reader-edit")

    # The school's overdue books; then one class's, printed one page for its teacher.
    go_to(page, "nav.lists")
    page.get_by_role("link", name=ZH("lists.overdue.title"), exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(ZH("lists.overdue.title"))
    overdue_row = page.locator("tr").filter(has_text="P000001")
    expect(overdue_row).to_contain_text(overdue_reader)
    expect(overdue_row).to_contain_text(re.compile(r"\d+ 天"))
    librarian.shot(page, "desk-44-overdue")

    page.get_by_label(ZH("lists.class"), exact=True).select_option(label="三年级(1)班")
    page.get_by_role("button", name=ZH("lists.show"), exact=True).click()
    expect(page.locator("tr").filter(has_text="P000001")).to_have_count(1)
    page.get_by_role("link", name=ZH("lists.overdue.by_homeroom")).click()
    expect(page).to_have_url(re.compile(r"/lists/homeroom\?kind=overdue&class="))
    page.emulate_media(media="print")
    expect(page.locator("header").first).to_be_hidden()
    expect(page.get_by_text(ZH("lists.homeroom.overdue_note"))).to_be_visible()
    expect(page.locator("tr").filter(has_text="P000001")).to_contain_text(overdue_reader)
    page.set_viewport_size({"width": round(210 / 25.4 * 96), "height": round(297 / 25.4 * 96)})
    librarian.shot(page, "desk-45-homeroom-print")
    page.emulate_media(media="screen")
    page.set_viewport_size(DESK)

    # A book waiting on the hold shelf: a hold on a copy out on loan, then
    # the copy checked in (through the API, as the desk would).
    token = librarian_token(desk_lectern)
    assert SHELF_BOOK in [loan["copyBarcode"] for loan in reader_loans(desk_lectern, token, "R100006")]
    waiting = demo_reader_name(SHELF_READER)
    desk_lectern.call(
        f"{HOLDS}/PlaceHold",
        {"readerCardBarcode": SHELF_READER, "copyBarcode": SHELF_BOOK, "requestId": str(uuid.uuid4())},
        token,
    )
    back = desk_lectern.call(CHECK_IN, {"copyBarcode": SHELF_BOOK, "requestId": str(uuid.uuid4())}, token)
    assert back.get("route") == "CHECK_IN_ROUTE_HOLD_SHELF", back
    go_to(page, "nav.lists")
    page.get_by_role("link", name=ZH("lists.hold_shelf.title"), exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(ZH("lists.hold_shelf.title"))
    shelf_row = page.locator("tr").filter(has_text=SHELF_BOOK)
    expect(shelf_row).to_contain_text(waiting)
    librarian.shot(page, "desk-46-hold-shelf")
