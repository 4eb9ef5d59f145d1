/* test-ssh-agent-filter.c - unit tests for broker/ssh-agent-filter.c: the
 * filtering of an ssh-agent's list of identities (IdentitiesOnly). */
#include "test.h"

#include <string.h>

#include "buf.h"
#include "ssh-agent-filter.h"

/* An identities answer: type 12, count, then each (blob, comment). */
static struct buf *
answer(uint32_t count, const char *const *blobs, const char *const *comments, size_t n)
{
	struct buf *b = buf_new();
	unsigned char num[4], t = 12;

	buf_append(b, &t, 1);
	num[0] = (unsigned char)(count >> 24);
	num[1] = (unsigned char)(count >> 16);
	num[2] = (unsigned char)(count >> 8);
	num[3] = (unsigned char)count;
	buf_append(b, num, 4);
	for (size_t i = 0; i < n; i++) {
		const char *s[2] = { blobs[i], comments[i] };

		for (int k = 0; k < 2; k++) {
			uint32_t l = (uint32_t)strlen(s[k]);

			num[0] = (unsigned char)(l >> 24);
			num[1] = (unsigned char)(l >> 16);
			num[2] = (unsigned char)(l >> 8);
			num[3] = (unsigned char)l;
			buf_append(b, num, 4);
			buf_append(b, s[k], l);
		}
	}
	return b;
}

static const unsigned char *const allowed[] = { (const unsigned char *)"KEY-B" };
static const size_t allowed_lens[] = { 5 };

TEST(keeps_only_the_listed_keys_with_their_comments)
{
	const char *blobs[] = { "KEY-A", "KEY-B", "KEY-C" };
	const char *comments[] = { "a@x", "b@x", "c@x" };
	struct buf *in = answer(3, blobs, comments, 3), *out = buf_new();
	struct buf *want = answer(1, blobs + 1, comments + 1, 1);
	int kept, total;

	ASSERT_INT_EQ(ssh_agent_filter_identities(allowed, allowed_lens, 1, buf_data(in),
			  buf_len(in), out, &kept, &total),
	    0);
	ASSERT_INT_EQ(kept, 1);
	ASSERT_INT_EQ(total, 3);
	ASSERT_INT_EQ(buf_len(out), buf_len(want));
	ASSERT_MEM_EQ(buf_data(out), buf_data(want), buf_len(want));
	buf_free(in);
	buf_free(out);
	buf_free(want);
}

TEST(a_key_whose_blob_only_starts_like_a_listed_one_is_dropped)
{
	const char *blobs[] = { "KEY-BB", "KEY-", "" };
	const char *comments[] = { "", "", "" };
	struct buf *in = answer(3, blobs, comments, 3), *out = buf_new();
	int kept, total;

	ASSERT_INT_EQ(ssh_agent_filter_identities(allowed, allowed_lens, 1, buf_data(in),
			  buf_len(in), out, &kept, &total),
	    0);
	ASSERT_INT_EQ(kept, 0);
	ASSERT_INT_EQ(total, 3);
	ASSERT_INT_EQ(buf_len(out), 5); /* (type and a count of 0) */
	buf_free(in);
	buf_free(out);
}

TEST(malformed_answers_are_refused)
{
	const char *blobs[] = { "KEY-A", "KEY-B" };
	const char *comments[] = { "a", "b" };
	struct buf *in = answer(2, blobs, comments, 2),
		   *more = answer(3, blobs, comments, 2);
	struct buf *out = buf_new();
	const unsigned char *d = buf_data(in);
	int kept, total;

	/* cut anywhere inside: a string runs past the end */
	for (size_t cut = 0; cut < buf_len(in); cut++) {
		TEST_CASE_NAME("cut at %zu", cut);
		ASSERT_INT_EQ(ssh_agent_filter_identities(
				  allowed, allowed_lens, 1, d, cut, out, &kept, &total),
		    -1);
		ASSERT_INT_EQ(kept, 0);
		ASSERT_INT_EQ(total, 0);
		ASSERT_INT_EQ(buf_len(out), 0);
	}
	TEST_CASE_NAME("a count larger than the keys");
	ASSERT_INT_EQ(ssh_agent_filter_identities(allowed, allowed_lens, 1,
			  buf_data(more), buf_len(more), out, &kept, &total),
	    -1);
	TEST_CASE_NAME("another message type");
	{
		unsigned char failure[] = { 5 };

		ASSERT_INT_EQ(ssh_agent_filter_identities(allowed, allowed_lens, 1,
				  failure, sizeof failure, out, &kept, &total),
		    -1);
	}
	ASSERT_INT_EQ(buf_len(out), 0);
	buf_free(in);
	buf_free(more);
	buf_free(out);
}
