/* config-validate-up.c - what `up` does not honour yet in a validated
 * devcontainer.json (config_validate_up()): an error where the container
 * would differ from the one asked for, a warning where ignoring it is
 * harmless.
 *
 * Each check looks at one top-level property of devcontainer.json as
 * written; docs/STATUS.md lists every property and what becomes of it.
 */
#include "config-validate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "config-validate-internal.h"
#include "forward-spec.h"
#include "mount-string.h"
#include "xmalloc.h"

/* The member names of an object, ", "-separated, skipping skip (may be
 * NULL); caller frees. */
static char *
config_validate_up_names(const cJSON *obj, const char *skip)
{
	const cJSON *item;
	struct buf *b = buf_new();
	char *s;

	cJSON_ArrayForEach(item, obj) {
		if (skip != NULL && strcmp(item->string, skip) == 0)
			continue;
		buf_appendf(b, "%s%s", buf_len(b) > 0 ? ", " : "", item->string);
	}
	s = buf_take_string(b, NULL);
	buf_free(b);
	return s;
}

/* cpus, memory and storage are checked by the host's agent when up creates
 * or starts the container (agent/admission.h), on any host; a GPU is given
 * to no container yet: a required one is an error (when it comes from an
 * image's metadata, the admission's: "needs a GPU, has none"), an optional
 * one a warning that there will be none. */
static int
config_validate_up_host_requirements(struct config_validate_ctx *v, const cJSON *node)
{
	const cJSON *gpu = cJSON_GetObjectItemCaseSensitive(node, "gpu");
	int optional;

	if (!cJSON_IsObject(node))
		return 0;
	optional = cJSON_IsString(gpu) && strcmp(gpu->valuestring, "optional") == 0;
	if (gpu != NULL && !cJSON_IsFalse(gpu) && !optional && v->origin != NULL)
		return 0; /* (the agent's admission refuses it: no host has one) */
	if (gpu != NULL && !cJSON_IsFalse(gpu) && !optional)
		return config_validate_report_error_key(v, gpu,
		    "\"hostRequirements\".\"gpu\"",
		    "GPU access "
		    "is not supported yet (the container would have no GPU); remove "
		    "it or make it \"optional\"");
	if (optional)
		config_validate_report_warn(v, node,
		    "\"hostRequirements\": \"gpu\": \"optional\": the container "
		    "gets no GPU (rdev gives none yet)");
	return 0;
}

static void
config_validate_up_secrets(struct config_validate_ctx *v, const cJSON *node)
{
	char *names;

	if (!cJSON_IsObject(node) || node->child == NULL)
		return;
	names = config_validate_up_names(node, NULL);
	config_validate_report_warn(v, node,
	    "\"secrets\": not supplied: rdev has no secrets store; "
	    "%s %s set only when --secrets-file gives %s",
	    names, node->child->next == NULL ? "is" : "are",
	    node->child->next == NULL ? "it" : "them");
	free(names);
}

/* Tools stop the container when their last window closes; rdev has no
 * such moment. */
static void
config_validate_up_shutdown_action(struct config_validate_ctx *v, const cJSON *node)
{
	if (!cJSON_IsString(node) || strcmp(node->valuestring, "none") == 0)
		return;
	config_validate_report_warn(v, node,
	    "\"shutdownAction\": \"%s\" is not acted on: the container "
	    "keeps running after `up`, exec and shell until `rdev stop` or "
	    "`rdev down`",
	    node->valuestring);
}

/* An image configuration's "image": "" names nothing to run; docker's
 * "empty image name" would not say where. (read-configuration shows it, as
 * the reference does.) */
static int
config_validate_up_image(struct config_validate_ctx *v, const cJSON *root)
{
	const cJSON *image = cJSON_GetObjectItemCaseSensitive(root, "image");

	if (!cJSON_IsString(image) || image->valuestring[0] != '\0' ||
	    cJSON_GetObjectItemCaseSensitive(root, "build") != NULL ||
	    cJSON_GetObjectItemCaseSensitive(root, "dockerFile") != NULL ||
	    cJSON_GetObjectItemCaseSensitive(root, "dockerComposeFile") != NULL)
		return 0;
	return config_validate_report_error(
	    v, image, "\"image\"", "empty: name the image to run");
}

/* workspaceFolder is a folder in the container, where every step and exec
 * starts: a relative one made up succeed and each of those fail ("chdir to
 * cwd (\"src\") failed"). One that starts with a variable is let be; so is
 * "", where they start in the container's working directory. */
static int
config_validate_up_workspace_folder(struct config_validate_ctx *v, const cJSON *root)
{
	const cJSON *wf = cJSON_GetObjectItemCaseSensitive(root, "workspaceFolder");

	if (!cJSON_IsString(wf) || wf->valuestring[0] == '/' ||
	    wf->valuestring[0] == '\0' || strncmp(wf->valuestring, "${", 2) == 0)
		return 0;
	return config_validate_report_error(v, wf, "\"workspaceFolder\"",
	    "\"%s\" is not an absolute path (a folder in the container: "
	    "\"/workspaces/...\")",
	    wf->valuestring);
}

/* workspaceMount without workspaceFolder: both tools start every step and
 * exec in /workspaces/<folder name>, which a mount elsewhere does not make
 * (the first step fails: "chdir to cwd ... failed"). Warned of, naming the
 * target to set, when the mount's target is outside /workspaces/ (one
 * inside may be that folder: the folder's name is not known here) and is not
 * ${containerWorkspaceFolder}. The target as Docker reads it (mount-string.h). */
static void
config_validate_up_workspace_mount(struct config_validate_ctx *v, const cJSON *root)
{
	const cJSON *wm = cJSON_GetObjectItemCaseSensitive(root, "workspaceMount");
	char *target;

	if (!cJSON_IsString(wm) || wm->valuestring[0] == '\0' ||
	    cJSON_GetObjectItemCaseSensitive(root, "workspaceFolder") != NULL ||
	    cJSON_GetObjectItemCaseSensitive(root, "dockerComposeFile") != NULL)
		return;
	target = mount_string_target(wm->valuestring);
	if (target != NULL && strncmp(target, "/workspaces/", 12) != 0 &&
	    strncmp(target, "${containerWorkspaceFolder}", 27) != 0)
		config_validate_report_warn(v, wm,
		    "\"workspaceMount\": mounts at \"%s\" but \"workspaceFolder\" is "
		    "not set: commands and exec start in /workspaces/<folder name>, "
		    "which this mount does not make; set \"workspaceFolder\": \"%s\"",
		    target, target);
	free(target);
}

/* An object-form lifecycle command's entry that is an empty array has
 * nothing to run: the reference CLI runs it anyway, and fails (it execs
 * "undefined", status 126) once the container is made. Refused here, at
 * its place, before anything is. */
static int
config_validate_up_commands(struct config_validate_ctx *v, const cJSON *root)
{
	static const char *const steps[] = { "initializeCommand", "onCreateCommand",
		"updateContentCommand", "postCreateCommand", "postStartCommand",
		"postAttachCommand", NULL };
	const cJSON *item;
	char *path;
	int rc;

	for (int i = 0; steps[i] != NULL; i++) {
		cJSON_ArrayForEach(
		    item, cJSON_GetObjectItemCaseSensitive(root, steps[i])) {
			if (item->string == NULL || !cJSON_IsArray(item) ||
			    item->child != NULL)
				continue;
			path = xasprintf("\"%s\".\"%s\"", steps[i], item->string);
			rc = config_validate_report_error(v, item, path,
			    "an empty array: no command to run (give one, or "
			    "remove the entry)");
			free(path);
			return rc;
		}
	}
	return 0;
}

/* Warn of each ${containerEnv:NAME} in node (at path), a string or what
 * holds strings, of a property up leaves it in as written; why says why
 * and what to write instead. */
static void
config_validate_up_container_env_refs(
    struct config_validate_ctx *v, const cJSON *node, const char *path, const char *why)
{
	const char *p, *end;
	const cJSON *item;
	char *sub;
	int i = 0;

	if (cJSON_IsString(node) && node->valuestring != NULL) {
		for (p = node->valuestring; (p = strstr(p, "${containerEnv:")) != NULL;
		     p = end + 1) {
			end = p + strcspn(p, "}\n\r");
			if (*end != '}')
				break; /* unclosed: warned of as such */
			config_validate_report_warn(v, node,
			    "%s: %.*s is left as written, as by the reference "
			    "CLI: %s",
			    path, (int)(end + 1 - p), p, why);
		}
		return;
	}
	cJSON_ArrayForEach(item, node) {
		sub = cJSON_IsObject(node)
		    ? config_validate_report_member_path(path, item->string)
		    : xasprintf("%s[%d]", path, i);
		config_validate_up_container_env_refs(v, item, sub, why);
		free(sub);
		i++;
	}
}

/* ${containerEnv:NAME} where up does not substitute it: in what the
 * container is created with ("containerEnv": {"PATH":
 * "${containerEnv:PATH}:/opt/bin"} gives it a PATH that finds nothing), and
 * in the lifecycle commands, which the reference's up runs as written
 * (read-configuration shows them substituted, once a container exists:
 * the shell then fails on "${containerEnv:HOME}", "Bad substitution");
 * and in initializeCommand, which runs on this machine, where there is no
 * container's environment to substitute either. */
static void
config_validate_up_create_env_refs(struct config_validate_ctx *v, const cJSON *root)
{
	static const char *const at_create[] = { "containerEnv", "mounts",
		"workspaceMount", "runArgs", NULL };
	static const char *const commands[] = { "onCreateCommand", "updateContentCommand",
		"postCreateCommand", "postStartCommand", "postAttachCommand", NULL };
	char *path;

	for (int i = 0; at_create[i] != NULL; i++) {
		path = config_validate_report_member_path("", at_create[i]);
		config_validate_up_container_env_refs(v,
		    cJSON_GetObjectItemCaseSensitive(root, at_create[i]), path,
		    "the container's environment is not known before it is "
		    "created (\"remoteEnv\" can use it)");
		free(path);
	}
	for (int i = 0; commands[i] != NULL; i++) {
		path = config_validate_report_member_path("", commands[i]);
		config_validate_up_container_env_refs(v,
		    cJSON_GetObjectItemCaseSensitive(root, commands[i]), path,
		    "lifecycle commands run as written (in a shell, $NAME reads "
		    "the container's environment)");
		free(path);
	}
	path = config_validate_report_member_path("", "initializeCommand");
	config_validate_up_container_env_refs(v,
	    cJSON_GetObjectItemCaseSensitive(root, "initializeCommand"), path,
	    "initializeCommand runs on this machine, before the container "
	    "exists (sh says \"Bad substitution\"; $NAME reads this machine's "
	    "environment)");
	free(path);
}

/* The attributes of one port (or of the other ports) that rdev's forwards
 * do not act on; path names them, low: they may be of a port below 1024
 * (elevateIfNeeded is about those alone: warned of on 3000, it was noise). */
static void
config_validate_up_port_attributes(
    struct config_validate_ctx *v, const cJSON *attrs, const char *path, int low)
{
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(attrs, "elevateIfNeeded");
	const cJSON *p = cJSON_GetObjectItemCaseSensitive(attrs, "protocol");

	if (cJSON_IsTrue(e) && low)
		config_validate_report_warn(v, e,
		    "%s.\"elevateIfNeeded\": rdev does not elevate: a port "
		    "below 1024 that this user may not bind is forwarded from "
		    "the port plus 10000 (80 from 10080), or the next free one "
		    "(with requireLocalPort: not forwarded, an error)",
		    path);
	if (cJSON_IsString(p) && strcmp(p->valuestring, "https") == 0)
		config_validate_report_warn(v, p,
		    "%s.\"protocol\": \"https\" is not used: forwards carry "
		    "the bytes as they are and the URL listed for openBrowser is "
		    "http://",
		    path);
}

static void
config_validate_up_ports_attributes(struct config_validate_ctx *v, const cJSON *node)
{
	const cJSON *item;
	char *path;
	long from, to;

	cJSON_ArrayForEach(item, node) {
		path = config_validate_report_member_path(
		    "\"portsAttributes\"", item->string);
		if (forward_port_key_parse(item->string, &from, &to) < 0)
			config_validate_report_warn(v, item,
			    "%s: not matched: rdev matches port numbers "
			    "and ranges (\"3000-3010\") only, not process "
			    "command lines or \"host:port\"",
			    path);
		else if (from > to || to < 1 || from > 65535)
			config_validate_report_warn(v, item,
			    "%s: matches no port (ports are 1 to 65535; a range "
			    "is FROM-TO with FROM <= TO)",
			    path);
		config_validate_up_port_attributes(v, item, path,
		    forward_port_key_parse(item->string, &from, &to) >= 0 && from < 1024);
		free(path);
	}
}

int
config_validate_up(const struct jsonc_doc *doc, int forwards,
    struct config_warnings *warnings, char **cause)
{
	struct config_validate_ctx v;
	const cJSON *root = jsonc_doc_root(doc), *fp;

	memset(&v, 0, sizeof v);
	v.doc = doc;
	v.warnings = warnings;
	v.cause = cause;
	if (config_validate_vars_up(&v, root) != 0 ||
	    config_validate_up_image(&v, root) != 0 ||
	    config_validate_up_workspace_folder(&v, root) != 0 ||
	    config_validate_up_commands(&v, root) != 0 ||
	    config_validate_up_host_requirements(
		&v, cJSON_GetObjectItemCaseSensitive(root, "hostRequirements")) != 0)
		return -1;
	config_validate_up_secrets(&v, cJSON_GetObjectItemCaseSensitive(root, "secrets"));
	config_validate_up_shutdown_action(
	    &v, cJSON_GetObjectItemCaseSensitive(root, "shutdownAction"));
	config_validate_up_create_env_refs(&v, root);
	config_validate_up_workspace_mount(&v, root);
	fp = cJSON_GetObjectItemCaseSensitive(root, "forwardPorts");
	if (!forwards && cJSON_GetArraySize(fp) > 0)
		config_validate_report_warn(&v, fp,
		    "\"forwardPorts\": not forwarded: rdev-agent does not "
		    "forward ports (`rdev up` does); from this machine, reach them "
		    "at the container's address");
	if (forwards) {
		config_validate_up_ports_attributes(
		    &v, cJSON_GetObjectItemCaseSensitive(root, "portsAttributes"));
		config_validate_up_port_attributes(&v,
		    cJSON_GetObjectItemCaseSensitive(root, "otherPortsAttributes"),
		    "\"otherPortsAttributes\"", 1);
	}
	return 0;
}

/* A copy of merged's member name (NULL when none) unless root has it. */
static cJSON *
config_validate_up_metadata_only(const cJSON *root, const cJSON *merged, const char *name)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(merged, name);

	if (m == NULL || cJSON_GetObjectItemCaseSensitive(root, name) != NULL)
		return NULL;
	return cJSON_Duplicate(m, 1);
}

/* The members of merged's object name that root's object name lacks. */
static cJSON *
config_validate_up_metadata_members(
    const cJSON *root, const cJSON *merged, const char *name)
{
	const cJSON *own = cJSON_GetObjectItemCaseSensitive(root, name), *item;
	cJSON *out = cJSON_CreateObject();

	cJSON_ArrayForEach(item, cJSON_GetObjectItemCaseSensitive(merged, name)) {
		if (item->string != NULL &&
		    cJSON_GetObjectItemCaseSensitive(own, item->string) == NULL)
			cJSON_AddItemToObject(
			    out, item->string, cJSON_Duplicate(item, 1));
	}
	return out;
}

void
config_validate_up_metadata(const struct jsonc_doc *doc, const cJSON *merged,
    const cJSON *image_ports, int forwards, struct config_warnings *warnings)
{
	struct config_validate_ctx v;
	const cJSON *root = jsonc_doc_root(doc);
	cJSON *node;

	memset(&v, 0, sizeof v);
	v.doc = doc;
	v.warnings = warnings;
	v.origin = "the image's devcontainer.metadata";
	node = config_validate_up_metadata_only(root, merged, "shutdownAction");
	config_validate_up_shutdown_action(&v, node);
	cJSON_Delete(node);
	node = config_validate_up_metadata_members(root, merged, "hostRequirements");
	config_validate_up_host_requirements(&v, node);
	cJSON_Delete(node);
	if (!forwards)
		return;
	if (image_ports != NULL)
		merged = image_ports;
	node = config_validate_up_metadata_members(root, merged, "portsAttributes");
	config_validate_up_ports_attributes(&v, node);
	cJSON_Delete(node);
	node = config_validate_up_metadata_only(root, merged, "otherPortsAttributes");
	config_validate_up_port_attributes(&v, node, "\"otherPortsAttributes\"", 1);
	cJSON_Delete(node);
}
