/* test-agent-install.c - the agent self-install (broker/agent-install.c)
 * against a real sshd host from the rig, with real libssh and SFTP.
 *
 * Needs the agent bundle of this build dir (the `agent-bundle` target, built
 * by default: <build>/agent-bundle/rdev-agent-<version>-linux-<arch>/), or
 * RDEV_AGENT_BUNDLE. Starts its own rig host (ai<pid>), and for the tests of
 * a host without SFTP a second one (an<pid>, `rig.sh host-start --no-sftp`),
 * and stops them at exit; a host's home is a local directory, so the test
 * looks at (and damages) the installed files directly. Variant bundles
 * (other arch, other build, damaged) are copies of the real one in a
 * temporary dir. install_from_scratch installs the real bundle (18 MB); the
 * other tests a slim copy of it (1.6 MB: lib/ holds libcjson.so.1 alone, the
 * host's own libraries stand in for the rest, this machine being the host),
 * so that each of their 20-odd uploads takes a fraction of the time.
 */
#include "test.h"

#include <sys/stat.h>
#include <sys/types.h>
#include <sys/utsname.h>
#include <sys/wait.h>

#include <dirent.h>
#include <unistd.h>

#include "agent-install.h"
#include "clock.h"
#include "rig.h"

static char full_bundle_dir[1024]; /* the build's bundle */
static char bundle_dir[1024];	   /* its slim copy (host()) */

/* The second host, whose sshd has no sftp subsystem (rig.h knows one host). */
static struct {
	char name[32];
	char cfg[700]; /* its ssh_config */
	char home[700];
	int started;
} nosftp;

/* At exit: the rig keeps a stopped host's directory; not the agents. Stop
 * the second host, which rig.h does not know. */
static void
remove_agents(void)
{
	char cmd[4096];

	if (rig.home[0] != '\0') {
		snprintf(cmd, sizeof cmd, "rm -rf '%s/.rdev'", rig.home);
		if (system(cmd) != 0)
			fprintf(stderr, "cleanup: %s failed\n", cmd);
	}
	if (nosftp.started) {
		snprintf(cmd, sizeof cmd,
		    "rm -rf '%s/.rdev'; bash %s/tests/rig/rig.sh "
		    "host-stop %s",
		    nosftp.home, RDEV_SOURCE_DIR, nosftp.name);
		if (system(cmd) != 0)
			fprintf(stderr, "cleanup: %s failed\n", cmd);
	}
}

/* Locate the bundle; start (once) the rig host. */
static void
host(void)
{
	char path[1100], exe[512], *slash;
	const char *env;
	struct utsname u;
	ssize_t n;

	if (rig.started || rig.failed) {
		rig_host_start("ai");
		return;
	}
	rig.at_exit = remove_agents;
	if ((env = getenv("RDEV_AGENT_BUNDLE")) != NULL && *env != '\0')
		snprintf(bundle_dir, sizeof bundle_dir, "%s", env);
	else {
		n = readlink("/proc/self/exe", exe, sizeof exe - 1);
		ASSERT_TRUE(n > 0);
		exe[n] = '\0';
		slash = strrchr(exe, '/');
		*slash = '\0';
		uname(&u);
		snprintf(bundle_dir, sizeof bundle_dir,
		    "%s/../agent-bundle/rdev-agent-%s-linux-%s", exe, RDEV_VERSION,
		    u.machine);
	}
	snprintf(path, sizeof path, "%s/bundle.hash", bundle_dir);
	if (access(path, R_OK) != 0) {
		rig.failed = 1;
		TEST_FAIL("no agent bundle at %s: build the agent-bundle target "
			  "(make agent-bundle) or set RDEV_AGENT_BUNDLE",
		    bundle_dir);
	}
	rig_host_start("ai");
	/* The slim copy: every lib/ file but libcjson.so.1 (which tests
	 * damage) out of the directory and of MANIFEST, which is hashed
	 * again. */
	memcpy(full_bundle_dir, bundle_dir, sizeof full_bundle_dir);
	snprintf(bundle_dir, sizeof bundle_dir, "%s/slim", rig.tmp);
	rig_sh("cp -a '%s' '%s' && cd '%s' && "
	       "find lib -type f ! -name libcjson.so.1 -delete && "
	       "sed -i -E '/^[0-9a-f]{64}  lib\\//{/  lib\\/libcjson.so.1$/!d}; "
	       "s/^bundled-libs: .*/bundled-libs: libcjson.so.1/' MANIFEST && "
	       "b2sum -l 256 MANIFEST > bundle.hash",
	    full_bundle_dir, bundle_dir, bundle_dir);
}

/* Undo install_without_tar's hiding of tar on the rig host of home. */
static void
show_tar(const char *home)
{
	rig_sh("sed -i '/(no tar)/d' '%s/.bashrc' && rm -rf '%s/notar'", home, home);
}

/* Remove what earlier tests installed on the host. */
static void
host_reset(void)
{
	host();
	rig_sh("rm -rf '%s/.rdev'", rig.home);
	show_tar(rig.home);
}

/* Start (once) the host without SFTP, with nothing installed on it. */
static void
nosftp_reset(void)
{
	host();
	if (!nosftp.started) {
		snprintf(
		    nosftp.name, sizeof nosftp.name, "an%ld", (long)getpid() % 100000000);
		snprintf(nosftp.cfg, sizeof nosftp.cfg, "%s/run/hosts/%s/ssh_config",
		    rig.dir, nosftp.name);
		snprintf(nosftp.home, sizeof nosftp.home, "%s/run/hosts/%s/home", rig.dir,
		    nosftp.name);
		nosftp.started = 1;
		rig_sh("bash %s/tests/rig/rig.sh host-start %s --no-sftp >/dev/null",
		    RDEV_SOURCE_DIR, nosftp.name);
	}
	rig_sh("rm -rf '%s/.rdev'", nosftp.home);
	show_tar(nosftp.home);
}

static struct ssh_target_opts
nosftp_opts(void)
{
	struct ssh_target_opts o;

	memset(&o, 0, sizeof o);
	o.host = nosftp.name;
	o.ssh_config_file = nosftp.cfg;
	o.batch = 1;
	return o;
}

static struct agent_bundle *
open_bundle(const char *dir)
{
	struct agent_bundle *b;
	char *cause = NULL;

	if ((b = agent_bundle_open(dir, &cause)) == NULL)
		TEST_FAIL("agent_bundle_open %s: %s", dir, cause);
	return b;
}

/* Progress lines, joined by '\n'. */
static char progress_log[8192];

static void
progress_cb(void *arg, const char *line)
{
	size_t n = strlen(progress_log);

	snprintf(progress_log + n, sizeof progress_log - n, "%s\n", line);
	if (arg != NULL)
		fprintf(stderr, "    progress: %s\n", line);
}

/* ensure() that must succeed; returns the agent path (caller frees). */
static char *
ensure_ok(struct rdev_ssh *s, const struct agent_bundle *b)
{
	char *path = NULL, *cause = NULL;

	progress_log[0] = '\0';
	if (agent_install_ensure(s, b, &path, progress_cb, "", &cause) != 0)
		TEST_FAIL("agent_install_ensure: %s", cause);
	ASSERT_NOT_NULL(path);
	return path;
}

/* ensure() that must fail; returns the message (caller frees). */
static char *
ensure_fails(struct rdev_ssh *s, const struct agent_bundle *b)
{
	char *path = NULL, *cause = NULL;

	progress_log[0] = '\0';
	if (agent_install_ensure(s, b, &path, progress_cb, "", &cause) == 0)
		TEST_FAIL("agent_install_ensure succeeded (%s), want a failure", path);
	ASSERT_NULL(path);
	ASSERT_NOT_NULL(cause);
	fprintf(stderr, "    error: %s\n", cause);
	return cause;
}

/* The remote rdev-agent runs and prints its version. */
static void
assert_agent_runs(struct rdev_ssh *s, const char *path, const char *version)
{
	const char *argv[] = { path, "--version", NULL };
	char *out = NULL, *err = NULL, *cause = NULL, want[128];
	int status = -1;

	if (rdev_ssh_run(s, argv, NULL, 0, &out, NULL, &err, &status, &cause) != 0)
		TEST_FAIL("running %s: %s", path, cause);
	ASSERT_INT_EQ(status, 0);
	snprintf(want, sizeof want, "rdev-agent %s\n", version);
	ASSERT_STR_EQ(out, want);
	free(out);
	free(err);
}

/* Entries of home's ~/.rdev/agent that start with a dot (temporary or
 * moved-aside dirs), joined by spaces; "" when there are none. */
static char *
leftovers_in(const char *home)
{
	return rig_sh_out("ls -A '%s/.rdev/agent' 2>/dev/null | grep '^\\.' "
			  "| tr '\\n' ' '",
	    home);
}

static char *
leftovers(void)
{
	return leftovers_in(rig.home);
}

/* The copy installed under home is byte for byte the bundle. */
static void
assert_installed_in(const char *home, const struct agent_bundle *b)
{
	char cmd[2048];

	snprintf(cmd, sizeof cmd, "diff -r '%s' '%s/.rdev/agent/%s'", agent_bundle_dir(b),
	    home, agent_bundle_install_name(b));
	if (system(cmd) != 0)
		TEST_FAIL("the installed copy differs from the bundle: %s", cmd);
}

static void
assert_installed_is(const struct agent_bundle *b)
{
	assert_installed_in(rig.home, b);
}

/* agent_install_verify() that must succeed. */
static void
verify_ok(struct rdev_ssh *s, const struct agent_bundle *b, const char *path)
{
	char *cause = NULL;

	if (agent_install_verify(s, b, path, &cause) != 0)
		TEST_FAIL("agent_install_verify %s: %s", path, cause);
}

/* agent_install_verify() that must fail; returns the message (caller
 * frees). */
static char *
verify_fails(struct rdev_ssh *s, const struct agent_bundle *b, const char *path)
{
	char *cause = NULL;

	if (agent_install_verify(s, b, path, &cause) == 0)
		TEST_FAIL("agent_install_verify %s succeeded, want a failure", path);
	ASSERT_NOT_NULL(cause);
	fprintf(stderr, "    verify: %s\n", cause);
	return cause;
}

/* A copy of the real bundle in the temporary dir, under name. */
static char *
bundle_copy(const char *name)
{
	char *dir;

	dir = malloc(strlen(rig.tmp) + strlen(name) + 2);
	sprintf(dir, "%s/%s", rig.tmp, name);
	rig_sh("rm -rf '%s' && cp -a '%s' '%s'", dir, bundle_dir, dir);
	return dir;
}

/* After editing a file of a bundle copy: fix its MANIFEST line (file may be
 * NULL) and bundle.hash, so that the bundle is consistent again. */
static void
bundle_rehash(const char *dir, const char *file)
{
	if (file != NULL)
		rig_sh("cd '%s' && h=$(b2sum -l 256 '%s' | cut -c1-64) && "
		       "sed -i \"s|^[0-9a-f]\\{64\\}  %s\\$|$h  %s|\" MANIFEST",
		    dir, file, file, file);
	rig_sh("cd '%s' && b2sum -l 256 MANIFEST > bundle.hash", dir);
}

static void
stat_ok(const char *path, struct stat *sb)
{
	if (stat(path, sb) != 0)
		TEST_FAIL("stat %s failed", path);
}

TEST(install_from_scratch)
{
	struct agent_bundle *b;
	struct rdev_ssh *s;
	char want[1024], *path, *left;
	double t0;

	host_reset();
	b = open_bundle(full_bundle_dir);
	ASSERT_TRUE(agent_bundle_size(b) > 10000000); /* the real one */
	s = rig_connect(NULL);
	t0 = clock_now_ms();
	path = ensure_ok(s, b);
	fprintf(stderr, "    from-scratch install: %.0f ms (%.2f MB)\n",
	    clock_now_ms() - t0, (double)agent_bundle_size(b) / 1e6);
	snprintf(
	    want, sizeof want, "%s-%.16s", agent_bundle_version(b), agent_bundle_hash(b));
	ASSERT_STR_EQ(agent_bundle_install_name(b), want);
	snprintf(want, sizeof want, "%s/.rdev/agent/%s/rdev-agent", rig.home,
	    agent_bundle_install_name(b));
	ASSERT_STR_EQ(path, want);
	snprintf(want, sizeof want, "installing rdev-agent %s on %s (",
	    agent_bundle_version(b), rdev_ssh_host_label(s));
	ASSERT_STR_CONTAINS(progress_log, want);
	assert_agent_runs(s, path, agent_bundle_version(b));
	assert_installed_is(b);
	left = leftovers();
	ASSERT_STR_EQ(left, "");
	free(left);
	free(path);
	rdev_ssh_free(s);
	agent_bundle_free(b);
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

TEST(second_call_takes_the_fast_path)
{
	struct agent_bundle *b;
	struct rdev_ssh *s;
	struct stat d1, a1, d2, a2;
	char dir[1024], agent[1100], *path;
	double t, times[15];
	int i, n = 15;

	host_reset();
	b = open_bundle(bundle_dir);
	s = rig_connect(NULL);
	free(ensure_ok(s, b));
	snprintf(
	    dir, sizeof dir, "%s/.rdev/agent/%s", rig.home, agent_bundle_install_name(b));
	snprintf(agent, sizeof agent, "%s/rdev-agent", dir);
	stat_ok(dir, &d1);
	stat_ok(agent, &a1);
	sleep(1); /* so that any rewrite would show in the mtimes */
	for (i = 0; i < n; i++) {
		t = clock_now_ms();
		path = ensure_ok(s, b);
		times[i] = clock_now_ms() - t;
		ASSERT_STR_EQ(progress_log, "");
		free(path);
	}
	qsort(times, n, sizeof times[0], cmp_double);
	fprintf(stderr,
	    "    fast path (one exec round trip): min %.1f ms, "
	    "median %.1f ms, max %.1f ms over %d calls\n",
	    times[0], times[n / 2], times[n - 1], n);
	for (i = 0; i < n; i++) {
		const char *argv[] = { "true", NULL };
		char *out = NULL, *cause = NULL;
		int status;

		t = clock_now_ms();
		if (rdev_ssh_run(s, argv, NULL, 0, &out, NULL, NULL, &status, &cause) !=
		    0)
			TEST_FAIL("true: %s", cause);
		times[i] = clock_now_ms() - t;
		free(out);
	}
	qsort(times, n, sizeof times[0], cmp_double);
	fprintf(stderr,
	    "    for comparison, rdev_ssh_run of `true`: min %.1f ms, "
	    "median %.1f ms\n",
	    times[0], times[n / 2]);
	stat_ok(dir, &d2);
	stat_ok(agent, &a2);
	ASSERT_INT_EQ(d2.st_ino, d1.st_ino);
	ASSERT_INT_EQ(d2.st_mtime, d1.st_mtime);
	ASSERT_INT_EQ(a2.st_ino, a1.st_ino);
	ASSERT_INT_EQ(a2.st_mtime, a1.st_mtime);
	rdev_ssh_free(s);
	agent_bundle_free(b);
}

/* An older version stays where it is; the new one goes next to it. */
TEST(upgrade_when_the_version_differs)
{
	struct agent_bundle *old, *b;
	struct rdev_ssh *s;
	char *olddir, *path, *oldpath, want[1024], *left;
	struct stat o1, o2;

	host_reset();
	olddir = bundle_copy("old-version");
	rig_sh("sed -i 's/^version: .*/version: 0.0.9/' '%s/MANIFEST'", olddir);
	bundle_rehash(olddir, NULL);
	old = open_bundle(olddir);
	ASSERT_STR_EQ(agent_bundle_version(old), "0.0.9");
	b = open_bundle(bundle_dir);
	s = rig_connect(NULL);
	oldpath = ensure_ok(s, old);
	snprintf(want, sizeof want, "%s/.rdev/agent/0.0.9-%.16s/rdev-agent", rig.home,
	    agent_bundle_hash(old));
	ASSERT_STR_EQ(oldpath, want);
	stat_ok(oldpath, &o1);

	path = ensure_ok(s, b);
	snprintf(
	    want, sizeof want, "installing rdev-agent %s on", agent_bundle_version(b));
	ASSERT_STR_CONTAINS(progress_log, want);
	snprintf(want, sizeof want, "%s/.rdev/agent/%s/rdev-agent", rig.home,
	    agent_bundle_install_name(b));
	ASSERT_STR_EQ(path, want);
	assert_agent_runs(s, path, agent_bundle_version(b));
	assert_installed_is(b);
	stat_ok(oldpath, &o2);
	ASSERT_INT_EQ(o2.st_ino, o1.st_ino); /* an agent may still run from it */
	left = leftovers();
	ASSERT_STR_EQ(left, "");
	free(left);
	free(path);
	free(oldpath);
	free(olddir);
	rdev_ssh_free(s);
	agent_bundle_free(b);
	agent_bundle_free(old);
}

/* Same version, another build (another bundle hash): each has its own
 * directory, and neither replaces the other (A, then B, then A again does
 * not upload A again). */
TEST(two_builds_of_the_same_version_coexist)
{
	struct agent_bundle *other, *b;
	struct rdev_ssh *s;
	struct stat d1, a1, d2, a2;
	char *odir, *path, *opath, *opath2, *left, *h, agent[1100];

	host_reset();
	odir = bundle_copy("other-build");
	rig_sh(
	    "sed -i 's/^built-with:.*/built-with: something else/' '%s/MANIFEST'", odir);
	bundle_rehash(odir, NULL);
	other = open_bundle(odir);
	b = open_bundle(bundle_dir);
	ASSERT_STR_EQ(agent_bundle_version(other), agent_bundle_version(b));
	ASSERT_TRUE(strcmp(agent_bundle_hash(other), agent_bundle_hash(b)) != 0);
	ASSERT_TRUE(
	    strcmp(agent_bundle_install_name(other), agent_bundle_install_name(b)) != 0);
	s = rig_connect(NULL);
	opath = ensure_ok(s, other);
	ASSERT_STR_CONTAINS(progress_log, "installing rdev-agent");
	snprintf(agent, sizeof agent, "%s/.rdev/agent/%s", rig.home,
	    agent_bundle_install_name(other));
	stat_ok(agent, &d1);
	stat_ok(opath, &a1);
	sleep(1); /* so that any rewrite would show in the mtimes */

	path = ensure_ok(s, b);
	ASSERT_STR_CONTAINS(progress_log, "installing rdev-agent");
	ASSERT_TRUE(strcmp(path, opath) != 0);
	assert_installed_is(b);
	assert_installed_in(rig.home, other);

	opath2 = ensure_ok(s, other);
	ASSERT_STR_EQ(progress_log, ""); /* the fast path: nothing uploaded */
	ASSERT_STR_EQ(opath2, opath);
	stat_ok(agent, &d2);
	stat_ok(opath, &a2);
	ASSERT_INT_EQ(d2.st_ino, d1.st_ino);
	ASSERT_INT_EQ(a2.st_ino, a1.st_ino);
	ASSERT_INT_EQ(a2.st_mtime, a1.st_mtime);
	free(ensure_ok(s, b));
	ASSERT_STR_EQ(progress_log, "");

	h = rig_sh_out("cut -c1-64 '%s/.rdev/agent/%s/bundle.hash'", rig.home,
	    agent_bundle_install_name(b));
	ASSERT_STR_EQ(h, agent_bundle_hash(b));
	free(h);
	assert_agent_runs(s, path, agent_bundle_version(b));
	assert_agent_runs(s, opath, agent_bundle_version(other));
	verify_ok(s, b, path);
	verify_ok(s, other, opath);
	left = leftovers();
	ASSERT_STR_EQ(left, "");
	free(left);
	free(path);
	free(opath);
	free(opath2);
	free(odir);
	rdev_ssh_free(s);
	agent_bundle_free(b);
	agent_bundle_free(other);
}

/* A tampered rdev-agent (its bytes changed after the install) is found by
 * agent_install_verify and by the next ensure, which installs it again; the
 * tampered program never runs (it would leave a file behind). Also when the
 * tamperer rewrote MANIFEST and bundle.hash to match, so that the installed
 * rdev-agent-check alone would pass. */
TEST(tampered_agent_detected_and_replaced_before_it_runs)
{
	struct agent_bundle *b;
	struct rdev_ssh *s;
	char dir[1024], marker[1100], want[2048], *path, *path2, *cause, *left;
	int round;

	host_reset();
	b = open_bundle(bundle_dir);
	s = rig_connect(NULL);
	path = ensure_ok(s, b);
	verify_ok(s, b, path);
	snprintf(
	    dir, sizeof dir, "%s/.rdev/agent/%s", rig.home, agent_bundle_install_name(b));
	snprintf(marker, sizeof marker, "%s/tampered-agent-ran", rig.home);
	for (round = 0; round < 3; round++) {
		switch (round) {
		case 0: /* same size, a few bytes in the middle */
			fprintf(stderr, "    tamper: bytes in the middle\n");
			rig_sh("cd '%s' && cp rdev-agent /tmp/rdev-agent.$$ && "
			       "printf TAMPERED | dd of=rdev-agent bs=1 "
			       "seek=$(($(stat -c %%s rdev-agent) / 2)) conv=notrunc "
			       "2>/dev/null && ! cmp -s rdev-agent /tmp/rdev-agent.$$; "
			       "rc=$?; rm -f /tmp/rdev-agent.$$; exit $rc",
			    dir);
			break;
		case 1: /* another program that claims the right version */
			fprintf(stderr, "    tamper: another program\n");
			rig_sh("printf '#!/bin/sh\\ntouch \"%s\"\\n"
			       "echo \"rdev-agent %s\"\\n' >'%s/rdev-agent'",
			    marker, agent_bundle_version(b), dir);
			break;
		case 2: /* the same, with MANIFEST and bundle.hash made to match */
			fprintf(stderr,
			    "    tamper: another program, MANIFEST "
			    "rewritten\n");
			rig_sh("printf '#!/bin/sh\\ntouch \"%s\"\\n"
			       "echo \"rdev-agent %s\"\\n' >'%s/rdev-agent'",
			    marker, agent_bundle_version(b), dir);
			bundle_rehash(dir, "rdev-agent");
			rig_sh("chown --reference='%s' '%s/MANIFEST' '%s/bundle.hash'",
			    dir, dir, dir);
			break;
		}
		cause = verify_fails(s, b, path);
		snprintf(want, sizeof want,
		    "host %s: rdev-agent %s in %s was "
		    "changed or damaged after it was installed: ",
		    rdev_ssh_host_label(s), agent_bundle_version(b), dir);
		ASSERT_STR_CONTAINS(cause, want);
		ASSERT_STR_CONTAINS(
		    cause, round < 2 ? "rdev-agent: FAILED" : "its bundle.hash is");
		free(cause);

		path2 = ensure_ok(s, b);
		snprintf(want, sizeof want,
		    "warning: rdev-agent %s on %s was "
		    "changed or damaged after it was installed (",
		    agent_bundle_version(b), rdev_ssh_host_label(s));
		ASSERT_STR_CONTAINS(progress_log, want);
		ASSERT_STR_CONTAINS(progress_log, "installing it again");
		ASSERT_STR_EQ(path2, path);
		assert_installed_is(b);
		verify_ok(s, b, path);
		assert_agent_runs(s, path, agent_bundle_version(b));
		if (access(marker, F_OK) == 0)
			TEST_FAIL("the tampered rdev-agent ran (%s exists)", marker);
		left = leftovers();
		ASSERT_STR_EQ(left, ""); /* the moved-aside copy is removed */
		free(left);
		free(path2);
	}
	cause = verify_fails(s, b, "/nonexistent/rdev-agent");
	ASSERT_STR_CONTAINS(cause, "no directory /nonexistent");
	free(cause);
	cause = verify_fails(s, b, "/bin/sh");
	ASSERT_STR_CONTAINS(cause, "is not an installed rdev-agent");
	free(cause);
	free(path);
	rdev_ssh_free(s);
	agent_bundle_free(b);
}

/* A corrupted installed file (bundle.hash still right) is found by the fast
 * path's rdev-agent-check and the install replaced. */
TEST(corrupted_installed_file_replaced)
{
	static const char *damage[] = {
		"printf x >> '%s/lib/libcjson.so.1'",
		"truncate -s 1000 '%s/rdev-agent'",
		"rm '%s/rdev-agent-check'",
		"rm '%s/bundle.hash'",
	};
	struct agent_bundle *b;
	struct rdev_ssh *s;
	char dir[1024], cmd[2048], *path, *left;
	size_t i;

	host_reset();
	b = open_bundle(bundle_dir);
	s = rig_connect(NULL);
	free(ensure_ok(s, b));
	snprintf(
	    dir, sizeof dir, "%s/.rdev/agent/%s", rig.home, agent_bundle_install_name(b));
	for (i = 0; i < sizeof damage / sizeof damage[0]; i++) {
		fprintf(stderr, "    damage: %s\n", damage[i]);
		snprintf(cmd, sizeof cmd, damage[i], dir);
		rig_sh("%s", cmd);
		path = ensure_ok(s, b);
		ASSERT_STR_CONTAINS(progress_log,
		    "was changed or damaged after "
		    "it was installed");
		assert_installed_is(b);
		assert_agent_runs(s, path, agent_bundle_version(b));
		left = leftovers();
		ASSERT_STR_EQ(left, "");
		free(left);
		free(path);
	}
	rdev_ssh_free(s);
	agent_bundle_free(b);
}

TEST(damaged_local_bundle_refused)
{
	char *dir, *cause = NULL;

	host();
	dir = bundle_copy("damaged-lib");
	rig_sh("printf x >> '%s/lib/libcjson.so.1'", dir);
	ASSERT_NULL(agent_bundle_open(dir, &cause));
	ASSERT_STR_CONTAINS(
	    cause, "lib/libcjson.so.1 does not match its hash in MANIFEST");
	ASSERT_STR_CONTAINS(cause, dir);
	free(cause);
	cause = NULL;
	free(dir);

	dir = bundle_copy("damaged-manifest");
	rig_sh("sed -i 's/^arch: .*/arch: aarch64/' '%s/MANIFEST'", dir);
	ASSERT_NULL(agent_bundle_open(dir, &cause));
	ASSERT_STR_CONTAINS(cause, "MANIFEST does not match bundle.hash");
	free(cause);
	cause = NULL;
	free(dir);

	dir = bundle_copy("missing-file");
	rig_sh("rm '%s/rdev-agent'", dir);
	ASSERT_NULL(agent_bundle_open(dir, &cause));
	ASSERT_STR_CONTAINS(cause, "rdev-agent");
	free(cause);
	free(dir);
}

/* A file changed after the bundle was opened is refused as the stream
 * reaches it, and the half-made upload is removed. */
TEST(bundle_changed_after_open_refused_and_removed)
{
	struct agent_bundle *b;
	struct rdev_ssh *s;
	char *dir, *cause, *ls;

	host_reset();
	dir = bundle_copy("changes");
	b = open_bundle(dir);
	rig_sh("printf x >> '%s/rdev-agent'", dir);
	s = rig_connect(NULL);
	cause = ensure_fails(s, b);
	ASSERT_STR_CONTAINS(cause, "rdev-agent changed since the bundle was opened");
	free(cause);
	/* nothing left behind (the upload's own script removes its folder
	 * once tar has ended, which may be just after the answer) */
	for (int i = 0;; i++) {
		ls = rig_sh_out("ls -A '%s/.rdev/agent' | tr '\\n' ' '", rig.home);
		if (strcmp(ls, "") == 0 || i == 50)
			break;
		free(ls);
		usleep(100 * 1000);
	}
	ASSERT_STR_EQ(ls, "");
	free(ls);
	free(dir);
	rdev_ssh_free(s);
	agent_bundle_free(b);
}

static int corrupt_uploads; /* how many uploads of lib/libcjson.so.1 to damage */

static void
corrupt_hook(void *arg, const char *name, unsigned char *data, size_t len)
{
	if (strcmp(name, "lib/libcjson.so.1") == 0 && corrupt_uploads > 0 && len > 0) {
		corrupt_uploads--;
		data[len / 2] ^= 0x55;
	}
}

/* Damage in transit is found on the host by rdev-agent-check: uploaded once
 * more; damaged twice: refused, nothing left behind. */
TEST(corrupted_upload_detected)
{
	struct agent_install_test_hooks hooks = { corrupt_hook, NULL, NULL };
	struct agent_bundle *b;
	struct rdev_ssh *s;
	char *path, *cause, *left, *ls;

	host_reset();
	b = open_bundle(bundle_dir);
	s = rig_connect(NULL);
	agent_install_set_test_hooks(&hooks);

	corrupt_uploads = 2;
	cause = ensure_fails(s, b);
	ASSERT_STR_CONTAINS(cause, "the rdev-agent upload arrived damaged 2 times");
	ASSERT_STR_CONTAINS(cause, "does not match its hash in MANIFEST");
	ASSERT_STR_CONTAINS(progress_log, "arrived damaged");
	free(cause);
	ls = rig_sh_out("ls -A '%s/.rdev/agent' | tr '\\n' ' '", rig.home);
	ASSERT_STR_EQ(ls, "");
	free(ls);

	corrupt_uploads = 1;
	path = ensure_ok(s, b);
	ASSERT_INT_EQ(corrupt_uploads, 0);
	ASSERT_STR_CONTAINS(progress_log, "arrived damaged");
	ASSERT_STR_CONTAINS(progress_log, "uploading again");
	assert_installed_is(b);
	assert_agent_runs(s, path, agent_bundle_version(b));
	left = leftovers();
	ASSERT_STR_EQ(left, "");
	free(left);
	free(path);
	agent_install_set_test_hooks(NULL);
	rdev_ssh_free(s);
	agent_bundle_free(b);
}

TEST(host_of_another_arch_refused)
{
	struct agent_bundle *b;
	struct rdev_ssh *s;
	struct utsname u;
	char *dir, *cause, want[512], *ls;

	host_reset();
	dir = bundle_copy("aarch64");
	rig_sh("sed -i 's/^arch: .*/arch: aarch64/' '%s/MANIFEST'", dir);
	bundle_rehash(dir, NULL);
	b = open_bundle(dir);
	s = rig_connect(NULL);
	cause = ensure_fails(s, b);
	uname(&u);
	snprintf(want, sizeof want,
	    "host %s: this host is Linux/%s; the rdev-agent "
	    "bundle is for Linux/aarch64",
	    rdev_ssh_host_label(s), u.machine);
	ASSERT_STR_CONTAINS(cause, want);
	ASSERT_STR_EQ(progress_log, ""); /* refused before anything is sent */
	free(cause);
	ls = rig_sh_out("ls -A '%s/.rdev' 2>&1 | tr '\\n' ' '", rig.home);
	ASSERT_STR_CONTAINS(ls, "No such file");
	free(ls);
	free(dir);
	rdev_ssh_free(s);
	agent_bundle_free(b);
}

/* The pre-flight (rdev-agent-check --host-only, before any upload) refuses a
 * host whose glibc is too old. */
TEST(host_with_old_glibc_refused_before_upload)
{
	struct agent_bundle *b;
	struct rdev_ssh *s;
	char *dir, *cause, *ls;

	host_reset();
	dir = bundle_copy("glibc99");
	rig_sh("sed -i 's/^glibc_min=.*/glibc_min=99.1/' '%s/rdev-agent-check'", dir);
	bundle_rehash(dir, "rdev-agent-check");
	b = open_bundle(dir);
	s = rig_connect(NULL);
	cause = ensure_fails(s, b);
	ASSERT_STR_CONTAINS(cause, rdev_ssh_host_label(s));
	ASSERT_STR_CONTAINS(cause, "cannot run rdev-agent");
	ASSERT_STR_CONTAINS(cause, "rdev-agent needs glibc >= 99.1");
	free(cause);
	ls = rig_sh_out("ls -A '%s/.rdev/agent' | tr '\\n' ' '", rig.home);
	ASSERT_STR_EQ(ls, ""); /* nothing uploaded */
	free(ls);
	free(dir);
	rdev_ssh_free(s);
	agent_bundle_free(b);
}

/* A home the SSH user cannot write to: refused by the pre-flight, naming
 * the directory. */
TEST(unwritable_home_refused_before_upload)
{
	struct agent_bundle *b;
	struct rdev_ssh *s;
	char *cause, want[1024];

	host_reset();
	b = open_bundle(bundle_dir);
	s = rig_connect(NULL);
	rig_sh("chmod 0555 '%s'", rig.home);
	progress_log[0] = '\0';
	cause = NULL;
	{
		char *path = NULL;
		int rc = agent_install_ensure(s, b, &path, progress_cb, "", &cause);

		rig_sh("chmod 0755 '%s'", rig.home);
		ASSERT_INT_EQ(rc, -1);
	}
	fprintf(stderr, "    error: %s\n", cause);
	snprintf(want, sizeof want,
	    "host %s: cannot install rdev-agent: cannot "
	    "create %s/.rdev/agent: Permission denied",
	    rdev_ssh_host_label(s), rig.home);
	ASSERT_STR_EQ(cause, want);
	free(cause);
	rdev_ssh_free(s);
	agent_bundle_free(b);
}

/* Racing installers meet at a barrier just before their renames, so both
 * really upload and one rename finds the name taken. */
static char barrier_dir[400];
static int barrier_id, barrier_done;

static void
barrier_hook(void *arg)
{
	char mine[600], other[600];
	int i;

	if (barrier_done)
		return;
	barrier_done = 1;
	snprintf(mine, sizeof mine, "%s/ready.%d", barrier_dir, barrier_id);
	snprintf(other, sizeof other, "%s/ready.%d", barrier_dir, 1 - barrier_id);
	fclose(fopen(mine, "w"));
	for (i = 0; i < 3000 && access(other, F_OK) != 0; i++)
		usleep(10000);
}

/* Child i: connect, ensure, print the path; exit 0 on success. Never returns. */
static void
race_child(int id, const struct agent_bundle *b, const struct ssh_target_opts *o,
    const char *outfile)
{
	struct agent_install_test_hooks hooks = { NULL, barrier_hook, NULL };
	struct rdev_ssh *s;
	char *path = NULL, *cause = NULL;
	FILE *f;
	int rc;

	barrier_id = id;
	agent_install_set_test_hooks(&hooks);
	f = fopen(outfile, "w");
	if ((s = rdev_ssh_connect(o, &cause)) == NULL) {
		fprintf(f, "connect: %s\n", cause);
		fclose(f);
		_exit(1);
	}
	rc = agent_install_ensure(s, b, &path, NULL, NULL, &cause);
	fprintf(f, "%s\n", rc == 0 ? path : cause);
	fclose(f);
	rdev_ssh_free(s);
	_exit(rc == 0 ? 0 : 1);
}

/* Two installers of b race on the host of o, whose home is home. */
static void
race(const struct agent_bundle *b, const struct ssh_target_opts *o, const char *home,
    const char *tag)
{
	char out[2][700], want[1024], *got;
	pid_t pid[2];
	int i, st;

	snprintf(barrier_dir, sizeof barrier_dir, "%s/barrier-%s", rig.tmp, tag);
	rig_sh("rm -rf '%s' && mkdir '%s'", barrier_dir, barrier_dir);
	fflush(NULL);
	for (i = 0; i < 2; i++) {
		snprintf(out[i], sizeof out[i], "%s/out.%d", barrier_dir, i);
		if ((pid[i] = fork()) < 0)
			TEST_FAIL("fork failed");
		if (pid[i] == 0)
			race_child(i, b, o, out[i]);
	}
	snprintf(want, sizeof want, "%s/.rdev/agent/%s/rdev-agent", home,
	    agent_bundle_install_name(b));
	for (i = 0; i < 2; i++) {
		if (waitpid(pid[i], &st, 0) != pid[i])
			TEST_FAIL("waitpid failed");
		got = rig_sh_out("cat '%s'", out[i]);
		fprintf(stderr, "    installer %d: %s\n", i, got);
		ASSERT_TRUE(WIFEXITED(st));
		ASSERT_INT_EQ(WEXITSTATUS(st), 0);
		ASSERT_STR_EQ(got, want);
		free(got);
	}
}

TEST(two_installs_racing_both_succeed)
{
	struct agent_bundle *b;
	struct rdev_ssh *s;
	struct ssh_target_opts o;
	char dir[1024], *path, *left;

	host_reset();
	o = rig_ssh_opts();
	b = open_bundle(bundle_dir);
	race(b, &o, rig.home, "fresh");
	assert_installed_is(b);
	left = leftovers();
	ASSERT_STR_EQ(left, "");
	free(left);

	/* Both find a damaged install and both replace it. */
	snprintf(
	    dir, sizeof dir, "%s/.rdev/agent/%s", rig.home, agent_bundle_install_name(b));
	rig_sh("printf x >> '%s/rdev-agent'", dir);
	race(b, &o, rig.home, "damaged");
	assert_installed_is(b);
	left = leftovers();
	ASSERT_STR_EQ(left, "");
	free(left);

	s = rig_connect(NULL);
	path = ensure_ok(s, b);
	ASSERT_STR_EQ(progress_log, "");
	assert_agent_runs(s, path, agent_bundle_version(b));
	free(path);
	rdev_ssh_free(s);
	agent_bundle_free(b);
}

/* The modes of an install in dir whose agent is path: the programs and
 * folders 0755, the rest 0644, as the bundle's MANIFEST says. */
static void
assert_install_modes(const char *dir, const char *path)
{
	char file[1100];
	struct stat sb;

	stat_ok(path, &sb);
	ASSERT_INT_EQ(sb.st_mode & 07777, 0755);
	snprintf(file, sizeof file, "%s/MANIFEST", dir);
	stat_ok(file, &sb);
	ASSERT_INT_EQ(sb.st_mode & 07777, 0644);
	snprintf(file, sizeof file, "%s/lib", dir);
	stat_ok(file, &sb);
	ASSERT_INT_EQ(sb.st_mode & 07777, 0755);
}

/* How many shells sshd started on a rig host so far (its ~/.bashrc counts
 * them in ~/.rdev-shells). */
static long
shells_started(const char *home)
{
	char path[1100], line[256];
	long n = 0;
	FILE *f;

	snprintf(path, sizeof path, "%s/.rdev-shells", home);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	while (fgets(line, sizeof line, f) != NULL)
		n++;
	fclose(f);
	return n;
}

/* A host whose sshd has no sftp subsystem gets the agent over exec channels:
 * the same files and modes, the same check on the host, the fast path next
 * time; a damaged install is replaced (the rename finds the name taken and
 * moves the old copy aside, over exec channels too). */
TEST(host_without_sftp_gets_the_agent)
{
	struct agent_bundle *b;
	struct rdev_ssh *s;
	struct ssh_target_opts o;
	char want[1100], dir[1024], *path, *left;
	long shells;

	nosftp_reset();
	b = open_bundle(bundle_dir);
	o = nosftp_opts();
	s = rig_connect(&o);
	shells = shells_started(nosftp.home);
	path = ensure_ok(s, b);
	/* The bundle went as one tar stream: a handful of shells (probe,
	 * pre-flight, upload, check, rename), not one per file. */
	ASSERT_TRUE(shells_started(nosftp.home) - shells <= 8);
	ASSERT_NULL(strstr(progress_log, "file by file"));
	snprintf(want, sizeof want, "installing rdev-agent %s on %s (",
	    agent_bundle_version(b), rdev_ssh_host_label(s));
	ASSERT_STR_CONTAINS(progress_log, want);
	snprintf(dir, sizeof dir, "%s/.rdev/agent/%s", nosftp.home,
	    agent_bundle_install_name(b));
	snprintf(want, sizeof want, "%s/rdev-agent", dir);
	ASSERT_STR_EQ(path, want);
	assert_installed_in(nosftp.home, b);
	assert_install_modes(dir, path);
	assert_agent_runs(s, path, agent_bundle_version(b));
	verify_ok(s, b, path);
	left = leftovers_in(nosftp.home);
	ASSERT_STR_EQ(left, "");
	free(left);
	free(path);

	path = ensure_ok(s, b);
	ASSERT_STR_EQ(progress_log, "");
	free(path);

	rig_sh("printf x >> '%s/rdev-agent'", dir);
	path = ensure_ok(s, b);
	ASSERT_STR_CONTAINS(progress_log,
	    "was changed or damaged after it was "
	    "installed");
	assert_installed_in(nosftp.home, b);
	assert_agent_runs(s, path, agent_bundle_version(b));
	left = leftovers_in(nosftp.home);
	ASSERT_STR_EQ(left, ""); /* the moved-aside copy is removed */
	free(left);
	free(path);
	rdev_ssh_free(s);
	agent_bundle_free(b);
}

/* Install on the rig host of home without tar (its user's PATH lacks it:
 * ~/.bashrc sets one of links to everything else): file by file, with the
 * progress line want; over exec channels (a shell per file, and the bundle
 * has 60-odd files) unless sftp; the same files and modes. */
static void
install_without_tar(struct rdev_ssh *s, const struct agent_bundle *b, const char *home,
    const char *want, int sftp)
{
	char dir[1024], *path;
	long shells;

	rig_sh("mkdir -p '%s/notar' && for f in /usr/bin/*; do "
	       "[ \"${f##*/}\" = tar ] || ln -sf \"$f\" '%s/notar/'; done && "
	       "echo 'PATH=%s/notar # (no tar)' >>'%s/.bashrc'",
	    home, home, home, home);
	shells = shells_started(home);
	path = ensure_ok(s, b);
	shells = shells_started(home) - shells;
	show_tar(home);
	ASSERT_STR_CONTAINS(progress_log, want);
	if (sftp)
		ASSERT_TRUE(shells <= 8);
	else
		ASSERT_TRUE(shells > 20);
	assert_installed_in(home, b);
	snprintf(
	    dir, sizeof dir, "%s/.rdev/agent/%s", home, agent_bundle_install_name(b));
	assert_install_modes(dir, path);
	assert_agent_runs(s, path, agent_bundle_version(b));
	free(path);
}

/* A host without tar gets the bundle file by file: over SFTP, or over one
 * exec channel each where there is no SFTP either. */
TEST(host_without_tar_gets_the_agent_file_by_file)
{
	struct agent_bundle *b = open_bundle(bundle_dir);
	struct ssh_target_opts o;
	struct rdev_ssh *s;
	char want[1100];

	host_reset();
	s = rig_connect(NULL);
	snprintf(want, sizeof want, "no tar on %s: uploading file by file over SFTP",
	    rdev_ssh_host_label(s));
	install_without_tar(s, b, rig.home, want, 1);
	rdev_ssh_free(s);

	nosftp_reset();
	o = nosftp_opts();
	s = rig_connect(&o);
	snprintf(want, sizeof want,
	    "no tar and no SFTP on %s: uploading file by file over exec channels",
	    rdev_ssh_host_label(s));
	install_without_tar(s, b, nosftp.home, want, 0);
	rdev_ssh_free(s);
	agent_bundle_free(b);
}

/* Without SFTP, damage in transit is found and uploaded once more, and two
 * racing installers both succeed (the exec rename refuses a taken name). */
TEST(host_without_sftp_damaged_upload_and_race)
{
	struct agent_install_test_hooks hooks = { corrupt_hook, NULL, NULL };
	struct agent_bundle *b;
	struct rdev_ssh *s;
	struct ssh_target_opts o;
	char *path, *left;

	nosftp_reset();
	b = open_bundle(bundle_dir);
	o = nosftp_opts();
	s = rig_connect(&o);
	agent_install_set_test_hooks(&hooks);
	corrupt_uploads = 1;
	path = ensure_ok(s, b);
	agent_install_set_test_hooks(NULL);
	ASSERT_INT_EQ(corrupt_uploads, 0);
	ASSERT_STR_CONTAINS(progress_log, "uploading again");
	assert_installed_in(nosftp.home, b);
	assert_agent_runs(s, path, agent_bundle_version(b));
	free(path);
	rdev_ssh_free(s);

	nosftp_reset();
	race(b, &o, nosftp.home, "nosftp-fresh");
	assert_installed_in(nosftp.home, b);
	left = leftovers_in(nosftp.home);
	ASSERT_STR_EQ(left, "");
	free(left);
	agent_bundle_free(b);
}

TEST(docker_reachable_by_the_ssh_user)
{
	struct agent_bundle *b;
	struct rdev_ssh *s;
	char *path, *cause = NULL, fake[700];
	double t;

	host_reset();
	b = open_bundle(bundle_dir);
	s = rig_connect(NULL);
	path = ensure_ok(s, b);
	t = clock_now_ms();
	if (agent_install_check_docker(s, path, &cause) != 0)
		TEST_FAIL("agent_install_check_docker: %s", cause);
	fprintf(stderr, "    docker check: %.1f ms\n", clock_now_ms() - t);
	/* A stand-in agent that fails as rdev-agent does without the socket. */
	snprintf(fake, sizeof fake, "%s/fake-agent", rig.home);
	rig_sh(
	    "printf '#!/bin/sh\\necho \"permission denied on /var/run/docker.sock "
	    "(is the user in group docker?)\" >&2\\nexit 1\\n' > '%s' && chmod 755 '%s'",
	    fake, fake);
	ASSERT_INT_EQ(agent_install_check_docker(s, fake, &cause), -1);
	ASSERT_STR_CONTAINS(cause, rdev_ssh_host_label(s));
	ASSERT_STR_CONTAINS(
	    cause, "cannot use Docker: permission denied on /var/run/docker.sock");
	ASSERT_STR_CONTAINS(cause, "group docker");
	ASSERT_STR_CONTAINS(cause, "rootless");
	free(cause);
	rig_sh("rm -f '%s'", fake);
	free(path);
	rdev_ssh_free(s);
	agent_bundle_free(b);
}

TEST(bundle_find_names_every_place)
{
	char *cause = NULL;
	struct agent_bundle *b;

	host();
	setenv("RDEV_AGENT_BUNDLE", "/nonexistent/bundle", 1);
	ASSERT_NULL(agent_bundle_find(&cause));
	ASSERT_STR_CONTAINS(cause, "RDEV_AGENT_BUNDLE=/nonexistent/bundle");
	free(cause);
	cause = NULL;
	setenv("RDEV_AGENT_BUNDLE", bundle_dir, 1);
	if ((b = agent_bundle_find(&cause)) == NULL)
		TEST_FAIL("agent_bundle_find: %s", cause);
	ASSERT_STR_EQ(agent_bundle_version(b), RDEV_VERSION);
	ASSERT_TRUE(strlen(agent_bundle_hash(b)) == 64);
	agent_bundle_free(b);
	unsetenv("RDEV_AGENT_BUNDLE");
	/* The test binary lives in <build>/tests/, not next to a bundle. */
	ASSERT_NULL(agent_bundle_find(&cause));
	ASSERT_STR_CONTAINS(cause, "/tests/agent-bundle/rdev-agent-");
	ASSERT_STR_CONTAINS(cause, "/tests/../lib/rdev/agent-bundle/rdev-agent-");
	free(cause);
}
