/* feature-lock.h - devcontainer-lock.json, which pins a configuration's OCI
 * and tarball Features to digests, as the reference CLI (0.89.0) reads and
 * writes it:
 *
 *   {
 *     "features": {
 *       "<id as devcontainer.json writes it>": {
 *         "version": "1.2.3",
 *         "resolved": "registry/path@sha256:...",  (a tarball: its URL)
 *         "integrity": "sha256:...",
 *         "dependsOn": [ "..." ]          (only when the Feature has some)
 *       }
 *     }
 *   }
 *
 * written as JSON.stringify(lock, null, 2) plus a newline, ids sorted as the
 * reference's localeCompare sorts them. Local Features have no entry (a
 * configuration with only local ones gets {"features": {}}), nor do the
 * Features that only `--additional-features` asks for.
 *
 * When it is written (the reference's rules, feature_lock_update()): by up
 * and build each time they build an image with Features (FEATURE_LOCK_WRITE:
 * left alone when it already holds that, compared as JSON.stringify of its
 * JSON.parse), never with --no-lockfile (FEATURE_LOCK_NONE, which does not
 * read it either), and with --frozen-lockfile (FEATURE_LOCK_FROZEN) never
 * but it must exist and hold exactly that; by upgrade always, from the
 * Features resolved afresh (their tags, not the pins). Written atomically.
 */
#ifndef RDEV_FEATURE_LOCK_H
#define RDEV_FEATURE_LOCK_H

#include <cjson/cJSON.h>

struct config;
struct feature_set;
struct progress;

/* What up and build do with the lockfile (struct up_opts). */
enum feature_lock_mode {
	FEATURE_LOCK_WRITE = 0, /* read it, write or update it (the default) */
	FEATURE_LOCK_NONE,	/* --no-lockfile: neither read nor write it */
	FEATURE_LOCK_FROZEN,	/* --frozen-lockfile: read it, it must match */
};

/* One devcontainer-lock.json entry. */
struct feature_lock_entry {
	char *version;	   /* the Feature's version (devcontainer-feature.json) */
	char *resolved;	   /* registry/path@sha256:..., or the tarball URL */
	char *integrity;   /* sha256:... */
	char **depends_on; /* NULL-terminated, or NULL when none */
};

/* The lockfile's path beside a devcontainer.json: devcontainer-lock.json, or
 * .devcontainer-lock.json when the config's name starts with a dot (the
 * reference's rule). New string. */
char *feature_lock_path(const char *config_path);
/* Read the lockfile at path: *doc is its tree (NULL when the file does not
 * exist or is empty), or -1 with *cause (unreadable, not JSON, wrong shape). */
int feature_lock_read(const char *path, cJSON **doc, char **cause);
/* The entry for id in doc (may be NULL): 1 with *e filled (free with
 * feature_lock_entry_clear), 0 when there is none, -1 with *cause when it is
 * malformed. */
int feature_lock_get(
    const cJSON *doc, const char *id, struct feature_lock_entry *e, char **cause);
/* Set (or replace) id's entry in *doc (created when NULL). */
void feature_lock_set(cJSON **doc, const char *id, const struct feature_lock_entry *e);
/* The lockfile of the resolved Features fs, as the reference makes it: an
 * entry for each OCI and tarball Feature (dependencies too), keyed by its id
 * as written, but none for an id that the object additional (the
 * --additional-features, may be NULL) has and the configuration's
 * "features" object does not. A new tree, {"features":{}} at least. */
cJSON *feature_lock_of_set(
    const struct feature_set *fs, const cJSON *features, const cJSON *additional);
/* The file's text as the reference writes it: features sorted by id,
 * JSON.stringify(lock, null, 2) and a newline. New string. */
char *feature_lock_format(const cJSON *doc);
/* text (len bytes) as the reference compares an existing lockfile:
 * JSON.stringify(JSON.parse(text), null, 2) and a newline, the members in
 * the order they have. New string, or NULL when text is not JSON. */
char *feature_lock_normalize(const char *text, size_t len);
/* Why the lockfile have (may be NULL: not JSON) does not pin what want
 * does: "Feature 'ID' is not in it", "... is in it but not resolved",
 * "Feature 'ID': it has {...}, the Feature resolves to {...}", the first
 * id in sorted order; or, when every entry agrees, that its order or other
 * properties differ. New string. */
char *feature_lock_diff(const cJSON *have, const cJSON *want);
/* The reference's end of Feature resolution in up and build: with frozen
 * 0, write doc to path unless the file already holds it (compared after
 * feature_lock_normalize()); with frozen 1, write nothing and fail unless it
 * holds it. 1 written, 0 already so, or -1 with *cause naming path (and,
 * frozen, the Feature that differs). */
int feature_lock_update(const char *path, const cJSON *doc, int frozen, char **cause);
/* The same, with *now (not NULL: new, the caller frees; else NULL on -1)
 * the file's text afterwards: the bytes it held when it was left alone
 * (the same JSON, spaced as its author spaced it), else what was
 * written. */
int feature_lock_update_text(
    const char *path, const cJSON *doc, int frozen, char **now, char **cause);
/* The lockfile step of up and build, after cfg's Features were resolved
 * (fs) and before anything is built: nothing when there are none or mode is
 * FEATURE_LOCK_NONE, else feature_lock_update() on the lockfile beside
 * cfg's devcontainer.json (a line to p when it is written). additional: as
 * feature_lock_of_set(). text, when not NULL, is for a caller that reports
 * the lockfile itself (a client that copies it into the folder it uploaded):
 * in FEATURE_LOCK_WRITE mode *text gets what the file holds now (new
 * string, the caller frees), written or not, and no line goes to p unless
 * the file is outside cfg's workspace (feature_lock_answer() NULL); else
 * *text is NULL. 1 when the file was written and its line left to the
 * caller (feature_lock_unreported() if the answer never goes), 0, or -1
 * with *cause. */
int feature_lock_apply(const struct config *cfg, const struct feature_set *fs,
    const cJSON *additional, enum feature_lock_mode mode, const struct progress *p,
    char **text, char **cause);
/* The line feature_lock_apply() left to the answer, for when no answer
 * goes (the up or build failed after the write): "Wrote PATH" to p. */
void feature_lock_unreported(const struct config *cfg, const struct progress *p);
/* The "workspaceLockfile" member of an up, build or upgrade answer
 * (docs/PROTOCOL.md): {"path": the lockfile beside cfg's devcontainer.json,
 * relative to cfg's workspace folder, "text": text}. NULL when text is NULL
 * or the lockfile is not inside the workspace folder (a --config elsewhere:
 * there is no place for it in the client's folder). New object. */
cJSON *feature_lock_answer(const struct config *cfg, const char *text);
/* Write doc to path atomically (upgrade). 0 or -1 with *cause. */
int feature_lock_write(const char *path, const cJSON *doc, char **cause);
void feature_lock_entry_clear(struct feature_lock_entry *e);

#endif
