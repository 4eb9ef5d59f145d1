/* test-relay-chunks.c - reading `rdev-relay --connect`'s output: the status
 * byte, chunks, the empty chunk that ends it, fed whole and split at every
 * byte. */
#include "test.h"

#include "buf.h"
#include "relay-chunks.h"

struct got {
	int status;	 /* -1: none */
	struct buf *out; /* the pieces, joined */
	int ended, bad;
};

/* Feed data to a fresh reader, cut at cut (len: whole). */
static void
feed(const unsigned char *data, size_t len, size_t cut, struct got *g)
{
	struct relay_chunks c = { 0 };
	const unsigned char *piece;
	size_t used, plen, parts[2][2] = { { 0, cut }, { cut, len } };
	enum relay_chunks_what w;

	g->status = -1;
	g->out = buf_new();
	g->ended = g->bad = 0;
	for (int i = 0; i < 2; i++) {
		const unsigned char *p = data + parts[i][0];
		size_t n = parts[i][1] - parts[i][0];

		while ((w = relay_chunks_feed(&c, p, n, &used, &piece, &plen)) !=
		    RELAY_CHUNKS_MORE) {
			if (w == RELAY_CHUNKS_STATUS)
				g->status = c.status;
			else if (w == RELAY_CHUNKS_DATA)
				buf_append(g->out, piece, plen);
			else if (w == RELAY_CHUNKS_END)
				g->ended = 1;
			else {
				g->bad = 1;
				return;
			}
			p += used;
			n -= used;
		}
		ASSERT_INT_EQ(used, n);
	}
}

TEST(status_chunks_end_every_split)
{
	static const unsigned char data[] = { 0, 0, 0, 0, 5, 'h', 'e', 'l', 'l', 'o', 0,
		0, 0, 1, '!', 0, 0, 0, 0 };
	struct got g;

	for (size_t cut = 0; cut <= sizeof data; cut++) {
		feed(data, sizeof data, cut, &g);
		ASSERT_INT_EQ(g.status, 0);
		ASSERT_INT_EQ(buf_len(g.out), 6);
		ASSERT_MEM_EQ(buf_data(g.out), "hello!", 6);
		ASSERT_INT_EQ(g.ended, 1);
		ASSERT_INT_EQ(g.bad, 0);
		buf_free(g.out);
	}
}

TEST(refused)
{
	static const unsigned char data[] = { 1 };
	struct got g;

	feed(data, sizeof data, 0, &g);
	ASSERT_INT_EQ(g.status, 1);
	ASSERT_INT_EQ(buf_len(g.out), 0);
	ASSERT_INT_EQ(g.ended, 0);
	buf_free(g.out);
}

TEST(bytes_after_the_end_and_huge_chunks_are_bad)
{
	static const unsigned char after[] = { 0, 0, 0, 0, 0, 'x' };
	static const unsigned char huge[] = { 0, 0, 0x10, 0, 1 };
	struct got g;

	feed(after, sizeof after, 0, &g);
	ASSERT_INT_EQ(g.ended, 1);
	ASSERT_INT_EQ(g.bad, 1);
	buf_free(g.out);
	feed(huge, sizeof huge, 0, &g);
	ASSERT_INT_EQ(g.bad, 1);
	buf_free(g.out);
}
