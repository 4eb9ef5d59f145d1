/* test-sync-send.c - unit tests for common/sync-send.c against a fake agent
 * on a socketpair: a large file the host has blocks of goes as a delta of
 * the blocks that differ (the bytes counted are the delta's), and one the
 * agent names in "deltaFailed" goes again at once, whole, in a request of
 * just it that asks for no blocks. */
#include "test.h"

#include <sys/socket.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "buf.h"
#include "proto-conn.h"
#include "sync-blocks.h"
#include "sync-scan.h"
#include "sync-send.h"
#include "tar-stream.h"
#include "xmalloc.h"

#define DIR "rdev-test-send"
#define SIZE (2 * SYNC_BLOCKS_MIN + 777)

/* What the fake agent saw of each request and its stream. */
struct fake {
	struct proto_conn *c;
	unsigned char *file; /* the local file's bytes */
	int deltas[2];	     /* the request asked for blocks */
	int partial[2];	     /* it had a "delete" list */
	int delta_entry[2];  /* its entry had an RDEV.delta record */
	unsigned long long entry_size[2];
	int round;
	double host_size; /* the size the blocks claim (0: SIZE) */
	/* Each round's result (NULL: deltaFailed [big] then nothing); the
	 * first must name big in deltaFailed for a second round. */
	const char *result[2];
	int rounds; /* served (0: 2) */
	int rc;	    /* what sync_send is to return */
};

static int
fake_entry(void *arg, const struct tar_entry *e, char **cause)
{
	struct fake *f = arg;

	(void)cause;
	f->delta_entry[f->round] = e->delta != NULL;
	f->entry_size[f->round] = e->size;
	return 0;
}

static int
fake_data(void *arg, const unsigned char *p, size_t len, char **cause)
{
	(void)arg, (void)p, (void)len, (void)cause;
	return 0;
}

static int
fake_end(void *arg, char **cause)
{
	(void)arg, (void)cause;
	return 0;
}

static const struct tar_reader_cbs fake_cbs = { fake_entry, fake_data, fake_end };

/* The host's block hashes: the local file's, block 3 changed. */
static char *
fake_hashes(const unsigned char *file)
{
	size_t n = sync_blocks_count(SIZE, SYNC_BLOCKS_SIZE);
	unsigned char *h = xcalloc(n, SYNC_BLOCKS_HASH);
	size_t b64len = sodium_base64_encoded_len(
	    n * SYNC_BLOCKS_HASH, sodium_base64_VARIANT_ORIGINAL);
	char *b64 = xmalloc(b64len);

	for (size_t k = 0; k < n; k++)
		sync_blocks_hash(file + k * SYNC_BLOCKS_SIZE,
		    sync_blocks_len(SIZE, SYNC_BLOCKS_SIZE, k), h + k * SYNC_BLOCKS_HASH);
	h[3 * SYNC_BLOCKS_HASH] ^= 1;
	sodium_bin2base64(
	    b64, b64len, h, n * SYNC_BLOCKS_HASH, sodium_base64_VARIANT_ORIGINAL);
	free(h);
	return b64;
}

/* Serve two requests: the first offered blocks and answered with the file
 * in deltaFailed, the second offered none. */
static void *
fake_agent(void *arg)
{
	struct fake *f = arg;
	struct proto_frame fr;
	char *cause = NULL, *b64;
	cJSON *req, *o, *res, *blk;
	int id;

	for (f->round = 0; f->round < (f->rounds ? f->rounds : 2); f->round++) {
		struct tar_reader *r = tar_reader_new(&fake_cbs, f);

		if (proto_conn_wait(f->c, &fr, 5000, &cause) != 1)
			abort();
		req = proto_frame_json(&fr, &cause);
		id = (int)cJSON_GetNumberValue(cJSON_GetObjectItem(req, "id"));
		f->deltas[f->round] = cJSON_IsTrue(cJSON_GetObjectItem(req, "deltas"));
		f->partial[f->round] = cJSON_IsArray(cJSON_GetObjectItem(req, "delete"));
		cJSON_Delete(req);
		o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "id", id);
		cJSON_AddTrueToObject(o, "ok");
		cJSON_AddNumberToObject(o, "channel", 1);
		res = cJSON_AddObjectToObject(o, "result");
		cJSON_AddStringToObject(res, "folder", "/h");
		cJSON_AddItemToObject(
		    res, "need", cJSON_CreateStringArray((const char *[]){ "big" }, 1));
		if (f->round == 0) {
			b64 = fake_hashes(f->file);
			cJSON_AddNumberToObject(res, "blockSize", SYNC_BLOCKS_SIZE);
			blk = cJSON_CreateObject();
			cJSON_AddNumberToObject(blk, "need", 0);
			cJSON_AddNumberToObject(
			    blk, "size", f->host_size != 0 ? f->host_size : SIZE);
			cJSON_AddStringToObject(blk, "hashes", b64);
			cJSON_AddItemToArray(cJSON_AddArrayToObject(res, "blocks"), blk);
			free(b64);
		}
		proto_conn_queue_json(f->c, PROTO_CONTROL, 0, o, &cause);
		proto_conn_flush(f->c, &cause);
		cJSON_Delete(o);
		for (;;) {
			if (proto_conn_wait(f->c, &fr, 5000, &cause) != 1)
				abort();
			if (fr.type == PROTO_EOF)
				break;
			if (fr.type == PROTO_DATA &&
			    tar_reader_feed(r, fr.payload, fr.len, &cause) != 0)
				abort();
		}
		tar_reader_free(r);
		if (f->result[f->round] != NULL)
			o = cJSON_Parse(f->result[f->round]);
		else
			o = cJSON_Parse(f->round == 0
				? "{\"status\":0,\"result\":{\"deltaFailed\":[\"big\"]}}"
				: "{\"status\":0,\"result\":{}}");
		proto_conn_queue_json(f->c, PROTO_CLOSE, 1, o, &cause);
		proto_conn_flush(f->c, &cause);
		cJSON_Delete(o);
	}
	return NULL;
}

/* Sync DIR/big (SIZE random bytes) with a fake agent whose blocks claim
 * a host file of host_size bytes (0: SIZE): f is what it saw. */
static void
sync_with_fake(struct fake *f, struct sync_send_stats *st, double host_size)
{
	struct sync_scan *scan = NULL;
	struct proto_conn *c;
	char *cause = NULL, *folder = NULL;
	pthread_t t;
	FILE *fp;
	int sv[2];

	ASSERT_INT_EQ(system("rm -rf " DIR " && mkdir -p " DIR), 0);
	f->host_size = host_size;
	f->file = xmalloc(SIZE);
	randombytes_buf(f->file, SIZE);
	fp = fopen(DIR "/big", "w");
	ASSERT_INT_EQ((long long)fwrite(f->file, 1, SIZE, fp), (long long)SIZE);
	fclose(fp);
	ASSERT_INT_EQ(sync_scan(DIR, NULL, NULL, &scan, &cause), 0);
	ASSERT_INT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	c = proto_conn_new(sv[0], "agent");
	f->c = proto_conn_new(sv[1], "client");
	ASSERT_INT_EQ(pthread_create(&t, NULL, fake_agent, f), 0);
	ASSERT_INT_EQ(
	    sync_send(c, 5, DIR, "app", scan, NULL, 0, &folder, st, &cause), f->rc);
	pthread_join(t, NULL);
	if (f->rc == 0)
		ASSERT_STR_EQ(folder, "/h");
	proto_conn_free(c);
	proto_conn_free(f->c);
	sync_scan_free(scan);
	free(folder);
	free(f->file);
	free(cause);
	/* (not left in the tests' folder: e2e/package completes file names
	 * there) */
	ASSERT_INT_EQ(system("rm -rf " DIR), 0);
}

TEST(a_failed_delta_goes_again_whole)
{
	struct sync_send_stats st = { 0 }, *st_ = &st;
	struct fake fk = { 0 }, *f = &fk;

	sync_with_fake(f, st_, 0);
	/* First: blocks asked for, a delta of one block (and its ops) sent. */
	ASSERT_INT_EQ(f->deltas[0], 1);
	ASSERT_INT_EQ(f->delta_entry[0], 1);
	ASSERT_INT_EQ((long long)f->entry_size[0],
	    (long long)(SYNC_BLOCKS_SIZE +
		4 * sync_blocks_count(SIZE, SYNC_BLOCKS_SIZE)));
	/* Then the failed file again: whole, no blocks, a batch of just it. */
	ASSERT_INT_EQ(f->deltas[1], 0);
	ASSERT_INT_EQ(f->partial[1], 1);
	ASSERT_INT_EQ(f->delta_entry[1], 0);
	ASSERT_INT_EQ((long long)f->entry_size[1], (long long)SIZE);
	ASSERT_INT_EQ(st_->sent, 1);
	ASSERT_INT_EQ(st_->sent_bytes, (long long)(f->entry_size[0] + SIZE));
}

/* Blocks whose size their hashes do not match (a huge one, whose room was
 * once taken before the hashes were checked): the file goes whole. */
TEST(blocks_of_a_size_they_do_not_match_are_ignored)
{
	double sizes[] = { 1152921504606846976.0 /* 2^60 */, 2.0 * SIZE,
		4503599627370497.0 * 2 };

	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		struct sync_send_stats st = { 0 };
		struct fake f = { 0 };

		sync_with_fake(&f, &st, sizes[i]);
		ASSERT_INT_EQ(f.deltas[0], 1);
		ASSERT_INT_EQ(f.delta_entry[0], 0);
		ASSERT_INT_EQ((long long)f.entry_size[0], (long long)SIZE);
		ASSERT_INT_EQ(st.sent, 1);
	}
}

/* A batch of two requests (the second for deltaFailed files) whose one
 * response counts failures it neither lists nor names a folder of, the
 * other naming a folder ("failedUnder"): failed_uncovered, either way
 * round (one flag for the batch hid the first, its entries then taken as
 * landed); both covered: not. */
TEST(one_uncovered_response_in_two_is_not_hidden_by_the_other)
{
	static const char *uncovered =
	    "\"failedCount\":4,\"failed\":[{\"path\":\"x\",\"error\":\"e\"}]";
	static const char *covered =
	    "\"failedCount\":3,\"failed\":[{\"path\":\"big\",\"error\":\"e\"}],"
	    "\"failedUnder\":[\"big\"]";
	const char *firsts[3] = { uncovered, covered, covered };
	const char *seconds[3] = { covered, uncovered, covered };

	for (int i = 0; i < 3; i++) {
		struct sync_send_stats st = { .failed = cJSON_CreateArray() };
		struct fake f = { 0 };
		char *r0 = xasprintf("{\"status\":0,\"result\":{\"deltaFailed\":"
				     "[\"big\"],%s}}",
		    firsts[i]);
		char *r1 = xasprintf("{\"status\":0,\"result\":{%s}}", seconds[i]);

		f.result[0] = r0;
		f.result[1] = r1;
		sync_with_fake(&f, &st, 0);
		ASSERT_INT_EQ(f.partial[1], 1); /* (two requests) */
		ASSERT_INT_EQ(st.failed_count, i == 2 ? 6 : 7);
		ASSERT_INT_EQ(st.failed_uncovered, i == 2 ? 0 : 1);
		ASSERT_INT_EQ((int)st.nfailed_under, i == 2 ? 2 : 1);
		sync_send_failed_free(&st);
		free(r0);
		free(r1);
	}
}

/* Two-way, the host entries the agent kept under a conflict name
 * ("keptAs") are conflicts: counted in kept and listed in kept_as, not in
 * host_changed nor its paths (each response's own, in a batch of two);
 * one way, they stay host changes. */
/* A malformed answer naming more kept entries than it counts: no more are
 * told (kept_as) than counted. */
/* Whether a failed sync's message is the host's is the CLOSE's errorCode
 * ("host-write-failed"), never its words: a message that starts as the
 * host's full-disk one does ("cannot write ") but has no code is not. */
TEST(a_host_write_failure_is_its_error_code_not_its_words)
{
	static const char *coded =
	    "{\"status\":1,\"error\":\"cannot write /h/big: No space left on "
	    "device (the host's disk is full)\",\"errorCode\":\"host-write-failed\"}";
	static const char *plain =
	    "{\"status\":1,\"error\":\"cannot write the index: not the disk\"}";
	struct sync_send_stats st = { .host_write_failed = 1 };
	struct fake f = { .result = { plain }, .rounds = 1, .rc = -1 };

	sync_with_fake(&f, &st, 0);
	ASSERT_INT_EQ(st.host_write_failed, 0);
	memset(&f, 0, sizeof f);
	f.result[0] = coded;
	f.rounds = 1;
	f.rc = -1;
	sync_with_fake(&f, &st, 0);
	ASSERT_INT_EQ(st.host_write_failed, 1);
}

TEST(two_way_kept_as_names_no_more_than_counted)
{
	static const char *r0 =
	    "{\"status\":0,\"result\":{\"deltaFailed\":[\"big\"],\"hostChanged\":2,"
	    "\"hostChangedPaths\":[\"a\",\"b\"],\"keptAsCount\":1,"
	    "\"keptAs\":[{\"path\":\"a\",\"as\":\"a.rdev-conflict-1\"},"
	    "{\"path\":\"b\",\"as\":\"b.rdev-conflict-1\"}]}}";
	struct sync_send_stats st = { .host_changed_paths = cJSON_CreateArray(),
		.kept_as = cJSON_CreateArray(),
		.keep_host_changes = 1 };
	static const char *r1 = "{\"status\":0,\"result\":{}}";
	struct fake f = { .result = { r0, r1 } };
	char *paths;

	sync_with_fake(&f, &st, 0);
	paths = cJSON_PrintUnformatted(st.host_changed_paths);
	ASSERT_INT_EQ(st.kept, 1);
	ASSERT_INT_EQ(st.host_changed, 1);
	ASSERT_INT_EQ(cJSON_GetArraySize(st.kept_as), 1);
	ASSERT_STR_EQ(paths, "[\"b\"]");
	free(paths);
	cJSON_Delete(st.host_changed_paths);
	cJSON_Delete(st.kept_as);
}

TEST(two_way_kept_host_versions_are_conflicts_not_host_changes)
{
	static const char *r0 =
	    "{\"status\":0,\"result\":{\"deltaFailed\":[\"big\"],\"hostChanged\":2,"
	    "\"hostChangedPaths\":[\"big\",\"x\"],\"keptAsCount\":1,"
	    "\"keptAs\":[{\"path\":\"big\",\"as\":\"big.rdev-conflict-1\"}]}}";
	static const char *r1 =
	    "{\"status\":0,\"result\":{\"hostChanged\":1,\"hostChangedPaths\":"
	    "[\"big\"],\"keptAsCount\":1,"
	    "\"keptAs\":[{\"path\":\"big\",\"as\":\"big.rdev-conflict-2\"}]}}";

	for (int keep = 0; keep < 2; keep++) {
		struct sync_send_stats st = { .host_changed_paths = cJSON_CreateArray(),
			.kept_as = cJSON_CreateArray(),
			.keep_host_changes = keep };
		struct fake f = { .result = { r0, r1 } };
		char *paths;

		sync_with_fake(&f, &st, 0);
		paths = cJSON_PrintUnformatted(st.host_changed_paths);
		if (keep) {
			ASSERT_INT_EQ(st.kept, 2);
			ASSERT_INT_EQ(st.host_changed, 1);
			ASSERT_STR_EQ(paths, "[\"x\"]");
			ASSERT_INT_EQ(cJSON_GetArraySize(st.kept_as), 2);
			ASSERT_STR_EQ(cJSON_GetStringValue(cJSON_GetObjectItem(
					  cJSON_GetArrayItem(st.kept_as, 1), "as")),
			    "big.rdev-conflict-2");
		} else {
			ASSERT_INT_EQ(st.kept, 0);
			ASSERT_INT_EQ(st.host_changed, 3);
			ASSERT_STR_EQ(paths, "[\"big\",\"x\",\"big\"]");
			ASSERT_INT_EQ(cJSON_GetArraySize(st.kept_as), 0);
		}
		free(paths);
		cJSON_Delete(st.host_changed_paths);
		cJSON_Delete(st.kept_as);
	}
}
