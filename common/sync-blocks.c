/* sync-blocks.c - block-hash deltas of large files (sync-blocks.h). */
#include "sync-blocks.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "buf.h"
#include "error.h"
#include "xmalloc.h"

void
sync_blocks_hash(const void *p, size_t n, unsigned char *out)
{
	crypto_generichash(out, SYNC_BLOCKS_HASH, p, n, NULL, 0);
}

size_t
sync_blocks_count(unsigned long long size, size_t block)
{
	/* (not (size + block - 1) / block: that overflows near the top) */
	return (size_t)(size / block + (size % block != 0));
}

size_t
sync_blocks_len(unsigned long long size, size_t block, size_t k)
{
	unsigned long long off = (unsigned long long)k * block;

	if (off >= size)
		return 0;
	return size - off < block ? (size_t)(size - off) : block;
}

long
sync_blocks_match(const unsigned char *host, size_t nhost, unsigned long long host_size,
    size_t block, size_t k, size_t len, const unsigned char *h)
{
	if (k >= nhost || sync_blocks_len(host_size, block, k) != len ||
	    memcmp(host + k * SYNC_BLOCKS_HASH, h, SYNC_BLOCKS_HASH) != 0)
		return -1;
	return (long)k;
}

unsigned long long
sync_blocks_body_len(const long *match, unsigned long long size, size_t block)
{
	size_t n = sync_blocks_count(size, block);
	unsigned long long len = 4ULL * n;

	for (size_t k = 0; k < n; k++)
		if (match[k] < 0)
			len += sync_blocks_len(size, block, k);
	return len;
}

void
sync_blocks_put_op(struct buf *out, long j)
{
	uint32_t v = j < 0 ? SYNC_BLOCKS_LITERAL : (uint32_t)j;
	unsigned char b[4] = { (unsigned char)(v >> 24), (unsigned char)(v >> 16),
		(unsigned char)(v >> 8), (unsigned char)v };

	buf_append(out, b, sizeof b);
}

char *
sync_blocks_delta_format(const struct sync_blocks_delta *d)
{
	char hex[SYNC_BLOCKS_HASH * 2 + 1];

	sodium_bin2hex(hex, sizeof hex, d->hash, sizeof d->hash);
	return xasprintf("%zu %llu %s", d->block, d->size, hex);
}

/* A decimal number of s (digits only: no sign, no space) up to a space or
 * the end, into *v; the rest after it in *end. 0, or -1. */
static int
sync_blocks_parse_num(const char *s, unsigned long long *v, const char **end)
{
	char *e;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	*v = strtoull(s, &e, 10);
	if (errno != 0 || (*e != ' ' && *e != '\0'))
		return -1;
	*end = e;
	return 0;
}

int
sync_blocks_delta_parse(const char *s, struct sync_blocks_delta *d)
{
	unsigned long long block, size;
	const char *hex;
	size_t hlen;

	if (sync_blocks_parse_num(s, &block, &s) != 0 || *s++ != ' ' ||
	    sync_blocks_parse_num(s, &size, &s) != 0 || *s++ != ' ' || block < 4096 ||
	    block > (16u << 20))
		return -1;
	hex = s;
	if (strlen(hex) != 2 * sizeof d->hash ||
	    sodium_hex2bin(
		d->hash, sizeof d->hash, hex, strlen(hex), NULL, &hlen, NULL) != 0 ||
	    hlen != sizeof d->hash)
		return -1;
	/* (ops index blocks with 32 bits, the literal mark excluded) */
	if (size > block * (SYNC_BLOCKS_LITERAL - 1ULL))
		return -1;
	d->size = size;
	d->block = (size_t)block;
	return 0;
}

/* ---- Applying ------------------------------------------------------------- */

struct sync_blocks_apply {
	struct sync_blocks_delta d;
	unsigned long long host_size;
	size_t nblocks, nhost;
	const struct sync_blocks_cbs *cbs;
	void *arg;
	size_t k;	     /* the block being read */
	unsigned char op[4]; /* its op, as it comes */
	size_t have;	     /* bytes of op */
	size_t literal_left; /* a literal block's bytes to come */
};

struct sync_blocks_apply *
sync_blocks_apply_new(const struct sync_blocks_delta *d, unsigned long long host_size,
    const struct sync_blocks_cbs *cbs, void *arg)
{
	struct sync_blocks_apply *a = xcalloc(1, sizeof *a);

	a->d = *d;
	a->host_size = host_size;
	a->nblocks = sync_blocks_count(d->size, d->block);
	a->nhost = sync_blocks_count(host_size, d->block);
	a->cbs = cbs;
	a->arg = arg;
	return a;
}

void
sync_blocks_apply_free(struct sync_blocks_apply *a)
{
	free(a);
}

/* Block a->k's op is whole: copy the host's block, or await its bytes. */
static int
sync_blocks_apply_op(struct sync_blocks_apply *a, char **cause)
{
	uint32_t v = (uint32_t)a->op[0] << 24 | (uint32_t)a->op[1] << 16 |
	    (uint32_t)a->op[2] << 8 | a->op[3];
	size_t len = sync_blocks_len(a->d.size, a->d.block, a->k);

	a->have = 0;
	if (v == SYNC_BLOCKS_LITERAL) {
		a->literal_left = len;
		return 0;
	}
	/* Only the block at the same place may be copied: one host block named
	 * again and again would have us write far more than was sent. */
	if (v != a->k)
		return error_set(cause,
		    "delta: block %zu copies host block %u, not its own", a->k,
		    (unsigned)v);
	if (v >= a->nhost || sync_blocks_len(a->host_size, a->d.block, v) != len)
		return error_set(cause,
		    "delta: block %zu copies host block %u, which is not one of "
		    "its length",
		    a->k, (unsigned)v);
	a->k++;
	return a->cbs->copy(a->arg, v, len, cause);
}

int
sync_blocks_apply_feed(
    struct sync_blocks_apply *a, const void *data, size_t len, char **cause)
{
	const unsigned char *p = data;
	size_t n;

	while (len > 0) {
		if (a->literal_left > 0) {
			n = len < a->literal_left ? len : a->literal_left;
			if (a->cbs->literal(a->arg, p, n, cause) != 0)
				return -1;
			a->literal_left -= n;
			a->k += a->literal_left == 0;
		} else {
			if (a->k >= a->nblocks)
				return error_set(
				    cause, "delta: bytes past its last block");
			n = sizeof a->op - a->have < len ? sizeof a->op - a->have : len;
			memcpy(a->op + a->have, p, n);
			a->have += n;
			if (a->have == sizeof a->op &&
			    sync_blocks_apply_op(a, cause) != 0)
				return -1;
		}
		p += n;
		len -= n;
	}
	return 0;
}

int
sync_blocks_apply_finish(struct sync_blocks_apply *a, char **cause)
{
	if (a->k != a->nblocks || a->have != 0 || a->literal_left != 0)
		return error_set(
		    cause, "delta: ended at block %zu of %zu", a->k, a->nblocks);
	return 0;
}
