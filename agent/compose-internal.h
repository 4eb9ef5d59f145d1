/* compose-internal.h - what the files of agent/compose.c's job share:
 * compose.c (the CLI, the build and `up`: compose.h) and compose-files.c
 * (the compose files, `compose config` and the project name).
 *
 * Ownership: a struct compose borrows cfg, d, opts, features and p from
 * its caller (compose_open) and owns the rest (compose_clear frees it). */
#ifndef RDEV_COMPOSE_INTERNAL_H
#define RDEV_COMPOSE_INTERNAL_H

#include <cjson/cJSON.h>

struct config;
struct docker;
struct feature_set;
struct progress;
struct up_opts;

/* An argv under construction. */
struct compose_argv {
	char **v;
	size_t n;
};

/* Everything one compose_up() works with. */
struct compose {
	const struct config *cfg;
	struct docker *d;
	const struct up_opts *opts;
	/* To install on a new container's image (n 0: none); NULL for
	 * compose_build_image(), whose caller installs them. */
	const struct feature_set *features;
	const struct progress *p;
	int v2;	       /* `docker compose` rather than docker-compose */
	char *version; /* "1.29.2" */
	/* The state folder whose compose-cli.json gave v2 and version (NULL:
	 * asked of the CLIs): a compose command that fails forgets it. */
	char *cli_remembered_in;
	int ver[3];
	char **files;	/* absolute compose files, NULL-terminated */
	char *env_file; /* --env-file, or NULL */
	cJSON *config;	/* `compose config`, parsed */
	const cJSON *service_config;
	const char *service;
	char *project;
	/* What made project ("the top-level `name:` in FILE", ...) and how to
	 * give the workspace another ("change that `name:` ..."), for
	 * messages; set with it. */
	char *project_from, *project_fix;
	char *override;	      /* path of our override file, once written */
	char *build_override; /* the build's (--cache-from), or NULL */
	char **lock_text;     /* compose_up()'s (borrowed), or NULL */
	/* The project's containers when compose_up() began, found its own
	 * (borrowed), or NULL: checked again after the build, they are
	 * left out (the dev container a --rebuild has removed by then named
	 * the services it made as this workspace's). */
	const cJSON *checked;
};

/* compose.c */
void compose_argv_add(struct compose_argv *a, const char *s);
void compose_argv_free(struct compose_argv *a);
/* "docker compose" or "docker-compose", for messages. */
const char *compose_cmd_name(const struct compose *c);
/* Run argv; stream: show its output as progress. *out (may be NULL) gets
 * stdout. A non-zero exit is an error with the output's tail. */
int compose_run(struct compose *c, const struct compose_argv *a, const char *what,
    int stream, char **out, char **cause);
/* Is the Compose found older than major.minor.patch? */
int compose_version_before(const struct compose *c, int major, int minor, int patch);
/* The start of every compose command line: the CLI, with the project
 * (project) and the files, and the override file (override). */
void compose_argv_base(
    const struct compose *c, struct compose_argv *a, int project, int override);

/* compose-files.c */
/* c->files (and c->env_file) as the reference's getDockerComposeFilePaths
 * finds them. 0, or -1 with *cause naming what is missing. */
int compose_files_find(struct compose *c, char **cause);
/* c->config and c->service_config: `compose config`, parsed. */
int compose_files_read_config(struct compose *c, char **cause);
/* A compose file's top-level string key ("name", "version"), or NULL. New
 * string. */
char *compose_files_key(const char *path, const char *key);
/* c->project: the project name (compose_naming_project()). */
int compose_files_project(struct compose *c, char **cause);

#endif
