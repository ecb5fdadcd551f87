/*
 * html — turn an HTML body into the plain text a person would read (libxml2).
 *
 * Quoted history that mail clients mark in HTML is left out: <blockquote>,
 * gmail_quote, Outlook's divRplyFwdMsg (and what follows it), border-top
 * reply separators, Yahoo/Thunderbird quote containers. So is what a reader
 * is not shown: elements with the hidden attribute or an inline style whose
 * display is none (preheaders; courteous words hidden there do not soften
 * the words shown). Signatures marked
 * in HTML (moz-signature, gmail_signature, id="Signature") come out behind
 * a "--" line, the plain-text convention quote.c removes them by. Block elements end lines; <p> and
 * headings leave a blank line; <br> ends a line; list items start with "- ".
 * Entities are decoded by libxml2. Output is UTF-8 with '\n' line ends.
 *
 * Most bytes of a reply are its quoted history, and libxml2 need not read
 * what is left out: when the history starts (Outlook's reply header: the
 * rest of the input; a <div> or <blockquote> quote container: up to where
 * libxml2 would close it, followed by the tags that can close it) and nothing
 * after it shows a word or a signature, the parser is stopped there and the
 * history's words for the quoted text are taken without a parse (the skim
 * below). Markup that could close the container otherwise (tables, stray end
 * tags of elements open outside it, raw text elements) keeps the whole
 * parse. With max_size 0 the whole input is always parsed: the reference
 * the tests compare this with.
 *
 * The text is taken from libxml2's SAX events as it parses: no tree is built,
 * so nesting depth costs no stack and the memory is the text. Element names
 * are read as written: Outlook's <o:p> is an unknown inline element, as in a
 * browser, not a <p>. The parse runs with XML_PARSE_HUGE so deep nesting
 * cannot hide text. With a max_size (0: none of these limits) markup that
 * would cost libxml2 more than the text is worth is refused, never judged in
 * part: input larger than max_size, a tag with more than HTML_MAX_ATTRS
 * attributes (checked before parsing: libxml2's time is quadratic in them),
 * more than max_size / HTML_BYTES_PER_NODE nodes as a tree of the document
 * would count them (elements, attributes, comments; 1,024 at least; mail in
 * the corpora takes 11 bytes or more a node) or elements open HTML_MAX_DEPTH
 * deep (libxml2's time per end tag grows with the depth). Thread-safe once
 * html_init() has run.
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

/* Append to out the text of html[0..len) as it stands in the markup, without
 * parsing it: a quick look at which words an HTML part shows, for a caller
 * that only needs to know whether they are words it already has. Tags,
 * comments and the contents of <script> and <style> are left out where
 * libxml2 reads them so, and nowhere else (a '<' in doubt stays as text);
 * a line ends at each element html_to_text() ends a line or a cell at;
 * character references and common entities are decoded, any other entity
 * is kept as written. So the words html_to_text() shows are among the
 * words here, in the same order, and more may be (the quoted history,
 * <title>, hidden text): markup that tries to hide words makes more words,
 * not fewer. (Two readings may still differ where a word runs across an
 * element html_to_text() leaves out or sets apart: "No<title>x</title>pe";
 * html_skim_cut() says when there is no such element.) Returns 0; 1 when
 * the markup is odd enough for libxml2 to read words where the skim sees
 * none (a '<' that opens nothing, a quote left open in a tag, a <script>
 * or <style> never closed, elements read as raw text, a DOCTYPE in the
 * middle, anything after </body>): the skim then proves nothing; -1 when
 * out is full. */
int html_skim(const char *html, size_t len, sbuf *out);

/* Where html[0..len) may be cut so that its first part skims to the first
 * off bytes of html_skim()'s text at least: the start of the first tag
 * after them that ends a line. html_to_text() reads the text before such a
 * tag the same whether or not the rest follows. len when there is none.
 * The skim of the first part is appended to prefix; *plain says whether
 * that part is plain enough for its skim to be what html_to_text() shows:
 * no element it leaves out or sets apart (title, template, noscript,
 * blockquote, a tag naming a quote, signature or history marker or hiding
 * its element: a word in the tag is enough to doubt), no text in <head>. */
size_t html_skim_cut(const char *html, size_t len, size_t off, sbuf *prefix, int *plain);

#endif
