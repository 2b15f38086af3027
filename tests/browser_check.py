#!/usr/bin/python3
"""Loads a dlbench report.html in headless Chromium and checks it renders.

Usage: tests/browser_check.py REPORT.html SCREENSHOT.png EXPECTED_PLOTS

Talks to Chromium over the DevTools protocol on a pipe
(--remote-debugging-pipe: fd 3 in, fd 4 out, NUL-separated JSON), so it
needs nothing beyond the Python standard library.  It fails (exit 1) when:
  - the page logs a console message of level warning or error, throws, or
    Chromium logs an error or warning for it (a resource that failed, a
    parse error, a blocked request);
  - the page requests anything but its own file (no network), or holds a
    <script> (the report needs no JavaScript);
  - the number of plots (<figure class=plot>) is not EXPECTED_PLOTS, a plot
    has no inline SVG, an SVG has no size on the page or draws fewer than
    20 elements, or an <img> is broken.
A full-page screenshot goes to SCREENSHOT.png either way.
"""
import base64
import fcntl
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time

CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-extensions", "--disable-default-apps", "--mute-audio",
    "--remote-debugging-pipe",
]

CHECK_JS = r"""
(() => {
  const figs = [...document.querySelectorAll('figure.plot')];
  const bad = [];
  for (const f of figs) {
    const svg = f.querySelector('svg');
    if (!svg) { bad.push(f.dataset.plot + ': no svg'); continue; }
    const r = svg.getBoundingClientRect();
    const drawn = svg.querySelectorAll('path, polyline, polygon, line, circle, rect, use, text').length;
    let box = null;
    try { box = svg.getBBox(); } catch (e) { box = null; }
    if (r.width < 200 || r.height < 100) bad.push(f.dataset.plot + ': ' + r.width + 'x' + r.height + ' on the page');
    if (drawn < 20) bad.push(f.dataset.plot + ': ' + drawn + ' drawn elements');
    if (!box || box.width < 100 || box.height < 50) bad.push(f.dataset.plot + ': empty drawing');
  }
  const imgs = [...document.images].filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src);
  const handlers = [...document.querySelectorAll('*')].filter(
    e => [...e.attributes].some(a => a.name.startsWith('on'))).length;
  return JSON.stringify({
    plots: figs.length, svgs: document.querySelectorAll('svg').length, bad: bad,
    broken_images: imgs, scripts: document.scripts.length, handlers: handlers,
    tables: document.querySelectorAll('table').length,
    height: document.documentElement.scrollHeight, width: document.documentElement.scrollWidth,
    title: document.title,
  });
})()
"""


class Browser:
    def __init__(self, chromium):
        self.profile = tempfile.mkdtemp(prefix="dlbench-chromium.")
        to_chrome_r, self.to_chrome = os.pipe()
        self.from_chrome, from_chrome_w = os.pipe()
        # the child's fd 3 reads our commands, its fd 4 writes the replies
        hi_r = fcntl.fcntl(to_chrome_r, fcntl.F_DUPFD_CLOEXEC, 10)
        hi_w = fcntl.fcntl(from_chrome_w, fcntl.F_DUPFD_CLOEXEC, 10)

        def child_fds():
            os.dup2(hi_r, 3)
            os.dup2(hi_w, 4)

        self.stderr = tempfile.TemporaryFile()  # a pipe could fill and block chromium
        self.proc = subprocess.Popen(
            [chromium] + CHROMIUM_FLAGS + ["--user-data-dir=" + self.profile, "about:blank"],
            # Python's own descriptors are not inheritable (PEP 446): only
            # the dup2'd 3 and 4 reach chromium
            close_fds=False, preexec_fn=child_fds,
            stdout=subprocess.DEVNULL, stderr=self.stderr)
        for fd in (to_chrome_r, from_chrome_w, hi_r, hi_w):
            os.close(fd)
        self.buf = b""
        self.next_id = 0
        self.events = []

    def send(self, method, params=None, session=None):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self.to_chrome, json.dumps(msg).encode() + b"\0")
        return self.next_id

    def read(self, timeout):
        """The next message, or None after timeout seconds."""
        end = time.time() + timeout
        while b"\0" not in self.buf:
            left = end - time.time()
            if left <= 0 or not select.select([self.from_chrome], [], [], left)[0]:
                return None
            chunk = os.read(self.from_chrome, 1 << 20)
            if not chunk:
                raise RuntimeError("chromium closed the DevTools pipe")
            self.buf += chunk
        msg, self.buf = self.buf.split(b"\0", 1)
        return json.loads(msg)

    def call(self, method, params=None, session=None, timeout=30):
        want = self.send(method, params, session)
        end = time.time() + timeout
        while time.time() < end:
            msg = self.read(end - time.time())
            if msg is None:
                break
            if msg.get("id") == want:
                if "error" in msg:
                    raise RuntimeError("%s: %s" % (method, msg["error"]))
                return msg.get("result", {})
            self.events.append(msg)
        raise RuntimeError("%s: no reply in %ds" % (method, timeout))

    def wait_event(self, name, timeout):
        end = time.time() + timeout
        while time.time() < end:
            for i, ev in enumerate(self.events):
                if ev.get("method") == name:
                    return self.events.pop(i)
            msg = self.read(end - time.time())
            if msg is not None:
                self.events.append(msg)
        raise RuntimeError("no %s in %ds" % (name, timeout))

    def drain(self, seconds):
        end = time.time() + seconds
        while time.time() < end:
            msg = self.read(end - time.time())
            if msg is not None:
                self.events.append(msg)

    def close(self):
        try:
            self.call("Browser.close", timeout=5)
        except Exception:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.profile, ignore_errors=True)


def problems_in(events, page_url):
    """Console messages, exceptions, log entries and requests that fail the page."""
    out = []
    for ev in events:
        m, p = ev.get("method"), ev.get("params", {})
        if m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "warning", "assert"):
            out.append("console %s: %s" % (p["type"], " ".join(
                str(a.get("value", a.get("description", ""))) for a in p.get("args", []))))
        elif m == "Runtime.exceptionThrown":
            out.append("exception: %s" % p.get("exceptionDetails", {}).get("text"))
        elif m == "Log.entryAdded" and p.get("entry", {}).get("level") in ("error", "warning"):
            e = p["entry"]
            out.append("log %s (%s): %s %s" % (e["level"], e.get("source"), e.get("text"), e.get("url", "")))
        elif m == "Network.requestWillBeSent":
            url = p.get("request", {}).get("url", "")
            if url != page_url and not url.startswith("data:"):
                out.append("request for %s" % url)
        elif m == "Network.loadingFailed":
            out.append("loading failed: %s" % p.get("errorText"))
    return out


def stamp(what, t0=[time.time()]):
    print("browser_check: %5.1fs %s" % (time.time() - t0[0], what))


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    report, shot, expected = os.path.abspath(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        sys.exit("browser_check: no chromium (Debian: apt-get install chromium)")
    url = "file://" + report
    b = Browser(chromium)
    failures = []
    try:
        targets = b.call("Target.getTargets")["targetInfos"]
        stamp("chromium up")
        page = next(t for t in targets if t["type"] == "page")
        session = b.call("Target.attachToTarget", {"targetId": page["targetId"], "flatten": True})["sessionId"]
        for domain in ("Runtime", "Log", "Page", "Network"):
            b.call(domain + ".enable", session=session)
        b.call("Emulation.setDeviceMetricsOverride",
               {"width": 1400, "height": 1000, "deviceScaleFactor": 1, "mobile": False}, session=session)
        b.call("Page.navigate", {"url": url}, session=session)
        b.wait_event("Page.loadEventFired", 60)
        stamp("page loaded")
        b.drain(1.0)            # late console messages
        facts = json.loads(b.call("Runtime.evaluate", {"expression": CHECK_JS, "returnByValue": True},
                                  session=session)["result"]["value"])
        print("browser_check: %s" % json.dumps(facts))
        height = min(int(facts["height"]), 30000)
        width = max(int(facts["width"]), 1400)
        b.call("Emulation.setDeviceMetricsOverride",
               {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False}, session=session)
        shot_data = b.call("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True},
                           session=session, timeout=60)["data"]
        stamp("screenshot taken")
        with open(shot, "wb") as f:
            f.write(base64.b64decode(shot_data))
        print("browser_check: screenshot %s (%dx%d)" % (shot, width, height))
        b.drain(0.3)
        failures += problems_in(b.events, url)
        if facts["plots"] != expected:
            failures.append("%d plots on the page, expected %d" % (facts["plots"], expected))
        if facts["svgs"] < facts["plots"]:
            failures.append("%d inline SVGs for %d plots" % (facts["svgs"], facts["plots"]))
        failures += ["plot not rendered: " + x for x in facts["bad"]]
        failures += ["broken image: " + x for x in facts["broken_images"]]
        if facts["scripts"] or facts["handlers"]:
            failures.append("the page holds %d scripts and %d event handlers" % (facts["scripts"], facts["handlers"]))
    finally:
        b.close()
    b.stderr.seek(0)
    stderr = b.stderr.read().decode(errors="replace")
    # --enable-logging would print console messages as CONSOLE(...) lines too
    failures += [l for l in stderr.splitlines() if "CONSOLE(" in l]
    for f in failures:
        print("browser_check: FAIL: " + f)
    if failures:
        sys.exit(1)
    print("browser_check: %s: %d plots rendered, no console errors, no network" % (report, expected))


if __name__ == "__main__":
    main()
