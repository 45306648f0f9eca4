"""Byte-exact fixtures on the wire with the demo's SIP2 machine (UTF-8,
answers ending in CR): what is answered before login, a wrong key, the
resend (97) and the bad checksum (96) with nothing acted on, the same
message repeated on one connection, and the terminators a machine may
send. Reader R100023 and copy P000036 are this file's own.
"""

import datetime

from sip2_machine import RawLine, checksum_ok, seal

CARD, PIN, COPY = "R100023", "0023", "P000036"


def stamp():
    """A transaction date: local time, four blanks for the zone."""
    return datetime.datetime.now().strftime("%Y%m%d    %H%M%S").encode()


def login(machine_id, key, sequence):
    return seal(b"9300CN" + machine_id.encode() + b"|CO" + key.encode() + b"|CPdoor|", sequence)


def status(sequence, terminator=b"\r"):
    return seal(b"9900302.00", sequence, terminator)


def test_before_login_only_status_and_login_are_answered(lectern):
    with RawLine(lectern.sip2) as line:
        offline = line.ask(status(0))
        assert offline[:3] == b"98N", f"online before login: {offline!r}"
        assert checksum_ok(offline), offline
        assert offline[-9:-6] == b"AY0", f"sequence not echoed: {offline!r}"

        wrong = line.ask(login(lectern.machine_id, "not-the-key", 1))
        assert wrong[:3] == b"940", f"a wrong key logged in: {wrong!r}"
        assert checksum_ok(wrong) and wrong[-9:-6] == b"AY1", wrong

        right = line.ask(login(lectern.machine_id, lectern.machine_key, 2))
        assert right[:3] == b"941", f"the banner's key was refused: {right!r}"
        assert checksum_ok(right) and right[-9:-6] == b"AY2", right

        online = line.ask(status(3))
        assert online[:3] == b"98Y", f"offline after login: {online!r}"


def test_resend_bad_checksum_and_repeats(lectern):
    with RawLine(lectern.sip2) as line:
        answers = 0

        def ask(data):
            nonlocal answers
            answers += 1
            return line.ask(data)

        assert ask(login(lectern.machine_id, lectern.machine_key, 0))[:3] == b"941"
        first = ask(status(1))
        assert first[:3] == b"98Y", first

        # 97: the last answer again, byte for byte.
        assert ask(b"97AZFEF5\r") == first

        # A checksum that does not add up: 96, fixed, with error detection.
        broken = status(2)[:-5] + b"0000\r"
        assert ask(broken) == b"96AZFEF6"

        # The child signs in with the PIN.
        patron = ask(
            seal(b"63001" + stamp() + b"          AOXH-PRI|AA" + CARD.encode() + b"|AC|AD" + PIN.encode() + b"|", 3)
        )
        assert patron[:2] == b"64" and b"|BLY|" in patron and b"|CQY|" in patron, patron

        checkout = seal(
            b"11NN" + stamp() + b" " * 18 + b"AOXH-PRI|AA" + CARD.encode() + b"|AB" + COPY.encode() + b"|AC|", 4
        )
        # A check-out whose checksum is wrong is not acted on.
        assert ask(checkout[:-5] + (b"0000" if checkout[-5:-1] != b"0000" else b"FFFF") + b"\r") == b"96AZFEF6"
        assert lectern.open_loans(CARD) == [], "a check-out with a bad checksum lent the book"

        lent = ask(checkout)
        assert lent[:3] == b"121", f"check-out refused: {lent!r}"
        assert lectern.open_loans(CARD) == [COPY]

        # The same message again on the same connection (the machine missed
        # the answer): the same answer, no second loan.
        assert ask(checkout) == lent
        # And a resend of that answer.
        assert ask(b"97AZFEF5\r") == lent
        assert lectern.open_loans(CARD) == [COPY]

        # Return it: a return box needs no patron.
        back = ask(seal(b"09N" + stamp() + stamp() + b"APdoor|AOXH-PRI|AB" + COPY.encode() + b"|AC|", 5))
        assert back[:3] == b"101", f"check-in refused: {back!r}"
        assert b"|CL1|" in back, f"not sorted back to the shelf (CL1): {back!r}"
        assert lectern.open_loans(CARD) == []

        # Answers end in CR alone, as this machine's settings say.
        received = line.lines.received
        assert received.count(b"\r") == answers, received
        assert b"\n" not in received, received


def test_a_machine_may_end_its_messages_with_cr_lf_or_crlf(lectern):
    with RawLine(lectern.sip2) as line:
        assert line.ask(login(lectern.machine_id, lectern.machine_key, 0))[:3] == b"941"
        assert line.ask(status(1, b"\n"))[:3] == b"98Y"
        assert line.ask(status(2, b"\r\n"))[:3] == b"98Y"
        # The LF after that CR is no message of its own: the next answer
        # is the item's.
        item = line.ask(seal(b"17" + stamp() + b"AOXH-PRI|AB" + COPY.encode() + b"|AC|", 3))
        assert item[:2] == b"18" and b"AB" + COPY.encode() in item, item
        assert line.ask(status(4))[:3] == b"98Y"
