/* run-args.h - devcontainer.json `runArgs` (docker run options) applied to a
 * Docker Engine API ContainerCreate body.
 *
 * The reference CLI passes runArgs to `docker run`; rdev talks to the API, so
 * this module does what the docker CLI (cli/command/container/opts.go, pflag)
 * does with the same options: "--flag value", "--flag=value", "-e K=V",
 * "-eK=V", "-e=K=V", combined short booleans ("-it"), booleans with a value
 * ("--init=false"), repeated flags (lists append, scalars: the last wins).
 * Fields land where docker puts them: Config fields at the top level of the
 * body (Env, Labels, User, ...), the rest under "HostConfig", network aliases
 * under "NetworkingConfig". Fields already in the body are kept: lists are
 * appended to (HostConfig.CapAdd from capAdd), maps get keys set (Labels),
 * scalars are replaced. --privileged=false / --init=false do not clear a true
 * that is already there (in the reference, the configuration's privileged and
 * init come after runArgs on the command line). As the docker client library
 * does before sending, HostConfig.CapAdd/CapDrop (including entries already
 * in the body) are normalized: upper case, "CAP_" prefix, no duplicates,
 * sorted; and Ulimits are kept one per name, sorted by name.
 *
 * Every option is translated, ignored with a reason, or refused: an unknown
 * option is an error, never silently dropped. Ignored: -d/--detach,
 * --sig-proxy, -a/--attach, -q/--quiet, --detach-keys, and --rm (with a
 * warning: a dev container must persist). Refused: options that read files
 * on the Docker host (--label-file, --cidfile, seccomp profile files;
 * --env-file but through run_args_apply_files' reader), --platform, --pull,
 * the advanced --network syntax, more than one --network, CDI device names,
 * relative -v sources, options that need a newer API than the 1.41 rdev
 * speaks (--annotation, --health-start-interval; the docker CLI refuses them
 * against such a daemon too), --use-api-socket, and --ip/--ip6 off a
 * user-defined network (the daemon's refusal, which it gives only when the
 * container starts). --mac-address goes to Config.MacAddress, the field of
 * API 1.41.
 *
 * No I/O (an --env-file is read by the caller's reader), no globals; the
 * process environment is read for -e NAME and an env file's bare NAME
 * (the agent runs on the Docker host, docker's "local" machine): one it
 * lacks is passed on (-e) or left out (env file) as docker would, with a
 * warning.
 */
#ifndef RDEV_RUN_ARGS_H
#define RDEV_RUN_ARGS_H

#include <cjson/cJSON.h>

/* Apply runArgs (a JSON array of strings; NULL is an empty list) to
 * create_body (an object, modified in place). On success returns 0, *name
 * gets the last --name value (NULL if none; caller frees) and *warnings a
 * NULL-terminated array of warnings (NULL if none; free with
 * run_args_warnings_free). name and warnings may be NULL pointers (the values
 * are then dropped). On failure returns -1 with *cause naming the entry:
 * "runArgs[3]: \"--gpu\" is not supported by rdev (supported: ...)",
 * "runArgs[1]: \"--name\" needs a value", "runArgs[0]: --ulimit: invalid
 * ulimit type: foo"; create_body may then be partly modified, *name and
 * *warnings are NULL. */
int run_args_apply(const cJSON *run_args, cJSON *create_body, char **name,
    char ***warnings, char **cause);

/* How run_args_apply_files reads an --env-file: read(arg, path, &text,
 * &len, cause) gives 0 with the file's bytes in *text (NUL-terminated,
 * len without the NUL; the caller of read frees it), or -1 with *cause
 * naming the path and why. path is as runArgs gives it (relative ones are
 * the reader's to resolve). */
struct run_args_files {
	int (*read)(void *arg, const char *path, char **text, size_t *len, char **cause);
	void *arg;
};

/* run_args_apply, with --env-file read through files (NULL: refused, as by
 * run_args_apply): its lines are docker's env-file format (KEY=VALUE taken
 * as written, '#' comments, blank lines; a bare KEY takes this process's
 * value, and is left out with a warning when it has none: at most 5 such
 * warnings a file, then a count), several files in order, a later one's KEY
 * replacing an earlier's, and every -e (containerEnv's too) winning over
 * them, as with the docker CLI. A bad line (a NUL, invalid UTF-8, a name
 * with white space or none, over 64 KiB) is an error naming the file and
 * line. */
int run_args_apply_files(const cJSON *run_args, cJSON *create_body,
    const struct run_args_files *files, char **name, char ***warnings, char **cause);

/* Free a warnings array from run_args_apply; NULL is a no-op. */
void run_args_warnings_free(char **warnings);

#endif
