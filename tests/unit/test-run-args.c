/* test-run-args.c - runArgs applied to a ContainerCreate body.
 *
 * The expected bodies were checked against what the docker 28 CLI sends for
 * `docker create` with the same options (a capture socket standing in for
 * the daemon), keys aside: docker sorts map keys, rdev keeps insertion order.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "run-args.h"
#include "test.h"

struct result {
	char *body; /* compact JSON, or "ERROR: cause" */
	char *name;
	char **warnings;
};

static void
result_free(struct result *r)
{
	free(r->body);
	free(r->name);
	run_args_warnings_free(r->warnings);
	memset(r, 0, sizeof *r);
}

/* Apply args (a JSON array) to body (a JSON object). */
static void
apply(const char *body, const char *args, struct result *r)
{
	cJSON *b = cJSON_Parse(body), *a = cJSON_Parse(args);
	char *cause = NULL;

	memset(r, 0, sizeof *r);
	if (b == NULL || (a == NULL && strcmp(args, "null") != 0)) {
		r->body = strdup("BAD TEST JSON");
		cJSON_Delete(b);
		cJSON_Delete(a);
		return;
	}
	if (run_args_apply(a, b, &r->name, &r->warnings, &cause) != 0) {
		if (r->name != NULL || r->warnings != NULL)
			r->body = strdup("ERROR WITH OUTPUTS SET");
		else {
			r->body = malloc(strlen(cause) + 8);
			strcpy(r->body, "ERROR: ");
			strcat(r->body, cause);
		}
		free(cause);
	} else
		r->body = cJSON_PrintUnformatted(b);
	cJSON_Delete(b);
	cJSON_Delete(a);
}

#define CHECK_BODY(body_, args_, want_) \
	do { \
		struct result r_; \
		apply(body_, args_, &r_); \
		if (strcmp(r_.body, (want_)) != 0) { \
			fprintf(stderr, \
			    "  %s:%d: runArgs %s\n    got  %s\n    want %s\n", __FILE__, \
			    __LINE__, args_, r_.body, want_); \
			result_free(&r_); \
			TEST_FAIL("body differs"); \
		} \
		result_free(&r_); \
	} while (0)
/* runArgs on an empty body. */
#define CHECK(args_, want_) CHECK_BODY("{}", args_, want_)

TEST(security_flags)
{
	CHECK("[\"--cap-add\",\"sys_ptrace\",\"--cap-add=NET_ADMIN\",\"--cap-add\","
	      "\"CAP_SYS_PTRACE\",\"--cap-drop\",\"all\"]",
	    "{\"HostConfig\":{\"CapAdd\":[\"CAP_NET_ADMIN\",\"CAP_SYS_PTRACE\"],"
	    "\"CapDrop\":[\"ALL\"]}}");
	CHECK("[\"--security-opt\",\"seccomp=unconfined\",\"--security-opt=apparmor:"
	      "unconfined\","
	      "\"--security-opt\",\"no-new-privileges\"]",
	    "{\"HostConfig\":{\"SecurityOpt\":[\"seccomp=unconfined\",\"apparmor:"
	    "unconfined\","
	    "\"no-new-privileges\"]}}");
	CHECK("[\"--security-opt\",\"systempaths=unconfined\"]",
	    "{\"HostConfig\":{\"MaskedPaths\":[],\"ReadonlyPaths\":[]}}");
	CHECK("[\"--privileged\",\"--init\"]",
	    "{\"HostConfig\":{\"Privileged\":true,\"Init\":true}}");
	CHECK("[\"--init=false\"]", "{\"HostConfig\":{\"Init\":false}}");
	CHECK("[\"--userns\",\"host\",\"--group-add\",\"audio\",\"--group-add=1000\"]",
	    "{\"HostConfig\":{\"UsernsMode\":\"host\",\"GroupAdd\":[\"audio\",\"1000\"]}"
	    "}");
}

TEST(security_errors)
{
	CHECK("[\"--security-opt\",\"foo\"]",
	    "ERROR: runArgs[0]: --security-opt: invalid --security-opt: \"foo\"");
	CHECK("[\"--security-opt\",\"seccomp=/etc/profile.json\"]",
	    "ERROR: runArgs[0]: --security-opt: seccomp profile files are not supported "
	    "by "
	    "rdev (docker would read \"/etc/profile.json\" on the client; use "
	    "seccomp=unconfined or seccomp=builtin)");
	CHECK("[\"--userns\",\"private\"]",
	    "ERROR: runArgs[0]: --userns: invalid USER mode");
	CHECK("[\"--privileged=maybe\"]",
	    "ERROR: runArgs[0]: --privileged: invalid boolean \"maybe\"");
}

TEST(env_and_labels)
{
	CHECK("[\"-e\",\"A=1\",\"-eB=2\",\"-e=C=3\",\"--env\",\"D=\",\"--env=E=x y\"]",
	    "{\"Env\":[\"A=1\",\"B=2\",\"C=3\",\"D=\",\"E=x y\"]}");
	CHECK("[\"-l\",\"a=b\",\"-l\",\"c\",\"--label\",\"d=e=f\",\"--label=a=z\"]",
	    "{\"Labels\":{\"a\":\"z\",\"c\":\"\",\"d\":\"e=f\"}}");
	CHECK(
	    "[\"-e\",\"=x\"]", "ERROR: runArgs[0]: -e: invalid environment variable: =x");
	/* A variable set twice is there once, with its last value, where it
	 * first was (the docker CLI's Env). */
	CHECK(
	    "[\"-e\",\"Z=1\",\"-e\",\"A=1\",\"-e\",\"ZZ=2\",\"-e\",\"Z=2\",\"-e\",\"A\"]",
	    "{\"Env\":[\"Z=2\",\"A\",\"ZZ=2\"]}");
	CHECK_BODY("{\"Env\":[\"K=from-containerEnv\",\"L=1\"]}",
	    "[\"-e\",\"K=from-runArgs\"]", "{\"Env\":[\"K=from-runArgs\",\"L=1\"]}");
	CHECK(
	    "[\"-l\",\" =x\"]", "ERROR: runArgs[0]: -l: invalid label ' =x': empty name");
	CHECK("[\"-l\",\"a b=c\"]",
	    "ERROR: runArgs[0]: -l: label 'a b' contains whitespaces");
}

TEST(env_without_value_warns)
{
	struct result r;

	unsetenv("RDEV_TEST_RUN_ARGS_UNSET");
	apply("{}", "[\"-e\",\"RDEV_TEST_RUN_ARGS_UNSET\"]", &r);
	ASSERT_STR_EQ(r.body, "{\"Env\":[\"RDEV_TEST_RUN_ARGS_UNSET\"]}");
	ASSERT_NOT_NULL(r.warnings);
	ASSERT_STR_EQ(r.warnings[0],
	    "runArgs[0]: -e RDEV_TEST_RUN_ARGS_UNSET has no value and "
	    "RDEV_TEST_RUN_ARGS_UNSET is not set on the Docker host: passed "
	    "without one, as the docker CLI does");
	ASSERT_NULL(r.warnings[1]);
	result_free(&r);
}

/* -e NAME takes NAME's value from the environment (the host's, as
 * ${localEnv:NAME}), as the docker CLI does; set but empty counts. */
TEST(env_without_value_from_environment)
{
	setenv("RDEV_TEST_RUN_ARGS_SET", "a b=c", 1);
	setenv("RDEV_TEST_RUN_ARGS_EMPTY", "", 1);
	CHECK("[\"-e\",\"RDEV_TEST_RUN_ARGS_SET\",\"--env=RDEV_TEST_RUN_ARGS_EMPTY\"]",
	    "{\"Env\":[\"RDEV_TEST_RUN_ARGS_SET=a b=c\",\"RDEV_TEST_RUN_ARGS_EMPTY=\"]}");
	/* it replaces an earlier value in place, as -e NAME=VALUE does */
	CHECK_BODY("{\"Env\":[\"RDEV_TEST_RUN_ARGS_SET=old\",\"L=1\"]}",
	    "[\"-eRDEV_TEST_RUN_ARGS_SET\"]",
	    "{\"Env\":[\"RDEV_TEST_RUN_ARGS_SET=a b=c\",\"L=1\"]}");
	unsetenv("RDEV_TEST_RUN_ARGS_SET");
	unsetenv("RDEV_TEST_RUN_ARGS_EMPTY");
}

TEST(network)
{
	CHECK("[\"--network=host\"]", "{\"HostConfig\":{\"NetworkMode\":\"host\"}}");
	CHECK("[\"--net\",\"none\"]", "{\"HostConfig\":{\"NetworkMode\":\"none\"}}");
	CHECK("[\"--network\",\"mynet\",\"--network-alias\",\"foo\",\"--net-alias=bar\"]",
	    "{\"HostConfig\":{\"NetworkMode\":\"mynet\"},\"NetworkingConfig\":{"
	    "\"EndpointsConfig\":{\"mynet\":{\"Aliases\":[\"foo\",\"bar\"]}}}}");
	/* Aliases may come before the network. */
	CHECK("[\"--network-alias\",\"foo\",\"--network\",\"mynet\"]",
	    "{\"HostConfig\":{\"NetworkMode\":\"mynet\"},\"NetworkingConfig\":{"
	    "\"EndpointsConfig\":{\"mynet\":{\"Aliases\":[\"foo\"]}}}}");
	CHECK("[\"--network\",\"a\",\"--network\",\"a\"]",
	    "{\"HostConfig\":{\"NetworkMode\":\"a\"}}");
	CHECK("[\"--network\",\"a\",\"--network\",\"b\"]",
	    "ERROR: runArgs[2]: --network: only one network is supported by rdev "
	    "(already "
	    "\"a\")");
	CHECK("[\"--network\",\"name=foo,alias=bar\"]",
	    "ERROR: runArgs[0]: --network: the advanced syntax (name=...,alias=...) is "
	    "not "
	    "supported by rdev; use --network NAME and --network-alias");
	CHECK(
	    "[\"--network=\"]", "ERROR: runArgs[0]: --network: no name set for network");
	CHECK("[\"--network-alias\",\"x\"]",
	    "ERROR: runArgs: network-scoped aliases are only supported for user-defined "
	    "networks");
	CHECK("[\"--network\",\"bridge\",\"--network-alias\",\"x\"]",
	    "ERROR: runArgs: network-scoped aliases are only supported for user-defined "
	    "networks");
	CHECK("[\"--add-host\",\"foo:1.2.3.4\",\"--add-host\",\"bar=::1\",\"--add-host\","
	      "\"baz=[::2]\",\"--add-host=gw:host-gateway\"]",
	    "{\"HostConfig\":{\"ExtraHosts\":[\"foo:1.2.3.4\",\"bar:::1\",\"baz:::2\","
	    "\"gw:host-gateway\"]}}");
	CHECK("[\"--add-host\",\"foo\"]",
	    "ERROR: runArgs[0]: --add-host: bad format for add-host: \"foo\"");
	CHECK("[\"--add-host\",\"foo:notip\"]",
	    "ERROR: runArgs[0]: --add-host: invalid IP address in add-host: \"notip\"");
}

TEST(dns)
{
	CHECK("[\"--dns\",\"8.8.8.8\",\"--dns\",\"2001:DB8::1\",\"--dns\",\" "
	      "::ffff:1.2.3.4 \","
	      "\"--dns-search\",\"example.com\",\"--dns-search\",\".\",\"--dns-search\","
	      "\"foo.bar.\",\"--dns-option\",\"ndots:2\",\"--dns-opt\",\"rotate\"]",
	    "{\"HostConfig\":{\"Dns\":[\"8.8.8.8\",\"2001:db8::1\",\"1.2.3.4\"],"
	    "\"DnsSearch\":"
	    "[\"example.com\",\".\",\"foo.bar\"],\"DnsOptions\":[\"ndots:2\",\"rotate\"]}"
	    "}");
	CHECK("[\"--dns\",\"1.2.3\"]",
	    "ERROR: runArgs[0]: --dns: IP address is not correctly formatted: 1.2.3");
	CHECK("[\"--dns-search\",\"-bad.com\"]",
	    "ERROR: runArgs[0]: --dns-search: -bad.com is not a valid domain");
	CHECK("[\"--dns-search\",\"123\"]",
	    "ERROR: runArgs[0]: --dns-search: 123 is not a valid domain");
	CHECK("[\"--dns-search\",\"a..b\"]",
	    "ERROR: runArgs[0]: --dns-search: a..b is not a valid domain");
}

TEST(name)
{
	struct result r;

	apply("{}", "[\"--name\",\"first\",\"--name=dev\"]", &r);
	ASSERT_STR_EQ(r.body, "{}");
	ASSERT_STR_EQ(r.name, "dev");
	ASSERT_NULL(r.warnings);
	result_free(&r);
	apply("{}", "[\"--init\"]", &r);
	ASSERT_NULL(r.name);
	result_free(&r);
}

TEST(volumes)
{
	CHECK("[\"-v\",\"/a:/b\",\"-v\",\"/c:/d:ro,z\",\"--volume\",\"vol:/e\",\"-v\",\"/"
	      "anon\","
	      "\"-v\",\"/a:/b\",\"--volume=~/x:/y\"]",
	    "{\"HostConfig\":{\"Binds\":[\"/a:/b\",\"/c:/d:ro,z\",\"vol:/e\",\"~/x:/"
	    "y\"]},"
	    "\"Volumes\":{\"/anon\":{}}}");
	/* A one-letter source is a Windows drive to docker: an anonymous volume. */
	CHECK("[\"-v\",\"a:/b\"]", "{\"Volumes\":{\"a:/b\":{}}}");
	CHECK("[\"-v\",\"/a:/b:ro:z\"]",
	    "ERROR: runArgs[0]: -v: invalid spec: /a:/b:ro:z: too many colons");
	CHECK("[\"-v\",\"/a::/b\"]",
	    "ERROR: runArgs[0]: -v: invalid spec: /a::/b: empty section between colons");
	CHECK("[\"-v\",\"./src:/src\"]",
	    "ERROR: runArgs[0]: -v: relative source \"./src\" is not supported by rdev "
	    "(use "
	    "an absolute path, e.g. ${localWorkspaceFolder}/...)");
	CHECK(
	    "[\"--volume=\"]", "ERROR: runArgs[0]: --volume: invalid empty volume spec");
	/* pflag reads "-v=" as the value "=" (a one-character anonymous volume). */
	CHECK("[\"-v=\"]", "{\"Volumes\":{\"=\":{}}}");
	CHECK("[\"--volumes-from\",\"other:ro\"]",
	    "{\"HostConfig\":{\"VolumesFrom\":[\"other:ro\"]}}");
}

TEST(mounts)
{
	CHECK("[\"--mount\",\"type=bind,src=/a,dst=/b,ro\",\"--mount=type=tmpfs,dst=/t,"
	      "tmpfs-size=1m,tmpfs-mode=700\",\"--mount\",\"type=volume,src=v,dst=/v,"
	      "volume-nocopy,volume-opt=a=b,volume-driver=local\"]",
	    "{\"HostConfig\":{\"Mounts\":[{\"Type\":\"bind\",\"Source\":\"/"
	    "a\",\"Target\":\"/b\","
	    "\"ReadOnly\":true},{\"Type\":\"tmpfs\",\"Target\":\"/t\",\"TmpfsOptions\":{"
	    "\"SizeBytes\":1048576,\"Mode\":448}},{\"Type\":\"volume\",\"Source\":\"v\","
	    "\"Target\":\"/"
	    "v\",\"VolumeOptions\":{\"NoCopy\":true,\"DriverConfig\":{\"Name\":"
	    "\"local\",\"Options\":{\"a\":\"b\"}}}}]}}");
	CHECK("[\"--mount\",\"type=bind,src=/a\"]",
	    "ERROR: runArgs[0]: --mount: mount \"type=bind,src=/a\": target is required");
	CHECK(
	    "[\"--tmpfs\",\"/run\",\"--tmpfs\",\"/tmp:rw,size=64m\",\"--tmpfs=/run:ro\"]",
	    "{\"HostConfig\":{\"Tmpfs\":{\"/run\":\"ro\",\"/tmp\":\"rw,size=64m\"}}}");
}

TEST(devices)
{
	CHECK("[\"--device\",\"/dev/fuse\",\"--device\",\"/dev/sda:/dev/"
	      "xvda:r\",\"--device\","
	      "\"/dev/sdb:rw\",\"--device=/dev/sdc:/dev/x/../y\",\"--device\",\"/dev/./a/"
	      "/b/\"]",
	    "{\"HostConfig\":{\"Devices\":["
	    "{\"PathOnHost\":\"/dev/fuse\",\"PathInContainer\":\"/dev/fuse\","
	    "\"CgroupPermissions\":\"rwm\"},"
	    "{\"PathOnHost\":\"/dev/sda\",\"PathInContainer\":\"/dev/xvda\","
	    "\"CgroupPermissions\":\"r\"},"
	    "{\"PathOnHost\":\"/dev/sdb\",\"PathInContainer\":\"/dev/sdb\","
	    "\"CgroupPermissions\":\"rw\"},"
	    "{\"PathOnHost\":\"/dev/sdc\",\"PathInContainer\":\"/dev/y\","
	    "\"CgroupPermissions\":\"rwm\"},"
	    "{\"PathOnHost\":\"/dev/a/b\",\"PathInContainer\":\"/dev/a/b\","
	    "\"CgroupPermissions\":\"rwm\"}]}}");
	CHECK("[\"--device\",\"rel\"]",
	    "ERROR: runArgs[0]: --device: rel is not an absolute path");
	CHECK("[\"--device\",\"/dev/a:/dev/b:rwx\"]",
	    "ERROR: runArgs[0]: --device: bad mode specified: rwx");
	CHECK("[\"--device\",\"/a:/b:r:w\"]",
	    "ERROR: runArgs[0]: --device: bad format for path: /a:/b:r:w");
	CHECK("[\"--device\",\"nvidia.com/gpu=all\"]",
	    "ERROR: runArgs[0]: --device: CDI device names are not supported by rdev: "
	    "nvidia.com/gpu=all");
	CHECK(
	    "[\"--device-cgroup-rule\",\"c 1:3 mr\",\"--device-cgroup-rule=a *:* rwm\"]",
	    "{\"HostConfig\":{\"DeviceCgroupRules\":[\"c 1:3 mr\",\"a *:* rwm\"]}}");
	CHECK("[\"--device-cgroup-rule\",\"x 1:2 r\"]",
	    "ERROR: runArgs[0]: --device-cgroup-rule: invalid device cgroup format 'x "
	    "1:2 r'");
}

TEST(resources)
{
	CHECK("[\"--shm-size\",\"1g\",\"-m\",\"512m\",\"--memory-swap\",\"-1\",\"--"
	      "cpus\",\"1.5\","
	      "\"--cpu-shares\",\"512\",\"--memory-reservation\",\"100m\"]",
	    "{\"HostConfig\":{\"ShmSize\":1073741824,\"Memory\":536870912,\"MemorySwap\":"
	    "-1,"
	    "\"NanoCpus\":1500000000,\"CpuShares\":512,\"MemoryReservation\":104857600}"
	    "}");
	CHECK(
	    "[\"--memory-swap=1g\",\"--cpus\",\".001\",\"-c\",\"0x10\",\"--memory=64\"]",
	    "{\"HostConfig\":{\"MemorySwap\":1073741824,\"NanoCpus\":1000000,"
	    "\"CpuShares\":16,"
	    "\"Memory\":64}}");
	CHECK(
	    "[\"--pids-limit\",\"100\",\"--cpuset-cpus\",\"0-1\",\"--cpuset-mems\",\"0\","
	    "\"--cpu-period\",\"100000\",\"--cpu-quota\",\"50000\",\"--memory-"
	    "swappiness\","
	    "\"10\",\"--oom-score-adj\",\"-100\",\"--oom-kill-disable\",\"--read-only\"]",
	    "{\"HostConfig\":{\"PidsLimit\":100,\"CpusetCpus\":\"0-1\",\"CpusetMems\":"
	    "\"0\","
	    "\"CpuPeriod\":100000,\"CpuQuota\":50000,\"MemorySwappiness\":10,"
	    "\"OomScoreAdj\":-100,\"OomKillDisable\":true,\"ReadonlyRootfs\":true}}");
	CHECK("[\"--shm-size\",\"64x\"]",
	    "ERROR: runArgs[0]: --shm-size: invalid suffix: 'x'");
	CHECK("[\"--shm-size\",\"-1\"]",
	    "ERROR: runArgs[0]: --shm-size: invalid size: '-1'");
	CHECK("[\"--cpus\",\"abc\"]",
	    "ERROR: runArgs[0]: --cpus: failed to parse abc as a rational number");
	CHECK("[\"--cpus\",\"0.0000000001\"]",
	    "ERROR: runArgs[0]: --cpus: value \"0.0000000001\" is too precise");
	CHECK("[\"--cpu-shares\",\"lots\"]",
	    "ERROR: runArgs[0]: --cpu-shares: invalid number \"lots\"");
	CHECK("[\"--memory-swappiness\",\"101\"]",
	    "ERROR: runArgs[0]: --memory-swappiness: invalid value: 101. Valid memory "
	    "swappiness range is 0-100");
}

TEST(ulimits)
{
	/* One per name, sorted by name, as docker sends them. */
	CHECK("[\"--ulimit\",\"nofile=1024:2048\",\"--ulimit\",\"core=-1\",\"--ulimit\","
	      "\"nofile=10\",\"--ulimit=stack=1\"]",
	    "{\"HostConfig\":{\"Ulimits\":[{\"Name\":\"core\",\"Hard\":-1,\"Soft\":-1},"
	    "{\"Name\":\"nofile\",\"Hard\":10,\"Soft\":10},"
	    "{\"Name\":\"stack\",\"Hard\":1,\"Soft\":1}]}}");
	/* A name given again after another one (cJSON_InsertItemInArray after a
	 * delete lost "cpu" here and leaked; found by libFuzzer). */
	CHECK("[\"--ulimit\",\"core=2\",\"--ulimit\",\"cpu=3\",\"--ulimit\",\"core=4\"]",
	    "{\"HostConfig\":{\"Ulimits\":[{\"Name\":\"core\",\"Hard\":4,\"Soft\":4},"
	    "{\"Name\":\"cpu\",\"Hard\":3,\"Soft\":3}]}}");
	CHECK("[\"--ulimit\",\"foo=1\"]",
	    "ERROR: runArgs[0]: --ulimit: invalid ulimit type: foo");
	CHECK("[\"--ulimit\",\"nofile\"]",
	    "ERROR: runArgs[0]: --ulimit: invalid ulimit argument: nofile");
	CHECK("[\"--ulimit\",\"nofile=2:1\"]",
	    "ERROR: runArgs[0]: --ulimit: ulimit soft limit must be less than or equal "
	    "to "
	    "hard limit: 2 > 1");
	CHECK("[\"--ulimit\",\"nofile=-1:5\"]",
	    "ERROR: runArgs[0]: --ulimit: ulimit soft limit must be less than or equal "
	    "to "
	    "hard limit: soft: -1 (unlimited), hard: 5");
	CHECK("[\"--ulimit\",\"nofile=x\"]",
	    "ERROR: runArgs[0]: --ulimit: invalid ulimit value: nofile=x");
}

TEST(publish)
{
	CHECK("[\"-p\",\"127.0.0.1:8080-8081:80-81/udp\",\"-p\",\"9000\",\"--publish\","
	      "\"[::1]::22\",\"-p=8000-8010:5000\",\"-p\",\"published=1234,target=80\"]",
	    "{\"ExposedPorts\":{\"80/udp\":{},\"81/udp\":{},\"9000/tcp\":{},\"22/"
	    "tcp\":{},"
	    "\"5000/tcp\":{},\"80/tcp\":{}},\"HostConfig\":{\"PortBindings\":{"
	    "\"80/udp\":[{\"HostIp\":\"127.0.0.1\",\"HostPort\":\"8080\"}],"
	    "\"81/udp\":[{\"HostIp\":\"127.0.0.1\",\"HostPort\":\"8081\"}],"
	    "\"9000/tcp\":[{\"HostIp\":\"\",\"HostPort\":\"\"}],"
	    "\"22/tcp\":[{\"HostIp\":\"::1\",\"HostPort\":\"\"}],"
	    "\"5000/tcp\":[{\"HostIp\":\"\",\"HostPort\":\"8000-8010\"}],"
	    "\"80/tcp\":[{\"HostIp\":\"\",\"HostPort\":\"1234\"}]}}}");
	/* The same port twice: two bindings. */
	CHECK("[\"-p\",\"80:80\",\"-p\",\"8080:80/TCP\"]",
	    "{\"ExposedPorts\":{\"80/tcp\":{}},\"HostConfig\":{\"PortBindings\":{\"80/"
	    "tcp\":["
	    "{\"HostIp\":\"\",\"HostPort\":\"80\"},{\"HostIp\":\"\",\"HostPort\":"
	    "\"8080\"}]}}}");
	CHECK(
	    "[\"-P\",\"--expose\",\"80\",\"--expose=53/udp\",\"--expose\",\"3000-3001\"]",
	    "{\"HostConfig\":{\"PublishAllPorts\":true},\"ExposedPorts\":{\"80/tcp\":{},"
	    "\"53/udp\":{},\"3000/tcp\":{},\"3001/tcp\":{}}}");
	CHECK("[\"-p\",\"70000:80\"]", "ERROR: runArgs[0]: -p: invalid hostPort: 70000");
	CHECK("[\"-p\",\"80/xyz\"]", "ERROR: runArgs[0]: -p: invalid proto: xyz");
	CHECK("[\"-p\",\"1.2.3:80:80\"]",
	    "ERROR: runArgs[0]: -p: invalid IP address: 1.2.3");
	CHECK("[\"-p\",\"8000-8001:80-82\"]",
	    "ERROR: runArgs[0]: -p: invalid ranges specified for container and host "
	    "Ports: "
	    "80-82 and 8000-8001");
	CHECK("[\"-p\",\"80:\"]", "ERROR: runArgs[0]: -p: no port specified: 80:<empty>");
	CHECK(
	    "[\"-p\",\"90-80\"]", "ERROR: runArgs[0]: -p: invalid containerPort: 90-80");
	CHECK("[\"-p\",\"+80\"]", "ERROR: runArgs[0]: -p: invalid containerPort: +80");
	CHECK("[\"-p\",\"80-+90\"]",
	    "ERROR: runArgs[0]: -p: invalid containerPort: 80-+90");
	CHECK("[\"-p\",\"080\"]",
	    "{\"ExposedPorts\":{\"80/tcp\":{}},\"HostConfig\":{"
	    "\"PortBindings\":{\"80/tcp\":[{\"HostIp\":\"\",\"HostPort\":\"\"}]}}}");
	CHECK("[\"-p\",\"published=80,,target=80\"]",
	    "ERROR: runArgs[0]: -p: invalid publish opts format (should be name=value "
	    "but "
	    "got '')");
	CHECK("[\"--expose\",\"abc\"]",
	    "ERROR: runArgs[0]: --expose: invalid range format for --expose: abc");
}

TEST(config_fields)
{
	CHECK("[\"-u\",\"1000:1000\",\"-h\",\"myhost\",\"-w\",\"/src\",\"--entrypoint\","
	      "\"/bin/bash\",\"--domainname=ex.com\",\"--user=dev\"]",
	    "{\"User\":\"dev\",\"Hostname\":\"myhost\",\"WorkingDir\":\"/"
	    "src\",\"Entrypoint\":"
	    "[\"/bin/bash\"],\"Domainname\":\"ex.com\"}");
	CHECK("[\"--entrypoint=\"]", "{\"Entrypoint\":[\"\"]}");
	CHECK("[\"--stop-signal\",\"SIGINT\",\"--stop-timeout\",\"30\"]",
	    "{\"StopSignal\":\"SIGINT\",\"StopTimeout\":30}");
	CHECK("[\"-t\",\"-i\"]", "{\"Tty\":true,\"OpenStdin\":true}");
	CHECK("[\"--tty=false\",\"--interactive=0\"]",
	    "{\"Tty\":false,\"OpenStdin\":false}");
}

TEST(host_config_fields)
{
	CHECK("[\"--ipc\",\"host\",\"--pid\",\"host\",\"--uts\",\"host\",\"--cgroupns\","
	      "\"private\",\"--runtime\",\"runc\",\"--cgroup-parent\",\"foo\"]",
	    "{\"HostConfig\":{\"IpcMode\":\"host\",\"PidMode\":\"host\",\"UTSMode\":"
	    "\"host\","
	    "\"CgroupnsMode\":\"private\",\"Runtime\":\"runc\",\"CgroupParent\":\"foo\"}"
	    "}");
	CHECK("[\"--pid=container:db\"]",
	    "{\"HostConfig\":{\"PidMode\":\"container:db\"}}");
	CHECK("[\"--pid\",\"container:\"]", "ERROR: runArgs[0]: --pid: invalid PID mode");
	CHECK("[\"--pid\",\"container:a:b\"]",
	    "{\"HostConfig\":{\"PidMode\":\"container:a:b\"}}");
	CHECK("[\"--pid\",\"host:x\"]", "ERROR: runArgs[0]: --pid: invalid PID mode");
	CHECK("[\"--uts\",\"bar\"]", "ERROR: runArgs[0]: --uts: invalid UTS mode");
	CHECK(
	    "[\"--uts\",\"container:x\"]", "ERROR: runArgs[0]: --uts: invalid UTS mode");
	CHECK("[\"--userns=host:x\"]", "ERROR: runArgs[0]: --userns: invalid USER mode");
	CHECK("[\"--cgroupns\",\"x\"]",
	    "ERROR: runArgs[0]: --cgroupns: invalid CGROUP mode");
	CHECK(
	    "[\"--sysctl\",\"net.ipv4.ip_forward=1\",\"--sysctl\",\"kernel.shmmax=100\"]",
	    "{\"HostConfig\":{\"Sysctls\":{\"net.ipv4.ip_forward\":\"1\",\"kernel."
	    "shmmax\":"
	    "\"100\"}}}");
	CHECK("[\"--sysctl\",\"kernel.foo=1\"]",
	    "ERROR: runArgs[0]: --sysctl: sysctl 'kernel.foo=1' is not allowed");
	CHECK("[\"--log-driver\",\"json-file\",\"--log-opt\",\"max-size=10m\",\"--log-"
	      "opt\","
	      "\"max-file=3\"]",
	    "{\"HostConfig\":{\"LogConfig\":{\"Type\":\"json-file\",\"Config\":{\"max-"
	    "size\":"
	    "\"10m\",\"max-file\":\"3\"}}}}");
	CHECK("[\"--log-driver\",\"none\",\"--log-opt\",\"a=b\"]",
	    "ERROR: runArgs: invalid logging opts for driver none");
}

TEST(restart)
{
	CHECK("[\"--restart\",\"always\"]",
	    "{\"HostConfig\":{\"RestartPolicy\":{\"Name\":\"always\","
	    "\"MaximumRetryCount\":0}}}");
	CHECK("[\"--restart=on-failure:3\"]",
	    "{\"HostConfig\":{\"RestartPolicy\":{\"Name\":\"on-failure\","
	    "\"MaximumRetryCount\":3}}}");
	CHECK("[\"--restart\",\"on-failure:x\"]",
	    "ERROR: runArgs[0]: --restart: invalid restart policy format: maximum retry "
	    "count must be an integer");
	CHECK("[\"--restart\",\":3\"]",
	    "ERROR: runArgs[0]: --restart: invalid restart policy format: no policy "
	    "provided "
	    "before colon");
	CHECK("[\"--rm\",\"--restart\",\"always\"]",
	    "ERROR: runArgs: conflicting options: cannot specify both --restart and "
	    "--rm");
	CHECK("[\"--rm\",\"--restart\",\"no\"]",
	    "{\"HostConfig\":{\"RestartPolicy\":{\"Name\":\"no\",\"MaximumRetryCount\":0}"
	    "}}");
}

TEST(ignored_flags)
{
	struct result r;

	apply("{}",
	    "[\"--rm\",\"-d\",\"--detach=true\",\"--sig-proxy=false\",\"-a\",\"stdout\","
	    "\"--attach=STDERR\",\"-q\",\"--detach-keys\",\"ctrl-x\",\"--rm=false\"]",
	    &r);
	ASSERT_STR_EQ(r.body, "{}");
	ASSERT_NOT_NULL(r.warnings);
	ASSERT_STR_EQ(
	    r.warnings[0], "runArgs[0]: --rm is ignored: a dev container must persist");
	ASSERT_NULL(r.warnings[1]);
	result_free(&r);
	CHECK("[\"-a\",\"stdfoo\"]",
	    "ERROR: runArgs[0]: -a: valid streams are STDIN, STDOUT and STDERR");
}

TEST(short_forms)
{
	/* Combined booleans, a value flag last taking the rest or the next argument. */
	CHECK("[\"-it\"]", "{\"OpenStdin\":true,\"Tty\":true}");
	CHECK("[\"-itd\"]", "{\"OpenStdin\":true,\"Tty\":true}");
	CHECK("[\"-iteA=1\"]", "{\"OpenStdin\":true,\"Tty\":true,\"Env\":[\"A=1\"]}");
	CHECK(
	    "[\"-ite\",\"A=1\"]", "{\"OpenStdin\":true,\"Tty\":true,\"Env\":[\"A=1\"]}");
	CHECK("[\"-t=false\"]", "{\"Tty\":false}");
	/* A value flag's next argument is taken even if it looks like an option. */
	CHECK("[\"-e\",\"-x\"]", "{\"Env\":[\"-x\"]}");
	CHECK("[\"--hostname\",\"--init\"]", "{\"Hostname\":\"--init\"}");
	CHECK("[\"-itx\"]",
	    "ERROR: runArgs[0]: \"-x\" (in \"-itx\") is not supported by rdev "
	    "(supported: "
	    "--add-host, --attach (-a), --blkio-weight, --blkio-weight-device, "
	    "--cap-add, --cap-drop, --cgroup-parent, --cgroupns, --cpu-count, "
	    "--cpu-percent, --cpu-period, --cpu-quota, --cpu-rt-period, "
	    "--cpu-rt-runtime, --cpu-shares (-c), --cpus, --cpuset-cpus, "
	    "--cpuset-mems, --detach (-d), --detach-keys, --device, "
	    "--device-cgroup-rule, --device-read-bps, --device-read-iops, "
	    "--device-write-bps, --device-write-iops, "
	    "--dns, --dns-opt, --dns-option, --dns-search, --domainname, --entrypoint, "
	    "--env (-e), --env-file, --expose, --gpus, --group-add, --health-cmd, "
	    "--health-interval, --health-retries, --health-start-period, "
	    "--health-timeout, --hostname (-h), --init, --interactive (-i), "
	    "--io-maxbandwidth, --io-maxiops, --ip, --ip6, --ipc, --isolation, "
	    "--kernel-memory, --label (-l), --link, --link-local-ip, --log-driver, "
	    "--log-opt, --mac-address, --memory (-m), "
	    "--memory-reservation, --memory-swap, --memory-swappiness, --mount, --name, "
	    "--net, --net-alias, --network, --network-alias, --no-healthcheck, "
	    "--oom-kill-disable, "
	    "--oom-score-adj, --pid, --pids-limit, --privileged, --publish (-p), "
	    "--publish-all (-P), --quiet (-q), --read-only, --restart, --rm, --runtime, "
	    "--security-opt, --shm-size, --sig-proxy, --stop-signal, --stop-timeout, "
	    "--storage-opt, --sysctl, --tmpfs, --tty (-t), --ulimit, --user (-u), "
	    "--userns, --uts, --volume (-v), --volume-driver, --volumes-from, "
	    "--workdir (-w))");
}

TEST(unsupported_and_malformed)
{
	struct result r;

	apply("{}", "[\"--init\",\"--privileged\",\"--cap-add\",\"X\",\"--gpu\",\"all\"]",
	    &r);
	ASSERT_STR_CONTAINS(r.body,
	    "ERROR: runArgs[4]: \"--gpu\" is not supported by rdev "
	    "(supported: --add-host, --attach (-a), --blkio-weight,");
	ASSERT_NULL(r.name);
	ASSERT_NULL(r.warnings);
	result_free(&r);
	apply("{}", "[\"--gpu=all\"]", &r);
	ASSERT_STR_CONTAINS(
	    r.body, "ERROR: runArgs[0]: \"--gpu\" is not supported by rdev");
	result_free(&r);
	apply("{}", "[\"-x\"]", &r);
	ASSERT_STR_CONTAINS(r.body, "ERROR: runArgs[0]: \"-x\" is not supported by rdev");
	result_free(&r);

	/* (run_args_apply has no reader: env_file below) */
	CHECK("[\"--env-file\",\".devcontainer/dev.env\"]",
	    "ERROR: runArgs[0]: \"--env-file\" is not supported by rdev here: it would "
	    "read a file on the Docker host; use containerEnv");
	CHECK("[\"--label-file=l\"]",
	    "ERROR: runArgs[0]: \"--label-file\" is not supported by rdev: it would read "
	    "a "
	    "file on the Docker host");
	CHECK("[\"--platform\",\"linux/arm64\"]",
	    "ERROR: runArgs[0]: \"--platform\" is not supported by rdev: the image is "
	    "pulled "
	    "or built for the Docker host's own platform");
	CHECK("[\"--pull\",\"always\"]",
	    "ERROR: runArgs[0]: \"--pull\" is not supported by rdev: rdev pulls the "
	    "image "
	    "itself");
	CHECK("[\"--cidfile\",\"/tmp/x\"]",
	    "ERROR: runArgs[0]: \"--cidfile\" is not supported by rdev: it would write a "
	    "file "
	    "on the Docker host");

	CHECK("[\"--annotation\",\"a=b\"]",
	    "ERROR: runArgs[0]: \"--annotation\" is not supported by rdev: it needs "
	    "Docker API 1.43 and rdev speaks 1.41 (the docker CLI refuses it there "
	    "too)");
	CHECK("[\"--health-start-interval=5s\"]",
	    "ERROR: runArgs[0]: \"--health-start-interval\" is not supported by rdev: "
	    "it needs Docker API 1.44 and rdev speaks 1.41 (the docker CLI refuses it "
	    "there too)");
	CHECK("[\"--use-api-socket\"]",
	    "ERROR: runArgs[0]: \"--use-api-socket\" is not supported by rdev: it "
	    "would copy the client's registry credentials into the container; mount "
	    "the socket with mounts");

	CHECK("[\"--init\",\"--name\"]", "ERROR: runArgs[1]: \"--name\" needs a value");
	CHECK("[\"-e\"]", "ERROR: runArgs[0]: \"-e\" needs a value");
	CHECK("[\"-ie\"]", "ERROR: runArgs[0]: \"-e\" needs a value");
	CHECK("[\"--init\",\"ubuntu\"]",
	    "ERROR: runArgs[1]: unexpected argument \"ubuntu\" (runArgs holds docker run "
	    "options only)");
	CHECK("[\"-\"]",
	    "ERROR: runArgs[0]: unexpected argument \"-\" (runArgs holds docker run "
	    "options "
	    "only)");
	CHECK("[\"--\"]", "ERROR: runArgs[0]: \"--\" is not supported by rdev");
	CHECK("[\"---init\"]", "ERROR: runArgs[0]: bad flag syntax: ---init");
	CHECK("[\"--=x\"]", "ERROR: runArgs[0]: bad flag syntax: --=x");
	CHECK("[\"--init\",42]", "ERROR: runArgs[1]: not a string");
	CHECK("{\"a\":1}", "ERROR: runArgs: not an array");
}

/* --ip, --ip6, --link-local-ip, --link, --mac-address: bodies as the docker 28
 * CLI sends them (the endpoint of the network gets the addresses, a link is
 * HostConfig.Links and, on a user-defined network, the endpoint's too). */
TEST(endpoint_options)
{
	CHECK("[\"--ip\",\"172.30.0.5\",\"--ip6\",\"fd00::5\",\"--network\",\"mynet\"]",
	    "{\"HostConfig\":{\"NetworkMode\":\"mynet\"},\"NetworkingConfig\":{"
	    "\"EndpointsConfig\":{\"mynet\":{\"IPAMConfig\":{\"IPv4Address\":"
	    "\"172.30.0.5\",\"IPv6Address\":\"fd00::5\"}}}}}");
	CHECK("[\"--network\",\"mynet\",\"--link-local-ip\",\"169.254.1.1\","
	      "\"--network-alias\",\"a\"]",
	    "{\"HostConfig\":{\"NetworkMode\":\"mynet\"},\"NetworkingConfig\":{"
	    "\"EndpointsConfig\":{\"mynet\":{\"IPAMConfig\":{\"LinkLocalIPs\":["
	    "\"169.254.1.1\"]},\"Aliases\":[\"a\"]}}}}");
	/* Empty is no address, as the CLI's string flags (a last one too). */
	CHECK("[\"--ip\",\"\",\"--ip6=\",\"--mac-address\",\"\"]", "{}");
	CHECK("[\"--network\",\"n\",\"--ip\",\"172.30.0.5\",\"--ip=\","
	      "\"--mac-address\",\"02:42:ac:11:00:02\",\"--mac-address=\"]",
	    "{\"HostConfig\":{\"NetworkMode\":\"n\"}}");
	/* A link-local address alone is not refused on the default network. */
	CHECK("[\"--link-local-ip=fe80::1\"]",
	    "{\"NetworkingConfig\":{\"EndpointsConfig\":{\"default\":{\"IPAMConfig\":{"
	    "\"LinkLocalIPs\":[\"fe80::1\"]}}}}}");
	CHECK("[\"--link\",\"db\",\"--link\",\"/c1:/c2/alias\",\"--network\",\"mynet\"]",
	    "{\"HostConfig\":{\"Links\":[\"db\",\"/c1:/c2/alias\"],\"NetworkMode\":"
	    "\"mynet\"},\"NetworkingConfig\":{\"EndpointsConfig\":{\"mynet\":{"
	    "\"Links\":[\"db\",\"/c1:/c2/alias\"]}}}}");
	CHECK("[\"--link\",\"db:alias\"]", "{\"HostConfig\":{\"Links\":[\"db:alias\"]}}");
	CHECK("[\"--network\",\"bridge\",\"--link=db\"]",
	    "{\"HostConfig\":{\"NetworkMode\":\"bridge\",\"Links\":[\"db\"]}}");
	CHECK("[\"--mac-address\",\"02:42:ac:11:00:99\"]",
	    "{\"MacAddress\":\"02:42:ac:11:00:99\"}");
	CHECK("[\"--mac-address= 02-42-AC-11-00-99\"]",
	    "{\"MacAddress\":\" 02-42-AC-11-00-99\"}");
	CHECK("[\"--mac-address\",\"0242.ac11.0099\"]",
	    "{\"MacAddress\":\"0242.ac11.0099\"}");
	CHECK("[\"--mac-address\",\"02:42:ac:11:00:99:00:01\"]",
	    "{\"MacAddress\":\"02:42:ac:11:00:99:00:01\"}");
}

TEST(endpoint_errors)
{
	CHECK("[\"--ip\",\"172.17.0.50\"]",
	    "ERROR: runArgs: --ip/--ip6: user specified IP address is supported on user "
	    "defined networks only (add --network NAME)");
	CHECK("[\"--network\",\"bridge\",\"--ip6\",\"fd00::5\"]",
	    "ERROR: runArgs: --ip/--ip6: user specified IP address is supported on user "
	    "defined networks only (add --network NAME)");
	CHECK("[\"--network\",\"host\",\"--ip\",\"10.0.0.1\"]",
	    "ERROR: runArgs: --ip/--ip6: user specified IP address is supported on user "
	    "defined networks only (add --network NAME)");
	CHECK("[\"--network=n\",\"--ip\",\"fd00::5\"]",
	    "ERROR: runArgs[1]: --ip: invalid IPv4 address: fd00::5");
	CHECK("[\"--network=n\",\"--ip\",\"172.30.0.300\"]",
	    "ERROR: runArgs[1]: --ip: invalid IPv4 address: 172.30.0.300");
	CHECK("[\"--network=n\",\"--ip6\",\"10.0.0.1\"]",
	    "ERROR: runArgs[1]: --ip6: invalid IPv6 address: 10.0.0.1");
	CHECK("[\"--network=n\",\"--ip6\",\"::ffff:10.0.0.1\"]",
	    "ERROR: runArgs[1]: --ip6: invalid IPv6 address: ::ffff:10.0.0.1");
	CHECK("[\"--link-local-ip\",\"x\"]",
	    "ERROR: runArgs[0]: --link-local-ip: invalid link-local IP address: x");
	/* The unspecified address, which the daemon refuses (after the build,
	 * were it left to it); an IPv4-mapped one is IPv4 to net.ParseIP. */
	CHECK("[\"--network=n\",\"--ip\",\"0.0.0.0\"]",
	    "ERROR: runArgs[1]: --ip: invalid IPv4 address: 0.0.0.0");
	CHECK("[\"--network=n\",\"--ip6\",\"::\"]",
	    "ERROR: runArgs[1]: --ip6: invalid IPv6 address: ::");
	CHECK("[\"--link-local-ip\",\"0.0.0.0\"]",
	    "ERROR: runArgs[0]: --link-local-ip: invalid link-local IP address: 0.0.0.0");
	CHECK("[\"--link-local-ip\",\"::\"]",
	    "ERROR: runArgs[0]: --link-local-ip: invalid link-local IP address: ::");
	CHECK("[\"--network=n\",\"--ip\",\"::ffff:172.30.0.5\"]",
	    "{\"HostConfig\":{\"NetworkMode\":\"n\"},\"NetworkingConfig\":{"
	    "\"EndpointsConfig\":{\"n\":{\"IPAMConfig\":{\"IPv4Address\":"
	    "\"::ffff:172.30.0.5\"}}}}}");
	CHECK("[\"--link\",\"a:b:c\"]",
	    "ERROR: runArgs[0]: --link: bad format for links: a:b:c");
	CHECK("[\"--link=\"]",
	    "ERROR: runArgs[0]: --link: empty string specified for links");
	CHECK("[\"--mac-address\",\"02:42:ac:11:00\"]",
	    "ERROR: runArgs[0]: --mac-address: 02:42:ac:11:00 is not a valid mac "
	    "address");
	CHECK("[\"--mac-address\",\"02:42-ac:11:00:99\"]",
	    "ERROR: runArgs[0]: --mac-address: 02:42-ac:11:00:99 is not a valid mac "
	    "address");
	CHECK("[\"--mac-address\",\"02:42:ac:11:00:9g\"]",
	    "ERROR: runArgs[0]: --mac-address: 02:42:ac:11:00:9g is not a valid mac "
	    "address");
	CHECK("[\"--mac-address\",\"02:42:ac:11:00:99:00\"]",
	    "ERROR: runArgs[0]: --mac-address: 02:42:ac:11:00:99:00 is not a valid mac "
	    "address");
}

/* --gpus: HostConfig.DeviceRequests as docker's GpuOpts builds them. */
TEST(gpus)
{
	CHECK("[\"--gpus\",\"all\"]",
	    "{\"HostConfig\":{\"DeviceRequests\":[{\"Driver\":\"\",\"Count\":-1,"
	    "\"DeviceIDs\":null,\"Capabilities\":[[\"gpu\"]],\"Options\":{}}]}}");
	CHECK("[\"--gpus=2\"]",
	    "{\"HostConfig\":{\"DeviceRequests\":[{\"Driver\":\"\",\"Count\":2,"
	    "\"DeviceIDs\":null,\"Capabilities\":[[\"gpu\"]],\"Options\":{}}]}}");
	/* The quotes keep the devices' commas (the CSV field of the CLI). */
	CHECK("[\"--gpus\",\"\\\"device=0,1\\\"\"]",
	    "{\"HostConfig\":{\"DeviceRequests\":[{\"Driver\":\"\",\"Count\":0,"
	    "\"DeviceIDs\":[\"0\",\"1\"],\"Capabilities\":[[\"gpu\"]],\"Options\":{}}]}"
	    "}");
	/* Without them "1" is a count of its own, as in the CLI. */
	CHECK("[\"--gpus\",\"device=0,1\"]",
	    "{\"HostConfig\":{\"DeviceRequests\":[{\"Driver\":\"\",\"Count\":1,"
	    "\"DeviceIDs\":[\"0\"],\"Capabilities\":[[\"gpu\"]],\"Options\":{}}]}}");
	CHECK("[\"--gpus\",\"\\\"device=0,1\\\",capabilities=compute\"]",
	    "{\"HostConfig\":{\"DeviceRequests\":[{\"Driver\":\"\",\"Count\":0,"
	    "\"DeviceIDs\":[\"0\",\"1\"],\"Capabilities\":[[\"compute\",\"gpu\"]],"
	    "\"Options\":{}}]}}");
	CHECK("[\"--gpus\",\"count=2,capabilities=compute,driver=nvidia\"]",
	    "{\"HostConfig\":{\"DeviceRequests\":[{\"Driver\":\"nvidia\",\"Count\":2,"
	    "\"DeviceIDs\":null,\"Capabilities\":[[\"compute\",\"gpu\"]],\"Options\":{}}"
	    "]}}");
	CHECK("[\"--gpus\",\"\\\"capabilities=compute,utility\\\",\\\"options=a=b,"
	      "c\\\"\"]",
	    "{\"HostConfig\":{\"DeviceRequests\":[{\"Driver\":\"\",\"Count\":1,"
	    "\"DeviceIDs\":null,\"Capabilities\":[[\"compute\",\"utility\",\"gpu\"]],"
	    "\"Options\":{\"a\":\"b\",\"c\":\"\"}}]}}");
	CHECK("[\"--gpus\",\"all\",\"--gpus\",\"1\"]",
	    "{\"HostConfig\":{\"DeviceRequests\":[{\"Driver\":\"\",\"Count\":-1,"
	    "\"DeviceIDs\":null,\"Capabilities\":[[\"gpu\"]],\"Options\":{}},{"
	    "\"Driver\":\"\",\"Count\":1,\"DeviceIDs\":null,\"Capabilities\":[["
	    "\"gpu\"]],\"Options\":{}}]}}");
	/* The CLI's errors (its csv reader's among them). */
	CHECK("[\"--gpus\",\"count=x\"]",
	    "ERROR: runArgs[0]: --gpus: invalid count (x): value must be either "
	    "\"all\" or an integer: invalid syntax");
	CHECK("[\"--gpus\",\"count=99999999999999999999\"]",
	    "ERROR: runArgs[0]: --gpus: invalid count (99999999999999999999): value "
	    "must be either \"all\" or an integer: value out of range");
	/* Go's int, not int32; Go's csv drops a "\r" ending the input and reads
	 * "\r\n" as "\n" in a quoted field. */
	CHECK("[\"--gpus\",\"3000000000\",\"--gpus\",\"all\\r\",\"--gpus\","
	      "\"\\\"device=0\\r\\n1\\\"\\r\"]",
	    "{\"HostConfig\":{\"DeviceRequests\":[{\"Driver\":\"\",\"Count\":"
	    "3000000000,\"DeviceIDs\":null,\"Capabilities\":[[\"gpu\"]],"
	    "\"Options\":{}},{\"Driver\":\"\",\"Count\":-1,\"DeviceIDs\":null,"
	    "\"Capabilities\":[[\"gpu\"]],\"Options\":{}},{\"Driver\":\"\","
	    "\"Count\":0,\"DeviceIDs\":[\"0\\n1\"],\"Capabilities\":[[\"gpu\"]],"
	    "\"Options\":{}}]}}");
	CHECK("[\"--gpus\",\"all,all\"]",
	    "ERROR: runArgs[0]: --gpus: gpu request key 'all' can be specified only "
	    "once");
	CHECK("[\"--gpus\",\"foo=1\"]",
	    "ERROR: runArgs[0]: --gpus: unexpected key 'foo' in 'foo=1'");
	CHECK("[\"--gpus=\"]", "ERROR: runArgs[0]: --gpus: EOF");
	CHECK("[\"--gpus\",\"a\\\"b\"]",
	    "ERROR: runArgs[0]: --gpus: parse error on line 1, column 2: bare \" in "
	    "non-quoted-field");
	CHECK("[\"--gpus\",\"\\\"a\\\"b\"]",
	    "ERROR: runArgs[0]: --gpus: parse error on line 1, column 3: extraneous "
	    "or missing \" in quoted-field");
	/* Empty lines before the record are skipped; errors count lines. */
	CHECK("[\"--gpus\",\"\\nall\"]",
	    "{\"HostConfig\":{\"DeviceRequests\":[{\"Driver\":\"\",\"Count\":-1,"
	    "\"DeviceIDs\":null,\"Capabilities\":[[\"gpu\"]],\"Options\":{}}]}}");
	CHECK("[\"--gpus\",\"\\n\\n\\\"a\\\"b\"]",
	    "ERROR: runArgs[0]: --gpus: parse error on line 3, column 3: extraneous "
	    "or missing \" in quoted-field");
	CHECK("[\"--gpus\",\"\\\"x\\ny\\\"z\"]",
	    "ERROR: runArgs[0]: --gpus: record on line 1; parse error on line 2, "
	    "column 2: extraneous or missing \" in quoted-field");
	CHECK("[\"--gpus\",\"\\\"a\"]",
	    "ERROR: runArgs[0]: --gpus: parse error on line 1, column 3: extraneous "
	    "or missing \" in quoted-field");
}

/* --health-*: Config.Healthcheck, durations in nanoseconds. */
TEST(healthcheck)
{
	CHECK("[\"--health-cmd\",\"curl -f x\",\"--health-interval\",\"1m30s\","
	      "\"--health-timeout\",\"500ms\",\"--health-retries\",\"0x3\","
	      "\"--health-start-period\",\"1.5h\"]",
	    "{\"Healthcheck\":{\"Test\":[\"CMD-SHELL\",\"curl -f x\"],\"Interval\":"
	    "90000000000,\"Timeout\":500000000,\"StartPeriod\":5400000000000,"
	    "\"Retries\":3}}");
	CHECK(
	    "[\"--health-interval=5s\"]", "{\"Healthcheck\":{\"Interval\":5000000000}}");
	CHECK("[\"--health-timeout\",\"1h2m3.5s\",\"--health-interval\",\"2000us\"]",
	    "{\"Healthcheck\":{\"Interval\":2000000,\"Timeout\":3723500000000}}");
	CHECK("[\"--no-healthcheck\"]", "{\"Healthcheck\":{\"Test\":[\"NONE\"]}}");
	/* Zero values are no settings, as in the CLI. */
	CHECK("[\"--health-interval=0\",\"--health-retries\",\"0\"]", "{}");
	CHECK("[\"--no-healthcheck\",\"--health-interval\",\"0s\"]",
	    "{\"Healthcheck\":{\"Test\":[\"NONE\"]}}");
	CHECK("[\"--no-healthcheck=false\",\"--health-cmd\",\"true\"]",
	    "{\"Healthcheck\":{\"Test\":[\"CMD-SHELL\",\"true\"]}}");
	CHECK("[\"--no-healthcheck\",\"--health-retries\",\"1\"]",
	    "ERROR: runArgs: --no-healthcheck conflicts with --health-* options");
	CHECK("[\"--health-interval\",\"-1s\"]",
	    "ERROR: runArgs[0]: --health-interval: cannot be negative");
	CHECK("[\"--health-retries\",\"-1\"]",
	    "ERROR: runArgs[0]: --health-retries: cannot be negative");
	/* Checked once all are seen, as the CLI: the last value counts, and
	 * --no-healthcheck with any setting is the conflict. */
	CHECK("[\"--health-retries\",\"-1\",\"--health-retries\",\"3\","
	      "\"--health-interval=-1s\",\"--health-interval=2s\"]",
	    "{\"Healthcheck\":{\"Interval\":2000000000,\"Retries\":3}}");
	CHECK("[\"--health-cmd\",\"x\",\"--health-start-period\",\"-1s\","
	      "\"--health-timeout\",\"-2s\"]",
	    "ERROR: runArgs[4]: --health-timeout: cannot be negative");
	/* The daemon refuses a set duration under 1ms at create. */
	CHECK("[\"--health-interval\",\"1ms\",\"--health-timeout\",\"999us\"]",
	    "ERROR: runArgs[2]: --health-timeout: Timeout in Healthcheck cannot be "
	    "less than 1ms");
	CHECK("[\"--health-start-period\",\"1ns\"]",
	    "ERROR: runArgs[0]: --health-start-period: StartPeriod in Healthcheck "
	    "cannot be less than 1ms");
	CHECK("[\"--no-healthcheck\",\"--health-interval=-1s\"]",
	    "ERROR: runArgs: --no-healthcheck conflicts with --health-* options");
	CHECK("[\"--health-interval\",\"5\"]",
	    "ERROR: runArgs[0]: --health-interval: time: missing unit in duration "
	    "\"5\"");
	CHECK("[\"--health-timeout\",\"5d\"]",
	    "ERROR: runArgs[0]: --health-timeout: time: unknown unit \"d\" in duration "
	    "\"5d\"");
	CHECK("[\"--health-start-period\",\"x\"]",
	    "ERROR: runArgs[0]: --health-start-period: time: invalid duration \"x\"");
	CHECK("[\"--health-start-period\",\"\"]",
	    "ERROR: runArgs[0]: --health-start-period: time: invalid duration \"\"");
	/* From 1e15 on, the digits (not "1.08e+15", which the daemon's JSON
	 * decoder refuses for a time.Duration). */
	CHECK("[\"--health-start-period\",\"300h\",\"--health-timeout\","
	      "\"2400h\"]",
	    "{\"Healthcheck\":{\"Timeout\":8640000000000000,\"StartPeriod\":"
	    "1080000000000000}}");
	CHECK("[\"--device-read-iops\",\"/dev/sda:1000000000000000\",\"--cpus\","
	      "\"2000000\"]",
	    "{\"HostConfig\":{\"BlkioDeviceReadIOps\":[{\"Path\":\"/dev/sda\","
	    "\"Rate\":1000000000000000}],\"NanoCpus\":2000000000000000}}");
	/* Go's int64 of nanoseconds, all of it (it was cut at 2^53, 104 days),
	 * and "time: invalid duration" past it, as docker's pflag says. */
	CHECK("[\"--health-interval\",\"100000h\"]",
	    "{\"Healthcheck\":{\"Interval\":360000000000000000}}");
	CHECK("[\"--health-interval\",\"2562047h47m16.854775807s\"]",
	    "{\"Healthcheck\":{\"Interval\":9223372036854775807}}");
	CHECK("[\"--health-timeout\",\"9223372036854775807ns\"]",
	    "{\"Healthcheck\":{\"Timeout\":9223372036854775807}}");
	CHECK("[\"--health-interval\",\"2562048h\"]",
	    "ERROR: runArgs[0]: --health-interval: time: invalid duration \"2562048h\"");
	CHECK("[\"--health-interval\",\"9223372036854775808ns\"]",
	    "ERROR: runArgs[0]: --health-interval: time: invalid duration "
	    "\"9223372036854775808ns\"");
	CHECK("[\"--health-interval\",\"2562047h47m16s1000000000ns\"]",
	    "ERROR: runArgs[0]: --health-interval: time: invalid duration "
	    "\"2562047h47m16s1000000000ns\"");
	/* (-2^63 parses, as in Go, and is negative) */
	CHECK("[\"--health-interval\",\"-9223372036854775808ns\"]",
	    "ERROR: runArgs[0]: --health-interval: cannot be negative");
	CHECK("[\"--health-retries\",\"x\"]",
	    "ERROR: runArgs[0]: --health-retries: invalid number \"x\"");
}

/* --storage-opt, block I/O and the other resource fields added with them. */
TEST(storage_and_blkio)
{
	CHECK("[\"--storage-opt\",\"size=10G\",\"--storage-opt\",\"a=b=c\"]",
	    "{\"HostConfig\":{\"StorageOpt\":{\"size\":\"10G\",\"a\":\"b=c\"}}}");
	CHECK("[\"--storage-opt\",\"size\"]",
	    "ERROR: runArgs[0]: --storage-opt: invalid storage option: \"size\" "
	    "(key=value)");
	CHECK("[\"--blkio-weight\",\"0x1f4\",\"--blkio-weight-device\",\"/dev/sda:200\","
	      "\"--device-read-bps\",\"/dev/sda:1mb\",\"--device-write-bps\","
	      "\"/dev/sda:10\",\"--device-read-iops\",\"/dev/sda:100\","
	      "\"--device-write-iops\",\"/dev/sda:0\"]",
	    "{\"HostConfig\":{\"BlkioWeight\":500,\"BlkioWeightDevice\":[{\"Path\":"
	    "\"/dev/sda\",\"Weight\":200}],\"BlkioDeviceReadBps\":[{\"Path\":"
	    "\"/dev/sda\",\"Rate\":1048576}],\"BlkioDeviceWriteBps\":[{\"Path\":"
	    "\"/dev/sda\",\"Rate\":10}],\"BlkioDeviceReadIOps\":[{\"Path\":"
	    "\"/dev/sda\",\"Rate\":100}],\"BlkioDeviceWriteIOps\":[{\"Path\":"
	    "\"/dev/sda\",\"Rate\":0}]}}");
	CHECK("[\"--blkio-weight\",\"70000\"]",
	    "ERROR: runArgs[0]: --blkio-weight: invalid number \"70000\" (0 to 65535)");
	CHECK("[\"--blkio-weight-device\",\"/dev/sda:5\"]",
	    "ERROR: runArgs[0]: --blkio-weight-device: invalid weight for device: "
	    "/dev/sda:5");
	CHECK("[\"--blkio-weight-device\",\"/dev/sda\"]",
	    "ERROR: runArgs[0]: --blkio-weight-device: bad format: /dev/sda");
	CHECK("[\"--device-read-bps\",\"sda:1mb\"]",
	    "ERROR: runArgs[0]: --device-read-bps: bad format for device path: "
	    "sda:1mb");
	CHECK("[\"--device-read-bps\",\"/dev/sda:-1\"]",
	    "ERROR: runArgs[0]: --device-read-bps: invalid rate for device: "
	    "/dev/sda:-1. The correct format is <device-path>:<number>[<unit>]. Number "
	    "must be a positive integer. Unit is optional and can be kb, mb, or gb");
	CHECK("[\"--device-write-iops\",\"/dev/sda:1k\"]",
	    "ERROR: runArgs[0]: --device-write-iops: invalid rate for device: "
	    "/dev/sda:1k. The correct format is <device-path>:<number>. Number must be "
	    "a positive integer");
	CHECK("[\"--kernel-memory\",\"1g\",\"--cpu-rt-period\",\"1000\","
	      "\"--cpu-rt-runtime\",\"500\",\"--volume-driver\",\"local\","
	      "\"--isolation\",\"default\",\"--cpu-count\",\"2\",\"--cpu-percent\","
	      "\"50\",\"--io-maxiops\",\"10\",\"--io-maxbandwidth\",\"1m\"]",
	    "{\"HostConfig\":{\"KernelMemory\":1073741824,\"CpuRealtimePeriod\":1000,"
	    "\"CpuRealtimeRuntime\":500,\"VolumeDriver\":\"local\",\"Isolation\":"
	    "\"default\",\"CpuCount\":2,\"CpuPercent\":50,\"IOMaximumIOps\":10,"
	    "\"IOMaximumBandwidth\":1048576}}");
	CHECK("[\"--io-maxiops\",\"-1\"]",
	    "ERROR: runArgs[0]: --io-maxiops: invalid number \"-1\"");
	/* (strconv.ParseUint takes no sign: "+5" is no number to docker) */
	CHECK("[\"--io-maxiops\",\"+5\"]",
	    "ERROR: runArgs[0]: --io-maxiops: invalid number \"+5\"");
}

TEST(null_and_empty)
{
	CHECK("null", "{}");
	CHECK("[]", "{}");
	CHECK_BODY("{\"Image\":\"x\"}", "[]", "{\"Image\":\"x\"}");
}

TEST(appends_to_existing_fields)
{
	/* Lists grow (caps normalized, deduplicated and sorted as the docker
	 * client does), maps get keys set, scalars are replaced. */
	CHECK_BODY(
	    "{\"Image\":\"img\",\"Env\":[\"A=1\"],\"Labels\":{\"x\":\"1\",\"y\":\"2\"},"
	    "\"User\":\"root\",\"HostConfig\":{\"CapAdd\":[\"SYS_PTRACE\"],"
	    "\"SecurityOpt\":["
	    "\"seccomp=unconfined\"],\"Mounts\":[{\"Type\":\"volume\",\"Target\":\"/"
	    "v\"}],"
	    "\"Privileged\":true,\"Init\":true}}",
	    "[\"--cap-add\",\"NET_ADMIN\",\"--cap-add\",\"sys_ptrace\",\"-e\",\"B=2\",\"-"
	    "l\","
	    "\"x=9\",\"-u\",\"dev\",\"--security-opt\",\"label=disable\",\"--mount\","
	    "\"type=tmpfs,dst=/t\",\"--privileged=false\",\"--init=false\"]",
	    "{\"Image\":\"img\",\"Env\":[\"A=1\",\"B=2\"],\"Labels\":{\"x\":\"9\",\"y\":"
	    "\"2\"},"
	    "\"User\":\"dev\",\"HostConfig\":{\"CapAdd\":[\"CAP_NET_ADMIN\",\"CAP_SYS_"
	    "PTRACE\"],"
	    "\"SecurityOpt\":[\"seccomp=unconfined\",\"label=disable\"],\"Mounts\":[{"
	    "\"Type\":"
	    "\"volume\",\"Target\":\"/v\"},{\"Type\":\"tmpfs\",\"Target\":\"/t\"}],"
	    "\"Privileged\":true,\"Init\":true}}");
	/* Port bindings for a port already published add a binding. */
	CHECK_BODY("{\"ExposedPorts\":{\"80/tcp\":{}},\"HostConfig\":{\"PortBindings\":{"
		   "\"80/tcp\":[{\"HostIp\":\"127.0.0.1\",\"HostPort\":\"80\"}]}}}",
	    "[\"-p\",\"8080:80\"]",
	    "{\"ExposedPorts\":{\"80/tcp\":{}},\"HostConfig\":{\"PortBindings\":{\"80/"
	    "tcp\":["
	    "{\"HostIp\":\"127.0.0.1\",\"HostPort\":\"80\"},{\"HostIp\":\"\","
	    "\"HostPort\":"
	    "\"8080\"}]}}}");
	/* A ulimit already there is replaced by name; others keep their order. */
	CHECK_BODY("{\"HostConfig\":{\"Ulimits\":[{\"Name\":\"nofile\",\"Hard\":1,"
		   "\"Soft\":1}]}}",
	    "[\"--ulimit\",\"nofile=5\",\"--ulimit\",\"core=0\"]",
	    "{\"HostConfig\":{\"Ulimits\":[{\"Name\":\"core\",\"Hard\":0,\"Soft\":0},"
	    "{\"Name\":\"nofile\",\"Hard\":5,\"Soft\":5}]}}");
	/* Caps from the configuration are normalized even without runArgs. */
	CHECK_BODY("{\"HostConfig\":{\"CapAdd\":[\"sys_admin\",\"SYS_ADMIN\"]}}", "[]",
	    "{\"HostConfig\":{\"CapAdd\":[\"CAP_SYS_ADMIN\"]}}");
	/* A HostConfig that is not an object is replaced. */
	CHECK_BODY(
	    "{\"HostConfig\":7}", "[\"--init\"]", "{\"HostConfig\":{\"Init\":true}}");
	/* A list field of the wrong type is replaced. */
	CHECK_BODY("{\"Env\":\"A=1\"}", "[\"-e\",\"B=2\"]", "{\"Env\":[\"B=2\"]}");
}

TEST(null_output_pointers)
{
	cJSON *args = cJSON_Parse("[\"--rm\",\"--name\",\"x\",\"--init\"]");
	cJSON *body = cJSON_CreateObject();
	char *cause = NULL, *s;

	ASSERT_INT_EQ(run_args_apply(args, body, NULL, NULL, &cause), 0);
	s = cJSON_PrintUnformatted(body);
	ASSERT_STR_EQ(s, "{\"HostConfig\":{\"Init\":true}}");
	free(s);
	ASSERT_INT_EQ(
	    run_args_apply(cJSON_GetArrayItem(args, 1), body, NULL, NULL, NULL), -1);
	cJSON_Delete(args);
	cJSON_Delete(body);
}

TEST(large_port_ranges)
{
	/* 65536 ports twice over: linear, each port exposed once, bound twice. */
	cJSON *args =
	    cJSON_Parse("[\"-p\",\"0-65535:0-65535/udp\",\"--expose\",\"0-65535/udp\","
			"\"-p\",\"0-65535/udp\"]");
	cJSON *body =
	    cJSON_Parse("{\"ExposedPorts\":{\"80/udp\":{},\"x\":{}},\"HostConfig\":{"
			"\"PortBindings\":{\"81/udp\":7,\"82/"
			"udp\":[{\"HostIp\":\"\",\"HostPort\":\"1\"}]}}}");
	const cJSON *exposed, *bindings, *list;
	char *cause = NULL;

	ASSERT_INT_EQ(run_args_apply(args, body, NULL, NULL, &cause), 0);
	exposed = cJSON_GetObjectItemCaseSensitive(body, "ExposedPorts");
	ASSERT_INT_EQ(cJSON_GetArraySize(exposed), 65537); /* + "x" */
	bindings = cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(body, "HostConfig"), "PortBindings");
	ASSERT_INT_EQ(cJSON_GetArraySize(bindings), 65536);
	list = cJSON_GetObjectItemCaseSensitive(bindings, "82/udp");
	ASSERT_INT_EQ(cJSON_GetArraySize(list), 3);
	ASSERT_STR_EQ(
	    cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(list, 1), "HostPort")
		->valuestring,
	    "82");
	/* The malformed 81/udp (not a list) was dropped for a new list. */
	list = cJSON_GetObjectItemCaseSensitive(bindings, "81/udp");
	ASSERT_INT_EQ(cJSON_GetArraySize(list), 2);
	list = cJSON_GetObjectItemCaseSensitive(bindings, "65535/udp");
	ASSERT_INT_EQ(cJSON_GetArraySize(list), 2);
	cJSON_Delete(args);
	cJSON_Delete(body);
}

/* The env files of env_file's tests: "PATH\0CONTENT" pairs. */
static const char *const env_file_texts[] = {
	"a.env",
	"# a comment\n\n  A=1\nB= spaced \"quoted\" \nC=x=y\r\n\tD=\nE=from-a\nONLY",
	"b.env",
	"\xef\xbb\xbf"
	"E=from-b\nF=2",
	"bad.env",
	"OK=1\n\nMY VAR=1\n",
	"noname.env",
	"=value\n",
	"utf8.env",
	"A=\xff\n",
	NULL,
};

static int
env_file_read(void *arg, const char *path, char **text, size_t *len, char **cause)
{
	(void)arg;
	for (int i = 0; env_file_texts[i] != NULL; i += 2) {
		if (strcmp(env_file_texts[i], path) == 0) {
			*text = strdup(env_file_texts[i + 1]);
			*len = strlen(*text);
			return 0;
		}
	}
	*cause = strdup("no such file");
	return -1;
}

static char *
env_file_apply(const char *body, const char *args, char ***warnings)
{
	const struct run_args_files files = { env_file_read, NULL };
	cJSON *b = cJSON_Parse(body), *a = cJSON_Parse(args);
	char *cause = NULL, *out;

	if (run_args_apply_files(a, b, &files, NULL, warnings, &cause) != 0) {
		out = malloc(strlen(cause) + 8);
		strcpy(out, "ERROR: ");
		strcat(out, cause);
		free(cause);
	} else
		out = cJSON_PrintUnformatted(b);
	cJSON_Delete(a);
	cJSON_Delete(b);
	return out;
}

TEST(env_file)
{
	char **w = NULL, *got;

	/* docker's format: comments, blank lines, leading white space, the
	 * value as written (no quotes taken off, no trimming, a CRLF's \r
	 * dropped); a later file replaces an earlier one's variable, and -e
	 * (before or after) and what the body had (containerEnv) win. */
	got = env_file_apply("{\"Env\":[\"D=container\"]}",
	    "[\"-e\",\"A=dash-e\",\"--env-file\",\"a.env\",\"--env-file=b.env\"]", &w);
	ASSERT_STR_EQ(got,
	    "{\"Env\":[\"D=container\",\"A=dash-e\",\"B= spaced \\\"quoted\\\" \","
	    "\"C=x=y\",\"E=from-b\",\"F=2\"]}");
	free(got);
	/* A bare name: left out, with a warning naming the file and line. */
	ASSERT_NOT_NULL(w);
	ASSERT_STR_CONTAINS(w[0],
	    "runArgs[2]: --env-file a.env:8: ONLY has no value and is not set on the "
	    "Docker host");
	ASSERT_NULL(w[1]);
	run_args_warnings_free(w);
	w = NULL;
	/* ... or its value where the agent runs (as -e NAME's). */
	setenv("ONLY", "host", 1);
	got = env_file_apply("{}", "[\"--env-file\",\"a.env\"]", &w);
	unsetenv("ONLY");
	ASSERT_STR_CONTAINS(got, "\"ONLY=host\"");
	ASSERT_NULL(w);
	free(got);

	got = env_file_apply("{}", "[\"--env-file\",\"bad.env\"]", NULL);
	ASSERT_STR_EQ(got,
	    "ERROR: runArgs[0]: --env-file: bad.env:3: poorly formatted environment: "
	    "variable 'MY VAR' contains whitespaces");
	free(got);
	got = env_file_apply("{}", "[\"--env-file\",\"noname.env\"]", NULL);
	ASSERT_STR_EQ(got,
	    "ERROR: runArgs[0]: --env-file: noname.env:1: poorly formatted environment: "
	    "no variable name on line '=value'");
	free(got);
	got = env_file_apply("{}", "[\"--env-file\",\"utf8.env\"]", NULL);
	ASSERT_STR_EQ(got, "ERROR: runArgs[0]: --env-file: utf8.env:1: invalid UTF-8");
	free(got);
	got = env_file_apply("{}", "[\"--env-file\",\"missing.env\"]", NULL);
	ASSERT_STR_EQ(got, "ERROR: runArgs[0]: --env-file: no such file");
	free(got);
}

/* One env file's bytes (NUL and all) for env_blob_apply. */
struct env_blob {
	const char *text;
	size_t len;
};

static int
env_blob_read(void *arg, const char *path, char **text, size_t *len, char **cause)
{
	const struct env_blob *b = arg;

	(void)path;
	(void)cause;
	*text = malloc(b->len + 1);
	memcpy(*text, b->text, b->len);
	(*text)[b->len] = '\0';
	*len = b->len;
	return 0;
}

/* runArgs ["--env-file", "x.env"] on {} with x.env's bytes text[0..len). */
static char *
env_blob_apply(const char *text, size_t len, char ***warnings)
{
	struct env_blob b = { text, len };
	const struct run_args_files files = { env_blob_read, &b };
	cJSON *body = cJSON_CreateObject();
	cJSON *a = cJSON_Parse("[\"--env-file\",\"x.env\"]");
	char *cause = NULL, *out;

	if (run_args_apply_files(a, body, &files, NULL, warnings, &cause) != 0) {
		out = malloc(strlen(cause) + 8);
		strcpy(out, "ERROR: ");
		strcat(out, cause);
		free(cause);
	} else
		out = cJSON_PrintUnformatted(body);
	cJSON_Delete(a);
	cJSON_Delete(body);
	return out;
}

/* A bare name the Docker host lacks, longer than the warning shows (60
 * bytes), is cut at a character's start, never inside one: here byte 60 is
 * the second of "\xc3\xa9" (e acute), so 59 bytes and "..." are shown. */
TEST(env_file_long_bare_name_cut_at_a_character)
{
	char name[80], text[96], want[96], **w = NULL, *got;

	memset(name, 'N', 59);
	strcpy(name + 59, "\xc3\xa9TAIL");
	snprintf(text, sizeof text, "%s\n", name);
	got = env_blob_apply(text, strlen(text), &w);
	ASSERT_STR_EQ(got, "{\"Env\":[]}");
	free(got);
	ASSERT_NOT_NULL(w);
	snprintf(want, sizeof want, "x.env:1: %.59s... has no value", name);
	ASSERT_STR_CONTAINS(w[0], want);
	ASSERT_NULL(w[1]);
	run_args_warnings_free(w);
}

/* What docker's parseKeyValueFile does with odd bytes: a NUL is refused (by
 * rdev; docker takes it as valid UTF-8), a BOM is taken off the first line
 * only, a bare name with a trailing space is a bad name, a line over 64 KiB
 * is refused as the docker CLI's bufio.Scanner refuses it. */
TEST(env_file_odd_bytes)
{
	char *got, *big;
	size_t n = 64 * 1024;

	got = env_blob_apply("A=1\0B=2\n", 8, NULL);
	ASSERT_STR_EQ(got, "ERROR: runArgs[0]: --env-file: x.env:1: a NUL byte");
	free(got);
	got = env_blob_apply("A=1\n\xef\xbb\xbf"
			     "B=2\n",
	    11, NULL);
	ASSERT_STR_EQ(got,
	    "{\"Env\":[\"A=1\",\"\xef\xbb\xbf"
	    "B=2\"]}");
	free(got);
	got = env_blob_apply("KEY \n", 5, NULL);
	ASSERT_STR_EQ(got,
	    "ERROR: runArgs[0]: --env-file: x.env:1: poorly formatted environment: "
	    "variable 'KEY ' contains whitespaces");
	free(got);
	/* 65535 bytes and its \n fit docker's 64 KiB buffer; one more does not. */
	big = malloc(n + 8);
	memset(big, 'v', n + 8);
	memcpy(big, "A=1\nB=", 6);
	big[4 + n - 1] = '\n';
	got = env_blob_apply(big, 4 + n, NULL);
	ASSERT_TRUE(strncmp(got, "{\"Env\":[\"A=1\",\"B=vvv", 20) == 0);
	free(got);
	big[4 + n - 1] = 'v';
	big[4 + n] = '\n';
	got = env_blob_apply(big, 4 + n + 1, NULL);
	/* (not ASSERT_STR_EQ: a failure would print the 64 KiB) */
	ASSERT_TRUE(strcmp(got,
			"ERROR: runArgs[0]: --env-file: x.env:2: line longer "
			"than 64 KiB (the docker CLI refuses it: "
			"bufio.Scanner: token too long)") == 0);
	free(got);
	free(big);
}

/* A wrong file (a blob of bare names the host lacks) gives a few warnings,
 * names cut short, and a count of the rest: not one per line. */
TEST(env_file_missing_names_capped)
{
	char text[4096], **w = NULL, *got;
	size_t len = 0;
	int i;

	for (i = 0; i < 30; i++)
		len += (size_t)snprintf(text + len, sizeof text - len,
		    "RDEV_TEST_UNSET_%02d_%s\n", i,
		    "aGVsbG8gd29ybGQgaGVsbG8gd29ybGQgaGVsbG8gd29ybGQgaGVsbG8gd29ybGQ");
	got = env_blob_apply(text, len, &w);
	ASSERT_STR_EQ(got, "{\"Env\":[]}");
	free(got);
	ASSERT_NOT_NULL(w);
	for (i = 0; i < 5; i++) {
		ASSERT_NOT_NULL(w[i]);
		ASSERT_STR_CONTAINS(w[i], "...");
		ASSERT_TRUE(strlen(w[i]) < 300);
	}
	ASSERT_STR_CONTAINS(w[0], "x.env:1: RDEV_TEST_UNSET_00_aGVs");
	ASSERT_STR_EQ(w[5],
	    "runArgs[0]: --env-file x.env: and 25 more names with no "
	    "value and not set on the Docker host: left out");
	ASSERT_NULL(w[6]);
	run_args_warnings_free(w);
}

/* A 1 MiB file's 100000 lines (each name twice: the later value, at the
 * first one's place) are taken in well under a second, not pairwise. */
TEST(env_file_many_lines)
{
	size_t cap = 2 * 1024 * 1024, len = 0;
	char *text = malloc(cap), *got, want[64];
	struct timespec t0, t1;
	cJSON *body, *env;
	int i, half = 50000;
	double secs;

	for (i = 0; i < 2 * half; i++)
		len += (size_t)snprintf(text + len, cap - len, "K%d=%s\n", i % half,
		    i < half ? "first" : "second");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	got = env_blob_apply(text, len, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	body = cJSON_Parse(got);
	env = cJSON_GetObjectItemCaseSensitive(body, "Env");
	ASSERT_INT_EQ(cJSON_GetArraySize(env), half);
	ASSERT_STR_EQ(cJSON_GetArrayItem(env, 0)->valuestring, "K0=second");
	snprintf(want, sizeof want, "K%d=second", half - 1);
	ASSERT_STR_EQ(cJSON_GetArrayItem(env, half - 1)->valuestring, want);
	if (secs > 3.0)
		TEST_FAIL("100000 env-file lines took %.1f s", secs);
	cJSON_Delete(body);
	free(got);
	free(text);
}
