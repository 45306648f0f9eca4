"""A stand-in for WeChat's `auth.code2Session`, for the Python suites (the
mini-program API tests, the portal's browser tests) and for trying the
WeChat sign-in by hand.

It speaks the documented request and answers (see
../shared/REFERENCE-wechat.md and docs/mini-program.md):

    GET /sns/jscode2session?appid=APPID&secret=SECRET&js_code=CODE&grant_type=authorization_code

and answers, like WeChat, with HTTP 200 and JSON:

    code `ok-<name>`   {"openid": "o-<name>", "session_key": "<random>"}
                       (plus "unionid": "u-<name>" when started with unionid=True)
    code `bad`         {"errcode": 40029, "errmsg": "invalid code"}
    code `used`        {"errcode": 40163, "errmsg": "code been used"}
    code `busy`        {"errcode": -1, "errmsg": "system error"}
    code `slow`        the same as `busy`, after `slow_secs` (longer than
                       the gateway waits, so it sees a timeout)
    code `limited`     {"errcode": 45011, "errmsg": "api minute-quota reach limit"}
    code `blocked`     {"errcode": 40226, "errmsg": "high risk user"}
    code `garbage`     HTTP 200 with a body that is not JSON
    code `noopenid`    {"session_key": "<random>"} (no openid)
    wrong appid        {"errcode": 40013, "errmsg": "invalid appid"}
    wrong secret       {"errcode": 40125, "errmsg": "invalid appsecret"}
    wrong grant_type   {"errcode": 40002, "errmsg": "invalid grant_type"}
    no js_code         {"errcode": 41008, "errmsg": "missing code"}
    any other code     40029

With single_use=True an `ok-<name>` code answers 40163 the second time,
as WeChat's do. Every request is kept in `requests` (the query, the
secret included, so a test can check what the gateway sent) and every
session key handed out in `session_keys` (so a test can check none
reaches a client).

As a module:

    from wechat.standin import WechatStandin      # tests/ on sys.path
    with WechatStandin() as wechat:
        env = {**os.environ, **wechat.env()}      # LECTERN_WECHAT_… for `lectern up`

By hand: `python3 tests/wechat/standin.py [--port 8199]` prints the
variables to give `lectern up`, then serves until Ctrl-C.
"""

import argparse
import http.server
import json
import secrets
import threading
import time
import urllib.parse

APP_ID = "wx-lectern-tests"
APP_SECRET = "app-secret-for-the-tests"
PATH = "/sns/jscode2session"

ERRORS = {
    "bad": (40029, "invalid code"),
    "used": (40163, "code been used"),
    "busy": (-1, "system error"),
    "slow": (-1, "system error"),
    "limited": (45011, "api minute-quota reach limit mustslower retry next minute"),
    "blocked": (40226, "high risk user"),
}


class WechatStandin:
    """code2Session on 127.0.0.1 and a free port, in a thread of its own."""

    def __init__(self, app_id=APP_ID, app_secret=APP_SECRET, slow_secs=10.0, single_use=False, unionid=False):
        self.app_id = app_id
        self.app_secret = app_secret
        self.slow_secs = slow_secs
        self.single_use = single_use
        self.unionid = unionid
        self.requests = []
        self.session_keys = []
        self._used = set()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server = None
        self._thread = None

    # --- life ---

    def start(self, port=0):
        standin = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's spelling)
                standin._handle(self)

            def log_message(self, *_args):
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self):
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=10)
            self._server = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *_exc):
        self.stop()

    @property
    def base_url(self):
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def env(self, timeout_ms=None):
        """The `LECTERN_WECHAT_…` variables that point a gateway here."""
        env = {
            "LECTERN_WECHAT_API_BASE": self.base_url,
            "LECTERN_WECHAT_APP_ID": self.app_id,
            "LECTERN_WECHAT_APP_SECRET": self.app_secret,
        }
        if timeout_ms is not None:
            env["LECTERN_WECHAT_TIMEOUT_MS"] = str(timeout_ms)
        return env

    # --- answers ---

    def answer(self, query):
        """The JSON (or raw bytes) WeChat would answer to `query`, and how
        long to wait first."""
        code = query.get("js_code", "")
        if query.get("appid") != self.app_id:
            return {"errcode": 40013, "errmsg": "invalid appid"}, 0
        if query.get("secret") != self.app_secret:
            return {"errcode": 40125, "errmsg": "invalid appsecret"}, 0
        if query.get("grant_type") != "authorization_code":
            return {"errcode": 40002, "errmsg": "invalid grant_type"}, 0
        if not code:
            return {"errcode": 41008, "errmsg": "missing code"}, 0
        if code in ERRORS:
            errcode, errmsg = ERRORS[code]
            return {"errcode": errcode, "errmsg": errmsg}, self.slow_secs if code == "slow" else 0
        if code == "garbage":
            return b"<html><body>502 Bad Gateway</body></html>", 0
        session_key = secrets.token_urlsafe(18)
        with self._lock:
            self.session_keys.append(session_key)
        if code == "noopenid":
            return {"session_key": session_key}, 0
        if code.startswith("ok-") and len(code) > 3:
            with self._lock:
                if self.single_use and code in self._used:
                    return {"errcode": 40163, "errmsg": "code been used"}, 0
                self._used.add(code)
            name = code[3:]
            answer = {"openid": f"o-{name}", "session_key": session_key}
            if self.unionid:
                answer["unionid"] = f"u-{name}"
            return answer, 0
        return {"errcode": 40029, "errmsg": "invalid code"}, 0

    def _handle(self, handler):
        url = urllib.parse.urlsplit(handler.path)
        query = {key: values[-1] for key, values in urllib.parse.parse_qs(url.query).items()}
        with self._lock:
            self.requests.append({"path": url.path, **query})
        if url.path != PATH:
            body, wait, status = b'{"errcode":404,"errmsg":"not found"}', 0, 404
        else:
            body, wait = self.answer(query)
            status = 200
        if wait:
            # Waits for the gateway to give up, or for the stand-in to stop.
            self._stopping.wait(wait)
        payload = body if isinstance(body, bytes) else json.dumps(body).encode()
        try:
            handler.send_response(status)
            # WeChat labels its JSON text/plain.
            handler.send_header("Content-Type", "text/plain")
            handler.send_header("Content-Length", str(len(payload)))
            handler.end_headers()
            handler.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the gateway gave up waiting (`slow`)


def main():
    parser = argparse.ArgumentParser(description="A local stand-in for WeChat's code2Session.")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--app-id", default=APP_ID)
    parser.add_argument("--app-secret", default=APP_SECRET)
    arguments = parser.parse_args()
    standin = WechatStandin(arguments.app_id, arguments.app_secret).start(arguments.port)
    for key, value in standin.env().items():
        print(f"export {key}={value}")
    print("codes: ok-<name> (openid o-<name>), bad, used, busy, slow, limited, blocked; Ctrl-C stops", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        standin.stop()


if __name__ == "__main__":
    main()
