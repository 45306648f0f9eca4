"""The lost answer: a machine sends a check-out, the connection drops
before the child sees the answer, the machine connects again and sends
the same message (same transaction date). Lectern lends the book once
and answers as the first time. Reader R100024 and copy P000038 are this
file's own.
"""

from sip2_machine import Machine, field

CARD, PIN, COPY = "R100024", "0024", "P000038"


def signed_in_machine(lectern):
    machine = Machine(*lectern.sip2)
    machine.connect()
    machine.sign_in(lectern.machine_id, lectern.machine_key)
    machine.patron, machine.patronpwd = CARD, PIN
    return machine


def test_the_same_check_out_after_a_reconnect_lends_once(lectern):
    first = signed_in_machine(lectern)
    patron = first.ask("patron_information", "none")
    assert field(patron, "CQ") == "Y", first.last_response
    request = first.sip_checkout_request(COPY)
    lent = first.sip_checkout_response(first.get_response(request))
    assert lent["fixed"]["Ok"] == "1", f"check-out refused: {first.last_response}"
    # The line drops.
    first.disconnect()
    assert lectern.open_loans(CARD) == [COPY]

    again = signed_in_machine(lectern)
    try:
        # The very message again, as the machine kept it (it carries the
        # PIN: this connection has no patron yet).
        answer = again.sip_checkout_response(again.get_response(request))
        assert answer["fixed"]["Ok"] == "1", f"the repeat was refused: {again.last_response}"
        for tag in ("AA", "AB", "AJ", "AH"):
            assert field(answer, tag) == field(lent, tag), (
                f"{tag} differs: {first.last_response} / {again.last_response}"
            )
        assert {key: value for key, value in answer["fixed"].items() if key != "TransactionDate"} == {
            key: value for key, value in lent["fixed"].items() if key != "TransactionDate"
        }
        # The answer carries the loan's own time: byte for byte the same.
        assert again.last_response_bytes == first.last_response_bytes
        assert lectern.open_loans(CARD) == [COPY], "lent twice"
        returned = again.ask("checkin", COPY)
        assert returned["fixed"]["Ok"] == "1", again.last_response
    finally:
        again.disconnect()


def test_a_check_out_whose_answer_never_came(lectern):
    """The machine sends the check-out and the line drops at once, before
    any answer: Lectern may be lending the book right then. Sent again on
    a new connection, it gets the loan's answer, and there is one loan."""
    card, pin, copy = "R100025", "0025", "P000040"
    first = signed_in_machine(lectern)
    first.patron, first.patronpwd = card, pin
    request = first.sip_checkout_request(copy)
    first._socket.sendall(request.encode())
    first.disconnect()

    again = signed_in_machine(lectern)
    again.patron, again.patronpwd = card, pin
    try:
        answer = again.sip_checkout_response(again.get_response(request))
        assert answer["fixed"]["Ok"] == "1", f"the repeat was refused: {again.last_response}"
        assert field(answer, "AB") == copy and field(answer, "AH"), again.last_response
        assert lectern.open_loans(card) == [copy], "lent twice, or not at all"
    finally:
        again.disconnect()
    # Once more on a third connection, now that the first has surely
    # finished: the same answer, byte for byte, and still one loan.
    third = signed_in_machine(lectern)
    try:
        assert third.send_again(request.encode()) == again.last_response_bytes
        assert lectern.open_loans(card) == [copy]
    finally:
        third.disconnect()
