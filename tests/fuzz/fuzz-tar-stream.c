/* fuzz-tar-stream.c - fuzz the streaming tar reader (common/tar-stream.c)
 * that takes a sync's upload on the agent.
 *
 * The input is read whole and again in chunks of 1 to 700 bytes (the size
 * its first byte says): both readings must agree entry for entry, every
 * entry must have a path and a known type, a file's data must add up to its
 * size before its end is called, and nothing is called after an error.
 */
#include <string.h>

#include "buf.h"
#include "fuzz.h"
#include "tar-stream.h"

struct fuzz_tar {
	struct buf *log;
	unsigned long long left; /* of the current file */
	int in_file;
	int failed;
};

static int
fuzz_tar_entry(void *arg, const struct tar_entry *e, char **cause)
{
	struct fuzz_tar *f = arg;

	(void)cause;
	if (f->failed || f->in_file || e->path == NULL ||
	    (e->type != 'f' && e->type != 'd' && e->type != 'l') ||
	    (e->type == 'l' && e->link == NULL))
		abort();
	buf_appendf(f->log, "%c%s|%llu|", e->type, e->path, e->size);
	if (e->type == 'f' && e->size > 0) {
		f->in_file = 1;
		f->left = e->size;
	}
	return 0;
}

static int
fuzz_tar_data(void *arg, const unsigned char *p, size_t len, char **cause)
{
	struct fuzz_tar *f = arg;

	(void)cause;
	if (!f->in_file || len == 0 || len > f->left)
		abort();
	f->left -= len;
	buf_append(f->log, p, len);
	return 0;
}

static int
fuzz_tar_end(void *arg, char **cause)
{
	struct fuzz_tar *f = arg;

	(void)cause;
	if (f->left != 0)
		abort();
	f->in_file = 0;
	buf_append(f->log, "#", 1);
	return 0;
}

static const struct tar_reader_cbs fuzz_tar_cbs = { fuzz_tar_entry, fuzz_tar_data,
	fuzz_tar_end };

/* Read data in steps of step bytes; returns the reader's outcome. */
static int
fuzz_tar_read(const uint8_t *data, size_t size, size_t step, struct fuzz_tar *f)
{
	struct tar_reader *r = tar_reader_new(&fuzz_tar_cbs, f);
	char *cause = NULL;
	size_t off;
	int rc = 0;

	for (off = 0; off < size && rc == 0; off += step)
		rc = tar_reader_feed(
		    r, data + off, size - off < step ? size - off : step, &cause);
	if (rc != 0) {
		if (cause == NULL)
			abort();
		f->failed = 1;
		if (tar_reader_feed(r, "x", 1, NULL) == 0)
			abort(); /* a failed reader takes nothing more */
	} else if (tar_reader_finish(r, &cause) != 0 && cause == NULL)
		abort();
	free(cause);
	tar_reader_free(r);
	return rc;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_tar a = { buf_new(), 0, 0, 0 }, b = { buf_new(), 0, 0, 0 };
	size_t step = size > 0 ? (size_t)data[0] * 700 / 256 + 1 : 1;
	int ra, rb;

	if (size > 1 << 20)
		size = 1 << 20;
	ra = fuzz_tar_read(data, size, size > 0 ? size : 1, &a);
	rb = fuzz_tar_read(data, size, step, &b);
	if (ra != rb || buf_len(a.log) != buf_len(b.log) ||
	    memcmp(buf_data(a.log), buf_data(b.log), buf_len(a.log)) != 0)
		abort();
	buf_free(a.log);
	buf_free(b.log);
	return 0;
}
