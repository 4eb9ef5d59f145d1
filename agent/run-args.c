/* run-args.c - devcontainer.json runArgs applied to a ContainerCreate body:
 * the table of options, the scanner of the argv (pflag's syntax), and what is
 * done once all options are seen (run-args-internal.h). The options'
 * handlers: run-args-opts.c, run-args-net.c, run-args-devices.c,
 * run-args-ports.c, run-args-volumes.c. */
#include "run-args-internal.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "error.h"
#include "xmalloc.h"

/* Where a flag's value goes in the create body. */
#define RUN_ARGS_IN_HOST 1   /* in HostConfig */
#define RUN_ARGS_IN_CONFIG 0 /* in Config (the top level of the body) */
static const struct run_args_flag run_args_flags[] = {
	{ "add-host", 0, RUN_ARGS_VALUE, run_args_add_host, RUN_ARGS_IN_HOST,
	    "ExtraHosts", NULL },
	{ "attach", 'a', RUN_ARGS_VALUE, run_args_attach, RUN_ARGS_IN_CONFIG, NULL,
	    NULL },
	{ "blkio-weight", 0, RUN_ARGS_VALUE, run_args_blkio_weight, RUN_ARGS_IN_HOST,
	    "BlkioWeight", NULL },
	{ "blkio-weight-device", 0, RUN_ARGS_VALUE, run_args_weight_device,
	    RUN_ARGS_IN_HOST, "BlkioWeightDevice", NULL },
	{ "cap-add", 0, RUN_ARGS_VALUE, run_args_list, RUN_ARGS_IN_HOST, "CapAdd", NULL },
	{ "cap-drop", 0, RUN_ARGS_VALUE, run_args_list, RUN_ARGS_IN_HOST, "CapDrop",
	    NULL },
	{ "cgroup-parent", 0, RUN_ARGS_VALUE, run_args_string, RUN_ARGS_IN_HOST,
	    "CgroupParent", NULL },
	{ "cgroupns", 0, RUN_ARGS_VALUE, run_args_cgroupns, RUN_ARGS_IN_HOST,
	    "CgroupnsMode", NULL },
	{ "cpu-count", 0, RUN_ARGS_VALUE, run_args_int, RUN_ARGS_IN_HOST, "CpuCount",
	    NULL },
	{ "cpu-percent", 0, RUN_ARGS_VALUE, run_args_int, RUN_ARGS_IN_HOST, "CpuPercent",
	    NULL },
	{ "cpu-period", 0, RUN_ARGS_VALUE, run_args_int, RUN_ARGS_IN_HOST, "CpuPeriod",
	    NULL },
	{ "cpu-quota", 0, RUN_ARGS_VALUE, run_args_int, RUN_ARGS_IN_HOST, "CpuQuota",
	    NULL },
	{ "cpu-rt-period", 0, RUN_ARGS_VALUE, run_args_int, RUN_ARGS_IN_HOST,
	    "CpuRealtimePeriod", NULL },
	{ "cpu-rt-runtime", 0, RUN_ARGS_VALUE, run_args_int, RUN_ARGS_IN_HOST,
	    "CpuRealtimeRuntime", NULL },
	{ "cpu-shares", 'c', RUN_ARGS_VALUE, run_args_int, RUN_ARGS_IN_HOST, "CpuShares",
	    NULL },
	{ "cpus", 0, RUN_ARGS_VALUE, run_args_cpus, RUN_ARGS_IN_HOST, "NanoCpus", NULL },
	{ "cpuset-cpus", 0, RUN_ARGS_VALUE, run_args_string, RUN_ARGS_IN_HOST,
	    "CpusetCpus", NULL },
	{ "cpuset-mems", 0, RUN_ARGS_VALUE, run_args_string, RUN_ARGS_IN_HOST,
	    "CpusetMems", NULL },
	{ "detach", 'd', RUN_ARGS_BOOL, run_args_ignore, RUN_ARGS_IN_CONFIG, NULL, NULL },
	{ "detach-keys", 0, RUN_ARGS_VALUE, run_args_ignore, RUN_ARGS_IN_CONFIG, NULL,
	    NULL },
	{ "device", 0, RUN_ARGS_VALUE, run_args_device, RUN_ARGS_IN_HOST, "Devices",
	    NULL },
	{ "device-cgroup-rule", 0, RUN_ARGS_VALUE, run_args_cgroup_rule, RUN_ARGS_IN_HOST,
	    "DeviceCgroupRules", NULL },
	{ "device-read-bps", 0, RUN_ARGS_VALUE, run_args_throttle_device,
	    RUN_ARGS_IN_HOST, "BlkioDeviceReadBps", NULL },
	{ "device-read-iops", 0, RUN_ARGS_VALUE, run_args_throttle_device,
	    RUN_ARGS_IN_HOST, "BlkioDeviceReadIOps", NULL },
	{ "device-write-bps", 0, RUN_ARGS_VALUE, run_args_throttle_device,
	    RUN_ARGS_IN_HOST, "BlkioDeviceWriteBps", NULL },
	{ "device-write-iops", 0, RUN_ARGS_VALUE, run_args_throttle_device,
	    RUN_ARGS_IN_HOST, "BlkioDeviceWriteIOps", NULL },
	{ "dns", 0, RUN_ARGS_VALUE, run_args_dns, RUN_ARGS_IN_HOST, "Dns", NULL },
	{ "dns-opt", 0, RUN_ARGS_VALUE, run_args_list, RUN_ARGS_IN_HOST, "DnsOptions",
	    NULL },
	{ "dns-option", 0, RUN_ARGS_VALUE, run_args_list, RUN_ARGS_IN_HOST, "DnsOptions",
	    NULL },
	{ "dns-search", 0, RUN_ARGS_VALUE, run_args_dns_search, RUN_ARGS_IN_HOST,
	    "DnsSearch", NULL },
	{ "domainname", 0, RUN_ARGS_VALUE, run_args_string, RUN_ARGS_IN_CONFIG,
	    "Domainname", NULL },
	{ "entrypoint", 0, RUN_ARGS_VALUE, run_args_entrypoint, RUN_ARGS_IN_CONFIG,
	    "Entrypoint", NULL },
	{ "env", 'e', RUN_ARGS_VALUE, run_args_env, RUN_ARGS_IN_CONFIG, "Env", NULL },
	{ "env-file", 0, RUN_ARGS_VALUE, run_args_env_file, RUN_ARGS_IN_CONFIG, "Env",
	    NULL },
	{ "expose", 0, RUN_ARGS_VALUE, run_args_expose, RUN_ARGS_IN_CONFIG,
	    "ExposedPorts", NULL },
	{ "gpus", 0, RUN_ARGS_VALUE, run_args_gpus, RUN_ARGS_IN_HOST, "DeviceRequests",
	    NULL },
	{ "group-add", 0, RUN_ARGS_VALUE, run_args_list, RUN_ARGS_IN_HOST, "GroupAdd",
	    NULL },
	{ "health-cmd", 0, RUN_ARGS_VALUE, run_args_health, RUN_ARGS_IN_CONFIG,
	    "Healthcheck", NULL },
	{ "health-interval", 0, RUN_ARGS_VALUE, run_args_health, RUN_ARGS_IN_CONFIG,
	    "Healthcheck", NULL },
	{ "health-retries", 0, RUN_ARGS_VALUE, run_args_health, RUN_ARGS_IN_CONFIG,
	    "Healthcheck", NULL },
	{ "health-start-period", 0, RUN_ARGS_VALUE, run_args_health, RUN_ARGS_IN_CONFIG,
	    "Healthcheck", NULL },
	{ "health-timeout", 0, RUN_ARGS_VALUE, run_args_health, RUN_ARGS_IN_CONFIG,
	    "Healthcheck", NULL },
	{ "hostname", 'h', RUN_ARGS_VALUE, run_args_string, RUN_ARGS_IN_CONFIG,
	    "Hostname", NULL },
	{ "init", 0, RUN_ARGS_BOOL, run_args_bool_sticky, RUN_ARGS_IN_HOST, "Init",
	    NULL },
	{ "interactive", 'i', RUN_ARGS_BOOL, run_args_bool, RUN_ARGS_IN_CONFIG,
	    "OpenStdin", NULL },
	{ "io-maxbandwidth", 0, RUN_ARGS_VALUE, run_args_bytes, RUN_ARGS_IN_HOST,
	    "IOMaximumBandwidth", NULL },
	{ "io-maxiops", 0, RUN_ARGS_VALUE, run_args_uint, RUN_ARGS_IN_HOST,
	    "IOMaximumIOps", NULL },
	{ "ip", 0, RUN_ARGS_VALUE, run_args_ip_addr, RUN_ARGS_IN_CONFIG, NULL, NULL },
	{ "ip6", 0, RUN_ARGS_VALUE, run_args_ip_addr, RUN_ARGS_IN_CONFIG, NULL, NULL },
	{ "ipc", 0, RUN_ARGS_VALUE, run_args_string, RUN_ARGS_IN_HOST, "IpcMode", NULL },
	{ "isolation", 0, RUN_ARGS_VALUE, run_args_string, RUN_ARGS_IN_HOST, "Isolation",
	    NULL },
	{ "kernel-memory", 0, RUN_ARGS_VALUE, run_args_bytes, RUN_ARGS_IN_HOST,
	    "KernelMemory", NULL },
	{ "label", 'l', RUN_ARGS_VALUE, run_args_label, RUN_ARGS_IN_CONFIG, "Labels",
	    NULL },
	{ "link", 0, RUN_ARGS_VALUE, run_args_link, RUN_ARGS_IN_HOST, "Links", NULL },
	{ "link-local-ip", 0, RUN_ARGS_VALUE, run_args_link_local, RUN_ARGS_IN_CONFIG,
	    NULL, NULL },
	{ "log-driver", 0, RUN_ARGS_VALUE, run_args_log_driver, RUN_ARGS_IN_HOST,
	    "LogConfig", NULL },
	{ "log-opt", 0, RUN_ARGS_VALUE, run_args_log_opt, RUN_ARGS_IN_HOST, "LogConfig",
	    NULL },
	{ "mac-address", 0, RUN_ARGS_VALUE, run_args_mac, RUN_ARGS_IN_CONFIG,
	    "MacAddress", NULL },
	{ "memory", 'm', RUN_ARGS_VALUE, run_args_bytes, RUN_ARGS_IN_HOST, "Memory",
	    NULL },
	{ "memory-reservation", 0, RUN_ARGS_VALUE, run_args_bytes, RUN_ARGS_IN_HOST,
	    "MemoryReservation", NULL },
	{ "memory-swap", 0, RUN_ARGS_VALUE, run_args_memory_swap, RUN_ARGS_IN_HOST,
	    "MemorySwap", NULL },
	{ "memory-swappiness", 0, RUN_ARGS_VALUE, run_args_swappiness, RUN_ARGS_IN_HOST,
	    "MemorySwappiness", NULL },
	{ "mount", 0, RUN_ARGS_VALUE, run_args_mount, RUN_ARGS_IN_HOST, "Mounts", NULL },
	{ "name", 0, RUN_ARGS_VALUE, run_args_name, RUN_ARGS_IN_CONFIG, NULL, NULL },
	{ "net", 0, RUN_ARGS_VALUE, run_args_network, RUN_ARGS_IN_HOST, "NetworkMode",
	    NULL },
	{ "net-alias", 0, RUN_ARGS_VALUE, run_args_alias, RUN_ARGS_IN_CONFIG, NULL,
	    NULL },
	{ "network", 0, RUN_ARGS_VALUE, run_args_network, RUN_ARGS_IN_HOST, "NetworkMode",
	    NULL },
	{ "network-alias", 0, RUN_ARGS_VALUE, run_args_alias, RUN_ARGS_IN_CONFIG, NULL,
	    NULL },
	{ "no-healthcheck", 0, RUN_ARGS_BOOL, run_args_health, RUN_ARGS_IN_CONFIG,
	    "Healthcheck", NULL },
	{ "oom-kill-disable", 0, RUN_ARGS_BOOL, run_args_bool, RUN_ARGS_IN_HOST,
	    "OomKillDisable", NULL },
	{ "oom-score-adj", 0, RUN_ARGS_VALUE, run_args_int, RUN_ARGS_IN_HOST,
	    "OomScoreAdj", NULL },
	{ "pid", 0, RUN_ARGS_VALUE, run_args_ns, RUN_ARGS_IN_HOST, "PidMode", NULL },
	{ "pids-limit", 0, RUN_ARGS_VALUE, run_args_int, RUN_ARGS_IN_HOST, "PidsLimit",
	    NULL },
	{ "privileged", 0, RUN_ARGS_BOOL, run_args_bool_sticky, RUN_ARGS_IN_HOST,
	    "Privileged", NULL },
	{ "publish", 'p', RUN_ARGS_VALUE, run_args_publish, RUN_ARGS_IN_HOST,
	    "PortBindings", NULL },
	{ "publish-all", 'P', RUN_ARGS_BOOL, run_args_bool, RUN_ARGS_IN_HOST,
	    "PublishAllPorts", NULL },
	{ "quiet", 'q', RUN_ARGS_BOOL, run_args_ignore, RUN_ARGS_IN_CONFIG, NULL, NULL },
	{ "read-only", 0, RUN_ARGS_BOOL, run_args_bool, RUN_ARGS_IN_HOST,
	    "ReadonlyRootfs", NULL },
	{ "restart", 0, RUN_ARGS_VALUE, run_args_restart, RUN_ARGS_IN_HOST,
	    "RestartPolicy", NULL },
	{ "rm", 0, RUN_ARGS_BOOL, run_args_rm, RUN_ARGS_IN_CONFIG, NULL, NULL },
	{ "runtime", 0, RUN_ARGS_VALUE, run_args_string, RUN_ARGS_IN_HOST, "Runtime",
	    NULL },
	{ "security-opt", 0, RUN_ARGS_VALUE, run_args_security_opt, RUN_ARGS_IN_HOST,
	    "SecurityOpt", NULL },
	{ "shm-size", 0, RUN_ARGS_VALUE, run_args_bytes, RUN_ARGS_IN_HOST, "ShmSize",
	    NULL },
	{ "sig-proxy", 0, RUN_ARGS_BOOL, run_args_ignore, RUN_ARGS_IN_CONFIG, NULL,
	    NULL },
	{ "stop-signal", 0, RUN_ARGS_VALUE, run_args_string, RUN_ARGS_IN_CONFIG,
	    "StopSignal", NULL },
	{ "stop-timeout", 0, RUN_ARGS_VALUE, run_args_int, RUN_ARGS_IN_CONFIG,
	    "StopTimeout", NULL },
	{ "storage-opt", 0, RUN_ARGS_VALUE, run_args_storage_opt, RUN_ARGS_IN_HOST,
	    "StorageOpt", NULL },
	{ "sysctl", 0, RUN_ARGS_VALUE, run_args_sysctl, RUN_ARGS_IN_HOST, "Sysctls",
	    NULL },
	{ "tmpfs", 0, RUN_ARGS_VALUE, run_args_tmpfs, RUN_ARGS_IN_HOST, "Tmpfs", NULL },
	{ "tty", 't', RUN_ARGS_BOOL, run_args_bool, RUN_ARGS_IN_CONFIG, "Tty", NULL },
	{ "ulimit", 0, RUN_ARGS_VALUE, run_args_ulimit, RUN_ARGS_IN_HOST, "Ulimits",
	    NULL },
	{ "user", 'u', RUN_ARGS_VALUE, run_args_string, RUN_ARGS_IN_CONFIG, "User",
	    NULL },
	{ "userns", 0, RUN_ARGS_VALUE, run_args_userns, RUN_ARGS_IN_HOST, "UsernsMode",
	    NULL },
	{ "uts", 0, RUN_ARGS_VALUE, run_args_ns, RUN_ARGS_IN_HOST, "UTSMode", NULL },
	{ "volume", 'v', RUN_ARGS_VALUE, run_args_volume, RUN_ARGS_IN_HOST, "Binds",
	    NULL },
	{ "volume-driver", 0, RUN_ARGS_VALUE, run_args_string, RUN_ARGS_IN_HOST,
	    "VolumeDriver", NULL },
	{ "volumes-from", 0, RUN_ARGS_VALUE, run_args_list, RUN_ARGS_IN_HOST,
	    "VolumesFrom", NULL },
	{ "workdir", 'w', RUN_ARGS_VALUE, run_args_string, RUN_ARGS_IN_CONFIG,
	    "WorkingDir", NULL },

	{ "label-file", 0, RUN_ARGS_VALUE, NULL, RUN_ARGS_IN_CONFIG, NULL,
	    "it would read a file on the Docker host" },
	{ "cidfile", 0, RUN_ARGS_VALUE, NULL, RUN_ARGS_IN_CONFIG, NULL,
	    "it would write a file on the Docker host" },
	{ "platform", 0, RUN_ARGS_VALUE, NULL, RUN_ARGS_IN_CONFIG, NULL,
	    "the image is pulled or built for the Docker "
	    "host's own platform" },
	{ "pull", 0, RUN_ARGS_VALUE, NULL, RUN_ARGS_IN_CONFIG, NULL,
	    "rdev pulls the image itself" },
	{ "annotation", 0, RUN_ARGS_VALUE, NULL, RUN_ARGS_IN_CONFIG, NULL,
	    "it needs Docker API 1.43 and rdev speaks 1.41 (the docker CLI "
	    "refuses it there too)" },
	{ "health-start-interval", 0, RUN_ARGS_VALUE, NULL, RUN_ARGS_IN_CONFIG, NULL,
	    "it needs Docker API 1.44 and rdev speaks 1.41 (the docker CLI "
	    "refuses it there too)" },
	{ "use-api-socket", 0, RUN_ARGS_BOOL, NULL, RUN_ARGS_IN_CONFIG, NULL,
	    "it would copy the client's registry credentials into the container; "
	    "mount the socket with mounts" },
	{ NULL, 0, RUN_ARGS_VALUE, NULL, RUN_ARGS_IN_CONFIG, NULL, NULL }
};

/* "--add-host, --attach (-a), ..." for error messages. New string. */
static char *
run_args_supported(void)
{
	const struct run_args_flag *f;
	struct buf *b = buf_new();

	char *s;

	for (f = run_args_flags; f->name != NULL; f++) {
		if (f->fn == NULL)
			continue;
		buf_appendf(b, "%s--%s", f == run_args_flags ? "" : ", ", f->name);
		if (f->shorthand != 0)
			buf_appendf(b, " (-%c)", f->shorthand);
	}
	s = buf_take_string(b, NULL);
	buf_free(b);
	return s;
}

static int
run_args_unknown(struct run_args *st, const char *flag, const char *in, char **cause)
{
	char *list = run_args_supported();

	if (in != NULL)
		error_set(cause,
		    "runArgs[%d]: \"%s\" (in \"%s\") is not supported by rdev "
		    "(supported: %s)",
		    st->index, flag, in, list);
	else
		error_set(cause,
		    "runArgs[%d]: \"%s\" is not supported by rdev (supported: "
		    "%s)",
		    st->index, flag, list);
	free(list);
	return -1;
}

/* Run one option's handler; shown is the option as written ("--cap-add",
 * "-e"). For booleans, value is the raw text and is turned into "1"/"0". */
static int
run_args_call(struct run_args *st, const struct run_args_flag *f, const char *shown,
    const char *value, char **cause)
{
	int b;

	if (f->fn == NULL)
		return error_set(cause,
		    "runArgs[%d]: \"%s\" is not supported by rdev: %s", st->index, shown,
		    f->why);
	/* (a caller with no reader: checks that read no files) */
	if (f->fn == run_args_env_file && st->files == NULL)
		return error_set(cause,
		    "runArgs[%d]: \"%s\" is not supported by rdev here: it would "
		    "read a file on the Docker host; use containerEnv",
		    st->index, shown);
	if (f->kind == RUN_ARGS_BOOL) {
		if (run_args_parse_bool(value, &b) != 0)
			return error_set(cause, "runArgs[%d]: %s: invalid boolean \"%s\"",
			    st->index, shown, value);
		value = b ? "1" : "0";
	}
	if (f->fn(st, f, value, cause) != 0)
		return error_prefix(cause, "runArgs[%d]: %s", st->index, shown);
	return 0;
}

/* "--name", "--name=value" or "--name value" (pflag's parseLongArg). */
static int
run_args_long(struct run_args *st, const char **argv, int argc, int *i, char **cause)
{
	const char *arg = argv[*i], *name = arg + 2, *eq = strchr(name, '='), *value;
	const struct run_args_flag *f;
	size_t len = eq != NULL ? (size_t)(eq - name) : strlen(name);
	char *shown;
	int rc;

	if (*name == '-' || *name == '=')
		return error_set(
		    cause, "runArgs[%d]: bad flag syntax: %s", st->index, arg);
	shown = xasprintf("--%.*s", (int)len, name);
	for (f = run_args_flags; f->name != NULL; f++)
		if (strlen(f->name) == len && strncmp(f->name, name, len) == 0)
			break;
	if (f->name == NULL) {
		rc = run_args_unknown(st, shown, NULL, cause);
		free(shown);
		return rc;
	}
	if (eq != NULL)
		value = eq + 1;
	else if (f->kind == RUN_ARGS_BOOL || f->fn == NULL)
		value = "true";
	else if (*i + 1 < argc)
		value = argv[++*i];
	else {
		error_set(cause, "runArgs[%d]: \"%s\" needs a value", st->index, shown);
		free(shown);
		return -1;
	}
	rc = run_args_call(st, f, shown, value, cause);
	free(shown);
	return rc;
}

/* "-e V", "-eV", "-e=V", "-it" (pflag's parseShortArg). */
static int
run_args_short(struct run_args *st, const char **argv, int argc, int *i, char **cause)
{
	const char *arg = argv[*i], *s = arg + 1, *value;
	const struct run_args_flag *f;
	char shown[3] = { '-', 0, 0 };
	int rc;

	while (*s != '\0') {
		shown[1] = *s;
		for (f = run_args_flags; f->name != NULL; f++)
			if (f->shorthand == *s)
				break;
		if (f->name == NULL)
			return run_args_unknown(
			    st, shown, strlen(arg) > 2 ? arg : NULL, cause);
		if (strlen(s) > 2 && s[1] == '=') {
			value = s + 2;
			s = "";
		} else if (f->kind == RUN_ARGS_BOOL) {
			value = "true";
			s++;
		} else if (s[1] != '\0') {
			value = s + 1;
			s = "";
		} else if (*i + 1 < argc) {
			value = argv[++*i];
			s = "";
		} else
			return error_set(
			    cause, "runArgs[%d]: \"%s\" needs a value", st->index, shown);
		if ((rc = run_args_call(st, f, shown, value, cause)) != 0)
			return rc;
	}
	return 0;
}

static int
run_args_strcmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* What the docker client library does to CapAdd and CapDrop before it sends
 * them: upper-case, "CAP_" prefix (but "ALL"), duplicates dropped, sorted. */
static void
run_args_caps(cJSON *hc, const char *key)
{
	cJSON *list = cJSON_GetObjectItemCaseSensitive(hc, key), *out;
	const cJSON *e;
	char **caps, *c, *p;
	size_t n = 0, i;

	if (!cJSON_IsArray(list) || cJSON_GetArraySize(list) == 0)
		return;
	caps = xreallocarray(NULL, (size_t)cJSON_GetArraySize(list), sizeof *caps);
	cJSON_ArrayForEach(e, list) {
		if (!cJSON_IsString(e))
			continue;
		c = xstrdup(e->valuestring);
		for (p = c; *p != '\0'; p++)
			*p = (char)toupper((unsigned char)*p);
		if (strcmp(c, "ALL") != 0 && strncmp(c, "CAP_", 4) != 0) {
			p = xasprintf("CAP_%s", c);
			free(c);
			c = p;
		}
		caps[n++] = c;
	}
	qsort(caps, n, sizeof *caps, run_args_strcmp);
	out = cJSON_CreateArray();
	for (i = 0; i < n; i++) {
		if (i == 0 || strcmp(caps[i], caps[i - 1]) != 0)
			cJSON_AddItemToArray(out, cJSON_CreateString(caps[i]));
	}
	for (i = 0; i < n; i++)
		free(caps[i]);
	free(caps);
	run_args_set(hc, key, out);
}

/* Checks and fields that need all options seen: log options need a driver,
 * the healthcheck options make one object, the endpoint options (aliases,
 * addresses, links) go to the endpoint of the network. */
static int
run_args_finish(struct run_args *st, char **cause)
{
	cJSON *hc, *lc;
	const cJSON *t;

	run_args_env_files_finish(st);
	if (st->rm && st->restart)
		return error_set(cause,
		    "runArgs: conflicting options: cannot specify both "
		    "--restart and --rm");
	if (st->log_opts) {
		lc = cJSON_GetObjectItemCaseSensitive(run_args_host(st), "LogConfig");
		t = cJSON_GetObjectItemCaseSensitive(lc, "Type");
		if (cJSON_IsString(t) && strcmp(t->valuestring, "none") == 0)
			return error_set(
			    cause, "runArgs: invalid logging opts for driver none");
	}
	hc = cJSON_GetObjectItemCaseSensitive(st->body, "HostConfig");
	if (cJSON_IsObject(hc)) {
		run_args_caps(hc, "CapAdd");
		run_args_caps(hc, "CapDrop");
	}
	if (run_args_health_finish(st, cause) != 0)
		return -1;
	return run_args_net_finish(st, cause);
}

int
run_args_apply(const cJSON *run_args, cJSON *create_body, char **name, char ***warnings,
    char **cause)
{
	return run_args_apply_files(run_args, create_body, NULL, name, warnings, cause);
}

int
run_args_apply_files(const cJSON *run_args, cJSON *create_body,
    const struct run_args_files *files, char **name, char ***warnings, char **cause)
{
	struct run_args st;
	const char **argv = NULL;
	const cJSON *e;
	int argc = 0, i, rc = -1;

	if (name != NULL)
		*name = NULL;
	if (warnings != NULL)
		*warnings = NULL;
	if (run_args != NULL && !cJSON_IsNull(run_args) && !cJSON_IsArray(run_args))
		return error_set(cause, "runArgs: not an array");
	if (!cJSON_IsObject(create_body))
		return error_set(cause, "runArgs: the create body is not an object");
	memset(&st, 0, sizeof st);
	st.body = create_body;
	st.files = files;

	argv =
	    xreallocarray(NULL, (size_t)cJSON_GetArraySize(run_args) + 1, sizeof *argv);
	cJSON_ArrayForEach(e, run_args) {
		if (!cJSON_IsString(e)) {
			error_set(cause, "runArgs[%d]: not a string", argc);
			goto out;
		}
		argv[argc++] = e->valuestring;
	}
	for (i = 0; i < argc; i++) {
		st.index = i;
		rc = -1;
		if (argv[i][0] != '-' || argv[i][1] == '\0') {
			error_set(cause,
			    "runArgs[%d]: unexpected argument \"%s\" (runArgs holds "
			    "docker run options only)",
			    i, argv[i]);
			goto out;
		}
		if (strcmp(argv[i], "--") == 0) {
			error_set(
			    cause, "runArgs[%d]: \"--\" is not supported by rdev", i);
			goto out;
		}
		if (argv[i][1] == '-')
			rc = run_args_long(&st, argv, argc, &i, cause);
		else
			rc = run_args_short(&st, argv, argc, &i, cause);
		if (rc != 0)
			goto out;
	}
	rc = run_args_finish(&st, cause);
out:
	free(argv);
	cJSON_Delete(st.aliases);
	cJSON_Delete(st.env_files);
	cJSON_Delete(st.link_local);
	cJSON_Delete(st.links);
	free(st.network);
	free(st.ipv4);
	free(st.ipv6);
	run_args_health_free(st.health);
	run_args_ports_free(st.ports);
	if (rc != 0) {
		free(st.name);
		run_args_warnings_free(st.warnings);
		return -1;
	}
	if (name != NULL)
		*name = st.name;
	else
		free(st.name);
	if (warnings != NULL)
		*warnings = st.warnings;
	else
		run_args_warnings_free(st.warnings);
	return 0;
}

void
run_args_warnings_free(char **warnings)
{
	xstrv_free(warnings);
}
