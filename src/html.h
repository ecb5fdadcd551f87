/*
 * html — turn an HTML body into the plain text a person would read (libxml2).
 *
 * Quoted history that mail clients mark in HTML is left out: <blockquote>,
 * gmail_quote, Outlook's divRplyFwdMsg (and what follows it), border-top
 * reply separators, Yahoo/Thunderbird quote containers. Signatures marked
 * in HTML (moz-signature, gmail_signature, id="Signature") come out behind
 * a "--" line, the plain-text convention quote.c removes them by. Block elements end lines; <p> and
 * headings leave a blank line; <br> ends a line; list items start with "- ".
 * Entities are decoded by libxml2. Output is UTF-8 with '\n' line ends.
 *
 * The tree is walked iteratively (no recursion), and the parse runs with
 * XML_PARSE_HUGE so deep nesting cannot hide text. With a max_size (0: none
 * of these limits) markup that would cost libxml2 more than the text is
 * worth is refused, never judged in part: input larger than max_size, a tag
 * with more than HTML_MAX_ATTRS attributes (checked before parsing: libxml2's
 * time is quadratic in them), a tree of more than max_size /
 * HTML_BYTES_PER_NODE nodes (1,024 at least; a node costs ~180 bytes however
 * few bytes of input make it, so the tree stays near 11 x max_size, ~24 MB at
 * the default 2 MB; mail in the corpora takes 11 bytes or more a node) or
 * elements open HTML_MAX_DEPTH deep (libxml2's time per end tag grows with
 * the depth). Thread-safe once html_init() has run.
 */
#ifndef TG_HTML_H
#define TG_HTML_H

#include <stddef.h>
#include "sbuf.h"

#define HTML_BYTES_PER_NODE 16
#define HTML_MAX_DEPTH 512
#define HTML_MAX_ATTRS 256

enum html_status {
	HTML_OK = 0,
	HTML_TOO_BIG,     /* past max_size or a limit above: no text */
	HTML_LIMIT,       /* the parser stopped early: text may be partial */
	HTML_ERROR        /* could not parse at all, or out of memory */
};

/* Call once per process before threads start (xmlInitParser). */
void html_init(void);

/* Append the readable text of html[0..len) (UTF-8) to out. quoted, if not
 * NULL, receives the text of the quoted history containers that were left
 * out (the customer's earlier words), for context. */
enum html_status html_to_text(const char *html, size_t len, size_t max_size,
			      sbuf *out, sbuf *quoted);

#endif
