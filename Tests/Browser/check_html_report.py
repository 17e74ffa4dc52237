#!/usr/bin/env python3
"""Opens a WeakSpot HTML report in headless Chromium and fails on anything a reader would hit.

Not part of `swift test` (it needs a browser): run it on demand, e.g. on the demo's page:

    swift run -c release weakspot demo --out /tmp/demo-html
    python3 Tests/Browser/check_html_report.py /tmp/demo-html/report.html --screenshot docs/images/demo-report.png

It drives Chromium over the DevTools protocol on a pipe (--remote-debugging-pipe, so no
WebSocket library is needed) and exits 1 when:
  - the page throws a JavaScript exception, logs a console error, or requests anything over the
    network (the page must be self-contained);
  - a chart (svg.chart) is missing, has no size on screen, or has no marks (points, dots, rows,
    curves), or a mark lies outside its chart;
  - clicking a header of the weak-item table does not sort it by that column.
It prints one line per chart and saves a PNG screenshot of the top of the page.
"""
import argparse
import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

# What the page's charts are expected to draw, per chart class: the marks counted.
CHART_MARKS = {
    "distribution": "g.layer-row",
    "sensitivity": "polyline.curve",
    "scatter": "circle.pt",
}

INSPECT = r"""
(() => {
  const charts = [];
  for (const svg of document.querySelectorAll('svg.chart')) {
    const kind = [...svg.classList].find(c => c !== 'chart');
    const marks = {distribution: 'g.layer-row', sensitivity: 'polyline.curve', scatter: 'circle.pt'}[kind] || '*';
    const box = svg.getBoundingClientRect();
    const view = svg.viewBox.baseVal;
    let outside = 0, drawn = 0;
    for (const m of svg.querySelectorAll(marks)) {
      const b = m.getBBox();
      if (b.width > 0 || b.height > 0) drawn++;
      if (b.x < view.x - 1 || b.y < view.y - 1 || b.x + b.width > view.x + view.width + 1 || b.y + b.height > view.y + view.height + 1) outside++;
    }
    const data = {};
    for (const a of svg.attributes) if (a.name.startsWith('data-')) data[a.name.slice(5)] = a.value;
    charts.push({kind, data, marks: svg.querySelectorAll(marks).length, drawn, outside, width: box.width, height: box.height});
  }
  const tables = [...document.querySelectorAll('table')].map(t => ({id: t.id, rows: t.tBodies[0] ? t.tBodies[0].rows.length : 0}));
  return JSON.stringify({charts, tables, height: document.documentElement.scrollHeight, scripts: document.scripts.length});
})()
"""

# Clicks the weak-item table's "CI high" header twice; returns the column before, after one and
# after two clicks.
SORT_CHECK = r"""
(() => {
  const table = document.getElementById('weak-items');
  if (!table) return JSON.stringify(null);
  const headers = [...table.tHead.rows[0].cells];
  const column = headers.findIndex(h => h.textContent === 'CI high');
  const read = () => [...table.tBodies[0].rows].map(r => parseFloat(r.cells[column].textContent.replace(/,/g, '')));
  const before = read();
  headers[column].click();
  const ascending = read();
  headers[column].click();
  const descending = read();
  return JSON.stringify({column, before: before.length, ascending, descending});
})()
"""


class Browser:
    """Chromium with the DevTools protocol on file descriptors 3 (commands in) and 4 (replies out)."""

    def __init__(self, binary):
        to_browser_r, self.to_browser = os.pipe()
        self.from_browser, from_browser_w = os.pipe()
        self.profile = tempfile.mkdtemp(prefix="weakspot-chromium-")

        def wire():
            # Via high numbers first, so neither pipe end is overwritten by the other's move.
            os.dup2(to_browser_r, 100)
            os.dup2(from_browser_w, 101)
            os.dup2(100, 3)
            os.dup2(101, 4)

        self.process = subprocess.Popen(
            [binary, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--remote-debugging-pipe",
             "--no-first-run", "--user-data-dir=" + self.profile, "about:blank"],
            pass_fds=(3, 4), preexec_fn=wire, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_browser_r)
        os.close(from_browser_w)
        self.buffer = b""
        self.next_id = 0
        self.events = []

    def send(self, method, params=None, session=None, timeout=60):
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self.to_browser, json.dumps(message).encode() + b"\0")
        deadline = time.time() + timeout
        while time.time() < deadline:
            reply = self.read()
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)
        raise TimeoutError(method)

    def read(self):
        while b"\0" not in self.buffer:
            chunk = os.read(self.from_browser, 1 << 20)
            if not chunk:
                raise RuntimeError("chromium closed the DevTools pipe")
            self.buffer += chunk
        message, self.buffer = self.buffer.split(b"\0", 1)
        return json.loads(message)

    def wait_for(self, method, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if any(e.get("method") == method for e in self.events):
                return
            self.events.append(self.read())
        raise TimeoutError(method)

    def close(self):
        self.process.kill()
        self.process.wait()
        shutil.rmtree(self.profile, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("page", help="the HTML report")
    parser.add_argument("--screenshot", help="where to save a PNG of the top of the page")
    parser.add_argument("--width", type=int, default=1100)
    parser.add_argument("--height", type=int, default=2000, help="screenshot height in CSS pixels (top of the page)")
    parser.add_argument("--chromium", default=shutil.which("chromium") or shutil.which("chromium-browser") or "chromium")
    args = parser.parse_args()

    url = "file://" + os.path.abspath(args.page)
    problems = []
    browser = Browser(args.chromium)
    try:
        target = browser.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = browser.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ["Page", "Runtime", "Log", "Network"]:
            browser.send(domain + ".enable", session=session)
        browser.send("Emulation.setDeviceMetricsOverride",
                     {"width": args.width, "height": 900, "deviceScaleFactor": 1, "mobile": False}, session=session)
        browser.send("Page.navigate", {"url": url}, session=session)
        browser.wait_for("Page.loadEventFired")
        state = json.loads(browser.send("Runtime.evaluate", {"expression": INSPECT, "returnByValue": True}, session=session)["result"]["value"])
        sort = json.loads(browser.send("Runtime.evaluate", {"expression": SORT_CHECK, "returnByValue": True}, session=session)["result"]["value"])
        screenshot = None
        if args.screenshot:
            height = min(args.height, state["height"])
            shot = browser.send("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True,
                                                           "clip": {"x": 0, "y": 0, "width": args.width, "height": height, "scale": 1}},
                                session=session)
            screenshot = base64.b64decode(shot["data"])
        time.sleep(0.2)
        browser.send("Runtime.evaluate", {"expression": "1"}, session=session)  # flush pending events
    finally:
        browser.close()

    for event in browser.events:
        method, params = event.get("method"), event.get("params", {})
        if method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            problems.append("javascript exception: " + str(details.get("exception", {}).get("description") or details.get("text")))
        elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            problems.append("console error: " + " ".join(str(a.get("value", a.get("description"))) for a in params.get("args", [])))
        elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
            problems.append("log error: " + params["entry"].get("text", ""))
        elif method == "Network.requestWillBeSent":
            requested = params.get("request", {}).get("url", "")
            if not (requested.startswith("file://") or requested.startswith("data:") or requested == "about:blank"):
                problems.append("network request: " + requested)

    if not state["charts"]:
        problems.append("no charts on the page")
    for chart in state["charts"]:
        line = f"{chart['kind']:<13} {json.dumps(chart['data'])}: {chart['marks']} marks, {chart['drawn']} with size, " \
               f"{chart['outside']} outside, {chart['width']:.0f}x{chart['height']:.0f} px"
        print(line)
        if chart["marks"] == 0 or chart["drawn"] == 0:
            problems.append("empty chart: " + line)
        if chart["outside"]:
            problems.append("marks outside the chart: " + line)
        if chart["width"] < 50 or chart["height"] < 50:
            problems.append("chart too small on screen: " + line)
        expected = chart["data"].get("points") or chart["data"].get("rows") or chart["data"].get("curves")
        if expected is not None and int(expected) != chart["marks"]:
            problems.append(f"chart says {expected} marks, {chart['marks']} drawn: " + line)
    for table in state["tables"]:
        print(f"table {table['id']}: {table['rows']} rows")
    if sort is not None:
        ascending, descending = sort["ascending"], sort["descending"]
        ok = ascending == sorted(ascending) and descending == sorted(descending, reverse=True) and len(ascending) == sort["before"]
        print(f"sorting weak-items by 'CI high': {'ok' if ok else 'WRONG'} ({len(ascending)} rows)")
        if not ok:
            problems.append("clicking 'CI high' did not sort the weak-item table")
    if screenshot is not None:
        with open(args.screenshot, "wb") as f:
            f.write(screenshot)
        print(f"screenshot: {args.screenshot} ({len(screenshot)} bytes)")

    for problem in problems:
        print("FAIL " + problem)
    print(f"{os.path.getsize(args.page)} bytes, {len(state['charts'])} charts, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
