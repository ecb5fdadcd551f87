#!/usr/bin/env python3
"""smtpload.py — an SMTP client that never gives up on a message: the fault
and load tests' sender (faults.sh, load.sh).

    smtpload.py count PORT N PARALLEL PREFIX DEADLINE CURT_EML GOOD_EML
        Send N messages over PARALLEL sessions; every 4th is the curt reply,
        the rest courteous. Each carries the token PREFIX-<i> in its Subject
        and Message-ID. A 4xx reply, a dropped or refused connection is a
        temporary failure: the message is sent again on a new connection
        (as an MTA would retry), until DEADLINE seconds have passed.
    smtpload.py load PORT SESSIONS SECONDS INTERVAL PREFIX CURT_EML GOOD_EML
        Open SESSIONS sessions at once and keep every one sending for
        SECONDS: one message, a random pause of up to INTERVAL seconds, the
        next message on the same session. Nothing is retried: every reply
        that is not 2xx/3xx and every dropped session is an error.

Prints one JSON object: sent (unique messages), accepted, tempfail (4xx and
dropped connections, each retried in count mode), rejected (5xx), errors,
gave_up, sessions, and the tokens accepted per kind. Every socket has a
timeout; it only connects to 127.0.0.1.
"""
import json
import random
import socket
import sys
import threading
import time


class TempFail(Exception):
    pass


class Rejected(Exception):
    pass


def crlf(path):
    with open(path, "rb") as f:
        data = f.read().replace(b"\r\n", b"\n")
    lines = [b"." + l if l.startswith(b".") else l for l in data.rstrip(b"\n").split(b"\n")]
    return b"\r\n".join(lines) + b"\r\n"


def mark(msg, token):
    """The message with its Subject and Message-ID carrying token."""
    out = []
    for l in msg.split(b"\r\n"):
        if l.lower().startswith(b"subject:"):
            l = b"Subject: Re: your order " + token
        elif l.lower().startswith(b"message-id:"):
            l = b"Message-ID: <" + token + b"@acme.example>"
        out.append(l)
    return b"\r\n".join(out)


class Session:
    def __init__(self, port, setup_timeout=120):
        # Postfix's master starts smtpd processes one at a time as clients
        # wait, so a thousand sessions take a while to get their banners.
        self.s = socket.create_connection(("127.0.0.1", port), timeout=setup_timeout)
        self.buf = b""
        self.expect(220)
        self.cmd(b"EHLO load.acme.example", 250)
        self.s.settimeout(120)

    def reply(self):
        while True:
            lines = self.buf.split(b"\r\n")
            for i, l in enumerate(lines[:-1]):
                if len(l) >= 4 and l[3:4] == b" ":
                    self.buf = b"\r\n".join(lines[i + 1:])
                    return int(l[:3]), l
            d = self.s.recv(65536)
            if not d:
                raise TempFail("connection closed")
            self.buf += d

    def expect(self, want):
        code, line = self.reply()
        if code // 100 == 4:
            raise TempFail(line.decode(errors="replace"))
        if code // 100 == 5:
            raise Rejected(line.decode(errors="replace"))
        if code != want:
            raise TempFail("unexpected " + line.decode(errors="replace"))

    def cmd(self, c, want):
        self.s.sendall(c + b"\r\n")
        self.expect(want)

    def message(self, rcpt, data):
        self.cmd(b"MAIL FROM:<agent@acme.example>", 250)
        self.cmd(b"RCPT TO:<" + rcpt + b">", 250)
        self.cmd(b"DATA", 354)
        self.s.sendall(data + b".\r\n")
        self.expect(250)

    def close(self):
        try:
            self.s.sendall(b"QUIT\r\n")
            self.reply()
        except OSError:
            pass
        except TempFail:
            pass
        self.s.close()


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.c = {"sent": 0, "accepted": 0, "tempfail": 0, "rejected": 0, "errors": 0,
                  "gave_up": 0, "sessions": 0, "error_samples": [], "curt": [], "good": []}

    def add(self, key, n=1):
        with self.lock:
            self.c[key] += n

    def error(self, what):
        with self.lock:
            self.c["errors"] += 1
            if len(self.c["error_samples"]) < 5:
                self.c["error_samples"].append(what)

    def token(self, kind, tok):
        with self.lock:
            self.c[kind].append(tok.decode())


def count_mode(port, n, parallel, prefix, deadline, curt, good):
    st = Stats()
    end = time.time() + deadline
    todo = list(range(1, n + 1))
    lock = threading.Lock()

    def worker():
        sess = None
        while True:
            with lock:
                if not todo:
                    break
                i = todo.pop(0)
            st.add("sent")
            tok = prefix + b"-" + str(i).encode()
            kind = "curt" if i % 4 == 0 else "good"
            data = mark(curt if kind == "curt" else good, tok)
            while True:
                try:
                    if sess is None:
                        sess = Session(port)
                        st.add("sessions")
                    sess.message(b"c" + str(i).encode() + b"@example.net", data)
                    st.add("accepted")
                    st.token(kind, tok)
                    break
                except Rejected:
                    st.add("rejected")
                    break
                except (TempFail, OSError):
                    st.add("tempfail")
                    if sess is not None:
                        sess.s.close()
                    sess = None
                    if time.time() > end:
                        st.add("gave_up")
                        break
                    time.sleep(0.3)
        if sess is not None:
            sess.close()

    ts = [threading.Thread(target=worker) for _ in range(parallel)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return st.c


def load_mode(port, sessions, seconds, interval, prefix, curt, good):
    st = Stats()
    start = threading.Barrier(sessions + 1)
    stop_at = [0.0]
    seq = [0]
    lock = threading.Lock()

    setup = threading.Semaphore(32)  # a burst of 1,000 SYNs overflows listen queues

    def worker(k):
        try:
            with setup:
                sess = Session(port, 600)
            st.add("sessions")
        except (TempFail, Rejected, OSError) as e:
            st.error("connect: %s" % e)
            start.wait()
            return
        start.wait()
        rnd = random.Random(k)
        time.sleep(rnd.uniform(0, interval))
        while time.time() < stop_at[0]:
            with lock:
                seq[0] += 1
                i = seq[0]
            kind = "curt" if i % 4 == 0 else "good"
            tok = prefix + b"-" + str(i).encode()
            st.add("sent")
            try:
                sess.message(b"c%d@example.net" % i, mark(curt if kind == "curt" else good, tok))
                st.add("accepted")
                st.token(kind, tok)
            except Rejected as e:
                st.add("rejected")
                st.error(str(e))
            except (TempFail, OSError) as e:
                st.add("tempfail")
                st.error(str(e))
                return
            time.sleep(rnd.uniform(0, interval))
        sess.close()

    ts = [threading.Thread(target=worker, args=(k,)) for k in range(sessions)]
    t0 = time.time()
    for t in ts:
        t.start()
    start.wait()
    stop_at[0] = time.time() + seconds
    st.c["open_seconds"] = round(time.time() - t0, 1)
    print("load: %d sessions open after %.1f s" % (st.c["sessions"], st.c["open_seconds"]),
          file=sys.stderr, flush=True)
    for t in ts:
        t.join()
    return st.c


def main():
    a = sys.argv
    threading.stack_size(256 * 1024)
    if len(a) == 9 and a[1] == "count":
        r = count_mode(int(a[2]), int(a[3]), int(a[4]), a[5].encode(), float(a[6]),
                       crlf(a[7]), crlf(a[8]))
    elif len(a) == 9 and a[1] == "load":
        r = load_mode(int(a[2]), int(a[3]), float(a[4]), float(a[5]), a[6].encode(),
                      crlf(a[7]), crlf(a[8]))
    else:
        sys.stderr.write(__doc__)
        sys.exit(2)
    print(json.dumps(r))


if __name__ == "__main__":
    main()
