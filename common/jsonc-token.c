/* jsonc-token.c - the JSONC parser's tokens: strings (escapes decoded into
 * the parser's scratch buffer), numbers, true/false/null, and the messages for
 * a value that is none of them.
 */
#include "jsonc-internal.h"

#include <locale.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "xmalloc.h"

/* Error paths and rare cases: out of line, off the recursion's stack. */
#define JSONC_COLD __attribute__((noinline, cold))

/* Strings. */

static void
jsonc_scratch_add(struct parser *p, const void *data, size_t len)
{
	size_t want = p->scratch_len + len + 1;

	if (want > p->scratch_size) {
		size_t size = p->scratch_size == 0 ? 256 : p->scratch_size;

		while (size < want) {
			if (size > SIZE_MAX / 2)
				fatal("jsonc: string too long");
			size *= 2;
		}
		p->scratch = xreallocarray(p->scratch, 1, size);
		p->scratch_size = size;
	}
	memcpy(p->scratch + p->scratch_len, data, len);
	p->scratch_len += len;
	p->scratch[p->scratch_len] = '\0';
}

static void
jsonc_scratch_add_cp(struct parser *p, unsigned cp)
{
	unsigned char b[4];
	size_t n;

	if (cp < 0x80) {
		b[0] = (unsigned char)cp;
		n = 1;
	} else if (cp < 0x800) {
		b[0] = (unsigned char)(0xC0 | (cp >> 6));
		b[1] = (unsigned char)(0x80 | (cp & 0x3F));
		n = 2;
	} else if (cp < 0x10000) {
		b[0] = (unsigned char)(0xE0 | (cp >> 12));
		b[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
		b[2] = (unsigned char)(0x80 | (cp & 0x3F));
		n = 3;
	} else {
		b[0] = (unsigned char)(0xF0 | (cp >> 18));
		b[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
		b[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
		b[3] = (unsigned char)(0x80 | (cp & 0x3F));
		n = 4;
	}
	jsonc_scratch_add(p, b, n);
}

/* Read 4 hex digits at offset at; -1 if there are not 4. */
static long
jsonc_hex4(const struct parser *p, size_t at)
{
	long v = 0;
	size_t i;
	unsigned char c;

	if (at > p->len || p->len - at < 4)
		return -1;
	for (i = 0; i < 4; i++) {
		c = p->s[at + i];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= c - '0';
		else if (c >= 'a' && c <= 'f')
			v |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v |= c - 'A' + 10;
		else
			return -1;
	}
	return v;
}

/* Decode the escape at p->pos (a backslash) into the scratch buffer. */
static int
jsonc_escape(struct parser *p, unsigned sline, unsigned scol)
{
	unsigned char e;
	long hi, lo;

	if (p->pos + 1 >= p->len)
		return jsonc_error_at(p, sline, scol, "unterminated string");
	e = p->s[p->pos + 1];
	switch (e) {
	case '"':
	case '\\':
	case '/': jsonc_scratch_add(p, &e, 1); break;
	case 'b': jsonc_scratch_add(p, "\b", 1); break;
	case 'f': jsonc_scratch_add(p, "\f", 1); break;
	case 'n': jsonc_scratch_add(p, "\n", 1); break;
	case 'r': jsonc_scratch_add(p, "\r", 1); break;
	case 't': jsonc_scratch_add(p, "\t", 1); break;
	case 'u':
		if ((hi = jsonc_hex4(p, p->pos + 2)) < 0) {
			return jsonc_error(
			    p, "invalid \\u escape in string, expected 4 hex digits");
		}
		if (hi == 0) {
			return jsonc_error(p, "\\u0000 (NUL) is not allowed in strings");
		}
		if (hi >= 0xDC00 && hi <= 0xDFFF) {
			return jsonc_error(p, "lone surrogate \\u%04lX in string", hi);
		}
		if (hi >= 0xD800 && hi <= 0xDBFF) {
			lo = -1;
			if (p->pos + 7 < p->len && p->s[p->pos + 6] == '\\' &&
			    p->s[p->pos + 7] == 'u')
				lo = jsonc_hex4(p, p->pos + 8);
			if (lo < 0xDC00 || lo > 0xDFFF) {
				return jsonc_error(
				    p, "lone surrogate \\u%04lX in string", hi);
			}
			jsonc_scratch_add_cp(p,
			    0x10000 + (((unsigned)hi - 0xD800) << 10) +
				((unsigned)lo - 0xDC00));
			p->pos += 12;
			return 0;
		}
		jsonc_scratch_add_cp(p, (unsigned)hi);
		p->pos += 6;
		return 0;
	default:
		if (e > 0x20 && e < 0x7F)
			return jsonc_error(p, "invalid escape \\%c in string", e);
		return jsonc_error(p, "invalid escape in string");
	}
	p->pos += 2;
	return 0;
}

/* Decode the string at p->pos (its opening quote) into p->scratch. */
int
jsonc_string(struct parser *p)
{
	unsigned sline = p->line, scol = jsonc_col(p);
	const unsigned char *s = p->s;
	size_t run;
	unsigned char c;

	p->scratch_len = 0;
	jsonc_scratch_add(p, "", 0);
	p->pos++;
	for (;;) {
		run = p->pos;
		while (p->pos < p->len) {
			c = s[p->pos];
			if (c < 0x20 || c >= 0x80 || c == '"' || c == '\\')
				break;
			p->pos++;
		}
		if (p->pos > run)
			jsonc_scratch_add(p, s + run, p->pos - run);
		if (p->pos >= p->len)
			return jsonc_error_at(p, sline, scol, "unterminated string");
		c = s[p->pos];
		if (c == '"') {
			p->pos++;
			return 0;
		}
		if (c == '\\') {
			if (jsonc_escape(p, sline, scol) != 0)
				return -1;
		} else if (c >= 0x80) {
			run = p->pos;
			if (jsonc_skip_utf8(p, NULL) != 0)
				return -1;
			jsonc_scratch_add(p, s + run, p->pos - run);
		} else if (c == '\n' || c == '\r')
			return jsonc_error_at(p, sline, scol, "unterminated string");
		else if (c == '\0')
			return jsonc_error(p, "unexpected NUL byte");
		else {
			return jsonc_error(
			    p, "unescaped control character U+%04X in string", c);
		}
	}
}

/* Numbers and words. */

static int
jsonc_is_word_char(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z') || c == '_' || c == '$' || c == '.' || c == '+' ||
	    c == '-';
}

/* Length of the number at s (JSON grammar) if it is exactly n bytes, else 0. */
static int
jsonc_number_ok(const unsigned char *s, size_t n, int *integer)
{
	size_t i = 0;

	*integer = 1;
	if (i < n && s[i] == '-')
		i++;
	if (i >= n || s[i] < '0' || s[i] > '9')
		return 0;
	if (s[i] == '0')
		i++;
	else {
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
	}
	if (i < n && s[i] == '.') {
		*integer = 0;
		i++;
		if (i >= n || s[i] < '0' || s[i] > '9')
			return 0;
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		*integer = 0;
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		if (i >= n || s[i] < '0' || s[i] > '9')
			return 0;
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
	}
	return i == n;
}

/* Convert a valid JSON number of n bytes. */
static double
jsonc_number_value(const unsigned char *s, size_t n, int integer)
{
	char small[64], *buf;
	const char *point;
	double v;
	size_t i, digits;

	digits = n - (s[0] == '-');
	if (integer && digits <= 15) {
		/* Exact in a double; skip strtod. */
		v = 0;
		for (i = n - digits; i < n; i++)
			v = v * 10 + (s[i] - '0');
		return s[0] == '-' ? -v : v;
	}
	buf = n < sizeof small ? small : xmalloc(n + 1);
	memcpy(buf, s, n);
	buf[n] = '\0';
	/* strtod() follows the locale's decimal point. */
	point = localeconv()->decimal_point;
	if (point != NULL && point[0] != '\0' && point[0] != '.' && point[1] == '\0') {
		for (i = 0; i < n; i++) {
			if (buf[i] == '.')
				buf[i] = point[0];
		}
	}
	v = strtod(buf, NULL);
	if (buf != small)
		free(buf);
	return v;
}

int __attribute__((noinline)) jsonc_number(struct parser *p, cJSON **out)
{
	const unsigned char *s = p->s + p->pos;
	size_t n = 0;
	int integer;
	const char *why = "";

	while (p->pos + n < p->len && jsonc_is_word_char(s[n]))
		n++;
	if (!jsonc_number_ok(s, n, &integer)) {
		if (s[0] == '+')
			why = " (a leading '+' is not allowed)";
		else if (n > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
			why = " (hexadecimal is not allowed)";
		else if ((n > 1 && s[0] == '0' && s[1] >= '0' && s[1] <= '9') ||
		    (n > 2 && s[0] == '-' && s[1] == '0' && s[2] >= '0' && s[2] <= '9'))
			why = " (leading zeros are not allowed)";
		if (n > 40)
			return jsonc_error(p, "invalid number %.40s...%s", s, why);
		return jsonc_error(p, "invalid number %.*s%s", (int)n, s, why);
	}
	if ((*out = cJSON_CreateNumber(jsonc_number_value(s, n, integer))) == NULL)
		fatal("jsonc: out of memory");
	p->pos += n;
	return 0;
}

/* The "for property ..." / "in the array" part of a message. */
static void
jsonc_where(const struct value_ctx *ctx, char *out, size_t size)
{
	char q[96];

	if (ctx == NULL)
		out[0] = '\0';
	else if (ctx->key == NULL)
		snprintf(out, size, " in the array");
	else {
		jsonc_quote(ctx->key, q, sizeof q);
		snprintf(out, size, " for property %s", q);
	}
}

/* true, false, null, or a word that is not a value. */
int __attribute__((noinline))
jsonc_word(struct parser *p, const struct value_ctx *ctx, cJSON **out)
{
	const char *s = (const char *)p->s + p->pos;
	const char *hint = " (strings need double quotes)";
	char where[128];
	size_t n = 0;

	while (p->pos + n < p->len && jsonc_is_word_char(p->s[p->pos + n]))
		n++;
	if (n == 4 && memcmp(s, "true", 4) == 0)
		*out = cJSON_CreateTrue();
	else if (n == 5 && memcmp(s, "false", 5) == 0)
		*out = cJSON_CreateFalse();
	else if (n == 4 && memcmp(s, "null", 4) == 0)
		*out = cJSON_CreateNull();
	else {
		if ((n == 4 &&
			(strncasecmp(s, "true", 4) == 0 ||
			    strncasecmp(s, "null", 4) == 0)) ||
		    (n == 5 && strncasecmp(s, "false", 5) == 0))
			hint = " (true, false and null are lowercase)";
		else if ((n == 3 && memcmp(s, "NaN", 3) == 0) ||
		    (n == 8 && memcmp(s, "Infinity", 8) == 0) ||
		    (n == 9 && memcmp(s, "undefined", 9) == 0))
			hint = " (not allowed in JSON)";
		jsonc_where(ctx, where, sizeof where);
		if (n > 40) {
			return jsonc_error(
			    p, "expected a value%s, found %.40s...%s", where, s, hint);
		}
		return jsonc_error(
		    p, "expected a value%s, found %.*s%s", where, (int)n, s, hint);
	}
	if (*out == NULL)
		fatal("jsonc: out of memory");
	p->pos += n;
	return 0;
}

/* Report "MESSAGE \"KEY\"" at the current position. Kept out of line, like
 * the other error paths, so the recursion's stack frames stay small. */
int JSONC_COLD
jsonc_error_key(struct parser *p, const char *msg, const char *key)
{
	char q[96];

	jsonc_quote(key, q, sizeof q);
	return jsonc_error(p, "%s %s", msg, q);
}

/* Report the character at p->pos where a value should be. */
int JSONC_COLD
jsonc_unexpected(struct parser *p, const struct value_ctx *ctx)
{
	char what[64], where[128];

	if (jsonc_bad_byte(p) != 0)
		return -1;
	jsonc_describe(p, what, sizeof what);
	jsonc_where(ctx, where, sizeof where);
	return jsonc_error(p, "expected a value%s, found %s%s", where, what,
	    p->s[p->pos] == '\'' ? " (strings need double quotes)" : "");
}
