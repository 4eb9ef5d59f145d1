/* rig.h - the rig's fixtures for the integration tests: an sshd host
 * (tests/rig/rig.sh host-start) for the tests that talk SSH, the rig's Docker
 * engine and images for those that make containers, and shell helpers.
 * Include after test.h: like it, everything here is static, and failures end
 * the current test with TEST_FAIL.
 *
 *   rig_host_start("ss");              host ss<pid>, once; later calls no-ops
 *   s = rig_connect(NULL);             as the rig's ssh_config says
 *   rig_sh("rm -rf '%s/x'", rig.tmp);  must exit 0
 *
 *   d = rig_docker();                  the engine's client, checked once
 *   body = rig_container_body(RIG_BUSYBOX, "exec");
 *   id = rig_container_create(body, rig_docker_name("x"), 1);
 *   rig_container_remove(id);          or leave it to the cleanup at exit
 *
 * At exit (also after a failed test) the test's rig.at_exit runs, then the
 * containers labelled as this run's (rig.label) are removed, the host is
 * stopped, the temporary dir removed and libssh finalized; only what was
 * started here is touched, and only by the process that started it (not by a
 * forked child that exits). A test fails, not skips, when sshd cannot be
 * started or the engine does not answer.
 */
#ifndef RDEV_TEST_RIG_H
#define RDEV_TEST_RIG_H

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "docker.h"
#include "ssh-session.h"

#define RIG_FN __attribute__((unused)) static

/* The rig's local images (tests/rig/rig.sh up builds them). */
#define RIG_BUSYBOX "rdev-test/busybox:r1"
#define RIG_DEV_IMAGE "rdev-test/bookworm-dev:r1"
/* Every container a test makes carries RIG_LABEL=<the test's pid>. */
#define RIG_LABEL "rdev.test.pid"
/* A container left behind by a test whose process is gone is removed by the
 * next test once it is this old (a younger one may belong to a test in
 * another pid namespace on the same engine). */
#define RIG_STALE_SECONDS 3600

/* What rig_container_body() runs: long enough for any test. */
static const char *const rig_container_cmd[] = { "sleep", "3600", NULL };

static struct {
	char host[16];	       /* the host's name: prefix + pid */
	char dir[256];	       /* $RDEV_RIG_DIR, default /var/tmp/rdev-rig */
	char host_dir[512];    /* <dir>/run/hosts/<host>: port, keys, ssh_config */
	char home[600];	       /* <host_dir>/home, the SSH user's home */
	char tmp[256];	       /* a private temporary dir, removed at exit */
	int started;	       /* host-start was run: host-stop at exit */
	int failed;	       /* a test may set it when a prerequisite is missing */
	void (*at_exit)(void); /* the test's own cleanup, before host-stop */
	pid_t pid;	       /* the test's process: only it cleans up */
	struct docker *docker; /* rig_docker()'s client */
	char label[64];	       /* RIG_LABEL=<pid>, a label and a filter */
} rig;

/* Remove the containers with the label filter ("k=v" or "k"); when
 * stale_only, only those whose RIG_LABEL names a process that is gone and
 * that are older than RIG_STALE_SECONDS. Errors are only printed: this runs
 * at exit too. */
static void
rig_docker_remove_labelled(const char *filter, int stale_only)
{
	const char *labels[] = { filter, NULL };
	cJSON *list = NULL, *c, *id, *lab, *created;
	char *cause = NULL;
	long pid;

	if (docker_container_list(rig.docker, labels, 1, &list, &cause) != 0) {
		fprintf(stderr, "cleanup: %s\n", cause);
		free(cause);
		return;
	}
	cJSON_ArrayForEach(c, list) {
		id = cJSON_GetObjectItemCaseSensitive(c, "Id");
		lab = cJSON_GetObjectItemCaseSensitive(
		    cJSON_GetObjectItemCaseSensitive(c, "Labels"), RIG_LABEL);
		created = cJSON_GetObjectItemCaseSensitive(c, "Created");
		if (!cJSON_IsString(id))
			continue;
		if (stale_only) {
			if (!cJSON_IsString(lab) || !cJSON_IsNumber(created) ||
			    time(NULL) - (time_t)created->valuedouble < RIG_STALE_SECONDS)
				continue;
			pid = strtol(lab->valuestring, NULL, 10);
			if (pid > 0 && (kill((pid_t)pid, 0) == 0 || errno != ESRCH))
				continue;
		}
		if (docker_container_remove(rig.docker, id->valuestring, 1, 1, &cause) !=
		    0) {
			fprintf(stderr, "cleanup: %s\n", cause);
			free(cause);
			cause = NULL;
		}
	}
	cJSON_Delete(list);
}

/* Run at exit: the test's cleanup, then remove this run's containers and stop
 * what rig_host_start started. */
static void
rig_cleanup(void)
{
	char cmd[4096];

	if (getpid() != rig.pid)
		return;
	if (rig.at_exit != NULL)
		rig.at_exit();
	if (rig.docker != NULL) {
		rig_docker_remove_labelled(rig.label, 0);
		docker_free(rig.docker);
		rig.docker = NULL;
	}
	if (rig.started) {
		snprintf(cmd, sizeof cmd, "bash %s/tests/rig/rig.sh host-stop %s",
		    RDEV_SOURCE_DIR, rig.host);
		if (system(cmd) != 0)
			fprintf(stderr, "cleanup: %s failed\n", cmd);
	}
	if (rig.tmp[0] != '\0') {
		snprintf(cmd, sizeof cmd, "rm -rf '%s'", rig.tmp);
		if (system(cmd) != 0)
			fprintf(stderr, "cleanup: %s failed\n", cmd);
	}
	ssh_finalize();
}

__attribute__((constructor)) static void
rig_setup_cleanup(void)
{
	rig.pid = getpid();
	atexit(rig_cleanup);
}

/* Start (once) the host <prefix><pid> and make rig.tmp
 * (/tmp/rdev-test-<prefix>.XXXXXX). Fails the test, now and on every later
 * call, if the host cannot be started or rig.failed is set. */
RIG_FN void
rig_host_start(const char *prefix)
{
	char cmd[4096];
	const char *d = getenv("RDEV_RIG_DIR");

	if (rig.failed)
		TEST_FAIL("sshd host could not be started (see above)");
	if (rig.started)
		return;
	snprintf(rig.dir, sizeof rig.dir, "%s", d != NULL ? d : "/var/tmp/rdev-rig");
	snprintf(rig.host, sizeof rig.host, "%s%ld", prefix, (long)getpid() % 100000000);
	snprintf(rig.tmp, sizeof rig.tmp, "/tmp/rdev-test-%s.XXXXXX", prefix);
	if (mkdtemp(rig.tmp) == NULL) {
		rig.tmp[0] = '\0';
		TEST_FAIL("mkdtemp failed");
	}
	snprintf(cmd, sizeof cmd, "bash %s/tests/rig/rig.sh host-start %s >/dev/null",
	    RDEV_SOURCE_DIR, rig.host);
	rig.started = 1;
	if (system(cmd) != 0) {
		rig.failed = 1;
		TEST_FAIL("this test needs an sshd host and `%s` failed", cmd);
	}
	snprintf(rig.host_dir, sizeof rig.host_dir, "%s/run/hosts/%s", rig.dir, rig.host);
	snprintf(rig.home, sizeof rig.home, "%s/home", rig.host_dir);
}

/* Options that connect to the host as the rig's ssh_config says (batch
 * mode). The config path stays valid until the next call. */
RIG_FN struct ssh_target_opts
rig_ssh_opts(void)
{
	static char cfg[600];
	struct ssh_target_opts o;

	memset(&o, 0, sizeof o);
	snprintf(cfg, sizeof cfg, "%s/ssh_config", rig.host_dir);
	o.host = rig.host;
	o.ssh_config_file = cfg;
	o.batch = 1;
	return o;
}

/* Connect with o (NULL: rig_ssh_opts()), or fail the test. The caller frees
 * the session with rdev_ssh_free(). */
RIG_FN struct rdev_ssh *
rig_connect(const struct ssh_target_opts *o)
{
	struct ssh_target_opts def;
	struct rdev_ssh *s;
	char *cause = NULL;

	if (o == NULL) {
		def = rig_ssh_opts();
		o = &def;
	}
	if ((s = rdev_ssh_connect(o, &cause)) == NULL)
		TEST_FAIL("connect failed: %s", cause);
	return s;
}

/* The client of the rig's Docker engine (DOCKER_HOST or the default
 * socket), made and pinged on the first call, when the stale containers of
 * earlier runs are removed too; fails the test if the engine does not answer.
 * Borrowed: freed at exit. */
RIG_FN struct docker *
rig_docker(void)
{
	static char msg[512];
	char *cause = NULL;

	if (rig.docker != NULL)
		return rig.docker;
	rig.docker = docker_new(NULL);
	snprintf(rig.label, sizeof rig.label, "%s=%ld", RIG_LABEL, (long)rig.pid);
	if (docker_ping(rig.docker, NULL, &cause) != 0) {
		docker_free(rig.docker);
		rig.docker = NULL;
		snprintf(msg, sizeof msg, "%s", cause);
		free(cause);
		TEST_FAIL("the Docker engine is unreachable, this test needs it "
			  "(tests/rig/rig.sh up): %s",
		    msg);
	}
	rig_docker_remove_labelled(RIG_LABEL, 1);
	return rig.docker;
}

/* A name no other run uses: rdev-test-<what>-<pid>. Valid until the next
 * call. */
RIG_FN const char *
rig_docker_name(const char *what)
{
	static char name[128];

	snprintf(name, sizeof name, "rdev-test-%s-%ld", what, (long)rig.pid);
	return name;
}

/* A create body for image running rig_container_cmd, labelled as this run's
 * (and rdev.test.role=role unless role is NULL), for the test to add to and
 * pass to rig_container_create(). The caller owns it. */
RIG_FN cJSON *
rig_container_body(const char *image, const char *role)
{
	cJSON *body = cJSON_CreateObject(), *cmd, *labels;
	int i;

	rig_docker(); /* sets rig.label */
	cJSON_AddStringToObject(body, "Image", image);
	cmd = cJSON_AddArrayToObject(body, "Cmd");
	for (i = 0; rig_container_cmd[i] != NULL; i++)
		cJSON_AddItemToArray(cmd, cJSON_CreateString(rig_container_cmd[i]));
	labels = cJSON_AddObjectToObject(body, "Labels");
	cJSON_AddStringToObject(labels, RIG_LABEL, strchr(rig.label, '=') + 1);
	if (role != NULL)
		cJSON_AddStringToObject(labels, "rdev.test.role", role);
	return body;
}

/* Create the container of body (freed here) named name (NULL: the engine
 * picks one) and, if start, start it; fails the test if either fails. The
 * caller frees the id; the container is removed at exit if not before. */
RIG_FN char *
rig_container_create(cJSON *body, const char *name, int start)
{
	static char msg[512];
	char *id = NULL, *cause = NULL;
	int rc;

	rc = docker_container_create(rig_docker(), name, body, &id, &cause);
	cJSON_Delete(body);
	if (rc == 0 && start && docker_container_start(rig.docker, id, &cause) != 0)
		rc = -1;
	if (rc != 0) {
		snprintf(msg, sizeof msg, "%s", cause);
		free(cause);
		free(id);
		TEST_FAIL("container %s: %s", start ? "create and start" : "create", msg);
	}
	return id;
}

/* Remove a container now (forced, with its anonymous volumes) and free its
 * id; fails the test if that fails. */
RIG_FN void
rig_container_remove(char *id)
{
	static char msg[512];
	char *cause = NULL;

	if (docker_container_remove(rig_docker(), id, 1, 1, &cause) != 0) {
		snprintf(msg, sizeof msg, "%s", cause);
		free(cause);
		free(id);
		TEST_FAIL("remove: %s", msg);
	}
	free(id);
}

/* Run a shell command built with printf; fail the test if it fails. */
RIG_FN void rig_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
RIG_FN void
rig_sh(const char *fmt, ...)
{
	char cmd[8192];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof cmd, fmt, ap);
	va_end(ap);
	if (system(cmd) != 0)
		TEST_FAIL("command failed: %s", cmd);
}

/* The first line of a shell command's output, without its newline; "" if
 * there is none (its exit status is not looked at). The caller frees it. */
RIG_FN char *rig_sh_out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
RIG_FN char *
rig_sh_out(const char *fmt, ...)
{
	char cmd[8192], line[4096];
	va_list ap;
	FILE *p;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof cmd, fmt, ap);
	va_end(ap);
	line[0] = '\0';
	if ((p = popen(cmd, "r")) == NULL)
		TEST_FAIL("popen %s failed", cmd);
	if (fgets(line, sizeof line, p) == NULL)
		line[0] = '\0';
	pclose(p);
	line[strcspn(line, "\n")] = '\0';
	return strdup(line);
}

#endif
