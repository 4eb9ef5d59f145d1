/* compose-naming.h - the Compose project name of a dev container, as the
 * reference CLI (@devcontainers/cli 0.89.0, dockerCompose.ts,
 * getProjectName and toProjectName) makes it.
 *
 * Pure: no I/O, no globals.
 */
#ifndef RDEV_COMPOSE_NAMING_H
#define RDEV_COMPOSE_NAMING_H

/* A project name as the reference's toProjectName() makes it: lowercased,
 * then only [a-z0-9_-] kept (new_style: docker-compose >= 1.21 and v2) or
 * [a-z0-9] (older). New string, caller frees (may be ""). */
char *compose_naming_normalize(const char *name, int new_style);

/* What the project name is derived from, in the reference's order. */
struct compose_naming_input {
	const char *env_name;	  /* $COMPOSE_PROJECT_NAME or NULL */
	const char *dotenv_text;  /* text of the .env file or NULL */
	const char *config_name;  /* "name" of `compose config` (v2) or NULL */
	int name_in_files;	  /* 1 if a compose file sets a top-level name */
	const char *first_file;	  /* absolute path of the first compose file */
	const char *local_folder; /* the workspace folder on this host */
	int new_style;		  /* see compose_naming_normalize */
};

/* Where a project name came from (compose_naming_project()'s *from). */
enum compose_naming_source {
	COMPOSE_NAMING_ENV,	  /* $COMPOSE_PROJECT_NAME */
	COMPOSE_NAMING_DOTENV,	  /* COMPOSE_PROJECT_NAME= in the .env */
	COMPOSE_NAMING_CONFIG,	  /* the configuration's name */
	COMPOSE_NAMING_WORKSPACE, /* the workspace folder's name */
	COMPOSE_NAMING_DIR,	  /* the first compose file's folder's name */
};

/* The value of the first COMPOSE_PROJECT_NAME= line of a .env text,
 * trimmed: new string, or NULL when there is none. */
char *compose_naming_dotenv(const char *text);

/* The project name (the reference's getProjectName): $COMPOSE_PROJECT_NAME,
 * else COMPOSE_PROJECT_NAME= in .env, else the configuration's name unless
 * it is Compose's default "devcontainer" not set in a file, else
 * "<workspace basename>_devcontainer" when the first compose file is in the
 * workspace's .devcontainer folder, else the basename of the first compose
 * file's folder; each normalized. New string, caller frees; "" when nothing
 * usable is left. *from (may be NULL) says which of them it is. */
char *compose_naming_project(
    const struct compose_naming_input *in, enum compose_naming_source *from);

#endif
