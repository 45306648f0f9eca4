"""Overdue reminders over the district's signed webhook (its SMS bridge)
from `lectern up --demo`: the JSON body, the HMAC-SHA256 signature over
"{timestamp}.{body}" checked by the bridge, and a bridge that fails
(HTTP 500) before it takes the message again on a resend.
"""

import pytest

from conftest import demo_reader, eventually, lend_overdue, prefer, primary_copies

SMS_CARD = "R100046"


def guardian_phone(lectern, reader):
    contacts = lectern.call(
        "lectern.reader.v1.ReaderProfileService/ListReaderContacts", {"readerId": reader["id"]}
    )["contacts"]
    return next(c["value"] for c in contacts if c["channel"] == "CONTACT_CHANNEL_PHONE")


@pytest.fixture(scope="session")
def sms_reader(lectern):
    reader = demo_reader(lectern, SMS_CARD)
    prefer(lectern, reader, ["NOTIFICATION_CHANNEL_SMS", "NOTIFICATION_CHANNEL_IN_APP"], "zh-CN")
    return reader


def test_the_bridge_gets_a_signed_message_after_failing_once(lectern, bridge, sms_reader):
    state, _ = bridge
    school = lectern.school("XH-PRI")
    phone = guardian_phone(lectern, sms_reader)
    loan = lend_overdue(lectern, SMS_CARD, primary_copies(250))
    eventually(
        lambda: loan["id"]
        in {r["subjectId"] for r in lectern.reminders("SendDueReminders", {"schoolId": school["id"], "dryRun": True}).get("reminders", [])},
        "the loan to be due",
    )
    state.fail_next(1)
    lectern.reminders("SendDueReminders", {"schoolId": school["id"]})

    def webhook_delivery(wanted):
        found = [
            d for d in lectern.deliveries(school["id"])
            if d.get("subjectId") == loan["id"] and d.get("channel") == "CHANNEL_WEBHOOK"
            and d.get("state") == wanted
        ]
        return found[0] if found else None

    failed = eventually(lambda: webhook_delivery("DELIVERY_STATE_FAILED"), "the bridge's 500 to fail it")
    assert "500" in failed.get("lastError", ""), failed
    assert phone not in failed.get("lastError", "")
    assert failed["address"] == phone and failed["recipient"] == "RECIPIENT_GUARDIAN"

    resent = lectern.reminders("ResendDelivery", {"deliveryId": failed["id"]})
    assert resent["id"] == failed["id"]
    sent = eventually(lambda: webhook_delivery("DELIVERY_STATE_SENT"), "the resend to reach the bridge")
    calls = [call for call in state.all() if (call["body"] or {}).get("id") == failed["id"]]
    assert [call["status"] for call in calls] == [500, 200], calls
    assert all(call["signed"] and call["fresh"] for call in calls), "every call is signed, with a fresh timestamp"
    assert sent.get("providerId", "").startswith("bridge-"), sent
    body = calls[-1]["body"]
    assert body["school_id"] == school["id"]
    assert body["trigger"] == "overdue_1"
    assert body["channel"] == "sms"
    assert body["to"] == phone
    assert body["language"] == "zh-CN"
    assert sms_reader["name"] in body["subject"] + body["body"]
    assert loan["title"] in body["body"]
    assert [item["title"] for item in body["items"]] == [loan["title"]]
    assert body["items"][0]["due_date"] == loan["dueDate"]


def test_a_forged_signature_would_be_refused(bridge):
    """The bridge really checks: a body signed with another secret fails."""
    state, _ = bridge
    assert state.record({"X-Lectern-Timestamp": "1", "X-Lectern-Signature": "sha256=00"}, b"{}") == 401
    state.calls.pop()
