/* test-sync-blocks.c - unit tests for common/sync-blocks.c: a delta made
 * against a host file's block hashes rebuilds the new file from the host's
 * blocks and the literal bytes, in any chunking; bad bodies are refused. */
#include "test.h"

#include "buf.h"
#include "sync-blocks.h"

#include <stdlib.h>
#include <string.h>

#define BS 4096

/* What the applier makes: copies from host, literals as they come. */
struct rebuilt {
	const unsigned char *host;
	struct buf *out;
	int copies;
};

static int
rebuilt_copy(void *arg, size_t j, size_t len, char **cause)
{
	struct rebuilt *r = arg;

	(void)cause;
	buf_append(r->out, r->host + j * BS, len);
	r->copies++;
	return 0;
}

static int
rebuilt_literal(void *arg, const unsigned char *p, size_t len, char **cause)
{
	struct rebuilt *r = arg;

	(void)cause;
	buf_append(r->out, p, len);
	return 0;
}

static const struct sync_blocks_cbs rebuilt_cbs = { rebuilt_copy, rebuilt_literal };

static void
fill(unsigned char *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		p[i] = (unsigned char)(seed >> 16);
	}
}

/* The delta body of new (nlen) against host (hlen), as the sender makes
 * it; *d its record; *literals the blocks sent as bytes. */
static struct buf *
make_delta(const unsigned char *host, size_t hlen, const unsigned char *new, size_t nlen,
    struct sync_blocks_delta *d, int *literals)
{
	size_t nh = sync_blocks_count(hlen, BS), n = sync_blocks_count(nlen, BS);
	unsigned char *hh = calloc(nh + 1, SYNC_BLOCKS_HASH), h[SYNC_BLOCKS_HASH];
	long *match = calloc(n + 1, sizeof *match);
	struct buf *body = buf_new();

	for (size_t k = 0; k < nh; k++)
		sync_blocks_hash(host + k * BS, sync_blocks_len(hlen, BS, k),
		    hh + k * SYNC_BLOCKS_HASH);
	*literals = 0;
	for (size_t k = 0; k < n; k++) {
		size_t len = sync_blocks_len(nlen, BS, k);

		sync_blocks_hash(new + k *BS, len, h);
		match[k] = sync_blocks_match(hh, nh, hlen, BS, k, len, h);
		sync_blocks_put_op(body, match[k]);
		if (match[k] < 0) {
			buf_append(body, new + k *BS, len);
			(*literals)++;
		}
	}
	ASSERT_INT_EQ(
	    (long long)sync_blocks_body_len(match, nlen, BS), (long long)buf_len(body));
	d->block = BS;
	d->size = nlen;
	sync_blocks_hash(new, nlen, d->hash);
	free(hh);
	free(match);
	return body;
}

/* Apply body in steps of step bytes; 0 or -1. */
static int
apply(const struct sync_blocks_delta *d, const unsigned char *host, size_t hlen,
    struct buf *body, size_t step, struct rebuilt *r)
{
	struct sync_blocks_apply *a;
	char *cause = NULL;
	int rc = 0;

	r->host = host;
	r->out = buf_new();
	r->copies = 0;
	a = sync_blocks_apply_new(d, hlen, &rebuilt_cbs, r);
	for (size_t off = 0; rc == 0 && off < buf_len(body); off += step) {
		size_t n = buf_len(body) - off < step ? buf_len(body) - off : step;

		rc = sync_blocks_apply_feed(
		    a, (const unsigned char *)buf_data(body) + off, n, &cause);
	}
	if (rc == 0)
		rc = sync_blocks_apply_finish(a, &cause);
	sync_blocks_apply_free(a);
	free(cause);
	return rc;
}

TEST(changed_middle_and_appended_tail)
{
	size_t hlen = 10 * BS + 100, nlen = 13 * BS + 7;
	unsigned char *host = malloc(hlen), *new = malloc(nlen);
	struct sync_blocks_delta d;
	struct rebuilt r;
	struct buf *body;
	int literals;

	fill(host, hlen, 1);
	memcpy(new, host, hlen);
	fill(new + hlen, nlen - hlen, 2); /* appended */
	new[5 * BS + 10] ^= 0xff;	  /* one byte changed in block 5 */
	body = make_delta(host, hlen, new, nlen, &d, &literals);
	/* block 5, block 10 (was partial on the host), 11, 12, 13 */
	ASSERT_INT_EQ(literals, 5);
	for (size_t step = 1; step <= buf_len(body); step = step * 7 + 3) {
		ASSERT_INT_EQ(apply(&d, host, hlen, body, step, &r), 0);
		ASSERT_INT_EQ((long long)buf_len(r.out), (long long)nlen);
		ASSERT_MEM_EQ(buf_data(r.out), new, nlen);
		ASSERT_INT_EQ(r.copies, 9);
		buf_free(r.out);
	}
	buf_free(body);
	free(host);
	free(new);
}

TEST(truncated_file_and_same_file)
{
	size_t hlen = 8 * BS, nlen = 3 * BS + 1;
	unsigned char *host = malloc(hlen);
	struct sync_blocks_delta d;
	struct rebuilt r;
	struct buf *body;
	int literals;

	fill(host, hlen, 3);
	body = make_delta(host, hlen, host, nlen, &d, &literals);
	ASSERT_INT_EQ(literals, 1); /* only the new last, partial block */
	ASSERT_INT_EQ(apply(&d, host, hlen, body, 1000, &r), 0);
	ASSERT_MEM_EQ(buf_data(r.out), host, nlen);
	buf_free(r.out);
	buf_free(body);
	body = make_delta(host, hlen, host, hlen, &d, &literals);
	ASSERT_INT_EQ(literals, 0);
	ASSERT_INT_EQ((long long)buf_len(body), 8 * 4);
	buf_free(body);
	free(host);
}

TEST(bad_bodies_refused)
{
	size_t hlen = 4 * BS + 10, nlen = 4 * BS + 10;
	unsigned char *host = malloc(hlen);
	struct sync_blocks_delta d;
	struct rebuilt r;
	struct buf *body, *bad;
	int literals;

	fill(host, hlen, 4);
	body = make_delta(host, hlen, host, nlen, &d, &literals);
	/* a host block out of range */
	bad = buf_new();
	sync_blocks_put_op(bad, 9);
	ASSERT_INT_EQ(apply(&d, host, hlen, bad, 4, &r), -1);
	buf_free(r.out);
	buf_reset(bad);
	/* a copy of the host's short last block into a whole block */
	sync_blocks_put_op(bad, 4);
	ASSERT_INT_EQ(apply(&d, host, hlen, bad, 4, &r), -1);
	buf_free(r.out);
	/* host block 0 copied again at place 1: only a block's own may be */
	buf_reset(bad);
	sync_blocks_put_op(bad, 0);
	sync_blocks_put_op(bad, 0);
	sync_blocks_put_op(bad, 2);
	sync_blocks_put_op(bad, 3);
	sync_blocks_put_op(bad, 4);
	ASSERT_INT_EQ(apply(&d, host, hlen, bad, 4, &r), -1);
	ASSERT_INT_EQ(r.copies, 1);
	buf_free(r.out);
	buf_reset(bad);
	for (long k = 0; k < 5; k++)
		sync_blocks_put_op(bad, k);
	ASSERT_INT_EQ(apply(&d, host, hlen, bad, 4, &r), 0);
	buf_free(r.out);
	/* cut short, and one op too many */
	buf_reset(bad);
	buf_append(bad, buf_data(body), buf_len(body) - 2);
	ASSERT_INT_EQ(apply(&d, host, hlen, bad, 3, &r), -1);
	buf_free(r.out);
	buf_reset(bad);
	buf_append(bad, buf_data(body), buf_len(body));
	sync_blocks_put_op(bad, 0);
	ASSERT_INT_EQ(apply(&d, host, hlen, bad, 64, &r), -1);
	buf_free(r.out);
	buf_free(bad);
	buf_free(body);
	free(host);
}

TEST(delta_record_round_trip)
{
	struct sync_blocks_delta d = { 131072, 209715200ULL, { 0 } }, back;
	char *s;

	for (int i = 0; i < SYNC_BLOCKS_HASH; i++)
		d.hash[i] = (unsigned char)(i * 17);
	s = sync_blocks_delta_format(&d);
	ASSERT_INT_EQ(sync_blocks_delta_parse(s, &back), 0);
	ASSERT_INT_EQ((long long)back.block, 131072);
	ASSERT_INT_EQ((long long)back.size, 209715200LL);
	ASSERT_MEM_EQ(back.hash, d.hash, SYNC_BLOCKS_HASH);
	free(s);
	ASSERT_INT_EQ(sync_blocks_delta_parse("131072 10 abc", &back), -1);
	/* signs, spaces, sizes whose blocks do not fit 32 bits */
	ASSERT_INT_EQ(sync_blocks_delta_parse("131072 -1 "
					      "000102030405060708090a0b0c0d0e0f",
			  &back),
	    -1);
	ASSERT_INT_EQ(sync_blocks_delta_parse("131072 +10 "
					      "000102030405060708090a0b0c0d0e0f",
			  &back),
	    -1);
	ASSERT_INT_EQ(sync_blocks_delta_parse(" 131072 10 "
					      "000102030405060708090a0b0c0d0e0f",
			  &back),
	    -1);
	ASSERT_INT_EQ(sync_blocks_delta_parse("131072  10 "
					      "000102030405060708090a0b0c0d0e0f",
			  &back),
	    -1);
	ASSERT_INT_EQ(sync_blocks_delta_parse("131072 18446744073709551615 "
					      "000102030405060708090a0b0c0d0e0f",
			  &back),
	    -1);
	ASSERT_INT_EQ(sync_blocks_delta_parse("131072 18446744073709551616 "
					      "000102030405060708090a0b0c0d0e0f",
			  &back),
	    -1);
	ASSERT_INT_EQ(sync_blocks_delta_parse("4096 17592186036225 "
					      "000102030405060708090a0b0c0d0e0f",
			  &back),
	    -1);
	ASSERT_INT_EQ(sync_blocks_delta_parse("4096 17592186036224 "
					      "000102030405060708090a0b0c0d0e0f",
			  &back),
	    0);
	ASSERT_INT_EQ((long long)sync_blocks_count(back.size, back.block),
	    (long long)SYNC_BLOCKS_LITERAL - 1);
	ASSERT_INT_EQ(
	    (long long)sync_blocks_count(~0ULL, 4096), (long long)(~0ULL / 4096 + 1));
	ASSERT_INT_EQ(sync_blocks_delta_parse("12 10 "
					      "000102030405060708090a0b0c0d0e0f",
			  &back),
	    -1);
	ASSERT_INT_EQ(sync_blocks_delta_parse("131072 10 "
					      "000102030405060708090a0b0c0d0e0f x",
			  &back),
	    -1);
}
