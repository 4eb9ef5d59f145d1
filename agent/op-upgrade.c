/* op-upgrade.c - the "upgrade" operation: devcontainer-lock.json made anew,
 * as the reference CLI's `devcontainer upgrade`: the configuration's
 * Features resolved again by their tags (the pins of the lockfile there is
 * are not read), and the lockfile of what they resolve to (feature-lock.h)
 * written beside devcontainer.json, or with "dryRun" only answered. With
 * "feature" and "targetVersion", first that Feature's id in devcontainer.json
 * gets the version (feature_ref_retarget()), as the reference's hidden
 * --feature/--target-version do (in a dry run too). Answers
 * {"outcome":"success","lockfile":PATH,"text":THE LOCKFILE,"written":BOOL,
 * "configUpdated":BOOL}. The request's fields are docs/PROTOCOL.md's
 * ("upgrade"). Needs no Docker. */
#include "agent-ops.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "atomic-file.h"
#include "config.h"
#include "error.h"
#include "feature-fetch.h"
#include "feature-lock.h"
#include "feature-resolve.h"
#include "xmalloc.h"

/* The reference's check of --feature and --target-version. */
static int
op_upgrade_check(const char *feature, const char *version, char **cause)
{
	if ((feature == NULL) != (version == NULL))
		return error_set(cause,
		    "\"feature\" and \"targetVersion\" go together "
		    "(the '--target-version' and '--feature' flag "
		    "must be used together)");
	return version == NULL ? 0 : feature_ref_version_check(version, cause);
}

/* Give Feature feature the version in cfg's devcontainer.json (written
 * in place, atomically, when that changes it): *changed 1 when it did. 0, or
 * -1 with *cause. */
static int
op_upgrade_retarget(const struct agent_op_req *r, const struct config *cfg,
    const char *feature, const char *version, int *changed, char **cause)
{
	const char *file = config_get_file(cfg), *key;
	const cJSON *features = cJSON_GetObjectItemCaseSensitive(
	    jsonc_doc_root(config_get_doc(cfg)), "features");
	char *text, *edited;
	struct stat st;
	int rc = 0;

	*changed = 0;
	progress_line(
	    r->progress, "Updating '%s' to '%s' in devcontainer.json", feature, version);
	if ((text = config_read_text(file, cause)) == NULL)
		return -1;
	edited = feature_ref_retarget(text, features, feature, version, &key);
	if (edited == NULL)
		progress_line(
		    r->progress, "%s: no Feature '%s' in \"features\"", file, feature);
	else if (strcmp(edited, text) != 0) {
		progress_line(r->progress, "Updating config file: '%s'", file);
		if (stat(file, &st) != 0)
			st.st_mode = 0644;
		rc = atomic_file_write(
		    file, edited, strlen(edited), st.st_mode & 07777, cause);
		*changed = rc == 0;
	}
	free(edited);
	free(text);
	return rc;
}

/* Load the request's configuration. */
static struct config *
op_upgrade_load(const struct agent_op_req *r, char **cause)
{
	struct config_load_opts lo = { 0 };

	lo.workspace_folder = r->workspace;
	lo.config_file = r->config;
	return config_load(&lo, cause);
}

static int
op_upgrade_run(const struct agent_op_req *r, cJSON **result, char **cause)
{
	const char *feature = agent_op_req_string(r, "feature");
	const char *version = agent_op_req_string(r, "targetVersion");
	int dry_run = agent_op_req_bool(r, "dryRun"), changed = 0, rc = -1;
	int include_lockfile = agent_op_req_bool(r, "includeLockfile");
	struct feature_set *fs = NULL;
	struct config *cfg = NULL;
	char *path = NULL, *text = NULL;
	cJSON *doc = NULL, *lock = NULL;

	*result = NULL;
	if (op_upgrade_check(feature, version, cause) != 0 ||
	    (cfg = op_upgrade_load(r, cause)) == NULL)
		goto out;
	if (feature != NULL) {
		if (op_upgrade_retarget(r, cfg, feature, version, &changed, cause) != 0)
			goto out;
		config_free(cfg);
		if ((cfg = op_upgrade_load(r, cause)) == NULL)
			goto out;
	}
	if ((fs = feature_resolve(cfg, NULL, 1, cause)) == NULL)
		goto out;
	path = feature_lock_path(config_get_file(cfg));
	if (fs->n == 0) {
		error_set(cause, "%s: no Features, so no lockfile to write",
		    config_get_file(cfg));
		goto out;
	}
	doc = feature_lock_of_set(fs,
	    cJSON_GetObjectItemCaseSensitive(config_get_object(cfg), "features"), NULL);
	text = feature_lock_format(doc);
	if (!dry_run) {
		if (feature_lock_write(path, doc, cause) != 0)
			goto out;
		/* With includeLockfile the client says where it wrote it. */
		if (include_lockfile)
			lock = feature_lock_answer(cfg, text);
		if (lock == NULL)
			progress_line(r->progress, "Wrote %s", path);
	}
	*result = cJSON_CreateObject();
	cJSON_AddStringToObject(*result, "outcome", "success");
	cJSON_AddStringToObject(*result, "lockfile", path);
	cJSON_AddStringToObject(*result, "text", text);
	cJSON_AddBoolToObject(*result, "written", !dry_run);
	cJSON_AddBoolToObject(*result, "configUpdated", changed);
	if (lock != NULL)
		cJSON_AddItemToObject(*result, "workspaceLockfile", lock);
	lock = NULL;
	rc = 0;
out:
	cJSON_Delete(lock);
	cJSON_Delete(doc);
	free(text);
	free(path);
	feature_set_free(fs);
	config_free(cfg);
	return rc;
}

const struct agent_op agent_op_upgrade = { "upgrade", AGENT_OP_WORKSPACE, op_upgrade_run,
	"resolve the Features' tags afresh and write devcontainer-lock.json" };
