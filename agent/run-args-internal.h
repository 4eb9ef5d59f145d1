/* run-args-internal.h - the pieces of run_args_apply (run-args.h), shared by
 * its modules: run-args.c (the flag table, the argv scanner, the checks after
 * all options), run-args-body.c (editing the ContainerCreate body, warnings),
 * run-args-parse.c (value parsers with Go semantics), and the option handlers:
 * run-args-opts.c (most options), run-args-net.c (hosts, DNS, network),
 * run-args-devices.c (devices and their cgroup rules, GPUs, block I/O),
 * run-args-health.c (the healthcheck), run-args-ports.c (-p, --expose),
 * run-args-volumes.c (-v, --mount) and run-args-envfile.c (--env-file).
 *
 * Every function here works on the state of one run_args_apply call; none
 * keeps anything between calls.
 */
#ifndef RDEV_RUN_ARGS_INTERNAL_H
#define RDEV_RUN_ARGS_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "run-args.h"

/* Largest integer a JSON number (a double) carries exactly. */
#define RUN_ARGS_MAX_EXACT 9007199254740992LL

struct run_args_flag;
struct run_args_ports;
struct run_args_health;

/* The state of one run_args_apply call. */
struct run_args {
	cJSON *body;
	char *name;
	char **warnings;
	size_t nwarnings;
	int index;		      /* runArgs index of the option being applied */
	int rm;			      /* --rm given */
	int restart;		      /* --restart given with a policy other than "no" */
	char *network;		      /* --network value */
	cJSON *aliases;		      /* --network-alias values, applied at the end */
	int log_opts;		      /* --log-opt given */
	struct run_args_ports *ports; /* index of published/exposed ports */
	char *ipv4, *ipv6;	      /* --ip, --ip6 */
	cJSON *link_local;	      /* --link-local-ip values */
	cJSON *links;		      /* --link values */
	struct run_args_health *health;	    /* --health-*, --no-healthcheck */
	const struct run_args_files *files; /* --env-file's reader, or NULL */
	cJSON *env_files;		    /* their KEY=VALUE, or NULL */
};

/* An option's handler: apply value v of option f to st's body. 0, or -1
 * with *cause (without the "runArgs[N]: --flag" prefix, which the caller
 * adds). Booleans come as "1" or "0". */
typedef int (*run_args_fn)(
    struct run_args *, const struct run_args_flag *, const char *, char **);

enum run_args_kind {
	RUN_ARGS_VALUE, /* takes a value */
	RUN_ARGS_BOOL,	/* "--flag" or "--flag=true|false" */
};

struct run_args_flag {
	const char *name; /* long name, without "--" */
	char shorthand;	  /* or 0 */
	enum run_args_kind kind;
	run_args_fn fn; /* NULL: refused with why */
	int host;	/* field is in HostConfig (else top level) */
	const char *field;
	const char *why;
};

/* run-args-body.c: the body's HostConfig (created if missing), the object a
 * flag's field is in, and setting, appending to and adding keys to its
 * fields. Returned items are borrowed from st->body. */
cJSON *run_args_host(struct run_args *st);
cJSON *run_args_parent(struct run_args *st, const struct run_args_flag *f);
void run_args_set(cJSON *parent, const char *key, cJSON *item);
cJSON *run_args_child(cJSON *parent, const char *key, int type);
void run_args_append(cJSON *parent, const char *key, const char *value);
/* An integer as a JSON number that prints as its digits (Go's decoder takes
 * no exponent for an integer field). */
cJSON *run_args_number(int64_t n);
void run_args_map_set(cJSON *parent, const char *key, const char *k, const char *v);
void run_args_warn(struct run_args *st, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* run-args-parse.c: Go's parsers (0 on success, -1 if s is not valid);
 * run_args_path_clean returns a new string. */
int run_args_parse_bool(const char *s, int *out);
int run_args_parse_int(const char *s, int base, int64_t *out);
int run_args_ip(const char *s, char *out, size_t len);
char *run_args_path_clean(const char *path);

/* run-args-opts.c: handlers (run_args_fn) */
int run_args_string(
    struct run_args *st, const struct run_args_flag *f, const char *v, char **cause);
int run_args_list(
    struct run_args *st, const struct run_args_flag *f, const char *v, char **cause);
int run_args_bool(
    struct run_args *st, const struct run_args_flag *f, const char *v, char **cause);
int run_args_bool_sticky(
    struct run_args *st, const struct run_args_flag *f, const char *v, char **cause);
int run_args_int(
    struct run_args *st, const struct run_args_flag *f, const char *v, char **cause);
int run_args_bytes(
    struct run_args *st, const struct run_args_flag *f, const char *v, char **cause);
int run_args_memory_swap(
    struct run_args *st, const struct run_args_flag *f, const char *v, char **cause);
int run_args_swappiness(
    struct run_args *st, const struct run_args_flag *f, const char *v, char **cause);
int run_args_cpus(
    struct run_args *st, const struct run_args_flag *f, const char *v, char **cause);
int run_args_env(
    struct run_args *st, const struct run_args_flag *f, const char *v, char **cause);
int run_args_label(
    struct run_args *st, const struct run_args_flag *f, const char *v, char **cause);
int run_args_sysctl(
    struct run_args *st, const struct run_args_flag *f, const char *v, char **cause);
int run_args_tmpfs(
    struct run_args *st, const struct run_args_flag *f, const char *v, char **cause);
int run_args_log_opt(
    struct run_args *st, const struct run_args_flag *f, const char *v, char **cause);
int run_args_log_driver(
    struct run_args *st, const struct run_args_flag *f, const char *v, char **cause);
int run_args_security_opt(
    struct run_args *st, const struct run_args_flag *f, const char *v, char **cause);
int run_args_ulimit(
    struct run_args *st, const struct run_args_flag *f, const char *v, char **cause);
int run_args_name(
    struct run_args *st, const struct run_args_flag *f, const char *v, char **cause);
int run_args_entrypoint(
    struct run_args *st, const struct run_args_flag *f, const char *v, char **cause);
int run_args_restart(
    struct run_args *st, const struct run_args_flag *f, const char *v, char **cause);
int run_args_ns(
    struct run_args *st, const struct run_args_flag *f, const char *v, char **cause);
int run_args_userns(
    struct run_args *st, const struct run_args_flag *f, const char *v, char **cause);
int run_args_cgroupns(
    struct run_args *st, const struct run_args_flag *f, const char *v, char **cause);
int run_args_rm(
    struct run_args *st, const struct run_args_flag *f, const char *v, char **cause);
int run_args_attach(
    struct run_args *st, const struct run_args_flag *f, const char *v, char **cause);
int run_args_ignore(
    struct run_args *st, const struct run_args_flag *f, const char *v, char **cause);
int run_args_uint(
    struct run_args *st, const struct run_args_flag *f, const char *v, char **cause);
int run_args_storage_opt(
    struct run_args *st, const struct run_args_flag *f, const char *v, char **cause);

/* run-args-envfile.c: the --env-file handler (st->files not NULL); its
 * parser, adding the file's variables (path: for messages) to vars; and the
 * last step, which adds them to the body's Env under every -e. */
int run_args_env_file(
    struct run_args *st, const struct run_args_flag *f, const char *v, char **cause);
int run_args_env_file_parse(struct run_args *st, const char *path, const char *text,
    size_t len, cJSON *vars, char **cause);
void run_args_env_files_finish(struct run_args *st);

/* run-args-net.c: handlers (run_args_fn) */
int run_args_add_host(
    struct run_args *st, const struct run_args_flag *f, const char *v, char **cause);
int run_args_dns(
    struct run_args *st, const struct run_args_flag *f, const char *v, char **cause);
int run_args_dns_search(
    struct run_args *st, const struct run_args_flag *f, const char *v, char **cause);
int run_args_network(
    struct run_args *st, const struct run_args_flag *f, const char *v, char **cause);
int run_args_alias(
    struct run_args *st, const struct run_args_flag *f, const char *v, char **cause);
int run_args_ip_addr(
    struct run_args *st, const struct run_args_flag *f, const char *v, char **cause);
int run_args_link_local(
    struct run_args *st, const struct run_args_flag *f, const char *v, char **cause);
int run_args_link(
    struct run_args *st, const struct run_args_flag *f, const char *v, char **cause);
int run_args_mac(
    struct run_args *st, const struct run_args_flag *f, const char *v, char **cause);
/* The endpoint options (--network-alias, --ip, --ip6, --link-local-ip,
 * --link) applied to NetworkingConfig once all options are seen. */
int run_args_net_finish(struct run_args *st, char **cause);

/* run-args-devices.c: handlers (run_args_fn) */
int run_args_device(
    struct run_args *st, const struct run_args_flag *f, const char *v, char **cause);
int run_args_cgroup_rule(
    struct run_args *st, const struct run_args_flag *f, const char *v, char **cause);
int run_args_gpus(
    struct run_args *st, const struct run_args_flag *f, const char *v, char **cause);
int run_args_blkio_weight(
    struct run_args *st, const struct run_args_flag *f, const char *v, char **cause);
int run_args_weight_device(
    struct run_args *st, const struct run_args_flag *f, const char *v, char **cause);
int run_args_throttle_device(
    struct run_args *st, const struct run_args_flag *f, const char *v, char **cause);

/* run-args-health.c: handlers (run_args_fn) of --health-cmd,
 * --health-interval, --health-timeout, --health-start-period,
 * --health-retries and --no-healthcheck; the Healthcheck they make, set in
 * the body once all options are seen; and freeing st->health (NULL is a
 * no-op). */
int run_args_health(
    struct run_args *st, const struct run_args_flag *f, const char *v, char **cause);
int run_args_health_finish(struct run_args *st, char **cause);
void run_args_health_free(struct run_args_health *h);

/* run-args-ports.c: handlers (run_args_fn), and freeing st->ports (the
 * index of the body's ports the handlers build; NULL is a no-op). */
int run_args_publish(
    struct run_args *st, const struct run_args_flag *f, const char *v, char **cause);
int run_args_expose(
    struct run_args *st, const struct run_args_flag *f, const char *v, char **cause);
void run_args_ports_free(struct run_args_ports *p);

/* run-args-volumes.c: handlers (run_args_fn) */
int run_args_volume(
    struct run_args *st, const struct run_args_flag *f, const char *v, char **cause);
int run_args_mount(
    struct run_args *st, const struct run_args_flag *f, const char *v, char **cause);

#endif
