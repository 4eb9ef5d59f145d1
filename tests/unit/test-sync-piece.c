/* test-sync-piece.c - unit tests for a two-way sync's big file brought back
 * in pieces (agent/sync-piece.c, agent/sync-pull.c, common/sync-back-piece.c),
 * the agent's answers applied straight to a local folder: a 20 MiB file
 * arrives whole in pieces of at most 8 MiB and reaches the index only with
 * the last piece acknowledged; a file changed between pieces starts again
 * from 0 and the new version arrives; a lost answer is sent again from
 * where the local side got to; a big file that keeps changing does not
 * starve the big files after it; a file that cannot be written here fails
 * alone (its temporary file removed) and comes again at a later pull, also
 * when only its last piece fails; a file whose whole hash does not match
 * goes after the other big files; what the local ignore rules leave out
 * (more than an answer holds, and a big file) is told once and kept aside
 * by the agent, never filling the answers, until it changes there or the
 * ignore rules here change. */
#include "test.h"

#include "sync-back.h"
#include "sync-ignore.h"
#include "sync-pull.h"
#include "sync-scan.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "xmalloc.h"

#define DIR "rdev-test-piece"
#define HOST DIR "/host"
#define HERE DIR "/here"
#define INDEX DIR "/index.json"

/* One sync-pull of HOST with pull's state (the request sync_back sends,
 * read as the agent does); applied to HERE with ig (may be NULL) unless
 * lost, counted in *st. The piece's offset (-1: none). */
static long long
pull_ig(struct sync_back_pull *pull, struct sync_scan **sent, int lost,
    const struct sync_ignore *ig, struct sync_back_stats *st)
{
	cJSON *req = sync_back_request(pull, 1, "ws", 0, ig), *res = NULL;
	struct sync_pull_opts o;
	const cJSON *piece;
	const char *ack;
	char *cause = NULL;
	long long off = -1;

	sync_pull_request(req, &ack, &o);
	if (sync_pull_changes(HOST, INDEX, 0, ack, &o, &res, &cause) != 0)
		TEST_FAIL("pull: %s", cause);
	cJSON_Delete(req);
	if ((piece = cJSON_GetObjectItemCaseSensitive(res, "piece")) != NULL) {
		off = (long long)cJSON_GetObjectItemCaseSensitive(piece, "offset")
			  ->valuedouble;
		ASSERT_TRUE(
		    strlen(
			cJSON_GetObjectItemCaseSensitive(piece, "data")->valuestring) <=
		    (SYNC_BACK_MAX_BYTES / 3 + 1) * 4);
	}
	if (!lost) {
		if (sync_back_answer(HERE, res, ig, sent, pull, st, &cause) != 0)
			TEST_FAIL("apply: %s", cause);
		sync_back_answered(pull, res, st);
	}
	cJSON_Delete(res);
	return off;
}

static long long
pull_st(struct sync_back_pull *pull, struct sync_scan **sent, int lost,
    struct sync_back_stats *st)
{
	return pull_ig(pull, sent, lost, NULL, st);
}

static long long
pull_once(struct sync_back_pull *pull, struct sync_scan **sent, int lost)
{
	struct sync_back_stats st = { 0 };
	long long off = pull_st(pull, sent, lost, &st);

	sync_back_stats_clear(&st);
	return off;
}

/* Empty HOST and HERE, then make (a shell command) run. */
static void
setup_with(const char *make)
{
	char *cmd = xasprintf("rm -rf " DIR " && mkdir -p " HOST " " HERE " && %s", make);

	ASSERT_INT_EQ(system(cmd), 0);
	free(cmd);
}

static void
setup(void)
{
	setup_with("head -c 20971520 /dev/urandom >" HOST "/big && echo s >" HOST "/a");
}

/* A test's end: pull's and sent's memory and the folders freed. */
static void
finish(struct sync_back_pull *pull, struct sync_scan *sent)
{
	sync_back_pull_clear(pull, HERE);
	sync_scan_free(sent);
	ASSERT_INT_EQ(system("rm -rf " DIR), 0);
}

/* finish, with ig and st freed too. */
static void
finish_ig(struct sync_back_pull *pull, struct sync_scan *sent, struct sync_ignore *ig,
    struct sync_back_stats *st)
{
	sync_ignore_free(ig);
	sync_back_stats_clear(st);
	finish(pull, sent);
}

/* Pull (at most most times) until no big file is coming. */
static void
pull_until_whole(struct sync_back_pull *pull, struct sync_scan **sent, int most)
{
	for (int n = 0; n < most && pull->piece_path != NULL; n++)
		pull_once(pull, sent, 0);
}

/* No temporary file left here, and HERE/big is HOST/big's bytes. */
static void
check_whole(void)
{
	ASSERT_INT_EQ(system("cmp -s " HOST "/big " HERE "/big"), 0);
	ASSERT_INT_EQ(system("ls -a " HERE " | grep -q rdev-back"), 256);
}

TEST(a_big_file_comes_in_pieces_and_is_indexed_at_the_last)
{
	struct sync_back_pull pull = { 0 };
	struct sync_scan *sent = xcalloc(1, sizeof *sent);

	setup();
	ASSERT_INT_EQ(pull_once(&pull, &sent, 0), 0); /* (after a: less room) */
	ASSERT_TRUE(
	    pull.piece_off > 7 * 1024 * 1024 && pull.piece_off < SYNC_BACK_MAX_BYTES);
	ASSERT_INT_EQ(system("test -e " HERE "/a && test ! -e " HERE "/big"), 0);
	ASSERT_TRUE(pull_once(&pull, &sent, 0) > 0);
	ASSERT_INT_EQ(system("test ! -e " HERE "/big"), 0); /* (not before whole) */
	ASSERT_TRUE(pull_once(&pull, &sent, 0) > 0);
	check_whole();
	ASSERT_TRUE(pull.ack != NULL);
	ASSERT_TRUE(pull.piece_path == NULL);
	/* The last answer acknowledged: nothing more (indexed). */
	ASSERT_INT_EQ(pull_once(&pull, &sent, 0), -1);
	ASSERT_INT_EQ(pull_once(&pull, &sent, 0), -1);
	finish(&pull, sent);
}

TEST(a_file_changed_between_pieces_starts_again)
{
	struct sync_back_pull pull = { 0 };
	struct sync_scan *sent = xcalloc(1, sizeof *sent);

	setup();
	ASSERT_INT_EQ(pull_once(&pull, &sent, 0), 0);
	ASSERT_TRUE(pull_once(&pull, &sent, 0) > 0);
	/* Rewritten on the host: the same size, other bytes. */
	ASSERT_INT_EQ(system("head -c 20971520 /dev/urandom >" HOST "/big.new && "
			     "mv " HOST "/big.new " HOST "/big"),
	    0);
	ASSERT_INT_EQ(pull_once(&pull, &sent, 0), 0); /* (from the start) */
	ASSERT_INT_EQ(system("ls -a " HERE " | grep -c rdev-back | grep -qx 1"), 0);
	pull_until_whole(&pull, &sent, 5);
	check_whole();
	ASSERT_INT_EQ(pull_once(&pull, &sent, 0), -1);
	finish(&pull, sent);
}

TEST(a_lost_answer_is_sent_again_from_where_it_got)
{
	struct sync_back_pull pull = { 0 };
	struct sync_scan *sent = xcalloc(1, sizeof *sent);
	long long off;

	setup();
	ASSERT_INT_EQ(pull_once(&pull, &sent, 0), 0);
	off = pull.piece_off;
	ASSERT_INT_EQ(pull_once(&pull, &sent, 1), off); /* (lost) */
	ASSERT_INT_EQ(pull_once(&pull, &sent, 0), off); /* (again) */
	/* The last piece lost: sent again, and only then indexed. */
	off = pull.piece_off;
	ASSERT_INT_EQ(pull_once(&pull, &sent, 1), off);
	ASSERT_INT_EQ(system("test ! -e " HERE "/big"), 0);
	ASSERT_INT_EQ(pull_once(&pull, &sent, 0), off);
	check_whole();
	ASSERT_INT_EQ(pull_once(&pull, &sent, 0), -1);
	finish(&pull, sent);
}

TEST(without_pieces_a_big_file_stays_on_the_host)
{
	cJSON *res = NULL;
	char *cause = NULL;

	setup();
	ASSERT_INT_EQ(sync_pull_changes(HOST, INDEX, 0, NULL, NULL, &res, &cause), 0);
	ASSERT_STR_EQ(
	    cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(res, "tooLarge"), 0)
		->valuestring,
	    "big");
	ASSERT_TRUE(cJSON_GetObjectItemCaseSensitive(res, "piece") == NULL);
	cJSON_Delete(res);
	ASSERT_INT_EQ(system("rm -rf " DIR), 0);
}

/* A file made on the host after big's second piece comes in the answer of
 * its last piece, and sorts after it: what this side has sent stays in
 * path order (found by lookups), or big is later taken for new here. */
TEST(sent_stays_in_path_order_after_a_last_piece)
{
	struct sync_back_pull pull = { 0 };
	struct sync_scan *sent = xcalloc(1, sizeof *sent);

	setup();
	ASSERT_INT_EQ(pull_once(&pull, &sent, 0), 0);
	ASSERT_TRUE(pull_once(&pull, &sent, 0) > 0);
	ASSERT_INT_EQ(system("echo z >" HOST "/zz"), 0);
	ASSERT_TRUE(pull_once(&pull, &sent, 0) > 0);
	check_whole();
	ASSERT_TRUE(sync_scan_find(sent, "zz") != NULL);
	ASSERT_TRUE(sync_scan_find(sent, "big") != NULL);
	for (size_t i = 1; i < sent->n; i++)
		ASSERT_TRUE(strcmp(sent->v[i - 1].path, sent->v[i].path) < 0);
	finish(&pull, sent);
}

/* b-big (coming, or come) whole, then a-big. */
static void
b_big_then_a_big(struct sync_back_pull *pull, struct sync_scan **sent)
{
	pull_until_whole(pull, sent, 4);
	ASSERT_INT_EQ(system("cmp -s " HOST "/b-big " HERE "/b-big"), 0);
	pull_once(pull, sent, 0);
	pull_until_whole(pull, sent, 4);
	ASSERT_INT_EQ(system("cmp -s " HOST "/a-big " HERE "/a-big"), 0);
}

/* pulls pulls with writes here failing past limit bytes (RLIMIT_FSIZE:
 * EFBIG, also for root, as ENOSPC would), counted in *st. */
static void
pull_limited(struct sync_back_pull *pull, struct sync_scan **sent, rlim_t limit,
    int pulls, struct sync_back_stats *st)
{
	struct rlimit was, small = { limit, limit };

	signal(SIGXFSZ, SIG_IGN);
	ASSERT_INT_EQ(getrlimit(RLIMIT_FSIZE, &was), 0);
	small.rlim_max = was.rlim_max;
	ASSERT_INT_EQ(setrlimit(RLIMIT_FSIZE, &small), 0);
	while (pulls-- > 0)
		pull_st(pull, sent, 0, st);
	ASSERT_INT_EQ(setrlimit(RLIMIT_FSIZE, &was), 0);
	signal(SIGXFSZ, SIG_DFL);
}

/* a-big's version changes before each pull (its pieces start again each
 * time): b-big, after it, still comes whole, in a bounded number of
 * pulls. */
TEST(a_big_file_that_keeps_changing_does_not_starve_the_next)
{
	struct sync_back_pull pull = { 0 };
	struct sync_scan *sent = xcalloc(1, sizeof *sent);
	char cmd[128];
	int n;

	setup_with("head -c 9437184 /dev/urandom >" HOST "/a-big && "
		   "head -c 9437184 /dev/urandom >" HOST "/b-big");
	for (n = 0; n < 4 && system("cmp -s " HOST "/b-big " HERE "/b-big") != 0; n++) {
		snprintf(cmd, sizeof cmd, "touch -m -d @%d " HOST "/a-big", 1000000 + n);
		ASSERT_INT_EQ(system(cmd), 0);
		pull_once(&pull, &sent, 0);
	}
	ASSERT_INT_EQ(system("cmp -s " HOST "/b-big " HERE "/b-big"), 0);
	ASSERT_INT_EQ(system("test ! -e " HERE "/a-big"), 0);
	/* Stable now: a-big comes too. */
	b_big_then_a_big(&pull, &sent);
	finish(&pull, sent);
}

/* Writes here fail past 1 MiB: a 2 MiB file and big's piece fail alone,
 * named with the error, no temporary file left; the small file comes, the
 * pulls stop (no hot loop), and both come at a later pull once writes work
 * again. */
TEST(a_file_not_written_here_fails_alone_and_comes_later)
{
	struct sync_back_pull pull = { 0 };
	struct sync_scan *sent = xcalloc(1, sizeof *sent);
	struct sync_back_stats st = { 0 };

	setup_with("head -c 9437184 /dev/urandom >" HOST "/big && "
		   "head -c 2097152 /dev/urandom >" HOST "/mid && echo s >" HOST "/a");
	pull_limited(&pull, &sent, 1 << 20, 2, &st); /* (the 2nd: the same) */
	ASSERT_INT_EQ(st.failed, 4);
	ASSERT_TRUE(strstr(st.failed_text, HERE "/big: ") != NULL);
	ASSERT_TRUE(strstr(st.failed_text, "File too large") != NULL);
	ASSERT_INT_EQ(st.more, 0);
	ASSERT_INT_EQ(system("test -e " HERE "/a && test ! -e " HERE "/mid && "
			     "test ! -e " HERE "/big"),
	    0);
	ASSERT_INT_EQ(system("ls -a " HERE " | grep -q rdev-back"), 256);
	sync_back_stats_clear(&st);
	pull_until_whole(&pull, &sent, 6);
	check_whole();
	ASSERT_INT_EQ(system("cmp -s " HOST "/mid " HERE "/mid"), 0);
	finish(&pull, sent);
}

/* Writes here fail past 8.5 MiB: a 9 MiB file's first piece is written,
 * its last fails; that answer is not acknowledged (or the agent would
 * index the file and never send it again), and the file comes whole once
 * writes work again. */
TEST(a_big_file_s_last_piece_not_written_here_comes_later)
{
	struct sync_back_pull pull = { 0 };
	struct sync_scan *sent = xcalloc(1, sizeof *sent);
	struct sync_back_stats st = { 0 };

	setup_with("head -c 9437184 /dev/urandom >" HOST "/big");
	ASSERT_INT_EQ(pull_once(&pull, &sent, 0), 0);
	pull_limited(&pull, &sent, 17 << 19, 1, &st);
	ASSERT_INT_EQ(st.failed, 1);
	ASSERT_INT_EQ(st.partial, 1);
	ASSERT_TRUE(pull.ack == NULL);
	sync_back_stats_clear(&st);
	pull_once(&pull, &sent, 0);
	pull_until_whole(&pull, &sent, 4);
	check_whole();
	finish(&pull, sent);
}

/* a-big's bytes changed here between its pieces: its whole hash does not
 * match at the last piece; not counted as failed, and b-big comes next
 * (a-big after it), not a-big again at once. */
TEST(a_big_file_whose_hash_does_not_match_goes_to_the_back)
{
	struct sync_back_pull pull = { 0 };
	struct sync_scan *sent = xcalloc(1, sizeof *sent);
	struct sync_back_stats st = { 0 };

	/* (a-big's first byte is "A": the "x" written over it below always
	 * changes it; a random one was "x" once in 256 runs) */
	setup_with("{ printf A; head -c 9437183 /dev/urandom; } >" HOST "/a-big && "
		   "head -c 9437184 /dev/urandom >" HOST "/b-big");
	ASSERT_INT_EQ(pull_once(&pull, &sent, 0), 0);
	ASSERT_STR_EQ(pull.piece_path, "a-big");
	ASSERT_INT_EQ(system("for f in " HERE "/.rdev-back-*; do printf x | dd "
			     "of=\"$f\" conv=notrunc status=none; done"),
	    0);
	ASSERT_TRUE(pull_st(&pull, &sent, 0, &st) > 0);
	ASSERT_INT_EQ(st.failed, 0);
	ASSERT_INT_EQ(st.partial, 1);
	ASSERT_INT_EQ(system("test ! -e " HERE "/a-big"), 0);
	ASSERT_INT_EQ(system("ls -a " HERE " | grep -q rdev-back"), 256);
	sync_back_stats_clear(&st);
	ASSERT_INT_EQ(pull_once(&pull, &sent, 0), 0);
	ASSERT_STR_EQ(pull.piece_path, "b-big");
	b_big_then_a_big(&pull, &sent);
	finish(&pull, sent);
}

/* HERE/d is a symlink: the host's d/x fails here every time (never
 * followed), so no answer is applied whole; the acknowledgement names it
 * (not applied), so big's last piece is still acknowledged: big is indexed,
 * not sent again from 0, while d/x keeps coming. */
TEST(a_file_failing_every_time_does_not_hold_back_a_big_file)
{
	struct sync_back_pull pull = { 0 };
	struct sync_scan *sent = xcalloc(1, sizeof *sent);
	struct sync_back_stats st = { 0 };

	setup_with("head -c 9437184 /dev/urandom >" HOST "/big && mkdir " HOST "/d " DIR
		   "/out && echo x >" HOST "/d/x && ln -s ../out " HERE "/d");
	for (int n = 0; n < 3 && system("cmp -s " HOST "/big " HERE "/big") != 0; n++)
		pull_once(&pull, &sent, 0);
	check_whole();
	ASSERT_TRUE(pull.ack_some != NULL);
	ASSERT_INT_EQ(pull_st(&pull, &sent, 0, &st), -1); /* (big indexed) */
	ASSERT_TRUE(st.failed > 0);
	ASSERT_TRUE(strstr(st.failed_text, "d/x") != NULL);
	ASSERT_INT_EQ(system("test ! -e " DIR "/out/x"), 0);
	sync_back_stats_clear(&st);
	finish(&pull, sent);
}

/* "ackExcept" commits only with a list of paths as "notApplied": anything
 * else commits nothing (the answer comes again), never everything. */
TEST(a_partial_ack_needs_a_list_of_paths)
{
	cJSON *ok = cJSON_Parse("[\"a\",\"b/c\"]"), *mixed = cJSON_Parse("[\"a\",1]");
	cJSON *str = cJSON_CreateString("a"), *obj = cJSON_CreateObject();

	ASSERT_INT_EQ(sync_pull_paths_ok(ok), 1);
	ASSERT_INT_EQ(sync_pull_paths_ok(mixed), 0);
	ASSERT_INT_EQ(sync_pull_paths_ok(str), 0);
	ASSERT_INT_EQ(sync_pull_paths_ok(obj), 0);
	ASSERT_INT_EQ(sync_pull_paths_ok(NULL), 0);
	cJSON_Delete(ok);
	cJSON_Delete(mixed);
	cJSON_Delete(str);
	cJSON_Delete(obj);
}

/* The put paths of the answer a pull brought: counted by the lines. */
static int
pulled_lines(const struct sync_back_stats *st, const char *prefix)
{
	const cJSON *l;
	int n = 0;

	cJSON_ArrayForEach(l, st->lines) {
		if (strncmp(l->valuestring, prefix, strlen(prefix)) == 0)
			n++;
	}
	return n;
}

/* 1,100 host files under sub/, which a self-ignoring sub/.rdevignore
 * leaves out here (the host never had it), and a 9 MiB file there: told
 * once, then kept aside; a later change comes in the next answer, alone;
 * one of them changed on the host is told again. */
TEST(what_is_ignored_here_is_told_once_and_kept_aside)
{
	struct sync_back_pull pull = { 0 };
	struct sync_scan *sent = xcalloc(1, sizeof *sent);
	struct sync_back_stats st = { .lines = cJSON_CreateArray() };
	struct sync_ignore *ig = NULL;
	char *cause = NULL;
	int n;

	setup_with(
	    "mkdir " HOST "/sub " HERE "/sub && echo '*' >" HERE
	    "/sub/.rdevignore && cd " HOST "/sub && seq 1100 | xargs touch && "
	    "head -c 9437184 /dev/urandom >big && cd - >/dev/null && echo a >" HOST "/a");
	ASSERT_INT_EQ(sync_scan_ignore(HERE, 0, &ig, &cause), 0);
	for (n = 0; n < 6 && (n == 0 || st.more || pull.ignored_here != NULL); n++)
		pull_ig(&pull, &sent, 0, ig, &st);
	ASSERT_TRUE(n < 6);
	ASSERT_INT_EQ(system("test -e " HERE "/a && test ! -e " HERE "/sub/1 && "
			     "test ! -e " HERE "/sub/big"),
	    0);
	ASSERT_TRUE(pulled_lines(&st, "ignored here") >= 2);
	cJSON_Delete(st.lines);
	st.lines = cJSON_CreateArray();
	/* Aside: nothing more, and a change comes alone, at once. */
	ASSERT_INT_EQ(system("echo b >" HOST "/b"), 0);
	ASSERT_INT_EQ(pull_ig(&pull, &sent, 0, ig, &st), -1);
	ASSERT_INT_EQ(system("test -e " HERE "/b"), 0);
	ASSERT_INT_EQ(st.more, 0);
	ASSERT_INT_EQ(pulled_lines(&st, "ignored here"), 0);
	ASSERT_INT_EQ(pulled_lines(&st, "pulled"), 1);
	/* Changed on the host: told again (and only it). */
	ASSERT_INT_EQ(system("echo x >" HOST "/sub/7"), 0);
	pull_ig(&pull, &sent, 0, ig, &st);
	ASSERT_INT_EQ(pulled_lines(&st, "ignored here sub/7"), 1);
	ASSERT_INT_EQ(system("test ! -e " HERE "/sub/7"), 0);
	finish_ig(&pull, sent, ig, &st);
}

/* HOST/sub/x, which a self-ignoring sub/.rdevignore leaves out here: the
 * ignore rules here (new). */
static struct sync_ignore *
setup_ignored_sub(void)
{
	struct sync_ignore *ig = NULL;
	char *cause = NULL;

	setup_with("mkdir " HOST "/sub " HERE "/sub && echo '*' >" HERE
		   "/sub/.rdevignore && echo x >" HOST "/sub/x");
	ASSERT_INT_EQ(sync_scan_ignore(HERE, 0, &ig, &cause), 0);
	return ig;
}

/* The ignore rule here removed: what the agent kept aside under it comes
 * back (the rules' "ignoreTag" changed), not only once it changes there. */
TEST(what_was_kept_aside_comes_back_when_the_rules_here_change)
{
	struct sync_ignore *ig = setup_ignored_sub();
	struct sync_back_pull pull = { 0 };
	struct sync_back_stats st = { 0 };
	struct sync_scan *sent = xcalloc(1, sizeof *sent);
	char *cause = NULL;

	for (int n = 0; n < 3; n++) /* (told, kept aside, nothing) */
		pull_ig(&pull, &sent, 0, ig, &st);
	ASSERT_TRUE(pull.ignored_here == NULL);
	ASSERT_INT_EQ(system("test ! -e " HERE "/sub/x"), 0);
	sync_ignore_free(ig);
	ASSERT_INT_EQ(system("rm " HERE "/sub/.rdevignore"), 0);
	ASSERT_INT_EQ(sync_scan_ignore(HERE, 0, &ig, &cause), 0);
	pull_ig(&pull, &sent, 0, ig, &st);
	ASSERT_INT_EQ(system("test -e " HERE "/sub/x"), 0);
	finish_ig(&pull, sent, ig, &st);
}

/* What is kept aside cannot be saved (a folder in its file's place): the
 * answer says why ("asideFailed"), told once, not at every pull. */
TEST(an_aside_not_saved_is_told_once)
{
	struct sync_back_pull pull = { 0 };
	struct sync_scan *sent = xcalloc(1, sizeof *sent);
	struct sync_back_stats st = { 0 };
	struct sync_ignore *ig = setup_ignored_sub();
	char *text = NULL;
	int told = 0;

	ASSERT_INT_EQ(system("mkdir " INDEX ".aside"), 0);
	pull_ig(&pull, &sent, 0, ig, &st);
	ASSERT_TRUE(st.aside_failed != NULL);
	ASSERT_INT_EQ(sync_back_aside_failed_news(&st, &told, &text), 1);
	ASSERT_TRUE(strstr(text, "could not keep what is ignored here aside") != NULL);
	free(text);
	ASSERT_INT_EQ(sync_back_aside_failed_news(&st, &told, &text), 0);
	ASSERT_TRUE(text == NULL);
	finish_ig(&pull, sent, ig, &st);
}

/* An answer of an agent without "ignoredHere": a path ignored here is not
 * applied (reported again), never acknowledged whole. */
TEST(to_an_older_agent_what_is_ignored_here_is_not_applied)
{
	struct sync_back_pull pull = { 0 };
	struct sync_scan *sent = xcalloc(1, sizeof *sent);
	struct sync_back_stats st = { 0 };
	struct sync_ignore *ig = NULL;
	cJSON *res = NULL;
	char *cause = NULL;

	ig = setup_ignored_sub();
	ASSERT_INT_EQ(sync_pull_changes(HOST, INDEX, 0, NULL, NULL, &res, &cause), 0);
	cJSON_DeleteItemFromObjectCaseSensitive(res, "ignoredHere");
	ASSERT_INT_EQ(sync_back_answer(HERE, res, ig, &sent, &pull, &st, &cause), 0);
	sync_back_answered(&pull, res, &st);
	ASSERT_TRUE(pull.ack == NULL && pull.ack_some != NULL);
	ASSERT_INT_EQ(cJSON_GetArraySize(pull.not_applied), 1);
	ASSERT_TRUE(pull.ignored_here == NULL);
	cJSON_Delete(res);
	finish_ig(&pull, sent, ig, &st);
}

/* "ignoredHere" is taken only as a list of paths; with "ackExcept", a bad
 * one commits nothing. */
TEST(ignored_here_needs_a_list_of_paths)
{
	cJSON *bad = cJSON_Parse("{\"ackExcept\":\"id\",\"notApplied\":[],"
				 "\"ignoredHere\":[1]}"),
	      *good = cJSON_Parse("{\"ackExcept\":\"id\",\"notApplied\":[],"
				  "\"ignoredHere\":[\"a\"]}");
	struct sync_pull_opts o;
	const char *ack;

	sync_pull_request(bad, &ack, &o);
	ASSERT_TRUE(ack == NULL && o.ignored_here == NULL);
	sync_pull_request(good, &ack, &o);
	ASSERT_STR_EQ(ack, "id");
	ASSERT_INT_EQ(cJSON_GetArraySize(o.ignored_here), 1);
	cJSON_Delete(bad);
	cJSON_Delete(good);
}
