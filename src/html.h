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
 * XML_PARSE_HUGE so deep nesting cannot hide text; input larger than max_size
 * is refused before parsing. Thread-safe once html_init() has run.
 */
#ifndef TG_HTML_H
#define TG_HTML_H

#include <stddef.h>
#include "sbuf.h"

enum html_status {
	HTML_OK = 0,
	HTML_TOO_BIG,     /* len > max_size: nothing parsed */
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
