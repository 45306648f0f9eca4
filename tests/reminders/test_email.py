"""Overdue reminders by e-mail from `lectern up --demo`, read back from a
real SMTP server: what a parent's mail program shows (From with the
school's sender name, Reply-To, a Chinese subject, Message-ID, the
unsubscribe headers), the zh and en bodies naming the books, one message
for a parent of two, the unsubscribe link followed in a browser's way,
and a relay that refuses ("451 try again later") and then accepts.

The tests of this module run in order on one `lectern up --demo` per
backend (see conftest.py); each uses demo readers no other test touches.
"""

import html
import os
import re
import subprocess
import urllib.parse

import pytest
import requests

from conftest import (
    SMTP_FROM,
    add_contact,
    demo_reader,
    eventually,
    lectern_binary,
    lend_overdue,
    prefer,
    primary_copies,
)

ZH_CARD = "R100041"
EN_CARD = "R100042"
TWINS = ("R100043", "R100044")
REFUSED_CARD = "R100045"
TWINS_PARENT = "twins.parent@family.example.cn"


def guardian_email(card):
    """The demo's guardian address of a reader (src/demo/data.rs)."""
    return f"guardian.{card.lower()}@family.example.cn"


class World:
    """What the first test set up for the later ones, per backend."""

    loans = {}
    readers = {}


@pytest.fixture(scope="session")
def world(lectern):
    world = World()
    world.loans = {}
    world.readers = {}
    world.school = lectern.school("XH-PRI")
    copies = iter(range(2, 400, 3))
    for card, language in [(ZH_CARD, "zh-CN"), (EN_CARD, "en"), (TWINS[0], "zh-CN"), (TWINS[1], "zh-CN")]:
        reader = demo_reader(lectern, card)
        world.readers[card] = reader
        prefer(lectern, reader, ["NOTIFICATION_CHANNEL_EMAIL", "NOTIFICATION_CHANNEL_IN_APP"], language)
        if card in TWINS:
            add_contact(lectern, reader, "CONTACT_WHO_GUARDIAN", "CONTACT_CHANNEL_EMAIL", TWINS_PARENT)
        world.loans[card] = lend_overdue(lectern, card, primary_copies(next(copies)))
    return world


def due_now(lectern, school_id):
    answer = lectern.reminders("SendDueReminders", {"schoolId": school_id, "dryRun": True})
    return answer.get("reminders", [])


def wait_until_listed(lectern, world, loans):
    """The check-outs' events reach notification through circulation's
    outbox: wait until the dry run lists every one of `loans`."""
    wanted = {loan["id"] for loan in loans}
    return eventually(
        lambda: (lambda due: due if wanted <= {r["subjectId"] for r in due} else None)(
            due_now(lectern, world.school["id"])
        ),
        "the new loans to be due",
    )


def test_the_dry_run_lists_what_is_due_and_sends_nothing(lectern, world, smtp):
    recorder, _ = smtp
    before = len(recorder.all())
    due = wait_until_listed(lectern, world, world.loans.values())
    mine = {reminder["subjectId"]: reminder for reminder in due}
    zh = mine[world.loans[ZH_CARD]["id"]]
    assert zh["trigger"] == "TRIGGER_OVERDUE_1"
    assert zh["readerName"] == world.readers[ZH_CARD]["name"]
    assert zh["title"] == world.loans[ZH_CARD]["title"]
    planned = {(m.get("recipient"), m.get("channel"), m.get("address")) for m in zh["messages"]}
    assert ("RECIPIENT_GUARDIAN", "CHANNEL_EMAIL", guardian_email(ZH_CARD)) in planned, planned
    assert ("RECIPIENT_READER", "CHANNEL_IN_APP", None) in {(r, c, a or None) for r, c, a in planned}
    # The demo's own guardians: some get e-mail without the tests' help.
    demo_loans = [r for r in due if r["subjectId"] not in {loan["id"] for loan in world.loans.values()}]
    made = lectern.deliveries(world.school["id"], state="DELIVERY_STATE_SENT") + lectern.deliveries(
        world.school["id"], state="DELIVERY_STATE_PENDING"
    )
    demo_email = [m for r in demo_loans for m in r["messages"] if m.get("channel") == "CHANNEL_EMAIL"] + [
        d for d in made if d.get("channel") == "CHANNEL_EMAIL"
    ]
    assert demo_email, "the demo district should e-mail some guardians of its overdue readers"
    # Nothing went out, nothing was made.
    answer = lectern.reminders("SendDueReminders", {"schoolId": world.school["id"], "dryRun": True})
    assert answer.get("deliveriesQueued", 0) == 0
    assert len(recorder.all()) == before
    assert not [d for d in lectern.deliveries(world.school["id"]) if d.get("subjectId") in mine]


def test_the_cli_prints_what_is_due(lectern, world, tmp_path):
    env = dict(
        os.environ,
        LECTERN_SESSION_FILE=str(tmp_path / "session.json"),
        LECTERN_PASSWORD=lectern.accounts["admin sign-in"][1],
    )
    binary = str(lectern_binary())
    signed_in = subprocess.run(
        [binary, "login", "-u", "admin", "--server", lectern.grpc_url],
        env=env, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
    )
    assert signed_in.returncode == 0, signed_in.stderr
    shown = subprocess.run(
        [binary, "notices", "send-due", "--school", "XH-PRI", "--dry-run"],
        env=env, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
    )
    assert shown.returncode == 0, shown.stderr
    for card in (ZH_CARD, EN_CARD):
        assert world.readers[card]["name"] in shown.stdout, shown.stdout
        assert world.loans[card]["title"] in shown.stdout, shown.stdout


def test_overdue_reminders_arrive_in_chinese_and_english(lectern, world, smtp):
    recorder, _ = smtp
    answer = lectern.reminders("SendDueReminders", {"schoolId": world.school["id"]})
    assert answer.get("deliveriesQueued", 0) >= 4, answer
    addresses = [guardian_email(ZH_CARD), guardian_email(EN_CARD), TWINS_PARENT]
    eventually(lambda: all(recorder.to(address) for address in addresses), "the mails")

    [zh] = recorder.to(guardian_email(ZH_CARD))
    reader = world.readers[ZH_CARD]
    title = world.loans[ZH_CARD]["title"]
    assert zh.header("From") == f"徐汇区实验小学图书馆 <{SMTP_FROM}>", zh.header("From")
    assert zh.header("Reply-To") == "library@xh-pri.example.cn"
    assert zh.header("To") == guardian_email(ZH_CARD)
    subject = zh.header("Subject")
    assert "徐汇区实验小学" in subject and reader["name"] in subject and "逾期" in subject, subject
    assert "=?utf-8?" in zh.raw.decode("ascii", "replace").lower(), "the subject is UTF-8 encoded"
    assert zh.header("Message-ID", ).startswith("<") and "@" in zh.header("Message-ID")
    assert zh.header("List-Unsubscribe-Post") == "List-Unsubscribe=One-Click"
    link = zh.unsubscribe_link()
    assert link.startswith(f"{lectern.base_url}/unsubscribe?token="), link
    body = zh.text()
    assert title in body and reader["name"] in body, body
    assert link in body, "the body carries the unsubscribe link too"
    assert "逾期" in body

    [en] = recorder.to(guardian_email(EN_CARD))
    body = en.text()
    assert world.loans[EN_CARD]["title"] in body and "overdue" in body.lower(), body
    assert "逾期" not in body, "an English reader's guardian reads English"
    assert "overdue" in en.header("Subject").lower()

    # The delivery log says the same: sent, with the Message-ID.
    sent = {
        d["address"]: d
        for d in lectern.deliveries(world.school["id"], state="DELIVERY_STATE_SENT")
        if d.get("channel") == "CHANNEL_EMAIL"
    }
    assert sent[guardian_email(ZH_CARD)]["providerId"].strip("<>") == zh.header("Message-ID").strip("<>")
    # The inbox has it at once, in the reader's language.
    notices = lectern.call(
        "lectern.notification.v1.NotificationService/ListNotices", {"readerId": reader["id"]}
    ).get("notices", [])
    assert any(n.get("kind") == "NOTICE_KIND_OVERDUE" and n.get("loanId") == world.loans[ZH_CARD]["id"] for n in notices)


def test_a_parent_of_two_gets_one_mail_listing_both(lectern, world, smtp):
    recorder, _ = smtp
    mails = recorder.to(TWINS_PARENT)
    assert len(mails) == 1, [mail.header("Subject") for mail in mails]
    body = mails[0].text()
    for card in TWINS:
        assert world.readers[card]["name"] in body, body
        assert world.loans[card]["title"] in body, body
    both = [
        d for d in lectern.deliveries(world.school["id"]) if d.get("address") == TWINS_PARENT
    ]
    assert len(both) == 2 and len({d["messageId"] for d in both}) == 1, both
    # Each child's own guardian address still got their own message.
    for card in TWINS:
        assert len(recorder.to(guardian_email(card))) == 1


def test_the_unsubscribe_link_stops_mail_to_that_address(lectern, world, smtp):
    recorder, _ = smtp
    [mail] = recorder.to(guardian_email(ZH_CARD))
    link = mail.unsubscribe_link()
    browser = requests.Session()
    page = browser.get(link, timeout=30)
    assert page.status_code == 200, page.text
    assert "text/html" in page.headers["Content-Type"]
    assert "g***@family.example.cn" in page.text or "***" in page.text, "the page says which address, hidden"
    # The page's button posts its form (with its CSRF token, as a browser would).
    forms = re.findall(r'<form[^>]*action="(/unsubscribe[^"]*)"[^>]*>(.*?)</form>', page.text, re.S | re.I)
    assert len(forms) == 1, page.text
    action, inputs = forms[0]
    fields = dict(re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', inputs))
    done = browser.post(urllib.parse.urljoin(link, html.unescape(action)), data=fields, timeout=30)
    assert done.status_code == 200, done.text
    assert "***@family.example.cn" in done.text
    # A mail program's one-click POST (RFC 8058) works too, without a page.
    again = requests.post(link, data="List-Unsubscribe=One-Click", headers={"Content-Type": "application/x-www-form-urlencoded"}, timeout=30)
    assert again.status_code in (200, 204), again.text

    # The next reminder for that child: the inbox has it, that address gets nothing.
    reader = world.readers[ZH_CARD]
    loan = lend_overdue(lectern, ZH_CARD, primary_copies(200))
    wait_until_listed(lectern, world, [loan])
    lectern.reminders("SendDueReminders", {"schoolId": world.school["id"]})
    made = eventually(
        lambda: [d for d in lectern.deliveries(world.school["id"]) if d.get("subjectId") == loan["id"]
                 and d.get("channel") == "CHANNEL_IN_APP" and d.get("state") == "DELIVERY_STATE_SENT"],
        "the inbox notice of the new loan",
    )
    assert made
    to_that_address = [
        d for d in lectern.deliveries(world.school["id"])
        if d.get("subjectId") == loan["id"] and d.get("address") == guardian_email(ZH_CARD)
        and d.get("state") != "DELIVERY_STATE_CANCELLED"
    ]
    assert not to_that_address, to_that_address
    assert len(recorder.to(guardian_email(ZH_CARD))) == 1, "no further mail after unsubscribing"


def test_a_refusing_relay_fails_the_delivery_and_a_resend_gets_it_through(lectern, world, smtp):
    recorder, _ = smtp
    reader = demo_reader(lectern, REFUSED_CARD)
    prefer(lectern, reader, ["NOTIFICATION_CHANNEL_EMAIL", "NOTIFICATION_CHANNEL_IN_APP"], "zh-CN")
    loan = lend_overdue(lectern, REFUSED_CARD, primary_copies(300))
    wait_until_listed(lectern, world, [loan])
    address = guardian_email(REFUSED_CARD)
    recorder.refuse_next(1)
    lectern.reminders("SendDueReminders", {"schoolId": world.school["id"]})

    def mail_delivery(state):
        found = [
            d for d in lectern.deliveries(world.school["id"])
            if d.get("subjectId") == loan["id"] and d.get("address") == address and d.get("state") == state
        ]
        return found[0] if found else None

    failed = eventually(lambda: mail_delivery("DELIVERY_STATE_FAILED"), "the refused delivery to fail")
    assert recorder.refused and address in recorder.refused[-1]
    assert "451" in failed.get("lastError", ""), failed
    assert address not in failed.get("lastError", ""), "the error names no address"
    assert failed.get("attempts") == 1 and failed.get("nextAttemptTime"), failed
    assert not recorder.to(address)

    librarian = lectern.sign_in("librarian")
    resent = lectern.reminders("ResendDelivery", {"deliveryId": failed["id"]}, token=librarian)
    assert resent["id"] == failed["id"]
    sent = eventually(lambda: mail_delivery("DELIVERY_STATE_SENT"), "the resent delivery")
    assert sent.get("attempts") == 2, sent
    [mail] = recorder.to(address)
    assert loan["title"] in mail.text()
    # A sent delivery is not sent again.
    refused = lectern.post(f"lectern.notification.v1.ReminderService/ResendDelivery", {"deliveryId": sent["id"]}, librarian)
    assert refused.status_code == 400 or refused.status_code == 409 or refused.status_code == 412, refused.text
    assert "DELIVERY_NOT_RESENDABLE" in refused.text
