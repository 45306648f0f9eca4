"""A Chinese self-check machine speaking GB18030 and wanting CR LF after
each answer, registered by the librarian and set up with `lectern device
settings`: byte-exact fixtures. Its login
is ASCII; from then on names, titles and screen messages travel in
GB18030, and checksums are sums of those bytes, both ways. Reader
R100022 and copies P000034 / M000003 are this file's own.
"""

import datetime

from sip2_machine import CHINESE, Machine, RawLine, checksum, checksum_ok, field, fields, seal

CARD, PIN, NAME = "R100022", "0022", "高雨泽"
COPY, OTHER_SCHOOLS_COPY = "P000034", "M000003"
WHERE = "图书馆门口还书箱"


def stamp():
    return datetime.datetime.now().strftime("%Y%m%d    %H%M%S").encode()


def characters_checksum(text):
    """The checksum as the unmended PyPI client computes it: over
    characters, not bytes."""
    return f"{(-sum(ord(character) for character in text)) & 0xFFFF:04X}"


def title_of(lectern, copy):
    """The copy's title as the demo's (UTF-8) machine shows it."""
    machine = Machine(*lectern.sip2)
    machine.connect()
    try:
        machine.sign_in(lectern.machine_id, lectern.machine_key)
        title = field(machine.ask("item_information", copy), "AJ")
        assert title and CHINESE.search(title), machine.last_response
        return title
    finally:
        machine.disconnect()


def test_a_gb18030_machine(lectern):
    # Registered as any machine (UTF-8, CR), then set up at the desk for
    # what this one speaks.
    machine_id, key = lectern.add_sip2_machine("国产自助借还机", {})
    lectern.cli("device", "settings", machine_id, "--charset", "gb18030", "--language", "zh-CN", "--crlf")
    device = lectern.call("lectern.reader.v1.IdentityService/GetDevice", {"deviceId": machine_id})
    assert device["settings"]["charset"] == "DEVICE_CHARSET_GB18030" and device["settings"]["crlf"], device
    title = title_of(lectern, COPY)
    with RawLine(lectern.sip2) as line:
        answers = 0

        def ask(data):
            nonlocal answers
            answers += 1
            answer = line.ask(data)
            assert checksum_ok(answer), f"bad checksum: {answer!r}"
            return answer

        assert ask(seal(b"9300CN" + machine_id.encode() + b"|CO" + key.encode() + b"|", 0))[:3] == b"941"

        patron = ask(
            seal(b"63001" + stamp() + b"          AOXH-PRI|AA" + CARD.encode() + b"|AD" + PIN.encode() + b"|", 1)
        )
        assert b"|BLY|" in patron and b"|CQY|" in patron, patron
        assert b"|AE" + NAME.encode("gb18030") + b"|" in patron, f"the name is not in GB18030: {patron!r}"
        assert NAME.encode("utf-8") not in patron

        lent = ask(
            seal(b"11NN" + stamp() + b" " * 18 + b"AOXH-PRI|AA" + CARD.encode() + b"|AB" + COPY.encode() + b"|AC|", 2)
        )
        assert lent[:3] == b"121", f"check-out refused: {lent!r}"
        assert b"|AJ" + title.encode("gb18030") + b"|" in lent, f"the title is not in GB18030: {lent!r}"
        assert lectern.open_loans(CARD) == [COPY]

        refused = ask(
            seal(
                b"11NN"
                + stamp()
                + b" " * 18
                + b"AOXH-PRI|AA"
                + CARD.encode()
                + b"|AB"
                + OTHER_SCHOOLS_COPY.encode()
                + b"|AC|",
                3,
            )
        )
        assert refused[:3] == b"120", f"another school's copy lent: {refused!r}"
        text = refused.decode("gb18030")
        screen = [part[2:] for part in text.split("|") if part.startswith("AF")]
        assert screen and CHINESE.search(" ".join(screen)), f"no reason in Chinese: {text!r}"
        assert lectern.open_loans(CARD) == [COPY]

        # A check-in from the return box by the door: the location in
        # GB18030. Its checksum summed over characters (the unmended
        # client's way) does not add up: 96, and the book stays out.
        body = "09N" + stamp().decode() + stamp().decode() + f"AP{WHERE}|AOXH-PRI|AB{COPY}|AC|AY4AZ"
        assert ask(body.encode("gb18030") + characters_checksum(body).encode() + b"\r") == b"96AZFEF6"
        assert lectern.open_loans(CARD) == [COPY]
        # Summed over its GB18030 bytes, it is taken.
        wire = body.encode("gb18030")
        back = ask(wire + checksum(wire).encode() + b"\r")
        assert back[:3] == b"101", f"check-in refused: {back!r}"
        assert b"|AJ" + title.encode("gb18030") + b"|" in back, back
        assert lectern.open_loans(CARD) == []

        # Every answer ends in CR LF, as the machine's settings say.
        received = line.lines.received
        assert received.count(b"\r\n") == answers, received
        assert received.count(b"\r") == answers and received.count(b"\n") == answers, received


def test_a_cp850_machine_in_english(lectern):
    """An older Western machine: code page 850, English screen messages,
    driven by the mended PyPI client (its checksum over cp850 bytes). A
    Chinese name has no cp850 letters: it arrives as placeholders, the
    answer still well formed."""
    machine_id, key = lectern.add_sip2_machine(
        "Self-check (cp850)", {"charset": "DEVICE_CHARSET_CP850", "language": "en"}
    )
    machine = Machine(*lectern.sip2, encoding="cp850")
    machine.scLocation = "Bibliothèque"
    machine.connect()
    try:
        machine.sign_in(machine_id, key)
        machine.patron, machine.patronpwd = "R100026", "0026"
        patron = machine.ask("patron_information", "none")
        assert field(patron, "BL") == "Y" and field(patron, "CQ") == "Y", machine.last_response
        assert patron["fixed"]["Language"] == "001", machine.last_response
        assert "Hello" in " ".join(fields(patron, "AF")), machine.last_response

        lent = machine.ask("checkout", "P000042")
        assert lent["fixed"]["Ok"] == "1", machine.last_response
        assert "Borrowed" in " ".join(fields(lent, "AF")), machine.last_response
        refused = machine.ask("checkout", "M000004")
        assert refused["fixed"]["Ok"] == "0", machine.last_response
        reason = " ".join(fields(refused, "AF"))
        assert reason and not CHINESE.search(reason), f"not in English: {machine.last_response}"

        # The check-in names where the machine stands: "è" is one byte
        # (0x8A) in cp850, and the checksum sums it.
        returned = machine.ask("checkin", "P000042")
        assert "Bibliothèque".encode("cp850") in machine.last_request_bytes
        assert returned["fixed"]["Ok"] == "1", machine.last_response
        assert "shelf" in " ".join(fields(returned, "AF")), machine.last_response
        assert lectern.open_loans("R100026") == []
    finally:
        machine.disconnect()
