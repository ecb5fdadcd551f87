#!/usr/bin/env python3
"""trial.py - tonegate-check over whole mailboxes, as a manager runs it before
a policy goes live: an mbox and a Maildir made from the sample replies, the
summary, --jobs, --compare, the progress line and the errors. Every figure is
checked against tonegate-check's own verdicts on the single files, computed
here independently."""
import collections
import json
import mailbox
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile

top_src = pathlib.Path(os.environ.get("top_srcdir", "."))
top_build = pathlib.Path(os.environ.get("top_builddir", "."))
TC = str(top_build / "src" / "tonegate-check")
POLICY = str(top_src / "conf" / "policy.conf")
CORPUS = sorted((top_src / "tests" / "corpus").glob("*.eml")) + sorted((top_src / "conf" / "examples").glob("*.eml"))
fails = 0


def fail(msg):
    global fails
    fails += 1
    print("FAIL", msg)


def run(*args, want=None):
    p = subprocess.run([TC, *args], capture_output=True, text=True, timeout=300)
    if want is not None and p.returncode != want:
        fail(f"{' '.join(args)}: exit {p.returncode}, want {want}\n{p.stderr[-2000:]}")
    return p


def jlines(text):
    return [json.loads(line) for line in text.splitlines() if line.strip()]


tmp = pathlib.Path(tempfile.mkdtemp())
try:
    # One message has a body line starting with "From ": mbox writers quote
    # it (">From "), and the reader must give the agent's words back as written.
    from_line = (b"From: Dana <dana@acme.example>\nTo: kim@example.net\nSubject: Re: logs\n\n"
                 b"Hi Kim,\n\nFrom the logs you sent, the sync stopped at 09:12. I've restarted it\n"
                 b"and it is running again. Let me know if anything looks off.\n\nBest,\nDana\n")
    (tmp / "from-line.eml").write_bytes(from_line)
    files = CORPUS + [tmp / "from-line.eml"]
    raw = [f.read_bytes() for f in files]

    mbox = mailbox.mbox(str(tmp / "sent.mbox"))
    for r in raw:
        mbox.add(r)
    mbox.flush()
    mbox.close()
    if b"\n>From the logs" not in (tmp / "sent.mbox").read_bytes():
        fail("the test mbox does not quote the From line")
    md = mailbox.Maildir(str(tmp / "Maildir"), create=True)
    for i, r in enumerate(raw):
        m = mailbox.MaildirMessage(r)
        if i % 2:
            m.set_subdir("cur")
        md.add(m)

    # The reference: each file judged on its own.
    ref = jlines(run("--policy", POLICY, "--json", *map(str, files)).stdout)
    if len(ref) != len(files):
        fail(f"{len(ref)} verdicts for {len(files)} files")
    actions = collections.Counter(v["action"] for v in ref if v["status"] == "ok")
    rules = collections.Counter(f["rule"] for v in ref for f in v["findings"])

    def check_summary(name, s, n):
        if s["messages"] != n:
            fail(f"{name}: {s['messages']} messages, want {n}")
        got = {a: c for a, c in s["actions"].items() if c}
        if got != dict(actions):
            fail(f"{name}: actions {got}, want {dict(actions)}")
        got = {r: v["messages"] for r, v in s["rules"].items()}
        if got != dict(rules):
            fail(f"{name}: rules {got}, want {dict(rules)}")

    # mbox and Maildir: the same verdicts as the files, message by message.
    outs = {}
    for src in ("sent.mbox", "Maildir"):
        out = outs[src] = jlines(run("--policy", POLICY, "--json", str(tmp / src)).stdout)
        if sorted((v["action"], v["score"]) for v in out) != sorted((v["action"], v["score"]) for v in ref):
            fail(f"{src}: verdicts differ from the single files")
        s = jlines(run("--policy", POLICY, "--json", "--summary", str(tmp / src)).stdout)
        if len(s) != 1 or "summary" not in s[0]:
            fail(f"{src}: --summary --json is not one summary object: {s[:2]}")
        else:
            check_summary(src, s[0]["summary"], len(files))
    mbox_out = outs["sent.mbox"]
    if [v["file"] for v in mbox_out[:2]] != [f"{tmp}/sent.mbox:1", f"{tmp}/sent.mbox:2"]:
        fail(f"mbox messages are not named MBOX:N: {[v['file'] for v in mbox_out[:2]]}")
    if [(v["action"], v["score"]) for v in mbox_out] != [(v["action"], v["score"]) for v in ref]:
        fail("mbox: verdicts are not in mailbox order")
    last = run("--policy", POLICY, "--text", f"{tmp}/sent.mbox").stdout
    if "From the logs you sent" not in last or ">From the logs" in last:
        fail("a quoted >From line in an mbox is not given back as written")
    if len(list((tmp / "Maildir" / "new").iterdir())) != (len(files) + 1) // 2:
        fail("reading the Maildir moved or removed messages in new/")

    # The text summary: agents with most holds, counted here from From.
    held = collections.Counter()
    for f, v in zip(files, ref):
        if v["action"] in ("hold", "reject"):
            frm = mailbox.mboxMessage(f.read_bytes())["From"]
            held[frm.split("<")[-1].rstrip(">").strip().lower()] += 1
    # --jobs: the same output, in the same order, on several threads.
    one = run("--policy", POLICY, str(tmp / "sent.mbox"), want=1)
    four = run("--policy", POLICY, "--jobs", "4", str(tmp / "sent.mbox"))
    if one.stdout != four.stdout or one.returncode != four.returncode or not one.stdout:
        fail("--jobs 4 does not give the output of --jobs 1")
    run("--policy", POLICY, "--jobs", "x", str(tmp / "sent.mbox"), want=2)
    text = one.stdout.split("\nSummary: ")[-1]
    (top, n), second = held.most_common(2)
    head = text.split("Agents with most holds:\n")[-1].splitlines()[0].split()
    if n == second[1] or head[:3] != [top, str(n), "held"]:
        fail(f"summary: {top} with {n} held is not first (or not alone at the top):\n{text}")
    for a, n in actions.items():
        if not any(line.split()[:2] == [a, str(n)] for line in text.splitlines()):
            fail(f"summary: no '{a} {n}' line:\n{text}")
    if '"Nope."' not in text:
        fail("summary: the top excerpts do not show \"Nope.\"")

    # --compare: an old policy where false empathy was only a suggestion and
    # "nope" was not a refusal; the changes are worked out here from two runs.
    text = pathlib.Path(POLICY).read_text()
    old = text.replace('floor = "hold";\n    message = "\\"I know how you feel\\"',
                       'floor = "suggest";\n    message = "\\"I know how you feel\\"', 1)
    old = old.replace('"nope"', '"nah-never"')
    if old.count("nah-never") == 0 or 'floor = "suggest"' not in old:
        fail("could not make the old policy (the shipped policy changed?)")
    (tmp / "old.conf").write_text(old)
    oldref = jlines(run("--policy", str(tmp / "old.conf"), "--json", *map(str, files)).stdout)
    want = {}
    for i, (n, o) in enumerate(zip(ref, oldref)):
        rn, ro = {f["rule"] for f in n["findings"]}, {f["rule"] for f in o["findings"]}
        if n["action"] != o["action"] or rn != ro:
            want[f"{tmp}/sent.mbox:{i + 1}"] = (o["action"], n["action"], sorted(ro - rn), sorted(rn - ro))
    if not want:
        fail("the old policy changes nothing: the compare test would prove nothing")
    p = run("--policy", POLICY, "--compare", str(tmp / "old.conf"), "--json", str(tmp / "sent.mbox"), want=1)
    lines = jlines(p.stdout)
    got = {v["file"]: (v["old"], v["new"], v["lost"], v["gained"]) for v in lines if "file" in v}
    if got != want:
        fail(f"--compare: changes {got}\nwant {want}")
    summ = [v["summary"] for v in lines if "summary" in v]
    moves = collections.Counter(f"{o}->{n}" for o, n, _, _ in want.values() if o != n)
    if not summ or summ[0]["compare"]["changed"] != len(want) or summ[0]["compare"]["moves"] != dict(moves):
        fail(f"--compare summary: {summ}, want changed={len(want)} moves={dict(moves)}")
    p = run("--policy", POLICY, "--compare", str(tmp / "old.conf"), str(tmp / "sent.mbox"), want=1)
    if f"Compared with {tmp}/old.conf: {len(want)} of {len(files)} messages change" not in p.stdout:
        fail(f"--compare text summary:\n{p.stdout}")
    run("--policy", POLICY, "--compare", POLICY, str(tmp / "sent.mbox"), want=0)

    # Errors: a missing mailbox and an unreadable folder are named, and the
    # run goes on with the rest (exit 2).
    (tmp / "locked").mkdir()
    shutil.copy(files[0], tmp / "locked" / "a.eml")
    os.chmod(tmp / "locked", 0)
    pre = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] if os.getuid() == 0 else []
    os.chmod(tmp, 0o755)
    for f in (tmp / "sent.mbox",):
        os.chmod(f, 0o644)
    p = subprocess.run(pre + [TC, "--policy", POLICY, "--summary", str(tmp / "nowhere.mbox"), str(tmp / "locked"),
                              str(tmp / "sent.mbox")], capture_output=True, text=True, timeout=300)
    if p.returncode != 2:
        fail(f"errors: exit {p.returncode}, want 2")
    for msg in (f"{tmp}/nowhere.mbox: cannot read: No such file or directory; skipped",
                f"{tmp}/locked: cannot read the folder: Permission denied; skipped"):
        if msg not in p.stderr:
            fail(f"errors: no '{msg}' in:\n{p.stderr}")
    if f"Summary: {len(files)} messages" not in p.stdout:
        fail(f"errors: the run did not go on with the mbox:\n{p.stdout}")
    os.chmod(tmp / "locked", 0o755)

    # The progress line: on a terminal (script gives one), never in a pipe.
    big = mailbox.mbox(str(tmp / "big.mbox"))
    for i in range(2000):
        big.add(raw[i % len(raw)])
    big.flush()
    big.close()
    p = run("--policy", POLICY, "--summary", str(tmp / "big.mbox"))
    if p.stderr:
        fail(f"progress output without a terminal: {p.stderr[:200]!r}")
    p = subprocess.run(["script", "-qec", f"{TC} --policy {POLICY} --summary --jobs 1 {tmp}/big.mbox", "/dev/null"],
                       capture_output=True, text=True, timeout=300)
    if "/2000 messages" not in p.stdout or " left" not in p.stdout or "Summary: 2000 messages" not in p.stdout:
        fail(f"no progress line on a terminal: {p.stdout[:300]!r}")
finally:
    shutil.rmtree(tmp, ignore_errors=True)

print(f"trial.py: {'all passed' if fails == 0 else f'{fails} failed'}")
sys.exit(1 if fails else 0)
