/* jsonc-scan.c - the JSONC parser's scanner: lines and columns, whitespace
 * and comments, UTF-8 checks, and error messages at a position.
 *
 * The scanner keeps the current line and enough bookkeeping to compute the
 * column of the current byte in characters in O(1): the number of UTF-8
 * continuation bytes seen since the line began (they only occur inside
 * strings and comments, which are validated as they are scanned).
 */
#include "jsonc-internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "quote.h"
#include "xmalloc.h"

unsigned
jsonc_col(const struct parser *p)
{
	return (unsigned)(p->pos - p->line_start - (p->cont - p->line_cont) + 1);
}

/* A line ended; the next one starts at byte offset start. */
static void
jsonc_newline(struct parser *p, size_t start)
{
	p->line++;
	p->line_start = start;
	p->line_cont = p->cont;
}

/* Format an error at line:col. Always returns -1. */
int __attribute__((format(printf, 4, 5)))
jsonc_error_at(struct parser *p, unsigned line, unsigned col, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	error_set(p->cause, "%s:%u:%u: %s", p->doc->name, line, col, msg);
	free(msg);
	return -1;
}

/* Outcome of checking one UTF-8 sequence. */
enum utf8_status {
	UTF8_OK,
	UTF8_BAD_LEAD, /* a byte that cannot start a character */
	UTF8_BAD_CONT, /* a lead byte not followed as it must be */
	UTF8_TRUNCATED /* the text ends inside the sequence */
};

/* Check the UTF-8 sequence at s (avail bytes left, s[0] >= 0x80). Sets *n to
 * its length (for UTF8_BAD_CONT and UTF8_TRUNCATED: the bytes that were
 * looked at) and *cp to the code point. Rejects overlong forms, surrogates
 * and code points above U+10FFFF. */
static enum utf8_status
jsonc_utf8(const unsigned char *s, size_t avail, size_t *n, unsigned *cp)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xBF;
	size_t need, i;

	if (c >= 0xC2 && c <= 0xDF) {
		need = 2;
		*cp = c & 0x1F;
	} else if (c >= 0xE0 && c <= 0xEF) {
		need = 3;
		*cp = c & 0x0F;
		if (c == 0xE0)
			lo = 0xA0; /* overlong */
		else if (c == 0xED)
			hi = 0x9F; /* surrogates */
	} else if (c >= 0xF0 && c <= 0xF4) {
		need = 4;
		*cp = c & 0x07;
		if (c == 0xF0)
			lo = 0x90; /* overlong */
		else if (c == 0xF4)
			hi = 0x8F; /* above U+10FFFF */
	} else {
		*n = 1;
		return UTF8_BAD_LEAD;
	}
	for (i = 1; i < need; i++) {
		if (i >= avail) {
			*n = i;
			return UTF8_TRUNCATED;
		}
		if (s[i] < lo || s[i] > hi) {
			*n = i + 1;
			return UTF8_BAD_CONT;
		}
		lo = 0x80;
		hi = 0xBF;
		*cp = (*cp << 6) | (s[i] & 0x3F);
	}
	*n = need;
	return UTF8_OK;
}

/* Report a bad UTF-8 sequence at the current position. */
static int
jsonc_utf8_error(struct parser *p, enum utf8_status st, size_t n)
{
	const unsigned char *s = p->s + p->pos;
	char bytes[32];
	size_t i, off = 0;

	if (st == UTF8_BAD_LEAD)
		return jsonc_error(p, "invalid UTF-8 byte 0x%02x", s[0]);
	for (i = 0; i < n && i < 4; i++) {
		off += (size_t)snprintf(
		    bytes + off, sizeof bytes - off, "%s0x%02x", i == 0 ? "" : " ", s[i]);
	}
	if (st == UTF8_TRUNCATED)
		return jsonc_error(
		    p, "truncated UTF-8 sequence %s at end of file", bytes);
	return jsonc_error(p, "invalid UTF-8 sequence %s", bytes);
}

/* Step over a non-ASCII character in a string or comment, counting its
 * continuation bytes; on invalid UTF-8 set the error and return -1. */
int
jsonc_skip_utf8(struct parser *p, unsigned *cp)
{
	enum utf8_status st;
	size_t n;
	unsigned dummy;

	st = jsonc_utf8(p->s + p->pos, p->len - p->pos, &n, cp != NULL ? cp : &dummy);
	if (st != UTF8_OK)
		return jsonc_utf8_error(p, st, n);
	p->pos += n;
	p->cont += n - 1;
	return 0;
}

/* Skip a // comment; p->pos is at its first '/'. The line break is left. */
static int
jsonc_line_comment(struct parser *p)
{
	unsigned char c;

	p->pos += 2;
	while (p->pos < p->len) {
		c = p->s[p->pos];
		if (c == '\n' || c == '\r')
			break;
		if (c == '\0')
			return jsonc_error(p, "unexpected NUL byte");
		if (c < 0x80)
			p->pos++;
		else if (jsonc_skip_utf8(p, NULL) != 0)
			return -1;
	}
	return 0;
}

/* Skip a block comment; p->pos is at its '/'. */
static int
jsonc_block_comment(struct parser *p)
{
	unsigned line = p->line, col = jsonc_col(p);
	unsigned char c;

	p->pos += 2;
	for (;;) {
		if (p->pos >= p->len) {
			return jsonc_error_at(p, line, col, "unterminated /* comment");
		}
		c = p->s[p->pos];
		if (c == '*' && p->pos + 1 < p->len && p->s[p->pos + 1] == '/') {
			p->pos += 2;
			return 0;
		}
		if (c == '\n') {
			p->pos++;
			jsonc_newline(p, p->pos);
		} else if (c == '\r') {
			p->pos++;
			if (p->pos < p->len && p->s[p->pos] == '\n')
				p->pos++;
			jsonc_newline(p, p->pos);
		} else if (c == '\0')
			return jsonc_error(p, "unexpected NUL byte");
		else if (c < 0x80)
			p->pos++;
		else if (jsonc_skip_utf8(p, NULL) != 0)
			return -1;
	}
}

/* Skip whitespace and comments. Stops at anything else, including a '/' that
 * does not start a comment (the caller reports it). */
int
jsonc_skip(struct parser *p)
{
	unsigned char c;

	while (p->pos < p->len) {
		c = p->s[p->pos];
		switch (c) {
		case ' ':
		case '\t': p->pos++; break;
		case '\n':
			p->pos++;
			jsonc_newline(p, p->pos);
			break;
		case '\r':
			p->pos++;
			if (p->pos < p->len && p->s[p->pos] == '\n')
				p->pos++;
			jsonc_newline(p, p->pos);
			break;
		case '/':
			if (p->pos + 1 >= p->len)
				return 0;
			if (p->s[p->pos + 1] == '/') {
				if (jsonc_line_comment(p) != 0)
					return -1;
			} else if (p->s[p->pos + 1] == '*') {
				if (jsonc_block_comment(p) != 0)
					return -1;
			} else
				return 0;
			break;
		default: return 0;
		}
	}
	return 0;
}

/* If the byte at p->pos is one that is wrong anywhere (NUL, invalid UTF-8),
 * report it and return -1; else return 0. */
int
jsonc_bad_byte(struct parser *p)
{
	enum utf8_status st;
	unsigned cp;
	size_t n;

	if (p->s[p->pos] == '\0')
		return jsonc_error(p, "unexpected NUL byte");
	if (p->s[p->pos] < 0x80)
		return 0;
	st = jsonc_utf8(p->s + p->pos, p->len - p->pos, &n, &cp);
	if (st != UTF8_OK)
		return jsonc_utf8_error(p, st, n);
	return 0;
}

/* Describe the character at p->pos (not NUL, valid UTF-8) for a message. */
void
jsonc_describe(const struct parser *p, char *out, size_t size)
{
	unsigned char c = p->s[p->pos];
	unsigned cp = 0;
	size_t n;

	if (c == '\'')
		snprintf(out, size, "\"'\"");
	else if (c > 0x20 && c < 0x7F)
		snprintf(out, size, "'%c'", c);
	else if (c < 0x80)
		snprintf(out, size, "control character U+%04X", c);
	else {
		(void)jsonc_utf8(p->s + p->pos, p->len - p->pos, &n, &cp);
		snprintf(out, size, "character U+%04X", cp);
	}
}

/* Quote s for a message (quote_string(): quotes, backslashes and control
 * characters escaped), cut to fit out if long. */
void
jsonc_quote(const char *s, char *out, size_t size)
{
	char *q = quote_string(s, size > 16 ? size - 16 : 1);

	snprintf(out, size, "%s", q);
	free(q);
}
