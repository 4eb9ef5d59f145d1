/* test-docker-stream.c - the demultiplexer for Docker's attach/exec stream. */
#include "test.h"

#include "buf.h"
#include "docker-stream.h"

/* Append one frame to b. */
static void
frame(struct buf *b, int type, const void *payload, size_t len)
{
	unsigned char h[8] = { (unsigned char)type, 0, 0, 0, (unsigned char)(len >> 24),
		(unsigned char)(len >> 16), (unsigned char)(len >> 8),
		(unsigned char)len };

	buf_append(b, h, sizeof h);
	buf_append(b, payload, len);
}

struct demuxed {
	int rc;		   /* 0 ok, -1 error */
	struct buf *out;   /* stdout */
	struct buf *err;   /* stderr */
	struct buf *sys;   /* systemerr */
	struct buf *order; /* the stream type of each piece, as a digit */
	char *cause;
};

static void
demuxed_clear(struct demuxed *d)
{
	buf_free(d->out);
	buf_free(d->err);
	buf_free(d->sys);
	buf_free(d->order);
	free(d->cause);
	memset(d, 0, sizeof *d);
}

/* Demultiplex data fed in pieces cut at the sorted offsets in cuts. */
static void
demux(const unsigned char *data, size_t len, const size_t *cuts, size_t ncuts,
    size_t max_frame, struct demuxed *d)
{
	struct docker_stream *s = docker_stream_new(max_frame);
	const unsigned char *payload;
	size_t start = 0, end, off, used, plen, i;
	int rc, stream, last = -1;
	struct buf *b;
	char digit;

	memset(d, 0, sizeof *d);
	d->out = buf_new();
	d->err = buf_new();
	d->sys = buf_new();
	d->order = buf_new();
	for (i = 0; i <= ncuts; i++) {
		end = i < ncuts ? cuts[i] : len;
		for (off = start;;) {
			rc = docker_stream_feed(s, data + off, end - off, &used, &stream,
			    &payload, &plen, &d->cause);
			if (used > end - off)
				TEST_FAIL("used %zu > %zu", used, end - off);
			off += used;
			if (rc < 0) {
				d->rc = -1;
				docker_stream_free(s);
				return;
			}
			if (rc == 0) {
				if (off != end)
					TEST_FAIL("feed returned 0 with bytes left");
				break;
			}
			if (plen == 0)
				TEST_FAIL("empty piece");
			if (payload != data + off - plen)
				TEST_FAIL("piece does not point into the input");
			b = stream == 1	  ? d->out
			    : stream == 2 ? d->err
			    : stream == 3 ? d->sys
					  : NULL;
			if (b == NULL)
				TEST_FAIL("stream %d", stream);
			buf_append(b, payload, plen);
			if (stream != last) {
				digit = (char)('0' + stream);
				buf_append(d->order, &digit, 1);
				last = stream;
			}
		}
		start = end;
	}
	d->rc = docker_stream_eof(s, &d->cause);
	docker_stream_free(s);
}

TEST(both_streams_every_split)
{
	struct buf *b = buf_new();
	struct demuxed d;
	unsigned char bin[300];
	size_t k, i, len, *cuts;
	const unsigned char *data;

	for (i = 0; i < sizeof bin; i++)
		bin[i] = (unsigned char)i;
	frame(b, 1, "out1\n", 5);
	frame(b, 2, "err1\n", 5);
	frame(b, 1, "", 0);
	frame(b, 1, bin, sizeof bin);
	frame(b, 2, "e", 1);
	frame(b, 1, "out2", 4);
	data = buf_data(b);
	len = buf_len(b);

	for (k = 0; k <= len + 1; k++) {
		if (k <= len)
			demux(data, len, &k, 1, 1024, &d);
		else {
			cuts = malloc(len * sizeof *cuts);
			for (i = 0; i < len; i++)
				cuts[i] = i;
			demux(data, len, cuts, len, 1024, &d);
			free(cuts);
		}
		if (d.rc != 0)
			TEST_FAIL("split at %zu: %s", k, d.cause);
		ASSERT_INT_EQ(buf_len(d.out), 5 + sizeof bin + 4);
		ASSERT_MEM_EQ(buf_data(d.out), "out1\n", 5);
		ASSERT_MEM_EQ(buf_data(d.out) + 5, bin, sizeof bin);
		ASSERT_MEM_EQ(buf_data(d.out) + 5 + sizeof bin, "out2", 4);
		ASSERT_INT_EQ(buf_len(d.err), 6);
		ASSERT_MEM_EQ(buf_data(d.err), "err1\ne", 6);
		ASSERT_INT_EQ(buf_len(d.order), 5);
		ASSERT_MEM_EQ(buf_data(d.order), "12121", 5);
		demuxed_clear(&d);
	}
	buf_free(b);
}

TEST(systemerr_and_stdin_types)
{
	struct buf *b = buf_new();
	struct docker_stream *s = docker_stream_new(100);
	const unsigned char *payload;
	size_t used, plen;
	int stream;
	char *cause = NULL;

	frame(b, 3, "oci runtime error", 17);
	frame(b, 0, "in", 2);
	ASSERT_INT_EQ(docker_stream_feed(s, buf_data(b), buf_len(b), &used, &stream,
			  &payload, &plen, &cause),
	    1);
	ASSERT_INT_EQ(stream, DOCKER_STREAM_SYSTEMERR);
	ASSERT_INT_EQ(plen, 17);
	ASSERT_INT_EQ(used, 25);
	buf_consume(b, used);
	ASSERT_INT_EQ(docker_stream_feed(s, buf_data(b), buf_len(b), &used, &stream,
			  &payload, &plen, &cause),
	    1);
	ASSERT_INT_EQ(stream, DOCKER_STREAM_STDIN);
	ASSERT_MEM_EQ(payload, "in", 2);
	buf_consume(b, used);
	ASSERT_INT_EQ(docker_stream_feed(s, buf_data(b), buf_len(b), &used, &stream,
			  &payload, &plen, &cause),
	    0);
	ASSERT_INT_EQ(docker_stream_eof(s, &cause), 0);
	docker_stream_free(s);
	buf_free(b);
}

TEST(oversize_frame)
{
	struct buf *b = buf_new();
	struct demuxed d;
	unsigned char big[101];

	memset(big, 'x', sizeof big);
	frame(b, 1, big, 100);
	demux(buf_data(b), buf_len(b), NULL, 0, 100, &d);
	ASSERT_INT_EQ(d.rc, 0);
	ASSERT_INT_EQ(buf_len(d.out), 100);
	demuxed_clear(&d);

	buf_reset(b);
	frame(b, 1, "ok", 2);
	frame(b, 2, big, 101);
	demux(buf_data(b), buf_len(b), NULL, 0, 100, &d);
	ASSERT_INT_EQ(d.rc, -1);
	ASSERT_STR_CONTAINS(d.cause, "frame of 101 bytes exceeds the limit of 100");
	ASSERT_INT_EQ(buf_len(d.out), 2);
	ASSERT_INT_EQ(buf_len(d.err), 0);
	demuxed_clear(&d);

	/* A 4 GiB - 1 size from the wire. */
	demux((const unsigned char *)"\x01\0\0\0\xff\xff\xff\xff", 8, NULL, 0,
	    DOCKER_STREAM_MAX_FRAME, &d);
	ASSERT_INT_EQ(d.rc, -1);
	ASSERT_STR_CONTAINS(d.cause, "exceeds the limit");
	demuxed_clear(&d);
	buf_free(b);
}

TEST(malformed_headers)
{
	struct demuxed d;
	struct docker_stream *s;
	size_t used, plen;
	const unsigned char *payload;
	int stream;
	char *cause = NULL;

	demux((const unsigned char *)"\x04\0\0\0\0\0\0\x01x", 9, NULL, 0, 100, &d);
	ASSERT_INT_EQ(d.rc, -1);
	ASSERT_STR_CONTAINS(d.cause, "unknown stream type 4");
	demuxed_clear(&d);

	demux((const unsigned char *)"\x01\0\x01\0\0\0\0\x01x", 9, NULL, 0, 100, &d);
	ASSERT_INT_EQ(d.rc, -1);
	ASSERT_STR_CONTAINS(d.cause, "malformed frame header");
	demuxed_clear(&d);

	/* Text where a TTY stream would be: not multiplexed. */
	demux((const unsigned char *)"hello world\n", 12, NULL, 0, 100, &d);
	ASSERT_INT_EQ(d.rc, -1);
	demuxed_clear(&d);

	/* Unusable after an error. */
	s = docker_stream_new(100);
	ASSERT_INT_EQ(docker_stream_feed(s, "\x09\0\0\0\0\0\0\0", 8, &used, &stream,
			  &payload, &plen, &cause),
	    -1);
	free(cause);
	cause = NULL;
	ASSERT_INT_EQ(docker_stream_feed(s, "\x01\0\0\0\0\0\0\0", 8, &used, &stream,
			  &payload, &plen, &cause),
	    -1);
	ASSERT_INT_EQ(used, 0);
	free(cause);
	docker_stream_free(s);
	docker_stream_free(NULL);
}

TEST(eof_mid_frame)
{
	struct demuxed d;

	demux((const unsigned char *)"\x01\0\0\0\0\0\0\x05"
				     "abc",
	    11, NULL, 0, 100, &d);
	ASSERT_INT_EQ(d.rc, -1);
	ASSERT_STR_CONTAINS(d.cause, "middle of a frame");
	ASSERT_INT_EQ(buf_len(d.out), 3);
	demuxed_clear(&d);

	demux((const unsigned char *)"\x01\0\0", 3, NULL, 0, 100, &d);
	ASSERT_INT_EQ(d.rc, -1);
	ASSERT_STR_CONTAINS(d.cause, "middle of a frame");
	demuxed_clear(&d);

	demux((const unsigned char *)"", 0, NULL, 0, 100, &d);
	ASSERT_INT_EQ(d.rc, 0);
	demuxed_clear(&d);
}
