/* test-sync-delta.c - unit tests for common/sync-delta.c: what a batch of a
 * live sync changed (created, modified, deleted, renamed; a touch is no
 * change), what it sends and deletes (and sends again: what did not
 * land), and the state after it. */
#include "test.h"

#include "sync-delta.h"

#include <stdlib.h>
#include <string.h>

#include "xmalloc.h"

/* A scan from "TYPE:PATH:HASH-OR-LINK:MODE" strings (NULL-ended). */
static struct sync_scan *
scan_of(const char *const *items)
{
	struct sync_scan *s = xcalloc(1, sizeof *s);
	size_t n = 0;

	while (items[n] != NULL)
		n++;
	s->v = xcalloc(n + 1, sizeof *s->v);
	for (size_t i = 0; i < n; i++) {
		char *t = xstrdup(items[i]), *path = t + 2, *x = strchr(path, ':'), *m;
		struct sync_entry *e = &s->v[i];

		*x++ = '\0';
		m = strchr(x, ':');
		*m++ = '\0';
		e->type = t[0];
		e->path = xstrdup(path);
		e->mode = (unsigned)strtoul(m, NULL, 8);
		if (e->type == 'f')
			snprintf(e->hash, sizeof e->hash, "%032x", (unsigned)atoi(x));
		if (e->type == 'l')
			e->link = xstrdup(x);
		free(t);
	}
	s->n = n;
	return s;
}

static const char *
change_at(const struct sync_delta *d, const char *path)
{
	for (size_t i = 0; i < d->n; i++)
		if (strcmp(d->v[i].path, path) == 0)
			return sync_change_kind_name(d->v[i].kind);
	return "none";
}

TEST(changes_under_the_roots)
{
	struct sync_scan *state = scan_of((const char *[]){ "f:a:1:644", "f:b:2:644",
	    "d:d:0:755", "f:d/x:3:644", "f:keep:4:644", "l:l:a:777", NULL });
	struct sync_scan *fresh = scan_of(
	    (const char *[]){ "f:a:1:755", "f:b:2:644", "f:c:5:644", "l:l:b:777", NULL });
	char *roots[] = { "a", "b", "c", "d", "l" };
	struct sync_delta *d = sync_delta_new(&state, roots, 5, fresh, NULL, 0);

	ASSERT_STR_EQ(change_at(d, "a"), "modified"); /* the exec bit */
	ASSERT_STR_EQ(change_at(d, "b"), "none");     /* touched, same */
	ASSERT_STR_EQ(change_at(d, "c"), "created");
	ASSERT_STR_EQ(change_at(d, "d"), "deleted");
	ASSERT_STR_EQ(change_at(d, "d/x"), "deleted");
	ASSERT_STR_EQ(change_at(d, "l"), "modified");
	ASSERT_STR_EQ(change_at(d, "keep"), "none");
	ASSERT_INT_EQ(d->changed->n, 3); /* a, c, l */
	ASSERT_INT_EQ(d->ndel, 2);
	ASSERT_STR_EQ(d->del[0], "d");
	ASSERT_STR_EQ(d->del[1], "d/x");
	/* the state: keep (outside the roots) and the fresh entries */
	ASSERT_INT_EQ(state->n, 5);
	ASSERT_NOT_NULL(sync_scan_find(state, "keep"));
	ASSERT_NULL(sync_scan_find(state, "d"));
	ASSERT_INT_EQ(sync_scan_find(state, "a")->mode, 0755);
	sync_delta_free(d);
	sync_scan_free(state);
}

TEST(a_rename_is_one_change_and_a_folder_folds)
{
	struct sync_scan *state = scan_of((const char *[]){
	    "d:p:0:755", "f:p/x:1:644", "f:p/y:2:644", "f:t:3:644", NULL });
	struct sync_scan *fresh =
	    scan_of((const char *[]){ "d:q:0:755", "f:q/x:1:644", "f:q/y:2:644", NULL });
	char *roots[] = { "p", "q", "t" };
	struct sync_move moves[] = { { "p", "q" } };
	struct sync_delta *d = sync_delta_new(&state, roots, 3, fresh, moves, 1);

	ASSERT_INT_EQ(d->n, 2); /* q (renamed from p), t (deleted) */
	ASSERT_STR_EQ(change_at(d, "q"), "renamed");
	ASSERT_STR_EQ(d->v[0].from, "p");
	ASSERT_STR_EQ(change_at(d, "t"), "deleted");
	ASSERT_INT_EQ(d->changed->n, 3); /* what is under q is still sent */
	ASSERT_INT_EQ(d->ndel, 4);
	sync_delta_free(d);
	sync_scan_free(state);
}

TEST(a_whole_rescan_with_nothing_changed_sends_nothing)
{
	const char *items[] = { "d:d:0:755", "f:d/x:1:644", "l:l:d:777", NULL };
	struct sync_scan *state = scan_of(items), *fresh = scan_of(items);
	char *roots[] = { "" };
	struct sync_delta *d = sync_delta_new(&state, roots, 1, fresh, NULL, 0);

	ASSERT_INT_EQ(d->n, 0);
	ASSERT_INT_EQ(d->changed->n, 0);
	ASSERT_INT_EQ(d->ndel, 0);
	ASSERT_INT_EQ(state->n, 3);
	sync_delta_free(d);
	sync_scan_free(state);
}

TEST(under_a_root)
{
	char *roots[] = { "a", "b/c" };

	ASSERT_TRUE(sync_delta_under("a", roots, 2));
	ASSERT_TRUE(sync_delta_under("a/x/y", roots, 2));
	ASSERT_TRUE(sync_delta_under("b/c/d", roots, 2));
	ASSERT_FALSE(sync_delta_under("b", roots, 2));
	ASSERT_FALSE(sync_delta_under("a-b", roots, 2));
	ASSERT_FALSE(sync_delta_under("b/cd", roots, 2));
}

/* Entries that could not land on the host go again with the next batch,
 * whatever changed: their version here joins what it sends (in path
 * order, once), and one deleted here meanwhile is deleted as any. One
 * gone here that the batch does not delete (its deletion went before, and
 * could not land) is deleted again: every path is in the batch, which is
 * sent (a retry with nothing to send stayed due for ever: sync --watch
 * spun at 100% CPU). */
TEST(entries_that_did_not_land_go_again)
{
	struct sync_scan *state = scan_of((const char *[]){
	    "f:a:1:644", "f:b:2:644", "f:gen/x:3:644", "f:gone:4:644", NULL });
	struct sync_scan *fresh = scan_of((const char *[]){ "f:b:9:644", NULL });
	char *roots[] = { "b", "gone" };
	char *retry[] = { "a", "b", "gen/x", "gone", "lost" };
	struct sync_delta *d = sync_delta_new(&state, roots, 2, fresh, NULL, 0);

	ASSERT_INT_EQ((int)d->changed->n, 1);
	ASSERT_INT_EQ((int)sync_delta_resend(d, state, retry, 5), 2);
	ASSERT_INT_EQ((int)d->changed->n, 3);
	ASSERT_STR_EQ(d->changed->v[0].path, "a");
	ASSERT_STR_EQ(d->changed->v[1].path, "b");
	ASSERT_STR_EQ(d->changed->v[2].path, "gen/x");
	ASSERT_STR_EQ(d->changed->v[1].hash, "00000000000000000000000000000009");
	ASSERT_INT_EQ((int)d->ndel, 2);
	ASSERT_STR_EQ(d->del[0], "gone");
	ASSERT_STR_EQ(d->del[1], "lost");
	/* (what the user is told: only what changed) */
	ASSERT_STR_EQ(change_at(d, "a"), "none");
	ASSERT_STR_EQ(change_at(d, "lost"), "none");
	ASSERT_INT_EQ((int)sync_delta_resend(d, state, retry, 0), 0);
	sync_delta_free(d);
	sync_scan_free(state);
}

/* A batch whose retry is not due (a local change's, a pull's) does not
 * carry the failing entries (a failing big file went with every save, and
 * every second in two-way mode): they stay to go at their backoff, with
 * what this batch's send failed; one the batch did carry (changed here)
 * stays only if it failed again. */
TEST(a_retry_not_due_stays_for_later)
{
	struct sync_scan *state =
	    scan_of((const char *[]){ "f:a:1:644", "f:b:2:644", "f:c:3:644", NULL });
	struct sync_scan *fresh = scan_of((const char *[]){ "f:b:9:644", NULL });
	char *roots[] = { "b", "d" };
	char *old[] = { "a", "b", "d", "e" };
	char **failed = xcalloc(3, sizeof *failed);
	struct sync_delta *d = sync_delta_new(&state, roots, 2, fresh, NULL, 0);
	char **v;
	size_t n;

	failed[0] = xstrdup("c");
	failed[1] = xstrdup("e");
	v = sync_delta_retry_keep(d, old, 4, failed, 2, &n);
	/* (b was carried and landed; d was in no state: the batch did not
	 * delete it, so it stays) */
	ASSERT_INT_EQ((int)n, 4);
	ASSERT_STR_EQ(v[0], "a");
	ASSERT_STR_EQ(v[1], "c");
	ASSERT_STR_EQ(v[2], "d");
	ASSERT_STR_EQ(v[3], "e");
	sync_paths_free(v, n);
	sync_delta_free(d);
	sync_scan_free(state);
}
