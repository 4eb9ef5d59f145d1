/* test.h - a tiny unit-test framework (one executable per module).
 *
 *   TEST(parses_empty_object) { ... ASSERT_INT_EQ(got, 0); ... }
 *
 * Run `./test-jsonc` for all tests, `./test-jsonc NAME...` for some, `--list`
 * to list them. Assertions print both values and the source line, then end the
 * current test (the others still run). The program exits non-zero if any test
 * failed and prints "N passed, N failed" as its last line.
 *
 * Cases that differ only in their data are a table, each row a test of its
 * own (run, listed and failed by the row's name), checked by one function:
 *
 *   static const struct quote_case { const char *name, *in, *want; } quotes[] =
 *	{ { "quote_empty", "", "''" }, ... };
 *   static void quote_check(const void *arg) { const struct quote_case *c = arg;
 *	... ASSERT_STR_EQ(got, c->want); }
 *   TEST_CASES(quote_check, quotes)
 *
 * A loop over cases inside one test names the one it is at with
 * TEST_CASE_NAME("%s", c->name): a failure says it first.
 */
#ifndef RDEV_TEST_H
#define RDEV_TEST_H

#include <errno.h>
#include <ftw.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef void (*test_fn)(void);
typedef void (*test_case_fn)(const void *);
struct test_entry {
	const char *name;
	test_fn fn;	      /* a TEST(), or NULL for a table's row: */
	test_case_fn case_fn; /* called with that row */
	const void *arg;
};

static struct test_entry test_entries[512];
static int test_count;
static jmp_buf test_jmp;
static int test_failed_flag;
static char test_case_name[256];

static void
test_register(const char *name, test_fn fn)
{
	if (test_count == (int)(sizeof test_entries / sizeof test_entries[0])) {
		fprintf(stderr, "too many tests\n");
		exit(2);
	}
	test_entries[test_count].name = name;
	test_entries[test_count].fn = fn;
	test_count++;
}

/* Register row arg of a table, named name, as a test run by fn(arg). */
__attribute__((unused)) static void
test_register_case(const char *name, test_case_fn fn, const void *arg)
{
	test_register(name, NULL);
	test_entries[test_count - 1].case_fn = fn;
	test_entries[test_count - 1].arg = arg;
}

#define TEST(name) \
	static void test_##name(void); \
	__attribute__((constructor)) static void test_register_##name(void) \
	{ \
		test_register(#name, test_##name); \
	} \
	static void test_##name(void)

/* Each row of table (an array of structs whose first member is const char
 * *name) as a test of that name, run by fn(const void *row). */
#define TEST_CASES(fn, table) \
	__attribute__((constructor)) static void test_register_##table(void) \
	{ \
		for (size_t i_ = 0; i_ < sizeof(table) / sizeof((table)[0]); i_++) \
			test_register_case((table)[i_].name, fn, &(table)[i_]); \
	}

/* Name the case a loop in a test is at: a failure then says it first
 * (printf-style; kept until the next TEST_CASE_NAME or the test's end). */
#define TEST_CASE_NAME(...) snprintf(test_case_name, sizeof test_case_name, __VA_ARGS__)

#define TEST_FAIL(...) \
	do { \
		fprintf(stderr, "  %s:%d: %s%s", __FILE__, __LINE__, test_case_name, \
		    test_case_name[0] != '\0' ? ": " : ""); \
		fprintf(stderr, __VA_ARGS__); \
		fputc('\n', stderr); \
		test_failed_flag = 1; \
		longjmp(test_jmp, 1); \
	} while (0)

#define ASSERT_TRUE(cond) \
	do { \
		if (!(cond)) \
			TEST_FAIL("expected true: %s", #cond); \
	} while (0)
#define ASSERT_FALSE(cond) \
	do { \
		if (cond) \
			TEST_FAIL("expected false: %s", #cond); \
	} while (0)
#define ASSERT_INT_EQ(got, want) \
	do { \
		long long g_ = (long long)(got), w_ = (long long)(want); \
		if (g_ != w_) \
			TEST_FAIL("%s == %lld, want %lld", #got, g_, w_); \
	} while (0)
#define ASSERT_INT_NE(got, notwant) \
	do { \
		long long g_ = (long long)(got), w_ = (long long)(notwant); \
		if (g_ == w_) \
			TEST_FAIL("%s == %lld, want anything else", #got, g_); \
	} while (0)
#define ASSERT_NULL(p) \
	do { \
		if ((p) != NULL) \
			TEST_FAIL("%s is not NULL", #p); \
	} while (0)
#define ASSERT_NOT_NULL(p) \
	do { \
		if ((p) == NULL) \
			TEST_FAIL("%s is NULL", #p); \
	} while (0)
#define ASSERT_STR_EQ(got, want) \
	do { \
		const char *g_ = (got), *w_ = (want); \
		if (g_ == NULL || w_ == NULL || strcmp(g_, w_) != 0) \
			TEST_FAIL("%s == \"%s\", want \"%s\"", #got, g_ ? g_ : "(null)", \
			    w_ ? w_ : "(null)"); \
	} while (0)
#define ASSERT_STR_CONTAINS(got, needle) \
	do { \
		const char *g_ = (got), *n_ = (needle); \
		if (g_ == NULL || strstr(g_, n_) == NULL) \
			TEST_FAIL("%s == \"%s\", want it to contain \"%s\"", #got, \
			    g_ ? g_ : "(null)", n_); \
	} while (0)
#define ASSERT_MEM_EQ(got, want, len) \
	do { \
		if (memcmp((got), (want), (len)) != 0) \
			TEST_FAIL("%s differs from %s in its first %zu bytes", #got, \
			    #want, (size_t)(len)); \
	} while (0)

/* Write text to the file dir/name (dir NULL: name is the path); a failure
 * fails the test. */
static inline void
test_write_file(const char *dir, const char *name, const char *text)
{
	char path[4096];
	FILE *f;

	if (dir != NULL)
		snprintf(path, sizeof path, "%s/%s", dir, name);
	else
		snprintf(path, sizeof path, "%s", name);
	f = fopen(path, "w");
	ASSERT_NOT_NULL(f);
	ASSERT_TRUE(fputs(text, f) >= 0);
	ASSERT_INT_EQ(fclose(f), 0);
}

static inline int
test_rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb, (void)flag, (void)ftw;
	return remove(path) == 0 || errno == ENOENT ? 0 : -1;
}

/* Remove path and all below it (not following links); a failure fails the
 * test. */
static inline void
test_rm_rf(const char *path)
{
	ASSERT_INT_EQ(nftw(path, test_rm_one, 16, FTW_DEPTH | FTW_PHYS), 0);
}

/* Run one test; returns 1 if it failed. Kept apart from main() so that
 * longjmp cannot clobber main's counters. */
static int
test_run_one(int i)
{
	test_failed_flag = 0;
	test_case_name[0] = '\0';
	if (setjmp(test_jmp) == 0) {
		if (test_entries[i].fn != NULL)
			test_entries[i].fn();
		else
			test_entries[i].case_fn(test_entries[i].arg);
	}
	return test_failed_flag;
}

int
main(int argc, char **argv)
{
	int passed = 0, failed = 0, i, j, selected;

	if (argc == 2 && strcmp(argv[1], "--list") == 0) {
		for (i = 0; i < test_count; i++)
			printf("%s\n", test_entries[i].name);
		return 0;
	}
	for (j = 1; j < argc; j++) {
		for (i = 0; i < test_count; i++)
			if (strcmp(argv[j], test_entries[i].name) == 0)
				break;
		if (i == test_count) {
			fprintf(stderr, "no test named %s (try --list)\n", argv[j]);
			return 2;
		}
	}
	for (i = 0; i < test_count; i++) {
		selected = argc == 1;
		for (j = 1; j < argc; j++)
			if (strcmp(argv[j], test_entries[i].name) == 0)
				selected = 1;
		if (!selected)
			continue;
		if (test_run_one(i)) {
			printf("FAIL %s\n", test_entries[i].name);
			failed++;
		} else {
			printf("ok   %s\n", test_entries[i].name);
			passed++;
		}
		fflush(stdout);
	}
	printf("%d passed, %d failed\n", passed, failed);
	return failed == 0 ? 0 : 1;
}

#endif
