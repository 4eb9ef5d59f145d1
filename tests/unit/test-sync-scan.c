/* test-sync-scan.c - unit tests for common/sync-scan.c: a folder's entries
 * (links not followed, .rdevignore honoured), entries deleted while a scan
 * walks the folder, the manifest's round trip, the hashes a previous scan
 * lends, and the paths a sync may name. */
#include "test.h"

#include "sync-scan.h"
#include "xmalloc.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

TEST(paths_a_sync_may_name)
{
	ASSERT_TRUE(sync_path_ok("a"));
	ASSERT_TRUE(sync_path_ok("a/b.c/..d"));
	ASSERT_FALSE(sync_path_ok(""));
	ASSERT_FALSE(sync_path_ok("/a"));
	ASSERT_FALSE(sync_path_ok("a/"));
	ASSERT_FALSE(sync_path_ok("a//b"));
	ASSERT_FALSE(sync_path_ok("./a"));
	ASSERT_FALSE(sync_path_ok("a/../b"));
	ASSERT_FALSE(sync_path_ok(".."));
	ASSERT_FALSE(sync_path_ok("a\nb"));
	ASSERT_FALSE(sync_path_ok("a\x7f"));
	/* (C1 as UTF-8 encodes it, U+009B a CSI: quote.h's control too) */
	ASSERT_FALSE(sync_path_ok("a/\xc2\x9b"
				  "31m"));
	ASSERT_FALSE(sync_path_ok("\xc2\x80"));
	/* (a letter beside them is not one: U+00A0, U+00E9) */
	ASSERT_TRUE(sync_path_ok("a\xc2\xa0\xc3\xa9"
				 "b"));
}

TEST(scan_ignore_links_and_manifest)
{
	struct sync_ignore *ig = NULL;
	struct sync_scan *s = NULL, *back = NULL, *again = NULL;
	const struct sync_entry *e;
	char *cause = NULL;
	cJSON *m;

	ASSERT_INT_EQ(
	    system("rm -rf rdev-test-scan rdev-test-out && mkdir -p "
		   "rdev-test-scan/src/skip rdev-test-out && "
		   "echo secret >rdev-test-out/s && echo hi >rdev-test-scan/src/a && "
		   "echo x >rdev-test-scan/src/skip/x && printf 'skip/\\n' "
		   ">rdev-test-scan/.rdevignore && ln -s ../rdev-test-out "
		   "rdev-test-scan/out && mkfifo rdev-test-scan/fifo"),
	    0);
	ASSERT_INT_EQ(sync_scan_ignore("rdev-test-scan", 0, &ig, &cause), 0);
	ASSERT_INT_EQ(sync_scan("rdev-test-scan", ig, NULL, &s, &cause), 0);
	/* .rdevignore, out (a link), src, src/a; not skip/, not the FIFO */
	ASSERT_INT_EQ(s->n, 4);
	ASSERT_INT_EQ(s->skipped, 1);
	ASSERT_INT_EQ(s->hashed, 2);
	ASSERT_NOT_NULL(e = sync_scan_find(s, "out"));
	ASSERT_INT_EQ(e->type, 'l');
	ASSERT_STR_EQ(e->link, "../rdev-test-out");
	ASSERT_NULL(sync_scan_find(s, "out/s")); /* never followed */
	ASSERT_NULL(sync_scan_find(s, "src/skip"));
	ASSERT_NOT_NULL(e = sync_scan_find(s, "src/a"));
	ASSERT_INT_EQ(e->type, 'f');
	ASSERT_INT_EQ(e->size, 3);
	ASSERT_INT_EQ(strlen(e->hash), SYNC_HASH_HEX);

	m = sync_scan_manifest(s, 1);
	ASSERT_INT_EQ(sync_scan_from_manifest(m, &back, &cause), 0);
	cJSON_Delete(m);
	ASSERT_INT_EQ(back->n, s->n);
	ASSERT_STR_EQ(sync_scan_find(back, "src/a")->hash, e->hash);
	ASSERT_INT_EQ(sync_scan_find(back, "src/a")->mtime_ns, e->mtime_ns);

	/* a second scan borrows every hash from the first */
	ASSERT_INT_EQ(sync_scan("rdev-test-scan", ig, back, &again, &cause), 0);
	ASSERT_INT_EQ(again->hashed, 0);
	ASSERT_STR_EQ(sync_scan_find(again, "src/a")->hash, e->hash);

	sync_scan_free(again);
	sync_scan_free(back);
	sync_scan_free(s);
	sync_ignore_free(ig);
	ASSERT_INT_EQ(system("rm -rf rdev-test-scan rdev-test-out"), 0);
}

TEST(a_bad_manifest_is_refused)
{
	const char *bad[] = {
		"{}",
		"[[\"f\",\"../x\",\"00000000000000000000000000000000\",420,1]]",
		"[[\"f\",\"x\",\"nothex\",420,1]]",
		"[[\"q\",\"x\"]]",
		"[[\"l\",\"x\",\"\"]]",
		"[[\"d\",\"x\",493],[\"d\",\"x\",493]]",
		NULL,
	};
	struct sync_scan *s;
	char *cause;

	for (int i = 0; bad[i] != NULL; i++) {
		cJSON *m = cJSON_Parse(bad[i]);

		cause = NULL;
		if (sync_scan_from_manifest(m, &s, &cause) == 0)
			TEST_FAIL("manifest %s accepted", bad[i]);
		ASSERT_NULL(s);
		free(cause);
		cJSON_Delete(m);
	}
}

TEST(git_left_out_unless_asked_and_gitignore_files)
{
	struct sync_ignore *ig = NULL;
	struct sync_scan *s = NULL;
	char *cause = NULL;

	ASSERT_INT_EQ(
	    system("rm -rf rdev-test-git && mkdir -p rdev-test-git/.git "
		   "rdev-test-git/sub/out rdev-test-git/dist && "
		   "echo x >rdev-test-git/.git/HEAD && "
		   "printf 'dist/\\n' >rdev-test-git/.gitignore && "
		   "printf 'out/\\n*.o\\n' >rdev-test-git/sub/.gitignore && "
		   "echo o >rdev-test-git/sub/out/a && "
		   "echo o >rdev-test-git/sub/b.o && echo o >rdev-test-git/c.o && "
		   "echo d >rdev-test-git/dist/d"),
	    0);
	ASSERT_INT_EQ(sync_scan_ignore("rdev-test-git", 0, &ig, &cause), 0);
	ASSERT_INT_EQ(sync_scan("rdev-test-git", ig, NULL, &s, &cause), 0);
	ASSERT_NULL(sync_scan_find(s, ".git"));
	ASSERT_NOT_NULL(sync_scan_find(s, "dist/d"));
	sync_scan_free(s);
	sync_ignore_free(ig);

	ASSERT_INT_EQ(sync_scan_ignore("rdev-test-git", SYNC_SCAN_GIT, &ig, &cause), 0);
	ASSERT_INT_EQ(sync_scan("rdev-test-git", ig, NULL, &s, &cause), 0);
	ASSERT_NOT_NULL(sync_scan_find(s, ".git/HEAD"));
	sync_scan_free(s);
	sync_ignore_free(ig);

	/* A nested .gitignore matches below its own folder only. */
	ASSERT_INT_EQ(
	    sync_scan_ignore("rdev-test-git", SYNC_SCAN_GITIGNORE, &ig, &cause), 0);
	ASSERT_INT_EQ(sync_scan("rdev-test-git", ig, NULL, &s, &cause), 0);
	ASSERT_NULL(sync_scan_find(s, "dist"));
	ASSERT_NULL(sync_scan_find(s, "sub/out"));
	ASSERT_NULL(sync_scan_find(s, "sub/b.o"));
	ASSERT_NOT_NULL(sync_scan_find(s, "c.o"));
	ASSERT_NOT_NULL(sync_scan_find(s, "sub/.gitignore"));
	sync_scan_free(s);

	/* A scan of one path: the folder and what is under it; nothing for
	 * what is gone or left out. */
	ASSERT_INT_EQ(sync_scan_under("rdev-test-git", "sub", ig, NULL, &s, &cause), 0);
	ASSERT_INT_EQ(s->n, 2); /* sub, sub/.gitignore */
	sync_scan_free(s);
	ASSERT_INT_EQ(
	    sync_scan_under("rdev-test-git", "sub/out/a", ig, NULL, &s, &cause), 0);
	ASSERT_INT_EQ(s->n, 0);
	sync_scan_free(s);
	ASSERT_INT_EQ(
	    sync_scan_under("rdev-test-git", "gone/x", ig, NULL, &s, &cause), 0);
	ASSERT_INT_EQ(s->n, 0);
	sync_scan_free(s);
	/* A name no sync carries (macOS's "Icon\r") is skipped and counted,
	 * as the full scan does, not an error that stops a watch; one under
	 * a folder left out is not counted; only a path that could leave
	 * the folder is an error, its control characters quoted. */
	ASSERT_INT_EQ(system("echo i >'rdev-test-git/sub/Icon\r' && "
			     "echo i >'rdev-test-git/dist/Icon\r'"),
	    0);
	ASSERT_INT_EQ(
	    sync_scan_under("rdev-test-git", "sub/Icon\r", ig, NULL, &s, &cause), 0);
	ASSERT_INT_EQ(s->n, 0);
	ASSERT_INT_EQ(s->skipped, 1);
	sync_scan_free(s);
	ASSERT_INT_EQ(sync_scan_under("rdev-test-git", "sub", ig, NULL, &s, &cause), 0);
	ASSERT_INT_EQ(s->n, 2);
	ASSERT_INT_EQ(s->skipped, 1);
	sync_scan_free(s);
	ASSERT_INT_EQ(
	    sync_scan_under("rdev-test-git", "dist/Icon\r", ig, NULL, &s, &cause), 0);
	ASSERT_INT_EQ(s->n + s->skipped, 0);
	sync_scan_free(s);
	ASSERT_INT_EQ(
	    sync_scan_under("rdev-test-git", "gone\n", ig, NULL, &s, &cause), 0);
	ASSERT_INT_EQ(s->n + s->skipped, 0);
	sync_scan_free(s);
	ASSERT_INT_EQ(
	    sync_scan_under("rdev-test-git", "sub/../x\r", ig, NULL, &s, &cause), -1);
	ASSERT_STR_EQ(cause, "\"sub/../x\\u000d\": not a path inside the folder");
	free(cause);
	cause = NULL;
	sync_ignore_free(ig);
	ASSERT_INT_EQ(system("rm -rf rdev-test-git"), 0);
}

/* A .rdevignore in a subfolder matches below it only, wins over its
 * parents' and over .gitignore files; one in a folder left out is not read. */
TEST(nested_rdevignore_files)
{
	struct sync_ignore *ig = NULL;
	struct sync_scan *s = NULL;
	char *cause = NULL;

	ASSERT_INT_EQ(
	    system(
		"rm -rf rdev-test-ri && mkdir -p rdev-test-ri/a/b rdev-test-ri/c "
		"rdev-test-ri/gone && cd rdev-test-ri && "
		"printf '*.log\n!keep.o\ngone/\n' >.rdevignore && "
		"printf '*.tmp\n!x.log\n' >a/.rdevignore && "
		"printf '!keep.tmp\n' >a/b/.rdevignore && "
		"printf '*.o\n' >a/.gitignore && "
		"printf '!*\n' >gone/.rdevignore && "
		"touch x.tmp y.log a/x.tmp a/x.log a/y.log a/keep.o a/c.o a/b/keep.tmp "
		"a/b/z.tmp c/x.tmp gone/g"),
	    0);
	ASSERT_INT_EQ(
	    sync_scan_ignore("rdev-test-ri", SYNC_SCAN_GITIGNORE, &ig, &cause), 0);
	ASSERT_INT_EQ(sync_scan("rdev-test-ri", ig, NULL, &s, &cause), 0);
	ASSERT_NOT_NULL(sync_scan_find(s, "x.tmp"));	    /* a/'s, not here */
	ASSERT_NOT_NULL(sync_scan_find(s, "c/x.tmp"));	    /* nor in a sibling */
	ASSERT_NULL(sync_scan_find(s, "a/x.tmp"));	    /* a/.rdevignore */
	ASSERT_NULL(sync_scan_find(s, "y.log"));	    /* the top's */
	ASSERT_NULL(sync_scan_find(s, "a/y.log"));	    /* the top's, below */
	ASSERT_NOT_NULL(sync_scan_find(s, "a/x.log"));	    /* deeper wins */
	ASSERT_NULL(sync_scan_find(s, "a/b/z.tmp"));	    /* a/'s, below */
	ASSERT_NOT_NULL(sync_scan_find(s, "a/b/keep.tmp")); /* a/b/'s wins */
	ASSERT_NULL(sync_scan_find(s, "a/c.o"));	    /* a/.gitignore */
	ASSERT_NOT_NULL(sync_scan_find(s, "a/keep.o"));	    /* .rdevignore wins */
	ASSERT_NULL(sync_scan_find(s, "gone"));		    /* not entered */
	ASSERT_NULL(sync_scan_find(s, "gone/g"));
	ASSERT_NOT_NULL(sync_scan_find(s, "a/.rdevignore"));
	sync_scan_free(s);
	sync_ignore_free(ig);
	ASSERT_INT_EQ(system("rm -rf rdev-test-ri"), 0);
}

/* The scan of dir, made by the shell command make, with its ignore files
 * read (flags as sync_scan_ignore's). New. */
static struct sync_scan *
scan_made(const char *make, const char *dir, unsigned flags)
{
	struct sync_ignore *ig = NULL;
	struct sync_scan *s = NULL;
	char *cause = NULL;

	ASSERT_INT_EQ(system(make), 0);
	ASSERT_INT_EQ(sync_scan_ignore(dir, flags, &ig, &cause), 0);
	ASSERT_INT_EQ(sync_scan(dir, ig, NULL, &s, &cause), 0);
	sync_ignore_free(ig);
	return s;
}

/* Folders are left out by the files above them only, the .rdevignore files
 * winning over the .gitignore files: a folder a .gitignore leaves out and a
 * .rdevignore lets back in is entered, and its own .rdevignore read. */
TEST(ignore_files_prune_only_below_them)
{
	struct sync_scan *s = scan_made(
	    "rm -rf rdev-test-rp && mkdir -p rdev-test-rp/a/skip rdev-test-rp/b/skip "
	    "rdev-test-rp/c/build && cd rdev-test-rp && printf 'build/\\n' >.gitignore "
	    "&& "
	    "printf 'skip/\\n' >a/.rdevignore && printf '!build/\\n' >c/.rdevignore && "
	    "printf 'y\\n' >c/build/.rdevignore && touch a/skip/x b/skip/x c/build/y "
	    "c/build/z",
	    "rdev-test-rp", SYNC_SCAN_GITIGNORE);

	ASSERT_NULL(sync_scan_find(s, "a/skip"));	 /* a/.rdevignore */
	ASSERT_NOT_NULL(sync_scan_find(s, "b/skip/x"));	 /* not a sibling's */
	ASSERT_NOT_NULL(sync_scan_find(s, "c/build/z")); /* let back in */
	ASSERT_NULL(sync_scan_find(s, "c/build/y"));	 /* its own file read */
	sync_scan_free(s);
	ASSERT_INT_EQ(system("rm -rf rdev-test-rp"), 0);
}

TEST(a_bad_delete_list_is_refused)
{
	char **del;
	size_t n;
	char *cause = NULL;
	cJSON *ok = cJSON_Parse("[\"a\",\"b/c\"]"),
	      *bad = cJSON_Parse("[\"a\",\"../b\"]");

	ASSERT_INT_EQ(sync_paths_from_json(ok, &del, &n, &cause), 0);
	ASSERT_INT_EQ(n, 2);
	ASSERT_STR_EQ(del[1], "b/c");
	free(del[0]);
	free(del[1]);
	free(del);
	ASSERT_INT_EQ(sync_paths_from_json(bad, &del, &n, &cause), -1);
	ASSERT_NULL(del);
	ASSERT_STR_CONTAINS(cause, "entry 1");
	free(cause);
	cJSON_Delete(ok);
	cJSON_Delete(bad);
}

/* A file's mtime is anyone's to set (touch -d 2400-01-01): one past 2262
 * does not fit in signed nanoseconds; sync_time_ns wraps it without
 * undefined behaviour (UBSan aborts the sanitizer build), two such times 1 s
 * apart stay apart, and the manifest carries the wrapped value (and a time
 * before 1970) as it is. */
TEST(mtimes_past_2262_are_taken_and_kept_apart)
{
	char dir[] = "/tmp/rdev-test-mtime.XXXXXX", *path;
	struct timespec far[2] = { { 15000000000LL, 5 }, { 15000000000LL, 5 } };
	struct timespec later[2] = { { 15000000001LL, 5 }, { 15000000001LL, 5 } };
	struct timespec before_1970 = { -2, 5 };
	struct sync_scan *a = NULL, *b = NULL, *back = NULL;
	const struct sync_entry *ea, *eb, *eback;
	struct stat sb;
	cJSON *m;
	char *cause = NULL;
	int fd;

	/* (15e9 s is 15e18 ns: modulo 2^64) */
	ASSERT_TRUE(sync_time_ns(&far[0]) == (long long)(15000000000000000005ULL));
	ASSERT_TRUE(sync_time_ns(&far[0]) != sync_time_ns(&later[0]));
	ASSERT_TRUE(sync_time_ns(&before_1970) == -1999999995LL);

	ASSERT_NOT_NULL(mkdtemp(dir));
	path = xasprintf("%s/f", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
	ASSERT_TRUE(fd >= 0);
	close(fd);
	ASSERT_INT_EQ(utimensat(AT_FDCWD, path, far, 0), 0);
	ASSERT_INT_EQ(sync_scan(dir, NULL, NULL, &a, &cause), 0);
	ASSERT_INT_EQ(utimensat(AT_FDCWD, path, later, 0), 0);
	ASSERT_INT_EQ(sync_scan(dir, NULL, NULL, &b, &cause), 0);
	ASSERT_NOT_NULL(ea = sync_scan_find(a, "f"));
	ASSERT_NOT_NULL(eb = sync_scan_find(b, "f"));
	ASSERT_INT_EQ(stat(path, &sb), 0);
	/* (a file system that cannot hold 2445 clamps it: then only the
	 * scan's own value is checked) */
	if (sb.st_mtim.tv_sec == later[0].tv_sec)
		ASSERT_TRUE(ea->mtime_ns != eb->mtime_ns);
	ASSERT_TRUE(sync_time_ns(&sb.st_mtim) == eb->mtime_ns);
	/* the manifest round trip keeps the (wrapped) time and the inode */
	m = sync_scan_manifest(b, 1);
	ASSERT_INT_EQ(sync_scan_from_manifest(m, &back, &cause), 0);
	ASSERT_NOT_NULL(eback = sync_scan_find(back, "f"));
	ASSERT_TRUE(eback->mtime_ns == eb->mtime_ns);
	ASSERT_TRUE(eback->ino == eb->ino);
	cJSON_Delete(m);
	sync_scan_free(back);
	back = NULL;
	/* and a time before 1970 with nanoseconds */
	ASSERT_INT_EQ(utimensat(AT_FDCWD, path,
			  (struct timespec[2]){ before_1970, before_1970 }, 0),
	    0);
	sync_scan_free(b);
	ASSERT_INT_EQ(sync_scan(dir, NULL, NULL, &b, &cause), 0);
	ASSERT_NOT_NULL(eb = sync_scan_find(b, "f"));
	ASSERT_TRUE(eb->mtime_ns == -1999999995LL);
	m = sync_scan_manifest(b, 1);
	ASSERT_INT_EQ(sync_scan_from_manifest(m, &back, &cause), 0);
	ASSERT_NOT_NULL(eback = sync_scan_find(back, "f"));
	ASSERT_TRUE(eback->mtime_ns == -1999999995LL);
	cJSON_Delete(m);
	sync_scan_free(back);
	sync_scan_free(a);
	sync_scan_free(b);
	unlink(path);
	rmdir(dir);
	free(path);
}

/* The deleter of scan_of_a_live_tree: once the scan opens "a" to hash it
 * (so it has listed the folder), b (a file), c (a symlink) and d (a folder
 * and its file) go, before the scan reaches them (it hashes "a" first). */
struct scan_deleter {
	const char *dir;
	int fd; /* inotify, IN_OPEN on dir */
};

static void *
scan_deleter_run(void *arg)
{
	static const char *const gone[] = { "b", "c", "d/x", "d" };
	struct scan_deleter *dl = arg;
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	struct pollfd pfd = { dl->fd, POLLIN, 0 };
	const struct inotify_event *ev;
	char *path;
	ssize_t n;

	while (poll(&pfd, 1, 10000) == 1 && (n = read(dl->fd, buf, sizeof buf)) > 0)
		for (char *p = buf; p < buf + n; p += sizeof *ev + ev->len) {
			ev = (const struct inotify_event *)(void *)p;
			if (ev->len == 0 || strcmp(ev->name, "a") != 0)
				continue;
			for (size_t i = 0; i < sizeof gone / sizeof gone[0]; i++) {
				path = xasprintf("%s/%s", dl->dir, gone[i]);
				remove(path); /* (a file, or the emptied d) */
				free(path);
			}
			return NULL;
		}
	return NULL;
}

/* A live sync scans the whole folder while it changes (its first batch
 * just after `rdev up --sync`, a rescan after an ignore file changed or the
 * link dropped): an entry listed, then deleted before the scan reaches it,
 * is left out, not an error (which stopped the broker's sync for good:
 * "old.txt: No such file or directory"). Tried until a deletion came
 * between the listing and the entry's stat (a scan that got there first
 * proves nothing). */
TEST(scan_of_a_live_tree)
{
	char dir[] = "/tmp/rdev-test-live.XXXXXX", *cmd;
	struct scan_deleter dl = { dir, -1 };
	struct sync_scan *s = NULL;
	const struct sync_entry *e;
	char *cause = NULL;
	pthread_t t;
	int tries, rc, hit = 0;

	ASSERT_NOT_NULL(mkdtemp(dir));
	for (tries = 0; tries < 20 && !hit; tries++) {
		/* (a, 8 MiB: the scan hashes it while b, c and d go) */
		cmd = xasprintf("cd %s && head -c 8M /dev/zero >a && echo b >b && "
				"ln -sfn a c && mkdir -p d && echo x >d/x",
		    dir);
		ASSERT_INT_EQ(system(cmd), 0);
		free(cmd);
		dl.fd = inotify_init1(IN_CLOEXEC);
		ASSERT_TRUE(dl.fd >= 0);
		ASSERT_TRUE(inotify_add_watch(dl.fd, dir, IN_OPEN) >= 0);
		ASSERT_INT_EQ(pthread_create(&t, NULL, scan_deleter_run, &dl), 0);
		rc = sync_scan(dir, NULL, NULL, &s, &cause);
		pthread_join(t, NULL);
		close(dl.fd);
		if (rc != 0)
			TEST_FAIL("a scan of a folder whose entries went meanwhile "
				  "(try %d): %s",
			    tries + 1, cause);
		ASSERT_NOT_NULL(e = sync_scan_find(s, "a"));
		ASSERT_INT_EQ(e->size, 8 << 20);
		/* (gone before the scan came to them: left out, each kind) */
		hit = sync_scan_find(s, "b") == NULL && sync_scan_find(s, "c") == NULL &&
		    sync_scan_find(s, "d") == NULL && sync_scan_find(s, "d/x") == NULL;
		sync_scan_free(s);
		s = NULL;
	}
	ASSERT_TRUE(hit);
	cmd = xasprintf("rm -rf %s", dir);
	ASSERT_INT_EQ(system(cmd), 0);
	free(cmd);
}

TEST(skipped_names_one_line_a_batch)
{
	char dir[] = "/tmp/rdev-test-skipped.XXXXXX", *cmd, *text;
	char *roots[] = { "a\r1", "ok", "a\r2", "a\r3", "a\r4", "a\r5", "a\r6", "a\r7",
		"gone\r", NULL };

	ASSERT_NOT_NULL(mkdtemp(dir));
	cmd = xasprintf("cd %s && for i in 1 2 3 4 5 6 7; do : >\"a$(printf '\\r')$i\"; "
			"done && : >ok",
	    dir);
	ASSERT_INT_EQ(system(cmd), 0);
	free(cmd);
	/* (the first five quoted, the rest counted; a plain name and one gone
	 * are not among them) */
	text = sync_scan_skipped_names(dir, roots, 9);
	ASSERT_STR_EQ(text,
	    "\"a\\u000d1\", \"a\\u000d2\", \"a\\u000d3\", \"a\\u000d4\", "
	    "\"a\\u000d5\" and 2 more");
	free(text);
	ASSERT_NULL(sync_scan_skipped_names(dir, roots + 1, 1));
	cmd = xasprintf("rm -rf %s", dir);
	ASSERT_INT_EQ(system(cmd), 0);
	free(cmd);
}

/* A whole scan keeps the first five bad names by strcmp (whatever order
 * readdir gives them) and counts them all: an upload names them in one
 * warning. A FIFO is skipped, not named; a copy and a scan of roots keep
 * them too. */
TEST(a_scan_keeps_the_first_bad_names)
{
	char dir[] = "/tmp/rdev-test-badnames.XXXXXX", *cmd, *text;
	char *roots[] = { "d", "e" };
	struct sync_scan *s, *c;
	char *cause = NULL;

	ASSERT_NOT_NULL(mkdtemp(dir));
	cmd = xasprintf("cd %s && mkdir d e && for i in 7 3 6 1 5 2 4; do "
			": >\"d/$(printf 'n\\n%%s' $i)\"; done && : >d/ok && "
			"mkfifo d/p && : >\"e/$(printf '\\033')x\"",
	    dir);
	ASSERT_INT_EQ(system(cmd), 0);
	free(cmd);
	if (sync_scan(dir, NULL, NULL, &s, &cause) != 0)
		TEST_FAIL("scan: %s", cause);
	ASSERT_INT_EQ(s->skipped, 9);
	ASSERT_INT_EQ(s->bad_names, 8);
	text = sync_scan_bad_names(s);
	ASSERT_STR_EQ(text,
	    "\"d/n\\u000a1\", \"d/n\\u000a2\", \"d/n\\u000a3\", \"d/n\\u000a4\", "
	    "\"d/n\\u000a5\" and 3 more");
	free(text);
	c = sync_scan_copy(s);
	sync_scan_free(s);
	text = sync_scan_bad_names(c);
	ASSERT_NOT_NULL(strstr(text, "and 3 more"));
	free(text);
	sync_scan_free(c);
	/* (the roots' scans merged: e's name is among the first five) */
	if (sync_scan_roots(dir, roots + 1, 1, NULL, NULL, &s, &cause) != 0)
		TEST_FAIL("scan: %s", cause);
	text = sync_scan_bad_names(s);
	ASSERT_STR_EQ(text, "\"e/\\u001bx\"");
	free(text);
	sync_scan_free(s);
	if (sync_scan_roots(dir, roots, 2, NULL, NULL, &s, &cause) != 0)
		TEST_FAIL("scan: %s", cause);
	ASSERT_INT_EQ(s->bad_names, 8);
	text = sync_scan_bad_names(s);
	ASSERT_STR_EQ(text,
	    "\"d/n\\u000a1\", \"d/n\\u000a2\", \"d/n\\u000a3\", \"d/n\\u000a4\", "
	    "\"d/n\\u000a5\" and 3 more");
	free(text);
	sync_scan_free(s);
	cmd = xasprintf("rm -rf %s", dir);
	ASSERT_INT_EQ(system(cmd), 0);
	free(cmd);
}
