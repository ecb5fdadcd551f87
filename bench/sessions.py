#!/usr/bin/env python3
"""sessions.py — hold N SMTP sessions open at once against 127.0.0.1:PORT
(make bench, memory check, issue #5).

    sessions.py PORT N HOLD_SECONDS MESSAGE_FILE...

Every session, in lock step: banner, EHLO, one whole message (MAIL, RCPT,
DATA, the next file of MESSAGE_FILE round robin, "."), then MAIL and RCPT of
a second transaction, and waits there: the milter has seen a message on every
connection and still holds a connection context for each. Prints how many
sessions got that far, sleeps HOLD_SECONDS (the caller measures meanwhile;
it waits for the line "holding N sessions"), then QUITs them all. Every
socket has a timeout; nothing listens.
"""
import socket
import sys
import time


def reply(s, buf):
    """Read one complete SMTP reply; return (code, rest of buffer)."""
    while True:
        lines = buf.split(b"\r\n")
        for i, l in enumerate(lines[:-1]):
            if len(l) >= 4 and l[3:4] == b" ":
                return int(l[:3]), b"\r\n".join(lines[i + 1:])
        d = s.recv(65536)
        if not d:
            raise OSError("connection closed")
        buf += d


def main():
    port, n, hold = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
    msgs = []
    for p in sys.argv[4:]:
        with open(p, "rb") as f:
            data = f.read().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
        data = b"\r\n".join(b"." + l if l.startswith(b".") else l for l in data.split(b"\r\n"))
        msgs.append(data if data.endswith(b"\r\n") else data + b"\r\n")
    socks, bufs, alive = [], [], []
    for i in range(n):
        s = socket.create_connection(("127.0.0.1", port), timeout=60)
        socks.append(s)
        bufs.append(b"")
        alive.append(True)

    def step(cmds, want):
        ok = 0
        for i, s in enumerate(socks):
            if not alive[i]:
                continue
            try:
                if cmds is not None:
                    c = cmds(i)
                    s.sendall(c)
            except OSError:
                alive[i] = False
        for i, s in enumerate(socks):
            if not alive[i]:
                continue
            try:
                code, bufs[i] = reply(s, bufs[i])
                if code // 100 == want:
                    ok += 1
                else:
                    alive[i] = False
            except OSError:
                alive[i] = False
        return ok

    step(None, 2)
    step(lambda i: b"EHLO bench.tonegate.test\r\n", 2)
    step(lambda i: b"MAIL FROM:<agent%d@acme.example>\r\n" % i, 2)
    step(lambda i: b"RCPT TO:<customer%d@example.net>\r\n" % i, 2)
    step(lambda i: b"DATA\r\n", 3)
    sent = step(lambda i: msgs[i % len(msgs)] + b".\r\n", 2)
    step(lambda i: b"MAIL FROM:<agent%d@acme.example>\r\n" % i, 2)
    held = step(lambda i: b"RCPT TO:<customer%d@example.net>\r\n" % i, 2)
    print("sent %d messages; holding %d sessions" % (sent, held), flush=True)
    time.sleep(hold)
    for i, s in enumerate(socks):
        try:
            if alive[i]:
                s.sendall(b"QUIT\r\n")
            s.close()
        except OSError:
            pass
    return 0 if held == n else 1


if __name__ == "__main__":
    sys.exit(main())
