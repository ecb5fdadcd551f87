/* quote — agent's words vs quoted history and signature; see quote.h. */
#include "config.h"
#include "quote.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Line classes, each one PCRE2 pattern matched against a whole line. The
 * language lists are here rather than in the policy because they describe
 * mail clients, not tone; extend them when a client's format is missed. */
enum { P_ATTRIB, P_ATTRIB_START, P_MARKER, P_HELPDESK, P_NOTICE, P_STAMP, P_SEPARATOR, P_HDR_FROM,
       P_HDR_OTHER, P_MOBILE, P_DISCLAIMER, P_SIGNOFF, P_COUNT };

#define WROTE "(wrote|writes|schrieb|a écrit|a ecrit|escribió|escribio|escreveu|schreef|" \
	"skrev|napisał|napisal|ha scritto|scrisse|kirjoitti|написал|napsal|írta)"
#define ON "(on|am|le|el|em|op|den|w dniu|dnia|il|på|dne|в|le \\w+|el \\w+)"

static const char *const patterns[P_COUNT] = {
	/* the verb may come before the name ("Am … schrieb Maria <m@x>:") */
	[P_ATTRIB] = "^\\s*(" ON "\\b.{0,300}|.{0,200}(@|\\d).{0,200})" WROTE "\\b.{0,200}:\\s*$|"
		/* a name alone: "Sam Lee wrote:", "Sam Lee wrote on Nov 24, 2026:" */
		"(?-i)^\\s*\\p{Lu}[\\p{L}.'’-]*(\\s+\\p{Lu}[\\p{L}.'’-]*){0,3}\\s+(?i)" WROTE "(\\s+on\\s.{1,60})?\\s*:\\s*$",
	[P_ATTRIB_START] = "^\\s*" ON "\\s.{4,300}$",
	[P_MARKER] = "^\\s*(-{2,}\\s*(original message|ursprüngliche nachricht|"
		"message d'origine|mensaje original|oorspronkelijk bericht|mensagem original|"
		"ursprungligt meddelande|wiadomość oryginalna|messaggio originale|"
		"forwarded message|weitergeleitete nachricht|message transféré|mensaje reenviado|"
		"doorgestuurd bericht|mensagem encaminhada|vidarebefordrat meddelande)\\s*-*|"
		"begin forwarded message\\s*:?|anfang der weitergeleiteten nachricht\\s*:?|"

		"début du message réexpédié\\s*:?)\\s*$",
	/* help desks put it above the newest comment or below the reply */
	[P_HELPDESK] = "^[#=*_ \\t-]*(please )?((type|write|enter) )?(your )?(reply|response) above this line[#=*_. -]*$",
	[P_NOTICE] = "(your (request|ticket|case)\\b.{0,40}\\b(has been|was) (updated|received|created|solved|answered)|"
		"to add (additional )?comments|reply to this (e-?mail|message) to|ticket #?\\d+ (has been|was))",
	/* the time of a help desk's comment: "Nov 24, 2026, 10:02 UTC",
	 * "24.11.2026 10:02", "Tuesday, 24 November 2026 at 10:02 AM" */
	[P_STAMP] = "^(?=.{1,60}$)(?=.*\\b\\d{1,2}[:.]\\d{2}\\b)(?=.*(\\b\\d{4}\\b|\\b(jan|feb|f[eé]v|m[aä]r|apr|avr|abr|"
		"ma[iy]|mag|jun|juin|giu|jul|juil|lug|aug|ao[uû]|ago|sep|set|o[ck]t|out|nov|de[cz]|d[eé]c|dic|ene|gen)))",
	[P_SEPARATOR] = "^\\s*_{10,}\\s*$",
	[P_HDR_FROM] = "^\\s*\\*?(from|von|de|van|från|od|da|fra|lähettäjä|от)\\s*\\*?\\s*:\\s*\\S",
	[P_HDR_OTHER] = "^\\s*\\*?(sent|date|gesendet|datum|envoyé|enviado|fecha|verzonden|"
		"skickat|wysłano|data|inviato|sendt|to|an|à|para|aan|till|do|a|cc|subject|betreff|"
		"objet|asunto|onderwerp|ämne|temat|oggetto|emne|assunto)\\s*\\*?\\s*:",
	[P_MOBILE] = "^\\s*(sent from my \\S+.{0,40}|sent from (mail|outlook) for \\S+.{0,20}|"
		"get outlook for (ios|android).{0,20}|sent from (yahoo|aol) mail.{0,40}|"
		"sent from (my )?(iphone|ipad|android|samsung|galaxy|mobile|blackberry)\\b.{0,30}|"
		"von meinem \\S+ gesendet|envoyé de mon \\S+|enviado desde mi \\S+|"
		"verzonden (vanaf|met) mijn \\S+|skickat från min \\S+|wysłane z mojego \\S+|"
		"enviado do meu \\S+|inviato da(l mio)? \\S+)\\s*$",
	[P_DISCLAIMER] = "^\\s*(confidentiality( notice)?\\s*:?|disclaimer\\s*:|confidential\\s*:|"
		"this (e-?mail|message) is a service from|"
		"this (e-?mail|message|communication)( and any (files|attachments)[^.]{0,40})? "
		"(is|are|may be|may contain|contains?) (strictly )?(confidential|privileged|intended)|"
		"the information (contained )?in this (e-?mail|message|communication)|"
		"if you (are not|have received this).{0,40}(intended recipient|in error)|"
		".{0,80}\\b(is )?authori[sz]ed (and|by) .{0,60}regulated by|"
		".{0,60}registered (in england|office|in scotland|in ireland)|"
		"vertraulichkeitshinweis|diese (e-?mail|nachricht) (enthält|ist) vertraulich|"
		"ce (message|courriel|e-?mail) (et .{0,40})?(est|contient).{0,30}confidenti)",
	[P_SIGNOFF] = "^\\s*(with (kind|best|warm|warmest|kindest) regards|with regards|kindest regards|"
		"best|best regards|best wishes|kind regards|kind wishes|warm regards|"
		"warm wishes|warmest regards|warmest wishes|warmly|regards|all best|with best wishes|"
		"many thanks|thanks( again| so much| a lot| and regards)?|"
		"thank you( again| so much| kindly)?|cheers|sincerely( yours)?|yours( sincerely| truly)?|"
		"all the best|take care|talk soon|speak soon|see you soon|with thanks|respectfully|"
		"safe travels|happy \\p{L}+ing|enjoy( your \\p{L}+( \\p{L}+)?)?|"
		"have a (great|good|nice|lovely|wonderful|fantastic|safe|pleasant|happy|brilliant) \\p{L}+( \\p{L}+)?|"
		"mit freundlichen grüßen|freundliche grüße|viele grüße|beste grüße|liebe grüße|grüße|"
		"herzliche grüße|schöne grüße|gruß|"
		"cordialement|bien cordialement|bien à vous|salutations|merci|bonne journée|belle journée|"
		"saludos( cordiales)?|atentamente|un saludo|muchas gracias|gracias|un abrazo|"
		"met vriendelijke groet(en)?|vriendelijke groet(en)?|groeten|groetjes|hartelijke groet(en)?|"
		"med vänliga hälsningar|vänliga hälsningar|hälsningar|mvh|"
		"pozdrawiam( serdecznie)?|z poważaniem|serdecznie|atenciosamente|cumprimentos|abraços?|"
		"um abraço|obrigad[oa]|cordiali saluti|distinti saluti|un saluto|saluti|grazie)"
		"(?-i)([ \\t]*[,.!:;-]*[ \\t]*)(\\p{Lu}[\\p{L}.'-]*([ \\t]+\\p{Lu}[\\p{L}.'-]*){0,3})?"
		"[ \\t]*[,.!]*\\s*$|"
		/* "With thanks for your support," "Thanks & regards," */
		"(?i)^\\s*(with|thanks|thank you|many thanks|best|kind|warm|warmest)\\b[^.!?\\n]{0,40},\\s*$",
};

static pcre2_code *re[P_COUNT];
static pthread_once_t re_once = PTHREAD_ONCE_INIT;
static int re_ok;

/* Which two printable ASCII characters can start a line (after its white
 * space) that these patterns match: asked of PCRE2 itself once, by partial
 * matching each pair, so the table cannot disagree with the patterns. */
static const int by_start[] = { P_MARKER, P_MOBILE, P_SIGNOFF };
#define NSTART (sizeof by_start / sizeof by_start[0])
static unsigned char starts[NSTART][94][95];  /* [c1 - '!'][c2 - ' '] */

static void starts_fill(void)
{
	for (size_t k = 0; k < NSTART; k++) {
		pcre2_code *r = re[by_start[k]];
		pcre2_match_data *md = r ? pcre2_match_data_create_from_pattern(r, NULL) : NULL;
		for (int a = 0; a < 94; a++)
			for (int b = 0; b < 95; b++) {
				char pair[2] = {(char)('!' + a), (char)(' ' + b)};
				int rc = md ? pcre2_match(r, (PCRE2_SPTR)pair, 2, 0, PCRE2_PARTIAL_HARD, md, NULL) : 0;
				/* no match data: every pair runs PCRE2 */
				starts[k][a][b] = md == NULL || rc >= 0 || rc == PCRE2_ERROR_PARTIAL;
			}
		pcre2_match_data_free(md);
	}
}

static void re_compile(void)
{
	re_ok = 1;
	for (int i = 0; i < P_COUNT; i++) {
		int err;
		PCRE2_SIZE off;
		re[i] = pcre2_compile((PCRE2_SPTR)patterns[i], PCRE2_ZERO_TERMINATED,
				      PCRE2_UTF | PCRE2_UCP | PCRE2_CASELESS | PCRE2_MATCH_INVALID_UTF,
				      &err, &off, NULL);
		if (re[i] == NULL) {
			re_ok = 0;
			continue;
		}
		/* partial matching too for the patterns starts_fill() asks */
		uint32_t jit = PCRE2_JIT_COMPLETE;
		for (size_t k = 0; k < NSTART; k++)
			jit |= by_start[k] == i ? PCRE2_JIT_PARTIAL_HARD : 0;
		pcre2_jit_compile(re[i], jit);
	}
	starts_fill();
}

/* Does haystack[0..n) hold needle (lower case), in any case? */
static int has_ci(const char *h, size_t n, const char *needle)
{
	size_t k = strlen(needle);
	for (size_t i = 0; i + k <= n; i++)
		if ((h[i] | 0x20) == needle[0] && strncasecmp(h + i, needle, k) == 0)
			return 1;
	return 0;
}

/* Can patterns[p] match the line? 0 only when it cannot: a necessary
 * condition checked before PCRE2 runs on the agent's lines (most lines are
 * none of these). Only lines of ASCII are filtered: there the patterns'
 * letters can only match ASCII letters in either case (caseless UTF
 * matching pairs 's' with U+017F and 'k' with U+212A, never in such a line),
 * and their \s at the start only ASCII white space. */
static int may_match(int p, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] >= 0x80)
			return 1;
	size_t i = 0;
	while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\v' || s[i] == '\f' || s[i] == '\r'))
		i++;
	const unsigned char *t = (const unsigned char *)s + i;
	int pair = n - i >= 2 && t[0] > ' ' && t[0] < 0x7f && t[1] >= ' ' && t[1] < 0x7f;
	for (size_t k = 0; k < NSTART; k++)
		if (by_start[k] == p)
			return !pair || starts[k][t[0] - '!'][t[1] - ' '];
	if (p == P_HELPDESK)  /* "(reply|response) above this line" */
		return has_ci(s, n, "above this line");
	if (p == P_DISCLAIMER) {
		/* each alternative starts with one of these, or holds one of
		 * the two phrases the ".{0,80}" ones end in */
		static const char first[][3] = {"co", "di", "th", "if", "ve", "ce"};
		for (size_t k = 0; pair && k < sizeof first / sizeof first[0]; k++)
			if ((t[0] | 0x20) == first[k][0] && (t[1] | 0x20) == first[k][1])
				return 1;
		return !pair || has_ci(s, n, "regulated by") || has_ci(s, n, "registered ");
	}
	return 1;
}

void quote_init(void)
{
	pthread_once(&re_once, re_compile);
}

int quote_prefilter_agrees(const char *s, size_t n)
{
	pthread_once(&re_once, re_compile);
	for (int p = 0; p < P_COUNT; p++) {
		if (re[p] == NULL || may_match(p, s, n))
			continue;
		pcre2_match_data *md = pcre2_match_data_create_from_pattern(re[p], NULL);
		int hit = md && pcre2_match(re[p], (PCRE2_SPTR)s, n, 0, 0, md, NULL) >= 0;
		pcre2_match_data_free(md);
		if (hit)
			return 0;
	}
	return 1;
}

static int line_is(int p, const char *s, size_t n, pcre2_match_data *md)
{
	return re[p] && may_match(p, s, n) && pcre2_match(re[p], (PCRE2_SPTR)s, n, 0, 0, md, NULL) >= 0;
}

typedef struct { const char *s; size_t n; } line;

static int is_blank(line l)
{
	for (size_t i = 0; i < l.n; i++)
		if (l.s[i] != ' ' && l.s[i] != '\t')
			return 0;
	return 1;
}

/* A line of a signature block: a name, title, company, phone or address.
 * Contact details ("|" separators, addresses, links, phone numbers) make a
 * line one whatever its length in words. */
static int sig_like(line l)
{
	unsigned words = 0, digits = 0;
	int contact = 0;
	for (size_t i = 0; i < l.n; i++) {
		char c = l.s[i];
		if ((i == 0 || l.s[i - 1] == ' ' || l.s[i - 1] == '\t') && c != ' ' && c != '\t')
			words++;
		digits += c >= '0' && c <= '9';
		contact |= c == '|' || c == '@' || (c == ':' && i + 2 < l.n && l.s[i + 1] == '/' && l.s[i + 2] == '/');
		contact |= (unsigned char)c == 0xc2 && i + 1 < l.n && (unsigned char)l.s[i + 1] == 0xb7;  /* "·" */
		contact |= i + 4 <= l.n && (l.s[i] | 0x20) == 'w' && strncasecmp(l.s + i, "www.", 4) == 0;
	}
	char last = l.n ? l.s[l.n - 1] : 0;
	if (contact || digits >= 5)
		return l.n <= 200;
	if (l.n > 80)
		return 0;
	/* "Your order shipped today." is a sentence; "Acme Logistics Sp. z o.o." a company */
	unsigned caps = 0;
	for (size_t i = 0; i < l.n; i++)
		if ((i == 0 || l.s[i - 1] == ' ') && ((l.s[i] >= 'A' && l.s[i] <= 'Z') || (l.s[i] >= '0' && l.s[i] <= '9')))
			caps++;
	return l.n <= 60 && words <= 6 &&
	       (words <= 3 || (last != '.' && last != '!' && last != '?') || caps * 2 >= words);
}

static int ends_colon(line l)
{
	size_t n = l.n;
	while (n && (l.s[n - 1] == ' ' || l.s[n - 1] == '\t'))
		n--;
	return n && l.s[n - 1] == ':';
}

static int has_colon_early(line l)
{
	size_t n = l.n < 24 ? l.n : 24;
	return memchr(l.s, ':', n) != NULL;
}

static int next_nonblank(const line *L, size_t n, size_t i)
{
	while (i < n && is_blank(L[i]))
		i++;
	return (int)i;
}

/* An Outlook-style header block starts at i: a From line and, within the
 * next four lines, another header line. */
static int header_block(const line *L, size_t n, size_t i, pcre2_match_data *md)
{
	if (!has_colon_early(L[i]) || !line_is(P_HDR_FROM, L[i].s, L[i].n, md))
		return 0;
	for (size_t j = i + 1; j < n && j <= i + 4; j++)
		if (has_colon_early(L[j]) && line_is(P_HDR_OTHER, L[j].s, L[j].n, md))
			return 1;
	return 0;
}

int quote_is_signoff(const char *s, size_t n)
{
	pthread_once(&re_once, re_compile);
	if (n > 80 || re[P_SIGNOFF] == NULL)
		return 0;
	pcre2_match_data *md = pcre2_match_data_create_from_pattern(re[P_SIGNOFF], NULL);
	if (md == NULL)
		return 0;
	int r = line_is(P_SIGNOFF, s, n, md);
	pcre2_match_data_free(md);
	return r;
}

static int put_line(sbuf *sb, line l)
{
	if (sbuf_append(sb, l.s, l.n) < 0 || sbuf_putc(sb, '\n') < 0)
		return -1;
	return 0;
}

/* Where history or signature lines go: at least the first keep bytes of
 * them, and always the first line that is not blank (so a reader can still
 * tell an empty history from one), then no more. */
typedef struct sink {
	sbuf *sb;
	size_t keep;
	int word;  /* a line that is not blank went in */
} sink;

static int sink_full(const sink *k)
{
	return k->word && k->sb->len >= k->keep;
}

/* Append line l to k, without the leading '>' marks when unquote. */
static int sink_put(sink *k, line l, int unquote)
{
	if (sink_full(k))
		return 0;
	while (unquote && l.n && (l.s[0] == '>' || (l.s[0] == ' ' && l.n > 1 && l.s[1] == '>'))) {
		l.s++; l.n--;
	}
	if (unquote && l.n && l.s[0] == ' ') {
		l.s++; l.n--;
	}
	k->word |= !is_blank(l);
	return put_line(k->sb, l);
}

/* A line of nothing but dashes, underscores or the like. */
static int rule_line(line l)
{
	size_t n = 0;
	for (size_t i = 0; i < l.n; i++) {
		if (strchr("-_=*~#", l.s[i]) == NULL && l.s[i] != ' ')
			return 0;
		n += l.s[i] != ' ';
	}
	return n >= 10;
}

/* Lines [0, *top) are known to be dropped or blank (find_cut only ever
 * drops more): advance *top as far as that holds below i, so each line is
 * looked at once however many times it is asked. Nothing else above i? */
static int nothing_above(const line *L, const unsigned char *drop, size_t i, size_t *top)
{
	while (*top < i && (drop[*top] || is_blank(L[*top])))
		(*top)++;
	return *top >= i;
}

/* Is everything above line i (from top, see nothing_above) a help-desk
 * notice ("Your request (48213) has been updated. To add additional
 * comments, reply to this email.")? */
static int notice_above(const line *L, const unsigned char *drop, size_t i, size_t *top,
			pcre2_match_data *md)
{
	nothing_above(L, drop, i, top);
	size_t n = 0;
	for (size_t k = *top; k < i; k++) {
		if (drop[k] || is_blank(L[k]))
			continue;
		if (++n > 3 || !line_is(P_NOTICE, L[k].s, L[k].n, md))
			return 0;
	}
	return n > 0;
}

/* A line that may be a name, each word capitalised: "Leo (Acme)", "Sam
 * Lee", not a sentence, an address or a header line ("From: ..."). */
static int name_like(line l)
{
	if (l.n == 0 || l.n > 60)
		return 0;
	unsigned words = 0;
	for (size_t i = 0; i < l.n; i++) {
		unsigned char c = (unsigned char)l.s[i];
		if (c == 0 || strchr(".?!:;,@<>0123456789", c))
			return 0;
		if (c != ' ' && (i == 0 || l.s[i - 1] == ' ')) {
			if (++words > 5 || (c < 0x80 && !(c >= 'A' && c <= 'Z') && c != '('))
				return 0;
		}
	}
	return words > 0;
}

/* A help desk's comment header from line a: a name, then within a blank
 * line its time (Zendesk: "Leo (Acme)", "Nov 24, 2026, 10:02 UTC"), then
 * a blank line. Returns the time's line, 0 when there is none. */
static size_t comment_header(const line *L, size_t n, size_t a, pcre2_match_data *md)
{
	if (a >= n || !name_like(L[a]))
		return 0;
	size_t b = (size_t)next_nonblank(L, n, a + 1);
	return b < n && b <= a + 2 && (b + 1 == n || is_blank(L[b + 1])) &&
	       line_is(P_STAMP, L[b].s, L[b].n, md) ? b : 0;
}

/* Where the history starts (everything from there on is not the agent's),
 * marking quoted and attribution lines to drop on the way. */
static size_t find_cut(const line *L, size_t n, unsigned char *drop, size_t *sig,
		       pcre2_match_data *md)
{
	*sig = n;
	size_t top = 0;  /* see nothing_above */
	for (size_t i = 0; i < n; i++) {
		line l = L[i];
		if (is_blank(l))
			continue;
		if (l.s[0] == '>') {
			drop[i] = 1;
			continue;
		}
		if ((l.n == 2 || l.n == 3) && memcmp(l.s, "--", 2) == 0 && (l.n == 2 || l.s[2] == ' ')) {
			*sig = i;
			return i;
		}
		if (strchr("-BbAaDd \t", l.s[0]) && line_is(P_MARKER, l.s, l.n, md))
			return i;
		/* A help desk's comment header (a name, a time), under a rule
		 * line or a blank one (HTML tables have no rules), or a rule
		 * under the notice: the reply's own (at the top, or under the
		 * notice) is not words; a later one starts the history (help
		 * desks quote no ">"). */
		int rule = rule_line(l);
		size_t h = rule ? comment_header(L, n, (size_t)next_nonblank(L, n, i + 1), md)
		     : i == 0 || is_blank(L[i - 1]) || drop[i - 1] ? comment_header(L, n, i, md) : 0;
		if (rule || h) {
			int notice = notice_above(L, drop, i, &top, md);
			if (h && !notice && !nothing_above(L, drop, i, &top))
				return i;
			if (h || notice) {
				size_t last = h ? h : i;
				memset(drop + top, 1, last + 1 - top);  /* all above top is dropped or blank */
				i = last;
				continue;
			}
		}
		if (strchr("#*=_-PpRrTtWwEe \t", l.s[0]) && line_is(P_HELPDESK, l.s, l.n, md)) {
			if (!nothing_above(L, drop, i, &top))
				return i;
			drop[i] = 1;  /* at the top: the reply is what follows it */
			continue;
		}
		if (l.s[0] == '_' || l.s[0] == ' ') {
			int j = next_nonblank(L, n, i + 1);
			if (line_is(P_SEPARATOR, l.s, l.n, md) &&
			    ((size_t)j == n || header_block(L, n, (size_t)j, md)))
				return i;
		}
		if (header_block(L, n, i, md))
			return i;
		/* attribution, on one line or wrapped over two */
		size_t span = 0;
		if (ends_colon(l) && line_is(P_ATTRIB, l.s, l.n, md)) {
			span = 1;
		} else if (i + 1 < n && ends_colon(L[i + 1]) && l.n < 300 && L[i + 1].n < 300 &&
			   line_is(P_ATTRIB_START, l.s, l.n, md)) {
			char buf[640];
			memcpy(buf, l.s, l.n);
			buf[l.n] = ' ';
			memcpy(buf + l.n + 1, L[i + 1].s, L[i + 1].n);
			if (line_is(P_ATTRIB, buf, l.n + 1 + L[i + 1].n, md))
				span = 2;
		}
		if (span) {
			int j = next_nonblank(L, n, i + span);
			if ((size_t)j < n && L[j].s[0] == '>') {
				/* interleaved reply: drop the attribution, keep answers */
				for (size_t k = i; k < i + span; k++)
					drop[k] = 1;
				i += span - 1;
				continue;
			}
			return i;
		}
		if (l.n < 80 && line_is(P_MOBILE, l.s, l.n, md)) {
			drop[i] = 1;
			continue;
		}
		if (i > 0 && (is_blank(L[i - 1]) || rule_line(L[i - 1])) && l.n > 10 &&
		    line_is(P_DISCLAIMER, l.s, l.n, md)) {
			*sig = i;
			return i;
		}
	}
	return n;
}

int quote_split(const char *text, size_t len, tg_split *out)
{
	return quote_split_keep(text, len, SIZE_MAX, out);
}

void quote_split_free(tg_split *s)
{
	sbuf_free(&s->agent);
	sbuf_free(&s->quoted);
	sbuf_free(&s->signature);
}

int quote_split_keep(const char *text, size_t len, size_t keep, tg_split *out)
{
	memset(out, 0, sizeof *out);
	pthread_once(&re_once, re_compile);
	size_t n = 0, cap = 0;
	line *L = NULL;
	for (const char *p = text, *end = text + len; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			line *nL = realloc(L, cap * sizeof *L);
			if (nL == NULL) { free(L); return -1; }
			L = nL;
		}
		L[n].s = p;
		L[n].n = (size_t)(le - p);
		while (L[n].n && (L[n].s[L[n].n - 1] == ' ' || L[n].s[L[n].n - 1] == '\t' ||
				  L[n].s[L[n].n - 1] == '\r'))
			L[n].n--;
		n++;
		p = nl ? nl + 1 : end;
	}
	unsigned char *drop = calloc(n ? n : 1, 1);
	pcre2_match_data *md = re[P_ATTRIB] ? pcre2_match_data_create_from_pattern(re[P_ATTRIB], NULL) : NULL;
	int rc = -1;
	if (drop == NULL || md == NULL)
		goto out;
	size_t sig, cut = find_cut(L, n, drop, &sig, md);

	/* The sign-off: the topmost of the last lines that is one, when every
	 * line under it up to the cut looks like a signature block. */
	size_t last = cut, signoff = cut;
	while (last > 0 && (is_blank(L[last - 1]) || drop[last - 1]))
		last--;
	size_t seen = 0;
	int block = 1;
	for (size_t i = last; i-- > 0 && seen < 9 && (L[i].n <= 80 || sig_like(L[i]));) {
		if (drop[i] || is_blank(L[i]))
			continue;
		seen++;
		if (line_is(P_SIGNOFF, L[i].s, L[i].n, md)) {
			if (block)
				signoff = i;
		} else if (!sig_like(L[i])) {
			block = 0;
		}
	}
	size_t agent_end = signoff < cut ? signoff + 1 : last;

	/* After a "-- " delimiter with no sign-off above it, a sign-off that
	 * opens the signature still closes the reply. */
	size_t extra = n;
	if (signoff == cut && sig < n) {
		int j = next_nonblank(L, n, sig + 1);
		while ((size_t)j < n && L[j].n <= 3 && memcmp(L[j].s, "--", 2) == 0)
			j = next_nonblank(L, n, (size_t)j + 1);  /* "-- " twice (HTML) */
		if ((size_t)j < n && line_is(P_SIGNOFF, L[j].s, L[j].n, md))
			extra = (size_t)j;
	}

	size_t first = 0;
	while (first < agent_end && (is_blank(L[first]) || drop[first]))
		first++;
	unsigned lineno = 0;
	int was_blank = 0;
	for (size_t i = first; i < agent_end; i++) {
		if (drop[i] || (was_blank && is_blank(L[i])))
			continue;  /* one blank line where quotes were taken out */
		was_blank = is_blank(L[i]);
		if (put_line(&out->agent, was_blank ? (line){"", 0} : L[i]) < 0)
			goto out;
		lineno++;
	}
	if (signoff < cut)
		out->signoff = lineno;
	out->first_at = first < agent_end ? (size_t)(L[first].s - text) : 0;
	size_t tail = agent_end;
	while (tail > first && (is_blank(L[tail - 1]) || drop[tail - 1]))
		tail--;
	if (signoff < cut)
		out->tail_at = (size_t)(L[signoff].s - text);
	else if (tail > first) {
		const char *e = L[tail - 1].s + L[tail - 1].n;
		const char *nl = memchr(e, '\n', (size_t)(text + len - e));
		out->tail_at = nl ? (size_t)(nl + 1 - text) : len;
	} else
		out->tail_at = out->first_at;
	for (size_t i = first; i < tail; i++)
		out->interleaved |= drop[i] && !is_blank(L[i]);
	if (extra < n) {
		if (put_line(&out->agent, L[extra]) < 0)
			goto out;
		out->signoff = ++lineno;
	}
	/* ">" lines above the cut are the customer's words wherever they are;
	 * what is left between the agent's words and the cut is signature. */
	size_t sig_end = sig < n ? n : cut;
	sink quoted = {&out->quoted, keep, 0}, signature = {&out->signature, keep, 0};
	for (size_t i = 0; i < cut && !sink_full(&quoted); i++)
		if (drop[i] && L[i].n && L[i].s[0] == '>' && sink_put(&quoted, L[i], 1) < 0)
			goto out;
	for (size_t i = agent_end; i < sig_end && !sink_full(&signature); i++)
		if (!(drop[i] && L[i].s[0] == '>') && i != extra && sink_put(&signature, L[i], 0) < 0)
			goto out;
	for (size_t i = cut; sig == n && i < n && !sink_full(&quoted); i++)
		if (sink_put(&quoted, L[i], 1) < 0)
			goto out;
	rc = 0;
out:
	pcre2_match_data_free(md);
	free(drop);
	free(L);
	return rc;
}
