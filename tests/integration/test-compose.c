/* test-compose.c - dev containers from Docker Compose on the real engine
 * (docker-compose v1 on the rig; `docker compose` v2 where installed). */
#include "test.h"

#include <libgen.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic-file.h"
#include "compose-naming.h"
#include "compose.h"
#include "config.h"
#include "docker.h"
#include "feature-resolve.h"
#include "rig.h"
#include "spawn.h"
#include "uid-sync.h"
#include "up.h"
#include "xmalloc.h"

#define FIXTURE RDEV_TEST_DATA "/compose/two-services"

/* What the tests created, removed at the start of each test and at exit
 * (a failed assertion leaves a test early). */
static char *cleanup_ws[8];
static char *cleanup_project[8];
static char *cleanup_image[8];
static char *state_dir;

static int
run_quiet(const char *const *argv)
{
	struct spawn_result res;
	int status;

	if (spawn_run(argv, NULL, &res, NULL) != 0)
		return -1;
	status = spawn_result_status(&res);
	if (status != 0 && getenv("RDEV_TEST_VERBOSE") != NULL)
		fprintf(stderr, "%s: %s\n", argv[0], res.err);
	spawn_result_free(&res);
	return status;
}

static void
cleanup(void)
{
	for (int i = 0; i < 8; i++) {
		if (cleanup_project[i] != NULL && rig.docker != NULL) {
			/* The project's containers and network through the
			 * engine's API: what `docker-compose down` removes
			 * (the fixture has no volumes), without its start (a
			 * Python program, seconds of CPU on a loaded machine,
			 * also for a project never made) and its stop grace
			 * (sleep as pid 1 ignores SIGTERM). */
			char *filter = xasprintf(
			    "com.docker.compose.project=%s", cleanup_project[i]);
			char *net = xasprintf("/networks/%s_default", cleanup_project[i]);
			cJSON *resp = NULL;
			char *cause = NULL;
			int status;

			rig_docker_remove_labelled(filter, 0);
			if (docker_request(rig.docker, "DELETE", net, NULL, &status,
				&resp, &cause) != 0 ||
			    (status != 204 && status != 404))
				fprintf(stderr, "cleanup: DELETE %s: %s (HTTP %d)\n", net,
				    cause != NULL ? cause : "",
				    cause != NULL ? 0 : status);
			cJSON_Delete(resp);
			free(cause);
			free(net);
			free(filter);
		} else if (cleanup_project[i] != NULL) {
			char *file = xasprintf(
			    "%s/.devcontainer/docker-compose.yml", cleanup_ws[i]);
			const char *down[] = { "docker-compose", "--project-name",
				cleanup_project[i], "-f", file, "down", "-v",
				"--remove-orphans", "-t", "1", NULL };
			run_quiet(down);
			free(file);
		}
		if (cleanup_image[i] != NULL) {
			const char *rmi[] = { "docker", "image", "rm", "-f", "--no-prune",
				cleanup_image[i], NULL };
			run_quiet(rmi);
		}
		if (cleanup_ws[i] != NULL) {
			const char *rm[] = { "rm", "-rf", cleanup_ws[i], NULL };
			run_quiet(rm);
		}
		free(cleanup_ws[i]);
		free(cleanup_project[i]);
		free(cleanup_image[i]);
		cleanup_ws[i] = cleanup_project[i] = cleanup_image[i] = NULL;
	}
}

__attribute__((destructor)) static void
cleanup_at_exit(void)
{
	cleanup();
	if (state_dir != NULL) {
		const char *rm[] = { "rm", "-rf", state_dir, NULL };
		run_quiet(rm);
		free(state_dir);
		state_dir = NULL;
	}
}

/* The rig's engine, a state dir for this run, and nothing left of an earlier
 * test. */
static struct docker *
require_docker(void)
{
	struct docker *d = rig_docker();

	if (state_dir == NULL) {
		char tmpl[] = "/tmp/rdev-compose-state-XXXXXX";
		if (mkdtemp(tmpl) == NULL)
			TEST_FAIL("mkdtemp failed");
		state_dir = xstrdup(tmpl);
		setenv("RDEV_STATE_DIR", state_dir, 1);
	}
	cleanup();
	return d;
}

static char *
read_fixture(const char *name)
{
	char *path = xasprintf("%s/%s", FIXTURE, name), *data = NULL, *cause = NULL;
	size_t len;

	if (file_read_all(path, 1 << 20, &data, &len, &cause) != 0)
		TEST_FAIL("%s", cause);
	free(path);
	return data;
}

/* A new workspace with the fixture in .devcontainer/; run_services adds
 * "runServices": ["app"]. Registered for cleanup. */
static char *
make_workspace(int run_services)
{
	char tmpl[] = "/tmp/rdev-Compose-WS-XXXXXX", *ws, *dir, *path, *text, *json, *at;
	char *cause = NULL, *base, *project;
	int slot;

	if (mkdtemp(tmpl) == NULL)
		TEST_FAIL("mkdtemp failed");
	ws = xstrdup(tmpl);
	for (slot = 0; slot < 8 && cleanup_ws[slot] != NULL; slot++)
		;
	if (slot == 8)
		TEST_FAIL("too many workspaces");
	cleanup_ws[slot] = xstrdup(ws);
	base = xasprintf("%s_devcontainer", basename(tmpl));
	project = compose_naming_normalize(base, 1);
	free(base);
	cleanup_project[slot] = project;

	dir = xasprintf("%s/.devcontainer", ws);
	mkdir(dir, 0755);
	text = read_fixture("docker-compose.yml");
	path = xasprintf("%s/docker-compose.yml", dir);
	if (atomic_file_write(path, text, strlen(text), 0644, &cause) != 0)
		TEST_FAIL("%s", cause);
	free(path);
	free(text);
	text = read_fixture("devcontainer.json");
	if (run_services) {
		at = strstr(text, "\"service\": \"app\",");
		if (at == NULL)
			TEST_FAIL("fixture devcontainer.json changed");
		at += strlen("\"service\": \"app\",");
		json = xasprintf(
		    "%.*s\n\t\"runServices\": [\"app\"],%s", (int)(at - text), text, at);
		free(text);
		text = json;
	}
	path = xasprintf("%s/devcontainer.json", dir);
	if (atomic_file_write(path, text, strlen(text), 0644, &cause) != 0)
		TEST_FAIL("%s", cause);
	free(path);
	free(text);
	free(dir);
	return ws;
}

static const char *
project_of(const char *ws)
{
	for (int i = 0; i < 8; i++)
		if (cleanup_ws[i] != NULL && strcmp(cleanup_ws[i], ws) == 0)
			return cleanup_project[i];
	return NULL;
}

static void
progress_fn(void *arg, const char *data, size_t len)
{
	if (getenv("RDEV_TEST_VERBOSE") != NULL)
		fwrite(data, 1, len, stderr);
}

struct up {
	cJSON *container;
	cJSON *merged;
	int created;
	const char *id;
};

static void
up_clear(struct up *u)
{
	cJSON_Delete(u->container);
	cJSON_Delete(u->merged);
	memset(u, 0, sizeof *u);
}

/* A configuration without Features. */
static const struct feature_set no_features = { NULL, 0, NULL };

static void
compose_up_ok(struct config *cfg, struct docker *d, int recreate, struct up *u)
{
	struct up_opts opts = { 0 };
	char *cause = NULL;

	opts.progress.fn = progress_fn;
	opts.recreate = recreate;
	up_clear(u);
	if (compose_up(cfg, d, "hash1", &no_features, &opts, &u->container, &u->merged,
		&u->created, NULL, &cause) != 0)
		TEST_FAIL("compose_up: %s", cause);
	u->id = cJSON_GetStringValue(cJSON_GetObjectItem(u->container, "Id"));
	if (u->id == NULL)
		TEST_FAIL("no container id");
}

static struct config *
load(const char *ws)
{
	struct config_load_opts lo = { 0 };
	struct config *cfg;
	char *cause = NULL;

	lo.workspace_folder = ws;
	if ((cfg = config_load(&lo, &cause)) == NULL)
		TEST_FAIL("config_load: %s", cause);
	return cfg;
}

/* stdout of sh -c cmd in the container as user, trimmed of one '\n'. */
static char *
exec_out(struct docker *d, const char *id, const char *user, const char *cmd)
{
	const char *argv[] = { "sh", "-c", cmd, NULL };
	struct docker_exec_opts o = { 0 };
	char *out = NULL, *err = NULL, *cause = NULL;
	int code = -1;
	size_t len;

	o.argv = argv;
	o.user = user;
	if (docker_exec_capture(d, id, &o, &out, &err, &code, &cause) != 0)
		TEST_FAIL("exec: %s", cause);
	free(err);
	len = strlen(out);
	if (len > 0 && out[len - 1] == '\n')
		out[len - 1] = '\0';
	return out;
}

static const char *
label(const cJSON *inspect, const char *name)
{
	return cJSON_GetStringValue(cJSON_GetObjectItem(
	    cJSON_GetObjectItem(cJSON_GetObjectItem(inspect, "Config"), "Labels"), name));
}

/* How many containers (all states) service has in project. */
static int
service_containers(
    struct docker *d, const char *project, const char *service, int running)
{
	char *l[3];
	cJSON *list = NULL, *e;
	char *cause = NULL;
	int n = 0;

	l[0] = xasprintf("com.docker.compose.project=%s", project);
	l[1] = xasprintf("com.docker.compose.service=%s", service);
	l[2] = NULL;
	if (docker_container_list(d, (const char *const *)l, 1, &list, &cause) != 0)
		TEST_FAIL("list: %s", cause);
	cJSON_ArrayForEach(e, list) {
		const char *st = cJSON_GetStringValue(cJSON_GetObjectItem(e, "State"));
		if (!running || (st != NULL && strcmp(st, "running") == 0))
			n++;
	}
	cJSON_Delete(list);
	free(l[0]);
	free(l[1]);
	return n;
}

TEST(run_services_mount_env_labels_reuse_recreate)
{
	struct docker *d;
	struct config *cfg;
	struct up u = { 0 };
	char *ws, *got, *first_id, *path, *cause = NULL;
	const char *project;
	const cJSON *cfgj;
	struct stat st;

	d = require_docker();
	ws = make_workspace(1);
	project = project_of(ws);
	cfg = load(ws);

	compose_up_ok(cfg, d, 0, &u);
	ASSERT_INT_EQ(u.created, 1);
	ASSERT_STR_EQ(label(u.container, "com.docker.compose.project"), project);
	ASSERT_STR_EQ(label(u.container, "com.docker.compose.service"), "app");
	ASSERT_STR_EQ(label(u.container, "devcontainer.local_folder"), ws);
	ASSERT_STR_EQ(
	    label(u.container, "devcontainer.config_file"), config_get_file(cfg));
	ASSERT_NOT_NULL(label(u.container, "devcontainer.metadata"));
	ASSERT_STR_EQ(
	    cJSON_GetStringValue(cJSON_GetObjectItem(u.merged, "remoteUser")), "dev");
	/* runServices: only app runs. */
	ASSERT_INT_EQ(service_containers(d, project, "app", 1), 1);
	ASSERT_INT_EQ(service_containers(d, project, "db", 0), 0);

	/* The workspace: app's own volume (..:/workspace). */
	path = xasprintf("%s/hello.txt", ws);
	if (atomic_file_write(path, "hi there\n", 9, 0644, &cause) != 0)
		TEST_FAIL("%s", cause);
	free(path);
	got = exec_out(d, u.id, "root", "cat /workspace/hello.txt");
	ASSERT_STR_EQ(got, "hi there");
	free(got);
	/* containerEnv, with $, quotes, colon and # kept; the compose file's own
	 * environment and command still apply (overrideCommand is false). */
	got = exec_out(d, u.id, "root",
	    "printenv RDEV_COMPOSE_TEST; printenv FROM_COMPOSE;"
	    " tr '\\0' ' ' < /proc/1/cmdline");
	/* The wrapper exec'd the service's command. */
	ASSERT_STR_EQ(got, "a $dollar: \"quoted\" #x\nyes\nsleep infinity ");
	free(got);
	got = exec_out(d, u.id, "root", "printenv RDEV_COMPOSE_ODD");
	ASSERT_STR_EQ(
	    got, "t\tdel\x7f nel\xc2\x85 ls\xe2\x80\xa8 \xc3\xa9 \\ 'q' {a: [b]} $$");
	free(got);
	cfgj = cJSON_GetObjectItem(u.container, "Config");
	ASSERT_STR_CONTAINS(cJSON_GetStringValue(cJSON_GetArrayItem(
				cJSON_GetObjectItem(cfgj, "Entrypoint"), 2)),
	    "echo Container started\n");
	ASSERT_STR_EQ(
	    cJSON_GetStringValue(cJSON_GetArrayItem(cJSON_GetObjectItem(cfgj, "Cmd"), 1)),
	    "infinity");
	/* The override file: stable place, 0600. */
	path = xasprintf("%s/compose/%s/docker-compose.rdev.json", state_dir,
	    config_get_devcontainer_id(cfg));
	ASSERT_INT_EQ(stat(path, &st), 0);
	ASSERT_INT_EQ(st.st_mode & 0777, 0600);
	free(path);

	/* Again: the same container. */
	first_id = xstrdup(u.id);
	compose_up_ok(cfg, d, 0, &u);
	ASSERT_INT_EQ(u.created, 0);
	ASSERT_STR_EQ(u.id, first_id);

	/* Recreate: a new container. */
	compose_up_ok(cfg, d, 1, &u);
	ASSERT_INT_EQ(u.created, 1);
	ASSERT_TRUE(strcmp(u.id, first_id) != 0);
	ASSERT_INT_EQ(service_containers(d, project, "app", 0), 1);
	free(first_id);

	up_clear(&u);
	config_free(cfg);
	free(ws);
	cleanup();
}

TEST(all_services_start_stopped_is_restarted_uid_synced)
{
	struct docker *d;
	struct config *cfg;
	struct up u = { 0 };
	char *ws, *got, *first_id, *cause = NULL;
	const char *project;
	/* The UID-sync image is named after the UIDs: this process's own, as
	 * another test may make and remove such an image meanwhile. */
	uid_t uid = 20000 + (uid_t)getpid() % 40000;
	char want[64];
	int slot;

	d = require_docker();
	ws = make_workspace(0);
	project = project_of(ws);
	/* Owned by someone else than dev (1000): the UID-sync image is used. */
	if (chown(ws, uid, uid + 1) != 0)
		TEST_FAIL("chown failed");
	for (slot = 0; slot < 8 && strcmp(cleanup_ws[slot], ws) != 0; slot++)
		;
	cleanup_image[slot] = uid_sync_image_tag(RIG_DEV_IMAGE, "dev", uid, uid + 1);
	cfg = load(ws);

	compose_up_ok(cfg, d, 0, &u);
	ASSERT_INT_EQ(u.created, 1);
	ASSERT_INT_EQ(service_containers(d, project, "app", 1), 1);
	ASSERT_INT_EQ(service_containers(d, project, "db", 1), 1);
	got = exec_out(d, u.id, "root", "id -u dev; id -g dev");
	snprintf(want, sizeof want, "%u\n%u", (unsigned)uid, (unsigned)uid + 1);
	ASSERT_STR_EQ(got, want);
	free(got);

	/* Stopped: started again, not recreated. */
	first_id = xstrdup(u.id);
	if (docker_container_stop(d, u.id, 1, &cause) < 0)
		TEST_FAIL("stop: %s", cause);
	compose_up_ok(cfg, d, 0, &u);
	ASSERT_INT_EQ(u.created, 0);
	ASSERT_STR_EQ(u.id, first_id);
	ASSERT_TRUE(cJSON_IsTrue(
	    cJSON_GetObjectItem(cJSON_GetObjectItem(u.container, "State"), "Running")));
	free(first_id);

	up_clear(&u);
	config_free(cfg);
	free(ws);
	cleanup();
}

TEST(unknown_service_is_reported)
{
	struct docker *d;
	struct config *cfg;
	cJSON *c = NULL, *m = NULL;
	char *ws, *path, *text, *at, *cause = NULL;
	int created;

	d = require_docker();
	ws = make_workspace(0);
	path = xasprintf("%s/.devcontainer/devcontainer.json", ws);
	text = read_fixture("devcontainer.json");
	at = strstr(text, "\"service\": \"app\"");
	memcpy(at, "\"service\": \"zzz\"", 16);
	if (atomic_file_write(path, text, strlen(text), 0644, &cause) != 0)
		TEST_FAIL("%s", cause);
	free(text);
	free(path);
	cfg = load(ws);
	ASSERT_INT_EQ(compose_up(cfg, d, "h", &no_features, &(struct up_opts){ 0 }, &c,
			  &m, &created, NULL, &cause),
	    -1);
	ASSERT_STR_CONTAINS(cause, "service \"zzz\"");
	ASSERT_NULL(c);
	free(cause);
	config_free(cfg);
	free(ws);
	cleanup();
}
