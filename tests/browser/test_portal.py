"""The reader portal on a phone (390×844, touch, WeChat's in-app browser's
user agent) against `lectern up --demo` with WeChat sign-in pointed at the
Python stand-in for code2session, once on SQLite and once on PostgreSQL.

A child signs in with card and PIN (a wrong PIN first), finds a book and
places a hold, renews a loan, reads the notices, the history with its
rule, the reading report, changes the reminders and signs out. The same
child's session tries another reader's loan, hold, reader and binding by
their ids and is refused each time, with nothing changed. A mother opens
the portal from the mini-program (`/portal/wechat?code=ok-…`), binds her
first child with the child's PIN, then the second with a binding code the
librarian printed at the desk, and switches between them; the librarian
then sees both WeChat bindings on the reader page and removes one.

Screenshots `portal-NN-what.png` go to portal-sqlite/ and portal-postgres/
under the screenshots folder; docs/screenshots/portal/ holds the SQLite
run's. Every word asserted comes from the message catalogue.

From the demo (src/demo): readers R1000xx at 徐汇区实验小学, PIN = the
card's last four digits; R100005 borrowed a book an hour ago; R100001's
loan is long overdue; R100002 and R100003 are one mother's children
(guardian e-mail ren.mama@example.cn, guardian phones 139 + the card's
digits padded to eight).
"""

import re

import pytest
from conftest import DESKTOP, DemoLectern, Texts, new_phone, new_visitor
from lectern_process import PostgresDatabases, database_server_url
from playwright.sync_api import expect

ZH = Texts("zh-CN")
EN = Texts("en")
SUMMARY = "lectern.circulation.v1.LoanService/GetReaderSummary"
CHILD, CHILD_PIN = "R100005", "0005"
NEIGHBOUR, NEIGHBOUR_PIN = "R100006", "0006"
OVERDUE_READER = "R100001"
FIRST_CHILD, SECOND_CHILD = "R100002", "R100003"
MOTHER_EMAIL = "ren.mama@example.cn"
SECOND_CHILD_PHONE = "139 0010 0003"  # typed with spaces: compared by digits
BOOK = "草房子"
# Home, perhaps with what just happened (`?done=…`).
HOME = re.compile(r"/portal(\?[^/]*)?$")


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def portal_lectern(request, tmp_path_factory, wechat_standin):
    """`lectern up --demo` whose gateway asks the stand-in for code2session."""
    backend = request.param
    database = None
    if backend == "postgres":
        database = PostgresDatabases(database_server_url(), "lectern_portal", "portal")
        database.check_reachable()
    workdir = tmp_path_factory.mktemp(f"lectern-portal-{backend}")
    server = DemoLectern(backend, workdir, database, env=wechat_standin.env())
    try:
        server.start()
        yield server
    finally:
        try:
            if server.running():
                server.stop()
        finally:
            if database:
                database.drop()


@pytest.fixture
def people(browser, portal_lectern, screenshots):
    """Opens phones (`people()`) or a desk (`people(desk=True)`), with the
    screenshots in a folder per backend; checks the consoles at the end."""
    folder = screenshots / f"portal-{portal_lectern.backend}"
    folder.mkdir(parents=True, exist_ok=True)
    opened = []

    def person(desk=False):
        if desk:
            visitor = new_visitor(browser, portal_lectern, folder, DESKTOP)
        else:
            visitor = new_phone(browser, portal_lectern, folder)
        opened.append(visitor)
        return visitor

    yield person
    errors = []
    for visitor in opened:
        visitor.context.close()
        errors += visitor.console.errors()
    assert not errors, "console errors:\n" + "\n".join(errors)


# ---- what the portal shows ---------------------------------------------------


def done(page):
    return page.locator(".portal-done")


def refusal(page):
    return page.locator(".portal-refusal")


def heading(page):
    return page.get_by_role("heading", level=1)


def sign_out_button(page):
    return page.locator("#portal-signout")


def sign_in(page, card, pin):
    page.goto("/portal/signin")
    page.get_by_label(ZH("portal.signin.card"), exact=True).fill(card)
    page.get_by_label(ZH("portal.signin.pin"), exact=True).fill(pin)
    page.get_by_role("button", name=ZH("portal.signin.submit"), exact=True).click()


def post_form(page, path, fields):
    """POSTs a form from the page as a browser would (the page's CSRF token
    and the session cookie); the response."""
    csrf = page.locator('meta[name="csrf-token"]').get_attribute("content")
    return page.request.post(path, form={"csrf": csrf, **fields}, max_redirects=0)


def summary(lectern, card):
    token = lectern.staff_token(*lectern.sign_in("librarian"))
    return lectern.call(SUMMARY, {"readerCardBarcode": card}, token)


def assert_phone_sized(page):
    """Nothing wider than the phone: no sideways scrolling."""
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], f"page {width} px wide on a {page.viewport_size['width']} px phone"


# ---- a child with card and PIN -------------------------------------------------


def test_a_child_signs_in_with_card_and_pin_and_uses_the_portal(portal_lectern, people):
    child = people()
    page = child.context.new_page()
    page.goto("/portal")
    expect(page).to_have_url(re.compile(r"/portal/signin"))
    expect(heading(page)).to_have_text(ZH("portal.signin.title"))
    child.shot(page, "portal-01-signin")

    child.console.allow(r"status of 401 .*/portal/signin")
    sign_in(page, CHILD, "9999")
    expect(refusal(page)).to_be_visible()
    expect(refusal(page)).to_contain_text(ZH("portal.signin.invalid"))
    child.shot(page, "portal-02-wrong-pin")

    sign_in(page, CHILD, CHILD_PIN)
    expect(page).to_have_url(HOME)
    expect(heading(page)).to_have_text(ZH("portal.home.title"))
    name = summary(portal_lectern, CHILD)["reader"]["name"]
    expect(page.locator(".portal-reader")).to_contain_text(name)
    expect(sign_out_button(page)).to_have_text(ZH("portal.signout"))
    expect(page.locator("#portal-loans [data-loan-id]")).to_have_count(1)
    expect(page.locator("#portal-switcher")).to_have_count(0)
    assert_phone_sized(page)
    child.shot(page, "portal-03-home")

    # Find a book and hold it.
    page.locator("#portal-search").fill(BOOK)
    page.locator("#portal-search").press("Enter")
    expect(page).to_have_url(re.compile(r"/portal/search\?q="))
    hit = page.locator("#portal-results [data-title-id]").filter(has_text=BOOK).first
    expect(hit).to_be_visible()
    child.shot(page, "portal-04-search")
    hit.get_by_role("link", name=BOOK).click()
    expect(heading(page)).to_have_text(BOOK)
    page.get_by_role("button", name=ZH("portal.book.hold"), exact=True).click()
    expect(done(page)).to_contain_text(ZH("portal.holds.placed", title=BOOK))
    child.shot(page, "portal-05-held")
    page.goto("/portal/holds")
    expect(heading(page)).to_have_text(ZH("portal.holds.title"))
    expect(page.locator("#portal-holds [data-hold-id]").filter(has_text=BOOK)).to_have_count(1)

    # Renew the book borrowed today.
    page.goto("/portal/loans")
    expect(heading(page)).to_have_text(ZH("portal.loans.title"))
    row = page.locator("#portal-loans [data-loan-id]").first
    title = row.locator(".portal-row-title").inner_text().strip()
    row.get_by_role("button", name=ZH("portal.loans.renew"), exact=True).click()
    expect(done(page)).to_contain_text(f"《{title}》")
    expect(row).to_contain_text(ZH("portal.loans.renewed_times", times=1))
    child.shot(page, "portal-06-renewed")

    page.goto("/portal/notices")
    expect(heading(page)).to_have_text(ZH("portal.notices.title"))
    expect(page.locator("#portal-notices .portal-row").first).to_be_visible()
    child.shot(page, "portal-07-notices")

    page.goto("/portal/history")
    expect(heading(page)).to_have_text(ZH("portal.history.title"))
    rules = [ZH("portal.history.rule_keep"), ZH("portal.history.rule_never")]
    rule = page.locator("#portal-history-rule").inner_text()
    assert rule in rules or "天以后" in rule, rule
    child.shot(page, "portal-08-history")

    page.goto("/portal/report")
    expect(heading(page)).to_have_text(ZH("portal.report.title"))
    child.shot(page, "portal-09-report")

    page.goto("/portal/preferences")
    expect(heading(page)).to_have_text(ZH("portal.preferences.title"))
    email = page.locator("#channel_email")
    wanted = not email.is_checked()
    email.set_checked(wanted)
    page.get_by_role("button", name=ZH("portal.preferences.submit"), exact=True).click()
    expect(done(page)).to_contain_text(ZH("portal.preferences.saved"))
    expect(page.locator("#channel_email")).to_be_checked(checked=wanted)
    child.shot(page, "portal-10-preferences")

    # The same screens in English.
    page.goto("/portal")
    page.get_by_role("button", name=EN("language.en")).click()
    expect(heading(page)).to_have_text(EN("portal.home.title"))
    expect(sign_out_button(page)).to_have_text(EN("portal.signout"))
    child.shot(page, "portal-11-home-en")
    page.get_by_role("button", name=ZH("language.zh-CN")).click()
    expect(heading(page)).to_have_text(ZH("portal.home.title"))

    sign_out_button(page).click()
    expect(page).to_have_url(re.compile(r"/portal/signin"))
    expect(page.get_by_text(ZH("portal.signin.signed_out"))).to_be_visible()
    page.goto("/portal/loans")
    expect(page).to_have_url(re.compile(r"/portal/signin"))
    child.shot(page, "portal-12-signed-out")

    # Every page names the reader and their school.
    sign_in(page, CHILD, CHILD_PIN)
    expect(page.locator(".portal-reader")).to_contain_text("徐汇区实验小学")


def test_another_readers_ids_are_refused_and_nothing_changes(portal_lectern, people):
    # A neighbour holds a book, so that there is a hold of someone else's.
    neighbour = people()
    theirs = neighbour.context.new_page()
    sign_in(theirs, NEIGHBOUR, NEIGHBOUR_PIN)
    theirs.goto(f"/portal/search?q={BOOK}")
    theirs.locator("#portal-results [data-title-id]").filter(has_text=BOOK).first.get_by_role("link").click()
    theirs.get_by_role("button", name=ZH("portal.book.hold"), exact=True).click()
    expect(done(theirs)).to_be_visible()
    theirs.goto("/portal/holds")
    their_hold = theirs.locator("#portal-holds [data-hold-id]").first.get_attribute("data-hold-id")

    overdue = summary(portal_lectern, OVERDUE_READER)
    their_loan = overdue["loans"][0]

    child = people()
    page = child.context.new_page()
    sign_in(page, CHILD, CHILD_PIN)
    expect(heading(page)).to_have_text(ZH("portal.home.title"))
    tries = {
        f"/portal/loans/{their_loan['id']}/renew": {},
        f"/portal/holds/{their_hold}/cancel": {},
        "/portal/family/switch": {"reader_id": overdue["reader"]["id"]},
        f"/portal/bindings/{their_hold}/remove": {},
    }
    for path, fields in tries.items():
        answer = post_form(page, path, fields)
        assert 400 <= answer.status < 500, f"{path}: {answer.status}"
        assert overdue["reader"]["name"] not in answer.text(), path
    for path in [f"/portal/titles/{their_hold}", "/portal/titles/no-such-title"]:
        answer = page.request.get(path)
        assert answer.status == 404 or answer.status == 400, f"{path}: {answer.status}"

    # Nothing changed: their loan due as before, their hold still there.
    after = summary(portal_lectern, OVERDUE_READER)["loans"][0]
    assert after["dueDate"] == their_loan["dueDate"]
    theirs.goto("/portal/holds")
    expect(theirs.locator(f'#portal-holds [data-hold-id="{their_hold}"]')).to_have_count(1)
    page.goto("/portal")
    expect(page.locator(".portal-reader")).to_contain_text(summary(portal_lectern, CHILD)["reader"]["name"])


# ---- a mother with two children, through WeChat ----------------------------------


def librarian_prints_a_binding_code(librarian, page, reader_id):
    """The librarian opens the reader page and prints a binding code: the
    code on the slip."""
    page.goto(f"/readers/{reader_id}")
    section = page.locator("#bindings")
    expect(section.get_by_role("heading", name=ZH("readers.binding.title"))).to_be_visible()
    expect(section).to_contain_text(ZH("readers.binding.none"))
    section.get_by_role("button", name=ZH("readers.binding.print_code"), exact=True).click()
    expect(heading(page)).to_have_text(ZH("readers.binding_code.title"))
    code = page.locator("#binding-code").inner_text()
    assert re.fullmatch(r"\d{4} \d{4}", code), code
    expect(page.locator(".binding-slip")).to_contain_text(ZH("readers.binding_code.step_contact"))
    librarian.shot(page, "portal-20-binding-code-slip")
    return code.replace(" ", "")


def test_a_mother_binds_two_children_and_switches_between_them(portal_lectern, people):
    first = summary(portal_lectern, FIRST_CHILD)["reader"]
    second = summary(portal_lectern, SECOND_CHILD)["reader"]

    librarian = people(desk=True)
    desk = librarian.context.new_page()
    librarian.sign_in_staff(desk, *portal_lectern.sign_in("librarian"))
    code = librarian_prints_a_binding_code(librarian, desk, second["id"])

    mother = people()
    mother.console.allow(r"status of 40[0-9] .*/portal/(wechat|bind)")
    page = mother.context.new_page()
    # A code WeChat does not accept: a refusal in plain words.
    page.goto("/portal/wechat?code=bad")
    expect(refusal(page)).to_contain_text(ZH("reason.WECHAT_CODE_INVALID"))

    # From the mini-program: no child bound yet, so the bind form.
    page.goto("/portal/wechat?code=ok-ren-mama")
    expect(heading(page)).to_have_text(ZH("portal.bind.title"))
    mother.shot(page, "portal-21-bind")
    page.get_by_label(ZH("portal.bind.card"), exact=True).fill(FIRST_CHILD)
    page.get_by_label(ZH("portal.bind.relation_guardian")).check()
    page.get_by_label(ZH("portal.bind.guardian_contact"), exact=True).fill(MOTHER_EMAIL.upper())
    page.get_by_label(ZH("portal.bind.pin"), exact=True).fill(FIRST_CHILD[-4:])
    page.get_by_role("button", name=ZH("portal.bind.submit"), exact=True).click()
    expect(page).to_have_url(HOME)
    expect(done(page)).to_contain_text(ZH("portal.done.bound"))
    expect(page.locator(".portal-reader")).to_contain_text(first["name"])
    mother.shot(page, "portal-22-first-child")

    # The second child, with the librarian's code; a wrong contact first.
    page.goto("/portal/family")
    page.get_by_role("link", name=ZH("portal.family.add")).click()
    expect(heading(page)).to_have_text(ZH("portal.bind.title_adding"))
    page.get_by_label(ZH("portal.bind.card"), exact=True).fill(SECOND_CHILD)
    page.get_by_label(ZH("portal.bind.relation_guardian")).check()
    page.get_by_label(ZH("portal.bind.guardian_contact"), exact=True).fill("13800000000")
    page.get_by_label(ZH("portal.bind.or_code"), exact=True).fill(code)
    page.get_by_role("button", name=ZH("portal.bind.submit"), exact=True).click()
    expect(refusal(page)).to_contain_text(ZH("reason.GUARDIAN_CONTACT_MISMATCH"))
    mother.shot(page, "portal-23-contact-mismatch")
    page.get_by_label(ZH("portal.bind.guardian_contact"), exact=True).fill(SECOND_CHILD_PHONE)
    page.get_by_label(ZH("portal.bind.or_code"), exact=True).fill(code)
    page.get_by_role("button", name=ZH("portal.bind.submit"), exact=True).click()
    expect(done(page)).to_contain_text(ZH("portal.done.bound"))
    expect(page.locator(".portal-reader")).to_contain_text(second["name"])
    page.goto("/portal")

    # Two children: the switcher, the current one marked.
    switcher = page.locator("#portal-switcher")
    expect(switcher).to_be_visible()
    expect(switcher.locator(f'[data-reader-id="{second["id"]}"][aria-current="true"]')).to_have_count(1)
    mother.shot(page, "portal-24-switcher")
    switcher.get_by_role("button", name=ZH("portal.home.switch_to", name=first["name"])).click()
    expect(done(page)).to_contain_text(ZH("portal.done.switched"))
    expect(page.locator(".portal-reader")).to_contain_text(first["name"])
    first_loans = summary(portal_lectern, FIRST_CHILD)["loans"]
    expect(page.locator("#portal-loans [data-loan-id]")).to_have_count(len(first_loans))
    mother.shot(page, "portal-25-switched")

    page.goto("/portal/family")
    expect(page.locator("#portal-family [data-reader-id]")).to_have_count(2)
    mother.shot(page, "portal-26-family")

    # Another child cannot remove the mother's binding, nor switch to hers.
    action = page.locator('#portal-family form[action$="/remove"]').first.get_attribute("action")
    stranger = people()
    other = stranger.context.new_page()
    sign_in(other, CHILD, CHILD_PIN)
    expect(heading(other)).to_have_text(ZH("portal.home.title"))
    for path, fields in [(action, {}), ("/portal/family/switch", {"reader_id": first["id"]})]:
        answer = post_form(other, path, fields)
        assert 400 <= answer.status < 500, f"{path}: {answer.status}"
        assert first["name"] not in answer.text(), path
    page.reload()
    expect(page.locator("#portal-family [data-reader-id]")).to_have_count(2)

    # The used code does not work twice.
    assert_code_used(portal_lectern, code)

    # At the desk: the mother's binding of the second child, by code, with
    # no WeChat id on screen; the librarian removes it.
    desk.goto(f"/readers/{second['id']}")
    bindings = desk.locator("#bindings [data-binding-id]")
    expect(bindings).to_have_count(1)
    expect(bindings.first).to_contain_text(ZH("readers.binding.by_code"))
    expect(bindings.first).to_contain_text(ZH("readers.binding.guardian"))
    expect(desk.locator("#bindings")).not_to_contain_text("o-ren-mama")
    librarian.shot(desk, "portal-27-desk-bindings")
    bindings.first.get_by_role("button", name=ZH("readers.binding.remove")).click()
    expect(desk.locator(".notice")).to_contain_text(ZH("readers.done.binding_removed"))
    expect(desk.locator("#bindings [data-binding-id]")).to_have_count(0)

    # The mother's phone: one child left; opening from WeChat signs straight in.
    page.goto("/portal/wechat?code=ok-ren-mama")
    expect(page).to_have_url(HOME)
    expect(page.locator(".portal-reader")).to_contain_text(first["name"])
    expect(page.locator("#portal-switcher")).to_have_count(0)
    page.goto("/portal/family")
    expect(page.locator("#portal-family [data-reader-id]")).to_have_count(1)
    sign_out_button(page).click()
    expect(page).to_have_url(re.compile(r"/portal/signin"))


def assert_code_used(lectern, code):
    """A printed code binds once: another WeChat user cannot use it again."""
    answer = lectern.api(
        "lectern.gateway.v1.GatewayService/WechatSignIn", {"code": "ok-someone-else"}
    )
    assert answer[0] == 200, answer
    ticket = answer[1].get("bindingTicket")
    assert ticket, answer
    status, body = lectern.api(
        "lectern.reader.v1.FamilyService/BindReader",
        {
            "bindingTicket": ticket,
            "cardBarcode": SECOND_CHILD,
            "bindingCode": code,
            "relation": "BINDING_RELATION_GUARDIAN",
            "guardianContact": MOTHER_EMAIL,
        },
    )
    assert 400 <= status < 500, (status, body)
