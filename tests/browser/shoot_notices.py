"""Screenshots of the desk's reminder pages (提醒) for the librarians' guide
(docs/guide/zh-CN.md and en.md, section 提醒 / Reminders), taken in Chromium
on the demo district with a local mail sink. A script, not a test: pytest
does not collect it.

How to take them again, from the repository's root, on a fresh demo:

    .venv/bin/pip install -q aiosmtpd==1.4.6
    .venv/bin/python -u -m aiosmtpd -n -l 127.0.0.1:2599 > /tmp/mail.log 2>&1 &
    cargo build --bin lectern
    rm -rf /tmp/notices-demo
    LECTERN_SMTP_URL='smtp://127.0.0.1:2599?tls=none' LECTERN_SMTP_FROM=library@example.cn \\
      LECTERN_REMINDER_INTERVAL_MS=86400000 \\
      target/debug/lectern up --demo --listen 127.0.0.1:50560 --http-listen 127.0.0.1:8560 \\
      --data-dir /tmp/notices-demo > /tmp/lectern.log 2>&1 &
    # wait for "Press Ctrl-C to stop." in /tmp/lectern.log (about a minute), then
    .venv/bin/python tests/browser/shoot_notices.py --banner /tmp/lectern.log --mail-log /tmp/mail.log
    # and stop both: kill -INT <lectern's pid>; kill <the sink's pid>

LECTERN_REMINDER_INTERVAL_MS keeps Lectern's own reminder pass (every five
minutes by default) from sending the day's reminders before the script
shows them as "今天要发的提醒" and presses "现在发送"; the demo must not have
sent them yet. `aiosmtpd -n` prints every message it receives; `-u`
(unbuffered) lets the script read the List-Unsubscribe link from it.

What it does, as the demo's librarian (xh-librarian, 徐汇区实验小学) in a
Chinese browser, then the district admin, then a parent: the reminder page
before sending; the settings (untouched: the recommended ones); when the
school's clock is in the quiet hours (21:00–07:30) it sets them to none, so
that e-mails go out now, not in the morning; "现在发送" and the log once the
mails have gone; the texts, overdue_1 in Chinese with "预览"; the report; the
homeroom lists; the channels page and a test e-mail (admin); the
unsubscribe page from a received mail, before and after its button (no
sign-in); the log in English. The pictures go to docs/screenshots/notices/.

Options: --url (default http://127.0.0.1:8560), --out, --chromium.
"""

import argparse
import datetime
import email
import email.policy
import re
import sys
import time
from pathlib import Path
from zoneinfo import ZoneInfo

from playwright.sync_api import expect, sync_playwright

REPO = Path(__file__).resolve().parents[2]
VIEWPORT = {"width": 1366, "height": 768}
SCHOOL = "徐汇区实验小学"
SCHOOL_ZONE = ZoneInfo("Asia/Shanghai")
# The recommended quiet hours (services/notification/src/settings.rs).
QUIET_START = datetime.time(21, 0)
QUIET_END = datetime.time(7, 30)
TEST_MAIL_TO = "it-teacher@example.cn"
MAIL_WAIT_SECS = 90

expect.set_options(timeout=15_000)


def accounts(banner_path):
    """{banner label: (username, password)} from `lectern up --demo`'s banner."""
    text = Path(banner_path).read_text(errors="replace")
    assert "Press Ctrl-C to stop." in text, f"lectern up is not ready yet ({banner_path})"
    found = {}
    for label in ("admin sign-in", "librarian"):
        match = re.search(rf"^\s*{label}:\s+(\S+) / (\S+)", text, re.M)
        assert match, f"no '{label}' sign-in in {banner_path}"
        found[label] = (match.group(1), match.group(2))
    return found


def messages(mail_log):
    """The messages `aiosmtpd -n` printed, parsed."""
    text = Path(mail_log).read_text(errors="replace")
    found = []
    for raw in re.findall(r"-+ MESSAGE FOLLOWS -+\n(.*?)\n-+ END MESSAGE -+", text, re.S):
        if raw.startswith(("mail options:", "rcpt options:")):
            raw = raw.split("\n\n", 1)[-1]
        found.append(email.message_from_string(raw, policy=email.policy.default))
    return found


def unsubscribe_link(mail_log, addresses):
    """The http(s):// address in the List-Unsubscribe header of the first
    reminder received by one of `addresses` (a parent's: the homeroom
    teacher gets reminders too, and a test mail has no such header)."""
    for message in messages(mail_log):
        header = message.get("List-Unsubscribe")
        if header and str(message["To"]).strip() in addresses:
            match = re.search(r"<(https?://[^>]+)>", str(header).replace("\n", "").replace(" ", ""))
            if match:
                return match.group(1), message
    return None, None


def in_quiet_hours(now):
    moment = now.time()
    return moment >= QUIET_START or moment < QUIET_END


class Camera:
    def __init__(self, folder):
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    def shot(self, page, name):
        path = self.folder / f"{name}.png"
        page.screenshot(path=path, type="png", full_page=True)
        print(f"  {path.relative_to(REPO) if path.is_relative_to(REPO) else path}")


def new_page(browser, base_url):
    # A Chinese teacher's (or parent's) browser: it asks for Chinese first.
    context = browser.new_context(
        viewport=VIEWPORT, locale="zh-CN", timezone_id="Asia/Shanghai", base_url=base_url
    )
    return context, context.new_page()


def sign_in(page, username, password):
    page.goto("/signin")
    staff = page.locator("form[action='/signin/staff']")
    staff.get_by_label("用户名").fill(username)
    staff.get_by_label("密码").fill(password)
    staff.get_by_role("button", name="工作人员登录").click()
    expect(page).not_to_have_url(re.compile(r"/signin"))
    expect(page.locator("header").get_by_role("button", name="退出登录")).to_be_visible()


def choose_school(page):
    """Stands at the primary school's desk if Lectern asks which school."""
    if "/school" in page.url:
        page.get_by_role("button", name=SCHOOL).first.click()
        expect(page).not_to_have_url(re.compile(r"/school"))


def librarian(browser, base_url, account, camera):
    context, page = new_page(browser, base_url)
    sign_in(page, *account)
    choose_school(page)

    # 1. The reminder page before anything went out: what is due today.
    page.get_by_role("navigation", name="图书馆服务台").get_by_role("link", name="提醒", exact=True).click()
    expect(page.get_by_role("heading", name="今天要发的提醒")).to_be_visible()
    send_now = page.get_by_role("button", name="现在发送")
    expect(send_now, "nothing due: was the demo's day sent already?").to_be_visible()
    camera.shot(page, "01-notices-due-today")

    # 3. The settings, as the demo has them (the recommended ones).
    page.get_by_role("link", name="提醒设置").first.click()
    expect(page.get_by_role("heading", name="提醒设置", level=1)).to_be_visible()
    camera.shot(page, "03-settings")

    now = datetime.datetime.now(SCHOOL_ZONE)
    if in_quiet_hours(now):
        print(f"  {now:%H:%M} at the school is in the quiet hours: none for today's shots")
        page.get_by_label("安静时段从几点开始").fill("00:00")
        page.get_by_label("到几点结束").fill("00:00")
        page.get_by_role("button", name="保存设置").click()
        expect(page.get_by_text("提醒设置已保存。")).to_be_visible()

    # 2. "现在发送", then the log once every message has gone.
    page.goto("/notices")
    page.get_by_role("button", name="现在发送").click()
    expect(page.get_by_text(re.compile(r"已经交给发送：\d+ 条消息"))).to_be_visible()
    deadline = time.monotonic() + MAIL_WAIT_SECS
    while True:
        states = page.locator("table.notices-log .notices-state").all_inner_texts()
        waiting = [state for state in states if "等待发送" in state]
        if states and not waiting:
            break
        assert time.monotonic() < deadline, f"still waiting after {MAIL_WAIT_SECS} s: {states}"
        time.sleep(3)
        page.reload()
    expect(page.locator("table.notices-log")).to_contain_text("站内信")
    expect(page.locator("table.notices-log")).to_contain_text("邮件")
    camera.shot(page, "02-log-sent")
    parents = set(
        page.locator("table.notices-log tbody tr")
        .filter(has_text="家长 · 邮件")
        .locator(".notices-address")
        .all_inner_texts()
    )
    assert parents, "no reminder e-mail to a parent in the log"

    # 4. The texts, and overdue_1 in Chinese with its preview.
    page.get_by_role("link", name="提醒文字").first.click()
    expect(page.get_by_role("heading", name="提醒文字", level=1)).to_be_visible()
    camera.shot(page, "04-texts")
    page.locator("a[href='/notices/templates/overdue_1/zh-CN']").click()
    expect(page.get_by_role("heading", name=re.compile("逾期第一次提醒"), level=1)).to_be_visible()
    page.get_by_role("button", name="预览").click()
    preview = page.locator("section.notices-preview")
    expect(preview).to_be_visible()
    camera.shot(page, "05-text-preview")

    # 6. The report.
    page.goto("/notices")
    page.get_by_role("link", name="发送统计").first.click()
    expect(page.get_by_role("heading", name="发送统计", level=1)).to_be_visible()
    camera.shot(page, "06-report")

    # 7. The homeroom lists, from the reminder page's link.
    page.goto("/notices")
    page.get_by_role("link", name="按班级打印逾期清单").click()
    expect(page.locator("section.lists-homeroom").first).to_be_visible()
    camera.shot(page, "07-homeroom-overdue")

    # 12. The log in English, through the header's language switch.
    page.goto("/notices")
    page.locator("header").get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("table.notices-log")).to_be_visible()
    camera.shot(page, "12-log-en")
    context.close()
    return parents


def admin(browser, base_url, account, camera):
    context, page = new_page(browser, base_url)
    sign_in(page, *account)
    choose_school(page)
    page.goto("/notices")
    choose_school(page)
    page.get_by_role("link", name="发送渠道").click()
    expect(page.get_by_role("heading", name="发送渠道", level=1)).to_be_visible()
    camera.shot(page, "08-channels")
    form = page.locator("form[action='/notices/channels/test']")
    form.get_by_label("用哪所学校的发件人").select_option(label=SCHOOL)
    form.get_by_label("发到哪个邮件地址").fill(TEST_MAIL_TO)
    form.get_by_role("button", name="发送测试邮件").click()
    expect(page.get_by_text("邮件服务器已经收下了测试邮件")).to_be_visible()
    camera.shot(page, "09-channels-test-sent")
    context.close()


def parent(browser, base_url, camera, mail_log, addresses):
    deadline = time.monotonic() + MAIL_WAIT_SECS
    link, message = unsubscribe_link(mail_log, addresses)
    while not link:
        assert time.monotonic() < deadline, f"no reminder with List-Unsubscribe in {mail_log}"
        time.sleep(2)
        link, message = unsubscribe_link(mail_log, addresses)
    print(f"  from the mail to {message['To']}: {message['Subject']}")
    path = link.split("://", 1)[1].split("/", 1)[1]
    context, page = new_page(browser, base_url)
    page.goto("/" + path)
    expect(page.get_by_role("button", name="停止接收")).to_be_visible()
    camera.shot(page, "10-unsubscribe")
    page.get_by_role("button", name="停止接收").click()
    expect(page.get_by_role("status")).to_contain_text("已停止")
    camera.shot(page, "11-unsubscribed")
    context.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--banner", required=True, help="the output of `lectern up --demo` (its banner)")
    parser.add_argument("--mail-log", required=True, help="the output of `aiosmtpd -n`")
    parser.add_argument("--url", default="http://127.0.0.1:8560")
    parser.add_argument("--out", default=str(REPO / "docs" / "screenshots" / "notices"))
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    options = parser.parse_args()
    signins = accounts(options.banner)
    camera = Camera(Path(options.out))
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=options.chromium, headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        print("librarian:")
        parents = librarian(browser, options.url, signins["librarian"], camera)
        print("district admin:")
        admin(browser, options.url, signins["admin sign-in"], camera)
        print("parent:")
        parent(browser, options.url, camera, options.mail_log, parents)
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
