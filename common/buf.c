/* buf.c - a growable byte buffer with a read offset. */
#include "buf.h"

#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xmalloc.h"

struct buf {
	unsigned char *data;
	size_t off;  /* first unconsumed byte */
	size_t end;  /* one past the last byte */
	size_t size; /* allocated */
};

struct buf *
buf_new(void)
{
	return xcalloc(1, sizeof(struct buf));
}

void
buf_free(struct buf *b)
{
	if (b == NULL)
		return;
	free(b->data);
	free(b);
}

const unsigned char *
buf_data(const struct buf *b)
{
	return b->data == NULL ? (const unsigned char *)"" : b->data + b->off;
}

size_t
buf_len(const struct buf *b)
{
	return b->end - b->off;
}

unsigned char *
buf_reserve(struct buf *b, size_t len)
{
	size_t used = b->end - b->off, want;

	if (b->size - b->end >= len)
		return b->data + b->end;
	/* Compact when at least half of the buffer is consumed space and that
	 * makes the room (otherwise the growth below moves the bytes once). */
	if (b->off > 0 && b->off >= used && b->size - used >= len) {
		memmove(b->data, b->data + b->off, used);
		b->off = 0;
		b->end = used;
		return b->data + b->end;
	}
	if (len > (size_t)-1 / 4 - used || b->size > (size_t)-1 / 4)
		fatal("buffer size overflow");
	/* At least twice the old size: copies stay amortised O(1) a byte. */
	want = b->size < 128 ? 256 : b->size * 2;
	if (b->off == 0 && used > b->size / 2) {
		/* Mostly held bytes: grow in place where the allocator can. */
		while (want - b->end < len)
			want *= 2;
		b->data = xreallocarray(b->data, 1, want);
	} else {
		/* A new block that takes only the held bytes: realloc would copy
		 * the whole old block, consumed and unused space too. */
		unsigned char *fresh;

		while (want - used < len)
			want *= 2;
		fresh = xmalloc(want);
		if (used > 0)
			memcpy(fresh, b->data + b->off, used);
		free(b->data);
		b->data = fresh;
		b->off = 0;
		b->end = used;
	}
	b->size = want;
	return b->data + b->end;
}

void
buf_commit(struct buf *b, size_t len)
{
	if (len > b->size - b->end)
		fatal("buf_commit past reserved space");
	b->end += len;
}

void
buf_append(struct buf *b, const void *data, size_t len)
{
	if (len == 0)
		return;
	memcpy(buf_reserve(b, len), data, len);
	b->end += len;
}

void
buf_appendf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = xvasprintf(fmt, ap);
	va_end(ap);
	buf_append(b, s, strlen(s));
	free(s);
}

void
buf_consume(struct buf *b, size_t len)
{
	if (len > b->end - b->off)
		fatal("buf_consume of %zu bytes, only %zu held", len, b->end - b->off);
	b->off += len;
	if (b->off == b->end)
		b->off = b->end = 0;
}

void
buf_reset(struct buf *b)
{
	b->off = b->end = 0;
}

char *
buf_take_string(struct buf *b, size_t *len)
{
	size_t n = buf_len(b);
	char *s = xmalloc(n + 1);

	memcpy(s, buf_data(b), n);
	s[n] = '\0';
	if (len != NULL)
		*len = n;
	buf_reset(b);
	return s;
}

void
buf_wipe(struct buf *b)
{
	if (b == NULL)
		return;
	if (b->data != NULL)
		sodium_memzero(b->data, b->size);
	b->off = b->end = 0;
}
