/* test-lifecycle.c - the pure parts of the lifecycle modules (agent/lifecycle.c,
 * lifecycle-parse.c, the log of lifecycle-bg.c) and of agent/env-probe.c, and
 * initializeCommand on this host (lifecycle-host.c; no Docker needed). */
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test.h"

#include "atomic-file.h"
#include "config.h"
#include "buf.h"
#include "clock.h"
#include "env-probe.h"
#include "lifecycle-internal.h"
#include "lifecycle.h"
#include "progress.h"
#include "secrets.h"
#include "shell-quote.h"
#include "up-internal.h"
#include "xmalloc.h"

static cJSON *
parse(const char *json)
{
	cJSON *v = cJSON_Parse(json);

	if (v == NULL) {
		fprintf(stderr, "bad test JSON: %s\n", json);
		abort();
	}
	return v;
}

/* Parse one element of a step; the group must be cleared by the caller. */
static int
group(const char *json, struct lifecycle_group *g, char **cause)
{
	cJSON *v = parse(json);
	int rc = lifecycle_group_parse(v, "postCreateCommand", g, cause);

	cJSON_Delete(v);
	return rc;
}

TEST(string_form_runs_through_sh)
{
	struct lifecycle_group g;

	ASSERT_INT_EQ(group("\"npm install && echo ok\"", &g, NULL), 0);
	ASSERT_INT_EQ(g.ncmds, 1);
	ASSERT_INT_EQ(g.parallel, 0);
	ASSERT_NULL(g.cmds[0].name);
	ASSERT_STR_EQ(g.cmds[0].argv[0], "/bin/sh");
	ASSERT_STR_EQ(g.cmds[0].argv[1], "-c");
	ASSERT_STR_EQ(g.cmds[0].argv[2], "npm install && echo ok");
	ASSERT_NULL(g.cmds[0].argv[3]);
	ASSERT_STR_EQ(g.cmds[0].text, "npm install && echo ok");
	lifecycle_group_clear(&g);
}

TEST(array_form_is_an_argv)
{
	struct lifecycle_group g;

	ASSERT_INT_EQ(group("[\"echo\", \"a b\", \"$HOME\"]", &g, NULL), 0);
	ASSERT_INT_EQ(g.ncmds, 1);
	ASSERT_INT_EQ(g.parallel, 0);
	ASSERT_STR_EQ(g.cmds[0].argv[0], "echo");
	ASSERT_STR_EQ(g.cmds[0].argv[1], "a b");
	ASSERT_STR_EQ(g.cmds[0].argv[2], "$HOME");
	ASSERT_NULL(g.cmds[0].argv[3]);
	ASSERT_STR_EQ(g.cmds[0].text, "echo 'a b' '$HOME'");
	lifecycle_group_clear(&g);
}

/* shell_quote_argv() of a JSON array of strings. */
static char *
quote(const char *json)
{
	cJSON *v = parse(json), *e;
	const char **argv = xcalloc((size_t)cJSON_GetArraySize(v) + 1, sizeof *argv);
	size_t n = 0;
	char *s;

	cJSON_ArrayForEach(e, v)
		argv[n++] = e->valuestring;
	s = shell_quote_argv(argv, SHELL_QUOTE_NEEDED);
	free(argv);
	cJSON_Delete(v);
	return s;
}

TEST(array_commands_are_shown_quoted_as_a_shell_needs)
{
	static const struct {
		const char *json;
		const char *want;
	} cases[] = {
		{ "[\"sh\", \"-c\", \"sleep 2; echo hi\"]", "sh -c 'sleep 2; echo hi'" },
		{ "[\"make\", \"-j\", \"4\"]", "make -j 4" },
		{ "[\"npm\", \"run\", \"build:prod\", \"--x=a,b@1%2+3/./_\"]",
		    "npm run build:prod --x=a,b@1%2+3/./_" },
		{ "[\"echo\", \"\"]", "echo ''" },
		{ "[\"echo\", \"it's\"]", "echo 'it'\\''s'" },
		{ "[\"echo\", \"'\"]", "echo ''\\'''" },
		{ "[\"ls\", \"~\", \"*.c\", \"a\\tb\", \"$HOME\", \"`id`\", \"a\\\\b\", "
		  "\"x\\\"y\"]",
		    "ls '~' '*.c' 'a\tb' '$HOME' '`id`' 'a\\b' 'x\"y'" },
		{ "[\"echo\", \"caf\\u00e9\", \"a\\nb\"]", "echo 'caf\xc3\xa9' 'a\nb'" },
		{ "[\"true\"]", "true" },
		{ "[]", "" },
	};
	char *got;

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		got = quote(cases[i].json);
		if (strcmp(got, cases[i].want) != 0)
			TEST_FAIL(
			    "%s: got [%s], want [%s]", cases[i].json, got, cases[i].want);
		free(got);
	}
}

/* What a shell makes of the quoted text is the argv again. */
TEST(quoted_array_commands_round_trip_through_sh)
{
	const char *argv[] = { "printf", "[%s]", "it's", "", "a b", "$HOME", "`id`", "\\",
		"\"", "~", "*", "a\nb", NULL };
	char *text = shell_quote_argv(argv, SHELL_QUOTE_NEEDED), *script, *out = NULL;
	size_t len;
	FILE *f;

	script = xasprintf("%s > /tmp/rdev-test-quote.%d", text, (int)getpid());
	f = popen(script, "w");
	ASSERT_NOT_NULL(f);
	ASSERT_INT_EQ(pclose(f), 0);
	free(script);
	script = xasprintf("/tmp/rdev-test-quote.%d", (int)getpid());
	ASSERT_INT_EQ(file_read_all(script, 4096, &out, &len, NULL), 0);
	ASSERT_STR_EQ(out, "[it's][][a b][$HOME][`id`][\\][\"][~][*][a\nb]");
	unlink(script);
	free(script);
	free(out);
	free(text);
}

TEST(plan_runs_everything_unless_told)
{
	static const struct {
		const char *wait_for;
		unsigned flags;
		unsigned steps;
		int last;
	} cases[] = {
		{ "\"onCreateCommand\"", 0, 0x3f, LIFECYCLE_POST_ATTACH },
		{ NULL, 0, 0x3f, LIFECYCLE_POST_ATTACH },
		{ NULL, LIFECYCLE_SKIP_NON_BLOCKING, 0x3f, LIFECYCLE_UPDATE_CONTENT },
		{ "\"postCreateCommand\"", LIFECYCLE_SKIP_NON_BLOCKING, 0x3f,
		    LIFECYCLE_POST_CREATE },
		{ "\"initializeCommand\"", LIFECYCLE_SKIP_NON_BLOCKING, 0x3f, -1 },
		{ NULL, LIFECYCLE_SKIP_POST_ATTACH, 0x1f, LIFECYCLE_POST_ATTACH },
		{ NULL, LIFECYCLE_SKIP_POST_CREATE, 0, LIFECYCLE_POST_ATTACH },
		{ "\"postStartCommand\"",
		    LIFECYCLE_SKIP_NON_BLOCKING | LIFECYCLE_SKIP_POST_ATTACH, 0x1f,
		    LIFECYCLE_POST_START },
		/* run-user-commands' --prebuild: onCreate and updateContent
		 * only; --stop-for-personalization: up to the dotfiles */
		{ NULL, LIFECYCLE_PREBUILD, 0x03, LIFECYCLE_POST_ATTACH },
		{ NULL, LIFECYCLE_STOP_FOR_PERSONALIZATION, 0x0f, LIFECYCLE_POST_ATTACH },
		{ NULL, LIFECYCLE_PREBUILD | LIFECYCLE_SKIP_POST_CREATE, 0,
		    LIFECYCLE_POST_ATTACH },
		/* run-user-commands' --skip-non-blocking-commands: the steps
		 * after waitFor dropped (the reference's), not pending (up's) */
		{ NULL, LIFECYCLE_SKIP_NON_BLOCKING | LIFECYCLE_NO_BACKGROUND, 0x03,
		    LIFECYCLE_UPDATE_CONTENT },
		{ "\"initializeCommand\"",
		    LIFECYCLE_SKIP_NON_BLOCKING | LIFECYCLE_NO_BACKGROUND, 0, -1 },
		{ "\"postStartCommand\"",
		    LIFECYCLE_SKIP_NON_BLOCKING | LIFECYCLE_NO_BACKGROUND |
			LIFECYCLE_SKIP_POST_ATTACH,
		    0x1f, LIFECYCLE_POST_START },
		/* --prebuild with waitFor onCreateCommand: onCreateCommand
		 * only, result skipNonBlocking (the reference's runLifecycleHooks
		 * returns before updateContentCommand) */
		{ "\"onCreateCommand\"",
		    LIFECYCLE_PREBUILD | LIFECYCLE_SKIP_NON_BLOCKING |
			LIFECYCLE_NO_BACKGROUND,
		    0x01, LIFECYCLE_ON_CREATE },
		/* (noBackground alone changes nothing) */
		{ NULL, LIFECYCLE_NO_BACKGROUND, 0x3f, LIFECYCLE_POST_ATTACH },
	};
	struct lifecycle_plan plan;
	cJSON *v;

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		v = cases[i].wait_for != NULL ? parse(cases[i].wait_for) : NULL;
		lifecycle_plan_make(v, cases[i].flags, &plan);
		if (plan.steps != cases[i].steps || plan.last_foreground != cases[i].last)
			TEST_FAIL("case %zu: steps %#x last %d, want %#x %d", i,
			    plan.steps, plan.last_foreground, cases[i].steps,
			    cases[i].last);
		/* (only --prebuild's updateContentCommand ignores its marker) */
		if (plan.rerun !=
		    ((cases[i].flags & LIFECYCLE_PREBUILD)
			    ? 1u << LIFECYCLE_UPDATE_CONTENT
			    : 0))
			TEST_FAIL("case %zu: rerun %#x", i, plan.rerun);
		cJSON_Delete(v);
	}
}

TEST(object_form_is_parallel_named_entries)
{
	struct lifecycle_group g;

	ASSERT_INT_EQ(
	    group("{\"server\": \"npm start\", \"db\": [\"mysql\", \"-u\", \"root\"],"
		  " \"blank\": \"\"}",
		&g, NULL),
	    0);
	ASSERT_INT_EQ(g.parallel, 1);
	/* An empty string is run by the reference (sh -c ""), harmlessly, and
	 * kept. */
	ASSERT_INT_EQ(g.ncmds, 3);
	ASSERT_STR_EQ(g.cmds[0].name, "server");
	ASSERT_STR_EQ(g.cmds[0].argv[2], "npm start");
	ASSERT_STR_EQ(g.cmds[1].name, "db");
	ASSERT_STR_EQ(g.cmds[1].argv[0], "mysql");
	ASSERT_STR_EQ(g.cmds[1].text, "mysql -u root");
	ASSERT_STR_EQ(g.cmds[2].name, "blank");
	lifecycle_group_clear(&g);
}

TEST(empty_and_other_values_run_nothing)
{
	static const char *const values[] = { "\"\"", "\"  \\n\\t\"", "[]", "{}", "null",
		"3", "true" };
	struct lifecycle_group g;

	for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
		ASSERT_INT_EQ(group(values[i], &g, NULL), 0);
		if (g.ncmds != 0)
			TEST_FAIL("%s gave %zu commands", values[i], g.ncmds);
		lifecycle_group_clear(&g);
	}
}

TEST(ill_typed_commands_are_errors)
{
	static const struct {
		const char *json, *want;
	} cases[] = {
		{ "[\"echo\", 3]",
		    "postCreateCommand: the command array holds a non-string" },
		{ "{\"ok\": \"true\", \"bad\": {\"x\": 1}}",
		    "postCreateCommand: entry \"bad\" is neither a string nor an array "
		    "of strings" },
		/* an entry with nothing to run is not skipped in silence: the
		 * reference fails on it (it execs "undefined") */
		{ "{\"ok\": \"true\", \"empty\": []}",
		    "postCreateCommand: entry \"empty\" is an empty array: no command "
		    "to run (give one, or remove the entry)" },
	};
	struct lifecycle_group g;
	char *cause;

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		TEST_CASE_NAME("%s", cases[i].json);
		cause = NULL;
		ASSERT_INT_EQ(group(cases[i].json, &g, &cause), -1);
		ASSERT_STR_EQ(cause, cases[i].want);
		lifecycle_group_clear(&g);
		free(cause);
	}
}

/* An empty-array entry from the image's metadata or a Feature (the
 * configuration's own are refused before up): its error names where it
 * came from, as the merged array's element it is. */
TEST(empty_array_entry_names_its_origin)
{
	cJSON *meta = parse("[{\"postCreateCommand\": \"echo image\"}, "
			    "{\"id\": \"ghcr.io/x/other:1\"}, "
			    "{\"id\": \"ghcr.io/x/f:1\", \"postCreateCommand\": "
			    "{\"a\": []}}, {\"postCreateCommand\": {\"b\": []}}, "
			    "{\"postCreateCommand\": {\"c\": []}}]");
	cJSON *merged = parse("[\"echo image\", {\"a\": []}, {\"b\": []}, "
			      "{\"c\": []}]");
	struct lifecycle_group *groups;
	size_t ngroups, ncmds;
	char *cause = NULL;
	cJSON *one;

	ASSERT_INT_EQ(lifecycle_groups_parse(merged, "postCreateCommand", meta, 4,
			  &groups, &ngroups, &ncmds, &cause),
	    -1);
	ASSERT_STR_EQ(cause,
	    "postCreateCommand (from the Feature ghcr.io/x/f:1): entry \"a\" is "
	    "an empty array: no command to run (give one, or remove the entry)");
	for (size_t i = 0; i < ngroups; i++)
		lifecycle_group_clear(&groups[i]);
	free(groups);
	free(cause);
	/* the image's own entry (no "id"), then the configuration's (past
	 * the metadata's 3: as before) */
	cJSON_DeleteItemFromArray(meta, 2);
	for (int k = 0; k < 2; k++) {
		cause = NULL;
		one = parse(k == 0 ? "[\"echo image\", {\"b\": []}]"
				   : "[\"echo image\", \"echo b\", {\"c\": []}]");
		ASSERT_INT_EQ(lifecycle_groups_parse(one, "postCreateCommand", meta, 3,
				  &groups, &ngroups, &ncmds, &cause),
		    -1);
		ASSERT_STR_EQ(cause,
		    k == 0
			? "postCreateCommand (from the image's devcontainer.metadata): "
			  "entry \"b\" is an empty array: no command to run (give "
			  "one, or remove the entry)"
			: "postCreateCommand: entry \"c\" is an empty array: no "
			  "command to run (give one, or remove the entry)");
		for (size_t i = 0; i < ngroups; i++)
			lifecycle_group_clear(&groups[i]);
		free(groups);
		free(cause);
		cJSON_Delete(one);
	}
	cJSON_Delete(meta);
	cJSON_Delete(merged);
}

/* A reused container's label: its last entry is the configuration's own
 * only when the configuration had something to put there
 * (config_metadata_label()); a configuration of only "image" leaves the
 * Features' last, which still names its Feature. */
TEST(reused_label_without_the_configurations_entry_names_the_feature)
{
	char dir[] = "/tmp/rdev-test-origin-XXXXXX";
	char *file, *cause = NULL, *from;
	struct config_load_opts opts;
	struct config *cfg;
	cJSON *container, *merged = NULL, *meta = NULL;
	int nmeta = -5;

	ASSERT_NOT_NULL(mkdtemp(dir));
	file = xasprintf("%s/.devcontainer.json", dir);
	ASSERT_INT_EQ(atomic_file_write(file, "{\"image\": \"x\"}\n", 15, 0644, NULL), 0);
	memset(&opts, 0, sizeof opts);
	opts.workspace_folder = dir;
	opts.no_git_root = 1;
	cfg = config_load(&opts, &cause);
	ASSERT_NOT_NULL(cfg);
	container = parse("{\"Id\": \"0123456789abcdef\", \"Config\": {\"Labels\": "
			  "{\"devcontainer.metadata\": \"[{\\\"postStartCommand\\\": "
			  "\\\"echo img\\\"}, {\\\"id\\\": \\\"ghcr.io/x/f:1\\\", "
			  "\\\"postStartCommand\\\": {\\\"a\\\": []}}]\"}}}");
	ASSERT_INT_EQ(
	    up_merged_for_container_meta(cfg, container, &merged, &meta, &nmeta, &cause),
	    0);
	ASSERT_INT_EQ(nmeta, 2);
	from = lifecycle_origin(meta, nmeta, "postStartCommand", 1);
	ASSERT_NOT_NULL(from);
	ASSERT_STR_EQ(from, "postStartCommand (from the Feature ghcr.io/x/f:1)");
	free(from);
	cJSON_Delete(merged);
	cJSON_Delete(meta);
	cJSON_Delete(container);
	config_free(cfg);
	unlink(file);
	rmdir(dir);
	free(file);
}

TEST(failure_message_shapes)
{
	/* the message of a step's first command that exited (or was killed)
	 * with status */
	static const struct {
		const char *json, *step;
		int exited, status;
		const char *want;
	} cases[] = {
		{ "\"npm install\"", "postCreateCommand", 1, 3,
		    "postCreateCommand failed: `npm install` exited with status 3" },
		{ "[\"make\", \"-j\", \"4\"]", "onCreateCommand", 1, 2,
		    "onCreateCommand failed: `make -j 4` exited with status 2" },
		{ "{\"db\": [\"mysql\", \"-u\", \"root\"]}", "postStartCommand", 1, 1,
		    "postStartCommand failed: [db] `mysql -u root` exited with status "
		    "1" },
		{ "{\"db\": [\"mysql\", \"-u\", \"root\"]}", "initializeCommand", 0, 9,
		    "initializeCommand failed: [db] `mysql -u root` killed by signal 9 "
		    "(Killed)" },
	};
	struct lifecycle_group g;
	char *m;

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		TEST_CASE_NAME("%s of %s", cases[i].step, cases[i].json);
		ASSERT_INT_EQ(group(cases[i].json, &g, NULL), 0);
		m = lifecycle_failure_message(
		    cases[i].step, &g.cmds[0], cases[i].exited, cases[i].status);
		ASSERT_STR_EQ(m, cases[i].want);
		free(m);
		lifecycle_group_clear(&g);
	}
	TEST_CASE_NAME("lifecycle_cmd_describe");
	ASSERT_INT_EQ(group(cases[3].json, &g, NULL), 0);
	m = lifecycle_cmd_describe(&g.cmds[0]);
	ASSERT_STR_EQ(m, "[db] `mysql -u root`");
	free(m);
	lifecycle_group_clear(&g);
}

TEST(wait_for_selects_the_last_foreground_step)
{
	static const struct {
		const char *json;
		int last;
	} cases[] = {
		{ "\"initializeCommand\"", -1 },
		{ "\"onCreateCommand\"", LIFECYCLE_ON_CREATE },
		{ "\"updateContentCommand\"", LIFECYCLE_UPDATE_CONTENT },
		{ "\"postCreateCommand\"", LIFECYCLE_POST_CREATE },
		{ "\"postStartCommand\"", LIFECYCLE_POST_START },
		{ "\"postAttachCommand\"", LIFECYCLE_POST_ATTACH },
		{ "\"bogus\"", LIFECYCLE_UPDATE_CONTENT },
		{ "\"dotfiles\"", LIFECYCLE_UPDATE_CONTENT },
		{ "3", LIFECYCLE_UPDATE_CONTENT },
		{ "null", LIFECYCLE_UPDATE_CONTENT },
	};
	cJSON *v;

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		v = parse(cases[i].json);
		if (lifecycle_wait_for_last(v) != cases[i].last)
			TEST_FAIL("waitFor %s: %d, want %d", cases[i].json,
			    lifecycle_wait_for_last(v), cases[i].last);
		cJSON_Delete(v);
	}
	ASSERT_INT_EQ(lifecycle_wait_for_last(NULL), LIFECYCLE_UPDATE_CONTENT);
}

TEST(step_names_and_merged_keys_in_order)
{
	static const char *const names[] = { "onCreateCommand", "updateContentCommand",
		"postCreateCommand", "dotfiles", "postStartCommand",
		"postAttachCommand" };
	char key[64];

	for (int i = 0; i < LIFECYCLE_NSTEPS; i++) {
		ASSERT_STR_EQ(lifecycle_step_name(i), names[i]);
		if (i == LIFECYCLE_DOTFILES) {
			ASSERT_NULL(lifecycle_step_merged_key(i));
			continue;
		}
		snprintf(key, sizeof key, "%ss", names[i]);
		ASSERT_STR_EQ(lifecycle_step_merged_key(i), key);
	}
}

/* spec's field name, or "(none)". */
static const char *
dotfiles_field(const cJSON *spec, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(spec, name);

	return cJSON_IsString(v) ? v->valuestring : "(none)";
}

TEST(dotfiles_spec_as_the_reference_takes_the_options)
{
	static const struct {
		const char *repo, *install, *target;
		const char *want_repo, *want_install, *want_target;
	} cases[] = {
		{ "owner/dots", NULL, NULL, "https://github.com/owner/dots.git", "(none)",
		    "~/dotfiles" },
		{ "https://example.com/a.git", "setup-me", "/opt/d",
		    "https://example.com/a.git", "setup-me", "/opt/d" },
		{ "git@host:me/d.git", "", "", "git@host:me/d.git", "(none)",
		    "~/dotfiles" },
		{ "/srv/dots", NULL, "d", "/srv/dots", "(none)", "d" },
		{ "./dots", NULL, NULL, "./dots", "(none)", "~/dotfiles" },
		{ "../dots", NULL, NULL, "../dots", "(none)", "~/dotfiles" },
		{ ".dots", NULL, NULL, "https://github.com/.dots.git", "(none)",
		    "~/dotfiles" },
	};
	cJSON *spec;

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		spec = lifecycle_dotfiles_spec(
		    cases[i].repo, cases[i].install, cases[i].target);
		ASSERT_STR_EQ(dotfiles_field(spec, "repository"), cases[i].want_repo);
		ASSERT_STR_EQ(
		    dotfiles_field(spec, "installCommand"), cases[i].want_install);
		ASSERT_STR_EQ(dotfiles_field(spec, "targetPath"), cases[i].want_target);
		cJSON_Delete(spec);
	}
	ASSERT_NULL(lifecycle_dotfiles_spec(NULL, "x", "y"));
	ASSERT_NULL(lifecycle_dotfiles_spec("", "x", "y"));
}

TEST(remote_user_then_container_user)
{
	cJSON *m = parse("{\"remoteUser\": \"dev\", \"containerUser\": \"root\"}");

	ASSERT_STR_EQ(lifecycle_user(m), "dev");
	cJSON_Delete(m);
	m = parse("{\"remoteUser\": \"\", \"containerUser\": \"app\"}");
	ASSERT_STR_EQ(lifecycle_user(m), "app");
	cJSON_Delete(m);
	m = parse("{}");
	ASSERT_NULL(lifecycle_user(m));
	cJSON_Delete(m);
}

/* Collects emitted lines joined with '|'. */
static void
collect_line(void *arg, const char *line)
{
	buf_appendf(arg, "%s|", line);
}

TEST(lines_are_prefixed_and_split_across_chunks)
{
	struct lifecycle_lines l;
	struct buf *b = buf_new();
	char *s;

	lifecycle_lines_init(&l, "[db] ");
	lifecycle_lines_feed(&l, "hel", 3, collect_line, b);
	ASSERT_INT_EQ(buf_len(b), 0);
	lifecycle_lines_feed(&l, "lo\nwor", 6, collect_line, b);
	lifecycle_lines_feed(&l, "ld\r\n\nlast", 9, collect_line, b);
	lifecycle_lines_finish(&l, collect_line, b);
	s = buf_take_string(b, NULL);
	ASSERT_STR_EQ(s, "[db] hello|[db] world|[db] |[db] last|");
	free(s);

	lifecycle_lines_init(&l, NULL);
	lifecycle_lines_feed(&l, "a\nb\n", 4, collect_line, b);
	lifecycle_lines_finish(&l, collect_line, b);
	s = buf_take_string(b, NULL);
	ASSERT_STR_EQ(s, "a|b|");
	free(s);
	buf_free(b);
}

/* Collects the lengths of emitted lines, each followed by ' '. */
static void
collect_len(void *arg, const char *line)
{
	buf_appendf(arg, "%zu ", strlen(line));
}

/* A line longer than LIFECYCLE_LINE_MAX goes in pieces of at most that,
 * each a line (a frame holds it), a UTF-8 character never cut in two; its
 * bytes all arrive; the lines around it are as they were. */
TEST(an_over_long_line_goes_in_pieces)
{
	size_t big = 2 * LIFECYCLE_LINE_MAX + 10, i;
	char *line = xmalloc(big + 1), *s, *want;
	struct lifecycle_lines l;
	struct buf *b = buf_new();

	memset(line, 'x', big);
	/* "é" (c3 a9) across the first cut: it goes whole into the second */
	line[LIFECYCLE_LINE_MAX - 1] = (char)0xc3;
	line[LIFECYCLE_LINE_MAX] = (char)0xa9;
	line[big] = '\n';
	lifecycle_lines_init(&l, NULL);
	lifecycle_lines_feed(&l, "before\n", 7, collect_len, b);
	for (i = 0; i < big + 1; i += 65536)
		lifecycle_lines_feed(&l, line + i,
		    big + 1 - i < 65536 ? big + 1 - i : 65536, collect_len, b);
	lifecycle_lines_feed(&l, "after", 5, collect_len, b);
	lifecycle_lines_finish(&l, collect_len, b);
	s = buf_take_string(b, NULL);
	want =
	    xasprintf("6 %u %u %u 5 ", LIFECYCLE_LINE_MAX - 1, LIFECYCLE_LINE_MAX, 11u);
	ASSERT_STR_EQ(s, want);
	free(s);
	free(want);
	buf_free(b);
	free(line);
}

/* A line of exactly LIFECYCLE_LINE_MAX bytes is one line whether "\n" or
 * "\r\n" ends it (fed whole, with its '\r' and '\n' in two reads, or
 * ended by the end of output): no empty line made of its '\r'. */
TEST(a_line_of_the_most_bytes_ended_by_crlf_is_one_line)
{
	size_t max = LIFECYCLE_LINE_MAX;
	char *line = xmalloc(max + 3), *s, *want;
	struct lifecycle_lines l;
	struct buf *b = buf_new();

	memset(line, 'x', max);
	memcpy(line + max, "\r\n", 3);
	lifecycle_lines_init(&l, NULL);
	lifecycle_lines_feed(&l, line, max + 2, collect_len, b);
	lifecycle_lines_feed(&l, "y\n", 2, collect_len, b);
	lifecycle_lines_feed(&l, line, max + 1, collect_len, b);
	lifecycle_lines_feed(&l, "\n", 1, collect_len, b);
	lifecycle_lines_feed(&l, "y\n", 2, collect_len, b);
	/* a '\n' one byte further, not behind a '\r': cut at the most */
	line[max] = 'z';
	lifecycle_lines_feed(&l, line, max + 2, collect_len, b);
	lifecycle_lines_feed(&l, "y\n", 2, collect_len, b);
	line[max] = '\r';
	lifecycle_lines_feed(&l, line, max + 1, collect_len, b);
	lifecycle_lines_finish(&l, collect_len, b);
	s = buf_take_string(b, NULL);
	want = xasprintf("%zu 1 %zu 1 %zu 1 1 %zu ", max, max, max, max);
	ASSERT_STR_EQ(s, want);
	free(s);
	free(want);
	buf_free(b);
	free(line);
}

/* Collects the lines, masked (as up's progress masks them), each followed
 * by '|'. */
static const struct secrets *collect_mask;
static void
collect_masked(void *arg, const char *line)
{
	char *m = secrets_mask(collect_mask, line);

	buf_appendf(arg, "%s|", m);
	free(m);
}

/* A line cut in pieces is not cut inside a secret's value (--secrets-file):
 * the cut goes before it, so each piece, masked, shows none of it; also
 * when the bytes after the cut have not come yet. */
TEST(an_over_long_line_is_not_cut_inside_a_secret)
{
	size_t max = LIFECYCLE_LINE_MAX;
	char *line = xmalloc(max + 64), *s;
	cJSON *o = cJSON_Parse("{\"A\":\"SECRETVALUE123\",\"B\":\"x\"}");
	struct secrets *sec = NULL;
	struct lifecycle_lines l;
	struct buf *b = buf_new();

	ASSERT_INT_EQ(secrets_from_json(o, &sec, NULL), 0);
	collect_mask = sec;
	memset(line, 'b', max + 64);
	/* "SE" before the most bytes, "CRETVALUE123" after */
	memcpy(line + max - 2, "SECRETVALUE123\n", 15);
	for (int split = 0; split < 2; split++) {
		lifecycle_lines_init(&l, NULL);
		l.mask = sec;
		/* whole, or with only a byte past the most at first */
		lifecycle_lines_feed(
		    &l, line, split ? max + 1 : max + 13, collect_masked, b);
		if (split)
			lifecycle_lines_feed(&l, line + max + 1, 12, collect_masked, b);
		lifecycle_lines_finish(&l, collect_masked, b);
		s = buf_take_string(b, NULL);
		ASSERT_TRUE(strstr(s, "SE|") == NULL);
		ASSERT_TRUE(strstr(s, "CRET") == NULL);
		ASSERT_TRUE(
		    strlen(s) > 9 && strcmp(s + strlen(s) - 10, "|********|") == 0);
		free(s);
	}
	secrets_free(sec);
	cJSON_Delete(o);
	buf_free(b);
	free(line);
}

/* ---- lifecycle output as `up`'s progress, many lines at a time ---- */

/* What a progress sink got: each call's data, after a '|' and the time of
 * the call (ms). */
struct sink_calls {
	struct buf *all;   /* every call's data, in order */
	struct buf *calls; /* "|MS:DATA" per call */
	size_t n;
	int split; /* a call's data did not end a line */
};

static void
sink_record(void *arg, const char *data, size_t len)
{
	struct sink_calls *c = arg;

	buf_append(c->all, data, len);
	buf_appendf(c->calls, "|%lld:", clock_now_ms());
	buf_append(c->calls, data, len);
	c->n++;
	if (len == 0 || data[len - 1] != '\n')
		c->split = 1;
}

static void
lines_to_progress(void *arg, const char *line)
{
	progress_output(arg, line);
}

static struct secrets *
test_secrets(void)
{
	cJSON *o = parse("{\"TOKEN\": \"s3cr3t-v4lue\"}");
	struct secrets *sec = NULL;

	ASSERT_INT_EQ(secrets_from_json(o, &sec, NULL), 0);
	cJSON_Delete(o);
	return sec;
}

/* A group's command announced: in json the "text" line carries its key as
 * "member" (masked like the text), for the view to keep beside it; text
 * mode shows the line alone. */
TEST(member_line_carries_the_key_in_json)
{
	struct sink_calls c = { buf_new(), buf_new(), 0, 0 };
	struct progress p = { .fn = sink_record, .arg = &c, .json = 1 };
	cJSON *o;
	char *s;

	p.mask = test_secrets();
	progress_member_line(&p, "k s3cr3t-v4lue", "Running the %s: [%s] `a`",
	    "postCreateCommand", "k s3cr3t-v4lue");
	s = buf_take_string(c.all, NULL);
	o = parse(s);
	ASSERT_STR_EQ(
	    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "type")), "text");
	ASSERT_STR_EQ(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "text")),
	    "Running the postCreateCommand: [k ********] `a`");
	ASSERT_STR_EQ(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "member")),
	    "k ********");
	cJSON_Delete(o);
	free(s);
	p.json = 0;
	progress_member_line(&p, "k", "Running the x: [k] `a`");
	s = buf_take_string(c.all, NULL);
	ASSERT_STR_EQ(s, "Running the x: [k] `a`\n");
	free(s);
	secrets_free((struct secrets *)p.mask);
	buf_free(c.all);
	buf_free(c.calls);
}

/* Lines held in a batch go to the sink in one call at a flush; a secret
 * split between two pieces of a command's output is masked all the same
 * (the batch holds whole lines, each masked), in text and in json. */
TEST(batched_output_masks_a_secret_split_across_pieces)
{
	struct sink_calls c = { buf_new(), buf_new(), 0, 0 };
	struct progress p = { .fn = sink_record, .arg = &c };
	struct lifecycle_lines l;
	cJSON *o;
	char *s, *line, *save = NULL;
	int n = 0;

	p.mask = test_secrets();
	p.batch = buf_new();
	lifecycle_lines_init(&l, NULL);
	/* as lifecycle-exec.c passes a piece: its lines, then a flush */
	lifecycle_lines_feed(&l, "one\ntwo\nkey s3cr3", strlen("one\ntwo\nkey s3cr3"),
	    lines_to_progress, &p);
	ASSERT_INT_EQ(c.n, 0);
	progress_flush(&p);
	ASSERT_INT_EQ(c.n, 1);
	lifecycle_lines_feed(&l, "t-v4lue end\nthree\n", strlen("t-v4lue end\nthree\n"),
	    lines_to_progress, &p);
	progress_flush(&p);
	progress_flush(&p); /* (nothing held: no call) */
	lifecycle_lines_finish(&l, lines_to_progress, &p);
	ASSERT_INT_EQ(c.n, 2);
	s = buf_take_string(c.all, NULL);
	ASSERT_STR_EQ(s, "one\ntwo\nkey ******** end\nthree\n");
	free(s);

	/* json: one JSON log line per output line, several per call */
	p.json = 1;
	c.n = 0;
	lifecycle_lines_init(&l, "[db] ");
	lifecycle_lines_feed(&l, "a s3cr3t-", strlen("a s3cr3t-"), lines_to_progress, &p);
	progress_flush(&p);
	ASSERT_INT_EQ(c.n, 0);
	lifecycle_lines_feed(
	    &l, "v4lue\nb\n", strlen("v4lue\nb\n"), lines_to_progress, &p);
	progress_line(&p, "Running the next step"); /* flushes first: in order */
	lifecycle_lines_finish(&l, lines_to_progress, &p);
	ASSERT_INT_EQ(c.n, 2);
	ASSERT_FALSE(c.split);
	s = buf_take_string(c.all, NULL);
	ASSERT_TRUE(strstr(s, "s3cr3t") == NULL);
	for (line = strtok_r(s, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save), n++) {
		o = parse(line);
		ASSERT_STR_EQ(
		    cJSON_GetObjectItem(o, "type")->valuestring, n < 2 ? "raw" : "text");
		ASSERT_STR_EQ(cJSON_GetObjectItem(o, "text")->valuestring,
		    n == 0	 ? "[db] a ********\n"
			: n == 1 ? "[db] b\n"
				 : "Running the next step");
		cJSON_Delete(o);
	}
	ASSERT_INT_EQ(n, 3);
	free(s);
	secrets_free((struct secrets *)p.mask);
	buf_free(p.batch);
	buf_free(c.all);
	buf_free(c.calls);
}

/* progress_output()'s JSON log line is the one cJSON would print for the
 * same object (it is written without cJSON), for every byte a line holds. */
TEST(json_output_lines_are_what_cjson_prints)
{
	struct sink_calls c = { buf_new(), buf_new(), 0, 0 };
	struct progress p = { .fn = sink_record, .arg = &c, .json = 1 };
	char line[256], *got, *want;
	cJSON *g, *o;
	int i;

	for (i = 1; i < 256; i++)
		line[i - 1] = (char)i;
	line[255] = '\0';
	for (i = 0; i < 3; i++) {
		progress_output(&p,
		    i == 0	 ? line
			: i == 1 ? "plain \"quoted\" \\ line"
				 : "");
		got = buf_take_string(c.all, NULL);
		ASSERT_TRUE(strlen(got) > 0 && got[strlen(got) - 1] == '\n');
		got[strlen(got) - 1] = '\0';
		g = parse(got);
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "type", "raw");
		cJSON_AddNumberToObject(o, "level", 3);
		cJSON_AddNumberToObject(
		    o, "timestamp", cJSON_GetObjectItem(g, "timestamp")->valuedouble);
		cJSON_AddStringToObject(
		    o, "text", cJSON_GetObjectItem(g, "text")->valuestring);
		cJSON_AddStringToObject(o, "channel", "postCreate");
		want = cJSON_PrintUnformatted(o);
		ASSERT_STR_EQ(got, want);
		if (i == 0)
			ASSERT_INT_EQ(
			    strlen(cJSON_GetObjectItem(g, "text")->valuestring), 256);
		free(want);
		free(got);
		cJSON_Delete(o);
		cJSON_Delete(g);
	}
	buf_free(c.all);
	buf_free(c.calls);
}

static void
progress_out(void *arg, const char *step, const char *line)
{
	(void)step;
	progress_output(arg, line);
}

static void
progress_flush_fn(void *arg)
{
	progress_flush(arg);
}

/* The ms of the sink call whose data holds what, or -1. */
static long long
sink_call_ms(struct sink_calls *c, const char *what)
{
	const char *calls = (const char *)buf_data(c->calls), *at, *bar;
	size_t n = buf_len(c->calls);

	if ((at = memmem(calls, n, what, strlen(what))) == NULL)
		return -1;
	for (bar = at; bar > calls && *bar != '|'; bar--)
		;
	return atoll(bar + 1);
}

/* A command's output through the runner (initializeCommand's, on this
 * host, as `up` runs it): many lines per sink call, none split, all in
 * order; a line printed before a pause reaches the sink before the pause
 * ends; a secret printed in two pieces around that pause is masked. */
TEST(initialize_output_travels_in_batches_flushed_at_a_pause)
{
	struct sink_calls c = { buf_new(), buf_new(), 0, 0 };
	struct progress p = { .fn = sink_record, .arg = &c };
	struct buf *want = buf_new();
	cJSON *v = parse("\"echo first; printf 'key s3cr3'; sleep 1; "
			 "printf 't-v4lue end\\\\n'; seq 1 20000\"");
	long long first, after;
	char *cause = NULL, *s, *w;

	p.mask = test_secrets();
	p.batch = buf_new();
	ASSERT_INT_EQ(lifecycle_run_initialize(
			  v, NULL, progress_out, progress_flush_fn, NULL, &p, &cause),
	    0);
	buf_appendf(want, "first\nkey ******** end\n");
	for (int i = 1; i <= 20000; i++)
		buf_appendf(want, "%d\n", i);
	s = buf_take_string(c.all, NULL);
	w = buf_take_string(want, NULL);
	ASSERT_STR_EQ(s, w);
	ASSERT_FALSE(c.split);
	/* 20,002 lines, one call each before batching */
	if (c.n > 200)
		TEST_FAIL("%zu calls of the sink for 20,002 lines", c.n);
	first = sink_call_ms(&c, "first\n");
	after = sink_call_ms(&c, " end\n");
	ASSERT_TRUE(first >= 0 && after >= 0);
	if (after - first < 500)
		TEST_FAIL("the line before the 1 s pause came %lld ms before the next",
		    after - first);
	free(s);
	free(w);
	cJSON_Delete(v);
	secrets_free((struct secrets *)p.mask);
	buf_free(p.batch);
	buf_free(want);
	buf_free(c.all);
	buf_free(c.calls);
}

/* ---- env-probe ---- */

static char *
env_join(char **env)
{
	struct buf *b = buf_new();
	char *s;

	for (size_t i = 0; env != NULL && env[i] != NULL; i++)
		buf_appendf(b, "%s;", env[i]);
	s = buf_take_string(b, NULL);
	buf_free(b);
	return s;
}

TEST(probe_output_between_markers)
{
	static const char out[] = "Welcome!\nMARKA=1\0HOME=/home/dev\0PWD=/x\0junk\0A=2\0"
				  "MARKtrailing noise";
	char **env, *s;

	env = env_probe_parse(out, sizeof out - 1, "MARK", '\0');
	ASSERT_NOT_NULL(env);
	s = env_join(env);
	/* PWD dropped, "junk" (no '=') dropped, A replaced in place. */
	ASSERT_STR_EQ(s, "A=2;HOME=/home/dev;");
	free(s);
	env_free(env);

	env = env_probe_parse("xMARKA=1\nB=x=y\nMARK", 19, "MARK", '\n');
	s = env_join(env);
	ASSERT_STR_EQ(s, "A=1;B=x=y;");
	free(s);
	env_free(env);

	ASSERT_NULL(env_probe_parse("MARKMARK", 8, "MARK", '\0'));
	ASSERT_NULL(env_probe_parse("MARKA=1", 7, "MARK", '\0'));
	ASSERT_NULL(env_probe_parse("nothing", 7, "MARK", '\0'));
}

TEST(merge_paths_as_the_reference)
{
	char *p;

	p = env_probe_merge_paths("/usr/local/bin:/usr/bin:/bin:/usr/games",
	    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", 0);
	ASSERT_STR_EQ(p, "/usr/local/bin:/usr/bin:/bin:/usr/games");
	free(p);
	p = env_probe_merge_paths("/usr/local/bin:/usr/bin:/bin:/usr/games",
	    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", 1);
	ASSERT_STR_EQ(
	    p, "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/usr/games");
	free(p);
	p = env_probe_merge_paths(
	    "/home/u/bin:/usr/bin:/bin", "/opt/x/bin:/usr/bin:/opt/y", 0);
	ASSERT_STR_EQ(p, "/opt/x/bin:/home/u/bin:/usr/bin:/opt/y:/bin");
	free(p);
}

TEST(passwd_shell_by_name_or_uid)
{
	static const char pw[] = "root:x:0:0:root:/root:/bin/sh\n"
				 "dev:x:1000:1000::/home/dev:/bin/bash\n"
				 "noshell:x:1001:1001::/home/n:\n";
	char *s;

	s = env_probe_passwd_shell(pw, "dev");
	ASSERT_STR_EQ(s, "/bin/bash");
	free(s);
	s = env_probe_passwd_shell(pw, "1000:1000");
	ASSERT_STR_EQ(s, "/bin/bash");
	free(s);
	s = env_probe_passwd_shell(pw, "root");
	ASSERT_STR_EQ(s, "/bin/sh");
	free(s);
	ASSERT_NULL(env_probe_passwd_shell(pw, "noshell"));
	ASSERT_NULL(env_probe_passwd_shell(pw, "nobody"));
}

TEST(probe_kinds_map_to_shell_flags)
{
	const char *f;

	ASSERT_INT_EQ(env_probe_shell_flag("loginInteractiveShell", &f), 0);
	ASSERT_STR_EQ(f, "-lic");
	ASSERT_INT_EQ(env_probe_shell_flag(NULL, &f), 0);
	ASSERT_STR_EQ(f, "-lic");
	ASSERT_INT_EQ(env_probe_shell_flag("loginShell", &f), 0);
	ASSERT_STR_EQ(f, "-lc");
	ASSERT_INT_EQ(env_probe_shell_flag("interactiveShell", &f), 0);
	ASSERT_STR_EQ(f, "-ic");
	ASSERT_INT_EQ(env_probe_shell_flag("none", &f), 0);
	ASSERT_NULL(f);
	ASSERT_INT_EQ(env_probe_shell_flag("zsh", &f), -1);
}

TEST(remote_env_overlays_resolves_and_unsets)
{
	char *probed[] = { "PATH=/usr/bin", "HOME=/home/dev", "SECRET=1", NULL };
	char *cenv[] = { "PATH=/usr/local/bin:/usr/bin", "LANG=C.UTF-8", NULL };
	cJSON *re =
	    parse("{\"PATH\": \"${containerEnv:PATH}:/opt/bin\", \"N\": 3, \"B\": true,"
		  " \"SECRET\": null, \"LANG2\": \"${containerEnv:LANG}\", \"O\": {}}");
	char **env = NULL, **unset = NULL, *s;

	ASSERT_INT_EQ(
	    env_probe_apply_remote_env(probed, re, cenv, &env, &unset, NULL), 0);
	s = env_join(env);
	ASSERT_STR_EQ(s,
	    "PATH=/usr/local/bin:/usr/bin:/opt/bin;HOME=/home/dev;N=3;B=true;"
	    "LANG2=C.UTF-8;");
	free(s);
	s = env_join(unset);
	ASSERT_STR_EQ(s, "SECRET;");
	free(s);
	ASSERT_STR_EQ(env_get(env, "HOME"), "/home/dev");
	ASSERT_NULL(env_get(env, "SECRET"));
	env_free(env);
	env_free(unset);
	cJSON_Delete(re);

	/* No remoteEnv: a copy of the probed environment. */
	ASSERT_INT_EQ(
	    env_probe_apply_remote_env(probed, NULL, NULL, &env, &unset, NULL), 0);
	s = env_join(env);
	ASSERT_STR_EQ(s, "PATH=/usr/bin;HOME=/home/dev;SECRET=1;");
	free(s);
	ASSERT_NULL(unset[0]);
	env_free(env);
	env_free(unset);
}

/* A remoteEnv value that ${containerEnv:...} made longer than any process
 * can start with (each variable fits, the two together do not): an error
 * naming it, not execs that fail with "argument list too long". */
TEST(remote_env_too_long_once_resolved_is_an_error)
{
	char *probed[] = { "HOME=/home/dev", NULL }, *cenv[] = { NULL, NULL };
	cJSON *re = parse("{\"BOTH\": \"${containerEnv:BIG}${containerEnv:BIG}\"}");
	char **env = NULL, **unset = NULL, *cause = NULL;

	cenv[0] = xmalloc(100005);
	memcpy(cenv[0], "BIG=", 4);
	memset(cenv[0] + 4, 'x', 100000);
	cenv[0][100004] = '\0';
	ASSERT_INT_EQ(
	    env_probe_apply_remote_env(probed, re, cenv, &env, &unset, &cause), -1);
	ASSERT_STR_CONTAINS(cause, "remoteEnv: \"BOTH\": NAME=VALUE is 200005 bytes");
	ASSERT_NULL(env);
	free(cause);
	free(cenv[0]);
	cJSON_Delete(re);
}

/* ---- Log and initializeCommand ---- */

TEST(log_lines_are_timestamped_and_appended)
{
	char dir[] = "/tmp/rdev-test-lifecycle.XXXXXX", *path, *data = NULL,
	     *cause = NULL;
	struct lifecycle_log *log;
	size_t len;

	ASSERT_NOT_NULL(mkdtemp(dir));
	path = lifecycle_log_path(dir, "abc123");
	ASSERT_TRUE(strstr(path, "/lifecycle-abc123.log") != NULL);
	log = lifecycle_log_open(path, &cause);
	ASSERT_NOT_NULL(log);
	lifecycle_log_output(log, "postCreateCommand", "hello");
	lifecycle_log_event(log, "postCreateCommand", LIFECYCLE_EVENT_DONE, NULL);
	lifecycle_log_close(log);
	log = lifecycle_log_open(path, &cause);
	lifecycle_log_event(log, "postStartCommand", LIFECYCLE_EVENT_FAILED, "boom");
	lifecycle_log_close(log);
	ASSERT_INT_EQ(file_read_all(path, 1 << 20, &data, &len, &cause), 0);
	/* "YYYY-MM-DDTHH:MM:SS.mmmZ " is 25 characters. */
	ASSERT_INT_EQ(data[4], '-');
	ASSERT_INT_EQ(data[10], 'T');
	ASSERT_INT_EQ(data[23], 'Z');
	ASSERT_TRUE(strncmp(data + 25, "postCreateCommand: hello\n", 25) == 0);
	ASSERT_STR_CONTAINS(data, "Z postCreateCommand: done\n");
	ASSERT_STR_CONTAINS(data, "Z postStartCommand: FAILED: boom\n");
	free(data);
	unlink(path);
	rmdir(dir);
	free(path);
}

/* A step that failed in up itself: a record `status` reads as failed, at
 * that step, that the background's readers see as no run at all. */
TEST(foreground_failure_is_recorded_but_not_a_background_run)
{
	char dir[] = "/tmp/rdev-test-lifecycle.XXXXXX", *cause = NULL;
	struct lifecycle_bg_status st;
	cJSON *j;

	ASSERT_NOT_NULL(mkdtemp(dir));
	ASSERT_INT_EQ(
	    lifecycle_bg_record_failure(dir, "abc123", "postCreateCommand",
		"postCreateCommand failed: `exit 3` exited with status 3", &cause),
	    0);
	ASSERT_INT_EQ(lifecycle_bg_status_read(dir, "abc123", &st, &cause), 0);
	ASSERT_INT_EQ(st.state, LIFECYCLE_BG_FAILED);
	ASSERT_INT_EQ(st.foreground, 1);
	ASSERT_STR_EQ(st.failed, "postCreateCommand");
	ASSERT_STR_EQ(
	    st.error, "postCreateCommand failed: `exit 3` exited with status 3");
	ASSERT_NULL(st.left);
	j = lifecycle_bg_status_json(&st);
	ASSERT_STR_EQ(cJSON_GetObjectItemCaseSensitive(j, "state")->valuestring, "none");
	ASSERT_NULL(cJSON_GetObjectItemCaseSensitive(j, "error"));
	cJSON_Delete(j);
	lifecycle_bg_status_clear(&st);
	ASSERT_NULL(lifecycle_bg_notice(dir, "abc123", "rdev logs -f"));
	/* another container's status knows nothing of it */
	ASSERT_INT_EQ(lifecycle_bg_status_read(dir, "def456", &st, &cause), 0);
	ASSERT_INT_EQ(st.state, LIFECYCLE_BG_NONE);
	ASSERT_NULL(st.failed);
	lifecycle_bg_status_clear(&st);
	lifecycle_bg_forget(dir, "abc123");
	ASSERT_INT_EQ(lifecycle_bg_status_read(dir, "abc123", &st, &cause), 0);
	ASSERT_INT_EQ(st.state, LIFECYCLE_BG_NONE);
	lifecycle_bg_status_clear(&st);
	rmdir(dir);
}

/* The background run's record names its failed step too. */
TEST(background_failure_names_its_step)
{
	char dir[] = "/tmp/rdev-test-lifecycle.XXXXXX", *path, *cause = NULL;
	const char *rec =
	    "{\"containerId\":\"abc123\",\"state\":\"failed\",\"error\":\"boom\","
	    "\"steps\":[{\"name\":\"postCreateCommand\",\"state\":\"done\"},"
	    "{\"name\":\"postStartCommand\",\"state\":\"failed\"},"
	    "{\"name\":\"postAttachCommand\",\"state\":\"pending\"}]}";
	struct lifecycle_bg_status st;
	cJSON *j;

	ASSERT_NOT_NULL(mkdtemp(dir));
	path = xasprintf("%s/lifecycle-abc123.state", dir);
	ASSERT_INT_EQ(atomic_file_write(path, rec, strlen(rec), 0600, &cause), 0);
	ASSERT_INT_EQ(lifecycle_bg_status_read(dir, "abc123", &st, &cause), 0);
	ASSERT_INT_EQ(st.state, LIFECYCLE_BG_FAILED);
	ASSERT_INT_EQ(st.foreground, 0);
	ASSERT_STR_EQ(st.failed, "postStartCommand");
	ASSERT_STR_EQ(st.error, "boom");
	j = lifecycle_bg_status_json(&st);
	ASSERT_STR_EQ(
	    cJSON_GetObjectItemCaseSensitive(j, "state")->valuestring, "failed");
	ASSERT_STR_EQ(cJSON_GetObjectItemCaseSensitive(j, "error")->valuestring, "boom");
	cJSON_Delete(j);
	lifecycle_bg_status_clear(&st);
	unlink(path);
	rmdir(dir);
	free(path);
}

struct collected {
	struct buf *b;
	struct buf *events; /* "run DETAIL" lines */
	int bad_step;
};

static void
collect_output(void *arg, const char *step, const char *line)
{
	struct collected *c = arg;

	if (strcmp(step, "initializeCommand") != 0)
		c->bad_step = 1;
	buf_appendf(c->b, "%s\n", line);
}

static void
collect_event(void *arg, const char *step, enum lifecycle_event ev, const char *detail)
{
	struct collected *c = arg;

	if (strcmp(step, "initializeCommand") != 0)
		c->bad_step = 1;
	if (ev == LIFECYCLE_EVENT_RUN)
		buf_appendf(c->events, "run %s\n", detail);
	else if (ev == LIFECYCLE_EVENT_MEMBER_FAILED)
		buf_appendf(c->events, "member-failed %s\n", detail);
	else if (ev == LIFECYCLE_EVENT_MEMBER_RUN)
		buf_appendf(c->events, "member-run %s\n", detail);
}

/* The output of initializeCommand json run in cwd; *events (when not
 * NULL) gets the "run DETAIL", "member-run NAME" and "member-failed NAME"
 * lines of its events. */
static char *
run_initialize_events(
    const char *json, const char *cwd, int *rc, char **cause, char **events)
{
	struct collected c = { buf_new(), buf_new(), 0 };
	cJSON *v = parse(json);
	char *s;

	*rc = lifecycle_run_initialize(
	    v, cwd, collect_output, NULL, collect_event, &c, cause);
	cJSON_Delete(v);
	s = buf_take_string(c.b, NULL);
	buf_free(c.b);
	if (events != NULL)
		*events = buf_take_string(c.events, NULL);
	buf_free(c.events);
	if (c.bad_step)
		*rc = 99;
	return s;
}

static char *
run_initialize(const char *json, const char *cwd, int *rc, char **cause)
{
	return run_initialize_events(json, cwd, rc, cause, NULL);
}

TEST(initialize_string_runs_in_workspace_folder)
{
	char *out, *cause = NULL;
	int rc;

	out =
	    run_initialize("\"pwd; echo err >&2; printf partial\"", "/tmp", &rc, &cause);
	ASSERT_INT_EQ(rc, 0);
	ASSERT_STR_CONTAINS(out, "/tmp\n");
	ASSERT_STR_CONTAINS(out, "err\n");
	ASSERT_STR_CONTAINS(out, "partial\n");
	free(out);
}

TEST(initialize_array_has_no_shell)
{
	char *out, *cause = NULL;
	int rc;

	out = run_initialize("[\"echo\", \"$HOME\", \"a  b\"]", NULL, &rc, &cause);
	ASSERT_INT_EQ(rc, 0);
	ASSERT_STR_EQ(out, "$HOME a  b\n");
	free(out);
}

TEST(initialize_object_runs_in_parallel_with_prefixes)
{
	char dir[] = "/tmp/rdev-test-init.XXXXXX", *out, *cause = NULL, *json;
	int rc;

	ASSERT_NOT_NULL(mkdtemp(dir));
	/* Each waits (30 s at most: a loaded machine may start the second
	 * well after the first) for the other's file: only parallel runs can
	 * finish. */
	json = xasprintf("{\"a\": \"touch %s/a; i=0; while [ ! -e %s/b ]; do sleep 0.05; "
			 "i=$((i+1)); [ $i -gt 600 ] && exit 7; done; echo from a\", "
			 "\"b\": [\"sh\", \"-c\", \"touch %s/b; i=0; while [ ! -e %s/a "
			 "]; do sleep 0.05; "
			 "i=$((i+1)); [ $i -gt 600 ] && exit 7; done; echo from b\"]}",
	    dir, dir, dir, dir);
	out = run_initialize(json, NULL, &rc, &cause);
	free(json);
	ASSERT_INT_EQ(rc, 0);
	ASSERT_STR_CONTAINS(out, "[a] from a\n");
	ASSERT_STR_CONTAINS(out, "[b] from b\n");
	free(out);
	free(cause);
	json = xasprintf("%s/a", dir);
	unlink(json);
	free(json);
	json = xasprintf("%s/b", dir);
	unlink(json);
	free(json);
	rmdir(dir);
}

/* Each command is announced as it starts, as the in-container steps' are
 * (up shows "Running the initializeCommand: `...`" from it): a slow one
 * does not run unnamed. */
TEST(initialize_events_name_each_command)
{
	char *out, *events, *cause = NULL;
	int rc;

	out = run_initialize_events("\"echo one\"", NULL, &rc, &cause, &events);
	ASSERT_INT_EQ(rc, 0);
	ASSERT_STR_EQ(events, "run `echo one`\n");
	free(out);
	free(events);
	out = run_initialize_events(
	    "{\"a\": \"true\", \"b\": [\"echo\", \"x y\"]}", NULL, &rc, &cause, &events);
	ASSERT_INT_EQ(rc, 0);
	/* (a group's command's key comes before its RUN, for the view to keep
	 * beside the text: not read back out of "[NAME] `CMD`") */
	ASSERT_STR_EQ(events,
	    "member-run a\nrun [a] `true`\nmember-run b\nrun [b] "
	    "`echo 'x y'`\n");
	free(out);
	free(events);
}

/* The command of a group that failed is named by its key, the first
 * failing in the object's order (the one the error is about), whatever
 * its text or its output says; a single command is the step's own. */
TEST(initialize_group_failure_names_its_member)
{
	char *out, *events, *cause = NULL;
	int rc;

	out = run_initialize_events("{\"a\": \"true\", \"b\": \"echo '[a] `true`'; "
				    "exit 3\", \"c\": \"exit 4\"}",
	    NULL, &rc, &cause, &events);
	ASSERT_INT_EQ(rc, -1);
	ASSERT_STR_CONTAINS(events, "member-failed b\n");
	ASSERT_TRUE(strstr(events, "member-failed a") == NULL);
	ASSERT_TRUE(strstr(events, "member-failed c") == NULL);
	ASSERT_STR_CONTAINS(cause, "initializeCommand failed: [b] ");
	free(out);
	free(events);
	free(cause);
	cause = NULL;
	out = run_initialize_events("\"exit 3\"", NULL, &rc, &cause, &events);
	ASSERT_INT_EQ(rc, -1);
	ASSERT_TRUE(strstr(events, "member-failed") == NULL);
	free(out);
	free(events);
	free(cause);
	cause = NULL;
	/* an object of one command names it too: a step's groups are one
	 * phase in the view, and it may follow an object of two */
	out = run_initialize_events("{\"only\": \"exit 3\"}", NULL, &rc, &cause, &events);
	ASSERT_INT_EQ(rc, -1);
	ASSERT_STR_CONTAINS(events, "member-failed only\n");
	free(out);
	free(events);
	free(cause);
}

/* A server started with `&` holds the command's stdout: the step is done
 * when the command exits (with its output), not when the server does. */
TEST(initialize_does_not_wait_for_its_background_process)
{
	char *out, *cause = NULL;
	long long t0 = clock_now_ms();
	int rc;

	out = run_initialize("\"sleep 20 & echo started $!\"", NULL, &rc, &cause);
	ASSERT_INT_EQ(rc, 0);
	ASSERT_TRUE(clock_now_ms() - t0 < 10000);
	ASSERT_STR_CONTAINS(out, "started ");
	ASSERT_TRUE(atoi(out + strlen("started ")) > 0);
	kill((pid_t)atoi(out + strlen("started ")), SIGKILL);
	free(out);
}

TEST(initialize_failure_names_the_command)
{
	static const struct {
		const char *json;
		int rc;
		const char *cause; /* NULL: no error */
		const char *out;   /* what the output holds, or NULL */
		int out_exact;	   /* ... or is */
	} cases[] = {
		{ "{\"ok\": \"true\", \"bad\": \"echo before; exit 3\"}", -1,
		    "initializeCommand failed: [bad] `echo before; exit 3` exited "
		    "with status 3: before",
		    "[bad] before\n", 0 },
		{ "\"kill -9 $$\"", -1,
		    "initializeCommand failed: `kill -9 $$` killed by signal 9 (Killed)",
		    NULL, 0 },
		{ "[\"/nonexistent/prog\"]", -1,
		    "initializeCommand failed: `/nonexistent/prog` exited with status "
		    "127: cannot run /nonexistent/prog: No such file or directory",
		    "cannot run /nonexistent/prog", 0 },
		{ "\"   \"", 0, NULL, "", 1 },
	};
	char *out, *cause;
	int rc;

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		TEST_CASE_NAME("%s", cases[i].json);
		cause = NULL;
		out = run_initialize(cases[i].json, NULL, &rc, &cause);
		ASSERT_INT_EQ(rc, cases[i].rc);
		if (cases[i].cause != NULL)
			ASSERT_STR_EQ(cause, cases[i].cause);
		if (cases[i].out != NULL && cases[i].out_exact)
			ASSERT_STR_EQ(out, cases[i].out);
		else if (cases[i].out != NULL)
			ASSERT_STR_CONTAINS(out, cases[i].out);
		free(out);
		free(cause);
	}
}

/* The reference's marker read (lifecycle_ref_read_script, run here by
 * /bin/sh with HOME a temporary folder) and its parse: a marker counts as
 * done when its whole content is this container's time (trailing newlines
 * dropped, as $(cat) gives it) or empty, as the reference's
 * "${CONTENT:-T}" != T compares it; one whose first line is the time but
 * which goes on is not done (it was, when only the first line was read). */
TEST(ref_marker_compares_the_whole_file)
{
	char dir[] = "/tmp/rdev-test-lifecycle.XXXXXX", *cmd, *out = NULL;
	struct lifecycle_ctx ctx;
	struct lifecycle_state st;
	struct buf *b;
	FILE *p;
	char chunk[256];
	size_t n;

	ASSERT_NOT_NULL(mkdtemp(dir));
	cmd = xasprintf("mkdir %s/.devcontainer && cd %s/.devcontainer && "
			"printf 'T1\\n' >.onCreateCommandMarker && "
			"printf 'T1\\nT1\\n' >.updateContentCommandMarker && "
			": >.postCreateCommandMarker && "
			"printf 'S1\\n\\n' >.postStartCommandMarker",
	    dir, dir);
	ASSERT_INT_EQ(system(cmd), 0);
	free(cmd);
	cmd = xasprintf("%s/read.sh", dir);
	p = fopen(cmd, "w");
	ASSERT_NOT_NULL(p);
	fputs(lifecycle_ref_read_script, p);
	fclose(p);
	free(cmd);
	cmd = xasprintf("HOME=%s /bin/sh %s/read.sh \"$(id -un)\" "
			".onCreateCommandMarker .updateContentCommandMarker "
			".postCreateCommandMarker .postStartCommandMarker",
	    dir, dir);
	p = popen(cmd, "r");
	ASSERT_NOT_NULL(p);
	b = buf_new();
	while ((n = fread(chunk, 1, sizeof chunk, p)) > 0)
		buf_append(b, chunk, n);
	ASSERT_INT_EQ(pclose(p), 0);
	free(cmd);
	out = buf_take_string(b, NULL);
	buf_free(b);
	memset(&ctx, 0, sizeof ctx);
	memset(&st, 0, sizeof st);
	st.created_at = xstrdup("T1");
	st.started_at = xstrdup("S1");
	lifecycle_ref_markers_parse(&st, out);
	st.ref_read = 1;
	free(out);
	cmd = xasprintf("%s/.devcontainer", dir);
	ASSERT_STR_EQ(st.ref_dir, cmd);
	free(cmd);
	ASSERT_INT_EQ(lifecycle_ref_marker_done(&ctx, &st, LIFECYCLE_ON_CREATE), 1);
	ASSERT_INT_EQ(lifecycle_ref_marker_done(&ctx, &st, LIFECYCLE_UPDATE_CONTENT), 0);
	ASSERT_INT_EQ(lifecycle_ref_marker_done(&ctx, &st, LIFECYCLE_POST_CREATE), 1);
	ASSERT_INT_EQ(lifecycle_ref_marker_done(&ctx, &st, LIFECYCLE_POST_START), 1);
	lifecycle_state_clear(&st);
	cmd = xasprintf("rm -rf %s", dir);
	ASSERT_INT_EQ(system(cmd), 0);
	free(cmd);
}
