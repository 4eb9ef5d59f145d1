/* test-sync-back.c - unit tests for common/sync-back.c, a two-way sync's
 * answer applied to the local folder (sync_back_answer): a host delete never
 * follows a local symlinked folder out of the root, a delete not applied
 * stays in the sent state (so it is not undone), a folder replaced by a file
 * (and back) on the host is replaced here, a pulled symlink or folder
 * is recorded as the local scan will see it (not sent back), the
 * temporary files of a killed sync are removed when a sync starts (only
 * those, never a symlink or a running process's). */
#include "test.h"

#include "sync-back-sweep.h"
#include "sync-back.h"
#include "sync-ignore.h"
#include "sync-scan.h"
#include "sync-send.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "xmalloc.h"

#define DIR "rdev-test-back"
#define WS DIR "/ws"

/* The local folder's scan: what the sync has sent. New. */
static struct sync_scan *
scan_ws(void)
{
	struct sync_scan *s = NULL;
	char *cause = NULL;

	if (sync_scan(WS, NULL, NULL, &s, &cause) != 0)
		TEST_FAIL("scan: %s", cause);
	return s;
}

/* Apply answer (JSON text) to WS with *sent; its return. */
static int
apply(const char *answer, struct sync_scan **sent)
{
	struct sync_back_stats st = { 0 };
	cJSON *a = cJSON_Parse(answer);
	char *cause = NULL;
	int rc;

	if (a == NULL)
		TEST_FAIL("bad answer %s", answer);
	rc = sync_back_answer(WS, a, NULL, sent, NULL, &st, &cause);
	if (rc != 0)
		fprintf(stderr, "  apply: %s\n", cause);
	free(cause);
	sync_back_stats_clear(&st);
	cJSON_Delete(a);
	return rc;
}

TEST(a_host_delete_does_not_follow_a_local_symlinked_folder)
{
	struct sync_scan *sent;

	ASSERT_INT_EQ(
	    system("rm -rf " DIR " && mkdir -p " WS "/build && echo x >" WS "/build/x"),
	    0);
	sent = scan_ws();
	/* build moved out of the folder, a symlink left in its place */
	ASSERT_INT_EQ(
	    system("mv " WS "/build " DIR "/out && ln -s ../out " WS "/build"), 0);
	ASSERT_INT_EQ(apply("{\"put\":[],\"data\":[],\"drop\":[\"build/x\"]}", &sent), 0);
	ASSERT_INT_EQ(access(DIR "/out/x", F_OK), 0);
	sync_scan_free(sent);
	ASSERT_INT_EQ(system("rm -rf " DIR), 0);
}

TEST(a_delete_not_applied_stays_in_sent)
{
	struct sync_scan *sent;

	ASSERT_INT_EQ(system("rm -rf " DIR " && mkdir -p " WS "/d"), 0);
	sent = scan_ws();
	/* a file made here in the folder the host deleted: the folder stays */
	ASSERT_INT_EQ(system("echo y >" WS "/d/y"), 0);
	ASSERT_INT_EQ(apply("{\"put\":[],\"data\":[],\"drop\":[\"d\"]}", &sent), 0);
	ASSERT_INT_EQ(access(WS "/d/y", F_OK), 0);
	ASSERT_NOT_NULL(sync_scan_find(sent, "d"));
	sync_scan_free(sent);
	ASSERT_INT_EQ(system("rm -rf " DIR), 0);
}

/* Several host deletes in one answer, one of them not applied: the ones
 * applied are gone here and out of sent, the kept one stays in both (the
 * list of those applied was packed over entries not read yet: one freed
 * twice, a file left, the broker aborted on every pull). */
TEST(several_host_deletes_in_one_answer)
{
	struct sync_scan *sent;

	ASSERT_INT_EQ(system("rm -rf " DIR " && mkdir -p " WS "/d && echo 1 >" WS
			     "/f1 && echo 2 >" WS "/f2 && echo 3 >" WS "/f3"),
	    0);
	sent = scan_ws();
	ASSERT_INT_EQ(system("echo y >" WS "/d/y"), 0);
	ASSERT_INT_EQ(apply("{\"put\":[],\"data\":[],"
			    "\"drop\":[\"d\",\"f1\",\"f2\",\"f3\"]}",
			  &sent),
	    0);
	ASSERT_INT_EQ(access(WS "/f1", F_OK), -1);
	ASSERT_INT_EQ(access(WS "/f2", F_OK), -1);
	ASSERT_INT_EQ(access(WS "/f3", F_OK), -1);
	ASSERT_INT_EQ(access(WS "/d/y", F_OK), 0);
	ASSERT_NULL(sync_scan_find(sent, "f1"));
	ASSERT_NULL(sync_scan_find(sent, "f2"));
	ASSERT_NULL(sync_scan_find(sent, "f3"));
	ASSERT_NOT_NULL(sync_scan_find(sent, "d"));
	sync_scan_free(sent);
	ASSERT_INT_EQ(system("rm -rf " DIR), 0);
}

#define ZERO "00000000000000000000000000000000"

TEST(a_folder_replaced_by_a_file_on_the_host_and_back)
{
	struct sync_scan *sent;

	ASSERT_INT_EQ(system("rm -rf " DIR " && mkdir -p " WS "/out && echo x >" WS
			     "/out/x && echo g >" WS "/g"),
	    0);
	sent = scan_ws();
	/* host: rm -rf out; echo x >out; rm g; mkdir g; echo x >g/x */
	ASSERT_INT_EQ(apply("{\"put\":[[\"d\",\"g\",493],[\"f\",\"g/x\",\"" ZERO
			    "\",420,1],[\"f\",\"out\",\"" ZERO "\",420,1]],"
			    "\"data\":[\"eA==\",\"eA==\"],\"drop\":[\"out/x\"]}",
			  &sent),
	    0);
	ASSERT_INT_EQ(
	    system("test \"$(cat " WS "/out)\" = x && test \"$(cat " WS "/g/x)\" = x"),
	    0);
	sync_scan_free(sent);
	ASSERT_INT_EQ(system("rm -rf " DIR), 0);
}

/* Entries that could not land on the host (pull->retry): sent has the
 * version sent, not the host's. A host change to one is a conflict (the
 * local version kept, the host's saved beside it), a host delete of one
 * leaves it here (and in sent: it goes again); taken as agreed, the local
 * version was replaced or deleted unseen. */
TEST(a_host_change_to_an_entry_that_did_not_land_is_a_conflict)
{
	struct sync_back_pull pull = { 0 };
	struct sync_back_stats st = { 0 };
	struct sync_scan *sent;
	char *retry[] = { "a", "b" }, *cause = NULL;
	cJSON *a;

	ASSERT_INT_EQ(system("rm -rf " DIR " && mkdir -p " WS " && echo here >" WS
			     "/a && echo here >" WS "/b && echo here >" WS "/c"),
	    0);
	sent = scan_ws();
	pull.retry = retry;
	pull.nretry = 2;
	a = cJSON_Parse("{\"put\":[[\"f\",\"a\",\"" ZERO "\",420,1],"
			"[\"f\",\"c\",\"" ZERO "\",420,1]],"
			"\"data\":[\"eA==\",\"eA==\"],\"drop\":[\"b\"]}");
	ASSERT_INT_EQ(sync_back_answer(WS, a, NULL, &sent, &pull, &st, &cause), 0);
	ASSERT_INT_EQ(
	    system("test \"$(cat " WS "/a)\" = here && test \"$(cat " WS
		   "/b)\" = here && test \"$(cat " WS "/a.rdev-conflict-*)\" = x"),
	    0);
	ASSERT_INT_EQ((int)st.conflicts, 1);
	ASSERT_INT_EQ((int)st.removed, 0);
	ASSERT_NOT_NULL(sync_scan_find(sent, "b"));
	/* (one that landed is the host's, as before) */
	ASSERT_INT_EQ(system("test \"$(cat " WS "/c)\" = x"), 0);
	sync_back_stats_clear(&st);
	sync_back_pull_clear(&pull, NULL);
	cJSON_Delete(a);
	sync_scan_free(sent);
	ASSERT_INT_EQ(system("rm -rf " DIR), 0);
}

/* The agent cut its list of entries that could not land and named the
 * rest by folder ("failedUnder"): every entry the send carried at or under
 * that folder goes into the retry list (not the whole folder again: no
 * failed_uncovered, no resend), so a pull takes none of them as agreed
 * (a host change under it is a conflict, the local version kept), while a
 * host change elsewhere lands as usual. */
TEST(entries_under_a_failed_folder_are_not_agreed_a_pull_elsewhere_lands)
{
	struct sync_send_stats ss = { .failed = cJSON_CreateArray() };
	struct sync_back_pull pull = { 0 };
	struct sync_back_stats st = { 0 };
	struct sync_scan *sent;
	char **retry, *cause = NULL, *text;
	char *del[] = { "nm/gone.js", "old", "src/old.c" };
	size_t nretry;
	cJSON *a, *res;

	ASSERT_INT_EQ(
	    system("rm -rf " DIR " && mkdir -p " WS "/nm/p " WS "/src && echo here >" WS
		   "/nm/p/a.js && echo here >" WS "/nm/p/b.js && echo here >" WS
		   "/nm-x && echo here >" WS "/src/c.c"),
	    0);
	sent = scan_ws();
	/* (the send's answer: one listed, the rest under nm) */
	cJSON_AddItemToArray(ss.failed,
	    cJSON_Parse("{\"path\":\"nm/p/a.js\",\"error\":\"'nm/p/a.js': "
			"Permission denied\"}"));
	ss.failed_count = 6;
	res = cJSON_Parse("{\"failedCount\":6,\"failedUnder\":[\"nm\",\"old/d/x\"]}");
	ASSERT_INT_EQ(sync_send_note_under(res, sent, del, 3, &ss), 1);
	ASSERT_INT_EQ((int)ss.nfailed_under, 6); /* (nm/p/a.js listed too) */
	ASSERT_INT_EQ(ss.failed_unnamed, 0);
	ASSERT_INT_EQ(ss.failed_uncovered, 0);
	retry = sync_send_failed_paths(&ss, &nretry);
	/* nm, nm/p, nm/p/a.js, nm/p/b.js, the deletion nm/gone.js and that
	 * of old (old/d/x was under it); not nm-x, src/c.c, src/old.c */
	ASSERT_INT_EQ((int)nretry, 6);
	ASSERT_STR_EQ(retry[0], "nm");
	ASSERT_STR_EQ(retry[1], "nm/gone.js");
	ASSERT_STR_EQ(retry[4], "nm/p/b.js");
	ASSERT_STR_EQ(retry[5], "old");
	text = sync_send_failed_text(&ss);
	ASSERT_STR_CONTAINS(text, "Permission denied (and 5 more entries");
	ASSERT_STR_CONTAINS(text, "under 'nm/'");
	free(text);
	/* a pull: the host changed nm/p/b.js and src/c.c */
	pull.retry = retry;
	pull.nretry = nretry;
	a = cJSON_Parse("{\"put\":[[\"f\",\"nm/p/b.js\",\"" ZERO "\",420,1],"
			"[\"f\",\"src/c.c\",\"" ZERO "\",420,1]],"
			"\"data\":[\"eA==\",\"eA==\"],\"drop\":[]}");
	ASSERT_INT_EQ(sync_back_answer(WS, a, NULL, &sent, &pull, &st, &cause), 0);
	ASSERT_INT_EQ(system("test \"$(cat " WS "/nm/p/b.js)\" = here && test \"$(cat " WS
			     "/src/c.c)\" = x"),
	    0);
	ASSERT_INT_EQ((int)st.conflicts, 1);
	sync_back_stats_clear(&st);
	sync_back_pull_clear(&pull, NULL);
	sync_paths_free(retry, nretry);
	cJSON_Delete(a);
	cJSON_Delete(res);
	sync_send_failed_free(&ss);
	sync_scan_free(sent);
	ASSERT_INT_EQ(system("rm -rf " DIR), 0);
}

/* A whole send (no deletion list): a named folder gone here goes again as
 * a deletion; one still here leaves its deletions unnamed (failed_unnamed:
 * one more whole send once the rest landed). A cover that is not a path
 * inside the folder is no cover (the whole folder goes again). A file the
 * agent named alone is told as "e.g. 'c'", not as a folder "under 'c/'". */
TEST(a_whole_send_s_failed_folders)
{
	struct sync_send_stats ss = { .failed = cJSON_CreateArray() };
	struct sync_scan *sent;
	char **retry, *text;
	size_t nretry;
	cJSON *res;

	ASSERT_INT_EQ(system("rm -rf " DIR " && mkdir -p " WS "/nm && echo here >" WS
			     "/nm/a.js && echo here >" WS "/c"),
	    0);
	sent = scan_ws();
	res = cJSON_Parse("{\"failedCount\":9,\"failedUnder\":[\"gone\",\"nm\"]}");
	ASSERT_INT_EQ(sync_send_note_under(res, sent, NULL, 0, &ss), 1);
	ASSERT_INT_EQ(ss.failed_unnamed, 1);
	retry = sync_send_failed_paths(&ss, &nretry);
	ASSERT_INT_EQ((int)nretry, 3);
	ASSERT_STR_EQ(retry[0], "gone");
	ASSERT_STR_EQ(retry[1], "nm");
	ASSERT_STR_EQ(retry[2], "nm/a.js");
	sync_paths_free(retry, nretry);
	cJSON_Delete(res);
	sync_send_failed_free(&ss);
	ss.failed = cJSON_CreateArray();
	ss.failed_unnamed = 0;
	res = cJSON_Parse("{\"failedCount\":9,\"failedUnder\":[\"nm\",\"../x\"]}");
	ASSERT_INT_EQ(sync_send_note_under(res, sent, NULL, 0, &ss), 0);
	ASSERT_INT_EQ((int)ss.nfailed_under, 0);
	ASSERT_INT_EQ(cJSON_GetArraySize(ss.failed), 0);
	cJSON_Delete(res);
	sync_send_failed_free(&ss);
	ss.failed = cJSON_CreateArray();
	cJSON_AddItemToArray(ss.failed,
	    cJSON_Parse("{\"path\":\"nm/a.js\",\"error\":\"'nm/a.js': "
			"Permission denied\"}"));
	ss.failed_count = 3;
	res = cJSON_Parse("{\"failedCount\":3,\"failedUnder\":[\"c\"]}");
	ASSERT_INT_EQ(sync_send_note_under(res, sent, NULL, 0, &ss), 1);
	text = sync_send_failed_text(&ss);
	ASSERT_STR_CONTAINS(text, "Permission denied (and 2 more entries");
	ASSERT_STR_CONTAINS(text, "e.g. 'c')");
	ASSERT_FALSE(strstr(text, "under") != NULL);
	free(text);
	cJSON_Delete(res);
	sync_send_failed_free(&ss);
	sync_scan_free(sent);
	ASSERT_INT_EQ(system("rm -rf " DIR), 0);
}

TEST(a_pulled_symlink_and_folder_are_recorded_as_scanned)
{
	struct sync_scan *sent, *now;

	ASSERT_INT_EQ(system("rm -rf " DIR " && mkdir -p " WS), 0);
	sent = scan_ws();
	ASSERT_INT_EQ(apply("{\"put\":[[\"d\",\"d\",511],[\"l\",\"ln\",\"t\"]],"
			    "\"data\":[],\"drop\":[]}",
			  &sent),
	    0);
	now = scan_ws();
	ASSERT_NOT_NULL(sync_scan_find(sent, "ln"));
	ASSERT_NOT_NULL(sync_scan_find(now, "ln"));
	ASSERT_INT_EQ(sync_scan_find(sent, "ln")->mode, sync_scan_find(now, "ln")->mode);
	ASSERT_INT_EQ(sync_scan_find(sent, "d")->mode, sync_scan_find(now, "d")->mode);
	sync_scan_free(now);
	sync_scan_free(sent);
	ASSERT_INT_EQ(system("rm -rf " DIR), 0);
}

TEST(a_crash_s_temporary_file_is_left_out_both_ways)
{
	struct sync_ignore *ig = NULL;
	char *cause = NULL;

	ASSERT_INT_EQ(system("rm -rf " DIR " && mkdir -p " WS), 0);
	ASSERT_INT_EQ(sync_scan_ignore(WS, 0, &ig, &cause), 0);
	ASSERT_TRUE(sync_ignore_match(ig, SYNC_BACK_TMP "12-0", 0));
	ASSERT_TRUE(sync_ignore_match(ig, "d/" SYNC_BACK_TMP "12-0", 0));
	ASSERT_FALSE(sync_ignore_match(ig, "a", 0));
	sync_ignore_free(ig);
	ASSERT_INT_EQ(system("rm -rf " DIR), 0);
}

TEST(a_killed_sync_s_temporary_files_are_removed_at_start)
{
	struct sync_ignore *ig = NULL;
	char *cause = NULL, cmd[1024];
	long pid;
	pid_t dead = fork();

	if (dead == 0)
		_exit(0);
	ASSERT_TRUE(dead > 0 && waitpid(dead, NULL, 0) == dead);
	/* Removed: a dead PID's, in the root and in a folder. Kept: a running
	 * process's (ours), a symlink, a folder, other names (a user's file
	 * in the same prefix), and what is in an ignored folder or beyond a
	 * symlinked one. */
	snprintf(cmd, sizeof cmd,
	    "rm -rf " DIR " && mkdir -p " WS "/d " WS "/ign " DIR "/out && cd " WS
	    " && echo ign/ >.rdevignore && touch .rdev-back-%d-p0000a0ff "
	    "d/.rdev-back-%d-3 "
	    ".rdev-back-%ld-1 .rdev-back-%d- .rdev-back-x-1 .rdev-back-0%d-1 "
	    ".rdev-back-%d-notes .rdev-back-%d-p0a "
	    "ign/.rdev-back-%d-1 ../out/.rdev-back-%d-1 && ln -s ../out lnk && "
	    "ln -s nowhere .rdev-back-%d-9 && mkdir .rdev-back-%d-8",
	    (int)dead, (int)dead, (long)getpid(), (int)dead, (int)dead, (int)dead,
	    (int)dead, (int)dead, (int)dead, (int)dead, (int)dead);
	ASSERT_INT_EQ(system(cmd), 0);
	ASSERT_INT_EQ(sync_scan_ignore(WS, 0, &ig, &cause), 0);
	ASSERT_INT_EQ(sync_back_sweep(WS, ig), 2);
	ASSERT_INT_EQ(system("cd " WS " && ls -A . d ign ../out | grep -c rdev-back | "
			     "grep -qx 10"),
	    0);
	snprintf(cmd, sizeof cmd, "test ! -e " WS "/d/.rdev-back-%d-3", (int)dead);
	ASSERT_INT_EQ(system(cmd), 0);
	ASSERT_TRUE(sync_back_sweep_name(".rdev-back-12-p0000a0ff", &pid) && pid == 12);
	ASSERT_TRUE(sync_back_sweep_name(".rdev-back-2147483647-7", &pid));
	ASSERT_FALSE(sync_back_sweep_name(".rdev-back-12-p0a", &pid));
	ASSERT_FALSE(sync_back_sweep_name(".rdev-back-12-p0000a0ff0", &pid));
	ASSERT_FALSE(sync_back_sweep_name(".rdev-back-12-p0000A0FF", &pid));
	ASSERT_FALSE(sync_back_sweep_name(".rdev-back-2024-notes", &pid));
	ASSERT_FALSE(sync_back_sweep_name(".rdev-back-12-1x", &pid));
	ASSERT_FALSE(sync_back_sweep_name(".rdev-back-4294967291-1", &pid));
	ASSERT_FALSE(sync_back_sweep_name(".rdev-back-2147483648-1", &pid));
	ASSERT_FALSE(sync_back_sweep_name(".rdev-back-12", &pid));
	ASSERT_FALSE(sync_back_sweep_name("x.rdev-back-12-1", &pid));
	sync_ignore_free(ig);
	ASSERT_INT_EQ(system("rm -rf " DIR), 0);
}

TEST(a_conflict_name_stays_within_name_max)
{
	char leaf[256], *name;
	const char *l;

	memset(leaf, 'a', 250);
	leaf[250] = '\0';
	name = sync_back_conflict_name(AT_FDCWD, leaf);
	ASSERT_TRUE(strlen(name) <= 255);
	ASSERT_STR_CONTAINS(name, SYNC_BACK_CONFLICT);
	free(name);
	name = sync_back_conflict_name(AT_FDCWD, "d/short");
	l = strrchr(name, '/');
	ASSERT_TRUE(strncmp(l, "/short" SYNC_BACK_CONFLICT, 6 + 15) == 0);
	free(name);
}

/* The mode of path here (0777 bits). */
static unsigned
mode_of(const char *path)
{
	struct stat sb;

	if (stat(path, &sb) != 0)
		TEST_FAIL("stat %s", path);
	return sb.st_mode & 0777;
}

/* A chmod in the container (the same bytes, another mode) comes back: the
 * local file takes the host's mode when its own is still the one synced
 * (it was never applied: the content matched, so the entry was taken as
 * the same on both sides); chmod-ed here too, the local mode stays, told
 * as a conflict, and sent holds the host's, so that the next batch sends
 * the local one. */
TEST(a_host_chmod_comes_back_a_chmod_on_both_sides_keeps_the_local_mode)
{
	struct sync_back_stats st = { 0 };
	struct sync_scan *sent;
	char ans[512], *cause = NULL;
	cJSON *a;

	ASSERT_INT_EQ(
	    system("rm -rf " DIR " && mkdir -p " WS " && echo x >" WS
		   "/e.sh && echo x >" WS "/g.txt && chmod 644 " WS "/e.sh " WS "/g.txt"),
	    0);
	sent = scan_ws();
	ASSERT_INT_EQ(system("chmod 600 " WS "/g.txt"), 0);
	snprintf(ans, sizeof ans,
	    "{\"put\":[[\"f\",\"e.sh\",\"%s\",493,2],[\"f\",\"g.txt\",\"%s\",493,2]],"
	    "\"data\":[\"eAo=\",\"eAo=\"],\"drop\":[]}",
	    sync_scan_find(sent, "e.sh")->hash, sync_scan_find(sent, "g.txt")->hash);
	a = cJSON_Parse(ans);
	st.lines = cJSON_CreateArray();
	ASSERT_INT_EQ(sync_back_answer(WS, a, NULL, &sent, NULL, &st, &cause), 0);
	ASSERT_INT_EQ(mode_of(WS "/e.sh"), 0755);
	ASSERT_INT_EQ(sync_scan_find(sent, "e.sh")->mode, 0755);
	ASSERT_INT_EQ(st.pulled, 1);
	ASSERT_INT_EQ(mode_of(WS "/g.txt"), 0600);
	ASSERT_INT_EQ(sync_scan_find(sent, "g.txt")->mode, 0755);
	ASSERT_INT_EQ(st.conflicts, 1);
	/* (told to the caller, whose next scan then covers it: the broker's
	 * batch scans the whole folder) */
	ASSERT_INT_EQ(st.mode_kept, 1);
	ASSERT_STR_CONTAINS(cJSON_GetStringValue(cJSON_GetArrayItem(st.lines, 1)),
	    "conflict g.txt: the local mode 0600 kept");
	cJSON_Delete(a);
	sync_back_stats_clear(&st);
	sync_scan_free(sent);
	ASSERT_INT_EQ(system("rm -rf " DIR), 0);
}
