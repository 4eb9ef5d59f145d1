/* test-config.c - unit tests for common/config.c: the load pipeline on the
 * fixture workspaces in tests/data/config/, defaults, legacy properties and
 * the Dockerfile base image. */
#include "test.h"

#include "config.h"
#include "xmalloc.h"

#define FIXTURE(name) RDEV_TEST_DATA "/config/" name

/* A fixed environment for ${localEnv:...}. */
static const char *
test_env(void *arg, const char *name)
{
	if (strcmp(name, "RDEV_TEST_NAME") == 0)
		return "hello";
	if (strcmp(name, "EMPTY") == 0)
		return "";
	return NULL;
}

static struct config *
load(const char *folder, const char *config_file, char **cause)
{
	struct config_load_opts opts;

	memset(&opts, 0, sizeof opts);
	opts.workspace_folder = folder;
	opts.config_file = config_file;
	opts.local_env = test_env;
	opts.no_git_root = 1;
	*cause = NULL;
	return config_load(&opts, cause);
}

/* load() that must succeed: else the test fails with the cause. */
static struct config *
load_ok(const char *folder, const char *config_file)
{
	struct config *cfg;
	char *cause;

	if ((cfg = load(folder, config_file, &cause)) == NULL)
		TEST_FAIL("%s", cause);
	return cfg;
}

static const char *
get_string(const cJSON *obj, const char *path)
{
	char *copy = xstrdup(path), *part, *save = NULL;
	const cJSON *item = obj;
	static char value[1024];

	for (part = strtok_r(copy, ".", &save); part != NULL;
	     part = strtok_r(NULL, ".", &save))
		item = cJSON_GetObjectItemCaseSensitive(item, part);
	free(copy);
	if (!cJSON_IsString(item))
		return NULL;
	snprintf(value, sizeof value, "%s", item->valuestring);
	return value;
}

/* Does s end with suffix? */
static int
ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

TEST(image_fixture)
{
	struct config *cfg;
	char *want;

	cfg = load_ok(FIXTURE("image"), NULL);
	ASSERT_INT_EQ(config_get_kind(cfg), CONFIG_KIND_IMAGE);
	ASSERT_TRUE(config_get_local_folder(cfg)[0] == '/');
	ASSERT_TRUE(ends_with(config_get_local_folder(cfg), "/config/image"));
	want =
	    xasprintf("%s/.devcontainer/devcontainer.json", config_get_local_folder(cfg));
	ASSERT_STR_EQ(config_get_file(cfg), want);
	free(want);
	ASSERT_STR_EQ(
	    get_string(config_get_object(cfg), "image"), "rdev-test-config/meta:1");
	ASSERT_STR_EQ(config_get_workspace_folder(cfg), "/workspaces/image");
	want = xasprintf(
	    "type=bind,source=%s,target=/workspaces/image", config_get_local_folder(cfg));
	ASSERT_STR_EQ(config_get_workspace_mount(cfg), want);
	free(want);
	/* ${containerEnv:...} waits for the container. */
	ASSERT_STR_EQ(get_string(config_get_object(cfg), "remoteEnv.PATH"),
	    "${containerEnv:PATH}:/opt/bin");
	ASSERT_INT_EQ(config_get_warnings(cfg)->count, 0);
	ASSERT_INT_EQ(strlen(config_get_devcontainer_id(cfg)), 52);
	config_free(cfg);
}

TEST(variables_fixture)
{
	struct config *cfg;
	const cJSON *obj;
	const char *local;
	char *want;

	cfg = load_ok(FIXTURE("variables"), NULL);
	obj = config_get_object(cfg);
	local = config_get_local_folder(cfg);
	ASSERT_TRUE(ends_with(config_get_file(cfg), "/variables/.devcontainer.json"));
	ASSERT_STR_EQ(get_string(obj, "name"), "variables-hello");
	ASSERT_STR_EQ(
	    get_string(obj, "containerEnv.ID"), config_get_devcontainer_id(cfg));
	ASSERT_STR_EQ(get_string(obj, "containerEnv.WITH_DEFAULT"), "fallback");
	ASSERT_STR_EQ(get_string(obj, "containerEnv.SET"), "hello");
	ASSERT_STR_EQ(get_string(obj, "containerEnv.ENV_ALIAS"), "hello");
	ASSERT_STR_EQ(get_string(obj, "containerEnv.EMPTY"), "");
	ASSERT_STR_EQ(get_string(obj, "containerEnv.LOCAL"), local);
	ASSERT_STR_EQ(get_string(obj, "containerEnv.CONTAINER"), "/work/variables");
	ASSERT_STR_EQ(get_string(obj, "containerEnv.CONTAINER_BASE"), "variables");
	ASSERT_STR_EQ(get_string(obj, "containerEnv.UNKNOWN"), "${notAVariable}");
	ASSERT_STR_EQ(get_string(obj, "containerEnv.LATER"), "${containerEnv:HOME}");
	ASSERT_STR_EQ(config_get_workspace_folder(cfg), "/work/variables");
	want = xasprintf("source=%s,target=/work/variables,type=bind", local);
	ASSERT_STR_EQ(config_get_workspace_mount(cfg), want);
	free(want);
	/* The raw configuration keeps the variables. */
	ASSERT_STR_EQ(
	    get_string(config_get_raw(cfg), "containerEnv.ID"), "${devcontainerId}");
	config_free(cfg);
}

TEST(keep_devcontainer_id_leaves_it_as_written)
{
	struct config_load_opts opts;
	struct config *cfg;
	char *cause = NULL;

	memset(&opts, 0, sizeof opts);
	opts.workspace_folder = FIXTURE("variables");
	opts.local_env = test_env;
	opts.no_git_root = 1;
	opts.keep_devcontainer_id = 1;
	if ((cfg = config_load(&opts, &cause)) == NULL)
		TEST_FAIL("%s", cause);
	/* As the reference's read-configuration before a container exists. */
	ASSERT_STR_EQ(
	    get_string(config_get_object(cfg), "containerEnv.ID"), "${devcontainerId}");
	ASSERT_NULL(config_get_subst_ctx(cfg)->devcontainer_id);
	ASSERT_INT_EQ(strlen(config_get_devcontainer_id(cfg)), 52);
	/* The local variables are substituted all the same. */
	ASSERT_STR_EQ(get_string(config_get_object(cfg), "containerEnv.SET"), "hello");
	config_free(cfg);
}

TEST(compose_fixture_and_defaults)
{
	struct config *cfg;
	cJSON *ws;
	char *text;

	cfg = load_ok(FIXTURE("compose"), NULL);
	ASSERT_INT_EQ(config_get_kind(cfg), CONFIG_KIND_COMPOSE);
	ASSERT_STR_EQ(config_get_workspace_folder(cfg), "/src/compose");
	ASSERT_NULL(config_get_workspace_mount(cfg));
	ws = config_workspace_json(cfg);
	text = cJSON_PrintUnformatted(ws);
	ASSERT_STR_EQ(text, "{\"workspaceFolder\":\"/src/compose\"}");
	free(text);
	cJSON_Delete(ws);
	ASSERT_INT_EQ(
	    config_override_command(CONFIG_KIND_COMPOSE, config_get_object(cfg)), 0);
	ASSERT_STR_EQ(config_shutdown_action(CONFIG_KIND_COMPOSE, config_get_object(cfg)),
	    "stopCompose");
	config_free(cfg);
}

TEST(compose_workspace_folder_defaults_to_root)
{
	struct config *cfg;

	cfg = load_ok(FIXTURE("compose"), FIXTURE("compose/no-folder.json"));
	ASSERT_STR_EQ(config_get_workspace_folder(cfg), "/");
	ASSERT_NULL(config_get_workspace_mount(cfg));
	config_free(cfg);
}

TEST(dockerfile_fixture)
{
	struct config *cfg;

	cfg = load_ok(FIXTURE("dockerfile"), NULL);
	ASSERT_INT_EQ(config_get_kind(cfg), CONFIG_KIND_DOCKERFILE);
	ASSERT_STR_EQ(
	    get_string(config_get_object(cfg), "build.args.VARIANT"), "bookworm");
	ASSERT_STR_EQ(get_string(config_get_object(cfg), "onCreateCommand"),
	    "echo created in /workspaces/dockerfile");
	ASSERT_INT_EQ(
	    config_override_command(CONFIG_KIND_DOCKERFILE, config_get_object(cfg)), 0);
	ASSERT_INT_EQ(config_update_remote_user_uid(config_get_object(cfg)), 0);
	ASSERT_STR_EQ(
	    config_shutdown_action(CONFIG_KIND_DOCKERFILE, config_get_object(cfg)),
	    "none");
	config_free(cfg);
}

TEST(legacy_fixture_moves_vscode_properties)
{
	struct config *cfg;
	char *text;

	cfg = load_ok(FIXTURE("legacy"), NULL);
	ASSERT_INT_EQ(config_get_kind(cfg), CONFIG_KIND_DOCKERFILE);
	text = cJSON_PrintUnformatted(config_get_object(cfg));
	ASSERT_STR_EQ(text,
	    "{\"name\":\"legacy\",\"dockerFile\":\"Dockerfile\","
	    "\"context\":\".\",\"appPort\":[8000,\"8001:8001\"],"
	    "\"customizations\":{\"vscode\":{\"settings\":"
	    "{\"terminal.integrated.shell.linux\":\"/bin/bash\",\"editor.tabSize\":4},"
	    "\"extensions\":[\"dbaeumer.vscode-eslint\"],\"devPort\":8765}},"
	    "\"postCreateCommand\":\"npm install\"}");
	free(text);
	config_free(cfg);
}

TEST(comments_fixture)
{
	struct config *cfg;

	cfg = load_ok(FIXTURE("comments"), NULL);
	ASSERT_STR_EQ(
	    get_string(config_get_object(cfg), "containerEnv.B"), "//not a comment");
	ASSERT_INT_EQ(cJSON_GetArraySize(
			  cJSON_GetObjectItem(config_get_object(cfg), "forwardPorts")),
	    2);
	config_free(cfg);
}

TEST(both_fixture_takes_devcontainer_folder)
{
	struct config *cfg;

	cfg = load_ok(FIXTURE("both"), NULL);
	ASSERT_STR_EQ(get_string(config_get_object(cfg), "name"), "inside .devcontainer");
	config_free(cfg);
}

TEST(subfolder_and_multiple_fixtures)
{
	struct config *cfg;
	char *cause;

	cfg = load_ok(FIXTURE("subfolder"), NULL);
	ASSERT_TRUE(ends_with(
	    config_get_file(cfg), "/subfolder/.devcontainer/python/devcontainer.json"));
	config_free(cfg);
	ASSERT_NULL(load(FIXTURE("multiple"), NULL, &cause));
	ASSERT_STR_CONTAINS(cause,
	    ".devcontainer/go/devcontainer.json, "
	    ".devcontainer/node/devcontainer.json; choose one with --config PATH");
	free(cause);
	cfg = load(FIXTURE("multiple"),
	    FIXTURE("multiple/.devcontainer/node/"
		    "devcontainer.json"),
	    &cause);
	if (cfg == NULL)
		TEST_FAIL("%s", cause);
	ASSERT_STR_EQ(get_string(config_get_object(cfg), "name"), "node");
	config_free(cfg);
}

TEST(workspace_fixture_warns_unknown_property)
{
	struct config *cfg;
	const struct config_warnings *w;

	cfg = load_ok(FIXTURE("workspace"), NULL);
	w = config_get_warnings(cfg);
	ASSERT_INT_EQ(w->count, 1);
	ASSERT_TRUE(ends_with(w->items[0],
	    "/workspace/.devcontainer/"
	    "devcontainer.json:5:2: unknown property \"unknownThing\""));
	ASSERT_STR_EQ(config_get_workspace_folder(cfg), "/code");
	config_free(cfg);
}

TEST(errors_name_the_file)
{
	char *cause;

	ASSERT_NULL(load(FIXTURE("none"), NULL, &cause));
	ASSERT_STR_CONTAINS(cause, "no devcontainer.json in /");
	free(cause);
	ASSERT_NULL(load(FIXTURE("nonexistent"), NULL, &cause));
	ASSERT_STR_CONTAINS(cause, "/config/nonexistent: No such file or directory");
	free(cause);
	ASSERT_NULL(load(FIXTURE("image"), FIXTURE("image/missing.json"), &cause));
	ASSERT_STR_CONTAINS(cause, "/config/image/missing.json: No such file");
	free(cause);
	ASSERT_NULL(load(FIXTURE("image"), FIXTURE("errors/bad-syntax.json"), &cause));
	ASSERT_STR_CONTAINS(cause, "/config/errors/bad-syntax.json:3:");
	free(cause);
	ASSERT_NULL(load(FIXTURE("image"), FIXTURE("errors/bad-type.json"), &cause));
	ASSERT_STR_CONTAINS(cause,
	    "/config/errors/bad-type.json:3:22: "
	    "\"forwardPorts\"[1]: expected a number or \"host:port\" string, got object");
	free(cause);
	ASSERT_NULL(load(FIXTURE("image"), FIXTURE("errors/no-var-name.json"), &cause));
	ASSERT_STR_CONTAINS(cause,
	    "/config/errors/no-var-name.json:3:10: \"name\": '${localEnv}' can not "
	    "be resolved because no environment variable name is given");
	free(cause);
}

/* config_load_id_labels() of opts: the array (caller frees) or NULL. */
static char **
id_labels_only(
    const char *folder, const char *config_file, const cJSON *given, char **cause)
{
	struct config_load_opts opts;

	memset(&opts, 0, sizeof opts);
	opts.workspace_folder = folder;
	opts.config_file = config_file;
	opts.id_labels = given;
	opts.no_git_root = 1;
	*cause = NULL;
	return config_load_id_labels(&opts, cause);
}

TEST(id_labels_without_reading_the_configuration)
{
	char *cause = NULL, **labels;
	struct config *cfg;
	cJSON *given;
	size_t n;

	/* The same labels as config_load() gives, for a configuration that
	 * loads. */
	cfg = load(FIXTURE("image"), NULL, &cause);
	ASSERT_NOT_NULL(cfg);
	labels = id_labels_only(FIXTURE("image"), NULL, NULL, &cause);
	ASSERT_NOT_NULL(labels);
	for (n = 0; config_get_id_labels(cfg)[n] != NULL; n++)
		ASSERT_STR_EQ(labels[n], config_get_id_labels(cfg)[n]);
	ASSERT_INT_EQ(n, 2);
	ASSERT_NULL(labels[n]);
	config_id_labels_free(labels);
	config_free(cfg);
	/* A malformed one and one of the wrong type: the labels all the same
	 * (where config_load() fails). */
	labels = id_labels_only(
	    FIXTURE("image"), FIXTURE("errors/bad-syntax.json"), NULL, &cause);
	ASSERT_NOT_NULL(labels);
	ASSERT_TRUE(ends_with(labels[1], "/config/errors/bad-syntax.json"));
	ASSERT_STR_CONTAINS(labels[0], "devcontainer.local_folder=");
	config_id_labels_free(labels);
	labels = id_labels_only(
	    FIXTURE("image"), FIXTURE("errors/bad-type.json"), NULL, &cause);
	ASSERT_NOT_NULL(labels);
	config_id_labels_free(labels);
	/* --id-label's replace the default two. */
	given = cJSON_CreateArray();
	cJSON_AddItemToArray(given, cJSON_CreateString("team=x"));
	labels = id_labels_only(
	    FIXTURE("image"), FIXTURE("errors/bad-syntax.json"), given, &cause);
	ASSERT_NOT_NULL(labels);
	ASSERT_STR_EQ(labels[0], "team=x");
	ASSERT_NULL(labels[1]);
	config_id_labels_free(labels);
	cJSON_Delete(given);
	/* No configuration found, or no folder: no labels, the same error. */
	ASSERT_NULL(id_labels_only(FIXTURE("none"), NULL, NULL, &cause));
	ASSERT_STR_CONTAINS(cause, "no devcontainer.json in /");
	free(cause);
	ASSERT_NULL(id_labels_only(FIXTURE("nonexistent"), NULL, NULL, &cause));
	ASSERT_STR_CONTAINS(cause, "/config/nonexistent: No such file or directory");
	free(cause);
}

TEST(folder_id_labels_need_no_configuration)
{
	struct config_load_opts opts;
	char *cause = NULL, **labels;
	cJSON *given;

	memset(&opts, 0, sizeof opts);
	opts.no_git_root = 1;
	/* no devcontainer.json: the folder's label alone */
	opts.workspace_folder = FIXTURE("none");
	labels = config_folder_id_labels(&opts, &cause);
	ASSERT_NOT_NULL(labels);
	ASSERT_STR_CONTAINS(labels[0], "devcontainer.local_folder=/");
	ASSERT_TRUE(ends_with(labels[0], "/config/none"));
	ASSERT_NULL(labels[1]);
	config_id_labels_free(labels);
	/* --id-label's are the labels */
	given = cJSON_CreateArray();
	cJSON_AddItemToArray(given, cJSON_CreateString("team=x"));
	opts.id_labels = given;
	labels = config_folder_id_labels(&opts, &cause);
	ASSERT_NOT_NULL(labels);
	ASSERT_STR_EQ(labels[0], "team=x");
	ASSERT_NULL(labels[1]);
	config_id_labels_free(labels);
	cJSON_Delete(given);
	/* no folder: an error */
	opts.id_labels = NULL;
	opts.workspace_folder = FIXTURE("nonexistent");
	ASSERT_NULL(config_folder_id_labels(&opts, &cause));
	ASSERT_STR_CONTAINS(cause, "/config/nonexistent: No such file or directory");
	free(cause);
}

TEST(bare_id_labels_need_no_disk)
{
	struct config_load_opts opts;
	char **labels;
	cJSON *given;

	memset(&opts, 0, sizeof opts);
	opts.no_git_root = 1;
	/* a folder that is gone: its label as config_load() wrote it (the
	 * path made absolute lexically), alone */
	opts.workspace_folder = "/srv/gone/../app//";
	labels = config_bare_id_labels(&opts);
	ASSERT_NOT_NULL(labels);
	ASSERT_STR_EQ(labels[0], "devcontainer.local_folder=/srv/app");
	ASSERT_NULL(labels[1]);
	config_id_labels_free(labels);
	/* with --config: its label too */
	opts.config_file = "/srv/app/.devcontainer/a/devcontainer.json";
	labels = config_bare_id_labels(&opts);
	ASSERT_NOT_NULL(labels);
	ASSERT_STR_EQ(labels[1],
	    "devcontainer.config_file=/srv/app/.devcontainer/a/devcontainer.json");
	ASSERT_NULL(labels[2]);
	config_id_labels_free(labels);
	/* --id-label's are the labels */
	given = cJSON_CreateArray();
	cJSON_AddItemToArray(given, cJSON_CreateString("team=x"));
	opts.id_labels = given;
	labels = config_bare_id_labels(&opts);
	ASSERT_NOT_NULL(labels);
	ASSERT_STR_EQ(labels[0], "team=x");
	ASSERT_NULL(labels[1]);
	config_id_labels_free(labels);
	cJSON_Delete(given);
}

TEST(defaults_when_unset)
{
	cJSON *empty = cJSON_CreateObject();

	ASSERT_INT_EQ(config_override_command(CONFIG_KIND_IMAGE, empty), 1);
	ASSERT_INT_EQ(config_override_command(CONFIG_KIND_DOCKERFILE, NULL), 1);
	ASSERT_INT_EQ(config_override_command(CONFIG_KIND_COMPOSE, empty), 0);
	ASSERT_INT_EQ(config_update_remote_user_uid(empty), 1);
	ASSERT_STR_EQ(config_wait_for(empty), "updateContentCommand");
	ASSERT_STR_EQ(config_shutdown_action(CONFIG_KIND_IMAGE, empty), "stopContainer");
	ASSERT_STR_EQ(config_shutdown_action(CONFIG_KIND_COMPOSE, NULL), "stopCompose");
	cJSON_AddBoolToObject(empty, "overrideCommand", 1);
	cJSON_AddStringToObject(empty, "waitFor", "postCreateCommand");
	ASSERT_INT_EQ(config_override_command(CONFIG_KIND_COMPOSE, empty), 1);
	ASSERT_STR_EQ(config_wait_for(empty), "postCreateCommand");
	cJSON_Delete(empty);
}

TEST(default_workspace_paths)
{
	char *s;

	s = config_default_workspace_folder("/home/me/repo", "/home/me/repo");
	ASSERT_STR_EQ(s, "/workspaces/repo");
	free(s);
	s = config_default_workspace_folder("/home/me/repo", "/home/me/repo/sub/x");
	ASSERT_STR_EQ(s, "/workspaces/repo/sub/x");
	free(s);
	s = config_default_workspace_mount("/home/me/repo");
	ASSERT_STR_EQ(s, "type=bind,source=/home/me/repo,target=/workspaces/repo");
	free(s);
	s = config_default_workspace_mount("/a,b/c,d");
	ASSERT_STR_EQ(s, "type=bind,\"source=/a,b/c,d\",\"target=/workspaces/c,d\"");
	free(s);
	/* A folder with a double quote or a line break in its name is quoted
	 * too (the reference writes a mount string no one can read back). */
	s = config_default_workspace_mount("/a\"b/c\nd");
	ASSERT_STR_EQ(s, "type=bind,\"source=/a\"\"b/c\nd\",\"target=/workspaces/c\nd\"");
	free(s);
	s = config_default_workspace_mount("/a/q\"x");
	ASSERT_STR_EQ(s, "type=bind,\"source=/a/q\"\"x\",\"target=/workspaces/q\"\"x\"");
	free(s);
}

TEST(git_root_is_mounted)
{
	char dir[] = "/tmp/rdev-test-config.XXXXXX", *path, *cmd, *cause = NULL;
	struct config_load_opts opts;
	struct config *cfg;
	FILE *f;

	ASSERT_NOT_NULL(mkdtemp(dir));
	cmd = xasprintf("mkdir -p %s/repo/.git %s/repo/app/.devcontainer", dir, dir);
	ASSERT_INT_EQ(system(cmd), 0);
	free(cmd);
	path = xasprintf("%s/repo/app/.devcontainer/devcontainer.json", dir);
	f = fopen(path, "w");
	ASSERT_NOT_NULL(f);
	fputs("{\"image\": \"x\"}", f);
	fclose(f);
	free(path);
	memset(&opts, 0, sizeof opts);
	path = xasprintf("%s/repo/app", dir);
	opts.workspace_folder = path;
	cfg = config_load(&opts, &cause);
	free(path);
	ASSERT_NOT_NULL(cfg);
	ASSERT_STR_EQ(config_get_workspace_folder(cfg), "/workspaces/repo/app");
	path = xasprintf("type=bind,source=%s/repo,target=/workspaces/repo", dir);
	ASSERT_STR_EQ(config_get_workspace_mount(cfg), path);
	free(path);
	config_free(cfg);
	cmd = xasprintf("rm -rf %s", dir);
	ASSERT_INT_EQ(system(cmd), 0);
	free(cmd);
}

/* --mount-git-worktree-common-dir on a work tree made with relative paths
 * (<dir>/wts/feature/.git: "gitdir: ../../repo/.git/worktrees/feature"):
 * the work tree goes to /workspaces/wts/feature (its path below <dir>,
 * which holds the common dir), the common dir <dir>/repo/.git to
 * /workspaces/repo/.git; as devcontainer 0.89.0's read-configuration gives
 * them. An absolute gitdir, or the flag off, keeps the default. */
TEST(git_worktree_common_dir_is_mounted)
{
	char dir[] = "/tmp/rdev-test-config.XXXXXX", *path, *cmd, *want, *cause = NULL;
	struct config_load_opts opts;
	struct config *cfg;
	FILE *f;

	ASSERT_NOT_NULL(mkdtemp(dir));
	cmd = xasprintf("mkdir -p %s/repo/.git/worktrees/feature "
			"%s/wts/feature/sub/.devcontainer %s/wts/feature/.devcontainer",
	    dir, dir, dir);
	ASSERT_INT_EQ(system(cmd), 0);
	free(cmd);
	cmd = xasprintf("echo '{\"image\": \"x\"}' | tee "
			"%s/wts/feature/.devcontainer/devcontainer.json "
			"%s/wts/feature/sub/.devcontainer/devcontainer.json >/dev/null",
	    dir, dir);
	ASSERT_INT_EQ(system(cmd), 0);
	free(cmd);
	path = xasprintf("%s/wts/feature/.git", dir);
	f = fopen(path, "w");
	ASSERT_NOT_NULL(f);
	fputs("gitdir: ../../repo/.git/worktrees/feature\n", f);
	fclose(f);
	free(path);
	memset(&opts, 0, sizeof opts);
	opts.git_worktree_common_dir = 1;
	path = xasprintf("%s/wts/feature", dir);
	opts.workspace_folder = path;
	cfg = config_load(&opts, &cause);
	ASSERT_NOT_NULL(cfg);
	ASSERT_STR_EQ(config_get_workspace_folder(cfg), "/workspaces/wts/feature");
	want = xasprintf("type=bind,source=%s,target=/workspaces/wts/feature", path);
	ASSERT_STR_EQ(config_get_workspace_mount(cfg), want);
	free(want);
	want =
	    xasprintf("type=bind,source=%s/repo/.git,target=/workspaces/repo/.git", dir);
	ASSERT_STR_EQ(config_get_worktree_mount(cfg), want);
	free(want);
	config_free(cfg);
	free(path);
	/* a subfolder keeps its place below the work tree */
	path = xasprintf("%s/wts/feature/sub", dir);
	opts.workspace_folder = path;
	cfg = config_load(&opts, &cause);
	ASSERT_NOT_NULL(cfg);
	ASSERT_STR_EQ(config_get_workspace_folder(cfg), "/workspaces/wts/feature/sub");
	config_free(cfg);
	/* the flag off, or the git root not mounted: the default */
	opts.git_worktree_common_dir = 0;
	cfg = config_load(&opts, &cause);
	ASSERT_NOT_NULL(cfg);
	ASSERT_STR_EQ(config_get_workspace_folder(cfg), "/workspaces/feature/sub");
	ASSERT_NULL(config_get_worktree_mount(cfg));
	config_free(cfg);
	opts.git_worktree_common_dir = 1;
	opts.no_git_root = 1;
	cfg = config_load(&opts, &cause);
	ASSERT_NOT_NULL(cfg);
	ASSERT_STR_EQ(config_get_workspace_folder(cfg), "/workspaces/sub");
	ASSERT_NULL(config_get_worktree_mount(cfg));
	config_free(cfg);
	free(path);
	/* a CRLF line: the gitdir ends before the \r (the reference's (.+)$),
	 * else ".../feature/\r/../.." would be the worktrees folder */
	opts.no_git_root = 0;
	path = xasprintf("%s/wts/feature/.git", dir);
	f = fopen(path, "w");
	ASSERT_NOT_NULL(f);
	fputs("gitdir: ../../repo/.git/worktrees/feature/\r\n", f);
	fclose(f);
	free(path);
	path = xasprintf("%s/wts/feature", dir);
	opts.workspace_folder = path;
	cfg = config_load(&opts, &cause);
	ASSERT_NOT_NULL(cfg);
	want =
	    xasprintf("type=bind,source=%s/repo/.git,target=/workspaces/repo/.git", dir);
	ASSERT_STR_EQ(config_get_worktree_mount(cfg), want);
	free(want);
	config_free(cfg);
	free(path);
	/* an absolute gitdir (a work tree made without --relative-paths) */
	path = xasprintf("%s/wts/feature/.git", dir);
	f = fopen(path, "w");
	ASSERT_NOT_NULL(f);
	fprintf(f, "gitdir: %s/repo/.git/worktrees/feature\n", dir);
	fclose(f);
	free(path);
	path = xasprintf("%s/wts/feature", dir);
	opts.workspace_folder = path;
	cfg = config_load(&opts, &cause);
	ASSERT_NOT_NULL(cfg);
	ASSERT_STR_EQ(config_get_workspace_folder(cfg), "/workspaces/feature");
	ASSERT_NULL(config_get_worktree_mount(cfg));
	config_free(cfg);
	free(path);
	cmd = xasprintf("rm -rf %s", dir);
	ASSERT_INT_EQ(system(cmd), 0);
	free(cmd);
}

TEST(update_legacy_cases)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
		{ "{\"image\":\"x\"}", "{\"image\":\"x\"}" },
		{ "{\"extensions\":[\"a\"],\"customizations\":{\"vscode\":"
		  "{\"extensions\":[\"b\"]}}}",
		    "{\"customizations\":{\"vscode\":{\"extensions\":[\"b\",\"a\"]}}}" },
		{ "{\"settings\":{\"a\":1,\"b\":2},\"customizations\":{\"vscode\":"
		  "{\"settings\":{\"b\":3}}}}",
		    "{\"customizations\":{\"vscode\":{\"settings\":{\"a\":1,\"b\":3}}}"
		    "}" },
		{ "{\"devPort\":1,\"customizations\":{\"vscode\":{\"devPort\":2}}}",
		    "{\"devPort\":1,\"customizations\":{\"vscode\":{\"devPort\":2}}}" },
		{ "{\"devPort\":1,\"x\":true}",
		    "{\"x\":true,\"customizations\":{\"vscode\":{\"devPort\":1}}}" },
	};
	cJSON *obj;
	char *text;
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		obj = cJSON_Parse(cases[i].in);
		config_update_legacy(obj);
		text = cJSON_PrintUnformatted(obj);
		ASSERT_STR_EQ(text, cases[i].want);
		free(text);
		cJSON_Delete(obj);
	}
}

TEST(dockerfile_base_image_cases)
{
	static const struct {
		const char *text, *args, *target, *want;
	} cases[] = {
		{ "FROM debian:12\n", NULL, NULL, "debian:12" },
		{ "from --platform=linux/amd64 \"alpine\" as build\nRUN x\n", NULL, NULL,
		    "alpine" },
		{ "FROM a AS one\nFROM b AS two\nFROM one\n", NULL, NULL, "a" },
		{ "FROM a AS one\nFROM b AS two\nFROM c\n", NULL, "two", "b" },
		{ "ARG V=12\nFROM debian:$V\n", NULL, NULL, "debian:12" },
		{ "ARG V=12\nFROM debian:${V}\n", "{\"V\":\"13\"}", NULL, "debian:13" },
		{ "ARG R=r\nARG I=${R}/img\nFROM ${I}:1\n", NULL, NULL, "r/img:1" },
		{ "ARG V\nFROM x:${V:-latest}\n", NULL, NULL, "x:latest" },
		{ "ARG V=1\nFROM x${V:+-suffix}\n", NULL, NULL, "x-suffix" },
		{ "FROM a\nARG LATE=1\nFROM b:$LATE\n", NULL, NULL, "b:" },
		{ "FROM x AS a\nFROM a AS b\nFROM b AS a\n", NULL, "b", NULL },
		{ "# no stages\nRUN true\n", NULL, NULL, NULL },
		{ "FROM x\n", NULL, "missing", NULL },
	};
	cJSON *args;
	char *got;
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		args = cases[i].args != NULL ? cJSON_Parse(cases[i].args) : NULL;
		got = config_dockerfile_base_image(cases[i].text, args, cases[i].target);
		if (cases[i].want == NULL && got != NULL)
			TEST_FAIL("case %zu: got %s, want none", i, got);
		if (cases[i].want != NULL)
			ASSERT_STR_EQ(got, cases[i].want);
		free(got);
		cJSON_Delete(args);
	}
}
