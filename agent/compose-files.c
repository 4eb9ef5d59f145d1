/* compose-files.c - a Compose workspace's files: which compose files and
 * env file, `compose config` parsed, a file's top-level keys and the
 * project name (compose-internal.h). */
#include "compose-internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic-file.h"
#include "compose-naming.h"
#include "compose-yaml.h"
#include "config.h"
#include "error.h"
#include "xmalloc.h"

/* base joined with rel (absolute rel as is), with "." and ".." removed
 * lexically, as path.resolve() does. New string. */
static char *
compose_files_resolve(const char *base, const char *rel)
{
	char *joined = rel[0] == '/' ? xstrdup(rel) : xasprintf("%s/%s", base, rel);
	char *out = xmalloc(strlen(joined) + 2), *save = NULL, *part;
	size_t len = 0;

	out[0] = '\0';
	for (part = strtok_r(joined, "/", &save); part != NULL;
	     part = strtok_r(NULL, "/", &save)) {
		if (strcmp(part, ".") == 0)
			continue;
		if (strcmp(part, "..") == 0) {
			while (len > 0 && out[len - 1] != '/')
				len--;
			if (len > 0)
				len--;
			out[len] = '\0';
			continue;
		}
		len += (size_t)sprintf(out + len, "/%s", part);
	}
	if (len == 0)
		strcpy(out, "/");
	free(joined);
	return out;
}

static char *
compose_files_read_optional(const char *path)
{
	char *data = NULL, *ignore = NULL;
	size_t len;
	struct stat st;

	if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
		return NULL;
	if (file_read_all(path, 1 << 20, &data, &len, &ignore) != 0) {
		free(ignore);
		return NULL;
	}
	return data;
}

/* Split a ':'-separated COMPOSE_FILE list into resolved paths. */
static char **
compose_files_split(const char *list, const char *base)
{
	char *copy = xstrdup(list), *save = NULL, *f, **out = NULL;
	size_t n = 0;

	for (f = strtok_r(copy, ":", &save); f != NULL; f = strtok_r(NULL, ":", &save)) {
		out = xreallocarray(out, n + 2, sizeof *out);
		out[n++] = compose_files_resolve(base, f);
		out[n] = NULL;
	}
	free(copy);
	return out;
}

/* The compose files (the reference's getDockerComposeFilePaths):
 * dockerComposeFile relative to the devcontainer.json's folder; if it is an
 * empty list, $COMPOSE_FILE, COMPOSE_FILE= in .env, or docker-compose.yml
 * (+ docker-compose.override.yml) in the workspace folder, which stands in
 * for the reference's working directory. */
int
compose_files_find(struct compose *c, char **cause)
{
	const cJSON *dcf = cJSON_GetObjectItemCaseSensitive(
			config_get_object(c->cfg), "dockerComposeFile"),
		    *e;
	const char *local = config_get_local_folder(c->cfg), *env;
	char *dir = xstrdup(config_get_file(c->cfg)), *text, *dotenv, *v, *path;
	size_t n = 0;

	*strrchr(dir, '/') = '\0';
	if (cJSON_IsString(dcf)) {
		c->files = xcalloc(2, sizeof *c->files);
		c->files[0] = compose_files_resolve(dir, dcf->valuestring);
	} else if (cJSON_IsArray(dcf) && cJSON_GetArraySize(dcf) > 0) {
		c->files = xcalloc((size_t)cJSON_GetArraySize(dcf) + 1, sizeof *c->files);
		cJSON_ArrayForEach(e, dcf) {
			if (cJSON_IsString(e))
				c->files[n++] =
				    compose_files_resolve(dir, e->valuestring);
		}
	}
	free(dir);
	if (c->files != NULL && c->files[0] != NULL)
		return 0;
	xstrv_free(c->files);
	c->files = NULL;
	if (!cJSON_IsArray(dcf))
		return error_set(cause,
		    "%s: \"dockerComposeFile\" is required for a Compose "
		    "configuration",
		    config_get_file(c->cfg));

	dotenv = xasprintf("%s/.env", local);
	text = compose_files_read_optional(dotenv);
	if (text != NULL)
		c->env_file = xstrdup(dotenv);
	free(dotenv);
	if ((env = getenv("COMPOSE_FILE")) != NULL && *env != '\0')
		c->files = compose_files_split(env, local);
	else if (text != NULL) {
		for (char *line = text; line != NULL && c->files == NULL;
		     line = strchr(line, '\n') != NULL ? strchr(line, '\n') + 1 : NULL) {
			if (strncmp(line, "COMPOSE_FILE=", 13) != 0)
				continue;
			v = xstrndup(line + 13, strcspn(line + 13, "\r\n"));
			if (*v != '\0')
				c->files = compose_files_split(v, local);
			free(v);
		}
	}
	free(text);
	if (c->files == NULL) {
		c->files = xcalloc(3, sizeof *c->files);
		c->files[0] = xasprintf("%s/docker-compose.yml", local);
		path = xasprintf("%s/docker-compose.override.yml", local);
		if ((text = compose_files_read_optional(path)) != NULL) {
			c->files[1] = path;
			free(text);
		} else
			free(path);
	}
	return 0;
}

/* `compose config`, parsed: JSON from v2, YAML from v1. */
int
compose_files_read_config(struct compose *c, char **cause)
{
	struct compose_argv a = { 0 };
	const cJSON *services;
	char *out = NULL;
	int rc = -1;

	compose_argv_base(c, &a, 0, 0);
	if (c->v2) {
		compose_argv_add(&a, "--profile");
		compose_argv_add(&a, "*");
	}
	compose_argv_add(&a, "config");
	if (c->v2) {
		compose_argv_add(&a, "--format");
		compose_argv_add(&a, "json");
	}
	if (compose_run(c, &a, "config", 0, &out, cause) != 0)
		goto done;
	c->config = c->v2 ? cJSON_Parse(out)
			  : compose_yaml_parse("`docker-compose config` output", out,
				strlen(out), cause);
	if (c->config == NULL) {
		if (c->v2)
			error_set(
			    cause, "cannot parse the output of `docker compose config`");
		goto done;
	}
	services = cJSON_GetObjectItemCaseSensitive(c->config, "services");
	c->service_config = cJSON_GetObjectItemCaseSensitive(services, c->service);
	if (!cJSON_IsObject(c->service_config)) {
		error_set(cause,
		    "%s: service \"%s\" (\"service\" in devcontainer.json) is not "
		    "in the Docker Compose configuration (%s)",
		    config_get_file(c->cfg), c->service, c->files[0]);
		goto done;
	}
	rc = 0;
done:
	free(out);
	compose_argv_free(&a);
	return rc;
}

/* A compose file's top-level string (its "name" or "version"), or NULL when
 * it has none or cannot be read or parsed (then `compose config` has
 * already said what is wrong with it). New string. */
char *
compose_files_key(const char *path, const char *key)
{
	char *text = compose_files_read_optional(path), *ignore = NULL, *out = NULL;
	cJSON *tree;
	const cJSON *v;

	if (text == NULL)
		return NULL;
	if ((tree = compose_yaml_parse(path, text, strlen(text), &ignore)) == NULL)
		free(ignore);
	v = cJSON_GetObjectItemCaseSensitive(tree, key);
	if (cJSON_IsString(v) && *v->valuestring != '\0')
		out = xstrdup(v->valuestring);
	cJSON_Delete(tree);
	free(text);
	return out;
}

/* c->project_from and c->project_fix for a name from (dotenv: the
 * workspace folder's .env): the file that set it when a file did (the .env
 * Compose reads beside the first compose file, whose COMPOSE_PROJECT_NAME
 * comes before any `name:`, else the last compose file with a top-level
 * name:), else the folder whose name it is. */
static void
compose_files_project_source(
    struct compose *c, enum compose_naming_source from, const char *dotenv)
{
	const char *folder = config_get_local_folder(c->cfg);
	char *dir = xstrdup(c->files[0]), *slash = strrchr(dir, '/'), *file = NULL;
	char *text, *v = NULL;
	size_t n = 0;

	if (slash != NULL)
		*(slash == dir ? slash + 1 : slash) = '\0';
	if (from == COMPOSE_NAMING_CONFIG) {
		/* (Compose's own: COMPOSE_PROJECT_NAME in the .env it reads
		 * beside the first compose file comes before any `name:`) */
		file = xasprintf("%s%s.env", dir, strcmp(dir, "/") == 0 ? "" : "/");
		text = compose_files_read_optional(file);
		v = text != NULL ? compose_naming_dotenv(text) : NULL;
		free(text);
		if (v != NULL && *v != '\0') {
			c->project_from = xasprintf("COMPOSE_PROJECT_NAME in %s", file);
			c->project_fix = xasprintf("change it there, or set "
						   "COMPOSE_PROJECT_NAME in %s, which "
						   "comes first",
			    dotenv);
			free(v);
			free(file);
			free(dir);
			return;
		}
		free(v);
		free(file);
		file = NULL;
		while (c->files[n] != NULL)
			n++;
		for (; n > 0 && file == NULL; n--)
			if ((v = compose_files_key(c->files[n - 1], "name")) != NULL) {
				file = xstrdup(c->files[n - 1]);
				free(v);
			}
		if (file != NULL) {
			c->project_from = xasprintf("the top-level `name:` in %s", file);
			c->project_fix = xasprintf("change that `name:`, or set "
						   "COMPOSE_PROJECT_NAME in %s, which "
						   "comes first",
			    dotenv);
			free(file);
			free(dir);
			return;
		}
		/* (else Compose made it from its folder's name) */
		from = COMPOSE_NAMING_DIR;
	}
	switch (from) {
	case COMPOSE_NAMING_ENV:
		c->project_from = xstrdup("COMPOSE_PROJECT_NAME in the environment "
					  "of rdev-agent on this host");
		c->project_fix = xstrdup("unset or change it there");
		break;
	case COMPOSE_NAMING_DOTENV:
		c->project_from = xasprintf("COMPOSE_PROJECT_NAME in %s", dotenv);
		c->project_fix = xstrdup("change it there");
		break;
	case COMPOSE_NAMING_WORKSPACE:
	case COMPOSE_NAMING_DIR:
	default:
		c->project_from = xasprintf(
		    "the name of %s %s (another folder of that name gives the same one)",
		    from == COMPOSE_NAMING_WORKSPACE ? "the workspace folder"
						     : "the folder of its compose files",
		    from == COMPOSE_NAMING_WORKSPACE ? folder : dir);
		/* (Compose v1 refuses a top-level `name:`: the file would
		 * not load) */
		c->project_fix = xasprintf("%sCOMPOSE_PROJECT_NAME in %s, or rename "
					   "the folder",
		    compose_version_before(c, 2, 0, 0)
			? ""
			: "a top-level `name:` in its compose file, ",
		    dotenv);
		break;
	}
	free(dir);
}

/* The project name (compose_naming_project()). */
int
compose_files_project(struct compose *c, char **cause)
{
	enum compose_naming_source from;
	struct compose_naming_input in = { 0 };
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(c->config, "name");
	char *dotenv = xasprintf("%s/.env", config_get_local_folder(c->cfg));
	char *dotenv_text = compose_files_read_optional(dotenv), *n;
	size_t nfiles = 0;

	in.env_name = getenv("COMPOSE_PROJECT_NAME");
	in.dotenv_text = dotenv_text;
	in.config_name = cJSON_IsString(name) ? name->valuestring : NULL;
	if (in.config_name != NULL && strcmp(in.config_name, "devcontainer") == 0) {
		while (c->files[nfiles] != NULL)
			nfiles++;
		for (size_t i = nfiles; i > 0 && !in.name_in_files; i--) {
			n = compose_files_key(c->files[i - 1], "name");
			in.name_in_files = n != NULL;
			free(n);
		}
	}
	in.first_file = c->files[0];
	in.local_folder = config_get_local_folder(c->cfg);
	in.new_style = !compose_version_before(c, 1, 21, 0);
	c->project = compose_naming_project(&in, &from);
	compose_files_project_source(c, from, dotenv);
	free(dotenv_text);
	free(dotenv);
	if (*c->project == '\0')
		return error_set(cause,
		    "no Docker Compose project name can be made from the "
		    "folder of %s; set COMPOSE_PROJECT_NAME",
		    c->files[0]);
	return 0;
}
