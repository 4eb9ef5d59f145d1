/* sync-pull.c - what changed in the host's copy since the last sync
 * (sync-pull.h). */
#include "sync-pull.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "atomic-file.h"
#include "error.h"
#include "json-get.h"
#include "log.h"
#include "proto.h"
#include "sync-aside.h"
#include "sync-index.h"
#include "sync-piece.h"
#include "sync-scan.h"
#include "xmalloc.h"

/* A sync's temporary file (sync-recv.c), never reported. */
static int
sync_pull_is_tmp(const char *path)
{
	const char *leaf = strrchr(path, '/');

	leaf = leaf == NULL ? path : leaf + 1;
	return strncmp(leaf, ".rdev-sync-", 11) == 0;
}

/* Read file e (under root) whole into *data (new) and set e's hash, size,
 * mtime and inode from what was read: what the host has now, which may
 * differ from the scan's. 0, or -1 with errno. */
static int
sync_pull_read(int root, struct sync_entry *e, unsigned char **data)
{
	unsigned char h[SYNC_HASH_HEX / 2];
	struct stat sb;
	size_t len = 0;
	ssize_t n;
	int fd = openat(root, e->path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC), saved;

	*data = NULL;
	if (fd < 0)
		return -1;
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) ||
	    sb.st_size > SYNC_BACK_MAX_BYTES) {
		saved = !S_ISREG(sb.st_mode) ? ENOENT : EFBIG;
		close(fd);
		errno = saved;
		return -1;
	}
	*data = xmalloc((size_t)sb.st_size + 1);
	while (len < (size_t)sb.st_size &&
	    (n = read(fd, *data + len, (size_t)sb.st_size - len)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			saved = errno;
			close(fd);
			free(*data);
			*data = NULL;
			errno = saved;
			return -1;
		}
		len += (size_t)n;
	}
	close(fd);
	crypto_generichash(h, sizeof h, *data, len, NULL, 0);
	sodium_bin2hex(e->hash, sizeof e->hash, h, sizeof h);
	e->size = (long long)len;
	e->mode = sb.st_mode & 0777;
	e->mtime_ns = sync_time_ns(&sb.st_mtim);
	e->ino = sb.st_ino;
	return 0;
}

/* What the walk of sync_pull_changes gathers. */
struct sync_pull {
	int root;
	struct sync_scan *put; /* what the answer names (with stat) */
	char **drop;
	size_t ndrop;
	cJSON *data, *too_large;
	size_t bytes;
	int more;
	int pieces;			/* the local side takes big files in pieces */
	const cJSON *have;		/* where its big file got to (may be NULL) */
	const struct sync_entry **bigs; /* the big files changed (in now) */
	size_t nbigs;
	cJSON *piece;			 /* this answer's piece, or NULL */
	struct sync_entry done;		 /* the file of a last piece (path NULL: none) */
	const struct sync_scan *ignored; /* left out by the local side */
};

/* Big file e (borrowed, in now): a candidate for this answer's piece
 * (sync_pull_pieces) when the local side takes pieces, else named in
 * "tooLarge" (never indexed). */
static void
sync_pull_big(struct sync_pull *p, const struct sync_entry *e)
{
	if (!p->pieces || e->size > SYNC_PIECE_FILE_MAX)
		cJSON_AddItemToArray(p->too_large, cJSON_CreateString(e->path));
	else
		p->bigs[p->nbigs++] = e;
}

/* The next piece of one of the big files (sync_piece_pick's, or the next
 * one round when it is gone or changed since the scan), when the answer has
 * room for one after the small files. */
static void
sync_pull_pieces(struct sync_pull *p)
{
	const struct sync_entry *e = NULL;
	const cJSON *off;
	size_t start, t, room = 0, left;

	if (p->nbigs == 0)
		return;
	start = sync_piece_pick(p->bigs, p->nbigs, p->have);
	for (t = 0; t < p->nbigs; t++) {
		/* (p->bytes can pass the bound: a file read is counted at the
		 * size read, which can have grown since its scan) */
		room =
		    p->bytes < SYNC_BACK_MAX_BYTES ? SYNC_BACK_MAX_BYTES - p->bytes : 0;
		e = p->bigs[(start + t) % p->nbigs];
		if (room < SYNC_PIECE_MIN) {
			p->more = 1; /* (the next answer's) */
			return;
		}
		if (sync_piece_next(p->root, e, p->have, room, &p->piece, &p->done) == 1)
			break; /* (else gone or changed meanwhile: the next scan's) */
	}
	if (p->piece == NULL)
		return;
	off = cJSON_GetObjectItemCaseSensitive(p->piece, "offset");
	left = (size_t)(e->size - (long long)off->valuedouble);
	p->bytes += left < room ? left : room;
	/* (its next piece, or the other big files: ask again) */
	if (p->done.path == NULL || p->nbigs > 1)
		p->more = 1;
}

/* Host entry e (borrowed) is new or changed: into p (a file with its
 * bytes), while the answer has room. A file not sent (too large) is not
 * put: the index never holds what the local side has not got. */
static void
sync_pull_put(struct sync_pull *p, const struct sync_entry *e)
{
	struct sync_entry c = *e;
	unsigned char *data = NULL;
	char *b64;
	size_t b64len;

	if (sync_entry_same(sync_scan_find(p->ignored, e->path), e))
		return; /* (left out there until it changes here) */
	if (p->put->n + p->ndrop >= SYNC_PULL_MAX_ENTRIES) {
		p->more = 1;
		return;
	}
	if (c.type == 'f' && c.size > SYNC_BACK_MAX_BYTES) {
		sync_pull_big(p, e);
		return;
	}
	if (c.type == 'f') {
		if (p->bytes > 0 && p->bytes + (size_t)c.size > SYNC_BACK_MAX_BYTES) {
			p->more = 1; /* (the next answer's) */
			return;
		}
		if (sync_pull_read(p->root, &c, &data) != 0) {
			if (errno == EFBIG) /* (told each time: never indexed) */
				cJSON_AddItemToArray(
				    p->too_large, cJSON_CreateString(c.path));
			return; /* (or gone meanwhile: the next scan's) */
		}
		b64len = sodium_base64_encoded_len(
		    (size_t)c.size, sodium_base64_VARIANT_ORIGINAL);
		b64 = xmalloc(b64len);
		sodium_bin2base64(
		    b64, b64len, data, (size_t)c.size, sodium_base64_VARIANT_ORIGINAL);
		cJSON_AddItemToArray(p->data, cJSON_CreateString(b64));
		free(b64);
		free(data);
		p->bytes += (size_t)c.size;
	}
	sync_entry_copy(&p->put->v[p->put->n++], &c);
}

int
sync_pull_paths_ok(const cJSON *paths)
{
	const cJSON *p;

	if (!cJSON_IsArray(paths))
		return 0;
	cJSON_ArrayForEach(p, paths) {
		if (!cJSON_IsString(p))
			return 0;
	}
	return 1;
}

void
sync_pull_request(const cJSON *req, const char **ack, struct sync_pull_opts *o)
{
	const cJSON *not_applied = cJSON_GetObjectItemCaseSensitive(req, "notApplied"),
		    *ignored = cJSON_GetObjectItemCaseSensitive(req, "ignoredHere"),
		    *tag = cJSON_GetObjectItemCaseSensitive(req, "ignoreTag");
	/* (an empty "ackExcept" names no answer: as if absent) */
	const char *except = json_get_string(req, "ackExcept");
	int ignored_ok = ignored == NULL || sync_pull_paths_ok(ignored);

	/* ("ack":"" is an ack, of no answer: it stops "ackExcept" being
	 * taken, so not json_get_string) */
	*ack = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(req, "ack"));
	*o = (struct sync_pull_opts){
		.pieces = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(req, "pieces")),
		.have = cJSON_GetObjectItemCaseSensitive(req, "piece"),
		.ignored_here = ignored_ok ? ignored : NULL,
		.ignore_tag = cJSON_IsString(tag) && strlen(tag->valuestring) <= 64
		    ? tag->valuestring
		    : NULL,
	};
	/* A whole ack ("ack"), or one but for the paths of "notApplied"
	 * ("ackExcept"): taken only with lists of paths, else nothing is
	 * committed and the answer comes again. */
	if (*ack == NULL && except != NULL && sync_pull_paths_ok(not_applied) &&
	    ignored_ok) {
		*ack = except;
		o->not_applied = not_applied;
	}
}

/* Is path in paths (may be NULL: an array of strings)? */
static int
sync_pull_listed(const cJSON *paths, const char *path)
{
	const cJSON *p;

	cJSON_ArrayForEach(p, paths) {
		if (cJSON_IsString(p) && strcmp(p->valuestring, path) == 0)
			return 1;
	}
	return 0;
}

/* The answer kept at index_path.pull (sync_pull_keep) into the index when
 * ack (may be NULL) names it: the local side applied it all but the paths
 * of not_applied (may be NULL: an array, left out: reported again) and
 * ignored (likewise, but its puts go into *aside instead, replaced; with
 * aside NULL they are dropped). Only where the index has not moved
 * since that pull (a sync wrote there meanwhile: its entry stands). The
 * kept answer is removed either way: one not acknowledged (lost, or
 * applied in part) is reported again. 1 when *aside got entries, else 0. */
static int
sync_pull_commit(const char *index_path, const char *folder, const char *ack,
    const cJSON *not_applied, const cJSON *ignored, struct sync_scan **aside)
{
	char *path = xasprintf("%s.pull", index_path), *text = NULL, *cause = NULL;
	struct sync_scan *put = NULL, *was = NULL, *old = NULL, *base = NULL, add = { 0 };
	struct sync_index ix;
	char **drop = NULL;
	size_t len, ndrop = 0, i, n = 0, nd = 0, added = 0;
	const char *id;
	cJSON *j = NULL;

	if (file_read_all(path, (size_t)PROTO_MAX_PAYLOAD * 2, &text, &len, &cause) != 0)
		goto out;
	unlink(path);
	j = cJSON_Parse(text);
	id = json_get_string(j, "id"); /* (never empty: sync_pull_keep's) */
	if (ack == NULL || id == NULL || strcmp(id, ack) != 0 ||
	    sync_scan_from_manifest(
		cJSON_GetObjectItemCaseSensitive(j, "put"), &put, &cause) != 0 ||
	    sync_scan_from_manifest(
		cJSON_GetObjectItemCaseSensitive(j, "was"), &was, &cause) != 0 ||
	    sync_paths_from_json(
		cJSON_GetObjectItemCaseSensitive(j, "drop"), &drop, &ndrop, &cause) != 0)
		goto out;
	sync_index_load(index_path, &ix, &old);
	base = sync_scan_copy(old); /* (what the commit makes of old) */
	add.v = xcalloc(put->n + 1, sizeof *add.v);
	for (i = 0; i < put->n; i++) {
		const char *p = put->v[i].path;

		if (sync_pull_listed(ignored, p) && aside != NULL)
			add.v[add.n++] = put->v[i]; /* (in path order, as put) */
		else if (sync_pull_listed(ignored, p))
			sync_entry_clear(&put->v[i]); /* (no aside to keep it in) */
		else if (!sync_pull_listed(not_applied, p) &&
		    sync_entry_same(sync_scan_find(base, p), sync_scan_find(was, p)))
			put->v[n++] = put->v[i];
		else
			sync_entry_clear(&put->v[i]);
	}
	put->n = n;
	for (i = 0; i < ndrop; i++) {
		if (!sync_pull_listed(not_applied, drop[i]) &&
		    sync_entry_same(
			sync_scan_find(base, drop[i]), sync_scan_find(was, drop[i])))
			drop[nd++] = drop[i];
		else
			free(drop[i]);
	}
	ndrop = nd;
	qsort(drop, ndrop, sizeof *drop, sync_path_cmp);
	sync_scan_apply(&base, put, drop, ndrop);
	put = NULL;
	sync_index_save(index_path, folder, &ix, old, base, 0);
	if ((added = add.n) > 0) {
		struct sync_scan *a = xcalloc(1, sizeof *a);

		*a = add;
		add.v = NULL;
		sync_scan_apply(aside, a, NULL, 0);
	}
out:
	free(add.v);
	sync_paths_free(drop, ndrop);
	sync_scan_free(put);
	sync_scan_free(was);
	sync_scan_free(old);
	sync_scan_free(base);
	cJSON_Delete(j);
	free(text);
	free(cause);
	free(path);
	return added > 0;
}

/* Keep p's answer (its puts and drops, and old's entries for those paths)
 * at index_path.pull for sync_pull_commit; its id into result ("pullId"). */
static void
sync_pull_keep(const char *index_path, const struct sync_pull *p,
    const struct sync_scan *old, cJSON *result)
{
	unsigned char rnd[8];
	char id[sizeof rnd * 2 + 1], *path, *text, *cause = NULL;
	struct sync_scan was = { 0 };
	const struct sync_entry *o;
	cJSON *j;
	size_t i;

	randombytes_buf(rnd, sizeof rnd);
	sodium_bin2hex(id, sizeof id, rnd, sizeof rnd);
	was.v = xcalloc(p->put->n + p->ndrop + 1, sizeof *was.v);
	for (i = 0; i < p->put->n + p->ndrop; i++)
		if ((o = sync_scan_find(old,
			 i < p->put->n ? p->put->v[i].path : p->drop[i - p->put->n])) !=
		    NULL)
			was.v[was.n++] = *o; /* (borrowed) */
	qsort(was.v, was.n, sizeof *was.v, sync_entry_cmp);
	j = cJSON_CreateObject();
	cJSON_AddStringToObject(j, "id", id);
	cJSON_AddItemToObject(j, "put", sync_scan_manifest(p->put, 1));
	cJSON_AddItemToObject(j, "drop",
	    cJSON_CreateStringArray((const char *const *)p->drop, (int)p->ndrop));
	cJSON_AddItemToObject(j, "was", sync_scan_manifest(&was, 1));
	free(was.v);
	text = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	path = xasprintf("%s.pull", index_path);
	if (atomic_file_write(path, text, strlen(text), 0600, &cause) == 0)
		cJSON_AddStringToObject(result, "pullId", id);
	else /* (no id: never acknowledged, reported again) */
		log_warn("sync-pull: %s", cause);
	free(cause);
	free(path);
	free(text);
}

void
sync_pull_ack(const char *folder, const char *index_path, const char *ack)
{
	if (ack != NULL)
		sync_pull_commit(index_path, folder, ack, NULL, NULL, NULL);
}

/* The entry of the big file being sent in pieces (index_path.piece,
 * sync_pull_lend_keep): new (one entry), or NULL (none). */
static struct sync_scan *
sync_pull_lent(const char *index_path)
{
	char *path = xasprintf("%s.piece", index_path), *cause = NULL;
	struct sync_scan *one = sync_index_manifest_read(path, 1 << 16, NULL, &cause);

	free(cause); /* (none: sent from 0) */
	free(path);
	if (one != NULL && one->n != 1) {
		sync_scan_free(one);
		one = NULL;
	}
	return one;
}

/* a's entries with b's over them (both may be NULL; in path order): new,
 * its entries borrowed from a and b (free only v and the struct). */
static struct sync_scan *
sync_pull_over(const struct sync_scan *a, const struct sync_scan *b)
{
	struct sync_scan *m = xcalloc(1, sizeof *m);
	size_t na = a != NULL ? a->n : 0, nb = b != NULL ? b->n : 0, i = 0, k = 0;
	int c;

	m->v = xcalloc(na + nb + 1, sizeof *m->v);
	while (i < na || k < nb) {
		c = i == na ? 1 : k == nb ? -1 : strcmp(a->v[i].path, b->v[k].path);
		m->v[m->n++] = c < 0 ? a->v[i] : b->v[k];
		i += c <= 0;
		k += c >= 0;
	}
	return m;
}

/* Free a scan of borrowed entries (sync_pull_over). */
static void
sync_pull_over_free(struct sync_scan *s)
{
	if (s != NULL)
		free(s->v);
	free(s);
}

/* What the scan may take hashes from, so that a file is not hashed again
 * at each pull: the index's entries (old), with those kept aside and the
 * big file being sent in pieces (lent, may be NULL) over them. New, its
 * entries borrowed (sync_pull_over_free), or NULL (none but old's: old
 * lends). */
static struct sync_scan *
sync_pull_lender(const struct sync_scan *old, const struct sync_scan *aside,
    const struct sync_scan *lent)
{
	struct sync_scan *some, *lend;

	if (lent == NULL && aside->n == 0)
		return NULL;
	some = sync_pull_over(old, aside);
	lend = sync_pull_over(some, lent);
	sync_pull_over_free(some);
	return lend;
}

/* The tag of the local ignore rules (want: the request's, NULL from an
 * older client: nothing changes) into *tag (what aside was kept under;
 * replaced): under other rules, what they left out may be let in now, so
 * aside is emptied (reported again, and through the usual conflict
 * logic there). 1 when *tag or aside changed (to save), else 0. */
static int
sync_pull_retag(struct sync_scan *aside, char **tag, const char *want)
{
	if (want == NULL || (*tag != NULL && strcmp(*tag, want) == 0))
		return 0;
	free(*tag);
	*tag = xstrdup(want);
	for (size_t i = 0; i < aside->n; i++)
		sync_entry_clear(&aside->v[i]);
	aside->n = 0;
	return 1;
}

/* Save aside (kept under tag) for the index at index_path; a failure is
 * logged and its cause kept in *err (the first; for the answer's
 * "asideFailed": those entries are reported again). */
static void
sync_pull_aside_save(
    const char *index_path, const struct sync_scan *aside, const char *tag, char **err)
{
	char *cause = NULL;

	if (sync_aside_save(index_path, aside, tag, &cause) == 0)
		return;
	log_warn("sync-pull: %s", cause);
	if (*err == NULL)
		*err = cause;
	else
		free(cause);
}

/* The big file in pieces (lent, may be NULL) into *aside (replaced) when
 * ignored (may be NULL) names it: the local side ignores it. 1 when it
 * went there, else 0. */
static int
sync_pull_aside_piece(
    struct sync_scan **aside, const struct sync_scan *lent, const cJSON *ignored)
{
	if (lent == NULL || !sync_pull_listed(ignored, lent->v[0].path))
		return 0;
	sync_scan_apply(aside, sync_scan_copy(lent), NULL, 0);
	return 1;
}

/* Keep the entry of a big file whose next piece is still to come at
 * index_path.piece (for sync_pull_lender); removed when there is none. */
static void
sync_pull_lend_keep(
    const char *index_path, const struct sync_pull *p, const struct sync_scan *now)
{
	char *path = xasprintf("%s.piece", index_path), *cause = NULL;
	const cJSON *pp = cJSON_GetObjectItemCaseSensitive(p->piece, "path");
	const struct sync_entry *e = NULL;
	struct sync_scan one = { 0 };

	if (p->piece != NULL && p->done.path == NULL && cJSON_IsString(pp) &&
	    (e = sync_scan_find(now, pp->valuestring)) != NULL) {
		one.v = (struct sync_entry *)e; /* (borrowed, read only) */
		one.n = 1;
	}
	if (sync_index_manifest_write(path, &one, NULL, &cause) !=
	    0) /* (none: removed) */
		log_warn("sync-pull: %s", cause);
	free(cause);
	free(path);
}

int
sync_pull_changes(const char *folder, const char *index_path, unsigned flags,
    const char *ack, const struct sync_pull_opts *o, cJSON **result, char **cause)
{
	struct sync_pull p = { .root = -1 };
	struct sync_scan *old = NULL, *now = NULL, *lend = NULL, *lent = NULL;
	char *tag = NULL, *aside_err = NULL;
	struct sync_scan *aside = sync_aside_load(index_path, &tag);
	const cJSON *ignored = o != NULL ? o->ignored_here : NULL;
	struct sync_ignore *ig = NULL;
	struct sync_index ix;
	struct stat sb;
	size_t i = 0, k = 0;
	cJSON *put;
	int c, rc = -1, moved;

	*result = NULL;
	p.pieces = o != NULL && o->pieces;
	p.have = o != NULL ? o->have : NULL;
	moved = sync_pull_commit(
	    index_path, folder, ack, o != NULL ? o->not_applied : NULL, ignored, &aside);
	sync_index_load(index_path, &ix, &old);
	if (p.pieces)
		lent = sync_pull_lent(index_path);
	moved |= sync_pull_aside_piece(&aside, lent, ignored);
	/* (after the commit: the last answer's were told under the rules the
	 * aside was kept under) */
	moved |= sync_pull_retag(aside, &tag, o != NULL ? o->ignore_tag : NULL);
	if (moved) /* (now: a scan that fails must not lose them) */
		sync_pull_aside_save(index_path, aside, tag, &aside_err);
	lend = sync_pull_lender(old, aside, lent);
	if (sync_scan_ignore(
		folder, flags & (SYNC_SCAN_GIT | SYNC_SCAN_GITIGNORE), &ig, cause) != 0 ||
	    sync_scan(folder, ig, lend != NULL ? lend : old, &now, cause) != 0)
		goto out;
	if ((p.root = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		error_set_errno(cause, errno, "%s", folder);
		goto out;
	}
	p.put = xcalloc(1, sizeof *p.put);
	p.put->v = xcalloc(now->n + 1, sizeof *p.put->v);
	p.drop = xcalloc(old->n + 1, sizeof *p.drop);
	p.data = cJSON_CreateArray();
	p.too_large = cJSON_CreateArray();
	p.bigs = xcalloc(now->n + 1, sizeof *p.bigs);
	/* (what is aside and changed since is reported again) */
	if (sync_aside_prune(aside, now))
		sync_pull_aside_save(index_path, aside, tag, &aside_err);
	p.ignored = aside;
	while (i < now->n || k < old->n) {
		c = i == now->n	  ? 1
		    : k == old->n ? -1
				  : strcmp(now->v[i].path, old->v[k].path);
		if (c < 0 && !sync_pull_is_tmp(now->v[i].path))
			sync_pull_put(&p, &now->v[i]);
		else if (c == 0 && sync_entry_differ(&old->v[k], &now->v[i]))
			sync_pull_put(&p, &now->v[i]);
		else if (c > 0 && p.put->n + p.ndrop >= SYNC_PULL_MAX_ENTRIES)
			p.more = 1;
		else if (c > 0 &&
		    fstatat(p.root, old->v[k].path, &sb, AT_SYMLINK_NOFOLLOW) != 0 &&
		    errno == ENOENT) /* (there but left out now: not a delete) */
			p.drop[p.ndrop++] = old->v[k].path;
		i += c <= 0;
		k += c >= 0;
	}
	sync_pull_pieces(&p);
	*result = cJSON_CreateObject();
	put = sync_scan_manifest(p.put, 0);
	cJSON_AddItemToObject(*result, "put", put);
	cJSON_AddItemToObject(*result, "data", p.data);
	p.data = NULL;
	cJSON_AddItemToObject(*result, "drop",
	    cJSON_CreateStringArray((const char *const *)p.drop, (int)p.ndrop));
	cJSON_AddItemToObject(*result, "tooLarge", p.too_large);
	p.too_large = NULL;
	cJSON_AddBoolToObject(*result, "more", p.more);
	cJSON_AddBoolToObject(*result, "notApplied", 1);  /* (taken: per file) */
	cJSON_AddBoolToObject(*result, "ignoredHere", 1); /* (taken: aside) */
	if (aside_err != NULL) /* (reported again: the local side tells why) */
		cJSON_AddStringToObject(*result, "asideFailed", aside_err);
	if (p.pieces) {
		cJSON_AddNumberToObject(*result, "maxFileMiB", SYNC_PIECE_FILE_MAX_MIB);
		sync_pull_lend_keep(index_path, &p, now);
	}
	if (p.piece != NULL) {
		cJSON_AddItemToObject(*result, "piece", p.piece);
		p.piece = NULL;
	}
	/* A big file's last piece: into the index with the rest. */
	if (p.done.path != NULL) {
		p.put->v[p.put->n++] = p.done;
		p.done = (struct sync_entry){ 0 }; /* (moved into put) */
		qsort(p.put->v, p.put->n, sizeof *p.put->v, sync_entry_cmp);
	}
	/* Into the index when the next request acknowledges it. */
	if (p.put->n > 0 || p.ndrop > 0)
		sync_pull_keep(index_path, &p, old, *result);
	rc = 0;
out:
	if (p.root >= 0)
		close(p.root);
	sync_scan_free(p.put);
	free(p.drop); /* (borrowed from old) */
	free(p.bigs); /* (borrowed from now) */
	cJSON_Delete(p.data);
	cJSON_Delete(p.too_large);
	cJSON_Delete(p.piece);
	sync_entry_clear(&p.done);
	sync_pull_over_free(lend);
	sync_scan_free(lent);
	sync_scan_free(aside);
	free(tag);
	free(aside_err);
	sync_scan_free(now);
	sync_scan_free(old);
	sync_ignore_free(ig);
	return rc;
}
