/* fuzz-sync-blocks.c - fuzz the applier of a sync's block deltas
 * (common/sync-blocks.c) that rebuilds a large file on the agent from the
 * host's blocks and the sender's bytes.
 *
 * The first 4 bytes choose the host file's and the new file's sizes (in
 * small blocks of 4 KiB, the least the record allows), the 5th the
 * chunking; the rest is the body. Every copy must name a host block of the
 * length it copies, the bytes made must never pass the new size, and a
 * finished apply must have made exactly that size; nothing is called after
 * an error. The record parser gets the input as text too.
 */
#include <string.h>

#include "fuzz.h"
#include "sync-blocks.h"
#include "xmalloc.h"

#define FUZZ_BLOCK 4096

struct fuzz_blocks {
	unsigned long long host_size, size, made;
	int failed;
};

static int
fuzz_blocks_copy(void *arg, size_t j, size_t len, char **cause)
{
	struct fuzz_blocks *f = arg;

	(void)cause;
	if (f->failed || len == 0 ||
	    sync_blocks_len(f->host_size, FUZZ_BLOCK, j) != len ||
	    f->made + len > f->size)
		abort();
	f->made += len;
	return 0;
}

static int
fuzz_blocks_literal(void *arg, const unsigned char *p, size_t len, char **cause)
{
	struct fuzz_blocks *f = arg;

	(void)cause;
	(void)p;
	if (f->failed || len == 0 || f->made + len > f->size)
		abort();
	f->made += len;
	return 0;
}

static const struct sync_blocks_cbs fuzz_blocks_cbs = { fuzz_blocks_copy,
	fuzz_blocks_literal };

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sync_blocks_delta d = { FUZZ_BLOCK, 0, { 0 } };
	struct fuzz_blocks f = { 0, 0, 0, 0 };
	struct sync_blocks_apply *a;
	char *cause = NULL, *text;
	size_t step, off;
	int rc = 0;

	text = xstrndup((const char *)data, size);
	(void)sync_blocks_delta_parse(text, &d);
	free(text);
	if (size < 5)
		return 0;
	f.host_size = ((unsigned long long)data[0] << 8 | data[1]) * 37;
	f.size = ((unsigned long long)data[2] << 8 | data[3]) * 41;
	step = (size_t)data[4] + 1;
	d.block = FUZZ_BLOCK;
	d.size = f.size;
	a = sync_blocks_apply_new(&d, f.host_size, &fuzz_blocks_cbs, &f);
	for (off = 5; off < size && rc == 0; off += step)
		rc = sync_blocks_apply_feed(
		    a, data + off, size - off < step ? size - off : step, &cause);
	if (rc == 0 && sync_blocks_apply_finish(a, &cause) == 0) {
		if (f.made != f.size)
			abort();
	} else if (cause == NULL)
		abort();
	f.failed = 1;
	free(cause);
	sync_blocks_apply_free(a);
	return 0;
}
