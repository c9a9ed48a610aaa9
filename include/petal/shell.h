/* petal's one shell quoter: the line between a seed value and a root shell
 * on a build instance.  Header-only, so the core and every plugin (which
 * link nothing of petal) use the same rule.
 *
 * A word is written in single quotes, with ' $ and ` written outside them,
 * backslashed: POSIX sh reads it back as the same bytes (newlines and
 * non-UTF-8 bytes included), and nothing in it expands or runs; shellcheck is
 * not left wondering whether a quoted "$(...)" was meant to expand.  The
 * empty string is ''.  A C string holds no NUL, and neither can a word.
 */
#ifndef PETAL_SHELL_H
#define PETAL_SHELL_H

#include <stddef.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

static inline void petal_shell_put_(char *out, size_t cap, size_t *at, char c)
{
	if (*at + 1 < cap)
		out[*at] = c;
	(*at)++;
}

/* s as one POSIX shell word into out[cap] (NUL-terminated, cut short when
   cap is too small); returns the word's length, as snprintf does, so
   petal_shell_quote(NULL, 0, s) + 1 is the room it needs. */
static inline size_t petal_shell_quote(char *out, size_t cap, const char *s)
{
	size_t at = 0;
	int open = 0;

	if (*s == '\0') {
		petal_shell_put_(out, cap, &at, '\'');
		petal_shell_put_(out, cap, &at, '\'');
	}
	for (; *s; s++) {
		int special = *s == '\'' || *s == '$' || *s == '`';

		if (special == open)
			petal_shell_put_(out, cap, &at, '\'');
		open = !special;
		if (special)
			petal_shell_put_(out, cap, &at, '\\');
		petal_shell_put_(out, cap, &at, *s);
	}
	if (open)
		petal_shell_put_(out, cap, &at, '\'');
	if (cap > 0)
		out[at < cap ? at : cap - 1] = '\0';
	return at;
}

/* The same word, but written bare when every byte is one a shell never
   treats specially (letters, digits, - _ . / : % @ + = ,): for a command a
   person reads and copies. */
static inline size_t petal_shell_word(char *out, size_t cap, const char *s)
{
	static const char plain[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	                            "0123456789-_./:%@+=,";
	size_t n = strlen(s);

	if (n == 0 || strspn(s, plain) != n)
		return petal_shell_quote(out, cap, s);
	if (cap > 0) {
		size_t k = n < cap ? n : cap - 1;

		memcpy(out, s, k);
		out[k] = '\0';
	}
	return n;
}

#ifdef __cplusplus
}
#endif

#endif /* PETAL_SHELL_H */
