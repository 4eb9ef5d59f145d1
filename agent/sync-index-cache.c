/* sync-index-cache.c - a binary copy of an index as last read
 * (sync-index-cache.h). */
#include "sync-index-cache.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "atomic-file.h"
#include "buf.h"
#include "log.h"
#include "xmalloc.h"

#define SYNC_INDEX_CACHE_MAGIC "RDEVIXC2"
#define SYNC_INDEX_CACHE_MAX (512u << 20)
#define SYNC_INDEX_NO_LINK UINT32_MAX

void
sync_index_key_of(const char *base, size_t blen, unsigned char key[SYNC_INDEX_KEY_LEN])
{
	crypto_generichash(
	    key, SYNC_INDEX_KEY_LEN, (const unsigned char *)base, blen, NULL, 0);
}

/* What is left to read of a copy. */
struct sync_index_cur {
	const unsigned char *p;
	size_t left;
};

/* The next n bytes into out: 0, or -1 when the copy is shorter. */
static int
sync_index_take(struct sync_index_cur *c, void *out, size_t n)
{
	if (c->left < n)
		return -1;
	memcpy(out, c->p, n);
	c->p += n;
	c->left -= n;
	return 0;
}

/* The next n bytes as a new string, or NULL when the copy is shorter. */
static char *
sync_index_take_str(struct sync_index_cur *c, uint32_t n)
{
	char *s;

	if (c->left < n)
		return NULL;
	s = xmalloc((size_t)n + 1);
	memcpy(s, c->p, n);
	s[n] = '\0';
	c->p += n;
	c->left -= n;
	return s;
}

/* One entry into e: 0, or -1 (damaged; what e got is freed by the caller). */
static int
sync_index_take_entry(struct sync_index_cur *c, struct sync_entry *e)
{
	uint32_t plen, llen;
	uint8_t type;

	if (sync_index_take(c, &type, 1) != 0 ||
	    sync_index_take(c, &e->mode, sizeof e->mode) != 0 ||
	    sync_index_take(c, &e->size, sizeof e->size) != 0 ||
	    sync_index_take(c, &e->mtime_ns, sizeof e->mtime_ns) != 0 ||
	    sync_index_take(c, &e->ino, sizeof e->ino) != 0 ||
	    sync_index_take(c, e->hash, SYNC_HASH_HEX) != 0 ||
	    sync_index_take(c, &plen, sizeof plen) != 0 ||
	    sync_index_take(c, &llen, sizeof llen) != 0 || plen == 0 ||
	    (e->path = sync_index_take_str(c, plen)) == NULL)
		return -1;
	e->type = (char)type;
	e->hash[SYNC_HASH_HEX] = '\0';
	if (llen != SYNC_INDEX_NO_LINK &&
	    (e->link = sync_index_take_str(c, llen)) == NULL)
		return -1;
	return 0;
}

int
sync_index_cache_read(const char *path, const unsigned char key[SYNC_INDEX_KEY_LEN],
    struct sync_index *ix, struct sync_scan **out)
{
	unsigned char magic[8], k[SYNC_INDEX_KEY_LEN];
	struct sync_index_cur c;
	struct sync_scan *s = NULL;
	uint64_t gen, blen, n;
	char *text = NULL, *cause = NULL;
	size_t len, i;

	*out = NULL;
	if (file_read_all(path, SYNC_INDEX_CACHE_MAX, &text, &len, &cause) != 0) {
		free(cause);
		return -1;
	}
	c.p = (const unsigned char *)text;
	c.left = len;
	if (sync_index_take(&c, magic, sizeof magic) != 0 ||
	    memcmp(magic, SYNC_INDEX_CACHE_MAGIC, sizeof magic) != 0 ||
	    sync_index_take(&c, k, sizeof k) != 0 || memcmp(k, key, sizeof k) != 0 ||
	    sync_index_take(&c, &gen, sizeof gen) != 0 ||
	    sync_index_take(&c, &blen, sizeof blen) != 0 ||
	    sync_index_take(&c, &n, sizeof n) != 0 || n > c.left)
		goto bad;
	s = xcalloc(1, sizeof *s);
	s->v = xcalloc((size_t)n + 1, sizeof *s->v);
	for (i = 0; i < n; i++) {
		s->n++; /* (freed with s when damaged) */
		if (sync_index_take_entry(&c, &s->v[i]) != 0)
			goto bad;
		if (s->v[i].type == 'f')
			s->bytes += s->v[i].size;
	}
	if (c.left != 0)
		goto bad;
	memset(ix, 0, sizeof *ix);
	ix->gen = gen;
	ix->base_len = (size_t)blen;
	*out = s;
	free(text);
	return 0;
bad:
	sync_scan_free(s);
	free(text);
	return -1;
}

void
sync_index_cache_write(const char *path, const unsigned char key[SYNC_INDEX_KEY_LEN],
    const struct sync_index *ix, const struct sync_scan *s)
{
	struct buf *b = buf_new();
	uint64_t gen = ix->gen, blen = ix->base_len, n = s->n;
	uint32_t plen, llen;
	char *cause = NULL;
	size_t i;

	buf_append(b, SYNC_INDEX_CACHE_MAGIC, 8);
	buf_append(b, key, SYNC_INDEX_KEY_LEN);
	buf_append(b, &gen, sizeof gen);
	buf_append(b, &blen, sizeof blen);
	buf_append(b, &n, sizeof n);
	for (i = 0; i < s->n; i++) {
		const struct sync_entry *e = &s->v[i];
		uint8_t type = (uint8_t)e->type;

		plen = (uint32_t)strlen(e->path);
		llen = e->link != NULL ? (uint32_t)strlen(e->link) : SYNC_INDEX_NO_LINK;
		buf_append(b, &type, 1);
		buf_append(b, &e->mode, sizeof e->mode);
		buf_append(b, &e->size, sizeof e->size);
		buf_append(b, &e->mtime_ns, sizeof e->mtime_ns);
		buf_append(b, &e->ino, sizeof e->ino);
		buf_append(b, e->hash, SYNC_HASH_HEX);
		buf_append(b, &plen, sizeof plen);
		buf_append(b, &llen, sizeof llen);
		buf_append(b, e->path, plen);
		if (e->link != NULL)
			buf_append(b, e->link, llen);
	}
	if (atomic_file_write(path, buf_data(b), buf_len(b), 0600, &cause) != 0) {
		log_warn("sync: %s (the index is parsed again next time)", cause);
		free(cause);
	}
	buf_free(b);
}
