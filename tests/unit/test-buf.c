/* test-buf.c - unit tests for common/buf.c */
#include "test.h"

#include "buf.h"

TEST(append_and_consume)
{
	struct buf *b = buf_new();

	buf_append(b, "hello ", 6);
	buf_appendf(b, "%s %d", "world", 42);
	ASSERT_INT_EQ(buf_len(b), 14);
	ASSERT_MEM_EQ(buf_data(b), "hello world 42", 14);
	buf_consume(b, 6);
	ASSERT_INT_EQ(buf_len(b), 8);
	ASSERT_MEM_EQ(buf_data(b), "world 42", 8);
	buf_consume(b, 8);
	ASSERT_INT_EQ(buf_len(b), 0);
	buf_free(b);
}

TEST(grows_past_many_reallocations_and_keeps_bytes)
{
	struct buf *b = buf_new();
	unsigned char chunk[1000];
	size_t i, total = 0;

	for (i = 0; i < 1000; i++) {
		memset(chunk, (int)(i & 0xff), sizeof chunk);
		buf_append(b, chunk, sizeof chunk);
		total += sizeof chunk;
		if (i % 3 == 0) {
			/* consume part of the front to exercise compaction */
			buf_consume(b, 500);
			total -= 500;
		}
	}
	ASSERT_INT_EQ(buf_len(b), total);
	/* the last byte is from the last chunk */
	ASSERT_INT_EQ(buf_data(b)[buf_len(b) - 1], 999 & 0xff);
	buf_free(b);
}

TEST(reserve_commit)
{
	struct buf *b = buf_new();
	unsigned char *p = buf_reserve(b, 5);

	memcpy(p, "abcde", 5);
	buf_commit(b, 3);
	ASSERT_INT_EQ(buf_len(b), 3);
	ASSERT_MEM_EQ(buf_data(b), "abc", 3);
	buf_free(b);
}

TEST(growth_with_a_consumed_front_keeps_the_held_bytes_in_order)
{
	struct buf *b = buf_new();
	unsigned char pattern[3000], *p;
	size_t i;

	for (i = 0; i < sizeof pattern; i++)
		pattern[i] = (unsigned char)(i * 7 + 3);
	/* 1,000 consumed, 2,000 held (no compaction: less consumed than held),
	 * then a reservation larger than the whole block: a new block. */
	buf_append(b, pattern, sizeof pattern);
	buf_consume(b, 1000);
	p = buf_reserve(b, 10000);
	memset(p, 0xab, 10000);
	buf_commit(b, 10000);
	ASSERT_INT_EQ(buf_len(b), 12000);
	ASSERT_MEM_EQ(buf_data(b), pattern + 1000, 2000);
	ASSERT_INT_EQ(buf_data(b)[11999], 0xab);
	/* Mostly held from offset 0 (3,000 of a 4,096-byte block): grown in
	 * place (realloc), bytes kept. */
	{
		struct buf *b2 = buf_new();

		buf_append(b2, pattern, sizeof pattern);
		p = buf_reserve(b2, 100000);
		memset(p, 0xcd, 100000);
		buf_commit(b2, 100000);
		ASSERT_MEM_EQ(buf_data(b2), pattern, sizeof pattern);
		ASSERT_INT_EQ(buf_data(b2)[sizeof pattern + 99999], 0xcd);
		buf_free(b2);
	}
	/* Empty, then a reservation past the block: nothing to copy. */
	buf_consume(b, buf_len(b));
	p = buf_reserve(b, 1 << 20);
	memset(p, 0x11, 1 << 20);
	buf_commit(b, 1 << 20);
	ASSERT_INT_EQ(buf_len(b), 1 << 20);
	ASSERT_INT_EQ(buf_data(b)[(1 << 20) - 1], 0x11);
	buf_free(b);
}

TEST(a_buffer_held_near_full_grows_at_least_twofold)
{
	struct buf *b = buf_new();
	static unsigned char chunk[1024];
	size_t i, copies_bound;

	/* Held bytes near the block's size, a small consumed front, small
	 * reads behind a large reservation (as host-mux reads): each growth
	 * must at least double the block, so the bytes moved stay bounded by
	 * a small multiple of those that went through. Counted by the block's
	 * address changing: at most log2 of the final size times. */
	for (i = 0; i < 440; i++)
		buf_append(b, chunk, sizeof chunk);
	copies_bound = 0;
	for (i = 0; i < 2000; i++) {
		const unsigned char *before = buf_data(b) - 0;
		unsigned char *p = buf_reserve(b, 12 + 65536);

		(void)p;
		buf_commit(b, sizeof chunk);
		buf_consume(b, sizeof chunk);
		if (buf_data(b) - sizeof chunk != before)
			copies_bound++;
	}
	ASSERT_TRUE(copies_bound <= 4);
	ASSERT_INT_EQ(buf_len(b), 440 * sizeof chunk);
	buf_free(b);
}

TEST(take_string_empties_buffer)
{
	struct buf *b = buf_new();
	size_t len;
	char *s;

	buf_append(b, "xyz", 3);
	s = buf_take_string(b, &len);
	ASSERT_STR_EQ(s, "xyz");
	ASSERT_INT_EQ(len, 3);
	ASSERT_INT_EQ(buf_len(b), 0);
	free(s);
	buf_free(b);
	buf_free(NULL);
}

TEST(wipe_zeroes_consumed_and_held_bytes)
{
	struct buf *b = buf_new();
	const unsigned char *p;
	char *s;

	buf_append(b, "user:secret", 11);
	p = buf_data(b);
	buf_consume(b, 5);
	s = buf_take_string(b, NULL);
	ASSERT_STR_EQ(s, "secret");
	free(s);
	/* take_string copied and emptied: the bytes are still in b's memory */
	ASSERT_MEM_EQ(p, "user:secret", 11);
	buf_wipe(b);
	ASSERT_INT_EQ(buf_len(b), 0);
	ASSERT_MEM_EQ(p, "\0\0\0\0\0\0\0\0\0\0\0", 11);
	buf_free(b);
	buf_wipe(NULL);
}
