/* oci-cred-find.c - oci_cred_lookup() on this machine (oci.h): this
 * process's environment, Docker's config.json, and credential helpers run
 * from PATH (`docker-credential-NAME get`, the registry on stdin, no shell,
 * a time limit; what they print is wiped). */
#include "oci.h"
#include "path-which.h"

#include <errno.h>
#include <pwd.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic-file.h"
#include "log.h"
#include "spawn.h"
#include "xmalloc.h"

/* The helper's answer is one small JSON object. */
#define OCI_CRED_HELPER_MAX (64u << 10)

/* Run `docker-credential-<name> get` for registry (oci_cred_sources.helper):
 * 1 with *out, 0 (not installed, nothing stored) or -1 (failed) with *why. */
static int
oci_cred_find_helper(
    void *arg, const char *name, const char *registry, struct oci_cred *out, char **why)
{
	char *prog = xasprintf("docker-credential-%s", name), *path, *cause = NULL;
	const char *argv[3] = { NULL, "get", NULL };
	struct spawn_opts o = { 0 };
	struct spawn_result res;
	int rc = -1;

	(void)arg;
	if ((path = path_which(prog)) == NULL) {
		*why = xstrdup("is not installed (not on PATH)");
		log_debug("registry %s: %s is not installed: going on without it",
		    registry, prog);
		free(prog);
		return 0;
	}
	argv[0] = path;
	o.stdin_data = registry;
	o.stdin_len = strlen(registry);
	o.max_output = OCI_CRED_HELPER_MAX;
	o.timeout_ms = OCI_CRED_HELPER_TIMEOUT_MS;
	o.secret_output = 1;
	if (spawn_run(argv, &o, &res, &cause) != 0) {
		*why = xasprintf("failed for %s: %s", registry, cause);
		free(cause);
		goto out;
	}
	if (res.timed_out || !res.exited || res.exit_code != 0) {
		char *how = spawn_result_describe(&res), *tail;

		/* Docker's helpers say so on stdout when nothing is stored for
		 * the registry (credentials.errCredentialsNotFoundMessage). */
		if (res.exited && strstr(res.out, "credentials not found") != NULL) {
			*why = xasprintf("has no credentials for %s", registry);
			rc = 0;
		} else {
			/* stderr only: stdout may hold half a secret */
			tail = res.err_len > 0 ? spawn_result_tail(&res, 3) : NULL;
			*why = xasprintf("failed for %s: %s%s%s", registry, how,
			    tail != NULL ? ": " : "", tail != NULL ? tail : "");
			free(tail);
		}
		free(how);
	} else {
		rc = oci_cred_helper_parse(res.out, res.out_len, out, &cause);
		if (rc == 0)
			*why = xasprintf("has no credentials for %s", registry);
		else if (rc < 0) {
			*why = xasprintf("failed for %s: %s", registry, cause);
			free(cause);
		}
	}
	sodium_memzero(res.out, res.out_len);
	sodium_memzero(res.err, res.err_len);
	spawn_result_free(&res);
out:
	if (rc < 0)
		log_warn("%s %s", prog, *why);
	free(path);
	free(prog);
	return rc;
}

/* Docker's config.json: $DOCKER_CONFIG/config.json, else
 * ~/.docker/config.json. New string. */
static char *
oci_cred_config_path(void)
{
	const char *dir = getenv("DOCKER_CONFIG"), *home = getenv("HOME");
	struct passwd *pw;

	if (dir != NULL && dir[0] != '\0')
		return xasprintf("%s/config.json", dir);
	if ((home == NULL || home[0] == '\0') && (pw = getpwuid(getuid())) != NULL)
		home = pw->pw_dir;
	return xasprintf("%s/.docker/config.json", home != NULL ? home : "");
}

void
oci_cred_find(const char *config_path, const char *registry, struct oci_cred *out)
{
	struct oci_cred_sources s = { 0 };
	char *path = config_path != NULL ? xstrdup(config_path) : oci_cred_config_path();
	char *text = NULL, *err = NULL, *pass;
	struct stat st;
	size_t len = 0;

	s.oci_auth = getenv("DEVCONTAINERS_OCI_AUTH");
	s.config_path = path;
	if (stat(path, &st) != 0 && errno == ENOENT)
		; /* none: config_text and config_error stay NULL */
	else if (file_read_all(path, 1u << 20, &text, &len, &err) == 0)
		s.config_text = text;
	else
		s.config_error = err;
	s.github_token = getenv("GITHUB_TOKEN");
	s.github_host = getenv("GITHUB_HOST");
	if ((pass = path_which("pass")) != NULL)
		s.pass_on_path = 1;
	free(pass);
	s.helper = oci_cred_find_helper;
	oci_cred_lookup(&s, registry, out);
	if (out->kind != OCI_CRED_NONE)
		log_debug("registry %s: credentials from %s", registry, out->where);
	else
		log_debug(
		    "registry %s: no credentials (%s): anonymous", registry, out->where);
	if (text != NULL) {
		sodium_memzero(text, len);
		free(text);
	}
	free(err);
	free(path);
}
