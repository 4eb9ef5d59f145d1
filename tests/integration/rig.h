/* rig.h - a rig sshd host for the integration tests that talk SSH
 * (tests/rig/rig.sh host-start), with shell helpers. Include after test.h:
 * like it, everything here is static, and failures end the current test with
 * TEST_FAIL.
 *
 *   rig_host_start("ss");              host ss<pid>, once; later calls no-ops
 *   s = rig_connect(NULL);             as the rig's ssh_config says
 *   rig_sh("rm -rf '%s/x'", rig.tmp);  must exit 0
 *
 * At exit (also after a failed test) the test's rig.at_exit runs, then the
 * host is stopped, the temporary dir removed and libssh finalized; only what
 * was started here is touched. A test fails, not skips, when sshd cannot be
 * started.
 */
#ifndef RDEV_TEST_RIG_H
#define RDEV_TEST_RIG_H

#include <stdarg.h>
#include <unistd.h>

#include "ssh-session.h"

#define RIG_FN __attribute__((unused)) static

static struct {
	char host[16];	       /* the host's name: prefix + pid */
	char dir[256];	       /* $RDEV_RIG_DIR, default /var/tmp/rdev-rig */
	char host_dir[512];    /* <dir>/run/hosts/<host>: port, keys, ssh_config */
	char home[600];	       /* <host_dir>/home, the SSH user's home */
	char tmp[256];	       /* a private temporary dir, removed at exit */
	int started;	       /* host-start was run: host-stop at exit */
	int failed;	       /* a test may set it when a prerequisite is missing */
	void (*at_exit)(void); /* the test's own cleanup, before host-stop */
} rig;

/* Run at exit: the test's cleanup, then stop what rig_host_start started. */
static void
rig_cleanup(void)
{
	char cmd[4096];

	if (rig.at_exit != NULL)
		rig.at_exit();
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
