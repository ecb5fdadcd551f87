/*
 * report_render — tonegate-report's outputs from a finished report
 * (report.h): a plain-text summary, one CSV table and one self-contained
 * HTML file. Each appends to an sbuf the caller owns and returns 0, or -1
 * on ENOMEM. Every string from the log is untrusted: the text and CSV
 * outputs show control characters and invalid UTF-8 as \xNN (no terminal
 * escapes get through), the HTML escapes markup and replaces them with
 * U+FFFD. Pure and reentrant.
 */
#ifndef TG_REPORT_RENDER_H
#define TG_REPORT_RENDER_H

#include <time.h>

#include "report.h"
#include "sbuf.h"

int report_text(const report *rp, sbuf *out);
/* One table: section,key,metric,value (tonegate-report(1) lists them). */
int report_csv(const report *rp, sbuf *out);
/* now: the time the report says it was made. */
int report_html(const report *rp, time_t now, sbuf *out);

/* The next UTF-8 character of s[*i..len): its code point (and *i moved past
 * it), or -1 for an invalid byte (*i moved past that byte). Overlong forms,
 * surrogates and code points past U+10FFFF are invalid. */
long report_utf8(const char *s, size_t len, size_t *i);

#endif
