/* tar-stream.c - tar headers written and read as a stream (tar-stream.h). */
#include "tar-stream.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "error.h"
#include "xmalloc.h"

/* The largest pax or GNU long-name record we take. */
#define TAR_META_MAX (64u << 10)

/* ---- Writing ------------------------------------------------------------ */

/* v in octal, NUL-ended, right-aligned in size bytes (v must fit). */
static void
tar_octal(char *field, size_t size, unsigned long long v)
{
	field[size - 1] = '\0';
	for (size_t i = size - 1; i > 0; i--) {
		field[i - 1] = (char)('0' + (v & 7));
		v >>= 3;
	}
}

/* One ustar header block. */
static void
tar_block(struct buf *out, char flag, const char *name, unsigned mode,
    unsigned long long size, long long mtime, const char *link)
{
	unsigned char h[TAR_BLOCK] = { 0 };
	unsigned sum = 0;

	snprintf((char *)h, 100, "%s", name);
	tar_octal((char *)h + 100, 8, mode & 07777);
	tar_octal((char *)h + 108, 8, 0);
	tar_octal((char *)h + 116, 8, 0);
	tar_octal((char *)h + 124, 12, size);
	tar_octal((char *)h + 136, 12, mtime < 0 ? 0 : (unsigned long long)mtime);
	memset(h + 148, ' ', 8);
	h[156] = (unsigned char)flag;
	if (link != NULL)
		snprintf((char *)h + 157, 100, "%s", link);
	memcpy(h + 257, "ustar", 6);
	memcpy(h + 263, "00", 2);
	for (size_t i = 0; i < TAR_BLOCK; i++)
		sum += h[i];
	snprintf((char *)h + 148, 8, "%06o", sum);
	buf_append(out, h, TAR_BLOCK);
}

/* Append one pax record "LEN key=value\n" (LEN counts itself). */
static void
tar_pax_record(struct buf *b, const char *key, const char *value)
{
	size_t n = strlen(key) + strlen(value) + 3, len = n, digits;

	for (;;) {
		digits = (size_t)snprintf(NULL, 0, "%zu", len);
		if (n + digits == len)
			break;
		len = n + digits;
	}
	buf_appendf(b, "%zu %s=%s\n", len, key, value);
}

size_t
tar_pad_len(unsigned long long size)
{
	return (size_t)((TAR_BLOCK - size % TAR_BLOCK) % TAR_BLOCK);
}

void
tar_write_header(struct buf *out, char type, const char *path, unsigned mode,
    unsigned long long size, long long mtime, const char *link)
{
	tar_write_header_pax(out, type, path, mode, size, mtime, link, NULL, NULL);
}

void
tar_write_header_pax(struct buf *out, char type, const char *path, unsigned mode,
    unsigned long long size, long long mtime, const char *link, const char *key,
    const char *value)
{
	static const unsigned char zero[TAR_BLOCK];
	struct buf *pax = buf_new();
	char flag = type == 'd' ? '5' : type == 'l' ? '2' : '0', num[32];

	if (strlen(path) >= 100)
		tar_pax_record(pax, "path", path);
	if (link != NULL && strlen(link) >= 100)
		tar_pax_record(pax, "linkpath", link);
	if (size > 077777777777ULL) {
		snprintf(num, sizeof num, "%llu", size);
		tar_pax_record(pax, "size", num);
	}
	if (key != NULL)
		tar_pax_record(pax, key, value);
	if (buf_len(pax) > 0) {
		tar_block(out, 'x', "././@PaxHeader", 0644, buf_len(pax), mtime, NULL);
		buf_append(out, buf_data(pax), buf_len(pax));
		buf_append(out, zero, tar_pad_len(buf_len(pax)));
	}
	buf_free(pax);
	tar_block(out, flag, path, mode, size > 077777777777ULL ? 0 : size, mtime,
	    type == 'l' ? link : NULL);
}

void
tar_write_end(struct buf *out)
{
	static const unsigned char zero[TAR_BLOCK * 2];

	buf_append(out, zero, sizeof zero);
}

/* ---- Reading ------------------------------------------------------------ */

/* HEADER: gathering a block; META: a pax or long-name record's bytes;
 * DATA: a file's bytes; PAD: skipping to the block's end; END: done;
 * FAILED: an error was returned. */
enum tar_state { TAR_HEADER, TAR_META, TAR_DATA, TAR_PAD, TAR_END, TAR_FAILED };

struct tar_reader {
	const struct tar_reader_cbs *cbs;
	void *arg;
	enum tar_state state;
	unsigned char block[TAR_BLOCK];
	size_t have;		 /* bytes in block, or of meta */
	unsigned long long left; /* META/DATA: bytes to go; PAD: bytes to skip */
	size_t pad;		 /* DATA: the file's padding, skipped after it */
	char meta_flag;		 /* 'x', 'g', 'L' or 'K' while in META */
	struct buf *meta;
	char *next_path; /* from a pax or GNU record, for the next entry */
	char *next_link;
	char *next_delta; /* pax "RDEV.delta" */
	int next_size_set;
	unsigned long long next_size;
	int zero_blocks;
	char *cur_path; /* the entry being read, for messages */
};

struct tar_reader *
tar_reader_new(const struct tar_reader_cbs *cbs, void *arg)
{
	struct tar_reader *r = xcalloc(1, sizeof *r);

	r->cbs = cbs;
	r->arg = arg;
	r->meta = buf_new();
	return r;
}

void
tar_reader_free(struct tar_reader *r)
{
	if (r == NULL)
		return;
	buf_free(r->meta);
	free(r->next_path);
	free(r->next_link);
	free(r->next_delta);
	free(r->cur_path);
	free(r);
}

int
tar_reader_done(const struct tar_reader *r)
{
	return r->state == TAR_END;
}

int
tar_number(const unsigned char *f, size_t n, unsigned long long *v)
{
	size_t i = 0;

	*v = 0;
	if (f[0] & 0x80) {
		for (i = 1; i < n; i++) {
			if (*v >> 55)
				return -1;
			*v = (*v << 8) | f[i];
		}
		return (f[0] & 0x7f) == 0 ? 0 : -1;
	}
	while (i < n && f[i] == ' ')
		i++;
	for (; i < n && f[i] != '\0' && f[i] != ' '; i++) {
		if (f[i] < '0' || f[i] > '7' || (*v >> 60))
			return -1;
		*v = *v * 8 + (unsigned)(f[i] - '0');
	}
	return 0;
}

int
tar_checksum_ok(const unsigned char *h)
{
	unsigned long long want;
	unsigned sum = 0;

	if (tar_number(h + 148, 8, &want) != 0)
		return 0;
	for (size_t i = 0; i < TAR_BLOCK; i++)
		sum += (i >= 148 && i < 156) ? ' ' : h[i];
	return sum == want;
}

/* A pax record set: take path, linkpath and size for the next entry. */
static int
tar_pax_apply(struct tar_reader *r, char **cause)
{
	const char *p = (const char *)buf_data(r->meta), *end = p + buf_len(r->meta);

	while (p < end) {
		const char *sp = memchr(p, ' ', (size_t)(end - p)), *eq, *nl;
		unsigned long long len = 0;

		for (const char *d = p; sp != NULL && d < sp; d++) {
			if (*d < '0' || *d > '9' || len > TAR_META_MAX)
				return error_set(cause, "bad pax header record");
			len = len * 10 + (unsigned)(*d - '0');
		}
		if (sp == NULL || len == 0 || len > (unsigned long long)(end - p))
			return error_set(cause, "bad pax header record");
		nl = p + len - 1;
		/* (a length that ends the record at or before its own space) */
		if (nl <= sp)
			return error_set(cause, "bad pax header record");
		eq = memchr(sp + 1, '=', (size_t)(nl - sp - 1));
		if (*nl != '\n' || eq == NULL)
			return error_set(cause, "bad pax header record");
		if (r->meta_flag == 'x') {
			size_t klen = (size_t)(eq - sp - 1);
			char *value = xstrndup(eq + 1, (size_t)(nl - eq - 1));

			if (klen == 4 && memcmp(sp + 1, "path", 4) == 0) {
				free(r->next_path);
				r->next_path = value;
				value = NULL;
			} else if (klen == 8 && memcmp(sp + 1, "linkpath", 8) == 0) {
				free(r->next_link);
				r->next_link = value;
				value = NULL;
			} else if (klen == 10 && memcmp(sp + 1, "RDEV.delta", 10) == 0) {
				free(r->next_delta);
				r->next_delta = value;
				value = NULL;
			} else if (klen == 4 && memcmp(sp + 1, "size", 4) == 0) {
				char *e;

				r->next_size = strtoull(value, &e, 10);
				r->next_size_set = 1;
				if (*value == '\0' || *e != '\0') {
					free(value);
					return error_set(cause, "bad pax size");
				}
			}
			free(value);
		}
		p = nl + 1;
	}
	return 0;
}

/* A metadata record is complete. */
static int
tar_meta_done(struct tar_reader *r, char **cause)
{
	char *s;

	if (r->meta_flag == 'x' || r->meta_flag == 'g')
		return tar_pax_apply(r, cause);
	s = xstrndup((const char *)buf_data(r->meta), buf_len(r->meta));
	if (r->meta_flag == 'L') {
		free(r->next_path);
		r->next_path = s;
	} else {
		free(r->next_link);
		r->next_link = s;
	}
	return 0;
}

/* Forget the records that were for the entry just read. */
static void
tar_next_clear(struct tar_reader *r)
{
	free(r->next_link);
	free(r->next_delta);
	r->next_link = r->next_delta = NULL;
}

/* A whole header block in r->block. */
static int
tar_header(struct tar_reader *r, char **cause)
{
	const unsigned char *h = r->block;
	unsigned long long size, mode;
	struct tar_entry e = { 0 };
	char name[257], link[101], flag = (char)h[156];
	size_t n;

	for (n = 0; n < TAR_BLOCK && h[n] == 0; n++)
		;
	if (n == TAR_BLOCK) {
		if (++r->zero_blocks == 2)
			r->state = TAR_END;
		return 0;
	}
	r->zero_blocks = 0;
	if (!tar_checksum_ok(h))
		return error_set(cause, "bad tar header (checksum)");
	if (tar_number(h + 124, 12, &size) != 0 || tar_number(h + 100, 8, &mode) != 0)
		return error_set(cause, "bad tar header (size or mode)");
	if (flag == 'x' || flag == 'g' || flag == 'L' || flag == 'K') {
		if (size > TAR_META_MAX)
			return error_set(cause, "tar metadata record too large");
		r->meta_flag = flag;
		buf_reset(r->meta);
		r->left = size;
		r->state = TAR_META;
		return size == 0 ? tar_meta_done(r, cause) : 0;
	}
	if (memcmp(h + 257, "ustar", 5) == 0 && h[345] != '\0')
		snprintf(name, sizeof name, "%.155s/%.100s", (const char *)h + 345,
		    (const char *)h);
	else
		snprintf(name, sizeof name, "%.100s", (const char *)h);
	snprintf(link, sizeof link, "%.100s", (const char *)h + 157);
	free(r->cur_path);
	r->cur_path = r->next_path != NULL ? r->next_path : xstrdup(name);
	r->next_path = NULL;
	n = strlen(r->cur_path);
	while (n > 1 && r->cur_path[n - 1] == '/')
		r->cur_path[--n] = '\0';
	if (r->next_size_set)
		size = r->next_size;
	r->next_size_set = 0;
	e.path = r->cur_path;
	e.link = r->next_link != NULL ? r->next_link : link;
	e.mode = (unsigned)mode & 07777;
	switch (flag) {
	case '0':
	case '\0':
	case '7': e.type = 'f'; break;
	case '5': e.type = 'd'; break;
	case '2': e.type = 'l'; break;
	default:
		tar_next_clear(r);
		return error_set(cause, "'%s': unsupported tar entry type '%c'",
		    r->cur_path, flag >= 0x20 && flag < 0x7f ? flag : '?');
	}
	e.size = e.type == 'f' ? size : 0;
	e.delta = e.type == 'f' ? r->next_delta : NULL;
	if (r->cbs->entry(r->arg, &e, cause) != 0) {
		tar_next_clear(r);
		return -1;
	}
	tar_next_clear(r);
	/* Folders and links carry no data (a size on them is skipped). */
	r->left = size;
	if (e.type != 'f') {
		r->left = size + tar_pad_len(size);
		r->state = r->left ? TAR_PAD : TAR_HEADER;
		return 0;
	}
	if (size == 0)
		return r->cbs->entry_end(r->arg, cause);
	r->pad = tar_pad_len(size);
	r->state = TAR_DATA;
	return 0;
}

int
tar_reader_feed(struct tar_reader *r, const void *data, size_t len, char **cause)
{
	const unsigned char *p = data;
	size_t n = 0;
	int rc = 0;

	if (r->state == TAR_FAILED)
		return error_set(cause, "tar stream already failed");
	while (len > 0 && rc == 0) {
		switch (r->state) {
		case TAR_HEADER:
			n = TAR_BLOCK - r->have < len ? TAR_BLOCK - r->have : len;
			memcpy(r->block + r->have, p, n);
			r->have += n;
			if (r->have == TAR_BLOCK) {
				r->have = 0;
				rc = tar_header(r, cause);
			}
			break;
		case TAR_META:
			n = r->left < len ? (size_t)r->left : len;
			buf_append(r->meta, p, n);
			r->left -= n;
			if (r->left == 0) {
				r->left = tar_pad_len(buf_len(r->meta));
				r->state = r->left ? TAR_PAD : TAR_HEADER;
				rc = tar_meta_done(r, cause);
			}
			break;
		case TAR_DATA:
			n = r->left < len ? (size_t)r->left : len;
			rc = r->cbs->data(r->arg, p, n, cause);
			r->left -= n;
			if (rc == 0 && r->left == 0) {
				rc = r->cbs->entry_end(r->arg, cause);
				r->left = r->pad;
				r->state = r->left ? TAR_PAD : TAR_HEADER;
			}
			break;
		case TAR_PAD:
			n = r->left < len ? (size_t)r->left : len;
			r->left -= n;
			if (r->left == 0)
				r->state = TAR_HEADER;
			break;
		case TAR_END:
			/* Whatever follows the end (more zero blocks) is ignored. */
			return 0;
		case TAR_FAILED: return -1;
		}
		p += n;
		len -= n;
	}
	if (rc != 0)
		r->state = TAR_FAILED;
	return rc;
}

int
tar_reader_finish(struct tar_reader *r, char **cause)
{
	if (r->state == TAR_END ||
	    (r->state == TAR_HEADER && r->have == 0 && r->zero_blocks == 1))
		return 0;
	if (r->state == TAR_FAILED)
		return error_set(cause, "tar stream failed");
	return error_set(cause, "archive truncated%s%s%s", r->cur_path ? " in '" : "",
	    r->cur_path ? r->cur_path : "", r->cur_path ? "'" : "");
}
