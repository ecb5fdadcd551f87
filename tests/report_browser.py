#!/usr/bin/python3
"""report_browser.py — tonegate-report checked against figures computed here.

  report_browser.py csv CSVFILE [FILTER] LOG...
      compare what tonegate-report --csv printed (CSVFILE) with the figures
      this script computes from the verdict logs, row by row and in order
  report_browser.py value SECTION KEY METRIC [FILTER] LOG...
      print one figure as the text and HTML reports show it
  report_browser.py browse --html REPORT [--screenshot PNG] [FILTER] LOG...
      open REPORT in headless Chromium over the DevTools protocol: no console
      error, exception or failed load; every figure, bar and excerpt shown
      equals what this script computes from the LOGs; with --screenshot the
      whole page, 1200 CSS px wide, as PNG
FILTER: --since DATE --until DATE --agent ADDR (repeatable), --top N.

The model follows tonegate-report(1) and tonegate.conf(5) on its own: it
shares no code with the C program. Every wait is bounded; Chromium is killed
at the end whatever happens. Exit 0 all checks passed, 1 some failed.
"""
import argparse
import base64
import calendar
import json
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

ACTIONS = ["pass", "suggest", "rewrite", "hold", "reject"]
TIME_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?"
                     r"(Z|z|[+-]\d{2}:?\d{2})?)?$")


def parse_time(s, end=False):
    """Seconds since the epoch, or None; a bare date is its first second (its
    last with end)."""
    m = TIME_RE.match(s) if isinstance(s, str) else None
    if not m:
        return None
    y, mo, d = int(m.group(1)), int(m.group(2)), int(m.group(3))
    try:
        day = calendar.timegm((y, mo, d, 0, 0, 0))
        time.strptime("%04d-%02d-%02d" % (y, mo, d), "%Y-%m-%d")
    except ValueError:
        return None
    if m.group(4) is None:
        return day + (86399 if end else 0)
    h, mi, se = int(m.group(4)), int(m.group(5)), int(m.group(6))
    if h > 23 or mi > 59 or se > 60:
        return None
    off = 0
    z = m.group(7)
    if z and z not in "Zz":
        oh, om = int(z[1:3]), int(z[-2:])
        off = (1 if z[0] == "+" else -1) * (oh * 3600 + om * 60)
    return day + h * 3600 + mi * 60 + se - off


def read_logs(paths):
    """(verdicts, decisions, inputs) from the logs; malformed lines counted."""
    verdicts, decisions, inputs = [], [], []
    for fi, path in enumerate(paths):
        inp = {"name": path, "lines": 0, "verdicts": 0, "decisions": 0, "skipped": 0}
        inputs.append(inp)
        with open(path, "rb") as f:
            data = f.read()
        for raw in data.split(b"\n"):
            line = raw.decode("utf-8", "surrogateescape").strip(" \t\r")
            if not line:
                continue
            inp["lines"] += 1
            rec = parse_line(line)
            if rec is None:
                inp["skipped"] += 1
                continue
            rec["file"] = fi
            if "decision" in rec:
                decisions.append(rec)
                inp["decisions"] += 1
            else:
                verdicts.append(rec)
                inp["verdicts"] += 1
    return verdicts, decisions, inputs


def parse_line(line):
    try:
        o = json.loads(line)
    except ValueError:
        return None
    if not isinstance(o, dict):
        return None
    t = parse_time(o.get("time"))
    if t is None:
        return None
    if "decision" in o:
        q = o.get("queue_id")
        if not isinstance(q, str) or not q or o.get("decision") not in ("release", "discard"):
            return None
        agent = o.get("agent")
        if agent is not None and not isinstance(agent, str):
            return None
        return {"t": t, "q": q, "decision": o["decision"], "agent": agent or ""}
    if "action" not in o or o["action"] not in ACTIONS:
        return None
    for k in ("queue_id", "agent", "would", "mode", "status"):
        if o.get(k) is not None and not isinstance(o[k], str):
            return None
    rules = o.get("rules")
    if rules is None:
        rules = []
    if not isinstance(rules, list):
        return None
    for r in rules:
        if not isinstance(r, dict) or not isinstance(r.get("rule"), str) or not r["rule"]:
            return None
        if r.get("excerpt") is not None and not isinstance(r["excerpt"], str):
            return None
        if r.get("monitor") is not None and not isinstance(r["monitor"], bool):
            return None
    return {"t": t, "q": o.get("queue_id") or "", "agent": o.get("agent") or "", "action": o["action"],
            "would": o.get("would"), "mode": o.get("mode"), "status": o.get("status") or "unknown",
            "rules": rules}


def model(paths, since=None, until=None, agents=(), top=5):
    """The figures: {(section, key, metric): value}, a rate as (num, den),
    plus the orderings and excerpts the HTML shows."""
    verdicts, decisions, inputs = read_logs(paths)
    want = {a.lower() for a in agents}

    def keep(t, agent):
        return ((since is None or t >= since) and (until is None or t <= until)
                and (not want or agent.lower() in want))
    for v in verdicts:
        v["in"] = keep(v["t"], v["agent"])
        v["dec"] = None
    fig = {}

    def add(sec, key, met, n=1):
        fig[(sec, key, met)] = fig.get((sec, key, met), 0) + n
    kept = [v for v in verdicts if v["in"]]
    total = lambda m: ("total", "", m)
    for m in ["lines", "skipped", "messages"] + ACTIONS + ["would_hold", "monitor", "decided", "released",
                                                            "discarded", "unmatched", "repeated"]:
        fig[total(m)] = 0
    fig[total("lines")] = sum(i["lines"] for i in inputs)
    fig[total("skipped")] = sum(i["skipped"] for i in inputs)
    for i in inputs:
        for m in ("lines", "verdicts", "decisions", "skipped"):
            fig[("input", i["name"], m)] = i[m]
    excerpts = {}
    for v in kept:
        day = time.strftime("%Y-%m-%d", time.gmtime(v["t"]))
        wh = int(v["would"] == "hold")
        mon = int(v["mode"] == "monitor")
        for sec, key in (("total", ""), ("day", day)):
            add(sec, key, "messages")
            add(sec, key, v["action"])
            add(sec, key, "would_hold", wh)
            add(sec, key, "monitor", mon)
        add("agent", v["agent"], "messages")
        add("agent", v["agent"], "holds", int(v["action"] == "hold"))
        add("agent", v["agent"], "would_hold", wh)
        add("status", v["status"], "messages")
        seen = []
        for r in v["rules"]:
            name = r["rule"]
            if r.get("excerpt"):
                excerpts.setdefault(name, {}).setdefault(r["excerpt"], 0)
                excerpts[name][r["excerpt"]] += 1
                add("rule", name, "excerpts")
            if name in seen:
                continue
            seen.append(name)
            add("rule", name, "findings")
            add("rule", name, "monitor", int(r.get("monitor") is True))
            add("rule", name, "in_holds", int(v["action"] == "hold"))
        v["rulenames"] = seen
    # every day from the first verdict to the last
    if kept:
        d0 = min(v["t"] for v in kept) // 86400
        d1 = max(v["t"] for v in kept) // 86400
        for d in range(d0, d1 + 1):
            day = time.strftime("%Y-%m-%d", time.gmtime(d * 86400))
            for m in ["messages"] + ACTIONS + ["would_hold", "monitor"]:
                fig.setdefault(("day", day, m), 0)
    for sec, key, met in list(fig):
        if sec == "agent":
            for m in ("messages", "holds", "would_hold", "decided", "released"):
                fig.setdefault((sec, key, m), 0)
        if sec == "rule":
            for m in ("findings", "monitor", "in_holds", "decided", "released", "excerpts"):
                fig.setdefault((sec, key, m), 0)
    # decisions: the same file's latest hold at or before (else after), else
    # the one hold with that queue id in the other files
    for d in decisions:
        holds = [v for v in verdicts if v["q"] == d["q"] and v["action"] == "hold"]
        same = [v for v in holds if v["file"] == d["file"]]
        before = [v for v in same if v["t"] <= d["t"]]
        other = [v for v in holds if v["file"] != d["file"]]
        if before:
            v = max(before, key=lambda x: x["t"])
        elif same:
            v = max(same, key=lambda x: x["t"])
        elif len(other) == 1:
            v = other[0]
        else:
            fig[total("unmatched")] += int(keep(d["t"], d["agent"]))
            continue
        if v["dec"] is not None:
            fig[total("repeated")] += int(v["in"])
            if d["t"] >= v["dec"]["t"]:
                continue
        v["dec"] = d
    secs = []
    for v in kept:
        d = v["dec"]
        if d is None:
            continue
        rel = int(d["decision"] == "release")
        add("total", "", "decided")
        add("total", "", "released", rel)
        add("total", "", "discarded", 1 - rel)
        add("agent", v["agent"], "decided")
        add("agent", v["agent"], "released", rel)
        for name in v["rulenames"]:
            add("rule", name, "decided")
            add("rule", name, "released", rel)
        secs.append(max(0, d["t"] - v["t"]))
    secs.sort()
    rank = lambda p: secs[max(0, math.ceil(p / 100 * len(secs)) - 1)] if secs else None
    fig[total("decision_median_s")] = rank(50)
    fig[total("decision_p90_s")] = rank(90)
    fig[total("decision_max_s")] = rank(100)
    fig[total("hold_rate")] = (fig[total("hold")], fig[total("messages")])
    fig[total("release_rate")] = (fig[total("released")], fig[total("decided")])
    for sec, key, met in list(fig):
        if sec == "day" and met == "messages":
            fig[("day", key, "hold_rate")] = (fig[("day", key, "hold")], fig[(sec, key, met)])
        if sec == "agent" and met == "messages":
            fig[("agent", key, "hold_rate")] = (fig[("agent", key, "holds")], fig[(sec, key, met)])
        if sec == "rule" and met == "findings":
            fig[("rule", key, "release_rate")] = (fig[("rule", key, "released")], fig[("rule", key, "decided")])
    byname = lambda s: s.encode("utf-8", "surrogateescape")
    agent_order = sorted({k for s, k, m in fig if s == "agent"},
                         key=lambda a: (-fig[("agent", a, "holds")], -fig[("agent", a, "messages")], byname(a)))
    rule_order = sorted({k for s, k, m in fig if s == "rule"},
                        key=lambda r: (-fig[("rule", r, "findings")], byname(r)))
    tops = {r: sorted(excerpts[r].items(), key=lambda e: (-e[1], byname(e[0])))[:top] for r in excerpts}
    return {"fig": fig, "agents": agent_order, "rules": rule_order, "excerpts": tops if top else {}}


def csv_value(met, v):
    if v is None:
        return ""
    if isinstance(v, tuple):
        return "%.4f" % (v[0] / v[1]) if v[1] else ""
    return str(v)


def shown_value(met, v):
    """A figure as the HTML shows it."""
    if v is None:
        return "-"
    if isinstance(v, tuple):
        return "%.1f%%" % (100.0 * v[0] / v[1]) if v[1] else "-"
    if met.startswith("decision_") and met.endswith("_s"):
        return "%d:%02d:%02d" % (v // 3600, v // 60 % 60, v % 60)
    return str(v)


def safe_text(s):
    """What the HTML shows for a string from the log."""
    return "".join("\ufffd" if ord(c) < 0x20 or ord(c) == 0x7f or 0x80 <= ord(c) < 0xa0
                   or 0xdc80 <= ord(c) <= 0xdcff else c for c in s)


def check_csv(path, m):
    """The CSV's rows against the model: the same figures, each once, with
    the documented order (sections, then days ascending, agents and rules in
    the report's order)."""
    import csv
    bad = []
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    if not rows or rows[0] != ["section", "key", "metric", "value"]:
        return ["header is %r" % (rows[:1],)]
    got = {}
    for r in rows[1:]:
        if len(r) != 4:
            bad.append("row %r has %d cells" % (r, len(r)))
            continue
        k = (r[0], r[1][1:] if r[1][:2] in ("'=", "'+", "'-", "'@") and len(r[1]) > 2 else r[1], r[2])
        if k in got:
            bad.append("row %s twice" % (k,))
        got[k] = r[3]
    fig = m["fig"]
    for k in sorted(set(got) | set(fig)):
        if k not in got:
            bad.append("no row %s (expected %s)" % (k, csv_value(k[2], fig[k])))
        elif k not in fig:
            bad.append("row %s = %r not expected" % (k, got[k]))
        elif got[k] != csv_value(k[2], fig[k]):
            bad.append("%s: %r, expected %r" % (k, got[k], csv_value(k[2], fig[k])))
    order = []
    for r in rows[1:]:
        if r[0] in ("agent", "rule", "day") and (r[0], r[1]) not in order:
            order.append((r[0], r[1]))
    days = sorted({k for s, k, _ in fig if s == "day"})
    want = [("day", d) for d in days] + [("agent", a) for a in m["agents"]] + [("rule", r) for r in m["rules"]]
    if order != want:
        bad.append("order of days, agents, rules: %s, expected %s" % (order, want))
    sections = [r[0] for r in rows[1:]]
    if sections != sorted(sections, key=["total", "input", "day", "agent", "rule", "status"].index):
        bad.append("sections out of order")
    return bad


# ---- the browser

class Chromium:
    """Headless Chromium driven over the DevTools protocol (one page)."""

    def __init__(self, deadline):
        import websocket  # python3-websocket
        self.deadline = deadline
        self.tmp = tempfile.mkdtemp(prefix="tg-report-chromium.")
        self.proc = subprocess.Popen(
            [os.environ.get("CHROMIUM", "chromium"), "--headless=new", "--no-sandbox", "--disable-gpu",
             "--remote-debugging-port=0", "--user-data-dir=" + self.tmp, "--no-first-run",
             "--no-default-browser-check", "--disable-extensions", "--disable-background-networking",
             "--disable-sync", "--disable-component-update", "--hide-scrollbars",
             "--window-size=1200,900", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=open(os.path.join(self.tmp, "stderr"), "wb"),
            start_new_session=True)
        port_file = os.path.join(self.tmp, "DevToolsActivePort")
        port = None
        while port is None:
            self.check_time("Chromium to write DevToolsActivePort")
            if self.proc.poll() is not None:
                raise RuntimeError("chromium exited with %d" % self.proc.returncode)
            try:
                with open(port_file) as f:
                    port = int(f.readline())
            except (OSError, ValueError):
                time.sleep(0.05)
        page = None
        while page is None:
            self.check_time("Chromium's page target")
            with urllib.request.urlopen("http://127.0.0.1:%d/json/list" % port, timeout=5) as r:
                page = next((t for t in json.load(r) if t.get("type") == "page"), None)
            if page is None:
                time.sleep(0.05)
        self.ws = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=5,
                                              suppress_origin=True)
        self.next_id = 0
        self.events = []

    def check_time(self, what):
        if time.monotonic() > self.deadline:
            raise TimeoutError("timed out waiting for " + what)

    def recv(self):
        import websocket
        self.ws.settimeout(max(0.05, min(5, self.deadline - time.monotonic())))
        try:
            return json.loads(self.ws.recv())
        except websocket.WebSocketTimeoutException:
            return None

    def call(self, method, **params):
        self.next_id += 1
        mid = self.next_id
        self.ws.send(json.dumps({"id": mid, "method": method, "params": params}))
        while True:
            self.check_time(method)
            m = self.recv()
            if m is None:
                continue
            if m.get("id") == mid:
                if "error" in m:
                    raise RuntimeError("%s: %s" % (method, m["error"]))
                return m.get("result", {})
            if "method" in m:
                self.events.append(m)

    def wait_event(self, method):
        for i, e in enumerate(self.events):
            if e["method"] == method:
                return self.events.pop(i)
        while True:
            self.check_time(method)
            m = self.recv()
            if m is not None and "method" in m:
                if m["method"] == method:
                    return m
                self.events.append(m)

    def drain(self, seconds):
        end = min(self.deadline, time.monotonic() + seconds)
        while time.monotonic() < end:
            self.ws.settimeout(max(0.05, end - time.monotonic()))
            try:
                m = json.loads(self.ws.recv())
            except Exception:
                break
            if "method" in m:
                self.events.append(m)

    def eval(self, expr):
        r = self.call("Runtime.evaluate", expression=expr, returnByValue=True)
        if "exceptionDetails" in r:
            raise RuntimeError("evaluate: %s" % r["exceptionDetails"])
        return r["result"].get("value")

    def close(self):
        try:
            self.ws.close()
        except Exception:
            pass
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=5)
        except (subprocess.TimeoutExpired, ProcessLookupError):
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                pass
        shutil.rmtree(self.tmp, ignore_errors=True)


EXTRACT = r"""(() => {
  const figs = [...document.querySelectorAll('[data-fig]')].map(e =>
      [e.dataset.fig, e.dataset.key, e.dataset.metric, e.textContent.trim()]);
  const bars = [...document.querySelectorAll('[data-bar]')].map(e => {
      const r = e.getBoundingClientRect();
      return [e.dataset.bar, e.dataset.key, e.dataset.metric || '', parseFloat(e.dataset.v), r.width, r.height];
  });
  const excerpts = [...document.querySelectorAll('li[data-excerpt]')].map(e =>
      [e.dataset.excerpt, parseInt(e.dataset.count), e.querySelector('q').textContent]);
  return {figs, bars, excerpts,
          scripts: document.querySelectorAll('script,iframe,object,embed,img').length,
          charts: [...document.querySelectorAll('svg')].map(s => s.id),
          overflow: document.documentElement.scrollWidth - window.innerWidth,
          title: document.title, height: document.documentElement.scrollHeight};
})()"""


def browse(html, m, screenshot, timeout, failures):
    t0 = time.monotonic()
    c = Chromium(t0 + timeout)
    try:
        c.call("Emulation.setDeviceMetricsOverride", width=1200, height=900, deviceScaleFactor=1, mobile=False)
        for domain in ("Page", "Runtime", "Log", "Network"):
            c.call(domain + ".enable")
        c.call("Page.navigate", url="file://" + os.path.abspath(html))
        c.wait_event("Page.loadEventFired")
        c.drain(0.3)  # late console messages and violations
        for e in c.events:
            meth, p = e["method"], e.get("params", {})
            if meth == "Runtime.exceptionThrown":
                failures.append("exception: %s" % p.get("exceptionDetails", {}).get("text"))
            elif meth == "Runtime.consoleAPICalled" and p.get("type") in ("error", "warning", "assert"):
                failures.append("console %s: %s" % (p["type"], [a.get("value") for a in p.get("args", [])]))
            elif meth == "Log.entryAdded" and p["entry"]["level"] in ("error", "warning"):
                failures.append("log %s: %s" % (p["entry"]["level"], p["entry"].get("text")))
            elif meth == "Network.loadingFailed":
                failures.append("load failed: %s" % p.get("errorText"))
            elif meth == "Network.requestWillBeSent" and not p["request"]["url"].startswith("file://"):
                failures.append("network request: %s" % p["request"]["url"])
        got = c.eval(EXTRACT)
        if screenshot:
            c.call("Emulation.setDeviceMetricsOverride", width=1200, height=int(got["height"]),
                   deviceScaleFactor=1, mobile=False)
            shot = c.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)
            with open(screenshot, "wb") as f:
                f.write(base64.b64decode(shot["data"]))
    finally:
        c.close()
    elapsed = time.monotonic() - t0
    compare(got, m, failures)
    return elapsed, got


def compare(got, m, failures):
    fig = m["fig"]
    shown = {}
    for sec, key, met, text in got["figs"]:
        if (sec, key, met) in shown and shown[(sec, key, met)] != text:
            failures.append("%s/%s/%s shown twice: %r and %r" % (sec, key, met, shown[(sec, key, met)], text))
        shown[(sec, key, met)] = text
    for k in sorted(set(fig) | set(shown)):
        if k not in shown:
            failures.append("figure %s not shown" % (k,))
        elif k not in fig:
            failures.append("figure %s shown (%r) but not expected" % (k, shown[k]))
        elif shown[k] != shown_value(k[2], fig[k]):
            failures.append("figure %s: shown %r, expected %r" % (k, shown[k], shown_value(k[2], fig[k])))
    if got["scripts"]:
        failures.append("%d script/iframe/object/embed/img elements in the page" % got["scripts"])
    if got["overflow"] > 0:
        failures.append("the page is %d px wider than the 1200 px window" % got["overflow"])
    # bars: values, order and lengths proportional to values, chart by chart
    charts = {}
    for chart, key, met, v, w, h in got["bars"]:
        charts.setdefault(chart, []).append((key, met, v, w if chart != "days" else h))
    want = {
        "days": [(k, met, fig[("day", k, met)]) for (s, k, met) in sorted(fig)
                 if s == "day" and met in ACTIONS and fig[(s, k, met)]],
        "agents": [(a, "", fig[("agent", a, "holds")]) for a in m["agents"] if fig[("agent", a, "holds")]][:20],
        "rules": [(r, "", fig[("rule", r, "findings")]) for r in m["rules"]][:20],
        "release": [(r, "", 100.0 * fig[("rule", r, "released")] / fig[("rule", r, "decided")])
                    for r in m["rules"] if fig[("rule", r, "decided")]][:20],
    }
    for chart, rows in want.items():
        have = charts.get(chart, [])
        keyed = lambda rs: sorted(rs) if chart == "days" else rs
        pairs = list(zip(keyed([(k, met, v) for k, met, v, _ in have]), keyed(rows)))
        if len(have) != len(rows) or any(g[:2] != w[:2] or abs(g[2] - w[2]) > 0.001 for g, w in pairs):
            failures.append("chart %s: bars %s, expected %s" % (chart, [(k, met, v) for k, met, v, _ in have], rows))
            continue
        scale = [size / v for _, _, v, size in have if v > 0]
        if have and not rows:
            failures.append("chart %s drawn without data" % chart)
        if scale and max(scale) - min(scale) > 0.02 * max(scale) + 0.5:
            failures.append("chart %s: bar lengths not proportional to values: %s" % (chart, have))
        if rows and min(size for _, _, v, size in have if v > 0) < 1:
            failures.append("chart %s: a bar of a value above 0 is not visible" % chart)
    exp_ex = [(r, n, safe_text(x)) for r in m["rules"] for x, n in m["excerpts"].get(r, [])]
    got_ex = [tuple(e) for e in got["excerpts"]]
    if got_ex != exp_ex:
        failures.append("excerpts shown %s, expected %s" % (got_ex, exp_ex))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("cmd", choices=["csv", "value", "browse"])
    ap.add_argument("args", nargs="*")
    ap.add_argument("--since")
    ap.add_argument("--until")
    ap.add_argument("--agent", action="append", default=[])
    ap.add_argument("--top", type=int, default=5)
    ap.add_argument("--html")
    ap.add_argument("--screenshot")
    ap.add_argument("--timeout", type=float, default=60)
    a = ap.parse_intermixed_args()
    since = parse_time(a.since) if a.since else None
    until = parse_time(a.until, end=True) if a.until else None
    if a.cmd == "value":
        sec, key, met, logs = a.args[0], a.args[1], a.args[2], a.args[3:]
    elif a.cmd == "csv":
        csvfile, logs = a.args[0], a.args[1:]
    else:
        logs = a.args
    m = model(logs, since, until, a.agent, a.top)
    if a.cmd == "csv":
        bad = check_csv(csvfile, m)
        for b in bad:
            print("FAIL csv: " + b)
        print("csv: %d figures compared" % len(m["fig"]))
        return 1 if bad else 0
    if a.cmd == "value":
        v = m["fig"].get((sec, key, met))
        if v is None:
            sys.exit("no figure %s,%s,%s" % (sec, key, met))
        print(shown_value(met, v))
        return 0
    failures = []
    try:
        elapsed, got = browse(a.html, m, a.screenshot, a.timeout, failures)
    except Exception as e:  # a timeout or a protocol error is a failure too
        print("FAIL browser: %s: %s" % (type(e).__name__, e))
        return 1
    for f in failures:
        print("FAIL browser: " + f)
    print("browser: %d figures, %d bars, %d excerpts checked in %.2f s (%s)%s" % (
        len(got["figs"]), len(got["bars"]), len(got["excerpts"]), elapsed, got["title"],
        "; screenshot " + a.screenshot if a.screenshot else ""))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
