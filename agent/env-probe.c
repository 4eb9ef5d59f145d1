/* env-probe.c - probe the remote user's environment; apply remoteEnv. */
#include "env-probe.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sodium.h>

#include "atomic-file.h"
#include "buf.h"
#include "config-subst.h"
#include "config-validate.h"
#include "docker.h"
#include "error.h"
#include "log.h"
#include "xmalloc.h"

#define ENV_PROBE_CACHE_MAX (16u << 20)

/* ---- Environment arrays ---- */

void
env_free(char **env)
{
	xstrv_free(env);
}

char **
env_dup(char *const *env)
{
	size_t n = 0;
	char **out;

	while (env != NULL && env[n] != NULL)
		n++;
	out = xcalloc(n + 1, sizeof *out);
	for (size_t i = 0; i < n; i++)
		out[i] = xstrdup(env[i]);
	return out;
}

/* Length of the name part of "K=V" (the whole string if there is no '='). */
static size_t
env_name_len(const char *entry)
{
	const char *eq = strchr(entry, '=');

	return eq != NULL ? (size_t)(eq - entry) : strlen(entry);
}

static ssize_t
env_find(char *const *env, const char *name, size_t namelen)
{
	for (size_t i = 0; env != NULL && env[i] != NULL; i++) {
		if (env_name_len(env[i]) == namelen &&
		    strncmp(env[i], name, namelen) == 0)
			return (ssize_t)i;
	}
	return -1;
}

const char *
env_get(char *const *env, const char *name)
{
	ssize_t i = env_find(env, name, strlen(name));

	if (i < 0 || strchr(env[i], '=') == NULL)
		return NULL;
	return strchr(env[i], '=') + 1;
}

const char *
env_lookup(void *arg, const char *name)
{
	return env_get(arg, name);
}

/* Set (replace in place, or append) entry "K=V" in *env of *n entries; takes
 * ownership of entry. */
static void
env_put(char ***env, size_t *n, char *entry)
{
	ssize_t i = env_find(*env, entry, env_name_len(entry));

	if (i >= 0) {
		free((*env)[i]);
		(*env)[i] = entry;
		return;
	}
	*env = xreallocarray(*env, *n + 2, sizeof **env);
	(*env)[(*n)++] = entry;
	(*env)[*n] = NULL;
}

static void
env_remove(char **env, size_t *n, const char *name)
{
	ssize_t i = env_find(env, name, strlen(name));

	if (i < 0)
		return;
	free(env[i]);
	memmove(&env[i], &env[i + 1], (*n - (size_t)i) * sizeof *env);
	(*n)--;
}

static size_t
env_count(char *const *env)
{
	size_t n = 0;

	while (env != NULL && env[n] != NULL)
		n++;
	return n;
}

char **
env_from_json(const cJSON *array)
{
	char **env = xcalloc(1, sizeof *env);
	size_t n = 0;
	const cJSON *e;

	cJSON_ArrayForEach(e, array) {
		if (cJSON_IsString(e) && strchr(e->valuestring, '=') != NULL)
			env_put(&env, &n, xstrdup(e->valuestring));
	}
	return env;
}

/* ---- Pure helpers ---- */

char **
env_probe_parse(const char *out, size_t len, const char *mark, char sep)
{
	size_t marklen = strlen(mark), start, end, i, n = 0;
	const char *a, *b;
	char **env;

	a = memmem(out, len, mark, marklen);
	if (a == NULL)
		return NULL;
	start = (size_t)(a - out) + marklen;
	b = memmem(out + start, len - start, mark, marklen);
	if (b == NULL)
		return NULL;
	end = (size_t)(b - out);
	if (end == start)
		return NULL;
	env = xcalloc(1, sizeof *env);
	for (i = start; i < end;) {
		const char *e = memchr(out + i, sep, end - i);
		size_t elen = e != NULL ? (size_t)(e - (out + i)) : end - i;
		char *entry = xstrndup(out + i, elen);

		if (strchr(entry, '=') == NULL || strchr(entry, '=') == entry)
			free(entry);
		else
			env_put(&env, &n, entry);
		i += elen + 1;
	}
	env_remove(env, &n, "PWD");
	return env;
}

/* Is a PATH entry an sbin directory ("/sbin", "/usr/sbin/", ...)? */
static int
env_probe_is_sbin(const char *entry)
{
	const char *p = entry;

	while ((p = strstr(p, "/sbin")) != NULL) {
		if (p[5] == '\0' || p[5] == '/')
			return 1;
		p++;
	}
	return 0;
}

char *
env_probe_merge_paths(const char *shell_path, const char *container_path, int root)
{
	char **result = NULL, *copy, *entry;
	size_t n = 0, insert_at = 0, i;
	struct buf *b;

	copy = xstrdup(shell_path);
	/* split(':') keeps empty entries; strsep does too. */
	for (char *p = copy; (entry = strsep(&p, ":")) != NULL;) {
		result = xreallocarray(result, n + 1, sizeof *result);
		result[n++] = xstrdup(entry);
	}
	free(copy);
	copy = xstrdup(container_path);
	for (char *p = copy; (entry = strsep(&p, ":")) != NULL;) {
		for (i = 0; i < n; i++)
			if (strcmp(result[i], entry) == 0)
				break;
		if (i < n) {
			insert_at = i + 1;
			continue;
		}
		if (!root && env_probe_is_sbin(entry))
			continue;
		result = xreallocarray(result, n + 1, sizeof *result);
		memmove(&result[insert_at + 1], &result[insert_at],
		    (n - insert_at) * sizeof *result);
		result[insert_at++] = xstrdup(entry);
		n++;
	}
	free(copy);
	b = buf_new();
	for (i = 0; i < n; i++) {
		buf_appendf(b, "%s%s", i > 0 ? ":" : "", result[i]);
		free(result[i]);
	}
	free(result);
	entry = buf_take_string(b, NULL);
	buf_free(b);
	return entry;
}

char *
env_probe_passwd_shell(const char *passwd, const char *user)
{
	char *want, *colon, *copy, *line, *p, *result = NULL;

	if (passwd == NULL || user == NULL || *user == '\0')
		return NULL;
	want = xstrdup(user);
	if ((colon = strchr(want, ':')) != NULL)
		*colon = '\0';
	copy = xstrdup(passwd);
	for (p = copy; result == NULL && (line = strsep(&p, "\n")) != NULL;) {
		char *fields[7], *q = line;
		int nf;

		for (nf = 0; nf < 7 && q != NULL; nf++)
			fields[nf] = strsep(&q, ":");
		if (nf < 7)
			continue;
		fields[6][strcspn(fields[6], "\r")] = '\0';
		if (strcmp(fields[0], want) == 0 || strcmp(fields[2], want) == 0) {
			if (*fields[6] != '\0')
				result = xstrdup(fields[6]);
			break;
		}
	}
	free(copy);
	free(want);
	return result;
}

int
env_probe_shell_flag(const char *probe_kind, const char **flag)
{
	if (probe_kind == NULL || strcmp(probe_kind, "loginInteractiveShell") == 0)
		*flag = "-lic";
	else if (strcmp(probe_kind, "loginShell") == 0)
		*flag = "-lc";
	else if (strcmp(probe_kind, "interactiveShell") == 0)
		*flag = "-ic";
	else if (strcmp(probe_kind, "none") == 0)
		*flag = NULL;
	else
		return -1;
	return 0;
}

/* ---- The probe ---- */

/* Run the shell with flag and the probe command cmd; the environment found
 * between the markers, or NULL. */
/* The daemon's words when the exec's user is not in the container's
 * /etc/passwd (moby's "unable to find user %s: no matching entries in
 * passwd file"), which it gives as the exec's output, status 126. */
#define ENV_PROBE_NO_USER "unable to find user "

static char **
env_probe_exec(struct docker *d, const char *container, const char *user,
    const char *shell, const char *flag, const char *cmd, char sep, char **no_user)
{
	unsigned char rnd[16];
	char mark[64], *script, *out = NULL, *err = NULL, *cause = NULL, **env = NULL;
	const char *argv[4];
	struct docker_exec_opts opts;
	size_t out_len = 0;
	int status;

	randombytes_buf(rnd, sizeof rnd);
	memcpy(mark, "rdev-envprobe-", 14);
	sodium_bin2hex(mark + 14, sizeof mark - 14, rnd, sizeof rnd);
	script = xasprintf("printf '%%s' %s; %s; printf '%%s' %s", mark, cmd, mark);
	argv[0] = shell;
	argv[1] = flag;
	argv[2] = script;
	argv[3] = NULL;
	memset(&opts, 0, sizeof opts);
	opts.argv = argv;
	opts.user = user;
	if (docker_exec_capture_len(
		d, container, &opts, &out, &out_len, &err, NULL, &status, &cause) != 0) {
		log_debug("container %.12s: userEnvProbe %s %s: %s", container, shell,
		    flag, cause);
		free(cause);
	} else {
		env = env_probe_parse(out, out_len, mark, sep);
		if (env == NULL)
			log_debug(
			    "container %.12s: userEnvProbe %s %s: exit %d, no output",
			    container, shell, flag, status);
		if (env == NULL && status == 126 && no_user != NULL) {
			const char *say = err != NULL && strstr(err, ENV_PROBE_NO_USER)
			    ? err
			    : out != NULL && strstr(out, ENV_PROBE_NO_USER) ? out
									    : NULL;

			if (say != NULL) {
				say = strstr(say, ENV_PROBE_NO_USER);
				*no_user = xstrndup(say, strcspn(say, "\r\n"));
			}
		}
	}
	free(out);
	free(err);
	free(script);
	return env;
}

/* The user's login shell: SHELL from the container's env, else /etc/passwd,
 * else /bin/sh. Caller frees. */
static char *
env_probe_user_shell(
    struct docker *d, const char *container, const char *user, char *const *container_env)
{
	static const char *const argv[] = { "cat", "/etc/passwd", NULL };
	struct docker_exec_opts opts;
	char *out = NULL, *cause = NULL, *shell = NULL;
	const char *s;
	int status;

	if ((s = env_get(container_env, "SHELL")) != NULL && *s != '\0')
		return xstrdup(s);
	memset(&opts, 0, sizeof opts);
	opts.argv = argv;
	opts.user = "0";
	if (docker_exec_capture(d, container, &opts, &out, NULL, &status, &cause) != 0) {
		log_debug("container %.12s: reading /etc/passwd: %s", container, cause);
		free(cause);
	} else if (status == 0)
		shell = env_probe_passwd_shell(out, user);
	free(out);
	return shell != NULL ? shell : xstrdup("/bin/sh");
}

/* Is user (as docker exec takes it) root? */
static int
env_probe_is_root(const char *user)
{
	size_t n;

	if (user == NULL || *user == '\0')
		return 1;
	n = strcspn(user, ":");
	return (n == 4 && strncmp(user, "root", 4) == 0) || (n == 1 && user[0] == '0');
}

/* The reference's patchEtcEnvironment() and patchEtcProfile() as one script
 * (run as root): each once per container, behind the reference's own marker
 * files, so that a container either tool has set up is not patched again.
 * stdin is what goes to /etc/environment. Exits 0 when /etc/profile is
 * patched, now or before. */
static const char env_probe_patch_script[] =
    "m=/var/devcontainer\n"
    "mark() { test ! -f \"$m/$1\" && (set -o noclobber && mkdir -p \"$m\" && "
    "{ > \"$m/$1\"; } 2>/dev/null); }\n"
    "if mark .patchEtcEnvironmentMarker; then cat >> /etc/environment; fi\n"
    "if mark .patchEtcProfileMarker; then\n"
    "  sed -i -E 's/((^|\\s)PATH=)([^\\$]*)$/\\1${PATH:-\\3}/g' /etc/profile || true\n"
    "fi\n"
    "test -f \"$m/.patchEtcProfileMarker\"\n";

/* What the reference appends to /etc/environment: a line break, then
 * K="V" per variable, each after a line break of its own. Caller frees. */
static char *
env_probe_etc_environment(char *const *container_env)
{
	struct buf *b = buf_new();
	const char *eq;
	char *s;

	for (char *const *e = container_env; e != NULL && *e != NULL; e++) {
		eq = strchr(*e, '=');
		buf_appendf(b, "\n%.*s=\"%s\"", (int)(eq - *e), *e, eq + 1);
	}
	buf_append(b, "\n", 1);
	s = buf_take_string(b, NULL);
	buf_free(b);
	return s;
}

/* Make a login shell keep the container's PATH, as the reference's `up`
 * does before it probes: Debian's /etc/profile sets PATH outright (for users
 * other than root without the sbin folders, with the games ones); patched,
 * it sets PATH only when there is none. Returns whether /etc/profile is
 * patched; if it cannot be, the caller merges the PATHs instead. */
static int
env_probe_patch_system(
    struct docker *d, const char *container, char *const *container_env)
{
	const char *argv[] = { "/bin/sh", "-c", env_probe_patch_script, NULL };
	struct docker_exec_opts opts;
	char *input = env_probe_etc_environment(container_env), *cause = NULL;
	int status = -1;

	memset(&opts, 0, sizeof opts);
	opts.argv = argv;
	opts.user = "0";
	opts.stdin_data = input;
	opts.stdin_len = strlen(input);
	if (docker_exec_capture(d, container, &opts, NULL, NULL, &status, &cause) != 0) {
		log_debug("container %.12s: patching /etc/profile: %s", container, cause);
		free(cause);
	} else if (status != 0)
		log_debug("container %.12s: /etc/profile not patched (exit %d); "
			  "merging the PATHs instead",
		    container, status);
	free(input);
	return status == 0;
}

/* The probe against an inspected container. */
static int
env_probe_info(struct docker *d, const cJSON *info, const char *user,
    const char *probe_kind, char ***env_out, char **cause)
{
	const cJSON *config = cJSON_GetObjectItemCaseSensitive(info, "Config");
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(info, "Id");
	const cJSON *cuser = cJSON_GetObjectItemCaseSensitive(config, "User");
	const char *flag, *container, *shell_path, *container_path;
	char **container_env, **env, *shell, *no_user = NULL;
	int patched;

	*env_out = NULL;
	if (env_probe_shell_flag(probe_kind, &flag) != 0)
		return error_set(cause, "userEnvProbe: unknown value \"%s\"", probe_kind);
	if (!cJSON_IsString(id))
		return error_set(cause, "container inspect: no Id");
	container = id->valuestring;
	container_env = env_from_json(cJSON_GetObjectItemCaseSensitive(config, "Env"));
	patched = env_probe_patch_system(d, container, container_env);
	if (flag == NULL) {
		*env_out = container_env;
		return 0;
	}
	if ((user == NULL || *user == '\0') && cJSON_IsString(cuser) &&
	    *cuser->valuestring != '\0')
		user = cuser->valuestring;
	shell = env_probe_user_shell(
	    d, container, user != NULL ? user : "root", container_env);
	env = env_probe_exec(
	    d, container, user, shell, flag, "cat /proc/self/environ", '\0', &no_user);
	if (env == NULL && no_user != NULL) {
		/* Nothing can run as this user: every step and exec would fail
		 * so. The reference's up fails here too. */
		error_set(cause, "remoteUser \"%s\": %s (the image has no such user)",
		    user, no_user);
		free(no_user);
		free(shell);
		env_free(container_env);
		return -1;
	}
	if (env == NULL)
		env = env_probe_exec(
		    d, container, user, shell, flag, "printenv", '\n', NULL);
	free(shell);
	if (env == NULL) {
		log_warn("container %.12s: userEnvProbe found no environment; using the "
			 "container's",
		    container);
		*env_out = container_env;
		return 0;
	}
	/* The reference merges only where it could not patch /etc/profile. */
	shell_path = env_get(env, "PATH");
	container_path = env_get(container_env, "PATH");
	if (!patched && shell_path != NULL && container_path != NULL) {
		size_t n = env_count(env);
		char *merged = env_probe_merge_paths(
		    shell_path, container_path, env_probe_is_root(user));

		env_put(&env, &n, xasprintf("PATH=%s", merged));
		free(merged);
	}
	env_free(container_env);
	*env_out = env;
	return 0;
}

int
env_probe_run(struct docker *d, const char *container, const char *user,
    const char *probe_kind, char ***env_out, char **cause)
{
	cJSON *info = NULL;
	int rc;

	*env_out = NULL;
	if (docker_container_inspect(d, container, &info, cause) != 0)
		return -1;
	if (info == NULL)
		return error_set(cause, "container %s not found", container);
	rc = env_probe_info(d, info, user, probe_kind, env_out, cause);
	cJSON_Delete(info);
	return rc;
}

char *
env_probe_cache_path(const char *state_dir, const char *container_id)
{
	return xasprintf("%s/env-probe-%s.json", state_dir, container_id);
}

/* The cached environment in path if its key matches; NULL otherwise. */
static char **
env_probe_cache_read(
    const char *path, const char *started_at, const char *user, const char *kind)
{
	char *data = NULL, *cause = NULL, **env = NULL;
	const cJSON *k, *e;
	size_t len, n = 0;
	cJSON *root;

	if (file_read_all(path, ENV_PROBE_CACHE_MAX, &data, &len, &cause) != 0) {
		free(cause);
		return NULL;
	}
	root = cJSON_ParseWithLength(data, len);
	free(data);
	if (root == NULL)
		return NULL;
	k = cJSON_GetObjectItemCaseSensitive(root, "startedAt");
	if (!cJSON_IsString(k) || strcmp(k->valuestring, started_at) != 0)
		goto out;
	k = cJSON_GetObjectItemCaseSensitive(root, "user");
	if (!cJSON_IsString(k) || strcmp(k->valuestring, user) != 0)
		goto out;
	k = cJSON_GetObjectItemCaseSensitive(root, "userEnvProbe");
	if (!cJSON_IsString(k) || strcmp(k->valuestring, kind) != 0)
		goto out;
	k = cJSON_GetObjectItemCaseSensitive(root, "env");
	if (!cJSON_IsObject(k))
		goto out;
	env = xcalloc(1, sizeof *env);
	cJSON_ArrayForEach(e, k) {
		if (cJSON_IsString(e) && e->string != NULL)
			env_put(&env, &n, xasprintf("%s=%s", e->string, e->valuestring));
	}
out:
	cJSON_Delete(root);
	return env;
}

static int
env_probe_cache_write(const char *path, const char *started_at, const char *user,
    const char *kind, char *const *env, char **cause)
{
	cJSON *root = cJSON_CreateObject(), *obj;
	char *text, *name;
	int rc;

	cJSON_AddStringToObject(root, "startedAt", started_at);
	cJSON_AddStringToObject(root, "user", user);
	cJSON_AddStringToObject(root, "userEnvProbe", kind);
	obj = cJSON_AddObjectToObject(root, "env");
	for (size_t i = 0; env[i] != NULL; i++) {
		name = xstrndup(env[i], env_name_len(env[i]));
		cJSON_AddStringToObject(obj, name, strchr(env[i], '=') + 1);
		free(name);
	}
	if ((text = cJSON_Print(root)) == NULL)
		fatal("cJSON_Print: out of memory");
	cJSON_Delete(root);
	rc = atomic_file_write(path, text, strlen(text), 0600, cause);
	free(text);
	return rc;
}

int
env_probe_get(struct docker *d, const char *state_dir, const char *container,
    const char *user, const char *probe_kind, char ***env_out, char **cause)
{
	const char *flag;
	cJSON *info = NULL;
	int rc;

	*env_out = NULL;
	if (env_probe_shell_flag(
		probe_kind != NULL ? probe_kind : "loginInteractiveShell", &flag) != 0)
		return error_set(cause, "userEnvProbe: unknown value \"%s\"", probe_kind);
	if (docker_container_inspect(d, container, &info, cause) != 0)
		return -1;
	if (info == NULL)
		return error_set(cause, "container %s not found", container);
	rc =
	    env_probe_get_inspected(d, state_dir, info, user, probe_kind, env_out, cause);
	cJSON_Delete(info);
	return rc;
}

int
env_probe_get_inspected(struct docker *d, const char *state_dir, const cJSON *info,
    const char *user, const char *probe_kind, char ***env_out, char **cause)
{
	const cJSON *id, *started;
	const char *kind = probe_kind != NULL ? probe_kind : "loginInteractiveShell";
	const char *flag;
	char *path = NULL, *wcause = NULL, **env;
	int rc = -1;

	*env_out = NULL;
	if (env_probe_shell_flag(kind, &flag) != 0)
		return error_set(cause, "userEnvProbe: unknown value \"%s\"", kind);
	id = cJSON_GetObjectItemCaseSensitive(info, "Id");
	started = cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(info, "State"), "StartedAt");
	if (!cJSON_IsString(id) || !cJSON_IsString(started))
		return error_set(
		    cause, "container: inspect has no Id or State.StartedAt");
	path = env_probe_cache_path(state_dir, id->valuestring);
	env = env_probe_cache_read(
	    path, started->valuestring, user != NULL ? user : "", kind);
	if (env != NULL) {
		*env_out = env;
		rc = 0;
		goto out;
	}
	if (env_probe_info(d, info, user, kind, &env, cause) != 0)
		goto out;
	if (mkdir(state_dir, 0700) != 0 && errno != EEXIST)
		log_warn("%s: cannot create: %s", state_dir, strerror(errno));
	if (env_probe_cache_write(path, started->valuestring, user != NULL ? user : "",
		kind, env, &wcause) != 0) {
		log_warn("userEnvProbe cache: %s", wcause);
		free(wcause);
	}
	*env_out = env;
	rc = 0;
out:
	free(path);
	return rc;
}

/* ---- remoteEnv ---- */

int
env_probe_apply_remote_env(char *const *probed, const cJSON *remote_env,
    char *const *container_env, char ***env_out, char ***unset_out, char **cause)
{
	char **env = env_dup(probed), **unset = xcalloc(1, sizeof *unset),
	     *empty[] = { NULL };
	size_t n = env_count(env), nu = 0;
	cJSON *resolved = NULL;
	const cJSON *e;

	*env_out = *unset_out = NULL;
	if (cJSON_IsObject(remote_env)) {
		resolved = config_subst_container(remote_env, env_lookup,
		    container_env != NULL ? (void *)container_env : (void *)empty, cause);
		if (resolved == NULL) {
			env_free(env);
			env_free(unset);
			return error_prefix(cause, "remoteEnv");
		}
	}
	cJSON_ArrayForEach(e, resolved) {
		char *value = NULL, *why;

		if (e->string == NULL || *e->string == '\0' ||
		    strchr(e->string, '=') != NULL)
			continue;
		/* (a ${containerEnv:...} made it longer than any process can
		 * start with: every exec would fail, "argument list too long") */
		if (cJSON_IsString(e) &&
		    (why = config_env_entry_problem(e->string, strlen(e->valuestring))) !=
			NULL) {
			error_set(cause, "remoteEnv: \"%.64s\": %s", e->string, why);
			free(why);
			cJSON_Delete(resolved);
			env_free(env);
			env_free(unset);
			return -1;
		}
		if (cJSON_IsNull(e)) {
			env_remove(env, &n, e->string);
			if (env_find(unset, e->string, strlen(e->string)) < 0)
				env_put(&unset, &nu, xstrdup(e->string));
			continue;
		}
		if (cJSON_IsString(e))
			value = xstrdup(e->valuestring);
		else if (cJSON_IsNumber(e) || cJSON_IsBool(e)) {
			if ((value = cJSON_PrintUnformatted(e)) == NULL)
				fatal("cJSON_Print: out of memory");
		} else
			continue;
		/* A variable set again after a null is set, not removed. */
		for (size_t i = 0; i < nu; i++) {
			if (strcmp(unset[i], e->string) == 0) {
				free(unset[i]);
				memmove(
				    &unset[i], &unset[i + 1], (nu - i) * sizeof *unset);
				nu--;
				break;
			}
		}
		env_put(&env, &n, xasprintf("%s=%s", e->string, value));
		free(value);
	}
	cJSON_Delete(resolved);
	*env_out = env;
	*unset_out = unset;
	return 0;
}
