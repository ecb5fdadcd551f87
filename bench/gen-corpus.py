#!/usr/bin/env python3
"""gen-corpus.py — a deterministic corpus of outgoing support replies for
make bench (issue #5): N .eml files, a mix of plain text, HTML-only and
multipart replies, 1-20 KB each, most of the bytes in quoted history.

    gen-corpus.py [--seed S] [-n N] [--min-kb A] [--max-kb B] OUTDIR

The same seed, N and bounds always write the same bytes (random.Random(seed),
no clock, no environment). Every file carries X-Bench-Kind (plain, html,
alternative, mixed) and X-Bench-Intent (good, gap, bad) so the bench can
break its figures down. The text is written for this bench: sentences in the
voices of retail, SaaS, telecom and travel support, most of them courteous,
some with stylistic gaps, a few that tonegate should hold.

Kinds (by count): 50% plain (7bit, quoted-printable or base64), 25% HTML
only (quoted-printable, <blockquote> or gmail_quote history), 25% multipart
(multipart/alternative; one in five wrapped in multipart/mixed with a small
PDF attachment). Sizes are log-uniform between the bounds (median ~4.5 KB
for 1-20 KB): the size is reached by a longer quoted thread, as in real mail.
"""
import argparse
import base64
import math
import os
import quopri
import random
import sys

AGENTS = [
    ("Priya Raman", "support@northwind-home.example", "Northwind Home Support"),
    ("Tomasz Wolski", "help@ledgerly.example", "Ledgerly Customer Success"),
    ("Aisha Bello", "care@fibrenet.example", "FibreNet Customer Care"),
    ("Marco Ferri", "service@skyvale.example", "Skyvale Airways Customer Relations"),
    ("Hannah Olsen", "support@greenbox-meals.example", "Greenbox Meals"),
    ("Daniel Kim", "support@pixelforge.example", "PixelForge Support"),
    ("Lucia Moreno", "helpdesk@harbourhotels.example", "Harbour Hotels Guest Services"),
    ("Owen Price", "support@trailgear.example", "TrailGear Support Team"),
]
CUSTOMERS = [
    ("Maria", "Lopez"), ("James", "Carter"), ("Yuki", "Tanaka"), ("Fatima", "Haddad"),
    ("Peter", "Novak"), ("Grace", "Mensah"), ("Liam", "O'Brien"), ("Sofia", "Rossi"),
    ("Arjun", "Mehta"), ("Chloe", "Dubois"), ("Ben", "Schneider"), ("Nadia", "Petrova"),
    ("Tom", "Hughes"), ("Elena", "Garcia"), ("Kwame", "Asante"), ("Ingrid", "Larsen"),
]
TOPICS = [
    "Order {n} arrived damaged", "Refund for order {n}", "Invoice {n} charged twice",
    "Cannot log in since the update", "Broadband down again", "Flight {n} cancelled",
    "Missing item in box {n}", "Change my delivery day", "Export to CSV fails",
    "Room booking {n} - wrong dates", "Subscription renewal question",
    "Return label not received", "Router keeps dropping Wi-Fi", "Upgrade plan pricing",
]

GREETINGS = [
    "Hi {first},", "Hello {first},", "Dear {first},", "Dear Ms. {last},", "Hi {first} -",
    "Good morning {first},", "Hello {first}, thanks for getting in touch.",
    "Hi {first}, thank you for your patience while we looked into this.",
    "Thanks for reaching out, {first}.",
]
EMPATHY = [
    "I'm sorry this has taken so long to sort out.",
    "I'm really sorry the order arrived in that state - that's not the experience we want you to have.",
    "I understand how frustrating it is to lose an evening to a connection that keeps dropping.",
    "Thank you for letting us know, and sorry for the trouble this has caused.",
    "I can see why this was confusing, and I'm sorry we didn't explain it better the first time.",
    "I completely understand wanting this settled before your trip.",
    "Apologies for the wait over the weekend; the team was working through a backlog.",
    "I'm sorry you had to chase us about this more than once.",
]
FACTS = [
    "I've checked order {n} and the replacement left our warehouse this morning; the tracking link will be active by this evening.",
    "The refund of {amt} was issued today to the card ending in {card}, and banks usually show it within three to five working days.",
    "Our engineers found the cause: the last update changed how sessions are stored, and a fix went out at 14:00 today.",
    "I've moved your delivery to Thursday between 8am and noon, and the driver will text you an hour before arrival.",
    "The duplicate charge on invoice {n} was a pre-authorisation, and it has now been released by our payment provider.",
    "I ran a line test from our side and it showed a fault at the street cabinet, so an engineer is booked for tomorrow.",
    "Your booking now shows the correct dates, arriving on the 12th and leaving on the 15th, at the same rate as before.",
    "The export problem affects files with more than 65,000 rows; splitting the report by month works around it until the fix ships.",
    "I've added a credit of {amt} to your account for the days the service was unavailable.",
    "Your new return label is attached, and any Post Office branch will accept the parcel without printing anything.",
    "The annual plan renews on the 3rd of next month at {amt}, and you can switch to monthly billing from the Billing page at any time before then.",
    "I've reset the two-factor settings on your account, so the next login will ask you to scan a new QR code.",
    "Both missing items have been packed and will reach you with Friday's delivery at no extra cost.",
    "I've escalated the router fault to our hardware team with the logs you sent, under reference {ref}.",
    "The rebooking is confirmed on the 18:40 departure, seat 14C, and your checked bag will transfer automatically.",
    "Your account was locked after five failed attempts, which is a safety measure; I've unlocked it now.",
]
STEPS = [
    "Could you restart the router by holding the reset button for ten seconds and let me know whether the light turns green?",
    "When you have a moment, please reply with a photo of the label on the side of the box.",
    "If you open Settings > Account > Sessions and sign out of every device, the new login should work straight away.",
    "Once the update installs, please try the export again and tell me if the file still comes out empty.",
    "Please keep the damaged item until the courier collects it on Wednesday.",
]
REFUSALS = [
    "We can't refund the booking itself because it was a non-refundable fare, but I can move it to any date in the next twelve months without a change fee.",
    "I'm not able to remove the early termination charge, as it is part of the contract, though I can waive next month's line rental to offset part of it.",
    "Unfortunately we can't ship to a parcel locker for furniture this size, but our courier can deliver to your workplace or hold it at the depot for collection.",
    "The discount code can't be applied after the order is placed, since the payment has already been captured; instead I've added the same amount as store credit.",
]
FOLLOWUPS = [
    "If anything still isn't right, just reply to this email and it will come straight back to me.",
    "Let me know whether that fixes it, and I'll keep the ticket open until you confirm.",
    "If you have any other questions, I'm happy to help.",
    "Please let me know if the new time doesn't suit you and I'll find another slot.",
    "I'll check in on Friday to make sure the engineer visit went ahead.",
]
CLOSINGS = ["Best regards,", "Kind regards,", "Thanks again,", "Best,", "Cheers,",
            "Many thanks,", "Warm regards,", "Take care,"]
# Replies with a stylistic gap (suggest) or a real failure (hold): new text in
# the shape of the policy's rules, not copies of the test corpus.
BAD_BODIES = [
    ["Nope.", "That can't be changed now."],
    ["No. The order has already shipped."],
    ["As I already said in my last email, the refund takes ten days.", "Please read the previous messages."],
    ["I know exactly how you feel.", "The engineer will come on Tuesday."],
    ["Per my last email, we do not offer refunds on sale items."],
    ["Obviously the plan renews automatically, that's how subscriptions work."],
    ["You should have checked the size chart before ordering."],
    ["PLEASE DO NOT OPEN ANOTHER TICKET FOR THIS ISSUE.", "It is being handled."],
    ["Not our problem, the courier lost it.", "Contact them."],
    ["Calm down, it's only a two-day delay."],
]
GAP_EXTRA = [
    "What model is the router? When did it start? Have you tried another cable? Is it every device or just one? Which room is it in?",
    "Done.",
    "Thanks!!! Great news!!! Your order is on its way!!!",
]
CUSTOMER_LINES = [
    "I ordered this over two weeks ago and it still hasn't arrived.",
    "The box was crushed and the lamp inside is cracked in two places.",
    "I've been charged twice this month and nobody has answered my last two emails.",
    "This is the third time the internet has gone down this week and I work from home.",
    "Your app logged me out and now it says my password is wrong, which it isn't.",
    "Can you please tell me when I'll get my money back?",
    "I need the booking changed before Friday or I'll have to cancel the whole trip.",
    "Honestly this is ridiculous, I expected much better from you.",
    "The export just produces an empty file, every single time.",
    "Is there any way to switch to the cheaper plan without losing my data?",
    "The delivery driver left it in the rain and the cardboard fell apart.",
    "I was promised a call back on Monday and nobody rang.",
    "Please can someone actually read what I wrote this time.",
    "We have a team of twelve relying on this and it's been down since the morning.",
    "Thanks for the quick reply, but the problem is still there after restarting.",
    "I've attached the screenshots you asked for, the error code is E-4012.",
]
EARLIER_AGENT = [
    "Thanks for your message. We've received your request and a member of the team will reply within one working day.",
    "I've passed this to our warehouse team and asked them to check the order.",
    "Could you send us a photo of the damage so we can arrange a replacement?",
    "I'm sorry for the inconvenience; I've opened ticket {ref} for this.",
    "Our records show the payment went through on the 4th, so I'll ask billing to look at the second charge.",
]
DISCLAIMER = ("This email and any attachments are confidential and intended solely for the addressee. "
              "If you received it in error, please tell the sender and delete it.")
WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def curly(s):
    return s.replace("'", "\u2019")


class Gen:
    def __init__(self, rnd):
        self.r = rnd

    def fill(self, s):
        r = self.r
        return s.format(n=r.randint(100000, 999999), amt="\u00a3%d.%02d" % (r.randint(5, 480), r.randint(0, 99)),
                        card=r.randint(1000, 9999), ref="TG-%05d" % r.randint(0, 99999),
                        first=self.first, last=self.last)

    def date(self, day):
        r = self.r
        return "%s, %d %s 2026 %02d:%02d:%02d +0000" % (WEEKDAYS[day % 7], 1 + day % 28, MONTHS[(day // 28) % 12],
                                                         r.randint(7, 19), r.randint(0, 59), r.randint(0, 59))

    def agent_paras(self, intent):
        """The agent's own words as a list of paragraphs (each a list of sentences)."""
        r = self.r
        paras = []
        if intent == "bad":
            if r.random() < 0.5:
                paras.append([self.fill(r.choice(GREETINGS))])
            paras.append([self.fill(s) for s in r.choice(BAD_BODIES)])
            if r.random() < 0.5:
                paras.append([r.choice(CLOSINGS), self.agent_name.split()[0]])
            return paras
        if intent == "good" or r.random() < 0.6:
            paras.append([self.fill(r.choice(GREETINGS))])
        p = []
        if intent == "good" or r.random() < 0.5:
            p.append(r.choice(EMPATHY))
        p += [self.fill(s) for s in r.sample(FACTS, r.randint(1, 3))]
        paras.append(p)
        if r.random() < 0.3:
            paras.append([r.choice(REFUSALS)])
        if r.random() < 0.4:
            paras.append([r.choice(STEPS)] + [self.fill(s) for s in r.sample(FACTS, r.randint(0, 2))])
        if intent == "gap":
            paras.append([r.choice(GAP_EXTRA)])
        if intent == "good" or r.random() < 0.5:
            paras.append([r.choice(FOLLOWUPS)])
        if intent == "good" or r.random() < 0.6:
            paras.append([r.choice(CLOSINGS), self.agent_name.split()[0]])
        return paras

    def history(self, target):
        """Earlier messages of the thread, newest first: (who, date, lines)."""
        r = self.r
        turns, size, day, customer = [], 0, r.randint(0, 300), True
        while size < target:
            if customer:
                who = "%s %s <%s.%s@example.net>" % (self.first, self.last, self.first.lower(),
                                                      self.last.lower().replace("'", ""))
                lines = [self.first + ","] if r.random() < 0.2 else []
                para = r.sample(CUSTOMER_LINES, r.randint(2, 5))
                lines += [" ".join(para[:len(para) // 2 + 1]), "", " ".join(para[len(para) // 2 + 1:]) or para[0],
                          "", self.first]
            else:
                who = "%s <%s>" % (self.agent_name, self.agent_addr)
                lines = ["Hi %s," % self.first, "",
                         " ".join(self.fill(s) for s in r.sample(EARLIER_AGENT, r.randint(1, 3))), "",
                         "Kind regards,", self.agent_name.split()[0], "-- ", self.team]
            turns.append((who, self.date(day), lines))
            size += sum(len(x) + 3 for x in lines) + 80
            day -= r.randint(1, 3)
            customer = not customer
        return turns

    # ---- rendering ----------------------------------------------------------------
    def wrap(self, text, width=74):
        out, line = [], ""
        for w in text.split(" "):
            if line and len(line) + 1 + len(w) > width:
                out.append(line)
                line = w
            else:
                line = w if not line else line + " " + w
        out.append(line)
        return out

    def plain(self, paras, turns, style):
        lines = []
        for p in paras:
            if len(p) == 2 and p[0] in CLOSINGS:
                lines += p
            else:
                lines += self.wrap(" ".join(p))
            lines.append("")
        lines += ["-- ", "%s | %s" % (self.agent_name, self.team), "Tel. +44 20 7946 %04d" % self.r.randint(0, 9999)]
        if self.r.random() < 0.3:
            lines += self.wrap(DISCLAIMER)
        lines.append("")
        depth = 1
        for who, date, body in turns:
            if style == "outlook":
                lines += ["-----Original Message-----", "From: " + who, "Sent: " + date,
                          "To: " + ("%s <%s>" % (self.agent_name, self.agent_addr)), "Subject: " + self.subject, ""]
                for b in body:
                    lines += self.wrap(b) if b else [""]
                lines.append("")
            else:
                q = ">" * depth + " "
                lines.append((">" * (depth - 1) + " " if depth > 1 else "") + "On %s, %s wrote:" % (date, who))
                for b in body:
                    lines += [(q + x).rstrip() for x in (self.wrap(b, 72 - depth) if b else [""])]
                depth += 1
        return "\n".join(lines) + "\n"

    def html(self, paras, turns, style):
        def esc(s):
            return (s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
                    .replace("\u2019", "&rsquo;").replace("\u00a3", "&pound;"))
        h = ['<!DOCTYPE html>', '<html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8">',
             '<style>p{margin:0 0 1em 0;font-family:Arial,sans-serif;font-size:14px}</style></head>',
             '<body><div class="reply" dir="ltr">']
        for p in paras:
            if len(p) == 2 and p[0] in CLOSINGS:
                h.append("<p>%s<br>%s</p>" % (esc(p[0]), esc(p[1])))
            else:
                h.append("<p>%s</p>" % esc(" ".join(p)))
        h.append('<table class="sig" cellpadding="0" cellspacing="0"><tr><td style="color:#555">'
                 '<b>%s</b><br>%s<br><a href="https://%s/help">Help centre</a></td></tr></table>'
                 % (esc(self.agent_name), esc(self.team), self.agent_addr.split("@")[1]))
        h.append("</div>")
        closers = []
        for who, date, body in turns:
            attrib = "On %s, %s wrote:" % (date, esc(who))
            inner = "".join("<div>%s</div>" % esc(b) if b else "<div><br></div>" for b in body)
            if style == "gmail":
                h.append('<div class="gmail_quote"><div dir="ltr" class="gmail_attr">%s<br></div>'
                         '<blockquote class="gmail_quote" style="margin:0 0 0 .8ex;border-left:1px #ccc solid;'
                         'padding-left:1ex">%s' % (attrib, inner))
                closers.append("</blockquote></div>")
            else:
                h.append('<div>%s</div><blockquote type="cite">%s' % (attrib, inner))
                closers.append("</blockquote>")
        h += reversed(closers)
        h.append("</body></html>")
        return "\n".join(h) + "\n"

    def encode(self, text, cte):
        data = text.encode("utf-8")
        if cte == "quoted-printable":
            return quopri.encodestring(data).decode("ascii")
        if cte == "base64":
            b = base64.b64encode(data).decode("ascii")
            return "\n".join(b[i:i + 76] for i in range(0, len(b), 76)) + "\n"
        return text

    def message(self, idx, kind, intent, target):
        r = self.r
        self.agent_name, self.agent_addr, self.team = r.choice(AGENTS)
        self.first, self.last = r.choice(CUSTOMERS)
        self.subject = "Re: " + self.fill(r.choice(TOPICS))
        paras = self.agent_paras(intent)
        if r.random() < 0.5:
            paras = [[curly(s) for s in p] for p in paras]
        cust = "%s %s <%s.%s@example.net>" % (self.first, self.last, self.first.lower(),
                                              self.last.lower().replace("'", ""))
        hdr = ['From: "%s" <%s>' % (self.agent_name, self.agent_addr),
               'To: "%s %s" <%s>' % (self.first, self.last, cust.split("<")[1][:-1]),
               "Subject: " + self.subject,
               "Date: " + self.date(400 + idx % 50),
               "Message-ID: <bench-%06d@%s>" % (idx, self.agent_addr.split("@")[1]),
               "In-Reply-To: <q%06d@example.net>" % idx,
               "References: <q%06d@example.net>" % idx,
               "X-Bench-Kind: " + kind, "X-Bench-Intent: " + intent,
               "MIME-Version: 1.0"]
        head = "\n".join(hdr) + "\n"
        # The agent's part rendered once to know how much history fills the target.
        probe = len(head) + len(self.plain(paras, [], "gmail")) * (2 if kind in ("alternative", "mixed") else 1)
        turns = self.history(max(0, target - probe) // (2 if kind in ("alternative", "mixed") else 1))
        pstyle = r.choice(["gmail", "gmail", "outlook"])
        hstyle = r.choice(["gmail", "blockquote"])
        if kind == "plain":
            cte = r.choice(["7bit", "quoted-printable", "quoted-printable", "base64"])
            body = self.plain(paras, turns, pstyle)
            if cte == "7bit" and not body.isascii():
                cte = "8bit"
            msg = head + 'Content-Type: text/plain; charset="utf-8"\nContent-Transfer-Encoding: %s\n\n' % cte
            msg += self.encode(body, cte)
        elif kind == "html":
            msg = head + 'Content-Type: text/html; charset="utf-8"\nContent-Transfer-Encoding: quoted-printable\n\n'
            msg += self.encode(self.html(paras, turns, hstyle), "quoted-printable")
        else:
            b = "=_alt_%08x" % r.getrandbits(32)
            alt = ('--%s\nContent-Type: text/plain; charset="utf-8"\nContent-Transfer-Encoding: quoted-printable\n\n'
                   '%s\n--%s\nContent-Type: text/html; charset="utf-8"\nContent-Transfer-Encoding: quoted-printable\n\n'
                   '%s\n--%s--\n' % (b, self.encode(self.plain(paras, turns, pstyle), "quoted-printable"), b,
                                     self.encode(self.html(paras, turns, hstyle), "quoted-printable"), b))
            if kind == "alternative":
                msg = head + 'Content-Type: multipart/alternative; boundary="%s"\n\n%s' % (b, alt)
            else:
                m = "=_mix_%08x" % r.getrandbits(32)
                pdf = bytes(r.getrandbits(8) for _ in range(r.randint(600, 1500)))
                msg = (head + 'Content-Type: multipart/mixed; boundary="%s"\n\n--%s\n'
                       'Content-Type: multipart/alternative; boundary="%s"\n\n%s\n--%s\n'
                       'Content-Type: application/pdf; name="return-label.pdf"\n'
                       'Content-Disposition: attachment; filename="return-label.pdf"\n'
                       'Content-Transfer-Encoding: base64\n\n%s\n--%s--\n'
                       % (m, m, b, alt, m, self.encode_bytes(pdf), m))
        return msg.replace("\r\n", "\n").replace("\n", "\r\n").encode("utf-8")

    def encode_bytes(self, data):
        b = base64.b64encode(b"%PDF-1.4\n" + data).decode("ascii")
        return "\n".join(b[i:i + 76] for i in range(0, len(b), 76))


def main():
    ap = argparse.ArgumentParser(description="write a deterministic bench corpus of support replies")
    ap.add_argument("outdir")
    ap.add_argument("-n", type=int, default=2000, help="number of replies (default 2000)")
    ap.add_argument("--seed", type=int, default=5, help="random seed (default 5)")
    ap.add_argument("--min-kb", type=float, default=1.0)
    ap.add_argument("--max-kb", type=float, default=20.0)
    a = ap.parse_args()
    r = random.Random(a.seed)
    g = Gen(r)
    os.makedirs(a.outdir, exist_ok=True)
    kinds = ["plain"] * 10 + ["html"] * 5 + ["alternative"] * 4 + ["mixed"]
    total = 0
    lo, hi = a.min_kb * 1024, a.max_kb * 1024
    for i in range(a.n):
        kind = r.choice(kinds)
        x = r.random()
        intent = "good" if x < 0.70 else "gap" if x < 0.88 else "bad"
        target = int(math.exp(r.uniform(math.log(lo), math.log(hi))))
        # The thread is sized from an estimate: regenerate (deterministically)
        # with a corrected goal while the result is far off the target.
        goal, data = target, None
        for _ in range(4):
            d = g.message(i, kind, intent, goal)
            if data is None or (lo <= len(d) <= hi and abs(len(d) - target) < abs(len(data) - target)):
                data = d
            if len(d) <= min(hi, target * 1.15) or goal < 200:
                break
            goal = int(goal * target / len(d) * 0.95)
        with open(os.path.join(a.outdir, "%06d.eml" % i), "wb") as f:
            f.write(data)
        total += len(data)
    print("gen-corpus: %d replies, %.1f MB, seed %d -> %s" % (a.n, total / 1e6, a.seed, a.outdir))


if __name__ == "__main__":
    sys.exit(main())
