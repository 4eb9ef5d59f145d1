/* test-lifecycle.c - lifecycle commands and the user env probe against the
 * real daemon.
 *
 * Needs the rig's Docker engine and its images rdev-test/busybox:r1 and
 * rdev-test/bookworm-dev:r1; fails, not skips, without them. Each test makes
 * its own containers (markers live in the container), rig.h's: removed at
 * exit, also after a failed test.
 */
#include "test.h"

#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "atomic-file.h"
#include "buf.h"
#include "docker.h"
#include "env-probe.h"
#include "lifecycle.h"
#include "rig.h"
#include "xmalloc.h"

/* A started container of image of this run, with extra Env (NULL-terminated,
 * may be NULL). The caller frees the id. */
static char *
container_new(const char *image, const char *const *env)
{
	cJSON *body = rig_container_body(image, NULL), *e;

	if (env != NULL) {
		e = cJSON_AddArrayToObject(body, "Env");
		for (; *env != NULL; env++)
			cJSON_AddItemToArray(e, cJSON_CreateString(*env));
	}
	return rig_container_create(body, NULL, 1);
}

static void
container_restart(const char *id)
{
	static char msg[512];
	char *cause = NULL;

	if (docker_container_stop(rig_docker(), id, 0, &cause) < 0 ||
	    docker_container_start(rig_docker(), id, &cause) != 0) {
		snprintf(msg, sizeof msg, "%s", cause);
		free(cause);
		TEST_FAIL("restart: %s", msg);
	}
}

/* Run a shell script in the container as root; returns its stdout (trailing
 * newlines removed; the caller frees). */
static char *
sh(const char *id, const char *script)
{
	static char msg[512];
	const char *argv[] = { "/bin/sh", "-c", script, NULL };
	struct docker_exec_opts opts = { argv, "root", NULL, NULL, NULL, 0, 0, 0, 0, 0,
		NULL };
	char *out = NULL, *cause = NULL;
	size_t n;
	int code;

	if (docker_exec_capture(rig_docker(), id, &opts, &out, NULL, &code, &cause) !=
	    0) {
		snprintf(msg, sizeof msg, "%s", cause);
		free(cause);
		TEST_FAIL("exec %s: %s", script, msg);
	}
	n = strlen(out);
	while (n > 0 && out[n - 1] == '\n')
		out[--n] = '\0';
	return out;
}

/* Output and events collected from a lifecycle run. */
struct collect {
	struct buf *out;
	struct buf *events;
};

static void
collect_out(void *arg, const char *step, const char *line)
{
	struct collect *c = arg;

	buf_appendf(c->out, "%s: %s\n", step, line);
}

static void
collect_event(void *arg, const char *step, enum lifecycle_event ev, const char *detail)
{
	/* Indexed by the event: those left out (MEMBER_RUN, a group's key
	 * before its RUN; FEATURE_FAILED, a Feature's id before FAILED) and
	 * any added later are not collected. */
	static const char *const names[LIFECYCLE_EVENT_FEATURE_FAILED + 1] = {
		[LIFECYCLE_EVENT_RUN] = "run",
		[LIFECYCLE_EVENT_SKIP] = "skip",
		[LIFECYCLE_EVENT_DONE] = "done",
		[LIFECYCLE_EVENT_FAILED] = "failed",
		[LIFECYCLE_EVENT_MEMBER_FAILED] = "member-failed",
	};
	struct collect *c = arg;

	if ((size_t)ev >= sizeof names / sizeof names[0] || names[ev] == NULL)
		return;
	buf_appendf(c->events, "%s %s\n", step, names[ev]);
}

static void
ctx_init(struct lifecycle_ctx *ctx, struct collect *c, const char *id)
{
	memset(ctx, 0, sizeof *ctx);
	c->out = buf_new();
	c->events = buf_new();
	ctx->docker = rig_docker();
	ctx->container_id = id;
	ctx->out = collect_out;
	ctx->out_arg = c;
	ctx->event = collect_event;
	ctx->event_arg = c;
}

static char *
take(struct buf *b)
{
	return buf_take_string(b, NULL);
}

static void
collect_free(struct collect *c)
{
	buf_free(c->out);
	buf_free(c->events);
}

/* lifecycle_run() with merged given as JSON; fails the test on a parse
 * error. Returns lifecycle_run's result. */
static int
run_flags(const struct lifecycle_ctx *ctx, const char *merged_json, unsigned flags,
    struct lifecycle_pending **pending, char **cause)
{
	cJSON *m = cJSON_Parse(merged_json);
	struct lifecycle_pending *p = NULL;
	int rc;

	if (m == NULL)
		TEST_FAIL("bad JSON: %s", merged_json);
	rc = lifecycle_run(ctx, m, flags, pending != NULL ? pending : &p, cause);
	cJSON_Delete(m);
	lifecycle_pending_free(p);
	return rc;
}

/* As `up --skip-non-blocking-commands`: waitFor decides what is pending. */
static int
run(const struct lifecycle_ctx *ctx, const char *merged_json,
    struct lifecycle_pending **pending, char **cause)
{
	return run_flags(ctx, merged_json, LIFECYCLE_SKIP_NON_BLOCKING, pending, cause);
}

TEST(each_form_runs_in_busybox)
{
	struct lifecycle_ctx ctx;
	struct collect c;
	char *id = container_new(RIG_BUSYBOX, NULL), *cause = NULL, *s;

	ctx_init(&ctx, &c, id);
	ctx.workdir = "/tmp";
	if (run(&ctx,
		"{\"waitFor\": \"postAttachCommand\", \"onCreateCommands\": ["
		"\"echo one > f1; echo to-out; echo to-err >&2\","
		"[\"sh\", \"-c\", \"echo two > /tmp/f2; echo \\\"$0\\\"\", \"argv0\"],"
		"{\"x\": \"echo x > /tmp/fx; printf 'x-partial'\", \"y\": [\"touch\", "
		"\"/tmp/fy\"]}"
		"]}",
		NULL, &cause) != 0)
		TEST_FAIL("run: %s", cause);
	s = sh(id, "cat /tmp/f1 /tmp/f2 /tmp/fx; ls /tmp/fy");
	ASSERT_STR_EQ(s, "one\ntwo\nx\n/tmp/fy");
	free(s);
	s = take(c.out);
	ASSERT_STR_CONTAINS(s, "onCreateCommand: to-out\n");
	ASSERT_STR_CONTAINS(s, "onCreateCommand: to-err\n");
	ASSERT_STR_CONTAINS(s, "onCreateCommand: argv0\n");
	ASSERT_STR_CONTAINS(s, "onCreateCommand: [x] x-partial\n");
	free(s);
	s = take(c.events);
	ASSERT_STR_EQ(s,
	    "onCreateCommand run\nonCreateCommand run\nonCreateCommand run\n"
	    "onCreateCommand run\nonCreateCommand done\n");
	free(s);
	collect_free(&c);
	free(id);
}

TEST(object_entries_run_concurrently)
{
	struct lifecycle_ctx ctx;
	struct collect c;
	char *id = container_new(RIG_BUSYBOX, NULL), *cause = NULL, *s;

	ctx_init(&ctx, &c, id);
	/* Each entry waits (60 s at most) for the other's file: only entries
	 * that run at the same time both succeed. (Each is its own docker
	 * exec: on a loaded machine the second may start seconds after the
	 * first; 5 s was tight for that.) */
	if (run(&ctx,
		"{\"waitFor\": \"postAttachCommand\", \"postAttachCommands\": [{"
		"\"a\": \"touch /tmp/pa; i=0; while [ ! -e /tmp/pb ]; do sleep 0.1; "
		"i=$((i+1));"
		" [ $i -gt 600 ] && exit 7; done; echo a-saw-b\","
		"\"b\": \"touch /tmp/pb; i=0; while [ ! -e /tmp/pa ]; do sleep 0.1; "
		"i=$((i+1));"
		" [ $i -gt 600 ] && exit 7; done; echo b-saw-a\"}]}",
		NULL, &cause) != 0)
		TEST_FAIL("run: %s", cause);
	s = take(c.out);
	ASSERT_STR_CONTAINS(s, "postAttachCommand: [a] a-saw-b\n");
	ASSERT_STR_CONTAINS(s, "postAttachCommand: [b] b-saw-a\n");
	free(s);
	collect_free(&c);
	free(id);
}

TEST(failing_entry_fails_the_step)
{
	struct lifecycle_ctx ctx;
	struct collect c;
	char *id = container_new(RIG_BUSYBOX, NULL), *cause = NULL, *s;
	struct lifecycle_pending *p = NULL;

	ctx_init(&ctx, &c, id);
	ASSERT_INT_EQ(run(&ctx,
			  "{\"waitFor\": \"postCreateCommand\", \"postCreateCommands\": ["
			  "{\"ok\": \"sleep 0.3; touch /tmp/ok-ran\", \"bad\": \"echo "
			  "out; echo why >&2; echo ' ' >&2; exit 3\"},"
			  "\"touch /tmp/after\"], \"postStartCommands\": [\"true\"]}",
			  &p, &cause),
	    -1);
	/* Ending in its last stderr line with something in it, without the
	 * "[bad] " its output lines have. */
	ASSERT_STR_EQ(cause,
	    "postCreateCommand failed: [bad] `echo out; echo why >&2; echo ' ' >&2; "
	    "exit 3` exited with status 3: why");
	ASSERT_NULL(p);
	free(cause);
	cause = NULL;
	s = take(c.out);
	ASSERT_STR_CONTAINS(s, "postCreateCommand: [bad] out\n");
	free(s);
	/* The other entry was waited for; the next element did not run. */
	s = sh(id,
	    "ls /tmp/ok-ran; ls /tmp/after 2>/dev/null; ls " LIFECYCLE_MARKER_DIR
	    " 2>/dev/null; true");
	ASSERT_STR_EQ(s, "/tmp/ok-ran");
	free(s);
	s = take(c.events);
	ASSERT_STR_CONTAINS(s, "postCreateCommand failed\n");
	free(s);

	/* The array form: the argv quoted in the message, as a shell needs it. */
	ASSERT_INT_EQ(run(&ctx, "{\"onCreateCommands\": [[\"sh\", \"-c\", \"exit 4\"]]}",
			  NULL, &cause),
	    -1);
	ASSERT_STR_EQ(
	    cause, "onCreateCommand failed: `sh -c 'exit 4'` exited with status 4");
	free(cause);
	collect_free(&c);
	free(id);
}

#define COUNTERS_MERGED \
	"{\"waitFor\": \"postAttachCommand\"," \
	"\"onCreateCommands\": [\"echo x >> /tmp/n-oncreate\"]," \
	"\"updateContentCommands\": [\"echo x >> /tmp/n-update\"]," \
	"\"postCreateCommands\": [\"echo x >> /tmp/n-postcreate\"]," \
	"\"postStartCommands\": [\"echo x >> /tmp/n-poststart\"]," \
	"\"postAttachCommands\": [\"echo x >> /tmp/n-postattach\"]}"
#define COUNTERS_SH \
	"for f in oncreate update postcreate poststart postattach; do " \
	"printf '%s ' $(wc -l < /tmp/n-$f); done"

/* A container whose steps never ran: rdev's markers and the reference CLI's
 * (root's home in busybox) removed. */
#define FORGET_MARKERS "rm -rf " LIFECYCLE_MARKER_DIR " /root/.devcontainer"

TEST(markers_run_create_steps_once_and_post_start_per_start)
{
	struct lifecycle_ctx ctx;
	struct collect c;
	char *id = container_new(RIG_BUSYBOX, NULL), *cause = NULL, *s;

	ctx_init(&ctx, &c, id);
	if (run(&ctx, COUNTERS_MERGED, NULL, &cause) != 0)
		TEST_FAIL("run 1: %s", cause);
	s = sh(id, COUNTERS_SH);
	ASSERT_STR_EQ(s, "1 1 1 1 1 ");
	free(s);
	/* Again on the running container: only postAttach. */
	if (run(&ctx, COUNTERS_MERGED, NULL, &cause) != 0)
		TEST_FAIL("run 2: %s", cause);
	s = sh(id, COUNTERS_SH);
	ASSERT_STR_EQ(s, "1 1 1 1 2 ");
	free(s);
	free(take(c.events));
	/* After a restart: postStart again (ctx has no times: inspected). */
	container_restart(id);
	if (run(&ctx, COUNTERS_MERGED, NULL, &cause) != 0)
		TEST_FAIL("run 3: %s", cause);
	s = sh(id, COUNTERS_SH);
	ASSERT_STR_EQ(s, "1 1 1 2 3 ");
	free(s);
	s = take(c.events);
	ASSERT_STR_EQ(s,
	    "onCreateCommand skip\nupdateContentCommand skip\n"
	    "postCreateCommand skip\npostStartCommand run\npostStartCommand done\n"
	    "postAttachCommand run\npostAttachCommand done\n");
	free(s);
	/* The markers hold the container's times. */
	s = sh(id, "cat " LIFECYCLE_MARKER_DIR "/postStartCommand");
	ASSERT_TRUE(strlen(s) > 20 && s[4] == '-' && s[10] == 'T');
	free(s);
	collect_free(&c);
	free(id);
}

TEST(failed_post_create_is_retried)
{
	static const char merged[] =
	    "{\"waitFor\": \"postCreateCommand\","
	    "\"onCreateCommands\": [\"echo x >> /tmp/n-oncreate\"],"
	    "\"postCreateCommands\": [\"[ -e /tmp/allow ] || exit 5; echo x >> "
	    "/tmp/n-pc\"]}";
	struct lifecycle_ctx ctx;
	struct collect c;
	char *id = container_new(RIG_BUSYBOX, NULL), *cause = NULL, *s;

	ctx_init(&ctx, &c, id);
	ASSERT_INT_EQ(run(&ctx, merged, NULL, &cause), -1);
	ASSERT_STR_CONTAINS(cause, "exited with status 5");
	free(cause);
	cause = NULL;
	free(sh(id, "touch /tmp/allow"));
	if (run(&ctx, merged, NULL, &cause) != 0)
		TEST_FAIL("run 2: %s", cause);
	if (run(&ctx, merged, NULL, &cause) != 0)
		TEST_FAIL("run 3: %s", cause);
	s = sh(id, "wc -l < /tmp/n-oncreate; wc -l < /tmp/n-pc");
	ASSERT_STR_EQ(s, "1\n1");
	free(s);
	collect_free(&c);
	free(id);
}

/* The reference CLI's markers (lifecycle-marker.c): one holding this
 * container's Created time or nothing at all says done, another time not;
 * rdev writes the reference's markers of the steps it ran, not of those it
 * skipped for them, and writes its own only for those it ran. */
TEST(reference_markers_are_honoured_and_written)
{
	struct lifecycle_ctx ctx;
	struct collect c;
	char *id = container_new(RIG_BUSYBOX, NULL), *cause = NULL, *s, *script;
	const cJSON *created, *started;
	cJSON *info = NULL;

	ctx_init(&ctx, &c, id);
	if (docker_container_inspect(rig_docker(), id, &info, &cause) != 0 ||
	    info == NULL)
		TEST_FAIL("inspect: %s", cause);
	created = cJSON_GetObjectItemCaseSensitive(info, "Created");
	started = cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(info, "State"), "StartedAt");
	ASSERT_TRUE(cJSON_IsString(created) && cJSON_IsString(started));
	script =
	    xasprintf("touch /tmp/n-oncreate /tmp/n-update /tmp/n-postcreate "
		      "/tmp/n-poststart /tmp/n-postattach && mkdir /root/.devcontainer "
		      "&& cd /root/.devcontainer && : >.onCreateCommandMarker && "
		      "echo 2001-01-01T00:00:00Z >.updateContentCommandMarker && "
		      "echo '%s' >.postCreateCommandMarker && "
		      "echo '%s' >.postStartCommandMarker",
		created->valuestring, "2001-01-01T00:00:00Z");
	free(sh(id, script));
	free(script);
	if (run(&ctx, COUNTERS_MERGED, NULL, &cause) != 0)
		TEST_FAIL("run: %s", cause);
	s = sh(id, COUNTERS_SH);
	ASSERT_STR_EQ(s, "0 1 0 1 1 ");
	free(s);
	s = sh(id,
	    "cd /root/.devcontainer && for f in .*Marker; do echo \"$f=$(cat $f)\"; "
	    "done; ls " LIFECYCLE_MARKER_DIR);
	script = xasprintf(".onCreateCommandMarker=\n.postCreateCommandMarker=%s\n"
			   ".postStartCommandMarker=%s\n.updateContentCommandMarker=%s\n"
			   "onCreateCommand\npostCreateCommand\npostStartCommand\n"
			   "updateContentCommand",
	    created->valuestring, started->valuestring, created->valuestring);
	ASSERT_STR_EQ(s, script);
	free(s);
	free(script);
	/* And the next run, on rdev's and the reference's markers: only
	 * postAttach. */
	if (run(&ctx, COUNTERS_MERGED, NULL, &cause) != 0)
		TEST_FAIL("run 2: %s", cause);
	s = sh(id, COUNTERS_SH);
	ASSERT_STR_EQ(s, "0 1 0 1 2 ");
	free(s);
	cJSON_Delete(info);
	collect_free(&c);
	free(id);
}

TEST(wait_for_leaves_later_steps_pending)
{
	static const char merged[] =
	    "{\"waitFor\": \"onCreateCommand\","
	    "\"onCreateCommands\": [\"touch /tmp/s-oncreate\"],"
	    "\"updateContentCommands\": [\"touch /tmp/s-update; echo updating\"],"
	    "\"postCreateCommands\": [{\"p\": \"touch /tmp/s-postcreate; echo "
	    "pc-line\"}],"
	    "\"postStartCommands\": [],"
	    "\"postAttachCommands\": [\"touch /tmp/s-postattach\"]}";
	char dir[] = "/tmp/rdev-test-lifecycle.XXXXXX", *path, *data = NULL;
	struct lifecycle_pending *p = NULL;
	struct lifecycle_ctx ctx, bg;
	struct lifecycle_bg *bgrun;
	struct lifecycle_bg_status st;
	struct collect c;
	char *id = container_new(RIG_BUSYBOX, NULL), *cause = NULL, *s;
	size_t len;

	ctx_init(&ctx, &c, id);
	if (run(&ctx, merged, &p, &cause) != 0)
		TEST_FAIL("run: %s", cause);
	s = sh(id, "ls /tmp/s-* 2>/dev/null; true");
	ASSERT_STR_EQ(s, "/tmp/s-oncreate");
	free(s);
	ASSERT_NOT_NULL(p);
	ASSERT_INT_EQ(lifecycle_pending_count(p), 3);
	ASSERT_STR_EQ(lifecycle_pending_step(p, 0), "updateContentCommand");
	ASSERT_STR_EQ(lifecycle_pending_step(p, 1), "postCreateCommand");
	ASSERT_STR_EQ(lifecycle_pending_step(p, 2), "postAttachCommand");

	/* As up.c's background process does (in this process here): own
	 * client, output to the log, progress in the record. */
	ASSERT_NOT_NULL(mkdtemp(dir));
	path = lifecycle_log_path(dir, id);
	bgrun = lifecycle_bg_begin(dir, id, p, &cause);
	if (bgrun == NULL)
		TEST_FAIL("bg begin: %s", cause);
	/* The record lists them all, and the locked log says its run lives. */
	ASSERT_INT_EQ(lifecycle_bg_status_read(dir, id, &st, &cause), 0);
	ASSERT_INT_EQ(st.state, LIFECYCLE_BG_RUNNING);
	ASSERT_STR_EQ(st.left[0], "updateContentCommand");
	ASSERT_STR_EQ(st.left[2], "postAttachCommand");
	ASSERT_NULL(st.left[3]);
	lifecycle_bg_status_clear(&st);
	s = lifecycle_bg_notice(dir, id, "rdev logs -f ./ws");
	ASSERT_STR_EQ(s,
	    "updateContentCommand, postCreateCommand and postAttachCommand are "
	    "still running in the background (see `rdev logs -f ./ws`)");
	free(s);
	bg = ctx;
	bg.docker = docker_new(NULL);
	if (lifecycle_bg_run(bgrun, &bg, p) != 0)
		TEST_FAIL("bg run failed");
	docker_free(bg.docker);
	ASSERT_INT_EQ(lifecycle_bg_status_read(dir, id, &st, &cause), 0);
	ASSERT_INT_EQ(st.state, LIFECYCLE_BG_DONE);
	lifecycle_bg_status_clear(&st);
	lifecycle_bg_free(bgrun);
	ASSERT_NULL(lifecycle_bg_notice(dir, id, "rdev logs -f ./ws"));
	lifecycle_pending_free(p);
	p = NULL;
	s = sh(id, "ls /tmp/s-*");
	ASSERT_STR_EQ(
	    s, "/tmp/s-oncreate\n/tmp/s-postattach\n/tmp/s-postcreate\n/tmp/s-update");
	free(s);
	ASSERT_INT_EQ(file_read_all(path, 1 << 20, &data, &len, &cause), 0);
	ASSERT_STR_CONTAINS(data,
	    "Z updateContentCommand: running `touch /tmp/s-update; "
	    "echo updating`\n");
	ASSERT_STR_CONTAINS(data, "Z updateContentCommand: updating\n");
	ASSERT_STR_CONTAINS(data, "Z postCreateCommand: [p] pc-line\n");
	ASSERT_STR_CONTAINS(data, "Z postAttachCommand: done\n");
	free(data);
	lifecycle_bg_forget(dir, id);
	ASSERT_INT_EQ(lifecycle_bg_status_read(dir, id, &st, &cause), 0);
	ASSERT_INT_EQ(st.state, LIFECYCLE_BG_NONE);
	unlink(path);
	free(path);
	path = xasprintf("%s/lifecycle-%s.lock", dir, id); /* (the run's lock) */
	unlink(path);
	rmdir(dir);
	free(path);

	/* Next `up`: the create steps are done, only postAttach is pending. */
	if (run(&ctx, merged, &p, &cause) != 0)
		TEST_FAIL("run 2: %s", cause);
	ASSERT_INT_EQ(lifecycle_pending_count(p), 1);
	ASSERT_STR_EQ(lifecycle_pending_step(p, 0), "postAttachCommand");
	lifecycle_pending_free(p);

	/* waitFor initializeCommand: everything pending. */
	free(sh(id, FORGET_MARKERS));
	if (run(&ctx,
		"{\"waitFor\": \"initializeCommand\","
		"\"onCreateCommands\": [\"true\"], \"postStartCommands\": [\"true\"]}",
		&p, &cause) != 0)
		TEST_FAIL("run 3: %s", cause);
	ASSERT_INT_EQ(lifecycle_pending_count(p), 2);
	ASSERT_STR_EQ(lifecycle_pending_step(p, 0), "onCreateCommand");
	ASSERT_STR_EQ(lifecycle_pending_step(p, 1), "postStartCommand");
	lifecycle_pending_free(p);
	collect_free(&c);
	free(id);
}

TEST(every_step_runs_before_up_returns_unless_asked)
{
	struct lifecycle_pending *p = NULL;
	struct lifecycle_ctx ctx;
	struct collect c;
	char *id = container_new(RIG_BUSYBOX, NULL), *cause = NULL, *s;

	ctx_init(&ctx, &c, id);
	/* waitFor matters only with --skip-non-blocking-commands. */
	if (run_flags(&ctx,
		"{\"waitFor\": \"onCreateCommand\","
		"\"onCreateCommands\": [\"echo x >> /tmp/n-oncreate\"],"
		"\"updateContentCommands\": [\"echo x >> /tmp/n-update\"],"
		"\"postCreateCommands\": [\"echo x >> /tmp/n-postcreate\"],"
		"\"postStartCommands\": [\"echo x >> /tmp/n-poststart\"],"
		"\"postAttachCommands\": [\"echo x >> /tmp/n-postattach\"]}",
		0, &p, &cause) != 0)
		TEST_FAIL("run: %s", cause);
	ASSERT_NULL(p);
	s = sh(id, COUNTERS_SH);
	ASSERT_STR_EQ(s, "1 1 1 1 1 ");
	free(s);
	/* --skip-post-attach: postAttach neither now nor pending. */
	if (run_flags(&ctx, COUNTERS_MERGED, LIFECYCLE_SKIP_POST_ATTACH, &p, &cause) != 0)
		TEST_FAIL("run 2: %s", cause);
	ASSERT_NULL(p);
	s = sh(id, COUNTERS_SH);
	ASSERT_STR_EQ(s, "1 1 1 1 1 ");
	free(s);
	free(sh(id, FORGET_MARKERS));
	if (run_flags(&ctx,
		"{\"waitFor\": \"onCreateCommand\","
		"\"postStartCommands\": [\"true\"], \"postAttachCommands\": [\"true\"]}",
		LIFECYCLE_SKIP_NON_BLOCKING | LIFECYCLE_SKIP_POST_ATTACH, &p,
		&cause) != 0)
		TEST_FAIL("run 3: %s", cause);
	ASSERT_INT_EQ(lifecycle_pending_count(p), 1);
	ASSERT_STR_EQ(lifecycle_pending_step(p, 0), "postStartCommand");
	lifecycle_pending_free(p);
	p = NULL;
	/* --skip-post-create: none of the five, not even pending. */
	free(sh(id, FORGET_MARKERS));
	if (run_flags(&ctx, COUNTERS_MERGED,
		LIFECYCLE_SKIP_POST_CREATE | LIFECYCLE_SKIP_NON_BLOCKING, &p,
		&cause) != 0)
		TEST_FAIL("run 4: %s", cause);
	ASSERT_NULL(p);
	s = sh(id, COUNTERS_SH "; ls " LIFECYCLE_MARKER_DIR " 2>/dev/null; true");
	ASSERT_STR_EQ(s, "1 1 1 1 1 ");
	free(s);
	collect_free(&c);
	free(id);
}

TEST(background_failure_and_death_are_recorded)
{
	char dir[] = "/tmp/rdev-test-lifecycle.XXXXXX", *path;
	struct lifecycle_pending *p = NULL;
	struct lifecycle_bg_status st;
	struct lifecycle_ctx ctx;
	struct lifecycle_bg *bg;
	struct collect c;
	char *id = container_new(RIG_BUSYBOX, NULL), *cause = NULL;
	cJSON *j;

	ctx_init(&ctx, &c, id);
	ASSERT_NOT_NULL(mkdtemp(dir));
	if (run(&ctx,
		"{\"waitFor\": \"onCreateCommand\","
		"\"postCreateCommands\": [[\"sh\", \"-c\", \"exit 3\"]],"
		"\"postStartCommands\": [\"true\"]}",
		&p, &cause) != 0)
		TEST_FAIL("run: %s", cause);
	ASSERT_INT_EQ(lifecycle_pending_count(p), 2);
	if ((bg = lifecycle_bg_begin(dir, id, p, &cause)) == NULL)
		TEST_FAIL("bg begin: %s", cause);
	ASSERT_INT_EQ(lifecycle_bg_run(bg, &ctx, p), -1);
	lifecycle_bg_free(bg);
	ASSERT_INT_EQ(lifecycle_bg_status_read(dir, id, &st, &cause), 0);
	ASSERT_INT_EQ(st.state, LIFECYCLE_BG_FAILED);
	ASSERT_STR_EQ(st.error,
	    "postCreateCommand failed: `sh -c 'exit 3'` exited with "
	    "status 3");
	j = lifecycle_bg_status_json(&st);
	ASSERT_STR_EQ(
	    cJSON_GetObjectItemCaseSensitive(j, "state")->valuestring, "failed");
	cJSON_Delete(j);
	lifecycle_bg_status_clear(&st);
	ASSERT_NULL(lifecycle_bg_notice(dir, id, "x"));

	/* Its log removed by hand as it runs (the container still there): the
	 * run goes on and records its end (it took the unlinked log for its
	 * container's removal and wrote no record more: "running" for ever),
	 * and what follows goes into a new log. */
	if ((bg = lifecycle_bg_begin(dir, id, p, &cause)) == NULL)
		TEST_FAIL("bg begin: %s", cause);
	path = lifecycle_log_path(dir, id);
	ASSERT_INT_EQ(unlink(path), 0);
	ASSERT_INT_EQ(lifecycle_bg_run(bg, &ctx, p), -1);
	ASSERT_INT_EQ(lifecycle_bg_status_read(dir, id, &st, &cause), 0);
	ASSERT_INT_EQ(st.state, LIFECYCLE_BG_FAILED);
	ASSERT_STR_CONTAINS(st.error, "exited with status 3");
	lifecycle_bg_status_clear(&st);
	lifecycle_bg_free(bg);
	{
		char *data = NULL;
		size_t len;

		ASSERT_INT_EQ(file_read_all(path, 1 << 20, &data, &len, &cause), 0);
		ASSERT_STR_CONTAINS(data, "Z postCreateCommand: FAILED: ");
		free(data);
	}
	free(path);

	/* A run whose process is gone (its lock with it) before it ended. */
	if ((bg = lifecycle_bg_begin(dir, id, p, &cause)) == NULL)
		TEST_FAIL("bg begin 2: %s", cause);
	lifecycle_bg_free(bg);
	ASSERT_INT_EQ(lifecycle_bg_status_read(dir, id, &st, &cause), 0);
	ASSERT_INT_EQ(st.state, LIFECYCLE_BG_FAILED);
	ASSERT_STR_CONTAINS(st.error, "stopped before they ended");
	lifecycle_bg_status_clear(&st);
	lifecycle_pending_free(p);
	lifecycle_bg_forget(dir, id);
	path = lifecycle_log_path(dir, id);
	unlink(path);
	free(path);
	path = xasprintf("%s/lifecycle-%s.lock", dir, id);
	unlink(path);
	free(path);
	rmdir(dir);
	collect_free(&c);
	free(id);
}

/* Does env hold exactly NAME=VALUE (value NULL: NAME absent)? */
static void
assert_env(char **env, const char *name, const char *value)
{
	const char *got = env_get(env, name);

	if (value == NULL && got != NULL)
		TEST_FAIL("%s=%s, want it unset", name, got);
	if (value != NULL && (got == NULL || strcmp(got, value) != 0))
		TEST_FAIL("%s=%s, want %s", name, got != NULL ? got : "(unset)", value);
}

static void
debian_profiles(const char *id)
{
	free(sh(id,
	    "echo 'echo profile-noise; echo x >> /tmp/n-profile; "
	    "export RDEV_PROFILE_VAR=from-profile' >> /home/dev/.profile; "
	    "echo 'echo bashrc-noise; export RDEV_BASHRC_VAR=from-bashrc' >> "
	    "/home/dev/.bashrc"));
}

TEST(env_probe_kinds_in_debian)
{
	char *id = container_new(RIG_DEV_IMAGE, NULL), *cause = NULL, *s;
	char **env = NULL;

	debian_profiles(id);
	if (env_probe_run(rig_docker(), id, "dev", "loginShell", &env, &cause) != 0)
		TEST_FAIL("probe: %s", cause);
	assert_env(env, "RDEV_PROFILE_VAR", "from-profile");
	assert_env(env, "RDEV_BASHRC_VAR", NULL);
	assert_env(env, "HOME", "/home/dev");
	assert_env(env, "USER", NULL);
	assert_env(env, "PWD", NULL);
	/* The container's PATH: /etc/profile, patched as the reference's up
	 * patches it, keeps the one the shell was given. */
	assert_env(
	    env, "PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
	env_free(env);
	s = sh(id,
	    "grep -c 'PATH=${PATH:-' /etc/profile; tail -c +1 /etc/environment; "
	    "ls -A /var/devcontainer");
	ASSERT_STR_EQ(s,
	    "2\n\nPATH=\"/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\"\n"
	    ".patchEtcEnvironmentMarker\n.patchEtcProfileMarker");
	free(s);

	if (env_probe_run(rig_docker(), id, "dev", "interactiveShell", &env, &cause) != 0)
		TEST_FAIL("probe: %s", cause);
	assert_env(env, "RDEV_PROFILE_VAR", NULL);
	assert_env(env, "RDEV_BASHRC_VAR", "from-bashrc");
	env_free(env);

	if (env_probe_run(
		rig_docker(), id, "dev", "loginInteractiveShell", &env, &cause) != 0)
		TEST_FAIL("probe: %s", cause);
	assert_env(env, "RDEV_PROFILE_VAR", "from-profile");
	assert_env(env, "RDEV_BASHRC_VAR", "from-bashrc");
	env_free(env);

	if (env_probe_run(rig_docker(), id, "dev", "none", &env, &cause) != 0)
		TEST_FAIL("probe: %s", cause);
	assert_env(env, "RDEV_PROFILE_VAR", NULL);
	assert_env(
	    env, "PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
	env_free(env);

	ASSERT_INT_EQ(
	    env_probe_run(rig_docker(), id, "dev", "fishShell", &env, &cause), -1);
	ASSERT_STR_EQ(cause, "userEnvProbe: unknown value \"fishShell\"");
	free(cause);
	free(id);
}

TEST(env_probe_merges_paths_when_profile_cannot_be_patched)
{
	char *id = container_new(RIG_DEV_IMAGE, NULL), *cause = NULL, *s;
	char **env = NULL;

	/* No folder for the markers: nothing is patched, twice. */
	free(sh(id, "touch /var/devcontainer"));
	for (int i = 0; i < 2; i++) {
		if (env_probe_run(rig_docker(), id, "dev", "loginShell", &env, &cause) !=
		    0)
			TEST_FAIL("probe: %s", cause);
		/* /etc/profile's PATH for users other than root, merged with the
		 * container's as the reference's mergePaths() (no sbin). */
		assert_env(env, "PATH",
		    "/usr/local/bin:/usr/bin:/bin:/usr/local/games:/usr/games");
		env_free(env);
	}
	s = sh(id, "grep -c 'PATH=${PATH:-' /etc/profile; wc -c < /etc/environment");
	ASSERT_STR_EQ(s, "0\n0");
	free(s);
	free(id);
}

TEST(env_probe_in_busybox)
{
	char *id = container_new(RIG_BUSYBOX, NULL), *cause = NULL;
	char **env = NULL;

	/* No SHELL, no bash: root's /bin/sh from /etc/passwd, -lic. */
	if (env_probe_run(rig_docker(), id, NULL, NULL, &env, &cause) != 0)
		TEST_FAIL("probe: %s", cause);
	assert_env(env, "HOME", "/root");
	assert_env(
	    env, "PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
	env_free(env);
	free(id);
}

/* Probe container id for dev with kind through the cache in dir (with the
 * given inspect, else env_probe_get's own), check var=value (var NULL: no
 * check) and that the profile has run `runs` times in all. */
static void
probe_and_count(const char *id, const char *dir, const cJSON *info, const char *kind,
    const char *var, const char *value, const char *runs)
{
	char **env = NULL, *cause = NULL, *s;

	if ((info != NULL ? env_probe_get_inspected(
				rig_docker(), dir, info, "dev", kind, &env, &cause)
			  : env_probe_get(
				rig_docker(), dir, id, "dev", kind, &env, &cause)) != 0)
		TEST_FAIL("probe: %s", cause);
	if (var != NULL)
		assert_env(env, var, value);
	env_free(env);
	s = sh(id, "wc -l < /tmp/n-profile");
	ASSERT_STR_EQ(s, runs);
	free(s);
}

TEST(env_probe_is_cached_per_start)
{
	char dir[] = "/tmp/rdev-test-envprobe.XXXXXX",
	     *id = container_new(RIG_DEV_IMAGE, NULL);
	char *cause = NULL, *path;
	char **env = NULL;
	struct stat st;
	cJSON *info = NULL;

	debian_profiles(id);
	ASSERT_NOT_NULL(mkdtemp(dir));
	probe_and_count(
	    id, dir, NULL, "loginShell", "RDEV_PROFILE_VAR", "from-profile", "1");
	path = env_probe_cache_path(dir, id);
	ASSERT_INT_EQ(stat(path, &st), 0);
	ASSERT_INT_EQ(st.st_mode & 0777, 0600);

	/* Cached: the profile does not run again. */
	probe_and_count(
	    id, dir, NULL, "loginShell", "RDEV_PROFILE_VAR", "from-profile", "1");

	/* Another user or kind, or a restart, probes again. */
	probe_and_count(id, dir, NULL, "loginInteractiveShell", NULL, NULL, "2");
	container_restart(id);
	probe_and_count(id, dir, NULL, "loginInteractiveShell", "RDEV_BASHRC_VAR",
	    "from-bashrc", "3");

	/* With the caller's own (current) inspect: the same cache entry. */
	if (docker_container_inspect(rig_docker(), id, &info, &cause) != 0 ||
	    info == NULL)
		TEST_FAIL("inspect: %s", cause);
	probe_and_count(id, dir, info, "loginInteractiveShell", "RDEV_BASHRC_VAR",
	    "from-bashrc", "3");
	/* an inspect without State.StartedAt is refused, not cached */
	cJSON_DeleteItemFromObjectCaseSensitive(info, "State");
	ASSERT_INT_EQ(env_probe_get_inspected(rig_docker(), dir, info, "dev",
			  "loginInteractiveShell", &env, &cause),
	    -1);
	ASSERT_STR_CONTAINS(cause, "StartedAt");
	free(cause);
	cJSON_Delete(info);
	unlink(path);
	free(path);
	rmdir(dir);
	free(id);
}

TEST(user_env_and_remote_env_apply_to_commands)
{
	static const char *const cenv[] = { "GONE=1", "KEEP=k", NULL };
	char *id = container_new(RIG_DEV_IMAGE, cenv), *cause = NULL, *s;
	char **probed = NULL, **container_env = NULL, **env = NULL, **unset = NULL;
	struct lifecycle_ctx ctx;
	struct collect c;
	cJSON *info = NULL, *remote;

	debian_profiles(id);
	if (docker_container_inspect(rig_docker(), id, &info, &cause) != 0 ||
	    info == NULL)
		TEST_FAIL("inspect: %s", cause);
	container_env = env_from_json(cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(info, "Config"), "Env"));
	if (env_probe_run(
		rig_docker(), id, "dev", "loginInteractiveShell", &probed, &cause) != 0)
		TEST_FAIL("probe: %s", cause);
	remote =
	    cJSON_Parse("{\"MY_PATH\": \"${containerEnv:PATH}:/extra\", \"GONE\": null}");
	if (env_probe_apply_remote_env(
		probed, remote, container_env, &env, &unset, &cause) != 0)
		TEST_FAIL("remoteEnv: %s", cause);
	cJSON_Delete(remote);

	ctx_init(&ctx, &c, id);
	ctx.user = "dev";
	ctx.workdir = "/home/dev";
	ctx.env = (const char *const *)env;
	ctx.unset_env = (const char *const *)unset;
	ctx.created_at = cJSON_GetObjectItemCaseSensitive(info, "Created")->valuestring;
	ctx.started_at = cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(info, "State"), "StartedAt")
			     ->valuestring;
	if (run(&ctx,
		"{\"postCreateCommands\": [\"id -un > /tmp/who; pwd > /tmp/pwd;"
		" echo \\\"$MY_PATH\\\" > /tmp/mypath; echo \\\"${GONE-unset}\\\" > "
		"/tmp/gone;"
		" echo \\\"$KEEP $RDEV_PROFILE_VAR $RDEV_BASHRC_VAR\\\" > /tmp/vars\"],"
		"\"waitFor\": \"postCreateCommand\"}",
		NULL, &cause) != 0)
		TEST_FAIL("run: %s", cause);
	s = sh(id,
	    "cat /tmp/who /tmp/pwd /tmp/mypath /tmp/gone /tmp/vars; stat -c %U /tmp/who");
	ASSERT_STR_EQ(s,
	    "dev\n/home/dev\n"
	    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/extra\nunset\n"
	    "k from-profile from-bashrc\ndev");
	free(s);
	/* Markers are written as root even though the user is dev. */
	s = sh(id, "stat -c %U " LIFECYCLE_MARKER_DIR "/postCreateCommand");
	ASSERT_STR_EQ(s, "root");
	free(s);
	collect_free(&c);
	cJSON_Delete(info);
	env_free(probed);
	env_free(container_env);
	env_free(env);
	env_free(unset);
	free(id);
}
