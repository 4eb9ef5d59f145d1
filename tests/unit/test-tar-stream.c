/* test-tar-stream.c - unit tests for common/tar-stream.c: what the writer
 * makes the reader gives back, in any chunking; bad input is refused. */
#include "test.h"

#include "buf.h"
#include "tar-stream.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct seen {
	struct buf *log; /* "TYPE PATH [LINK] SIZE MODE|" per entry, data as is */
};

static int
seen_entry(void *arg, const struct tar_entry *e, char **cause)
{
	struct seen *s = arg;

	(void)cause;
	buf_appendf(s->log, "%c %s %s %llu %o|", e->type, e->path,
	    e->type == 'l' ? e->link : "-", e->size, e->mode);
	return 0;
}

static int
seen_data(void *arg, const unsigned char *p, size_t len, char **cause)
{
	struct seen *s = arg;

	(void)cause;
	buf_append(s->log, p, len);
	return 0;
}

static int
seen_end(void *arg, char **cause)
{
	struct seen *s = arg;

	(void)cause;
	buf_append(s->log, "#", 1);
	return 0;
}

static const struct tar_reader_cbs seen_cbs = { seen_entry, seen_data, seen_end };

/* Read tar in chunks of step bytes; the log as a new string. */
static char *
read_all(const struct buf *tar, size_t step, int *rc)
{
	struct seen s = { buf_new() };
	struct tar_reader *r = tar_reader_new(&seen_cbs, &s);
	char *cause = NULL, *out;
	size_t off;

	*rc = 0;
	for (off = 0; off < buf_len(tar) && *rc == 0; off += step)
		*rc = tar_reader_feed(r, buf_data(tar) + off,
		    buf_len(tar) - off < step ? buf_len(tar) - off : step, &cause);
	if (*rc == 0)
		*rc = tar_reader_finish(r, &cause);
	free(cause);
	tar_reader_free(r);
	buf_append(s.log, "", 1);
	out = buf_take_string(s.log, NULL);
	buf_free(s.log);
	return out;
}

TEST(round_trip_any_chunking)
{
	struct buf *tar = buf_new();
	char longname[300], want[2048], *got;
	int rc;

	memset(longname, 'n', sizeof longname - 1);
	longname[sizeof longname - 1] = '\0';
	tar_write_header(tar, 'd', "dir", 0755, 0, 0, NULL);
	tar_write_header(tar, 'f', "dir/a.txt", 0644, 5, 0, NULL);
	buf_append(tar, "hello", 5);
	buf_append(tar, (const char[TAR_BLOCK]){ 0 }, tar_pad_len(5));
	tar_write_header(tar, 'f', "empty", 0600, 0, 0, NULL);
	tar_write_header(tar, 'l', longname, 0777, 0, 0, longname);
	tar_write_header(tar, 'f', "x", 0755, 512, 0, NULL);
	buf_append(tar, (const char[512]){ 'z' }, 512);
	tar_write_end(tar);
	snprintf(want, sizeof want,
	    "d dir - 0 755|f dir/a.txt - 5 644|hello#f empty - 0 600|#l %s %s 0 777|"
	    "f x - 512 755|z",
	    longname, longname);
	for (size_t step = 1; step <= 1024; step = step * 3 + 1) {
		got = read_all(tar, step, &rc);
		ASSERT_INT_EQ(rc, 0);
		ASSERT_INT_EQ(strncmp(got, want, strlen(want)), 0);
		free(got);
	}
	buf_free(tar);
}

TEST(truncated_and_bad_input)
{
	struct buf *tar = buf_new();
	char *got;
	int rc;

	tar_write_header(tar, 'f', "a", 0644, 100, 0, NULL);
	buf_append(tar, "abc", 3);
	got = read_all(tar, 7, &rc);
	ASSERT_INT_EQ(rc, -1); /* truncated */
	free(got);
	buf_reset(tar);
	tar_write_header(tar, 'f', "a", 0644, 0, 0, NULL);
	((unsigned char *)buf_data(tar))[0] ^= 1; /* checksum no longer agrees */
	got = read_all(tar, 512, &rc);
	ASSERT_INT_EQ(rc, -1);
	free(got);
	buf_free(tar);
}
