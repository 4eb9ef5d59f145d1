/* test-sync-recv.c - unit tests for agent/sync-recv.c: a live sync's batch
 * (sync_recv_partial) touches only what it lists, deletes of its "delete"
 * paths only what an earlier sync wrote, and keeps the rest in the index; a
 * file asked for but not sent stays the sync's to delete later. */
#include "test.h"

#include "sync-recv.h"

#include <stdlib.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "tar-stream.h"
#include "xmalloc.h"

#define DIR "rdev-test-recv"

/* Run one sync of manifest (JSON text) with the files named in send (their
 * content is their name), batch del (NULL: a whole sync). */
static void
sync_once(const char *manifest, const char *const *send, const char *const *del)
{
	struct sync_scan *want = NULL;
	struct sync_recv *r = NULL;
	struct buf *tar = buf_new();
	cJSON *m = cJSON_Parse(manifest), *need = NULL, *res = NULL;
	char *cause = NULL;

	if (sync_scan_from_manifest(m, &want, &cause) != 0)
		TEST_FAIL("manifest: %s", cause);
	if (sync_recv_open(DIR "/ws", DIR "/index.json", want, &r, &need, &cause) != 0)
		TEST_FAIL("open: %s", cause);
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
	sync_recv_free(r);
	sync_scan_free(want);
	buf_free(tar);
	cJSON_Delete(m);
	cJSON_Delete(need);
	cJSON_Delete(res);
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
