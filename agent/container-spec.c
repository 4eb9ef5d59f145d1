/* container-spec.c - the ContainerCreate body for a dev container. */
#include "container-spec.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "config-merge.h"
#include "config-validate.h"
#include "error.h"
#include "mount-spec.h"
#include "run-args.h"
#include "xmalloc.h"

char *
container_spec_entrypoint_script(const cJSON *entrypoints)
{
	struct buf *b = buf_new();
	const cJSON *e;
	char *script;
	int first = 1;

	buf_appendf(b, "echo Container started\ntrap \"exit 0\" 15\n");
	cJSON_ArrayForEach(e, entrypoints) {
		if (!cJSON_IsString(e))
			continue;
		buf_appendf(b, "%s%s", first ? "" : "\n", e->valuestring);
		first = 0;
	}
	buf_appendf(b, "\nexec \"$@\"\nwhile sleep 1 & wait $!; do :; done");
	script = buf_take_string(b, NULL);
	buf_free(b);
	return script;
}

static cJSON *
container_spec_host_config(cJSON *body)
{
	cJSON *hc = cJSON_GetObjectItemCaseSensitive(body, "HostConfig");

	if (hc == NULL)
		hc = cJSON_AddObjectToObject(body, "HostConfig");
	return hc;
}

void
container_spec_limit(cJSON *body, const cJSON *merged)
{
	const cJSON *hr = cJSON_GetObjectItemCaseSensitive(merged, "hostRequirements");
	const cJSON *cpus = cJSON_GetObjectItemCaseSensitive(hr, "cpus");
	double memory =
	    config_merge_parse_bytes(cJSON_GetObjectItemCaseSensitive(hr, "memory"));
	cJSON *hc = container_spec_host_config(body);

	if (cJSON_IsNumber(cpus) && cpus->valuedouble > 0) {
		cJSON_DeleteItemFromObjectCaseSensitive(hc, "NanoCpus");
		cJSON_AddNumberToObject(hc, "NanoCpus", round(cpus->valuedouble * 1e9));
	}
	if (memory > 0) {
		cJSON_DeleteItemFromObjectCaseSensitive(hc, "Memory");
		cJSON_AddNumberToObject(hc, "Memory", memory);
	}
}

static cJSON *
array_in(cJSON *obj, const char *key)
{
	cJSON *a = cJSON_GetObjectItemCaseSensitive(obj, key);

	if (a == NULL)
		a = cJSON_AddArrayToObject(obj, key);
	return a;
}

static void
container_spec_append_strings(cJSON *to, const cJSON *from)
{
	const cJSON *e;

	if (cJSON_IsString(from)) {
		cJSON_AddItemToArray(to, cJSON_CreateString(from->valuestring));
		return;
	}
	cJSON_ArrayForEach(e, from)
		if (cJSON_IsString(e))
			cJSON_AddItemToArray(to, cJSON_CreateString(e->valuestring));
}

static int
container_spec_add_mount(cJSON *mounts, const cJSON *spec, const char *what, char **cause)
{
	cJSON *m = mount_spec_to_api(spec, cause);

	if (m == NULL)
		return error_prefix(cause, "%s", what);
	cJSON_AddItemToArray(mounts, m);
	return 0;
}

/* The --mount ones, after the merged mounts as the reference's
 * additionalMounts: "external" only means something to Compose. */
static int
container_spec_add_extra_mounts(cJSON *mounts, const cJSON *extra, char **cause)
{
	const cJSON *e;
	cJSON *spec;
	char *what;
	int i = 0, rc;

	cJSON_ArrayForEach(e, extra) {
		spec = cJSON_Duplicate(e, 1);
		cJSON_DeleteItemFromObjectCaseSensitive(spec, "external");
		what = xasprintf("--mount[%d]", i++);
		rc = container_spec_add_mount(mounts, spec, what, cause);
		free(what);
		cJSON_Delete(spec);
		if (rc != 0)
			return -1;
	}
	return 0;
}

/* containerEnv -> Env ["K=V"...], in the configuration's order. An entry
 * no process could start with (config_env_entry_problem(): what the
 * configuration's own were checked for when it was loaded, here after the
 * image's metadata and the Features were merged in) is an error: the
 * container would be created only to exit at once. 0, or -1 with *cause. */
static int
container_spec_add_env(cJSON *body, const cJSON *container_env, char **cause)
{
	cJSON *env = array_in(body, "Env");
	const cJSON *e;
	char *kv, *why;

	cJSON_ArrayForEach(e, container_env) {
		if (cJSON_IsString(e) &&
		    (why = config_env_entry_problem(e->string, strlen(e->valuestring))) !=
			NULL) {
			error_set(cause,
			    "\"containerEnv\".\"%.64s\" (merged with the image's "
			    "metadata and the Features'): %s",
			    e->string, why);
			free(why);
			return -1;
		}
		if (cJSON_IsString(e))
			kv = xasprintf("%s=%s", e->string, e->valuestring);
		else if (cJSON_IsNumber(e))
			kv = xasprintf("%s=%g", e->string, e->valuedouble);
		else if (cJSON_IsBool(e))
			kv = xasprintf(
			    "%s=%s", e->string, cJSON_IsTrue(e) ? "true" : "false");
		else
			continue;
		cJSON_AddItemToArray(env, cJSON_CreateString(kv));
		free(kv);
	}
	return 0;
}

/* appPort: a number N is published as 127.0.0.1:N:N; a string is a -p spec. */
static int
container_spec_add_app_ports(cJSON *body, const cJSON *config, char **cause)
{
	const cJSON *app = cJSON_GetObjectItemCaseSensitive(config, "appPort"), *e;
	cJSON *args, *one;
	char *p;
	int rc;

	if (app == NULL)
		return 0;
	args = cJSON_CreateArray();
	one = cJSON_IsArray(app) ? NULL : (cJSON *)app;
	for (e = one != NULL ? one : app->child; e != NULL;
	     e = one != NULL ? NULL : e->next) {
		if (cJSON_IsNumber(e))
			p = xasprintf("127.0.0.1:%d:%d", e->valueint, e->valueint);
		else if (cJSON_IsString(e))
			p = xstrdup(e->valuestring);
		else
			continue;
		cJSON_AddItemToArray(args, cJSON_CreateString("-p"));
		cJSON_AddItemToArray(args, cJSON_CreateString(p));
		free(p);
	}
	rc = run_args_apply(args, body, NULL, NULL, cause);
	cJSON_Delete(args);
	if (rc == 0)
		return 0;
	/* The "runArgs[N]: " of the -p made here is nothing the user wrote. */
	if (cause != NULL && *cause != NULL && strncmp(*cause, "runArgs[", 8) == 0 &&
	    (p = strstr(*cause, "]: ")) != NULL) {
		p = xstrdup(p + 3);
		free(*cause);
		*cause = p;
	}
	return error_prefix(cause, "appPort");
}

/* The check's --env-file reader without one of the caller's: every file
 * empty. */
static int
container_spec_no_file(
    void *arg, const char *path, char **text, size_t *len, char **cause)
{
	(void)arg;
	(void)path;
	(void)cause;
	*text = xstrdup("");
	*len = 0;
	return 0;
}

int
container_spec_check(const cJSON *config, const struct run_args_files *files,
    const char **property, int *index, char **cause)
{
	const struct run_args_files no_files = { container_spec_no_file, NULL };
	const cJSON *e, *app;
	cJSON *body = cJSON_CreateObject(), *mounts = cJSON_CreateArray(), *one;
	char *what;
	int i = 0, rc = 0;

	*property = NULL;
	*index = -1;
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(config, "mounts")) {
		what = xasprintf("mounts[%d]", i);
		rc = container_spec_add_mount(mounts, e, what, cause);
		free(what);
		if (rc != 0) {
			*property = "mounts";
			*index = i;
			goto out;
		}
		i++;
	}
	/* appPort one element at a time, to say which. */
	app = cJSON_GetObjectItemCaseSensitive(config, "appPort");
	i = 0;
	for (e = cJSON_IsArray(app) ? app->child : NULL; e != NULL; e = e->next) {
		one = cJSON_CreateObject();
		cJSON_AddItemToObject(one, "appPort", cJSON_Duplicate(e, 1));
		rc = container_spec_add_app_ports(body, one, cause);
		cJSON_Delete(one);
		if (rc != 0) {
			*property = "appPort";
			*index = i;
			goto out;
		}
		i++;
	}
	if (!cJSON_IsArray(app) &&
	    (rc = container_spec_add_app_ports(body, config, cause)) != 0) {
		*property = "appPort";
		goto out;
	}
	e = cJSON_GetObjectItemCaseSensitive(config, "runArgs");
	if (e != NULL &&
	    (rc = run_args_apply_files(
		 e, body, files != NULL ? files : &no_files, NULL, NULL, cause)) != 0) {
		/* (its messages begin "runArgs[N]: ") */
		*property = "runArgs";
		if (*cause == NULL || sscanf(*cause, "runArgs[%d]", index) != 1)
			*index = -1;
	}
out:
	cJSON_Delete(mounts);
	cJSON_Delete(body);
	return rc != 0 ? -1 : 0;
}

static void
container_spec_add_command(cJSON *body, const struct container_spec_input *in)
{
	const cJSON *merged = in->merged, *e;
	cJSON *entry = cJSON_AddArrayToObject(body, "Entrypoint");
	cJSON *cmd = cJSON_AddArrayToObject(body, "Cmd");
	char *script;

	cJSON_AddItemToArray(entry, cJSON_CreateString("/bin/sh"));
	script = container_spec_entrypoint_script(
	    cJSON_GetObjectItemCaseSensitive(merged, "entrypoints"));
	cJSON_AddItemToArray(cmd, cJSON_CreateString("-c"));
	cJSON_AddItemToArray(cmd, cJSON_CreateString(script));
	cJSON_AddItemToArray(cmd, cJSON_CreateString("-"));
	free(script);
	if (in->override_command || in->image_config == NULL)
		return;
	e = cJSON_GetObjectItemCaseSensitive(in->image_config, "Entrypoint");
	container_spec_append_strings(cmd, e);
	e = cJSON_GetObjectItemCaseSensitive(in->image_config, "Cmd");
	container_spec_append_strings(cmd, e);
}

cJSON *
container_spec_create_body(
    const struct container_spec_input *in, char **name, char ***warnings, char **cause)
{
	cJSON *body = cJSON_CreateObject(), *hc, *mounts, *labels;
	const cJSON *merged = in->merged, *e, *v;
	char *what, *mount_cause = NULL;
	int i = 0;

	if (name != NULL)
		*name = NULL;
	if (warnings != NULL)
		*warnings = NULL;
	cJSON_AddStringToObject(body, "Image", in->image);
	labels = cJSON_AddObjectToObject(body, "Labels");
	cJSON_ArrayForEach(e, in->labels)
		if (cJSON_IsString(e))
			cJSON_AddStringToObject(labels, e->string, e->valuestring);
	if (container_spec_add_env(body,
		cJSON_GetObjectItemCaseSensitive(merged, "containerEnv"),
		&mount_cause) != 0)
		goto fail;
	v = cJSON_GetObjectItemCaseSensitive(merged, "containerUser");
	if (cJSON_IsString(v) && *v->valuestring != '\0')
		cJSON_AddStringToObject(body, "User", v->valuestring);
	hc = container_spec_host_config(body);
	mounts = cJSON_AddArrayToObject(hc, "Mounts");
	if (in->workspace_mount != NULL && *in->workspace_mount != '\0') {
		cJSON *s = cJSON_CreateString(in->workspace_mount);
		int rc =
		    container_spec_add_mount(mounts, s, "workspaceMount", &mount_cause);
		cJSON_Delete(s);
		if (rc != 0)
			goto fail;
	}
	if (in->worktree_mount != NULL) {
		cJSON *s = cJSON_CreateString(in->worktree_mount);
		int rc = container_spec_add_mount(
		    mounts, s, "--mount-git-worktree-common-dir", &mount_cause);
		cJSON_Delete(s);
		if (rc != 0)
			goto fail;
	}
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(merged, "mounts")) {
		what = xasprintf("mounts[%d]", i++);
		if (container_spec_add_mount(mounts, e, what, &mount_cause) != 0) {
			free(what);
			goto fail;
		}
		free(what);
	}
	if (container_spec_add_extra_mounts(mounts, in->extra_mounts, &mount_cause) != 0)
		goto fail;
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(merged, "init")))
		cJSON_AddTrueToObject(hc, "Init");
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(merged, "privileged")))
		cJSON_AddTrueToObject(hc, "Privileged");
	if ((v = cJSON_GetObjectItemCaseSensitive(merged, "capAdd")) != NULL)
		container_spec_append_strings(array_in(hc, "CapAdd"), v);
	if ((v = cJSON_GetObjectItemCaseSensitive(merged, "securityOpt")) != NULL)
		container_spec_append_strings(array_in(hc, "SecurityOpt"), v);
	if (container_spec_add_app_ports(body, in->config, &mount_cause) != 0)
		goto fail;
	v = cJSON_GetObjectItemCaseSensitive(in->config, "runArgs");
	if (v != NULL &&
	    run_args_apply_files(v, body, in->env_files, name, warnings, &mount_cause) !=
		0)
		goto fail;
	/* Last, as the reference's --entrypoint comes after runArgs: the wrapper
	 * that runs the entrypoints and keeps the container alive always wins. */
	cJSON_DeleteItemFromObjectCaseSensitive(body, "Entrypoint");
	cJSON_DeleteItemFromObjectCaseSensitive(body, "Cmd");
	container_spec_add_command(body, in);
	return body;
fail:
	cJSON_Delete(body);
	if (cause != NULL)
		*cause = mount_cause;
	else
		free(mount_cause);
	return NULL;
}

void
container_spec_warnings_free(char **warnings)
{
	run_args_warnings_free(warnings);
}
