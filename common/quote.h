/* quote.h - strings from users and peers (names, paths, JSON keys) shown in
 * messages and in tables: a line break in one would split the line, an ESC
 * would drive the terminal. Pure: no I/O, no globals.
 */
#ifndef RDEV_QUOTE_H
#define RDEV_QUOTE_H

#include <stddef.h>

/* s in double quotes, '"' and '\\' backslashed, control characters (C0,
 * DEL, and C1 as UTF-8 encodes it) as \u%04x, as jsonc's messages quote
 * keys; with max > 0, cut once the text between the quotes would pass max
 * bytes (never inside a character or an escape) and "..." added. New
 * string, the caller frees it. */
char *quote_string(const char *s, size_t max);

/* Does s hold a control character (as quote_string() escapes them)? */
int quote_needed(const char *s);

/* The strings quote_shown() made, kept until quote_kept_free(). */
struct quote_kept {
	char **v;
	size_t n;
};
/* s as a table cell or a line of plain text shows it: s itself when it
 * holds no control character, else quote_string(s, 0), kept in *keep
 * (valid until quote_kept_free(keep)). NULL stays NULL. */
const char *quote_shown(struct quote_kept *keep, const char *s);
/* Free what keep holds; it can be used again. */
void quote_kept_free(struct quote_kept *keep);

/* A terminal's escape sequences taken out of a byte stream that comes in
 * chunks (a sequence may be cut between two): CSI (ESC [ parameters,
 * intermediates, final byte: colours, cursor moves), OSC and the other
 * strings (ESC ] P X ^ _ ... ended by BEL or ESC \, or by a line break,
 * which is kept: one never ended takes no later line), and ESC with
 * intermediates and a final byte (ESC ( B). Other bytes pass unchanged.
 * Zero it before the first chunk. */
struct quote_ansi {
	int state;
};
/* The len bytes at in without escape sequences, written to out (room for
 * len bytes; it may be in itself): the number written. */
size_t quote_ansi_strip(struct quote_ansi *st, const char *in, size_t len, char *out);

#endif
