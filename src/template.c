/* template — "{name}" variables in the policy's texts; see template.h. */
#include "config.h"
#include "template.h"

#include <string.h>

/* Length of the variable name at t (after '{'), when "{name}" is one. */
static size_t var_len(const char *t)
{
	size_t n = 0;
	while ((t[n] >= 'a' && t[n] <= 'z') || t[n] == '_')
		n++;
	return n && t[n] == '}' ? n : 0;
}

int template_check(const char *t, const char *const *names, char *bad, size_t badlen)
{
	for (const char *p = strchr(t, '{'); p; p = strchr(p + 1, '{')) {
		size_t n = var_len(p + 1);
		if (n == 0)
			continue;
		int known = 0;
		for (size_t i = 0; names[i] && !known; i++)
			known = strlen(names[i]) == n && memcmp(names[i], p + 1, n) == 0;
		if (!known) {
			size_t k = n + 2 < badlen ? n + 2 : badlen - 1;
			memcpy(bad, p, k);
			bad[k] = '\0';
			return -1;
		}
	}
	return 0;
}

int template_expand(sbuf *out, const char *t, const tg_var *vars, size_t nvars)
{
	const char *p = t;
	for (const char *b = strchr(p, '{'); b; b = strchr(b + 1, '{')) {
		size_t n = var_len(b + 1);
		if (n == 0)
			continue;
		if (sbuf_append(out, p, (size_t)(b - p)) < 0)
			return -1;
		size_t i = 0;
		while (i < nvars && !(strlen(vars[i].name) == n && memcmp(vars[i].name, b + 1, n) == 0))
			i++;
		if (i == nvars ? sbuf_append(out, b, n + 2) < 0 :  /* not a variable here: as written */
		    vars[i].value && sbuf_puts(out, vars[i].value) < 0)
			return -1;
		p = b + n + 2;
		b = p - 1;
	}
	return sbuf_puts(out, p);
}
