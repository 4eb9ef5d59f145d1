/* test-agent-bundle-slot.c - unit tests for the agent bundle's references
 * and the slot of the current one (broker/agent-bundle.c): a bundle
 * replaced in the slot lives while a session holds it, and is freed with
 * its last reference (ASan: no use after free, no leak); a stale one is
 * read again by agent_bundle_slot_take_fresh. */
#include "test.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "agent-install-internal.h"
#include "xmalloc.h"

/* Write text to dir/name. */
static void
put(const char *dir, const char *name, const char *text)
{
	char *path = xasprintf("%s/%s", dir, name);
	FILE *f = fopen(path, "w");

	if (f == NULL || fputs(text, f) == EOF || fclose(f) != 0)
		TEST_FAIL("write %s", path);
	free(path);
}

static void
hex(const unsigned char *h, char out[AGENT_HASH_LEN * 2 + 1])
{
	int i;

	for (i = 0; i < AGENT_HASH_LEN; i++)
		snprintf(out + 2 * i, 3, "%02x", h[i]);
}

/* A bundle in a new temporary dir whose MANIFEST carries note (bundles
 * with different notes have different hashes). The dir is the caller's. */
static char *
make_bundle(const char *note)
{
	static const char agent[] = "#!/bin/sh\n", check[] = "#!/bin/sh\nexit 0\n";
	char *dir = xstrdup("/tmp/test-agent-bundle-slot.XXXXXX"), *manifest, *line;
	unsigned char h[AGENT_HASH_LEN], hc[AGENT_HASH_LEN], hm[AGENT_HASH_LEN];
	char ha[AGENT_HASH_LEN * 2 + 1], hb[AGENT_HASH_LEN * 2 + 1];

	if (mkdtemp(dir) == NULL)
		TEST_FAIL("mkdtemp");
	put(dir, "rdev-agent", agent);
	put(dir, "rdev-agent-check", check);
	agent_hash_mem(agent, sizeof agent - 1, h);
	agent_hash_mem(check, sizeof check - 1, hc);
	hex(h, ha);
	hex(hc, hb);
	manifest =
	    xasprintf("format: rdev-agent-bundle 1\nversion: 1.0\nos: linux\n"
		      "arch: x86_64\nnote: %s\n%s  rdev-agent\n%s  rdev-agent-check\n",
		note, ha, hb);
	put(dir, "MANIFEST", manifest);
	agent_hash_mem(manifest, strlen(manifest), hm);
	hex(hm, ha);
	line = xasprintf("%s  MANIFEST\n", ha);
	put(dir, "bundle.hash", line);
	free(line);
	free(manifest);
	return dir;
}

static void
remove_bundle(char *dir)
{
	static const char *const names[] = { "rdev-agent", "rdev-agent-check", "MANIFEST",
		"bundle.hash" };
	size_t i;
	char *path;

	for (i = 0; i < sizeof names / sizeof names[0]; i++) {
		path = xasprintf("%s/%s", dir, names[i]);
		unlink(path);
		free(path);
	}
	rmdir(dir);
	free(dir);
}

static struct agent_bundle *
open_bundle(const char *dir)
{
	struct agent_bundle *b;
	char *cause = NULL;

	if ((b = agent_bundle_open(dir, &cause)) == NULL)
		TEST_FAIL("agent_bundle_open %s: %s", dir, cause);
	return b;
}

TEST(empty_slot_gives_none)
{
	struct agent_bundle_slot *s = agent_bundle_slot_new();

	ASSERT_NULL(agent_bundle_slot_take(s));
	agent_bundle_slot_set(s, NULL);
	ASSERT_NULL(agent_bundle_slot_take(s));
	agent_bundle_slot_free(s);
	agent_bundle_slot_free(NULL);
	agent_bundle_free(NULL);
	ASSERT_NULL(agent_bundle_ref(NULL));
}

/* A session took A, then B replaced A: the session's A is still whole,
 * the slot gives B, and A goes with the session's reference. */
TEST(replaced_bundle_lives_while_held)
{
	char *da = make_bundle("a"), *db = make_bundle("b");
	struct agent_bundle_slot *s = agent_bundle_slot_new();
	struct agent_bundle *a = open_bundle(da), *b = open_bundle(db), *held, *now;
	char want_a[AGENT_HASH_LEN * 2 + 1];

	snprintf(want_a, sizeof want_a, "%s", agent_bundle_hash(a));
	agent_bundle_slot_set(s, a);
	held = agent_bundle_slot_take(s);
	ASSERT_TRUE(held == a);
	agent_bundle_slot_set(s, b); /* (drops the slot's reference to a) */
	ASSERT_STR_EQ(agent_bundle_hash(held), want_a);
	ASSERT_STR_EQ(agent_bundle_dir(held), da);
	now = agent_bundle_slot_take(s);
	ASSERT_TRUE(now == b);
	ASSERT_STR_EQ(agent_bundle_dir(now), db);
	agent_bundle_free(held); /* a's last: freed (ASan: no leak) */
	agent_bundle_free(now);
	agent_bundle_slot_free(s); /* b's last */
	remove_bundle(da);
	remove_bundle(db);
}

struct taker {
	struct agent_bundle_slot *s;
	int n;
};

static void *
taker_main(void *arg)
{
	struct taker *t = arg;
	struct agent_bundle *b;
	int i;

	for (i = 0; i < t->n; i++) {
		if ((b = agent_bundle_slot_take(t->s)) == NULL)
			continue;
		/* (read it: freed under us, ASan would say so) */
		if (agent_bundle_hash(b)[0] == '\0')
			abort();
		agent_bundle_free(b);
	}
	return NULL;
}

/* Session threads take and drop the current bundle while the loop replaces
 * it: every reference taken stays valid until dropped. */
TEST(threads_take_while_replaced)
{
	char *da = make_bundle("a"), *db = make_bundle("b");
	struct agent_bundle_slot *s = agent_bundle_slot_new();
	struct taker t = { s, 20000 };
	pthread_t th[3];
	int i;

	agent_bundle_slot_set(s, open_bundle(da));
	for (i = 0; i < 3; i++)
		ASSERT_INT_EQ(pthread_create(&th[i], NULL, taker_main, &t), 0);
	for (i = 0; i < 200; i++)
		agent_bundle_slot_set(s, open_bundle(i % 2 ? da : db));
	for (i = 0; i < 3; i++)
		pthread_join(th[i], NULL);
	agent_bundle_slot_free(s);
	remove_bundle(da);
	remove_bundle(db);
}

/* Move dir from's MANIFEST and bundle.hash over dir to's: to's bundle is
 * upgraded in place (the same files, a new MANIFEST), from is emptied. */
static void
upgrade_in_place(const char *to, const char *from)
{
	static const char *const names[] = { "MANIFEST", "bundle.hash" };
	char *src, *dst;
	size_t i;

	for (i = 0; i < 2; i++) {
		src = xasprintf("%s/%s", from, names[i]);
		dst = xasprintf("%s/%s", to, names[i]);
		if (rename(src, dst) != 0)
			TEST_FAIL("rename %s %s", src, dst);
		free(src);
		free(dst);
	}
}

/* A session about to install, with no command to the broker since an
 * upgrade in place: it gets the bundle read again, not the stale one, and
 * that one is made current for the next. */
TEST(take_fresh_reads_a_stale_bundle_again)
{
	char *da = make_bundle("a"), *db = make_bundle("b");
	struct agent_bundle_slot *s = agent_bundle_slot_new();
	struct agent_bundle *a = open_bundle(da), *b = open_bundle(db), *got, *now;
	char want_b[AGENT_HASH_LEN * 2 + 1];

	snprintf(want_b, sizeof want_b, "%s", agent_bundle_hash(b));
	agent_bundle_free(b);
	agent_bundle_slot_set(s, a);
	got = agent_bundle_slot_take_fresh(s); /* (not stale: a itself) */
	ASSERT_TRUE(got == a);
	agent_bundle_free(got);
	upgrade_in_place(da, db);
	got = agent_bundle_slot_take_fresh(s);
	ASSERT_TRUE(got != NULL && got != a);
	ASSERT_STR_EQ(agent_bundle_hash(got), want_b);
	ASSERT_STR_EQ(agent_bundle_dir(got), da);
	now = agent_bundle_slot_take(s); /* (made current) */
	ASSERT_TRUE(now == got);
	agent_bundle_free(now);
	agent_bundle_free(got);
	agent_bundle_slot_free(s); /* (a was freed with the slot's reference) */
	remove_bundle(da);
	remove_bundle(db);
}

/* Stale, but the new one is not whole yet (an upgrade's window): the one
 * read serves. */
TEST(take_fresh_keeps_a_stale_bundle_not_readable)
{
	char *da = make_bundle("a");
	struct agent_bundle_slot *s = agent_bundle_slot_new();
	struct agent_bundle *a = open_bundle(da), *got;
	char *manifest = xasprintf("%s/MANIFEST", da);

	agent_bundle_slot_set(s, a);
	if (unlink(manifest) != 0)
		TEST_FAIL("unlink %s", manifest);
	got = agent_bundle_slot_take_fresh(s);
	ASSERT_TRUE(got == a);
	agent_bundle_free(got);
	got = agent_bundle_slot_take(s);
	ASSERT_TRUE(got == a);
	agent_bundle_free(got);
	agent_bundle_slot_free(s);
	free(manifest);
	remove_bundle(da);
}
