#!/usr/bin/env python3
"""What the desk's pages weigh and how soon they show, in a real browser on
loopback: prints figures, asserts nothing timed (see docs/benchmarks.md).

Against a running `lectern up --demo`, signed in as a member of staff
through the sign-in form, it loads each page five times with a cold cache
(the browser's cache disabled, as DevTools' "Disable cache" does) and five
times with a warm one (after a first load that fills it), and prints per
page the median of:

- the bytes of HTML, CSS and JS as sent (the body sizes of the Resource
  Timing entries), their total, and what went over the wire cold and warm
  (`transferSize`: headers and bodies; 0 for a file served from the cache);
- first contentful paint (`performance.getEntriesByType('paint')`) and
  DOMContentLoaded, in ms from the start of the navigation.

Then the desk's card scan as the browser sees it: R100005 typed into the
scan box and Enter pressed, timed from the submit to the reader's panel in
place, beside the request's own time and size.

    python tests/browser/measure_pages.py --url http://127.0.0.1:8080 \\
        --username xh-librarian --password <from the banner>

Environment instead of arguments: LECTERN_URL, LECTERN_STAFF_USERNAME,
LECTERN_STAFF_PASSWORD, LECTERN_CHROMIUM (default /usr/bin/chromium). A
member of staff of several schools (or a district admin) is asked which
school's desk this is; the button naming --school (default 实验小学) is
chosen.
"""

import argparse
import os
import statistics
import sys
from urllib.parse import urlsplit

from playwright.sync_api import sync_playwright

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
DEMO_CARD = "R100005"
LOAD_DEADLINE_MS = 15_000
LABEL_WIDTH = 22

# The entries of the page's own navigation and of its resources, and its
# paint and DOMContentLoaded times (ms from the navigation's start).
READ_TIMINGS = """() => {
  const navigation = performance.getEntriesByType('navigation')[0];
  const paint = performance.getEntriesByType('paint')
    .find((entry) => entry.name === 'first-contentful-paint');
  const entries = [navigation, ...performance.getEntriesByType('resource')];
  return {
    fcp: paint ? paint.startTime : null,
    dcl: navigation.domContentLoadedEventStart,
    entries: entries.map((entry) => ({
      url: entry.name,
      document: entry.entryType === 'navigation',
      transfer: entry.transferSize,
      body: entry.encodedBodySize,
    })),
  };
}"""

# One card scan at the desk, as a scanner sends it: the card typed into the
# scan box and the form submitted (Enter); resolves when the reader's panel
# is in place, with the time since the submit and the request's own entry.
SCAN_CARD = """(card) => new Promise((resolve) => {
  const panel = document.getElementById('desk-panel');
  const box = document.querySelector('[data-scan-box]');
  const observer = new MutationObserver(() => {
    if (!panel.querySelector('input[name=reader]')) { return; }
    const shown = performance.now() - started;
    observer.disconnect();
    const request = performance.getEntriesByType('resource')
      .filter((entry) => entry.name.endsWith('/desk/scan')).pop();
    resolve({
      shown,
      request: request ? request.duration : null,
      transfer: request ? request.transferSize : null,
      body: request ? request.encodedBodySize : null,
      reader: panel.querySelector('input[name=reader]').value,
    });
  });
  observer.observe(panel, {childList: true, subtree: true});
  box.value = card;
  const started = performance.now();
  box.form.requestSubmit();
})"""


def arguments():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default=os.environ.get("LECTERN_URL", "http://127.0.0.1:8080"))
    parser.add_argument("--username", default=os.environ.get("LECTERN_STAFF_USERNAME", "xh-librarian"))
    parser.add_argument("--password", default=os.environ.get("LECTERN_STAFF_PASSWORD"))
    parser.add_argument("--school", default="实验小学", help="the school to choose if asked")
    parser.add_argument("--loads", type=int, default=5, help="loads per page and cache state")
    parser.add_argument("--chromium", default=os.environ.get("LECTERN_CHROMIUM", "/usr/bin/chromium"))
    parsed = parser.parse_args()
    if not parsed.password:
        parser.error("the staff password is needed: --password or LECTERN_STAFF_PASSWORD")
    return parsed


def sign_in(page, args):
    """Signs in through the staff form and makes sure the desk opens."""
    page.goto("/signin")
    form = page.locator("form[action='/signin/staff']")
    form.locator("input[name=username]").fill(args.username)
    form.locator("input[name=password]").fill(args.password)
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()
    if page.url.endswith("/password"):
        sys.exit(f"{args.username} must change a one-time password first (sign in once in a browser)")
    if "/signin" in page.url:
        sys.exit(f"signing in as {args.username} was refused")
    page.goto("/desk")
    if "/school" in page.url:
        page.locator("button[name=school]", has_text=args.school).first.click()
        page.wait_for_load_state()
    if urlsplit(page.url).path != "/desk":
        sys.exit(f"the desk did not open for {args.username}: at {page.url}")


def kind_of(entry):
    if entry["document"]:
        return "html"
    path = entry["url"].split("?")[0]
    if path.endswith(".css"):
        return "css"
    if path.endswith(".js"):
        return "js"
    return "other"


def load(page, path):
    """One navigation to `path`: sizes by kind, and its timings."""
    response = page.goto(path, wait_until="load")
    if response is None or response.status != 200 or urlsplit(page.url).path != urlsplit(path).path:
        sys.exit(f"{path} did not open: {response.status if response else 'no response'} at {page.url}")
    page.wait_for_function(
        "() => performance.getEntriesByType('paint').some((e) => e.name === 'first-contentful-paint')",
        timeout=LOAD_DEADLINE_MS,
    )
    timings = page.evaluate(READ_TIMINGS)
    sizes = {"html": 0, "css": 0, "js": 0, "other": 0, "transfer": 0}
    for entry in timings["entries"]:
        sizes[kind_of(entry)] += entry["body"]
        sizes["transfer"] += entry["transfer"]
    return sizes, timings["fcp"], timings["dcl"]


def measure(page, cdp, path, loads):
    """Medians of `loads` cold loads and of `loads` warm ones."""
    figures = {}
    for state, disabled in (("cold", True), ("warm", False)):
        cdp.send("Network.setCacheDisabled", {"cacheDisabled": disabled})
        if not disabled:
            load(page, path)  # fills the cache
        runs = [load(page, path) for _ in range(loads)]
        figures[state] = {
            "sizes": {key: statistics.median(run[0][key] for run in runs) for key in runs[0][0]},
            "fcp": statistics.median(run[1] for run in runs),
            "dcl": statistics.median(run[2] for run in runs),
        }
    return figures


def scan_card(page, cdp, loads):
    """Medians of `loads` card scans at an empty desk, warm cache."""
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": False})
    scans = []
    for _ in range(loads + 1):
        page.goto("/desk", wait_until="load")
        scans.append(page.evaluate(SCAN_CARD, DEMO_CARD))
    scans = scans[1:]  # the first one warms the way
    return scans[0]["reader"], {
        key: statistics.median(scan[key] for scan in scans) for key in ("shown", "request", "transfer", "body")
    }


def kb(size):
    return f"{size / 1024:.1f}"


def main():
    args = arguments()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=args.chromium, headless=True, args=CHROMIUM_ARGS)
        context = browser.new_context(
            base_url=args.url,
            locale="zh-CN",
            timezone_id="Asia/Shanghai",
            viewport={"width": 1280, "height": 800},
        )
        page = context.new_page()
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        sign_in(page, args)
        reader, scan = scan_card(page, cdp, args.loads)
        pages = [
            ("desk, empty", "/desk"),
            (f"desk, reader {DEMO_CARD}", f"/desk?reader={reader}"),
            ("returns", "/returns"),
            ("search 曹文轩", "/search?q=曹文轩"),
            ("readers", "/readers"),
            ("overdue list", "/lists/overdue"),
            ("home", "/"),
            (f"receipt {DEMO_CARD}", f"/slips/receipt?reader={reader}"),
        ]
        print(
            f"{args.url}, signed in as {args.username}; medians of {args.loads} loads; "
            "sizes in KB (bodies as sent; wire = headers and bodies that came over the network), "
            "times in ms from the navigation's start"
        )
        header = (
            f"{'page':<{LABEL_WIDTH}} | {'HTML':>6} {'CSS':>6} {'JS':>6} {'total':>6} | {'wire cold':>9} {'warm':>6} "
            f"| {'FCP cold':>8} {'warm':>6} | {'DCL cold':>8} {'warm':>6}"
        )
        print(header)
        for label, path in pages:
            figures = measure(page, cdp, path, args.loads)
            cold, warm = figures["cold"], figures["warm"]
            sizes = cold["sizes"]
            total = sizes["html"] + sizes["css"] + sizes["js"] + sizes["other"]
            # Chinese characters take two columns.
            pad = LABEL_WIDTH - sum(2 if ord(char) > 0x2E80 else 1 for char in label)
            print(
                f"{label}{' ' * max(pad, 0)} | {kb(sizes['html']):>6} {kb(sizes['css']):>6} {kb(sizes['js']):>6} "
                f"{kb(total):>6} | {kb(sizes['transfer']):>9} {kb(warm['sizes']['transfer']):>6} "
                f"| {cold['fcp']:>8.0f} {warm['fcp']:>6.0f} | {cold['dcl']:>8.0f} {warm['dcl']:>6.0f}"
            )
        print(
            f"card scan {DEMO_CARD} at the desk (warm cache): reader's panel shown {scan['shown']:.1f} ms "
            f"after Enter; the request {scan['request']:.1f} ms, {kb(scan['body'])} KB of HTML "
            f"({kb(scan['transfer'])} KB on the wire)"
        )
        browser.close()


if __name__ == "__main__":
    main()
