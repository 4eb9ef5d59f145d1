/* quote.c - strings shown quoted and escaped in messages and tables
 * (quote.h). */
#include "quote.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "xmalloc.h"

/* The length of the control character at s (1: C0 or DEL, 2: a C1 one,
 * U+0080-U+009F, as UTF-8 writes it), 0 when s is none; *cp its code. */
static size_t
quote_control(const unsigned char *s, unsigned *cp)
{
	if (s[0] < 0x20 || s[0] == 0x7f) {
		*cp = s[0];
		return 1;
	}
	if (s[0] == 0xc2 && s[1] >= 0x80 && s[1] <= 0x9f) {
		*cp = s[1];
		return 2;
	}
	return 0;
}

int
quote_needed(const char *s)
{
	unsigned cp;

	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++)
		if (quote_control(p, &cp) != 0)
			return 1;
	return 0;
}

char *
quote_string(const char *s, size_t max)
{
	const unsigned char *u = (const unsigned char *)s;
	struct buf *b = buf_new();
	size_t i = 0, used = 0, n;
	unsigned cp;
	char unit[8];
	char *out;

	buf_append(b, "\"", 1);
	while (u[i] != '\0') {
		if ((n = quote_control(u + i, &cp)) != 0)
			snprintf(unit, sizeof unit, "\\u%04x", cp);
		else if (u[i] == '"' || u[i] == '\\') {
			unit[0] = '\\';
			unit[1] = (char)u[i];
			unit[2] = '\0';
			n = 1;
		} else {
			/* a whole character: its continuation bytes go with it */
			for (n = 1; n < 4 && (u[i + n] & 0xc0) == 0x80; n++)
				;
			memcpy(unit, u + i, n);
			unit[n] = '\0';
		}
		if (max > 0 && used + strlen(unit) > max) {
			buf_append(b, "...", 3);
			break;
		}
		buf_append(b, unit, strlen(unit));
		used += strlen(unit);
		i += n;
	}
	buf_append(b, "\"", 1);
	out = buf_take_string(b, NULL);
	buf_free(b);
	return out;
}

const char *
quote_shown(struct quote_kept *keep, const char *s)
{
	if (s == NULL || !quote_needed(s))
		return s;
	keep->v = xreallocarray(keep->v, keep->n + 1, sizeof *keep->v);
	return keep->v[keep->n++] = quote_string(s, 0);
}

void
quote_kept_free(struct quote_kept *keep)
{
	for (size_t i = 0; i < keep->n; i++)
		free(keep->v[i]);
	free(keep->v);
	keep->v = NULL;
	keep->n = 0;
}

enum {
	QUOTE_ANSI_TEXT,
	QUOTE_ANSI_ESC,	    /* after ESC */
	QUOTE_ANSI_CSI,	    /* after ESC [, before the final byte */
	QUOTE_ANSI_STRING,  /* after ESC ] (or P X ^ _), before its end */
	QUOTE_ANSI_STR_ESC, /* an ESC in a string: ESC \ ends it */
};

size_t
quote_ansi_strip(struct quote_ansi *st, const char *in, size_t len, char *out)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];

		switch (st->state) {
		case QUOTE_ANSI_TEXT:
			if (c == 0x1b)
				st->state = QUOTE_ANSI_ESC;
			else
				out[n++] = (char)c;
			break;
		case QUOTE_ANSI_ESC:
			if (c == '[')
				st->state = QUOTE_ANSI_CSI;
			else if (c == ']' || c == 'P' || c == 'X' || c == '^' || c == '_')
				st->state = QUOTE_ANSI_STRING;
			else if (c < 0x20 && c != 0x1b) {
				/* (a control byte cuts it short, as a
				 * terminal does: a line break stays) */
				out[n++] = (char)c;
				st->state = QUOTE_ANSI_TEXT;
			} else if (c > 0x2f)
				/* (a final byte; 0x20-0x2f are intermediates,
				 * as in ESC ( B) */
				st->state = QUOTE_ANSI_TEXT;
			break;
		case QUOTE_ANSI_CSI:
			/* (parameters and intermediates are 0x20-0x3f; a
			 * control byte inside is still obeyed by a terminal,
			 * and any other byte ends a malformed one) */
			if (c == 0x1b)
				st->state = QUOTE_ANSI_ESC;
			else if (c < 0x20)
				out[n++] = (char)c;
			else if (c >= 0x40) {
				if (c > 0x7e)
					out[n++] = (char)c;
				st->state = QUOTE_ANSI_TEXT;
			}
			break;
		case QUOTE_ANSI_STRING:
		default: /* QUOTE_ANSI_STR_ESC */
			/* (a line break ends one never ended: a stray ESC ] or
			 * ESC P, or one cut short, would take every later
			 * line of the stream with it) */
			if (c == '\n') {
				out[n++] = (char)c;
				st->state = QUOTE_ANSI_TEXT;
			} else if (st->state == QUOTE_ANSI_STR_ESC)
				st->state =
				    c == '\\' ? QUOTE_ANSI_TEXT : QUOTE_ANSI_STRING;
			else if (c == 0x07)
				st->state = QUOTE_ANSI_TEXT;
			else if (c == 0x1b)
				st->state = QUOTE_ANSI_STR_ESC;
			break;
		}
	}
	return n;
}
