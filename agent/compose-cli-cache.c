/* compose-cli-cache.c - the Compose CLI's kind and version, remembered
 * under a key of the files and settings that decide them. */
#include "compose-cli-cache.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic-file.h"
#include "buf.h"
#include "log.h"
#include "path-which.h"
#include "xmalloc.h"

#define COMPOSE_CLI_CACHE_MAX 65536

/* Where the docker CLI takes plugins from besides the user's config folder
 * (docker/cli's cli-plugins manager, Unix). */
static const char *const system_plugin_dirs[] = {
	"/usr/local/lib/docker/cli-plugins",
	"/usr/local/libexec/docker/cli-plugins",
	"/usr/lib/docker/cli-plugins",
	"/usr/libexec/docker/cli-plugins",
};

/* "path=dev:ino:size:mtime:ctime;" for path (stat follows symlinks, so a
 * link moved to another version changes it), or "path=-;" when absent. */
static void
key_add_file(struct buf *key, const char *path)
{
	struct stat st;

	if (stat(path, &st) != 0) {
		buf_appendf(key, "%s=-;", path);
		return;
	}
	buf_appendf(key, "%s=%llu:%llu:%lld:%lld.%09ld:%lld.%09ld;", path,
	    (unsigned long long)st.st_dev, (unsigned long long)st.st_ino,
	    (long long)st.st_size, (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec,
	    (long long)st.st_ctim.tv_sec, st.st_ctim.tv_nsec);
}

/* The program name as found on PATH (path_which), added as a file;
 * "name=-;" when there is none. */
static void
key_add_command(struct buf *key, const char *name)
{
	char *path = path_which(name);

	if (path != NULL)
		key_add_file(key, path);
	else
		buf_appendf(key, "%s=-;", name);
	free(path);
}

/* Docker's config folder: $DOCKER_CONFIG, else ~/.docker (HOME, else the
 * account's home, as the docker CLI finds it). New string. */
static char *
docker_config_dir(void)
{
	const char *config = getenv("DOCKER_CONFIG"), *home = getenv("HOME");
	struct passwd *pw;

	if (config != NULL && *config != '\0')
		return xstrdup(config);
	if ((home == NULL || *home == '\0') && (pw = getpwuid(getuid())) != NULL)
		home = pw->pw_dir;
	return xasprintf("%s/.docker", home != NULL ? home : "");
}

/* config.json's own identity, and docker-compose in each folder its
 * "cliPluginsExtraDirs" names (the docker CLI looks there first). */
static void
key_add_config(struct buf *key, const char *config_json)
{
	char *data = NULL, *cause = NULL, *s;
	const cJSON *dirs, *d;
	cJSON *root;
	size_t len;

	key_add_file(key, config_json);
	if (file_read_all(config_json, COMPOSE_CLI_CACHE_MAX * 16, &data, &len, &cause) !=
	    0) {
		free(cause);
		return;
	}
	root = cJSON_ParseWithLength(data, len);
	free(data);
	dirs = cJSON_GetObjectItemCaseSensitive(root, "cliPluginsExtraDirs");
	if (cJSON_IsArray(dirs)) {
		cJSON_ArrayForEach(d, dirs) {
			if (!cJSON_IsString(d))
				continue;
			s = xasprintf("%s/docker-compose", d->valuestring);
			key_add_file(key, s);
			free(s);
		}
	}
	cJSON_Delete(root);
}

char *
compose_cli_key(void)
{
	const char *path_env = getenv("PATH"), *config = getenv("DOCKER_CONFIG");
	struct buf *key = buf_new();
	char *dir, *s;
	size_t i;

	if (path_env == NULL)
		path_env = "/usr/local/bin:/usr/bin:/bin";
	buf_appendf(
	    key, "PATH=%s;DOCKER_CONFIG=%s;", path_env, config != NULL ? config : "-");
	key_add_command(key, "docker");
	key_add_command(key, "docker-compose");
	dir = docker_config_dir();
	s = xasprintf("%s/config.json", dir);
	key_add_config(key, s);
	free(s);
	s = xasprintf("%s/cli-plugins/docker-compose", dir);
	key_add_file(key, s);
	free(s);
	free(dir);
	for (i = 0; i < sizeof system_plugin_dirs / sizeof *system_plugin_dirs; i++) {
		s = xasprintf("%s/docker-compose", system_plugin_dirs[i]);
		key_add_file(key, s);
		free(s);
	}
	s = buf_take_string(key, NULL);
	buf_free(key);
	return s;
}

static char *
cache_path(const char *state_dir)
{
	return xasprintf("%s/compose-cli.json", state_dir);
}

int
compose_cli_cache_get(const char *state_dir, const char *key, int *v2, char **version)
{
	char *path = cache_path(state_dir), *data = NULL, *cause = NULL;
	const cJSON *k, *kind, *ver;
	size_t len;
	cJSON *root;
	int rc = -1;

	*version = NULL;
	if (file_read_all(path, COMPOSE_CLI_CACHE_MAX, &data, &len, &cause) != 0) {
		free(cause);
		free(path);
		return -1;
	}
	free(path);
	root = cJSON_ParseWithLength(data, len);
	free(data);
	if (root == NULL)
		return -1;
	k = cJSON_GetObjectItemCaseSensitive(root, "key");
	kind = cJSON_GetObjectItemCaseSensitive(root, "v2");
	ver = cJSON_GetObjectItemCaseSensitive(root, "version");
	if (cJSON_IsString(k) && strcmp(k->valuestring, key) == 0 && cJSON_IsBool(kind) &&
	    cJSON_IsString(ver) && *ver->valuestring != '\0') {
		*v2 = cJSON_IsTrue(kind);
		*version = xstrdup(ver->valuestring);
		rc = 0;
	}
	cJSON_Delete(root);
	return rc;
}

int
compose_cli_cache_put(
    const char *state_dir, const char *key, int v2, const char *version, char **cause)
{
	cJSON *root = cJSON_CreateObject();
	char *text, *path;
	int rc;

	cJSON_AddStringToObject(root, "key", key);
	cJSON_AddBoolToObject(root, "v2", v2);
	cJSON_AddStringToObject(root, "version", version);
	if ((text = cJSON_PrintUnformatted(root)) == NULL)
		fatal("cJSON_Print: out of memory");
	cJSON_Delete(root);
	path = cache_path(state_dir);
	rc = atomic_file_write(path, text, strlen(text), 0600, cause);
	free(path);
	free(text);
	return rc;
}

void
compose_cli_cache_forget(const char *state_dir)
{
	char *path = cache_path(state_dir);

	if (unlink(path) != 0 && errno != ENOENT)
		log_warn("%s: %s (remove it: it may name a Compose CLI that is gone)",
		    path, strerror(errno));
	free(path);
}
