/* test-feature-resolve.c - resolving a configuration's Features: what
 * installsAfter entries on an unreachable registry cost; the order of one
 * Feature named twice. */
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "feature-resolve.h"
#include "test.h"

/* Three Features, two of them waiting for the same entry on a registry that
 * accepts connections and closes them (a transport error, at once), and one
 * for another entry on it: the registry is tried once (one connection), and
 * each entry warned about once. */
TEST(unreachable_registry_tried_once)
{
	char dir[] = "/tmp/rdev-test-resolve.XXXXXX", path[512], text[512], c;
	struct sockaddr_in sa = { 0 };
	socklen_t len = sizeof sa;
	struct config_load_opts opts = { 0 };
	struct feature_set *fs;
	struct config *cfg;
	char *cause = NULL, *err;
	int lfd, pfd[2], efd, saved, conns = 0;
	pid_t pid;
	FILE *f;
	long size;

	ASSERT_NOT_NULL(mkdtemp(dir));
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ASSERT_INT_EQ(bind(lfd, (struct sockaddr *)&sa, sizeof sa), 0);
	ASSERT_INT_EQ(listen(lfd, 16), 0);
	ASSERT_INT_EQ(getsockname(lfd, (struct sockaddr *)&sa, &len), 0);
	ASSERT_INT_EQ(pipe(pfd), 0);
	if ((pid = fork()) == 0) {
		close(pfd[0]);
		for (;;) {
			int fd = accept(lfd, NULL, NULL);

			if (fd >= 0) {
				(void)!write(pfd[1], "c", 1);
				close(fd);
			}
		}
	}
	close(lfd);
	close(pfd[1]);
	snprintf(path, sizeof path, "%s/.devcontainer", dir);
	ASSERT_INT_EQ(mkdir(path, 0700), 0);
	snprintf(path, sizeof path, "%s/.devcontainer/devcontainer.json", dir);
	test_write_file(NULL, path,
	    "{\"image\":\"alpine\",\"features\":"
	    "{\"./a\":{},\"./b\":{},\"./c\":{}}}");
	for (const char *n = "abc"; *n != '\0'; n++) {
		snprintf(path, sizeof path, "%s/.devcontainer/%c", dir, *n);
		ASSERT_INT_EQ(mkdir(path, 0700), 0);
		snprintf(path, sizeof path, "%s/.devcontainer/%c/install.sh", dir, *n);
		test_write_file(NULL, path, "#!/bin/sh\n");
		snprintf(path, sizeof path,
		    "%s/.devcontainer/%c/devcontainer-feature.json", dir, *n);
		snprintf(text, sizeof text,
		    "{\"id\":\"%c\",\"version\":\"1.0.0\",\"installsAfter\":"
		    "[\"localhost:%d/ns/features/%s\"]}",
		    *n, ntohs(sa.sin_port), *n == 'c' ? "other" : "common");
		test_write_file(NULL, path, text);
	}
	snprintf(path, sizeof path, "%s/state", dir);
	setenv("RDEV_STATE_DIR", path, 1);
	opts.workspace_folder = dir;
	cfg = config_load(&opts, &cause);
	ASSERT_NOT_NULL(cfg);
	/* (its warnings into a file) */
	snprintf(path, sizeof path, "%s/err", dir);
	efd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	fflush(stderr);
	saved = dup(2);
	dup2(efd, 2);
	fs = feature_resolve(cfg, NULL, 0, &cause);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	while (read(pfd[0], &c, 1) == 1)
		conns++;
	close(pfd[0]);
	f = fdopen(efd, "r");
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	rewind(f);
	err = calloc(1, (size_t)size + 1);
	(void)!fread(err, 1, (size_t)size, f);
	fclose(f);
	fprintf(stderr, "%s", err);
	ASSERT_NOT_NULL(fs);
	ASSERT_INT_EQ(conns, 1);
	/* one warning for each entry */
	ASSERT_NOT_NULL(strstr(err, "features/common'"));
	ASSERT_NULL(strstr(strstr(err, "features/common'") + 1, "features/common'"));
	ASSERT_STR_CONTAINS(err, "registry localhost:");
	ASSERT_STR_CONTAINS(err, "could not be reached (above)");
	free(err);
	feature_set_free(fs);
	config_free(cfg);
	if ((pid = fork()) == 0) {
		execlp("rm", "rm", "-rf", dir, (char *)NULL);
		_exit(127);
	}
	waitpid(pid, NULL, 0);
}

/* rm -rf dir. */
static void
remove_tree(const char *dir)
{
	pid_t pid;

	if ((pid = fork()) == 0) {
		execlp("rm", "rm", "-rf", dir, (char *)NULL);
		_exit(127);
	}
	waitpid(pid, NULL, 0);
}

/* One Feature named twice, {} in devcontainer.json and with an option in
 * another's dependsOn: as the reference, the two are ordered by their
 * options as written ({}: none, first), not with the defaults filled in
 * ("mid" after "high"); the one installed last wins. Written out as its
 * default, the option is the same Feature as {}: installed once (the
 * reference installs it twice: a deliberate difference). */
TEST(twice_ordered_by_options_as_written)
{
	char dir[] = "/tmp/rdev-test-resolve.XXXXXX", path[512];
	struct config_load_opts opts = { 0 };
	struct feature_set *fs;
	struct config *cfg;
	char *cause = NULL;
	const cJSON *level;
	const char *want[] = { "mid", "high" };

	ASSERT_NOT_NULL(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/.devcontainer", dir);
	ASSERT_INT_EQ(mkdir(path, 0700), 0);
	snprintf(path, sizeof path, "%s/.devcontainer/devcontainer.json", dir);
	test_write_file(NULL, path,
	    "{\"image\":\"alpine\",\"features\":{\"./base\":{},\"./top\":{},"
	    "\"./other\":{}}}");
	for (const char *n = "bto"; *n != '\0'; n++) {
		const char *name = *n == 'b' ? "base" : *n == 't' ? "top" : "other";

		snprintf(path, sizeof path, "%s/.devcontainer/%s", dir, name);
		ASSERT_INT_EQ(mkdir(path, 0700), 0);
		snprintf(path, sizeof path, "%s/.devcontainer/%s/install.sh", dir, name);
		test_write_file(NULL, path, "#!/bin/sh\n");
		snprintf(path, sizeof path,
		    "%s/.devcontainer/%s/devcontainer-feature.json", dir, name);
		test_write_file(NULL, path,
		    *n == 'b' ? "{\"id\":\"base\",\"options\":{\"level\":"
				"{\"type\":\"string\",\"default\":\"mid\"}}}"
			: *n == 't'
			? "{\"id\":\"top\",\"dependsOn\":{\"./base\":{\"level\":"
			  "\"high\"}}}"
			: "{\"id\":\"other\",\"dependsOn\":{\"./base\":{\"level\":"
			  "\"mid\"}}}");
	}
	snprintf(path, sizeof path, "%s/state", dir);
	setenv("RDEV_STATE_DIR", path, 1);
	opts.workspace_folder = dir;
	cfg = config_load(&opts, &cause);
	ASSERT_NOT_NULL(cfg);
	fs = feature_resolve(cfg, NULL, 0, &cause);
	if (fs == NULL)
		fprintf(stderr, "%s\n", cause);
	ASSERT_NOT_NULL(fs);
	ASSERT_INT_EQ((int)fs->n, 4);
	for (size_t i = 0; i < 2; i++) {
		ASSERT_STR_EQ(fs->v[fs->order[i]].id, "./base");
		level = cJSON_GetObjectItemCaseSensitive(
		    fs->v[fs->order[i]].options, "level");
		ASSERT_STR_EQ(cJSON_GetStringValue(level), want[i]);
	}
	feature_set_free(fs);
	config_free(cfg);
	remove_tree(dir);
}

/* The set as read-configuration's featuresConfiguration: one feature set per
 * Feature, in install order, each local one's sourceInformation and its
 * devcontainer-feature.json with what the reference adds (a name when it
 * has none: its id as written). */
TEST(features_configuration_local)
{
	char dir[] = "/tmp/rdev-test-fconf.XXXXXX", path[512], *cause = NULL, *got;
	char want[512];
	struct config_load_opts opts = { 0 };
	struct feature_set *fs;
	struct config *cfg;
	const cJSON *set, *src, *feat;
	cJSON *out;
	int k = 0;
	pid_t pid;

	ASSERT_NOT_NULL(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/.devcontainer", dir);
	ASSERT_INT_EQ(mkdir(path, 0700), 0);
	snprintf(path, sizeof path, "%s/.devcontainer/devcontainer.json", dir);
	test_write_file(NULL, path,
	    "{\"image\":\"alpine\",\"features\":{\"./a\":{\"v\":true},\"./b\":{}}}");
	for (const char *n = "ab"; *n != '\0'; n++) {
		snprintf(path, sizeof path, "%s/.devcontainer/%c", dir, *n);
		ASSERT_INT_EQ(mkdir(path, 0700), 0);
		snprintf(path, sizeof path, "%s/.devcontainer/%c/install.sh", dir, *n);
		test_write_file(NULL, path, "#!/bin/sh\n");
		snprintf(path, sizeof path,
		    "%s/.devcontainer/%c/devcontainer-feature.json", dir, *n);
		test_write_file(NULL, path,
		    *n == 'a' ? "{\"id\":\"a\",\"version\":\"1.0.0\",\"options\":"
				"{\"v\":{\"type\":\"boolean\",\"default\":false}}}"
			      : "{\"id\":\"b\",\"version\":\"2.0.0\",\"name\":\"B\"}");
	}
	snprintf(path, sizeof path, "%s/state", dir);
	setenv("RDEV_STATE_DIR", path, 1);
	opts.workspace_folder = dir;
	cfg = config_load(&opts, &cause);
	ASSERT_NOT_NULL(cfg);
	fs = feature_resolve(cfg, NULL, 1, &cause);
	ASSERT_NOT_NULL(fs);
	out = feature_config_json(fs, "/w/x/../.devcontainer/devcontainer.json");
	ASSERT_NOT_NULL(out);
	ASSERT_INT_EQ(cJSON_GetArraySize(cJSON_GetObjectItem(out, "featureSets")), 2);
	cJSON_ArrayForEach(set, cJSON_GetObjectItem(out, "featureSets")) {
		const struct feature *f = &fs->v[fs->order[k]];

		TEST_CASE_NAME("%s", f->id);
		src = cJSON_GetObjectItem(set, "sourceInformation");
		ASSERT_STR_EQ(
		    cJSON_GetStringValue(cJSON_GetObjectItem(src, "type")), "file-path");
		ASSERT_STR_EQ(
		    cJSON_GetStringValue(cJSON_GetObjectItem(src, "userFeatureId")),
		    f->id);
		/* (joined as Node's path.join, not the real path) */
		snprintf(want, sizeof want, "/w/.devcontainer/%s", f->id + 2);
		ASSERT_STR_EQ(
		    cJSON_GetStringValue(cJSON_GetObjectItem(src, "resolvedFilePath")),
		    want);
		ASSERT_STR_EQ(
		    cJSON_GetStringValue(cJSON_GetObjectItem(set, "internalVersion")),
		    "2");
		ASSERT_NULL(cJSON_GetObjectItem(set, "computedDigest"));
		ASSERT_INT_EQ(
		    cJSON_GetArraySize(cJSON_GetObjectItem(set, "features")), 1);
		feat = cJSON_GetArrayItem(cJSON_GetObjectItem(set, "features"), 0);
		/* (devcontainer-feature.json's keys replace the first ones) */
		got = cJSON_PrintUnformatted(feat);
		if (strcmp(f->id, "./a") == 0)
			snprintf(want, sizeof want,
			    "{\"name\":\"./a\",\"value\":{\"v\":true},\"included\":true,"
			    "\"id\":\"a\",\"version\":\"1.0.0\",\"options\":{\"v\":"
			    "{\"type\":\"boolean\",\"default\":false}},"
			    "\"consecutiveId\":\"a_%d\"}",
			    k);
		else
			snprintf(want, sizeof want,
			    "{\"value\":{},\"included\":true,\"id\":\"b\",\"version\":"
			    "\"2.0.0\",\"name\":\"B\",\"consecutiveId\":\"b_%d\"}",
			    k);
		ASSERT_STR_EQ(got, want);
		free(got);
		k++;
	}
	cJSON_Delete(out);
	feature_set_free(fs);
	config_free(cfg);
	if ((pid = fork()) == 0) {
		execlp("rm", "rm", "-rf", dir, (char *)NULL);
		_exit(127);
	}
	waitpid(pid, NULL, 0);
}

/* A config file and a local Feature id, and Node's
 * path.join(path.dirname(config), id) of them (node -e, v20). */
static const struct local_path_case {
	const char *name, *config, *id, *want;
} local_path_cases[] = {
	{ "plain", "/w/.devcontainer/devcontainer.json", "./a", "/w/.devcontainer/a" },
	{ "trailing_slash", "/w/.devcontainer/devcontainer.json", "./a/",
	    "/w/.devcontainer/a/" },
	{ "dotdot", "/w/x/../.devcontainer/d.json", "./a/../b", "/w/.devcontainer/b" },
	{ "above_root", "/d.json", "../../a", "/a" },
	{ "root_only", "/d.json", "..", "/" },
	{ "root_trailing", "/d.json", "../", "/" },
	{ "relative_config", ".devcontainer/d.json", "./a", ".devcontainer/a" },
	{ "relative_bare", "d.json", "./a", "a" },
	{ "relative_up", "d.json", "../a", "../a" },
	{ "relative_up_twice", "x/d.json", "../../a/./b", "../a/b" },
	{ "relative_up_kept", "d.json", "../../a", "../../a" },
	{ "relative_dot", "d.json", ".", "." },
	{ "relative_dot_slash", "d.json", "./", "./" },
	{ "double_slashes", "/w//.devcontainer//d.json", "a//b", "/w/.devcontainer/a/b" },
	{ "dots_in_names", "/w/d.json", "a../..b/...", "/w/a../..b/..." },
	{ "config_trailing_slash", "/w/dir/", "a", "/w/a" },
};

static void
local_path_check(const void *arg)
{
	const struct local_path_case *c = arg;
	char *got = feature_config_local_path(c->config, c->id);

	ASSERT_STR_EQ(got, c->want);
	free(got);
}
TEST_CASES(local_path_check, local_path_cases)
