/* secrets.h - the reference CLI's --secrets-file: a JSON object whose string
 * values reach the lifecycle commands (and `exec`) as environment variables.
 *
 * The reference (@devcontainers/cli 0.89.0, readSecretsFromFile in
 * devContainersSpecCLI.ts) reads the file as JSONC on the machine the CLI
 * runs on, gives each command the environment { ...remoteEnv, ...secrets }
 * (a secret wins over remoteEnv and the probed environment), and replaces
 * every secret value in its log with "********" (replaceAllLog in
 * spec-utils/log.ts: longest value first, empty values left alone).
 *
 * rdev reads the file where the client runs, sends the values inside the
 * request (docs/PROTOCOL.md, "secrets"), never writes them anywhere, masks
 * them in what it prints, and wipes them (sodium_memzero) when done: the file
 * text, the parsed values, the requests that carried them and the
 * environments built from them.
 */
#ifndef RDEV_SECRETS_H
#define RDEV_SECRETS_H

#include <stddef.h>

#include <cjson/cJSON.h>

#define SECRETS_MASK "********"

struct secrets;

/* Read path: a JSON object (comments and trailing commas allowed) of string
 * values. 0 and *out (free with secrets_free()), or -1 with *cause naming
 * the file: "s.json:3:9: secret \"TOKEN\": expected a string, got number",
 * "s.json:1:1: expected a JSON object of strings, got array". The file's
 * text is wiped once parsed. Never quotes a value in a message. */
int secrets_read_file(const char *path, struct secrets **out, char **cause);
/* The secrets of a request's "secrets" member (an object of strings; NULL or
 * absent: *out is NULL). -1 with *cause when it is something else. */
int secrets_from_json(const cJSON *obj, struct secrets **out, char **cause);
/* The secrets as a JSON object, for a request. New object; wipe it with
 * secrets_json_wipe() before cJSON_Delete(). */
cJSON *secrets_to_json(const struct secrets *s);
/* Wipe and free. secrets_free(NULL) is a no-op. */
void secrets_free(struct secrets *s);
size_t secrets_count(const struct secrets *s);

/* text with every secret value replaced by SECRETS_MASK, longest first, as
 * the reference masks its log. New string (a copy when s is NULL). */
char *secrets_mask(const struct secrets *s, const char *text);
/* Where to cut text (len bytes, more may follow) at or before cut so that
 * no secret value is cut in two: the start of a value that a cut there would
 * split, or that text's last bytes begin (the rest may follow); cut when none
 * is, or when the value starts text (it cannot be kept whole). Each piece
 * masked by secrets_mask() then shows no byte of a secret. */
size_t secrets_cut(const struct secrets *s, const char *text, size_t len, size_t cut);
/* Mask *text in place (replacing the string: free()d and reallocated). No-op
 * when s or *text is NULL. */
void secrets_mask_inplace(const struct secrets *s, char **text);

/* Put the secrets into an environment ("K=V", NULL-terminated, from
 * env_dup() or the like): a secret replaces a variable of the same name or
 * is appended, and is taken out of unset (names; may be NULL), as the
 * reference's { ...remoteEnv, ...secrets } does. *env is reallocated;
 * replaced entries are wiped. Free the result with secrets_env_free(). */
void secrets_env_apply(const struct secrets *s, char ***env, char **unset);
/* Wipe each string of env, then free them and the array. NULL: no-op. */
void secrets_env_free(char **env);

/* Wipe every string value in item and below, in place. */
void secrets_json_wipe(cJSON *item);
/* Wipe the "secrets" member of a request, if any, before it is freed. */
void secrets_request_wipe(cJSON *request);

#endif
