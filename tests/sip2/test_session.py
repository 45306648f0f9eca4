"""A whole self-check session driven by the PyPI `sip2` client, as a
machine at the primary school's library door runs one: login, status,
a child's card and PIN, a book's details, a check-out, a refused second
check-out, a renewal, a hold placed meanwhile by the librarian, the
book returned and routed to the hold shelf, end of session. Once over
plain TCP and once over TLS, with different children and books (the
demo's R1000xx readers at XH-PRI; its P… copies there, M… at XH-MID).
"""

import pytest
from sip2_machine import CHINESE, Machine, field, fields

# Who borrows what in each run. The demo lends P000001, P000004, …,
# P000028 (every third) to R100001–R100010; the copies here are on the
# shelf, the readers have nothing out.
SESSIONS = {
    "plain": {
        "card": "R100015",
        "name": "蒋嘉怡",
        "copy": "P000030",
        # Another school's copy: this school's machine may not lend it.
        "refused": "M000002",
        "waiting": "R100020",
        "waiting_name": "曾琪",
        "after_end": "P000031",
    },
    "tls": {
        "card": "R100016",
        "name": "汪雨桐",
        "copy": "P000032",
        # A copy on loan to R100002 since the demo was loaded.
        "refused": "P000004",
        "waiting": "R100021",
        "waiting_name": "邱涵",
        "after_end": "P000033",
    },
}


@pytest.mark.parametrize("transport", ["plain", "tls"])
def test_a_whole_self_check_session(lectern, transport):
    plan = SESSIONS[transport]
    card, copy = plan["card"], plan["copy"]
    host, port = lectern.sip2 if transport == "plain" else lectern.sip2_tls
    machine = Machine(host, port, tls=transport == "tls")
    machine.connect()
    if transport == "tls":
        assert machine._socket.version() in ("TLSv1.2", "TLSv1.3"), "not encrypted"
    try:
        machine.sign_in(lectern.machine_id, lectern.machine_key)

        status = machine.ask("sc_status")
        assert status["fixed"]["OnlineStatus"] == "Y", machine.last_response
        assert status["fixed"]["CheckinOk"] == "Y"
        assert status["fixed"]["CheckoutOk"] == "Y"
        supported = field(status, "BX", "")
        assert len(supported) == 16, f"BX is not 16 Y/N: {machine.last_response}"
        # checkout, checkin, login, patron information, end session,
        # item information, renew: what this session uses.
        for position in (1, 2, 6, 7, 8, 10, 14):
            assert supported[position] == "Y", f"BX position {position} not Y: {supported}"

        machine.patron, machine.patronpwd = card, card[-4:]
        patron = machine.ask("patron_information", "none")
        assert field(patron, "BL") == "Y", machine.last_response
        assert field(patron, "CQ") == "Y", machine.last_response
        assert field(patron, "AA") == card
        assert field(patron, "AE") == plan["name"]
        assert patron["fixed"]["ChargedItemsCount"] == "0000", machine.last_response

        item = machine.ask("item_information", copy)
        assert item["fixed"]["CirculationStatus"] == "03", f"{copy} not available: {machine.last_response}"
        assert field(item, "AB") == copy
        title = field(item, "AJ")
        assert title, f"no title (AJ) for {copy}: {machine.last_response}"

        lent = machine.ask("checkout", copy)
        assert lent["fixed"]["Ok"] == "1", f"check-out refused: {machine.last_response}"
        assert field(lent, "AB") == copy
        assert field(lent, "AJ") == title
        assert field(lent, "AH"), f"no due date (AH): {machine.last_response}"
        assert lectern.open_loans(card) == [copy]

        refused = machine.ask("checkout", plan["refused"])
        assert refused["fixed"]["Ok"] == "0", f"{plan['refused']} lent: {machine.last_response}"
        assert "AH" in refused["variable"], f"no AH in a refusal: {machine.last_response}"
        reason = " ".join(fields(refused, "AF"))
        assert CHINESE.search(reason), f"no reason in Chinese (AF): {machine.last_response}"
        assert lectern.open_loans(card) == [copy]

        charged = machine.ask("patron_information", "charged")
        assert charged["fixed"]["ChargedItemsCount"] == "0001", machine.last_response
        assert any(copy in value for value in fields(charged, "AU")), f"{copy} not in AU: {machine.last_response}"

        out = machine.ask("item_information", copy)
        assert out["fixed"]["CirculationStatus"] == "04", f"{copy} not charged: {machine.last_response}"
        assert field(out, "AH"), f"no due date (AH) for a copy out: {machine.last_response}"

        # Renewals without the PIN: the machine acts for the child signed
        # in with it above.
        machine.patronpwd = ""
        renewed = machine.ask("renew", copy)
        assert renewed["fixed"]["Ok"] == "1", f"renewal refused: {machine.last_response}"
        assert field(renewed, "AH"), f"no due date (AH) in a renewal: {machine.last_response}"

        # Meanwhile the librarian places a hold on this copy for another
        # child: it may no longer be renewed, and comes back to the hold shelf.
        lectern.place_hold(plan["waiting"], copy)
        held = machine.ask("renew", copy)
        assert held["fixed"]["Ok"] == "0", f"renewed though another reader waits: {machine.last_response}"
        assert CHINESE.search(" ".join(fields(held, "AF"))), f"no reason in Chinese: {machine.last_response}"

        returned = machine.ask("checkin", copy)
        assert returned["fixed"]["Ok"] == "1", f"check-in refused: {machine.last_response}"
        assert returned["fixed"]["Alert"] == "Y", f"no alert for the hold shelf: {machine.last_response}"
        assert field(returned, "AB") == copy
        assert field(returned, "AJ") == title
        assert field(returned, "AQ"), f"no permanent location (AQ): {machine.last_response}"
        assert field(returned, "CL") == "2", f"sort bin (CL) is not the hold shelf: {machine.last_response}"
        assert field(returned, "CV") == "01", f"alert type (CV) is not a hold here: {machine.last_response}"
        assert CHINESE.search(" ".join(fields(returned, "AF"))), f"no instruction (AF): {machine.last_response}"
        # Whom the book waits for is nobody's business at the machine.
        assert plan["waiting"] not in machine.last_response
        assert plan["waiting_name"] not in machine.last_response
        assert lectern.open_loans(card) == []
        assert "on the hold shelf" in lectern.hold_statuses(plan["waiting"])

        ended = machine.ask("end_patron_session")
        assert ended["fixed"]["EndSession"] == "Y", machine.last_response

        # After the end of the session the machine no longer lends to the
        # child without the PIN.
        after = machine.ask("checkout", plan["after_end"])
        assert after["fixed"]["Ok"] == "0", f"lent after the session ended: {machine.last_response}"
        assert field(after, "CQ", "N") == "N", machine.last_response
        assert fields(after, "AF"), f"no screen message (AF): {machine.last_response}"
        assert lectern.open_loans(card) == []

        # The child who waits for the book comes to the machine: the hold
        # is ready (AS), not among the unavailable ones (CD).
        machine.patron, machine.patronpwd = plan["waiting"], plan["waiting"][-4:]
        waiting = machine.ask("patron_information", "hold")
        assert field(waiting, "AE") == plan["waiting_name"], machine.last_response
        assert waiting["fixed"]["HoldItemsCount"] == "0001", machine.last_response
        assert waiting["fixed"]["UnavailableHoldsCount"] == "0000", machine.last_response
        assert fields(waiting, "AS") == [copy], f"the ready hold is not in AS: {machine.last_response}"
        assert machine.ask("end_patron_session")["fixed"]["EndSession"] == "Y"
    finally:
        machine.disconnect()
