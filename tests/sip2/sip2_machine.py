"""A self-check machine for the tests: the PyPI `sip2` client (1.1,
https://github.com/tzeumer/SIP2-Client-for-Python) with its faults mended,
and a raw line client for byte-exact fixtures.

What is mended in the client, and why (each a fault real kiosks have, see
../shared/REFERENCE-SIP2.md "What kiosks trip over"):
- `_crc_calc` sums the *characters* of the message and formats the sum
  without zero padding; SIP2 sums the *bytes* of the wire encoding and
  always sends four hex digits. A message with a Chinese character, or
  whose checksum starts with 0, would otherwise be refused with 96.
- `_crc_verify` never fails (its comparison is always false == 0), so
  the client would accept any answer; it checks the answer's bytes here.
- `get_response` takes whatever one `recv(4096)` returns as the answer;
  TCP is a stream, so it reads up to the terminator here (an answer split
  in two, or two in one read, would otherwise be misread), keeps the raw
  bytes for the tests, and checks that the answer echoes the request's
  sequence number.
- The client writes its log to `sip2.log` in the working directory and
  prints on garbage collection; it logs to Python's logging here.
- Each transaction date the client stamps is at least a second after the
  last one: Lectern tells a message repeated after a lost answer from a
  new one by its transaction date (to the second), and the tests renew
  one book twice within a second, as no person at a machine does.
Everything else — building each request, parsing each answer, the TLS
connection that accepts a self-signed certificate — is the client's own.
"""

import logging
import re
import socket
import time

from Sip2.sip2 import Sip2

# How long a test waits for one answer: a checkout on a busy two-core CI
# machine with PostgreSQL takes well under a second; a hang fails, never waits.
ANSWER_SECS = 30
# Screen messages are in the device's language: Chinese characters for zh-CN.
CHINESE = re.compile(r"[\u4e00-\u9fff]")


def checksum(data: bytes) -> str:
    """SIP2's checksum of `data` (the bytes from the message code through
    "AZ"): the two's complement of their sum, as four uppercase hex digits."""
    return f"{(-sum(data)) & 0xFFFF:04X}"


def seal(body: bytes, sequence=None, terminator=b"\r") -> bytes:
    """`body` with error detection (`AY<sequence>` if given, then
    `AZ<checksum>`) and a terminator."""
    if sequence is not None:
        body += b"AY" + str(sequence).encode()
    body += b"AZ"
    return body + checksum(body).encode() + terminator


def checksum_ok(answer: bytes) -> bool:
    """Whether an answer (without its terminator) ends in `AZ` and a
    checksum that agrees with its bytes."""
    return (
        len(answer) > 6 and answer[-6:-4] == b"AZ" and checksum(answer[:-4]) == answer[-4:].decode("ascii", "replace")
    )


class Lines:
    """Reads SIP2 answers off a stream socket, each up to its CR or LF.
    Everything received is kept in `received`, so a test can check the
    terminators exactly once the next answer has come (the LF of a CRLF
    may arrive after its answer was handed out)."""

    def __init__(self, sock):
        self.sock = sock
        self.pending = b""
        self.received = b""

    def read(self, within=ANSWER_SECS) -> bytes:
        """The next answer without its terminator (the LF of a CRLF, or an
        empty line, skipped). Fails after `within` seconds or when the
        server closes the connection first."""
        deadline = time.monotonic() + within
        while True:
            self.pending = self.pending.lstrip(b"\r\n")
            ends = [index for index in (self.pending.find(b"\r"), self.pending.find(b"\n")) if index >= 0]
            if ends:
                end = min(ends)
                answer = self.pending[:end]
                self.pending = self.pending[end + 1 :]
                return answer
            left = deadline - time.monotonic()
            assert left > 0, f"no answer within {within} s (so far {self.pending!r})"
            self.sock.settimeout(left)
            chunk = self.sock.recv(65536)
            assert chunk, f"the server closed the connection before answering (so far {self.pending!r})"
            self.pending += chunk
            self.received += chunk


class Machine(Sip2):
    """The PyPI client standing in for a self-check machine, mended as the
    module says. `ask("checkout", "P000030")` sends `sip_checkout_request`
    and parses the answer with `sip_checkout_response`."""

    def __init__(self, host, port, *, tls=False, encoding="utf-8"):
        super().__init__()
        self.hostName = host
        self.hostPort = port
        self.tlsEnable = tls
        self.tlsAcceptSelfsigned = True
        self.hostEncoding = encoding
        self.socketTimeout = ANSWER_SECS
        self.institutionId = "XH-PRI"
        # CP in the login, AP in a check-in: where the machine stands.
        self.scLocation = "XH-PRI library door"
        self.log = logging.getLogger("sip2.machine")
        self.lines = None
        self.last_response_bytes = b""
        self.last_request_bytes = b""
        self._last_stamp = 0

    # -- the mended parts ----------------------------------------------------

    def _crc_calc(self, msg):
        return checksum(msg.encode(self.hostEncoding))

    def _crc_verify(self, msg):
        if not self.withCrc:
            return True
        return checksum_ok(msg.rstrip("\r\n").encode(self.hostEncoding))

    def _datestamp(self, timestamp=""):
        # A machine's transactions each get their own second: Lectern tells
        # a repeated message from a new one by its transaction date (to the
        # second), and the tests send a renewal, then another, within one.
        if timestamp == "":
            timestamp = max(int(time.time()), self._last_stamp + 1)
            self._last_stamp = timestamp
        return super()._datestamp(timestamp)

    def connect(self):
        connected = super().connect()
        self.lines = Lines(self._socket)
        return connected

    def get_response(self, request):
        assert self._socket is not None, "connect() first"
        self.last_request_bytes = request.encode(self.hostEncoding)
        self._socket.sendall(self.last_request_bytes)
        raw = self.lines.read()
        self.last_response_bytes = raw
        assert checksum_ok(raw), f"bad checksum in the answer {raw!r} to {request!r}"
        sequence = re.search(r"AY(\d)AZ[0-9A-F]{4}\r?$", request)
        if sequence:
            assert raw[-9:-6] == b"AY" + sequence.group(1).encode(), (
                f"the answer {raw!r} does not echo the sequence number of {request!r}"
            )
        response = raw.decode(self.hostEncoding)
        self.last_request = request
        self.last_response = response
        return response

    def disconnect(self):
        if self._socket is not None:
            try:
                self._socket.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # the server closed it first
            self._socket.close()
            self._socket = None
        return True

    def __del__(self):
        self.disconnect()

    # -- conveniences for the tests ------------------------------------------

    def ask(self, message, *args, **kwargs):
        """Sends the client's `sip_<message>_request(*args)` and returns
        the parsed answer (`{"fixed": {...}, "variable": {...}}`)."""
        request = getattr(self, f"sip_{message}_request")(*args, **kwargs)
        return getattr(self, f"sip_{message}_response")(self.get_response(request))

    def send_again(self, request_bytes):
        """Sends bytes built earlier (a machine repeating a message) and
        parses the answer as `sip_<code's answer>_response` would."""
        self._socket.sendall(request_bytes)
        raw = self.lines.read()
        assert checksum_ok(raw), f"bad checksum in the answer {raw!r}"
        self.last_response_bytes = raw
        return raw

    def sign_in(self, device_id, key):
        login = self.ask("login", device_id, key)
        assert login["fixed"]["Ok"] == "1", f"login refused: {self.last_response_bytes!r}"
        return login


def field(answer, tag, default=None):
    """The first value of variable field `tag` in a parsed answer."""
    values = answer["variable"].get(tag)
    return values[0] if values else default


def fields(answer, tag):
    """Every value of variable field `tag` in a parsed answer."""
    return answer["variable"].get(tag, [])


class RawLine:
    """A bare SIP2 connection for byte-exact fixtures: send bytes, read an
    answer's bytes."""

    def __init__(self, address):
        sock = socket.create_connection(address, timeout=ANSWER_SECS)
        self.sock = sock
        self.lines = Lines(sock)

    def send(self, data: bytes):
        self.sock.sendall(data)

    def ask(self, data: bytes) -> bytes:
        """Sends `data`, returns the answer without its terminator."""
        self.send(data)
        return self.lines.read()

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
