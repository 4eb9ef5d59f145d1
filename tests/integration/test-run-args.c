/* test-run-args.c - runArgs and mount translations against the real daemon.
 *
 * Proves Docker accepts what run-args*.c and mount-spec.c build, and that it
 * stores the same container as `docker create` given the same options: a
 * container is created both ways and the two inspections are compared field
 * by field. One translated container is also started, and looked at from
 * inside.
 *
 * Needs the rig's Docker engine, the docker CLI, and the rig's image
 * rdev-test/busybox:r1; fails, not skips, without them. The containers made
 * here are rig.h's (the CLI's too, with its label): removed with their
 * anonymous volumes at exit.
 */
#include "test.h"

#include <errno.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "docker.h"
#include "mount-spec.h"
#include "rig.h"
#include "run-args.h"
#include "spawn.h"

static char test_dir[64]; /* a bind source made for this run */

__attribute__((destructor)) static void
cleanup(void)
{
	char path[128];

	if (test_dir[0] == '\0')
		return;
	snprintf(path, sizeof path, "%s/x", test_dir);
	unlink(path);
	rmdir(test_dir);
}

/* A directory to bind-mount, made once per run. */
static const char *
bind_dir(void)
{
	if (test_dir[0] == '\0') {
		snprintf(test_dir, sizeof test_dir, "/tmp/rdev-test-runargs.XXXXXX");
		if (mkdtemp(test_dir) == NULL) {
			test_dir[0] = '\0';
			TEST_FAIL("mkdtemp: %s", strerror(errno));
		}
		chmod(test_dir, 0755);
	}
	return test_dir;
}

/* A labelled create body with runArgs applied; the caller frees both. */
static cJSON *
translated(const char *const *args, int nargs, char **name)
{
	cJSON *body = rig_container_body(RIG_BUSYBOX, NULL), *a = cJSON_CreateArray();
	char *cause = NULL, **warnings = NULL;
	int i, rc;

	for (i = 0; i < nargs; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(args[i]));
	rc = run_args_apply(a, body, name, &warnings, &cause);
	cJSON_Delete(a);
	run_args_warnings_free(warnings);
	if (rc != 0) {
		cJSON_Delete(body);
		TEST_FAIL("run_args_apply: %s", cause);
	}
	return body;
}

static cJSON *
inspect(const char *id)
{
	cJSON *info = NULL;
	char *cause = NULL;

	if (docker_container_inspect(rig_docker(), id, &info, &cause) != 0 ||
	    info == NULL)
		TEST_FAIL("inspect %s: %s", id, cause != NULL ? cause : "not found");
	return info;
}

/* The same container made by `docker create --label RIG.LABEL ARGS IMAGE
 * CMD...`, as rig_container_body() makes it; its id. */
static char *
cli_create(const char *const *args, int nargs)
{
	const char **argv = calloc((size_t)nargs + 16, sizeof *argv);
	struct spawn_result res;
	char *cause = NULL, *id, *nl;
	int i, n = 0;

	rig_docker(); /* sets rig.label */
	argv[n++] = "docker";
	argv[n++] = "create";
	argv[n++] = "--label";
	argv[n++] = rig.label;
	for (i = 0; i < nargs; i++)
		argv[n++] = args[i];
	argv[n++] = RIG_BUSYBOX;
	for (i = 0; rig_container_cmd[i] != NULL; i++)
		argv[n++] = rig_container_cmd[i];
	argv[n] = NULL;
	if (spawn_run(argv, NULL, &res, &cause) != 0) {
		free(argv);
		TEST_FAIL("docker create: %s", cause);
	}
	free(argv);
	if (!res.exited || res.exit_code != 0) {
		fprintf(stderr, "%s", res.err);
		spawn_result_free(&res);
		TEST_FAIL("docker create failed");
	}
	if ((nl = strchr(res.out, '\n')) != NULL)
		*nl = '\0';
	id = strdup(res.out);
	spawn_result_free(&res);
	return id;
}

static int
compare_strings(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

/* The JSON text of a field; string arrays whose order the docker CLI does not
 * keep (it builds Env and Binds from maps) are sorted first. Caller frees. */
static char *
field_text(const cJSON *f, const char *key)
{
	const cJSON *e;
	char **v, *text;
	cJSON *sorted;
	int n = 0, i;

	if (f == NULL)
		return strdup("(absent)");
	if (!cJSON_IsArray(f) || (strcmp(key, "Env") != 0 && strcmp(key, "Binds") != 0))
		return cJSON_PrintUnformatted(f);
	v = calloc((size_t)cJSON_GetArraySize(f) + 1, sizeof *v);
	cJSON_ArrayForEach(e, f)
		if (cJSON_IsString(e))
			v[n++] = e->valuestring;
	qsort(v, (size_t)n, sizeof *v, compare_strings);
	sorted = cJSON_CreateArray();
	for (i = 0; i < n; i++)
		cJSON_AddItemToArray(sorted, cJSON_CreateString(v[i]));
	text = cJSON_PrintUnformatted(sorted);
	cJSON_Delete(sorted);
	free(v);
	return text;
}

/* Compare one field of two inspections; both are printed on a difference. */
static int
same_field(const cJSON *a, const cJSON *b, const char *section, const char *key)
{
	const cJSON *fa, *fb;
	char *ta, *tb;
	int same;

	fa = cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(a, section), key);
	fb = cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(b, section), key);
	ta = field_text(fa, key);
	tb = field_text(fb, key);
	same = strcmp(ta, tb) == 0;
	if (!same)
		fprintf(stderr, "  %s.%s:\n    docker CLI %s\n    rdev       %s\n",
		    section, key, ta, tb);
	free(ta);
	free(tb);
	return same;
}

TEST(same_container_as_docker_create)
{
	static const char *host_fields[] = { "Binds", "CapAdd", "CapDrop", "SecurityOpt",
		"Privileged", "Init", "PortBindings", "ExtraHosts", "Devices", "ShmSize",
		"Memory", "MemorySwap", "MemoryReservation", "NanoCpus", "CpuShares",
		"Ulimits", "IpcMode", "PidMode", "UTSMode", "UsernsMode", "Tmpfs",
		"Sysctls", "Dns", "DnsSearch", "DnsOptions", "GroupAdd", "Mounts",
		"RestartPolicy", "ReadonlyRootfs", "PidsLimit", "OomScoreAdj",
		"PublishAllPorts", "LogConfig", "DeviceCgroupRules", "CpusetCpus",
		"CgroupnsMode", NULL };
	static const char *config_fields[] = { "Env", "Labels", "User", "WorkingDir",
		"Hostname", "Domainname", "ExposedPorts", "Tty", "OpenStdin",
		"StopSignal", "StopTimeout", "Volumes", "Entrypoint", "Cmd", NULL };
	char bind[256], mount[256];
	const char *args[] = { "--cap-add", "sys_ptrace", "--cap-add=NET_ADMIN",
		"--cap-drop", "MKNOD", "--security-opt", "seccomp=unconfined",
		"--security-opt", "no-new-privileges", "--privileged=false", "--init",
		"-e", "A=1", "-eB=two words", "-l", "x=y", "--label=z", "-p",
		"127.0.0.1:18080:80", "-p", "9000/udp", "-p", "127.0.0.1::81", "--expose",
		"7000-7002", "--add-host", "foo:1.2.3.4", "--add-host=bar=::1",
		"--device", "/dev/null:/dev/mynull:r", "--shm-size", "128m", "-m", "256m",
		"--memory-swap", "512m", "--memory-reservation", "64m", "--cpus", "0.5",
		"-c", "512", "--ulimit", "nofile=1024:2048", "--ulimit", "core=-1",
		"--ipc", "private", "--pid=host", "--tmpfs", "/scratch:size=1m,mode=1777",
		"--sysctl", "net.ipv4.ip_forward=1", "--dns", "8.8.8.8", "--dns-search",
		"example.com", "--dns-option", "ndots:2", "--group-add", "1000", "-v",
		bind, "-v", "/anon", "--mount", mount, "--mount",
		"type=tmpfs,dst=/t,tmpfs-size=1m,tmpfs-mode=700", "--mount",
		"type=volume,dst=/v,volume-nocopy", "--restart", "on-failure:3",
		"--read-only", "--pids-limit", "100", "--oom-score-adj", "10",
		"--log-driver", "json-file", "--log-opt", "max-size=1m",
		"--device-cgroup-rule", "c 1:3 mr", "--cpuset-cpus", "0", "--cgroupns",
		"private", "-u", "1000:1000", "-w", "/tmp", "-h", "myhost",
		"--domainname", "example.org", "-t", "--stop-signal", "SIGINT",
		"--stop-timeout", "5", "--entrypoint", "/bin/sh" };
	int nargs = (int)(sizeof args / sizeof args[0]), i, ok = 1;
	char *cli_id, *id = NULL, *cause = NULL, *name = NULL;
	cJSON *body, *a, *b;

	rig_docker();
	snprintf(bind, sizeof bind, "%s:/w:ro", bind_dir());
	snprintf(mount, sizeof mount,
	    "type=bind,\"source=%s\",target=/m,readonly,"
	    "bind-propagation=rslave",
	    bind_dir());
	cli_id = cli_create(args, nargs);
	body = translated(args, nargs, &name);
	ASSERT_NULL(name);
	if (docker_container_create(rig_docker(), NULL, body, &id, &cause) != 0) {
		cJSON_Delete(body);
		free(cli_id);
		TEST_FAIL("create: %s", cause);
	}
	cJSON_Delete(body);
	a = inspect(cli_id);
	b = inspect(id);
	for (i = 0; host_fields[i] != NULL; i++)
		ok &= same_field(a, b, "HostConfig", host_fields[i]);
	for (i = 0; config_fields[i] != NULL; i++)
		ok &= same_field(a, b, "Config", config_fields[i]);
	cJSON_Delete(a);
	cJSON_Delete(b);
	free(cli_id);
	free(id);
	if (!ok)
		TEST_FAIL("the two containers differ (above)");
}

TEST(network_and_name)
{
	const char *name = rig_docker_name("runargs");
	const char *args[] = { "--network", "host", "--name", name };
	char *got = NULL, *id = NULL, *cause = NULL;
	cJSON *body, *info;
	const cJSON *hc;

	body = translated(args, 4, &got);
	ASSERT_STR_EQ(got, name);
	if (docker_container_create(rig_docker(), got, body, &id, &cause) != 0) {
		cJSON_Delete(body);
		free(got);
		TEST_FAIL("create: %s", cause);
	}
	cJSON_Delete(body);
	free(got);
	info = inspect(id);
	free(id);
	ASSERT_STR_EQ(
	    cJSON_GetObjectItemCaseSensitive(info, "Name")->valuestring + 1, name);
	hc = cJSON_GetObjectItemCaseSensitive(info, "HostConfig");
	ASSERT_STR_EQ(
	    cJSON_GetObjectItemCaseSensitive(hc, "NetworkMode")->valuestring, "host");
	cJSON_Delete(info);
}

TEST(missing_bind_source_is_the_daemons_error)
{
	cJSON *body, *mounts, *m, *spec;
	char *cause = NULL, *id = NULL;
	int rc;

	rig_docker();
	body = translated(NULL, 0, NULL);
	spec = cJSON_CreateString("type=bind,source=/nonexistent/rdev-test,target=/x");
	m = mount_spec_to_api(spec, &cause);
	cJSON_Delete(spec);
	if (m == NULL) {
		cJSON_Delete(body);
		TEST_FAIL("mount: %s", cause);
	}
	mounts =
	    cJSON_AddArrayToObject(cJSON_AddObjectToObject(body, "HostConfig"), "Mounts");
	cJSON_AddItemToArray(mounts, m);
	rc = docker_container_create(rig_docker(), NULL, body, &id, &cause);
	cJSON_Delete(body);
	free(id);
	ASSERT_INT_EQ(rc, -1);
	ASSERT_STR_CONTAINS(cause, "bind source path does not exist");
	free(cause);
}

TEST(started_container_sees_the_options)
{
	char mount[256], *id = NULL, *cause = NULL, *out = NULL, *err = NULL;
	const char *args[] = { "-e", "A=hello", "-h", "myhost", "--add-host",
		"foo:1.2.3.4", "--ulimit", "nofile=1024:2048", "--shm-size", "128m",
		"--tmpfs", "/scratch:size=1m", "-w", "/tmp", "--mount", mount,
		"--cap-add", "NET_ADMIN", "--init" };
	const char *argv[] = { "sh", "-c",
		"echo $A; hostname; grep foo /etc/hosts | tr -s ' \\t' ' '; "
		"grep 'open files' /proc/1/limits | tr -s ' ' | cut -d' ' -f4,5; pwd; "
		"df -k /dev/shm | tail -n 1 | tr -s ' ' | cut -d' ' -f2; "
		"touch /w/x 2>/dev/null && echo rw || echo ro; cat /proc/1/comm",
		NULL };
	struct docker_exec_opts opts = { argv, NULL, NULL, NULL, NULL, 0, 0, 0, 0, 0,
		NULL };
	cJSON *body;
	int code, ok;

	rig_docker();
	snprintf(mount, sizeof mount, "type=bind,src=%s,dst=/w,readonly", bind_dir());
	body = translated(args, (int)(sizeof args / sizeof args[0]), NULL);
	if (docker_container_create(rig_docker(), NULL, body, &id, &cause) != 0) {
		cJSON_Delete(body);
		TEST_FAIL("create: %s", cause);
	}
	cJSON_Delete(body);
	if (docker_container_start(rig_docker(), id, &cause) != 0) {
		free(id);
		TEST_FAIL("start: %s", cause);
	}
	if (docker_exec_capture(rig_docker(), id, &opts, &out, &err, &code, &cause) !=
	    0) {
		free(id);
		TEST_FAIL("exec: %s", cause);
	}
	free(id);
	free(err);
	/* Each line of the script, in order: -e, -h, --add-host, --ulimit (soft
	 * and hard, of pid 1: exec'd processes do not get them), -w, --shm-size
	 * (KiB), --mount ...,readonly, --init. */
	ok = code == 0 &&
	    strcmp(out,
		"hello\nmyhost\n1.2.3.4 foo\n1024 2048\n/tmp\n"
		"131072\nro\ndocker-init\n") == 0;
	if (!ok)
		fprintf(stderr, "  exit %d, output:\n%s", code, out);
	free(out);
	ASSERT_TRUE(ok);
}

/* The user-defined network of this run (rdev-test-runargs-<pid>, a /24 of
 * 10.160.0.0/16 picked by pid: other tests' networks are Docker's default
 * pools, 10.192.0.0/10 (forward-held.sh) or 10.213.0.0/16 (ssh-proxy.sh);
 * another run of this test may hold it: the next one is tried), made on
 * first use and removed at exit after this run's containers. */
static char net_name[128], net_prefix[32];

static void
net_remove(void)
{
	char cmd[256];

	rig_docker_remove_labelled(rig.label, 0);
	snprintf(cmd, sizeof cmd, "docker network rm %s >/dev/null", net_name);
	if (system(cmd) != 0)
		fprintf(stderr, "cleanup: %s failed\n", cmd);
}

static const char *
test_network(void)
{
	char cmd[512];
	int try;

	if (net_name[0] != '\0')
		return net_name;
	rig_docker();
	snprintf(net_name, sizeof net_name, "%s", rig_docker_name("runargs"));
	for (try = 0; try < 5; try++) {
		snprintf(net_prefix, sizeof net_prefix, "10.160.%d",
		    (int)((getpid() + try * 51) % 256));
		snprintf(cmd, sizeof cmd,
		    "docker network create --label %s --subnet %s.0/24 %s >/dev/null",
		    rig.label, net_prefix, net_name);
		if (system(cmd) == 0) {
			rig.at_exit = net_remove;
			return net_name;
		}
	}
	net_name[0] = '\0';
	TEST_FAIL("%s failed (5 subnets tried)", cmd);
}

/* The docker CLI's error for `docker ARGS` ("Error response from daemon:
 * X" as X), which must fail. Caller frees. */
static char *
cli_error(const char *const *argv)
{
	struct spawn_result res;
	char *cause = NULL, *msg, *p;

	if (spawn_run(argv, NULL, &res, &cause) != 0)
		TEST_FAIL("docker: %s", cause);
	if (res.exited && res.exit_code == 0) {
		spawn_result_free(&res);
		TEST_FAIL("docker %s succeeded, it should fail", argv[1]);
	}
	p = strstr(res.err, "Error response from daemon: ");
	msg = strdup(p != NULL ? p + 28 : res.err);
	spawn_result_free(&res);
	msg[strcspn(msg, "\n")] = '\0';
	return msg;
}

/* Did the daemon keep a value for section.key of container c (not null, 0,
 * "", [] or {})? A kernel without a controller makes the daemon discard
 * what asks for it (block I/O weights on this rig: "Your kernel does not
 * support Block I/O weight ... discarded"), and two empty fields compare
 * equal whatever rdev sent. */
static int
field_kept(const cJSON *c, const char *section, const char *key)
{
	const cJSON *f = cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(c, section), key);

	if (f == NULL || cJSON_IsNull(f) || cJSON_IsFalse(f))
		return 0;
	if (cJSON_IsNumber(f))
		return f->valuedouble != 0;
	if (cJSON_IsString(f))
		return f->valuestring[0] != '\0';
	return f->child != NULL;
}

/* The options added for parity with the docker CLI (healthcheck, block I/O
 * limits, volume driver) make the container `docker create` makes: compared
 * where the daemon kept the docker CLI's value (the rest is said, and left
 * to the unit test of the create body), the healthcheck and the volume
 * driver always. */
TEST(health_and_blkio_same_as_docker_create)
{
	static const char *host_fields[] = { "BlkioWeight", "BlkioWeightDevice",
		"BlkioDeviceReadBps", "BlkioDeviceWriteBps", "BlkioDeviceReadIOps",
		"BlkioDeviceWriteIOps", "VolumeDriver", NULL };
	const char *args[] = { "--health-cmd", "exit 0", "--health-interval", "1m30s",
		"--health-timeout", "1.5s", "--health-retries", "3",
		"--health-start-period", "500ms", "--blkio-weight", "300",
		"--blkio-weight-device", "/dev/null:200", "--device-read-bps",
		"/dev/null:1mb", "--device-write-bps", "/dev/null:2kb",
		"--device-read-iops", "/dev/null:100", "--device-write-iops",
		"/dev/null:50", "--volume-driver", "local" };
	const char *none[] = { "--no-healthcheck" };
	int nargs = (int)(sizeof args / sizeof args[0]), i, ok = 1;
	char *cli_id, *id;
	cJSON *a, *b;
	const cJSON *hc;

	cli_id = cli_create(args, nargs);
	id = rig_container_create(translated(args, nargs, NULL), NULL, 0);
	a = inspect(cli_id);
	b = inspect(id);
	ok &= same_field(a, b, "Config", "Healthcheck");
	for (i = 0; host_fields[i] != NULL; i++) {
		if (field_kept(a, "HostConfig", host_fields[i]))
			ok &= same_field(a, b, "HostConfig", host_fields[i]);
		else
			fprintf(stderr,
			    "  HostConfig.%s: discarded by this daemon: not compared\n",
			    host_fields[i]);
	}
	ASSERT_TRUE(field_kept(a, "HostConfig", "VolumeDriver"));
	/* Not an empty comparison: the daemon kept the healthcheck. */
	hc = cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(b, "Config"), "Healthcheck");
	ASSERT_TRUE(cJSON_IsObject(hc));
	ASSERT_INT_EQ(
	    (long long)cJSON_GetObjectItemCaseSensitive(hc, "Interval")->valuedouble,
	    90000000000LL);
	cJSON_Delete(a);
	cJSON_Delete(b);
	free(cli_id);
	free(id);
	cli_id = cli_create(none, 1);
	id = rig_container_create(translated(none, 1, NULL), NULL, 0);
	a = inspect(cli_id);
	b = inspect(id);
	ok &= same_field(a, b, "Config", "Healthcheck");
	cJSON_Delete(a);
	cJSON_Delete(b);
	free(cli_id);
	free(id);
	if (!ok)
		TEST_FAIL("the two containers differ (above)");
}

/* The address of a started container on the network. Caller frees. */
static char *
container_ip(const char *id, const char *key)
{
	cJSON *info = inspect(id);
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(
		    cJSON_GetObjectItemCaseSensitive(info, "NetworkSettings"),
		    "Networks"),
		net_name),
	    key);
	char *s = strdup(cJSON_IsString(v) ? v->valuestring : "(none)");

	cJSON_Delete(info);
	return s;
}

/* --ip on a user-defined network: the started container has the address, as
 * `docker run --ip` gives it; --mac-address its MAC; --health-cmd runs (the
 * container turns healthy). */
TEST(ip_mac_and_health_on_a_started_container)
{
	char cli_ip[48], ip[48], *got, *cid, *id, *status = NULL;
	const char *args[] = { "--network", NULL, "--ip", ip, "--mac-address",
		"02:42:0a:e7:00:99", "--health-cmd", "exit 0", "--health-interval",
		"200ms" };
	const char *cli_args[] = { "--network", NULL, "--ip", cli_ip };
	int i;

	args[1] = cli_args[1] = test_network();
	snprintf(cli_ip, sizeof cli_ip, "%s.5", net_prefix);
	snprintf(ip, sizeof ip, "%s.6", net_prefix);
	cid = cli_create(cli_args, 4);
	rig_sh("docker start %s >/dev/null", cid);
	got = container_ip(cid, "IPAddress");
	ASSERT_STR_EQ(got, cli_ip);
	free(got);
	free(cid);

	id = rig_container_create(translated(args, 10, NULL), NULL, 1);
	got = container_ip(id, "IPAddress");
	ASSERT_STR_EQ(got, ip);
	free(got);
	got = container_ip(id, "MacAddress");
	ASSERT_STR_EQ(got, "02:42:0a:e7:00:99");
	free(got);
	for (i = 0; i < 100; i++) {
		free(status);
		status = rig_sh_out(
		    "docker inspect --format '{{.State.Health.Status}}' %s", id);
		if (strcmp(status, "healthy") == 0)
			break;
		usleep(100000);
	}
	ASSERT_STR_EQ(status, "healthy");
	free(status);
	free(id);
}

/* Where the engine refuses an option, rdev's container meets the refusal
 * `docker run` meets: --storage-opt on overlay2 without xfs quotas (at
 * create), --gpus without a GPU runtime (at start). */
TEST(storage_opt_and_gpus_meet_the_daemons_errors)
{
	const char *sargs[] = { "--storage-opt", "size=1G" };
	const char *gargs[] = { "--gpus", "all" };
	const char *scli[] = { "docker", "create", "--label", NULL, "--storage-opt",
		"size=1G", RIG_BUSYBOX, "true", NULL };
	const char *gcli[] = { "docker", "start", NULL, NULL };
	char *want, *cause = NULL, *id = NULL, *cid;
	cJSON *body;
	int rc;

	rig_docker();
	scli[3] = rig.label;
	want = cli_error(scli);
	body = translated(sargs, 2, NULL);
	rc = docker_container_create(rig_docker(), NULL, body, &id, &cause);
	cJSON_Delete(body);
	free(id);
	id = NULL;
	ASSERT_INT_EQ(rc, -1);
	ASSERT_STR_CONTAINS(cause, want);
	free(want);
	free(cause);
	cause = NULL;

	cid = cli_create(gargs, 2);
	gcli[2] = cid;
	want = cli_error(gcli);
	free(cid);
	body = translated(gargs, 2, NULL);
	if (docker_container_create(rig_docker(), NULL, body, &id, &cause) != 0) {
		cJSON_Delete(body);
		TEST_FAIL("create: %s", cause);
	}
	cJSON_Delete(body);
	rc = docker_container_start(rig_docker(), id, &cause);
	free(id);
	ASSERT_INT_EQ(rc, -1);
	ASSERT_STR_CONTAINS(cause, want);
	fprintf(stderr, "  the daemon's refusal of --gpus all: %s\n", want);
	free(want);
	free(cause);
}
