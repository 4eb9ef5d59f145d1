/* test-sync-recv.c - unit tests for agent/sync-recv.c (and sync-prune.c:
 * the state of a gone workspace is removed): a live sync's batch
 * (sync_recv_partial) touches only what it lists, deletes of its "delete"
 * paths only what an earlier sync wrote, and keeps the rest in the index; a
 * file asked for but not sent stays the sync's to delete later; a batch's
 * change of the index is a line of its journal (agent/sync-index.h); a
 * two-way sync's pull (agent/sync-pull.h) reports the host's changes until
 * acknowledged, a whole sync never deletes what did not reach the local side,
 * leaving out ignored paths and a sync's temporary files, and a batch of a
 * two-way sync keeps a file changed on the host as a conflict file; a large
 * file's delta rebuilds it from the host's blocks, or, when the host's copy
 * changed since its blocks were offered, writes nothing and names it; a
 * host file or folder where another kind comes, or a host symlink, is kept
 * as a conflict copy (two-way, or holding what was kept aside; a folder
 * holding what the host made one way too), put back when what comes
 * fails, and never replaced when it cannot be kept: then that entry fails
 * alone when the sender asked for entry errors. */
#include "test.h"

#include "sync-aside.h"
#include "sync-blocks.h"
#include "sync-cover.h"
#include "sync-index.h"
#include "sync-prune.h"
#include "sync-pull.h"
#include "sync-recv.h"

#include <stdlib.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sodium.h>

#include "buf.h"
#include "tar-stream.h"
#include "xmalloc.h"

#define DIR "rdev-test-recv"

/* Open a sync of manifest m (JSON text) on DIR/ws: *want (new, for
 * recv_close), *r and *need. */
static void
recv_open(const char *m, struct sync_scan **want, struct sync_recv **r, cJSON **need)
{
	cJSON *mj = cJSON_Parse(m);
	char *cause = NULL;

	*want = NULL;
	if (mj == NULL || sync_scan_from_manifest(mj, want, &cause) != 0 ||
	    sync_recv_open(DIR "/ws", DIR "/index.json", *want, r, need, &cause) != 0)
		TEST_FAIL("open: %s", cause);
	cJSON_Delete(mj);
}

static void
recv_close(struct sync_scan *want, struct sync_recv *r, cJSON *need)
{
	cJSON_Delete(need);
	sync_recv_free(r);
	sync_scan_free(want);
}

/* Run one sync of manifest (JSON text) with the files named in send (their
 * content is their name), batch del (NULL: a whole sync); keep: two-way
 * (sync_recv_keep_host_changes). Returns its result (new). */
static cJSON *
sync_once_result(
    const char *manifest, const char *const *send, const char *const *del, int keep)
{
	struct sync_scan *want = NULL;
	struct sync_recv *r = NULL;
	struct buf *tar = buf_new();
	cJSON *need = NULL, *res = NULL;
	char *cause = NULL;

	recv_open(manifest, &want, &r, &need);
	if (del != NULL) {
		size_t n = 0;
		char **d;

		while (del[n] != NULL)
			n++;
		d = xcalloc(n + 1, sizeof *d);
		for (size_t i = 0; i < n; i++)
			d[i] = xstrdup(del[i]);
		sync_recv_partial(r, d, n);
	}
	if (keep)
		sync_recv_keep_host_changes(r);
	for (size_t i = 0; send != NULL && send[i] != NULL; i++) {
		size_t len = strlen(send[i]);

		tar_write_header(tar, 'f', send[i], 0644, len, 0, NULL);
		buf_append(tar, send[i], len);
		buf_append(tar, (const unsigned char[TAR_BLOCK]){ 0 }, tar_pad_len(len));
	}
	tar_write_end(tar);
	if (sync_recv_feed(r, buf_data(tar), buf_len(tar), &cause) != 0 ||
	    sync_recv_finish(r, &res, &cause) != 0)
		TEST_FAIL("stream: %s", cause);
	recv_close(want, r, need);
	buf_free(tar);
	return res;
}

/* sync_once_result, its result dropped. */
static void
sync_once_keep(
    const char *manifest, const char *const *send, const char *const *del, int keep)
{
	cJSON_Delete(sync_once_result(manifest, send, del, keep));
}

static void
sync_once(const char *manifest, const char *const *send, const char *const *del)
{
	sync_once_keep(manifest, send, del, 0);
}

/* A manifest entry for a file whose content is its path. */
static char *
entry(const char *path)
{
	char hex[SYNC_HASH_HEX + 1];
	int fd;

	ASSERT_INT_EQ(system("mkdir -p " DIR "/c"), 0);
	FILE *f = fopen(DIR "/c/x", "w");
	fputs(path, f);
	fclose(f);
	fd = open(DIR "/c/x", O_RDONLY);
	ASSERT_INT_EQ(sync_hash_fd(fd, hex), 0);
	close(fd);
	return xasprintf("[\"f\",\"%s\",\"%s\",420,%zu]", path, hex, strlen(path));
}

TEST(a_batch_touches_only_what_it_lists)
{
	char *a = entry("a"), *b = entry("d/b"), *c = entry("c"), *m;

	ASSERT_INT_EQ(system("rm -rf " DIR " && mkdir -p " DIR), 0);
	m = xasprintf("[%s,[\"d\",\"d\",493],%s,%s]", a, b, c);
	sync_once(m, (const char *[]){ "a", "c", "d/b", NULL }, NULL);
	free(m);
	ASSERT_INT_EQ(access(DIR "/ws/d/b", F_OK), 0);
	ASSERT_INT_EQ(system("echo host >" DIR "/ws/d/host-made"), 0);

	/* A batch: c changed (the same here), d deleted, a not listed. */
	m = xasprintf("[%s]", c);
	sync_once(m, NULL, (const char *[]){ "d", NULL });
	free(m);
	ASSERT_INT_EQ(access(DIR "/ws/a", F_OK), 0);	       /* not listed: kept */
	ASSERT_INT_NE(access(DIR "/ws/d/b", F_OK), 0);	       /* ours: deleted */
	ASSERT_INT_EQ(access(DIR "/ws/d/host-made", F_OK), 0); /* not ours */

	/* A later whole sync without a still deletes it: the batch kept it in
	 * the index. */
	m = xasprintf("[%s]", c);
	sync_once(m, NULL, NULL);
	free(m);
	ASSERT_INT_NE(access(DIR "/ws/a", F_OK), 0);
	free(a);
	free(b);
	free(c);
}

TEST(a_file_asked_for_but_not_sent_stays_ours)
{
	char *a = entry("a"), *a2 = entry("a2"), *m;

	ASSERT_INT_EQ(system("rm -rf " DIR " && mkdir -p " DIR), 0);
	m = xasprintf("[%s]", a);
	sync_once(m, (const char *[]){ "a", NULL }, NULL);
	free(m);
	/* a changed on the client (another hash) but went before it was sent */
	m = xasprintf("[%s]", a2);
	memcpy(strstr(m, "\"a2\""), "\"a\" ", 4);
	sync_once(m, NULL, (const char *[]){ NULL });
	free(m);
	ASSERT_INT_EQ(access(DIR "/ws/a", F_OK), 0); /* the old one */
	/* then the deletion comes: it goes */
	sync_once("[]", NULL, (const char *[]){ "a", NULL });
	ASSERT_INT_NE(access(DIR "/ws/a", F_OK), 0);
	free(a);
	free(a2);
	ASSERT_INT_EQ(system("rm -rf " DIR), 0);
}

/* The inode of path, 0 when it is not there. */
static unsigned long long
inode_of(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0 ? (unsigned long long)sb.st_ino : 0;
}

TEST(a_batch_appends_to_the_journal_not_the_whole_index)
{
	char *a = entry("a"), *c = entry("c"), *e = entry("e"), *m;
	struct sync_scan *idx;
	struct sync_index ix;
	unsigned long long base;

	ASSERT_INT_EQ(system("rm -rf " DIR " && mkdir -p " DIR), 0);
	m = xasprintf("[%s,%s]", a, c);
	sync_once(m, (const char *[]){ "a", "c", NULL }, NULL);
	free(m);
	base = inode_of(DIR "/index.json");
	ASSERT_INT_NE(base, 0);
	ASSERT_INT_EQ(inode_of(DIR "/index.json.journal"), 0);

	/* Two batches: a line each; the base stays as it was. */
	m = xasprintf("[%s]", e);
	sync_once(m, (const char *[]){ "e", NULL }, (const char *[]){ NULL });
	free(m);
	sync_once("[]", NULL, (const char *[]){ "a", NULL });
	ASSERT_INT_EQ(inode_of(DIR "/index.json"), base);
	ASSERT_INT_EQ(system("test \"$(wc -l <" DIR "/index.json.journal)\" = 2"), 0);
	ASSERT_INT_EQ(sync_index_load(DIR "/index.json", &ix, &idx), 0);
	ASSERT_INT_EQ(idx->n, 2);
	ASSERT_STR_EQ(idx->v[0].path, "c");
	ASSERT_STR_EQ(idx->v[1].path, "e");
	sync_scan_free(idx);

	/* A line cut short (a crash in the append): ignored, and the next
	 * save writes the base whole, without a journal. */
	ASSERT_INT_EQ(system("printf '{\"gen\":1,\"pu' >>" DIR "/index.json.journal"), 0);
	sync_once("[]", NULL, (const char *[]){ "e", NULL });
	ASSERT_INT_NE(inode_of(DIR "/index.json"), base);
	ASSERT_INT_EQ(inode_of(DIR "/index.json.journal"), 0);
	ASSERT_INT_EQ(sync_index_load(DIR "/index.json", &ix, &idx), 0);
	ASSERT_INT_EQ(idx->n, 1);
	ASSERT_STR_EQ(idx->v[0].path, "c");
	ASSERT_INT_EQ(access(DIR "/ws/e", F_OK) != 0, 1); /* deleted: it was ours */
	sync_scan_free(idx);
	free(a);
	free(c);
	free(e);
	ASSERT_INT_EQ(system("rm -rf " DIR), 0);
}

/* The paths of a sync-pull answer's member name, joined by ' '. New. */
static char *
pulled(const cJSON *res, const char *name)
{
	const cJSON *e;
	char *out = xstrdup(""), *next;

	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(res, name)) {
		const char *p = cJSON_IsArray(e) ? cJSON_GetArrayItem(e, 1)->valuestring
						 : e->valuestring;

		next = xasprintf("%s%s%s", out, *out ? " " : "", p);
		free(out);
		out = next;
	}
	return out;
}

TEST(the_host_changes_are_reported_once)
{
	char *a = entry("a"), *c = entry("c"), *m, *cause = NULL, *got, *ack;
	cJSON *res = NULL;

	ASSERT_INT_EQ(system("rm -rf " DIR " && mkdir -p " DIR), 0);
	m = xasprintf("[%s,%s]", a, c);
	sync_once(m, (const char *[]){ "a", "c", NULL }, NULL);
	free(m);
	ASSERT_INT_EQ(system("cd " DIR "/ws && echo new >a && rm c && echo g >g && "
			     "mkdir out && echo o >out/o && echo out/ >.rdevignore && "
			     "touch .rdev-sync-1-0"),
	    0);
	ASSERT_INT_EQ(
	    sync_pull_changes(DIR "/ws", DIR "/index.json", 0, NULL, NULL, &res, &cause),
	    0);
	got = pulled(res, "put");
	ASSERT_STR_EQ(got, ".rdevignore a g"); /* (not out/, not a sync's temporary) */
	free(got);
	got = pulled(res, "drop");
	ASSERT_STR_EQ(got, "c");
	free(got);
	ASSERT_STR_EQ(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(res, "data"), 1)
			  ->valuestring,
	    "bmV3Cg=="); /* "new\n" */
	cJSON_Delete(res);
	/* Not acknowledged (lost): reported again. */
	ASSERT_INT_EQ(
	    sync_pull_changes(DIR "/ws", DIR "/index.json", 0, NULL, NULL, &res, &cause),
	    0);
	got = pulled(res, "put");
	ASSERT_STR_EQ(got, ".rdevignore a g");
	free(got);
	ack = xstrdup(cJSON_GetObjectItemCaseSensitive(res, "pullId")->valuestring);
	cJSON_Delete(res);
	/* Acknowledged: the index has them now. */
	ASSERT_INT_EQ(
	    sync_pull_changes(DIR "/ws", DIR "/index.json", 0, ack, NULL, &res, &cause),
	    0);
	free(ack);
	got = pulled(res, "put");
	ASSERT_STR_EQ(got, "");
	free(got);
	got = pulled(res, "drop");
	ASSERT_STR_EQ(got, "");
	free(got);
	cJSON_Delete(res);
	free(a);
	free(c);
	ASSERT_INT_EQ(system("rm -rf " DIR), 0);
}

/* Data loss (a whole sync deletes index entries its manifest lacks): a
 * file the host made, reported but not acknowledged, or too large to send,
 * is never deleted by a whole sync. */
TEST(a_whole_sync_keeps_host_files_that_did_not_reach_the_local_side)
{
	char *a = entry("a"), *m, *cause = NULL, *got;
	cJSON *res = NULL;

	ASSERT_INT_EQ(system("rm -rf " DIR " && mkdir -p " DIR), 0);
	m = xasprintf("[%s]", a);
	sync_once(m, (const char *[]){ "a", NULL }, NULL);
	ASSERT_INT_EQ(system("cd " DIR "/ws && echo db >app.db && "
			     "head -c 9000000 /dev/zero >0big"),
	    0);
	ASSERT_INT_EQ(
	    sync_pull_changes(DIR "/ws", DIR "/index.json", 0, NULL, NULL, &res, &cause),
	    0);
	got = pulled(res, "put");
	ASSERT_STR_EQ(got, "app.db");
	free(got);
	got = pulled(res, "tooLarge");
	ASSERT_STR_EQ(got, "0big");
	free(got);
	cJSON_Delete(res);
	/* The answer is lost; the broker restarts and sends the whole folder. */
	sync_once_keep(m, (const char *[]){ NULL }, NULL, 1);
	ASSERT_INT_EQ(access(DIR "/ws/app.db", F_OK), 0);
	ASSERT_INT_EQ(access(DIR "/ws/0big", F_OK), 0);
	/* A file the host changed since the index, missing locally: kept. */
	ASSERT_INT_EQ(system("echo host-a >" DIR "/ws/a"), 0);
	sync_once_keep("[]", (const char *[]){ NULL }, NULL, 1);
	ASSERT_INT_EQ(access(DIR "/ws/a", F_OK), 0);
	free(m);
	free(a);
	ASSERT_INT_EQ(system("rm -rf " DIR), 0);
}

TEST(two_way_keeps_a_host_change_as_a_conflict_file)
{
	char *a = entry("a"), *m;

	ASSERT_INT_EQ(system("rm -rf " DIR " && mkdir -p " DIR), 0);
	m = xasprintf("[%s]", a);
	sync_once(m, (const char *[]){ "a", NULL }, NULL);
	ASSERT_INT_EQ(system("echo host >" DIR "/ws/a"), 0);
	sync_once_keep(m, (const char *[]){ "a", NULL }, (const char *[]){ NULL }, 1);
	free(m);
	ASSERT_INT_EQ(system("test \"$(cat " DIR "/ws/a)\" = a"), 0);
	ASSERT_INT_EQ(system("test \"$(cat " DIR "/ws/a.rdev-conflict-*)\" = host"), 0);
	ASSERT_INT_EQ(system("ls " DIR "/ws | grep -qE "
			     "'^a\\.rdev-conflict-[0-9]{8}T[0-9]{6}Z$'"),
	    0);
	free(a);
	ASSERT_INT_EQ(system("rm -rf " DIR), 0);
}

/* A pull of the host's folder, then its acknowledgement with sub/x
 * "ignoredHere" (and not_applied, a JSON array, not applied here): the
 * agent keeps sub/x aside. */
static void
pull_and_keep_aside(const char *not_applied)
{
	struct sync_pull_opts o;
	const char *ack;
	cJSON *res = NULL, *rj;
	char *cause = NULL, *req;

	ASSERT_INT_EQ(
	    sync_pull_changes(DIR "/ws", DIR "/index.json", 0, NULL, NULL, &res, &cause),
	    0);
	req = xasprintf("{\"ackExcept\":\"%s\",\"notApplied\":%s,"
			"\"ignoredHere\":[\"sub/x\"]}",
	    cJSON_GetObjectItemCaseSensitive(res, "pullId")->valuestring, not_applied);
	cJSON_Delete(res);
	rj = cJSON_Parse(req);
	sync_pull_request(rj, &ack, &o);
	ASSERT_INT_EQ(
	    sync_pull_changes(DIR "/ws", DIR "/index.json", 0, ack, &o, &res, &cause), 0);
	ASSERT_INT_EQ(access(DIR "/index.json.aside", F_OK), 0);
	cJSON_Delete(res);
	cJSON_Delete(rj);
	free(req);
}

/* Data loss: a host file the local side left out (kept aside by the
 * agent, "ignoredHere"), then sent from there (its ignore rule gone): the
 * host's version is kept as a conflict file, as is, two-way, any host
 * file the index lacks that differs from what comes. */
/* sub/x kept aside and y not applied by a pull, then both sent from here:
 * keep, the upload's keepHostChanges. */
static void
kept_aside_then_sent(int keep)
{
	char *x = entry("sub/x"), *y = entry("y"), *m;

	ASSERT_INT_EQ(
	    system("rm -rf " DIR " && mkdir -p " DIR "/ws/sub && echo host >" DIR
		   "/ws/sub/x && echo host-y >" DIR "/ws/y"),
	    0);
	pull_and_keep_aside("[\"y\"]");
	m = xasprintf("[[\"d\",\"sub\",493],%s,%s]", x, y);
	sync_once_keep(
	    m, (const char *[]){ "sub/x", "y", NULL }, (const char *[]){ NULL }, keep);
	ASSERT_INT_EQ(system("test \"$(cat " DIR "/ws/sub/x)\" = sub/x"), 0);
	ASSERT_INT_EQ(
	    system("test \"$(cat " DIR "/ws/sub/x.rdev-conflict-*)\" = host"), 0);
	ASSERT_INT_EQ(system("test \"$(cat " DIR "/ws/y)\" = y"), 0);
	if (keep)
		ASSERT_INT_EQ(
		    system("test \"$(cat " DIR "/ws/y.rdev-conflict-*)\" = host-y"), 0);
	else /* (one-way: the local version, as before) */
		ASSERT_INT_EQ(system("ls " DIR "/ws/y.rdev-conflict-* 2>/dev/null"), 512);
	free(m);
	free(x);
	free(y);
	ASSERT_INT_EQ(system("rm -rf " DIR), 0);
}

TEST(a_file_kept_aside_sent_from_here_keeps_the_host_s)
{
	kept_aside_then_sent(1);
}

/* The first upload of a session goes without keepHostChanges: a file kept
 * aside is kept all the same. */
TEST(a_file_kept_aside_sent_without_keep_keeps_the_host_s)
{
	kept_aside_then_sent(0);
}

/* Write n bytes of a pattern (seed) to path. */
static void
write_pattern(const char *path, size_t n, unsigned seed, unsigned char **out)
{
	unsigned char *p = xmalloc(n + 1);
	FILE *f = fopen(path, "w");

	for (size_t i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		p[i] = (unsigned char)(seed >> 16);
	}
	ASSERT_NOT_NULL(f);
	ASSERT_INT_EQ((long long)fwrite(p, 1, n, f), (long long)n);
	fclose(f);
	if (out != NULL)
		*out = p;
	else
		free(p);
}

/* One sync of "big" (new, n bytes, its manifest entry m) sent as a delta
 * against the blocks the agent offers; before the stream, change_host
 * (when not NULL) is run on the host's copy. Returns the result (new). */
static cJSON *
sync_delta(const char *m, const unsigned char *new, size_t n, const char *change_host)
{
	struct sync_scan *want = NULL;
	struct sync_recv *r = NULL;
	struct buf *tar = buf_new(), *body = buf_new();
	cJSON *need = NULL, *res = NULL, *blocks;
	const char *b64;
	unsigned char *hashes, h[SYNC_BLOCKS_HASH];
	struct sync_blocks_delta d = { SYNC_BLOCKS_SIZE, n, { 0 } };
	size_t nh, len, hlen;
	unsigned long long host_size;
	char *cause = NULL, *pax;
	long j;

	recv_open(m, &want, &r, &need);
	blocks = sync_recv_blocks(r, SIZE_MAX);
	ASSERT_INT_EQ(cJSON_GetArraySize(blocks), 1);
	b64 = cJSON_GetStringValue(
	    cJSON_GetObjectItem(cJSON_GetArrayItem(blocks, 0), "hashes"));
	host_size = (unsigned long long)cJSON_GetNumberValue(
	    cJSON_GetObjectItem(cJSON_GetArrayItem(blocks, 0), "size"));
	nh = sync_blocks_count(host_size, SYNC_BLOCKS_SIZE);
	hashes = xmalloc(nh * SYNC_BLOCKS_HASH);
	ASSERT_INT_EQ(sodium_base642bin(hashes, nh * SYNC_BLOCKS_HASH, b64, strlen(b64),
			  NULL, &hlen, NULL, sodium_base64_VARIANT_ORIGINAL),
	    0);
	for (size_t k = 0; k < sync_blocks_count(n, SYNC_BLOCKS_SIZE); k++) {
		len = sync_blocks_len(n, SYNC_BLOCKS_SIZE, k);
		sync_blocks_hash(new + k *SYNC_BLOCKS_SIZE, len, h);
		j = sync_blocks_match(hashes, nh, host_size, SYNC_BLOCKS_SIZE, k, len, h);
		sync_blocks_put_op(body, j);
		if (j < 0)
			buf_append(body, new + k *SYNC_BLOCKS_SIZE, len);
	}
	sync_blocks_hash(new, n, d.hash);
	pax = sync_blocks_delta_format(&d);
	tar_write_header_pax(
	    tar, 'f', "big", 0644, buf_len(body), 0, NULL, SYNC_BLOCKS_PAX, pax);
	buf_append(tar, buf_data(body), buf_len(body));
	buf_append(
	    tar, (const unsigned char[TAR_BLOCK]){ 0 }, tar_pad_len(buf_len(body)));
	tar_write_end(tar);
	if (change_host != NULL)
		ASSERT_INT_EQ(system(change_host), 0);
	if (sync_recv_feed(r, buf_data(tar), buf_len(tar), &cause) != 0 ||
	    sync_recv_finish(r, &res, &cause) != 0)
		TEST_FAIL("stream: %s", cause);
	cJSON_AddNumberToObject(res, "bodyBytes", (double)buf_len(body));
	recv_close(want, r, need);
	free(pax);
	free(hashes);
	buf_free(tar);
	buf_free(body);
	cJSON_Delete(blocks);
	return res;
}

TEST(a_delta_rebuilds_the_file_or_fails_cleanly)
{
	size_t n = 2 * SYNC_BLOCKS_MIN + 1000;
	unsigned char *new, *got;
	char hex[SYNC_HASH_HEX + 1], *m;
	cJSON *res;
	FILE *f;
	int fd;

	ASSERT_INT_EQ(system("rm -rf " DIR " && mkdir -p " DIR "/ws " DIR "/c"), 0);
	write_pattern(DIR "/ws/big", n, 7, NULL);
	write_pattern(DIR "/c/big", n, 7, &new);
	new[3 * SYNC_BLOCKS_SIZE + 5] ^= 0x55; /* one byte of block 3 changed */
	f = fopen(DIR "/c/big", "w");
	fwrite(new, 1, n, f);
	fclose(f);
	fd = open(DIR "/c/big", O_RDONLY);
	ASSERT_INT_EQ(sync_hash_fd(fd, hex), 0);
	close(fd);
	m = xasprintf("[[\"f\",\"big\",\"%s\",420,%zu]]", hex, n);

	/* The host copy changed after its blocks were offered: nothing is
	 * written, the file is named to be sent whole. */
	res = sync_delta(m, new, n, "echo changed >>" DIR "/ws/big");
	ASSERT_STR_EQ(cJSON_GetStringValue(
			  cJSON_GetArrayItem(cJSON_GetObjectItem(res, "deltaFailed"), 0)),
	    "big");
	ASSERT_INT_EQ(system("test $(ls -a " DIR "/ws | grep -c rdev-sync) = 0"), 0);
	ASSERT_INT_EQ(system("tail -c 8 " DIR "/ws/big | grep -q changed"), 0);
	cJSON_Delete(res);

	/* As offered: rebuilt byte-exact from one literal block. */
	write_pattern(DIR "/ws/big", n, 7, NULL);
	res = sync_delta(m, new, n, NULL);
	ASSERT_NULL(cJSON_GetObjectItem(res, "deltaFailed"));
	ASSERT_INT_EQ((long long)cJSON_GetNumberValue(cJSON_GetObjectItem(res, "bytes")),
	    (long long)cJSON_GetNumberValue(cJSON_GetObjectItem(res, "bodyBytes")));
	ASSERT_INT_EQ((long long)cJSON_GetNumberValue(cJSON_GetObjectItem(res, "bytes")),
	    (long long)(SYNC_BLOCKS_SIZE + 4 * sync_blocks_count(n, SYNC_BLOCKS_SIZE)));
	got = xmalloc(n + 1);
	f = fopen(DIR "/ws/big", "r");
	ASSERT_INT_EQ((long long)fread(got, 1, n + 1, f), (long long)n);
	fclose(f);
	ASSERT_MEM_EQ(got, new, n);
	cJSON_Delete(res);
	free(got);
	free(new);
	free(m);
}

/* The hashes offered fit the room given, however large the host files:
 * one whose entry would not fit is not offered (it goes whole). */
TEST(the_blocks_offered_fit_the_room_given)
{
	size_t n = SYNC_BLOCKS_MIN + 1000, len = sync_recv_blocks_len(n);
	const char *m = "[[\"f\",\"a\","
			"\"00000000000000000000000000000000\",420,1],[\"f\",\"b\","
			"\"00000000000000000000000000000000\",420,1]]";
	size_t room[] = { len + 1, len + 2, 2 * len + 1, 2 * len + 2 },
	       nwant[] = { 0, 1, 1, 2 };
	struct sync_scan *want = NULL;
	struct sync_recv *r = NULL;
	cJSON *need = NULL, *blocks;
	char *text;

	ASSERT_INT_EQ(system("rm -rf " DIR " && mkdir -p " DIR "/ws"), 0);
	write_pattern(DIR "/ws/a", n, 7, NULL);
	write_pattern(DIR "/ws/b", n, 8, NULL);
	for (size_t i = 0; i < sizeof room / sizeof room[0]; i++) {
		recv_open(m, &want, &r, &need);
		blocks = sync_recv_blocks(r, room[i]);
		ASSERT_INT_EQ(cJSON_GetArraySize(blocks), (long long)nwant[i]);
		text = cJSON_PrintUnformatted(blocks);
		ASSERT_TRUE(strlen(text) <= room[i]);
		free(text);
		cJSON_Delete(blocks);
		recv_close(want, r, need);
	}
	ASSERT_INT_EQ(system("rm -rf " DIR), 0);
}

/* A host entry that is not a regular file is not opened to be offered
 * (opening a device node can do things): a FIFO where a needed file is
 * sees no open. */
TEST(blocks_are_not_offered_of_what_is_not_a_regular_file)
{
	const char *m = "[[\"f\",\"a\",\"00000000000000000000000000000000\","
			"420,1]]";
	struct sync_scan *want = NULL;
	struct sync_recv *r = NULL;
	cJSON *need = NULL, *blocks;
	char ev[4096];
	int in, wd;

	ASSERT_INT_EQ(
	    system("rm -rf " DIR " && mkdir -p " DIR "/ws && mkfifo " DIR "/ws/a"), 0);
	recv_open(m, &want, &r, &need);
	in = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	ASSERT_TRUE(in >= 0);
	wd = inotify_add_watch(in, DIR "/ws/a", IN_OPEN);
	ASSERT_TRUE(wd >= 0);
	blocks = sync_recv_blocks(r, SIZE_MAX);
	ASSERT_INT_EQ(cJSON_GetArraySize(blocks), 0);
	ASSERT_INT_EQ((long long)read(in, ev, sizeof ev), -1);
	close(in);
	cJSON_Delete(blocks);
	recv_close(want, r, need);
	ASSERT_INT_EQ(system("rm -rf " DIR), 0);
}

/* ---- A host entry of another kind in the way (two-way) ------------------- */

/* The tar stream of one symlink path -> target. */
static void
tar_link(struct buf *tar, const char *path, const char *target)
{
	tar_write_header(tar, 'l', path, 0777, 0, 0, target);
}

/* The tar stream of one file whose content is its path. */
static void
tar_file(struct buf *tar, const char *path)
{
	size_t len = strlen(path);

	tar_write_header(tar, 'f', path, 0644, len, 0, NULL);
	buf_append(tar, path, len);
	buf_append(tar, (const unsigned char[TAR_BLOCK]){ 0 }, tar_pad_len(len));
}

/* One batch (nothing deleted) of manifest m (JSON text) with tar (its
 * entries, ended here), two-way when keep: the result (new), or NULL with
 * *cause (new). */
static cJSON *
sync_tar(const char *m, struct buf *tar, int keep, char **cause)
{
	struct sync_scan *want = NULL;
	struct sync_recv *r = NULL;
	cJSON *need = NULL, *res = NULL;

	recv_open(m, &want, &r, &need);
	sync_recv_partial(r, NULL, 0);
	if (keep)
		sync_recv_keep_host_changes(r);
	tar_write_end(tar);
	if (sync_recv_feed(r, buf_data(tar), buf_len(tar), cause) != 0 ||
	    sync_recv_finish(r, &res, cause) != 0)
		res = NULL;
	recv_close(want, r, need);
	buf_free(tar);
	return res;
}

/* sync_tar, which must succeed: its "hostChanged" count. */
static long long
sync_tar_ok(const char *m, struct buf *tar, int keep)
{
	char *cause = NULL;
	cJSON *res = sync_tar(m, tar, keep, &cause);
	const cJSON *changed;
	long long n;

	if (res == NULL)
		TEST_FAIL("stream: %s", cause);
	changed = cJSON_GetObjectItem(res, "hostChanged");
	n = cJSON_IsNumber(changed) ? (long long)changed->valuedouble
				    : 0; /* (absent: none) */
	cJSON_Delete(res);
	return n;
}

/* The file path (e its manifest entry) sent over what the host has there,
 * two-way when keep: the file is then in place with its bytes; returns the
 * "hostChanged" count. */
static long long
file_sent_over(const char *e, const char *path, int keep)
{
	char *m = xasprintf("[%s]", e);
	char *in_place =
	    xasprintf("test -f " DIR "/ws/%s && test \"$(cat " DIR "/ws/%s)\" = %s", path,
		path, path);
	struct buf *tar = buf_new();
	long long n;

	tar_file(tar, path);
	n = sync_tar_ok(m, tar, keep);
	ASSERT_INT_EQ(system(in_place), 0);
	free(in_place);
	free(m);
	return n;
}

/* How many conflict copies of path (under DIR/ws) there are. */
static int
conflicts_of(const char *path)
{
	char *cmd = xasprintf("exit $(ls -d " DIR "/ws/%s.rdev-conflict-* 2>/dev/null "
			      "| wc -l)",
	    path);
	int rc = system(cmd);

	free(cmd);
	return WEXITSTATUS(rc);
}

/* Data loss: a local symlink over a host file the index lacks, or holds
 * with other bytes (changed on the host since), keeps the host's as a
 * conflict file, reported; one still as synced is replaced, as is, one
 * way, a file the host made. */
TEST(two_way_keeps_a_host_file_a_symlink_replaces)
{
	char *a = entry("a"), *m;
	struct buf *tar;

	ASSERT_INT_EQ(
	    system("rm -rf " DIR " && mkdir -p " DIR "/ws && echo host >" DIR "/ws/s"),
	    0);
	tar = buf_new();
	tar_link(tar, "s", "target");
	ASSERT_INT_EQ(sync_tar_ok("[[\"l\",\"s\",\"target\"]]", tar, 1), 1);
	ASSERT_INT_EQ(system("test \"$(readlink " DIR "/ws/s)\" = target"), 0);
	ASSERT_INT_EQ(conflicts_of("s"), 1);
	ASSERT_INT_EQ(system("test \"$(cat " DIR "/ws/s.rdev-conflict-*)\" = host"), 0);

	/* A file a sync wrote, changed on the host since: kept, reported. */
	m = xasprintf("[%s]", a);
	sync_once(m, (const char *[]){ "a", NULL }, NULL);
	free(m);
	ASSERT_INT_EQ(system("echo host-a >" DIR "/ws/a"), 0);
	tar = buf_new();
	tar_link(tar, "a", "t");
	ASSERT_INT_EQ(sync_tar_ok("[[\"l\",\"a\",\"t\"]]", tar, 1), 1);
	ASSERT_INT_EQ(system("test \"$(readlink " DIR "/ws/a)\" = t"), 0);
	ASSERT_INT_EQ(system("test \"$(cat " DIR "/ws/a.rdev-conflict-*)\" = host-a"), 0);

	/* As synced: replaced, nothing kept. */
	ASSERT_INT_EQ(system("rm -rf " DIR " && mkdir -p " DIR), 0);
	m = xasprintf("[%s]", a);
	sync_once(m, (const char *[]){ "a", NULL }, NULL);
	free(m);
	tar = buf_new();
	tar_link(tar, "a", "t");
	ASSERT_INT_EQ(sync_tar_ok("[[\"l\",\"a\",\"t\"]]", tar, 1), 0);
	ASSERT_INT_EQ(system("test \"$(readlink " DIR "/ws/a)\" = t"), 0);
	ASSERT_INT_EQ(conflicts_of("a"), 0);

	/* One way: a file the host made is replaced, as before. */
	ASSERT_INT_EQ(system("echo host >" DIR "/ws/s"), 0);
	tar = buf_new();
	tar_link(tar, "s", "target");
	ASSERT_INT_EQ(sync_tar_ok("[[\"l\",\"s\",\"target\"]]", tar, 0), 0);
	ASSERT_INT_EQ(system("test \"$(readlink " DIR "/ws/s)\" = target"), 0);
	ASSERT_INT_EQ(conflicts_of("s"), 0);
	free(a);
	ASSERT_INT_EQ(system("rm -rf " DIR), 0);
}

/* Data loss: a local folder where the host made a file keeps the host's
 * file as a conflict file; the folder and what comes in it are made. */
TEST(two_way_keeps_a_host_file_a_folder_replaces)
{
	char *x = entry("d/x"), *m;
	struct buf *tar = buf_new();

	ASSERT_INT_EQ(
	    system("rm -rf " DIR " && mkdir -p " DIR "/ws && echo host >" DIR "/ws/d"),
	    0);
	m = xasprintf("[[\"d\",\"d\",493],[\"d\",\"d/e\",493],%s]", x);
	tar_file(tar, "d/x");
	ASSERT_INT_EQ(sync_tar_ok(m, tar, 1), 1);
	ASSERT_INT_EQ(system("test -d " DIR "/ws/d/e"), 0);
	ASSERT_INT_EQ(system("test \"$(cat " DIR "/ws/d/x)\" = d/x"), 0);
	ASSERT_INT_EQ(conflicts_of("d"), 1);
	ASSERT_INT_EQ(system("test \"$(cat " DIR "/ws/d.rdev-conflict-*)\" = host"), 0);
	free(m);
	free(x);
	ASSERT_INT_EQ(system("rm -rf " DIR), 0);
}

/* Data loss: a local file (or symlink) where the host has a folder holding
 * what the index lacks (made there) keeps the folder, moved to its
 * conflict name; a folder holding only what a sync wrote is replaced. */
TEST(two_way_keeps_a_host_folder_a_file_replaces)
{
	char *h = entry("h"), *hx = entry("h/x"), *m;
	struct buf *tar;

	ASSERT_INT_EQ(system("rm -rf " DIR " && mkdir -p " DIR
			     "/ws/h/sub && echo host >" DIR "/ws/h/sub/made"),
	    0);
	ASSERT_INT_EQ(file_sent_over(h, "h", 1), 1);
	ASSERT_INT_EQ(conflicts_of("h"), 1);
	ASSERT_INT_EQ(
	    system("test \"$(cat " DIR "/ws/h.rdev-conflict-*/sub/made)\" = host"), 0);

	/* A symlink over a folder a sync made, where the host made a file. */
	ASSERT_INT_EQ(system("rm -rf " DIR " && mkdir -p " DIR), 0);
	m = xasprintf("[[\"d\",\"h\",493],%s]", hx);
	sync_once(m, (const char *[]){ "h/x", NULL }, NULL);
	free(m);
	ASSERT_INT_EQ(system("echo host >" DIR "/ws/h/made"), 0);
	tar = buf_new();
	tar_link(tar, "h", "t");
	ASSERT_INT_EQ(sync_tar_ok("[[\"l\",\"h\",\"t\"]]", tar, 1), 1);
	ASSERT_INT_EQ(system("test \"$(readlink " DIR "/ws/h)\" = t"), 0);
	ASSERT_INT_EQ(
	    system("test \"$(cat " DIR "/ws/h.rdev-conflict-*/made)\" = host"), 0);
	ASSERT_INT_EQ(system("test \"$(cat " DIR "/ws/h.rdev-conflict-*/x)\" = h/x"), 0);

	/* A folder as a sync made it: replaced, nothing kept. */
	ASSERT_INT_EQ(system("rm -rf " DIR " && mkdir -p " DIR), 0);
	m = xasprintf("[[\"d\",\"h\",493],%s]", hx);
	sync_once(m, (const char *[]){ "h/x", NULL }, NULL);
	free(m);
	ASSERT_INT_EQ(file_sent_over(h, "h", 1), 0);
	ASSERT_INT_EQ(conflicts_of("h"), 0);
	free(h);
	free(hx);
	ASSERT_INT_EQ(system("rm -rf " DIR), 0);
}

/* The host's folder moved aside, then the file that was to replace it
 * cannot be put in place (its temporary file gone): the folder goes back
 * where it was, and the error names the entry. */
TEST(a_host_folder_moved_aside_goes_back_when_the_file_fails)
{
	char *h = entry("h"), *m = xasprintf("[%s]", h), *cause = NULL;
	struct sync_scan *want = NULL;
	struct sync_recv *r = NULL;
	struct buf *tar = buf_new();
	cJSON *need = NULL;
	int rc;

	ASSERT_INT_EQ(system("rm -rf " DIR " && mkdir -p " DIR "/ws/h && echo host >" DIR
			     "/ws/h/made"),
	    0);
	recv_open(m, &want, &r, &need);
	sync_recv_keep_host_changes(r);
	tar_file(tar, "h");
	tar_write_end(tar);
	/* (the header: the temporary file is made; removed before the end) */
	ASSERT_INT_EQ(sync_recv_feed(r, buf_data(tar), TAR_BLOCK, &cause), 0);
	ASSERT_INT_EQ(system("rm " DIR "/ws/.rdev-sync-*"), 0);
	rc = sync_recv_feed(
	    r, (const char *)buf_data(tar) + TAR_BLOCK, buf_len(tar) - TAR_BLOCK, &cause);
	ASSERT_INT_EQ(rc, -1);
	ASSERT_STR_CONTAINS(cause, "'h'");
	ASSERT_INT_EQ(system("test \"$(cat " DIR "/ws/h/made)\" = host"), 0);
	ASSERT_INT_EQ(conflicts_of("h"), 0);
	free(cause);
	recv_close(want, r, need);
	buf_free(tar);
	free(m);
	free(h);
	ASSERT_INT_EQ(system("rm -rf " DIR), 0);
}

/* A host file that can be neither linked nor moved (immutable): the
 * entry fails, naming it, and nothing replaces the host's file. */
TEST(a_host_file_that_cannot_be_kept_is_not_replaced)
{
	struct buf *tar = buf_new();
	char *cause = NULL;
	cJSON *res;

	ASSERT_INT_EQ(
	    system("rm -rf " DIR " && mkdir -p " DIR "/ws && echo host >" DIR "/ws/s"),
	    0);
	if (system("chattr +i " DIR "/ws/s 2>/dev/null") != 0) {
		printf("  (chattr +i refused here: skipped)\n");
		buf_free(tar);
		return;
	}
	tar_link(tar, "s", "target");
	res = sync_tar("[[\"l\",\"s\",\"target\"]]", tar, 1, &cause);
	ASSERT_INT_EQ(system("chattr -i " DIR "/ws/s"), 0);
	ASSERT_NULL(res);
	/* (no stamp: the same message at each try, told once) */
	ASSERT_STR_CONTAINS(
	    cause, "'s': keeping the host's version as s.rdev-conflict-*: ");
	ASSERT_INT_EQ(
	    system("test -f " DIR "/ws/s && test \"$(cat " DIR "/ws/s)\" = host"), 0);
	ASSERT_INT_EQ(conflicts_of("s"), 0);
	free(cause);
	ASSERT_INT_EQ(system("rm -rf " DIR), 0);
}

/* With entry errors (the sender asked, "entryErrors"), a host file that
 * can be neither linked nor moved (immutable) fails alone: the batch's
 * other file lands, the blocked one is named with its reason in "failed",
 * the host's version stays as it was, and the index does not take it (so
 * the next batch that sends it finds it needed again). */
TEST(a_host_file_that_cannot_be_kept_fails_alone)
{
	char *a = entry("a"), *s = entry("s"), *z = entry("z"), *cause = NULL;
	char *m = xasprintf("[%s,%s,%s]", a, s, z);
	struct sync_scan *want = NULL, *idx = NULL;
	struct sync_recv *r = NULL;
	struct buf *tar = buf_new();
	cJSON *need = NULL, *res = NULL, *f;
	struct sync_index ix;

	ASSERT_INT_EQ(
	    system("rm -rf " DIR " && mkdir -p " DIR "/ws && echo host >" DIR "/ws/s"),
	    0);
	if (system("chattr +i " DIR "/ws/s 2>/dev/null") != 0) {
		printf("  (chattr +i refused here: skipped)\n");
		buf_free(tar);
		free(m);
		free(a);
		free(s);
		free(z);
		return;
	}
	recv_open(m, &want, &r, &need);
	sync_recv_partial(r, NULL, 0);
	sync_recv_keep_host_changes(r);
	sync_recv_entry_errors(r);
	ASSERT_INT_EQ(cJSON_GetArraySize(need), 3);
	tar_file(tar, "a");
	tar_file(tar, "s");
	tar_file(tar, "z");
	tar_write_end(tar);
	if (sync_recv_feed(r, buf_data(tar), buf_len(tar), &cause) != 0 ||
	    sync_recv_finish(r, &res, &cause) != 0) {
		ASSERT_INT_EQ(system("chattr -i " DIR "/ws/s"), 0);
		TEST_FAIL("the stream failed: %s", cause);
	}
	recv_close(want, r, need);
	buf_free(tar);
	ASSERT_INT_EQ(system("chattr -i " DIR "/ws/s"), 0);
	ASSERT_INT_EQ(system("test \"$(cat " DIR "/ws/a)\" = a"), 0);
	ASSERT_INT_EQ(system("test \"$(cat " DIR "/ws/z)\" = z"), 0);
	ASSERT_INT_EQ(system("test \"$(cat " DIR "/ws/s)\" = host"), 0);
	ASSERT_INT_EQ(conflicts_of("s"), 0);
	ASSERT_INT_EQ(system("ls -a " DIR "/ws | grep -q rdev-sync"), 256);
	ASSERT_INT_EQ((int)cJSON_GetNumberValue(cJSON_GetObjectItem(res, "received")), 2);
	ASSERT_INT_EQ(
	    (int)cJSON_GetNumberValue(cJSON_GetObjectItem(res, "failedCount")), 1);
	ASSERT_INT_EQ((int)cJSON_GetNumberValue(cJSON_GetObjectItem(res, "missing")), 0);
	f = cJSON_GetArrayItem(cJSON_GetObjectItem(res, "failed"), 0);
	ASSERT_STR_EQ(cJSON_GetStringValue(cJSON_GetObjectItem(f, "path")), "s");
	ASSERT_STR_CONTAINS(cJSON_GetStringValue(cJSON_GetObjectItem(f, "error")),
	    "'s': keeping the host's version as s.rdev-conflict-");
	ASSERT_NULL(cJSON_GetObjectItem(res, "hostChanged"));
	sync_index_load(DIR "/index.json", &ix, &idx);
	ASSERT_NOT_NULL(sync_scan_find(idx, "a"));
	ASSERT_NOT_NULL(sync_scan_find(idx, "z"));
	ASSERT_NULL(sync_scan_find(idx, "s"));
	sync_scan_free(idx);
	cJSON_Delete(res);
	free(m);
	free(a);
	free(s);
	free(z);
	ASSERT_INT_EQ(system("rm -rf " DIR), 0);
}

/* One way too, a local file over a host folder a sync made that holds a
 * file kept aside (the client leaves it out) keeps the folder. */
TEST(a_folder_holding_a_file_kept_aside_is_kept_one_way)
{
	char *sub = entry("sub"), *m;
	struct buf *tar = buf_new();

	ASSERT_INT_EQ(system("rm -rf " DIR " && mkdir -p " DIR
			     "/ws/sub && echo host >" DIR "/ws/sub/x"),
	    0);
	pull_and_keep_aside("[]");
	m = xasprintf("[%s]", sub);
	tar_file(tar, "sub");
	ASSERT_INT_EQ(sync_tar_ok(m, tar, 0), 1);
	ASSERT_INT_EQ(system("test \"$(cat " DIR "/ws/sub)\" = sub"), 0);
	ASSERT_INT_EQ(
	    system("test \"$(cat " DIR "/ws/sub.rdev-conflict-*/x)\" = host"), 0);
	free(m);
	free(sub);
	ASSERT_INT_EQ(system("rm -rf " DIR), 0);
}

/* Data loss: a symlink the host made (the index lacks it) where a local
 * file, symlink or folder comes is kept two-way as its conflict name:
 * moved, never followed (what it points at is untouched); reported, and
 * brought back by the next pull. One way it is replaced, as before. */
TEST(two_way_keeps_a_host_symlink_in_the_way)
{
	char *dx = entry("d/x"), *f = entry("f"), *m, *cause = NULL, *got;
	struct buf *tar = buf_new();
	cJSON *res = NULL;

	ASSERT_INT_EQ(system("rm -rf " DIR " && mkdir -p " DIR "/ws " DIR
			     "/out && echo out >" DIR "/out/o && cd " DIR
			     "/ws && ln -s ../out d && ln -s ../out f && ln -s ../out l"),
	    0);
	m = xasprintf("[[\"d\",\"d\",493],%s,%s,[\"l\",\"l\",\"t\"]]", dx, f);
	tar_file(tar, "d/x");
	tar_file(tar, "f");
	tar_link(tar, "l", "t");
	ASSERT_INT_EQ(sync_tar_ok(m, tar, 1), 3);
	ASSERT_INT_EQ(system("test -d " DIR "/ws/d && ! test -L " DIR "/ws/d"), 0);
	ASSERT_INT_EQ(system("test \"$(cat " DIR "/ws/d/x)\" = d/x"), 0);
	ASSERT_INT_EQ(
	    system("! test -L " DIR "/ws/f && test \"$(cat " DIR "/ws/f)\" = f"), 0);
	ASSERT_INT_EQ(system("test \"$(readlink " DIR "/ws/l)\" = t"), 0);
	ASSERT_INT_EQ(system("cd " DIR "/ws && for n in d f l; do test \"$(readlink "
			     "$n.rdev-conflict-*)\" = ../out || exit 1; done"),
	    0);
	/* (never followed: nothing written or removed where they point) */
	ASSERT_INT_EQ(system("test \"$(ls " DIR "/out)\" = o && test \"$(cat " DIR
			     "/out/o)\" = out"),
	    0);
	/* Brought back: the next pull reports the three as new. */
	ASSERT_INT_EQ(
	    sync_pull_changes(DIR "/ws", DIR "/index.json", 0, NULL, NULL, &res, &cause),
	    0);
	got = pulled(res, "put");
	ASSERT_STR_CONTAINS(got, "d.rdev-conflict-");
	ASSERT_STR_CONTAINS(got, "f.rdev-conflict-");
	ASSERT_STR_CONTAINS(got, "l.rdev-conflict-");
	free(got);
	cJSON_Delete(res);

	/* One way: a symlink the host made is replaced, nothing kept. */
	ASSERT_INT_EQ(
	    system("rm -rf " DIR " && mkdir -p " DIR "/ws && ln -s ../out " DIR "/ws/f"),
	    0);
	free(m);
	ASSERT_INT_EQ(file_sent_over(f, "f", 0), 0);
	ASSERT_INT_EQ(conflicts_of("f"), 0);
	free(dx);
	free(f);
	ASSERT_INT_EQ(system("rm -rf " DIR), 0);
}

/* A symlink a sync wrote, changed on the host since: kept two-way and
 * reported; one way replaced and reported; one as synced is replaced,
 * nothing kept or reported. */
TEST(a_host_symlink_changed_since_the_sync_is_kept_two_way)
{
	struct buf *tar;

	for (int keep = 0; keep < 2; keep++) {
		ASSERT_INT_EQ(system("rm -rf " DIR " && mkdir -p " DIR), 0);
		tar = buf_new();
		tar_link(tar, "l", "t0");
		ASSERT_INT_EQ(sync_tar_ok("[[\"l\",\"l\",\"t0\"]]", tar, keep), 0);
		ASSERT_INT_EQ(system("ln -sfn other " DIR "/ws/l"), 0);
		tar = buf_new();
		tar_link(tar, "l", "t1");
		ASSERT_INT_EQ(sync_tar_ok("[[\"l\",\"l\",\"t1\"]]", tar, keep), 1);
		ASSERT_INT_EQ(system("test \"$(readlink " DIR "/ws/l)\" = t1"), 0);
		ASSERT_INT_EQ(conflicts_of("l"), keep);
		if (keep)
			ASSERT_INT_EQ(system("test \"$(readlink " DIR
					     "/ws/l.rdev-conflict-*)\" = other"),
			    0);
		/* As synced (t1): replaced, nothing kept. */
		tar = buf_new();
		tar_link(tar, "l", "t2");
		ASSERT_INT_EQ(sync_tar_ok("[[\"l\",\"l\",\"t2\"]]", tar, keep), 0);
		ASSERT_INT_EQ(system("test \"$(readlink " DIR "/ws/l)\" = t2"), 0);
		ASSERT_INT_EQ(conflicts_of("l"), keep);
	}
	ASSERT_INT_EQ(system("rm -rf " DIR), 0);
}

/* Data loss: one way too, a local file or symlink where the host has a
 * folder holding what the index lacks (made there) moves the folder whole
 * to its conflict name, reported by path; also when what it holds cannot
 * be deleted (an immutable file here, root's files made in the container
 * there: every batch failed with "Is a directory"). A folder holding only
 * what a sync wrote, or nothing, is replaced. */
TEST(one_way_keeps_a_host_folder_a_file_replaces)
{
	char *gen = entry("gen"), *h = entry("h"), *hx = entry("h/x"), *m, *cause = NULL,
	     *got;
	struct buf *tar = buf_new();
	int immutable;
	cJSON *res;

	ASSERT_INT_EQ(system("rm -rf " DIR " && mkdir -p " DIR
			     "/ws/gen && echo host >" DIR "/ws/gen/made"),
	    0);
	immutable = system("chattr +i " DIR "/ws/gen/made 2>/dev/null") == 0;
	m = xasprintf("[%s]", gen);
	tar_file(tar, "gen");
	res = sync_tar(m, tar, 0, &cause);
	if (immutable)
		ASSERT_INT_EQ(system("chattr -i " DIR "/ws/gen*/made"), 0);
	if (res == NULL)
		TEST_FAIL("stream: %s", cause);
	ASSERT_INT_EQ(
	    (long long)cJSON_GetNumberValue(cJSON_GetObjectItem(res, "hostChanged")), 1);
	got = pulled(res, "hostChangedPaths");
	ASSERT_STR_EQ(got, "gen");
	free(got);
	cJSON_Delete(res);
	ASSERT_INT_EQ(
	    system("test -f " DIR "/ws/gen && test \"$(cat " DIR "/ws/gen)\" = gen"), 0);
	ASSERT_INT_EQ(
	    system("test \"$(cat " DIR "/ws/gen.rdev-conflict-*/made)\" = host"), 0);
	free(m);

	/* A symlink over a folder a sync made, where the host made a file. */
	ASSERT_INT_EQ(system("rm -rf " DIR " && mkdir -p " DIR), 0);
	m = xasprintf("[[\"d\",\"h\",493],%s]", hx);
	sync_once(m, (const char *[]){ "h/x", NULL }, NULL);
	free(m);
	ASSERT_INT_EQ(system("echo host >" DIR "/ws/h/made"), 0);
	tar = buf_new();
	tar_link(tar, "h", "t");
	ASSERT_INT_EQ(sync_tar_ok("[[\"l\",\"h\",\"t\"]]", tar, 0), 1);
	ASSERT_INT_EQ(system("test \"$(readlink " DIR "/ws/h)\" = t"), 0);
	ASSERT_INT_EQ(
	    system("test \"$(cat " DIR "/ws/h.rdev-conflict-*/made)\" = host"), 0);

	/* A folder as a sync made it, and an empty one: replaced. */
	ASSERT_INT_EQ(system("rm -rf " DIR " && mkdir -p " DIR), 0);
	m = xasprintf("[[\"d\",\"h\",493],%s]", hx);
	sync_once(m, (const char *[]){ "h/x", NULL }, NULL);
	free(m);
	ASSERT_INT_EQ(system("mkdir " DIR "/ws/gen"), 0);
	m = xasprintf("[%s,%s]", gen, h);
	tar = buf_new();
	tar_file(tar, "gen");
	tar_file(tar, "h");
	ASSERT_INT_EQ(sync_tar_ok(m, tar, 0), 0);
	ASSERT_INT_EQ(system("test \"$(cat " DIR "/ws/h)\" = h && test \"$(cat " DIR
			     "/ws/gen)\" = gen"),
	    0);
	ASSERT_INT_EQ(conflicts_of("h") + conflicts_of("gen"), 0);
	free(m);
	free(gen);
	free(h);
	free(hx);
	ASSERT_INT_EQ(system("rm -rf " DIR), 0);
}

/* ---- One way: what the client deleted and the host changed ---------------- */

/* A number member of a sync result (0 when absent). */
static long long
result_number(const cJSON *res, const char *name)
{
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(res, name);

	return cJSON_IsNumber(n) ? (long long)n->valuedouble : 0;
}

/* Two-way, each host version kept under a conflict name is named in the
 * result's "keptAs" as {"path","as"} (the name it has there, in path
 * order) and counted in "keptAsCount", beside "hostChanged": the sender
 * tells them as conflicts. One way, a file replaced is named in
 * "hostChanged" only. */
TEST(two_way_names_the_conflict_names_it_kept)
{
	char *a = entry("a"), *h = entry("h"), *m, *cmd;
	const cJSON *k;
	cJSON *res;

	ASSERT_INT_EQ(system("rm -rf " DIR " && mkdir -p " DIR), 0);
	m = xasprintf("[%s]", a);
	sync_once(m, (const char *[]){ "a", NULL }, NULL);
	free(m);
	ASSERT_INT_EQ(system("echo host >" DIR "/ws/a && mkdir -p " DIR
			     "/ws/h && echo made >" DIR "/ws/h/made"),
	    0);
	m = xasprintf("[%s,%s]", a, h);
	res = sync_once_result(
	    m, (const char *[]){ "a", "h", NULL }, (const char *[]){ NULL }, 1);
	ASSERT_INT_EQ(result_number(res, "hostChanged"), 2);
	ASSERT_INT_EQ(result_number(res, "keptAsCount"), 2);
	k = cJSON_GetObjectItemCaseSensitive(res, "keptAs");
	ASSERT_INT_EQ(cJSON_GetArraySize(k), 2);
	ASSERT_STR_EQ(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
			  cJSON_GetArrayItem(k, 0), "path")),
	    "a");
	ASSERT_STR_EQ(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
			  cJSON_GetArrayItem(k, 1), "path")),
	    "h");
	/* (the names are the host's versions' now) */
	cmd = xasprintf("test \"$(cat " DIR "/ws/%s)\" = host",
	    cJSON_GetStringValue(
		cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(k, 0), "as")));
	ASSERT_INT_EQ(system(cmd), 0);
	free(cmd);
	cmd = xasprintf("test \"$(cat " DIR "/ws/%s/made)\" = made",
	    cJSON_GetStringValue(
		cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(k, 1), "as")));
	ASSERT_INT_EQ(system(cmd), 0);
	free(cmd);
	cJSON_Delete(res);

	/* One way: the file is replaced, named in hostChanged only. */
	ASSERT_INT_EQ(system("echo host2 >" DIR "/ws/a"), 0);
	res = sync_once_result(
	    m, (const char *[]){ "a", NULL }, (const char *[]){ NULL }, 0);
	ASSERT_INT_EQ(result_number(res, "hostChanged"), 1);
	ASSERT_NULL(cJSON_GetObjectItemCaseSensitive(res, "keptAs"));
	ASSERT_INT_EQ(result_number(res, "keptAsCount"), 0);
	cJSON_Delete(res);
	free(m);
	free(a);
	free(h);
	ASSERT_INT_EQ(system("rm -rf " DIR), 0);
}

/* The host file at path is kept aside (DIR/index.json.aside) with the
 * stat and hash it has on disk. */
static void
kept_aside_as_on_disk(const char *path)
{
	struct sync_scan *aside = sync_aside_load(DIR "/index.json", NULL);
	const struct sync_entry *e = sync_scan_find(aside, path);
	char *on_disk = xasprintf(DIR "/ws/%s", path), hex[SYNC_HASH_HEX + 1];
	struct stat sb;
	int fd = open(on_disk, O_RDONLY);

	ASSERT_TRUE(e != NULL && e->type == 'f');
	ASSERT_INT_EQ(fd >= 0 && fstat(fd, &sb) == 0 && sync_hash_fd(fd, hex) == 0, 1);
	close(fd);
	ASSERT_STR_EQ(e->hash, hex);
	ASSERT_INT_EQ(e->size, sb.st_size);
	ASSERT_INT_EQ(e->mtime_ns, sync_time_ns(&sb.st_mtim));
	ASSERT_INT_EQ(e->ino, sb.st_ino);
	ASSERT_INT_EQ(e->mode, sb.st_mode & 0777);
	free(on_disk);
	sync_scan_free(aside);
}

/* One way, with a synced and no longer kept aside (its kept version the
 * one conflict file there): the client deletes a (deleted on the host, as
 * synced), the container makes a as build output, and the client's a
 * again (manifest m) replaces it as build output, with no false conflict:
 * no second conflict file, nothing in "hostChanged". */
static void
build_output_replaced_at_a(const char *m)
{
	cJSON *res = sync_once_result("[]", NULL, (const char *[]){ "a", NULL }, 0);

	ASSERT_INT_EQ(result_number(res, "deleted"), 1);
	cJSON_Delete(res);
	ASSERT_INT_EQ(system("echo build >" DIR "/ws/a"), 0);
	res = sync_once_result(m, (const char *[]){ "a", NULL }, NULL, 0);
	ASSERT_INT_EQ(system("test \"$(cat " DIR "/ws/a)\" = a"), 0);
	ASSERT_INT_EQ(system("test $(ls " DIR "/ws | grep -c rdev-conflict) = 1"), 0);
	ASSERT_INT_EQ(result_number(res, "hostChanged"), 0);
	cJSON_Delete(res);
}

/* A file, a symlink and a folder a sync wrote, changed on the host since
 * (the folder holds a file the host made), then deleted by the client:
 * one way, they stay on the host, named in "hostKept", and leave the index,
 * so that a later batch neither deletes nor reports them again. What was
 * still as synced goes, as before. Folders kept only because a changed file
 * under them is (e, e/s: e/s/y) are not named: the file is. */
TEST(one_way_keeps_what_the_host_changed_and_the_client_deleted)
{
	char *a = entry("a"), *b = entry("d/b"), *u = entry("u"), *m, *got;
	char *y = entry("e/s/y"), *x = entry("e/x");
	const char *const del[] = { "a", "d", "e", "ln", "u", NULL };
	struct buf *tar = buf_new();
	struct sync_scan *idx;
	struct sync_index ix;
	cJSON *res;

	ASSERT_INT_EQ(system("rm -rf " DIR " && mkdir -p " DIR), 0);
	m = xasprintf("[%s,[\"d\",\"d\",493],%s,[\"d\",\"e\",493],"
		      "[\"d\",\"e/s\",493],%s,%s,[\"l\",\"ln\",\"t\"],%s]",
	    a, b, y, x, u);
	tar_file(tar, "a");
	tar_file(tar, "d/b");
	tar_file(tar, "e/s/y");
	tar_file(tar, "e/x");
	tar_link(tar, "ln", "t");
	tar_file(tar, "u");
	ASSERT_INT_EQ(sync_tar_ok(m, tar, 0), 0);
	free(m);
	ASSERT_INT_EQ(system("cd " DIR "/ws && echo host >a && ln -sfn other ln && "
			     "echo made >d/made && echo host >e/s/y"),
	    0);

	res = sync_once_result("[]", NULL, del, 0);
	ASSERT_INT_EQ(system("test \"$(cat " DIR "/ws/a)\" = host"), 0);
	ASSERT_INT_EQ(system("test \"$(readlink " DIR "/ws/ln)\" = other"), 0);
	ASSERT_INT_EQ(system("test \"$(cat " DIR "/ws/d/made)\" = made"), 0);
	ASSERT_INT_NE(access(DIR "/ws/d/b", F_OK), 0); /* as synced: deleted */
	ASSERT_INT_NE(access(DIR "/ws/u", F_OK), 0);
	ASSERT_INT_NE(access(DIR "/ws/e/x", F_OK), 0);
	ASSERT_INT_EQ(system("test \"$(cat " DIR "/ws/e/s/y)\" = host"), 0);
	ASSERT_INT_EQ(result_number(res, "deleted"), 3);
	ASSERT_INT_EQ(result_number(res, "hostKept"), 4);
	got = pulled(res, "hostKeptPaths");
	ASSERT_STR_EQ(got, "a d e/s/y ln");
	free(got);
	ASSERT_INT_EQ(result_number(res, "hostChanged"), 0);
	cJSON_Delete(res);
	/* (e/s/y, of the same size: kept aside with the stat and hash read
	 * to find it changed; a, of another size: read to be kept) */
	kept_aside_as_on_disk("a");
	kept_aside_as_on_disk("e/s/y");
	ASSERT_INT_EQ(sync_index_load(DIR "/index.json", &ix, &idx), 0);
	ASSERT_INT_EQ(idx->n, 0);
	sync_scan_free(idx);

	/* Deleted again (a whole sync would do the same): host-made now. */
	res = sync_once_result("[]", NULL, del, 0);
	ASSERT_INT_EQ(system("test \"$(cat " DIR "/ws/a)\" = host"), 0);
	ASSERT_INT_EQ(system("test \"$(readlink " DIR "/ws/ln)\" = other"), 0);
	ASSERT_INT_EQ(result_number(res, "deleted"), 0);
	ASSERT_INT_EQ(result_number(res, "hostKept"), 0);
	ASSERT_INT_EQ(cJSON_GetObjectItemCaseSensitive(res, "hostKeptPaths") == NULL, 1);
	cJSON_Delete(res);

	/* The client's a again (git checkout back): the host's kept version
	 * is not replaced as build output would be: kept as its conflict name
	 * and named in "hostChanged" (it was kept aside). */
	m = xasprintf("[%s]", a);
	res = sync_once_result(m, (const char *[]){ "a", NULL }, NULL, 0);
	free(m);
	ASSERT_INT_EQ(system("test \"$(cat " DIR "/ws/a)\" = a"), 0);
	ASSERT_INT_EQ(system("test \"$(cat " DIR "/ws/a.rdev-conflict-*)\" = host"), 0);
	ASSERT_INT_EQ(result_number(res, "hostChanged"), 1);
	got = pulled(res, "hostChangedPaths");
	ASSERT_STR_EQ(got, "a");
	free(got);
	cJSON_Delete(res);

	/* Synced now, a is no longer kept aside: build output made there
	 * later is replaced with no false conflict. */
	m = xasprintf("[%s]", a);
	build_output_replaced_at_a(m);
	free(m);
	free(a);
	free(b);
	free(u);
	free(x);
	free(y);
	ASSERT_INT_EQ(system("rm -rf " DIR), 0);
}

/* More kept than are named (25: f00..f24): "hostKeptPaths" names the
 * first 20 (the agent's SYNC_RECV_REPORT_MAX) in path order, not the last
 * (the deletion walks in reverse path order). */
TEST(one_way_names_the_first_kept_in_path_order)
{
	char *m = xstrdup("["), *e, *next, *got, *want = xstrdup("");
	const char *names[26];
	char name[26][4];
	cJSON *res;

	ASSERT_INT_EQ(system("rm -rf " DIR " && mkdir -p " DIR), 0);
	for (int i = 0; i < 25; i++) {
		snprintf(name[i], sizeof name[i], "f%02d", i);
		names[i] = name[i];
		e = entry(name[i]);
		next = xasprintf("%s%s%s", m, i > 0 ? "," : "", e);
		free(m);
		free(e);
		m = next;
		if (i < 20) {
			next = xasprintf("%s%s%s", want, i > 0 ? " " : "", name[i]);
			free(want);
			want = next;
		}
	}
	names[25] = NULL;
	next = xasprintf("%s]", m);
	free(m);
	m = next;
	sync_once(m, names, NULL);
	ASSERT_INT_EQ(system("cd " DIR "/ws && for f in f*; do echo host >$f; done"), 0);

	res = sync_once_result("[]", NULL, names, 0);
	ASSERT_INT_EQ(result_number(res, "hostKept"), 25);
	got = pulled(res, "hostKeptPaths");
	ASSERT_STR_EQ(got, want);
	ASSERT_INT_EQ(system("test \"$(cat " DIR "/ws/f24)\" = host"), 0);
	free(got);
	free(want);
	free(m);
	cJSON_Delete(res);
	ASSERT_INT_EQ(system("rm -rf " DIR), 0);
}

/* One way, a kept file (aside) that a local symlink replaced (the kept
 * file saved as its conflict name): the symlink leaves the aside too, so
 * build output made at that path after the symlink is deleted is replaced
 * by the client's file with no false conflict. */
TEST(one_way_a_symlink_over_a_kept_file_clears_the_aside)
{
	char *a = entry("a"), *m;
	struct buf *tar = buf_new();
	cJSON *res;

	ASSERT_INT_EQ(system("rm -rf " DIR " && mkdir -p " DIR), 0);
	m = xasprintf("[%s]", a);
	sync_once(m, (const char *[]){ "a", NULL }, NULL);
	ASSERT_INT_EQ(system("echo host >" DIR "/ws/a"), 0);
	res = sync_once_result("[]", NULL, (const char *[]){ "a", NULL }, 0);
	ASSERT_INT_EQ(result_number(res, "hostKept"), 1);
	cJSON_Delete(res);
	tar_link(tar, "a", "t");
	ASSERT_INT_EQ(sync_tar_ok("[[\"l\",\"a\",\"t\"]]", tar, 0), 1);
	ASSERT_INT_EQ(system("test \"$(readlink " DIR "/ws/a)\" = t"), 0);
	build_output_replaced_at_a(m);
	free(m);
	free(a);
	ASSERT_INT_EQ(system("rm -rf " DIR), 0);
}

/* One way, a kept file (aside) the host then deleted: the client's file
 * sent there (nothing in its way, the aside not asked about) leaves the
 * aside all the same; a batch that touches no path of the aside leaves
 * it as it is. */
TEST(one_way_a_file_put_where_a_kept_one_was_leaves_the_aside)
{
	char *a = entry("a"), *b = entry("b"), *m = xasprintf("[%s,%s]", a, b);
	struct sync_scan *aside;
	cJSON *res;

	ASSERT_INT_EQ(system("rm -rf " DIR " && mkdir -p " DIR), 0);
	sync_once(m, (const char *[]){ "a", "b", NULL }, NULL);
	ASSERT_INT_EQ(system("echo host >" DIR "/ws/a && echo host >" DIR "/ws/b"), 0);
	res = sync_once_result("[]", NULL, (const char *[]){ "a", "b", NULL }, 0);
	ASSERT_INT_EQ(result_number(res, "hostKept"), 2);
	cJSON_Delete(res);
	kept_aside_as_on_disk("b");
	free(m);
	m = xasprintf("[%s]", b);
	ASSERT_INT_EQ(system("rm " DIR "/ws/b"), 0);
	sync_once(m, (const char *[]){ "b", NULL }, NULL);
	ASSERT_INT_EQ(system("test \"$(cat " DIR "/ws/b)\" = b"), 0);
	aside = sync_aside_load(DIR "/index.json", NULL);
	ASSERT_NULL(sync_scan_find(aside, "b"));
	ASSERT_TRUE(sync_scan_find(aside, "a") != NULL);
	sync_scan_free(aside);
	/* (b synced again: the aside as it was) */
	free(m);
	m = xasprintf("[%s]", b);
	sync_once(m, NULL, NULL);
	kept_aside_as_on_disk("a");
	free(m);
	free(a);
	free(b);
	ASSERT_INT_EQ(system("rm -rf " DIR), 0);
}

/* A file the host left as synced is deleted, one way or two, also when
 * only its mtime changed (hashed: the same bytes); two-way, a changed one
 * is kept but not named in "hostKept" (the next pull brings it back). */
TEST(what_the_host_left_as_synced_is_deleted)
{
	char *a = entry("a"), *b = entry("b"), *c = entry("c"), *m;
	cJSON *res;

	for (int keep = 0; keep <= 1; keep++) {
		ASSERT_INT_EQ(system("rm -rf " DIR " && mkdir -p " DIR), 0);
		m = xasprintf("[%s,%s,%s]", a, b, c);
		sync_once(m, (const char *[]){ "a", "b", "c", NULL }, NULL);
		free(m);
		ASSERT_INT_EQ(system("cd " DIR "/ws && touch -d 2001-01-01 b && "
				     "echo host >c"),
		    0);
		res = sync_once_result(
		    "[]", NULL, (const char *[]){ "a", "b", "c", NULL }, keep);
		ASSERT_INT_NE(access(DIR "/ws/a", F_OK), 0);
		ASSERT_INT_NE(access(DIR "/ws/b", F_OK), 0);
		ASSERT_INT_EQ(system("test \"$(cat " DIR "/ws/c)\" = host"), 0);
		ASSERT_INT_EQ(result_number(res, "deleted"), 2);
		ASSERT_INT_EQ(result_number(res, "hostKept"), keep ? 0 : 1);
		cJSON_Delete(res);
	}
	free(a);
	free(b);
	free(c);
	ASSERT_INT_EQ(system("rm -rf " DIR), 0);
}

/* With entry errors, a deletion that cannot land (the host refuses the
 * unlink: here an immutable folder) fails alone: named in "failed", and
 * the index keeps the entry (still to delete: a later batch's deletion
 * deletes it), where it was dropped silently; the batch's other deletion
 * lands. */
TEST(a_deletion_that_cannot_land_fails_alone_and_stays_indexed)
{
	char *a = entry("a"), *b = entry("d/b"), *m, *cause = NULL;
	char **del = xcalloc(3, sizeof *del);
	struct sync_scan *want = NULL, *idx = NULL;
	struct sync_recv *r = NULL;
	struct buf *tar = buf_new();
	cJSON *need = NULL, *res = NULL, *f;
	struct sync_index ix;
	int rc;

	ASSERT_INT_EQ(system("rm -rf " DIR " && mkdir -p " DIR), 0);
	m = xasprintf("[%s,[\"d\",\"d\",493],%s]", a, b);
	sync_once(m, (const char *[]){ "a", "d/b", NULL }, NULL);
	free(m);
	free(a);
	free(b);
	if (system("chattr +i " DIR "/ws/d 2>/dev/null") != 0) {
		printf("  (chattr +i refused here: skipped)\n");
		buf_free(tar);
		free(del);
		return;
	}
	del[0] = xstrdup("a");
	del[1] = xstrdup("d/b");
	recv_open("[[\"d\",\"d\",493]]", &want, &r, &need);
	sync_recv_partial(r, del, 2);
	sync_recv_entry_errors(r);
	tar_write_end(tar);
	rc = sync_recv_feed(r, buf_data(tar), buf_len(tar), &cause) != 0 ||
	    sync_recv_finish(r, &res, &cause) != 0;
	recv_close(want, r, need);
	buf_free(tar);
	ASSERT_INT_EQ(system("chattr -i " DIR "/ws/d"), 0);
	if (rc)
		TEST_FAIL("the stream failed: %s", cause);
	ASSERT_INT_NE(access(DIR "/ws/a", F_OK), 0);
	ASSERT_INT_EQ(access(DIR "/ws/d/b", F_OK), 0);
	ASSERT_INT_EQ(result_number(res, "deleted"), 1);
	ASSERT_INT_EQ(result_number(res, "failedCount"), 1);
	f = cJSON_GetArrayItem(cJSON_GetObjectItem(res, "failed"), 0);
	ASSERT_STR_EQ(cJSON_GetStringValue(cJSON_GetObjectItem(f, "path")), "d/b");
	ASSERT_STR_CONTAINS(
	    cJSON_GetStringValue(cJSON_GetObjectItem(f, "error")), "'d/b': ");
	sync_index_load(DIR "/index.json", &ix, &idx);
	ASSERT_NULL(sync_scan_find(idx, "a"));
	ASSERT_NOT_NULL(sync_scan_find(idx, "d/b"));
	sync_scan_free(idx);
	cJSON_Delete(res);
	ASSERT_INT_EQ(system("rm -rf " DIR), 0);
}

/* The check of a_deletion_in_a_folder_it_cannot_enter_fails_and_stays_indexed,
 * in the current folder, by a user whom mode bits bind. */
static void
unenterable_deletion_check(void)
{
	char *a = entry("d/b"), *m, *cause = NULL;
	char **del = xcalloc(2, sizeof *del);
	struct sync_scan *want = NULL, *idx = NULL;
	struct sync_recv *r = NULL;
	struct buf *tar = buf_new();
	cJSON *need = NULL, *res = NULL, *f;
	struct sync_index ix;
	int rc;

	ASSERT_INT_EQ(system("rm -rf " DIR " && mkdir -p " DIR), 0);
	m = xasprintf("[[\"d\",\"d\",493],%s]", a);
	sync_once(m, (const char *[]){ "d/b", NULL }, NULL);
	free(m);
	free(a);
	ASSERT_INT_EQ(chmod(DIR "/ws/d", 0), 0);
	/* (the folder is shut to us: else the check says nothing) */
	ASSERT_INT_NE(access(DIR "/ws/d/b", F_OK), 0);
	del[0] = xstrdup("d/b");
	recv_open("[[\"d\",\"d\",493]]", &want, &r, &need);
	sync_recv_partial(r, del, 1);
	sync_recv_entry_errors(r);
	tar_write_end(tar);
	rc = sync_recv_feed(r, buf_data(tar), buf_len(tar), &cause) != 0 ||
	    sync_recv_finish(r, &res, &cause) != 0;
	recv_close(want, r, need);
	buf_free(tar);
	ASSERT_INT_EQ(chmod(DIR "/ws/d", 0755), 0);
	if (rc)
		TEST_FAIL("the stream failed: %s", cause);
	ASSERT_INT_EQ(access(DIR "/ws/d/b", F_OK), 0);
	ASSERT_INT_EQ(result_number(res, "failedCount"), 1);
	f = cJSON_GetArrayItem(cJSON_GetObjectItem(res, "failed"), 0);
	ASSERT_STR_EQ(cJSON_GetStringValue(cJSON_GetObjectItem(f, "path")), "d/b");
	sync_index_load(DIR "/index.json", &ix, &idx);
	ASSERT_NOT_NULL(sync_scan_find(idx, "d/b"));
	sync_scan_free(idx);
	cJSON_Delete(res);
	ASSERT_INT_EQ(system("rm -rf " DIR), 0);
}

/* With entry errors, a deletion whose folder cannot be entered (EACCES:
 * a folder made unreadable on the host) fails too, named, and stays in
 * the index, where it was dropped silently. Root enters any folder, and CI
 * runs as root: then the check runs in a child that dropped to nobody
 * (65534), in a folder of its own. */
TEST(a_deletion_in_a_folder_it_cannot_enter_fails_and_stays_indexed)
{
	char tmp[] = "rdev-test-recv-nobody.XXXXXX", *rm;
	pid_t pid;
	int status;

	if (geteuid() != 0) {
		unenterable_deletion_check();
		return;
	}
	ASSERT_NOT_NULL(mkdtemp(tmp));
	ASSERT_INT_EQ(chown(tmp, 65534, 65534), 0);
	fflush(stdout);
	fflush(stderr);
	if ((pid = fork()) == 0) {
		/* (a failed assertion ends the child, which then says so by
		 * its status, not the parent's list of tests) */
		if (chdir(tmp) != 0 || setgroups(0, NULL) != 0 || setgid(65534) != 0 ||
		    setuid(65534) != 0 || geteuid() != 65534)
			_exit(3);
		if (setjmp(test_jmp) == 0) {
			unenterable_deletion_check();
			_exit(0);
		}
		_exit(1);
	}
	ASSERT_TRUE(pid > 0);
	ASSERT_INT_EQ(waitpid(pid, &status, 0), pid);
	rm = xasprintf("rm -rf '%s'", tmp); /* (mkdtemp's name: no quote in it) */
	ASSERT_INT_EQ(system(rm), 0);
	free(rm);
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_INT_EQ(WEXITSTATUS(status), 0);
}

/* Many entries that cannot land (here: under an immutable folder) with
 * long paths: all counted in "failedCount", but "failed" lists no more
 * than about 256 KiB of them (1,000 paths of 4 KiB and their errors were 8
 * MiB, past one message). */
TEST(the_failed_list_is_bounded_by_bytes)
{
	char *m = xstrdup("["), *e, *t, *p, *cause = NULL;
	char seg[251];
	struct sync_scan *want = NULL;
	struct sync_recv *r = NULL;
	struct buf *tar = buf_new();
	cJSON *need = NULL, *res = NULL;
	char *paths[120];
	int rc, listed;

	memset(seg, 'x', 250);
	seg[250] = '\0';
	ASSERT_INT_EQ(system("rm -rf " DIR " && mkdir -p " DIR "/ws/d"), 0);
	if (system("chattr +i " DIR "/ws/d 2>/dev/null") != 0) {
		printf("  (chattr +i refused here: skipped)\n");
		buf_free(tar);
		free(m);
		return;
	}
	for (int i = 0; i < 120; i++) {
		paths[i] = xasprintf("d/%03d%s/%s/%s/%s/%s/%s/%s/%s/%s/%s/%s/f", i, seg,
		    seg, seg, seg, seg, seg, seg, seg, seg, seg, seg);
		e = entry(paths[i]);
		t = xasprintf("%s%s%s", m, i > 0 ? "," : "", e);
		free(m);
		free(e);
		m = t;
	}
	t = xasprintf("%s]", m);
	free(m);
	m = t;
	recv_open(m, &want, &r, &need);
	sync_recv_partial(r, NULL, 0);
	sync_recv_entry_errors(r);
	for (int i = 0; i < 120; i++)
		tar_file(tar, paths[i]);
	tar_write_end(tar);
	rc = sync_recv_feed(r, buf_data(tar), buf_len(tar), &cause) != 0 ||
	    sync_recv_finish(r, &res, &cause) != 0;
	recv_close(want, r, need);
	buf_free(tar);
	ASSERT_INT_EQ(system("chattr -i " DIR "/ws/d"), 0);
	if (rc)
		TEST_FAIL("the stream failed: %s", cause);
	ASSERT_INT_EQ(result_number(res, "failedCount"), 120);
	listed = cJSON_GetArraySize(cJSON_GetObjectItem(res, "failed"));
	ASSERT_TRUE(listed > 10 && listed < 120);
	p = cJSON_PrintUnformatted(cJSON_GetObjectItem(res, "failed"));
	ASSERT_TRUE(strlen(p) <= (256u << 10) + 8192);
	free(p);
	/* (the rest, 4 KiB paths each: past the cover's bytes, named by
	 * their one folder) */
	p = cJSON_PrintUnformatted(cJSON_GetObjectItem(res, "failedUnder"));
	ASSERT_STR_EQ(p, "[\"d\"]");
	free(p);
	for (int i = 0; i < 120; i++)
		free(paths[i]);
	cJSON_Delete(res);
	free(m);
	ASSERT_INT_EQ(system("rm -rf " DIR), 0);
}

/* The sync state of a workspace whose folder is gone goes (its index,
 * journal, aside, a temporary file), and its lock file with it (removed
 * while held: agent_lock_remove, whose test-agent-state test shows a sync
 * waiting on it safe); that of a workspace whose folder is there stays
 * (its lock file too), as does the one being synced, one a sync holds (its
 * lock, whose file stays while held), and a file that only starts with
 * the name.
 * Nothing goes when the workspace root itself is missing, or empty (an
 * unmounted disk's mount point). */
TEST(the_sync_state_of_a_gone_workspace_is_pruned)
{
	int lock;

	ASSERT_INT_EQ(
	    system("rm -rf " DIR " && mkdir -p " DIR "/root/alive " DIR
		   "/root/gone.json " DIR "/state/sync " DIR "/state/locks && cd " DIR
		   "/state/sync && touch alive.json alive.json.journal "
		   "gone.json gone.json.journal gone.json.aside "
		   "gone.json.tmp.abc123 gone.jsonx gone.json.json "
		   "gone.json.journalx kept.json busy.json "
		   "../locks/sync-gone.lock ../locks/sync-alive.lock "
		   "../locks/sync-kept.lock && mkdir ../../empty ../../fresh "
		   "../../fresh/kept"),
	    0);
	ASSERT_INT_EQ(
	    sync_prune(DIR "/state", DIR "/state/sync", DIR "/nowhere", NULL), 0);
	ASSERT_INT_EQ(sync_prune(DIR "/state", DIR "/state/sync", DIR "/empty", NULL), 0);
	/* (a root whose only entry is the synced workspace's folder, which
	 * its sync just made: as empty, the disk perhaps not mounted) */
	ASSERT_INT_EQ(
	    sync_prune(DIR "/state", DIR "/state/sync", DIR "/fresh", "kept"), 0);
	ASSERT_INT_EQ(system("test -e " DIR "/state/sync/gone.json"), 0);
	lock = open(DIR "/state/locks/sync-busy.lock", O_RDWR | O_CREAT, 0600);
	ASSERT_INT_EQ(flock(lock, LOCK_EX), 0);
	ASSERT_INT_EQ(
	    sync_prune(DIR "/state", DIR "/state/sync", DIR "/root", "kept"), 1);
	close(lock);
	ASSERT_INT_EQ(system("cd " DIR "/state/sync && test ! -e gone.json && "
			     "test ! -e gone.json.journal && test ! -e gone.json.aside "
			     "&& test ! -e gone.json.tmp.abc123 && test ! -e "
			     "../locks/sync-gone.lock && test -e gone.json.json && "
			     "test -e gone.json.journalx"),
	    0);
	ASSERT_INT_EQ(system("cd " DIR "/state/locks && test -e sync-busy.lock && "
			     "test -e sync-alive.lock && test -e sync-kept.lock"),
	    0);
	ASSERT_INT_EQ(system("cd " DIR "/state/sync && test -e alive.json && "
			     "test -e alive.json.journal && test -e gone.jsonx && "
			     "test -e kept.json && test -e busy.json"),
	    0);
	/* (the busy one goes once no sync holds it) */
	ASSERT_INT_EQ(
	    sync_prune(DIR "/state", DIR "/state/sync", DIR "/root", "kept"), 1);
	ASSERT_INT_EQ(system("test ! -e " DIR "/state/sync/busy.json && test ! -e " DIR
			     "/state/locks/sync-busy.lock"),
	    0);
	ASSERT_INT_EQ(system("rm -rf " DIR), 0);
}

/* More entries that cannot land than the agent lists (here 5, as
 * $RDEV_SYNC_FAILED_MAX asks; under an immutable folder): the rest are
 * named by their folders ("failedUnder", at most 64 of them), each
 * unlisted one covered, and an entry that landed elsewhere is not. */
TEST(the_failures_past_the_list_are_named_by_their_folders)
{
	char *m = xstrdup("[[\"d\",\"d\",493],[\"d\",\"e\",493]"), *e, *t, *cause = NULL;
	struct sync_scan *want = NULL;
	struct sync_recv *r = NULL;
	struct buf *tar = buf_new();
	cJSON *need = NULL, *res = NULL, *f;
	char *paths[101], **cover, *listed[5];
	size_t ncover = 0;
	int rc, nlisted = 0;

	ASSERT_INT_EQ(system("rm -rf " DIR " && mkdir -p " DIR "/ws/d"), 0);
	if (system("chattr +i " DIR "/ws/d 2>/dev/null") != 0) {
		printf("  (chattr +i refused here: skipped)\n");
		buf_free(tar);
		free(m);
		return;
	}
	for (int i = 0; i < 100; i++)
		paths[i] = xasprintf("d/p%d/f%02d", i / 10, i);
	paths[100] = xstrdup("e/x");
	for (int i = 0; i < 101; i++) {
		e = entry(paths[i]);
		t = xasprintf("%s,%s", m, e);
		free(m);
		free(e);
		m = t;
	}
	t = xasprintf("%s]", m);
	free(m);
	m = t;
	setenv("RDEV_SYNC_FAILED_MAX", "5", 1);
	recv_open(m, &want, &r, &need);
	sync_recv_partial(r, NULL, 0);
	sync_recv_entry_errors(r);
	unsetenv("RDEV_SYNC_FAILED_MAX");
	for (int i = 0; i < 101; i++)
		tar_file(tar, paths[i]);
	tar_write_end(tar);
	rc = sync_recv_feed(r, buf_data(tar), buf_len(tar), &cause) != 0 ||
	    sync_recv_finish(r, &res, &cause) != 0;
	recv_close(want, r, need);
	buf_free(tar);
	ASSERT_INT_EQ(system("chattr -i " DIR "/ws/d"), 0);
	if (rc)
		TEST_FAIL("the stream failed: %s", cause);
	ASSERT_TRUE(result_number(res, "failedCount") >= 100);
	ASSERT_INT_EQ(cJSON_GetArraySize(cJSON_GetObjectItem(res, "failed")), 5);
	cJSON_ArrayForEach(f, cJSON_GetObjectItem(res, "failed"))
		listed[nlisted++] = cJSON_GetStringValue(cJSON_GetObjectItem(f, "path"));
	f = cJSON_GetObjectItem(res, "failedUnder");
	ASSERT_TRUE(cJSON_GetArraySize(f) > 0 && cJSON_GetArraySize(f) <= 64);
	cover = xcalloc((size_t)cJSON_GetArraySize(f) + 1, sizeof *cover);
	for (int i = 0; i < cJSON_GetArraySize(f); i++)
		cover[ncover++] = xstrdup(cJSON_GetStringValue(cJSON_GetArrayItem(f, i)));
	/* (the packages' folders: 10, not d/, not the 95 files) */
	ASSERT_INT_EQ((int)ncover, 10);
	for (int i = 0; i < 100; i++) {
		int named = sync_cover_has(cover, ncover, paths[i]);

		for (int k = 0; k < nlisted; k++)
			named |= strcmp(listed[k], paths[i]) == 0;
		if (!named)
			TEST_FAIL("%s: neither listed nor under failedUnder", paths[i]);
	}
	ASSERT_FALSE(sync_cover_has(cover, ncover, "e/x"));
	ASSERT_INT_EQ(access(DIR "/ws/e/x", F_OK), 0);
	sync_paths_free(cover, ncover);
	for (int i = 0; i < 101; i++)
		free(paths[i]);
	cJSON_Delete(res);
	free(m);
	ASSERT_INT_EQ(system("rm -rf " DIR), 0);
}

/* A stream's entry whose path no sync carries is refused with the path
 * quoted: a line break or an ESC in it must not reach the log or the
 * terminal raw (it was printed as it came). */
TEST(a_refused_path_is_quoted_in_the_error)
{
	static const char bad[] = "x\n\033[31mred";
	struct buf *tar;
	char *cause = NULL;
	cJSON *res;

	ASSERT_INT_EQ(system("rm -rf " DIR " && mkdir -p " DIR "/ws"), 0);
	tar = buf_new();
	tar_file(tar, bad);
	res = sync_tar("[[\"d\",\"x\",493]]", tar, 0, &cause);
	ASSERT_TRUE(res == NULL);
	ASSERT_TRUE(cause != NULL);
	ASSERT_TRUE(strpbrk(cause, "\n\033") == NULL);
	ASSERT_TRUE(strstr(cause, "\"x\\u000a\\u001b[31mred\": not a path") != NULL);
	free(cause);
	ASSERT_INT_EQ(system("rm -rf " DIR), 0);
}

/* One way, a chmod made on the host since the sync wrote the file (the
 * bytes unchanged) is a host change: the client's mode replaces it, named
 * in "hostChanged" (it was reset silently); the file as synced is not. */
TEST(one_way_names_a_host_chmod_it_replaces)
{
	char *a = entry("a"), *m = xasprintf("[%s]", a);
	struct stat sb;
	cJSON *res;

	ASSERT_INT_EQ(system("rm -rf " DIR " && mkdir -p " DIR), 0);
	sync_once(m, (const char *[]){ "a", NULL }, NULL);
	ASSERT_INT_EQ(system("chmod 700 " DIR "/ws/a"), 0);
	res = sync_once_result(m, NULL, NULL, 0);
	ASSERT_INT_EQ(result_number(res, "hostChanged"), 1);
	ASSERT_STR_EQ(cJSON_GetStringValue(cJSON_GetArrayItem(
			  cJSON_GetObjectItemCaseSensitive(res, "hostChangedPaths"), 0)),
	    "a");
	cJSON_Delete(res);
	ASSERT_INT_EQ(stat(DIR "/ws/a", &sb), 0);
	ASSERT_INT_EQ(sb.st_mode & 0777, 0644);
	res = sync_once_result(m, NULL, NULL, 0);
	ASSERT_INT_EQ(result_number(res, "hostChanged"), 0);
	cJSON_Delete(res);
	free(m);
	free(a);
	ASSERT_INT_EQ(system("rm -rf " DIR), 0);
}
