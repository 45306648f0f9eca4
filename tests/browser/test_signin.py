"""Signing in, in a real browser: the first admin's forced password change,
the language switch, signing out, a refused password, a reader's card and
PIN, two tabs renewing one session at once, the CSRF guard of the JSON API,
the keyboard alone, and what the sign-in page weighs.

Staff land on the start page once signed in (their school's day, or the
page that says what to do first); "my account" is at /account, and is the
start page of readers.

Each step leaves a screenshot, named by step, for the guide.
"""

import re
import time

import pytest
from playwright.sync_api import expect

WHOAMI_ZH = "我的账号"
TODAY_ZH = "今天的图书馆"
SIGNIN_ZH = "登录"
WHOAMI_API = "/api/lectern.gateway.v1.GatewayService/WhoAmI"

# Two POSTs to WhoAmI at once, with or without the page's CSRF token: the
# statuses and bodies, in order.
PARALLEL_FETCH = """async ({path, count, withToken}) => {
  const token = document.querySelector('meta[name=csrf-token]').content;
  const headers = {'Content-Type': 'application/json'};
  if (withToken) { headers['X-CSRF-Token'] = token; }
  const calls = Array.from({length: count}, () =>
    fetch(path, {method: 'POST', headers, body: '{}'})
      .then(async (r) => ({status: r.status, body: await r.json()})));
  return Promise.all(calls);
}"""


def staff_form(page):
    return page.locator("form[action='/signin/staff']")


def sign_in_to_account(visitor, page, username, password):
    """Signs in from "my account", as a bookmark to it would."""
    visitor.sign_in_staff(page, username, password, next_path="/account")
    expect(page).to_have_url(visitor.lectern.url("/account"))
    expect(page.locator("h1")).to_have_text(WHOAMI_ZH)


def test_a_first_admin_changes_the_one_time_password(visitor, lectern):
    assert not lectern.admin_password_changed, "this test must run first, on a new data directory"
    # A refused form comes back as 400 or 422, which Chromium logs.
    visitor.console.allow(r"status of 4(00|22) .*/password\)$")
    page = visitor.context.new_page()

    # A new visitor to the start page is asked to sign in, in Chinese.
    page.goto("/")
    expect(page).to_have_url(lectern.url("/signin"))
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.locator("h1")).to_have_text(SIGNIN_ZH)
    expect(page.get_by_role("heading", name="工作人员登录")).to_be_visible()
    expect(page.get_by_role("heading", name="读者登录")).to_be_visible()
    visitor.shot(page, "01-signin-zh")

    # The one-time password leads to the password page, and nowhere else.
    staff_form(page).get_by_label("用户名").fill("admin")
    staff_form(page).get_by_label("密码").fill(lectern.admin_password)
    staff_form(page).get_by_role("button", name="工作人员登录").click()
    expect(page).to_have_url(lectern.url("/password"))
    expect(page.locator("h1")).to_have_text("修改密码")
    expect(page.locator(".lead")).to_contain_text("第一次登录")
    page.goto("/")
    expect(page).to_have_url(lectern.url("/password"))
    visitor.shot(page, "02-password-forced")

    def submit(current, new, again):
        page.get_by_label("现在的密码").fill(current)
        page.get_by_label("新密码", exact=True).fill(new)
        page.get_by_label("再输入一次新密码").fill(again)
        page.get_by_role("button", name="保存新密码").click()

    # Two different new passwords: the summary at the top, the message at
    # the field, and the focus on one of them.
    submit(lectern.admin_password, "图书馆的书都很好看", "图书馆的书都很好看!")
    mismatch = "两次输入的新密码不一样。请把三个密码框都重新填写一遍。"
    summary = page.locator(".error-summary")
    expect(summary).to_be_visible()
    expect(summary.get_by_role("heading")).to_have_text("出现了问题")
    expect(summary.get_by_role("link", name=mismatch)).to_have_attribute("href", "#new_password")
    expect(page.locator("#new_password-error")).to_contain_text(mismatch)
    expect(page.locator("#new_password")).to_have_attribute("aria-invalid", "true")
    focused = page.evaluate("document.activeElement.id || document.activeElement.className")
    assert focused in ("new_password", "error-summary"), focused
    visitor.shot(page, "03-password-mismatch")

    # Too short: the service's reason, next to the new password.
    submit(lectern.admin_password, "短密码123", "短密码123")
    too_weak = "新密码不符合要求：要有 10 到 200 个字符。请换一个再试。"
    expect(page.locator("#new_password-error")).to_contain_text(too_weak)
    expect(page.locator(".error-summary")).to_contain_text(too_weak)
    focused = page.evaluate("document.activeElement.id || document.activeElement.className")
    assert focused in ("new_password", "error-summary"), focused
    visitor.shot(page, "04-password-too-short")

    # A good one: the start page, signed in, with the success notice.
    new_password = "读书破万卷 lectern 2024"
    submit(lectern.admin_password, new_password, new_password)
    lectern.admin_password = new_password
    lectern.admin_password_changed = True
    expect(page).not_to_have_url(re.compile(r"/(signin|password)"))
    expect(
        page.locator("header").get_by_role("button", name="退出登录"),
        "the new session from the password change must be kept, not signed out",
    ).to_be_visible()
    visitor.shot(page, "05-password-changed")
    expect(
        page.locator(".notice-success"), "the start page must say the password was changed"
    ).to_contain_text("密码已经改好了")
    page.goto("/account")
    expect(page.locator("h1")).to_have_text(WHOAMI_ZH)
    summary_list = page.locator(".summary-list")
    expect(summary_list).to_contain_text("admin")
    expect(summary_list).to_contain_text("工作人员")
    expect(summary_list).to_contain_text("学区管理员")


def test_b_language_switch_is_remembered(visitor, admin_password):
    page = visitor.context.new_page()
    sign_in_to_account(visitor, page, "admin", admin_password)
    expect(page.locator(".summary-list")).to_contain_text("学区管理员")
    visitor.shot(page, "06-whoami-admin-zh")

    page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("h1")).to_have_text("My account")
    expect(page.locator(".summary-list")).to_contain_text("District administrator")
    assert visitor.cookie("lectern_lang") == "en"
    visitor.shot(page, "07-whoami-admin-en")

    page.reload()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("h1")).to_have_text("My account")

    page.get_by_role("button", name="中文").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.locator("h1")).to_have_text(WHOAMI_ZH)
    assert visitor.cookie("lectern_lang") == "zh-CN"


def test_c_sign_out(visitor, lectern, admin_password):
    page = visitor.context.new_page()
    sign_in_to_account(visitor, page, "admin", admin_password)
    assert visitor.session_cookie()

    page.locator("main").get_by_role("button", name="退出登录").click()
    expect(page.locator("h1")).to_have_text(SIGNIN_ZH)
    expect(page.locator(".notice-success")).to_contain_text("你已经退出登录了。")
    assert visitor.session_cookie() is None
    visitor.shot(page, "08-signed-out")

    page.goto("/")
    expect(page).to_have_url(lectern.url("/signin"))
    expect(page.locator("h1")).to_have_text(SIGNIN_ZH)


def test_d_wrong_password_is_refused(phone_visitor, lectern, admin_password):
    visitor = phone_visitor
    # The refused sign-in page comes back as 401, which Chromium logs.
    visitor.console.allow(r"status of 401")
    page = visitor.context.new_page()
    page.goto("/signin")
    staff_form(page).get_by_label("用户名").fill("admin")
    staff_form(page).get_by_label("密码").fill("not the password")
    staff_form(page).get_by_role("button", name="工作人员登录").click()

    refusal = "用户名或密码不对。请检查后再试一次。"
    expect(page.locator("#password-error")).to_contain_text(refusal)
    expect(page.locator("#password")).to_have_attribute("aria-invalid", "true")
    expect(staff_form(page).get_by_label("用户名")).to_have_value("admin")
    assert visitor.session_cookie() is None
    visitor.shot(page, "09-signin-refused-phone")


def test_e_reader_signs_in_with_card_and_pin(visitor, lectern, admin_password):
    token = lectern.staff_token("admin", admin_password)
    school = lectern.call(
        "lectern.reader.v1.ReaderService/CreateSchool",
        {"code": "dongcheng-1", "name": "东城第一小学"},
        token,
    )
    reader = lectern.call(
        "lectern.reader.v1.ReaderService/CreateReader",
        {"schoolId": school["id"], "cardBarcode": "S0001", "name": "王小明", "category": "student"},
        token,
    )
    lectern.call("lectern.reader.v1.ReaderService/SetReaderPin", {"readerId": reader["id"], "pin": "2468"}, token)

    page = visitor.context.new_page()
    page.goto("/signin")
    form = page.locator("form[action='/signin/reader']")
    form.get_by_label("借书证号").fill("S0001")
    form.get_by_label("PIN 密码").fill("2468")
    form.get_by_role("button", name="读者登录").click()

    expect(page.locator("h1")).to_have_text(WHOAMI_ZH)
    summary_list = page.locator(".summary-list")
    expect(summary_list).to_contain_text("王小明")
    expect(summary_list).to_contain_text("读者")
    visitor.shot(page, "10-whoami-reader")


def test_f_two_tabs_renew_one_session_together(visitor, lectern, admin_password):
    first = visitor.context.new_page()
    sign_in_to_account(visitor, first, "admin", admin_password)
    second = visitor.context.new_page()
    second.goto("/account")
    expect(second.locator("h1")).to_have_text(WHOAMI_ZH)

    cookies_seen = {visitor.session_cookie()}
    for _ in range(5):
        # Both tabs reload at the same instant of the browser's clock, so
        # their requests carry the same refresh token and cross on the way.
        at = time.time() * 1000 + 150
        reload_at = "at => setTimeout(() => location.reload(), Math.max(0, at - Date.now()))"
        with first.expect_navigation(), second.expect_navigation():
            first.evaluate(reload_at, at)
            second.evaluate(reload_at, at)
        for page in (first, second):
            expect(page).to_have_url(lectern.url("/account"))
            expect(page.locator("h1")).to_have_text(WHOAMI_ZH)
        cookies_seen.add(visitor.session_cookie())
    # Every request renewed the session (the margin covers the whole token).
    assert len(cookies_seen) >= 5, "the session was not renewed on each round"

    answers = first.evaluate(PARALLEL_FETCH, {"path": WHOAMI_API, "count": 2, "withToken": True})
    assert [answer["status"] for answer in answers] == [200, 200], answers

    for page in (first, second):
        page.reload()
        expect(page.locator("h1")).to_have_text(WHOAMI_ZH)


def test_g_api_call_without_csrf_token_is_refused(visitor, admin_password):
    visitor.console.allow(r"status of 403")
    page = visitor.context.new_page()
    visitor.sign_in_staff(page, "admin", admin_password)
    [answer] = page.evaluate(PARALLEL_FETCH, {"path": WHOAMI_API, "count": 1, "withToken": False})
    assert answer["status"] == 403, answer
    assert answer["body"].get("reason") == "CSRF_TOKEN_INVALID", answer
    # With the token the same call goes through.
    [answer] = page.evaluate(PARALLEL_FETCH, {"path": WHOAMI_API, "count": 1, "withToken": True})
    assert answer["status"] == 200, answer


def test_h_keyboard_only_sign_in(visitor, lectern, admin_password):
    page = visitor.context.new_page()
    page.goto("/signin")
    # The username box has the focus as the page opens: a scanner or a
    # typist starts at once.
    expect(page.locator("#username")).to_be_focused()
    page.keyboard.type("admin")
    page.keyboard.press("Tab")
    expect(page.locator("#password")).to_be_focused()
    page.keyboard.type(admin_password)
    visitor.shot(page, "11-signin-keyboard")
    page.keyboard.press("Enter")
    # The district has one school by now (test_e made it): the district
    # admin lands on its day, no school to choose.
    expect(page).to_have_url(lectern.url("/"))
    expect(page.locator("h1")).to_have_text(TODAY_ZH)
    expect(page.get_by_role("navigation", name="图书馆服务台")).to_contain_text("东城第一小学")
    visitor.shot(page, "12-today-after-sign-in")
    page.goto("/account")
    expect(page.locator(".summary-list")).to_contain_text("学区管理员")


def test_i_sign_in_page_weight(visitor):
    page = visitor.context.new_page()
    responses = []
    page.on("response", lambda response: responses.append(response))
    page.goto("/signin", wait_until="load")
    weighed = {}
    for response in responses:
        kind = response.request.resource_type
        if kind not in ("document", "stylesheet", "script"):
            continue
        sizes = response.request.sizes()
        transferred = sizes["responseBodySize"] + sizes["responseHeadersSize"]
        weighed[response.url] = (kind, transferred, len(response.body()))
    kinds = sorted(kind for kind, _, _ in weighed.values())
    assert kinds == ["document", "script", "stylesheet"], weighed
    total = sum(transferred for _, transferred, _ in weighed.values())
    bodies = sum(body for _, _, body in weighed.values())
    for url, (kind, transferred, body) in weighed.items():
        print(f"  {kind:10} {transferred:6} B transferred, {body:6} B body  {url}")
    print(f"sign-in page weight: {total} B transferred ({total / 1024:.1f} KB), {bodies} B of bodies")
    assert total < 50 * 1024
    assert bodies < 50 * 1024


@pytest.mark.parametrize("path", ["/", "/account", "/password", "/desk"])
def test_pages_behind_sign_in_send_a_new_visitor_to_sign_in(visitor, lectern, path):
    page = visitor.context.new_page()
    response = page.goto(path)
    assert response.ok
    assert page.url.startswith(lectern.url("/signin")), page.url
    expect(page.locator("h1")).to_have_text(SIGNIN_ZH)
