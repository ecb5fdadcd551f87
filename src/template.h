/*
 * template — the policy's text templates: "{name}" is replaced with the value
 * of the variable called name; any other brace is kept as written. Which
 * names a template may use is checked when the policy loads, so expansion
 * never meets an unknown one.
 *
 * Pure and thread-safe; the caller owns every buffer.
 */
#ifndef TG_TEMPLATE_H
#define TG_TEMPLATE_H

#include <stddef.h>
#include "sbuf.h"

typedef struct tg_var {
	const char *name;
	const char *value;   /* NULL expands to nothing */
} tg_var;

/* 0 when every "{name}" in t is one of names (NULL-terminated); otherwise
 * -1 with the first unknown "{name}" copied into bad. */
int template_check(const char *t, const char *const *names, char *bad, size_t badlen);

/* Append t with its variables replaced (vars[0..n)). 0, or -1 when out is full. */
int template_expand(sbuf *out, const char *t, const tg_var *vars, size_t n);

#endif
