/* exec-signal.c - signals for the processes of a running Docker exec
 * (exec-signal.h). */
#include "exec-signal.h"

#include <sys/types.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "docker.h"
#include "error.h"
#include "log.h"
#include "xmalloc.h"

#define EXEC_SIGNAL_POLL_MS 100
#define EXEC_SIGNAL_PROC_MAX 65536

static const struct {
	const char *name;
	int number;
} exec_signal_names[] = { { "INT", SIGINT }, { "TERM", SIGTERM }, { "HUP", SIGHUP },
	{ "KILL", SIGKILL }, { "QUIT", SIGQUIT }, { "USR1", SIGUSR1 },
	{ "USR2", SIGUSR2 }, { "WINCH", SIGWINCH }, { NULL, 0 } };

/* What /proc and the daemon say about an exec's process. */
struct exec_target {
	char *container; /* the container's full id */
	char *user;	 /* the exec's user; NULL for the container's default */
	int tty;
	pid_t host_pid; /* in our pid namespace */
	int level;	/* the container's pid namespace: index in NSpid */
	pid_t pgrp;	/* our namespace, as the rest below */
	pid_t sid;
	pid_t tpgid; /* the terminal's foreground group, or <= 0 */
};

/* Pids inside the container, without repeats. */
struct exec_pids {
	pid_t *v;
	size_t n, cap;
};

int
exec_signal_number(const char *name)
{
	int i;

	for (i = 0; name != NULL && exec_signal_names[i].name != NULL; i++)
		if (strcmp(name, exec_signal_names[i].name) == 0)
			return exec_signal_names[i].number;
	return -1;
}

const char *
exec_signal_exit_name(int signo)
{
	static const struct {
		const char *name;
		int number;
	} rfc4254[] = { { "ABRT", SIGABRT }, { "ALRM", SIGALRM }, { "FPE", SIGFPE },
		{ "HUP", SIGHUP }, { "ILL", SIGILL }, { "INT", SIGINT },
		{ "KILL", SIGKILL }, { "PIPE", SIGPIPE }, { "QUIT", SIGQUIT },
		{ "SEGV", SIGSEGV }, { "TERM", SIGTERM }, { "USR1", SIGUSR1 },
		{ "USR2", SIGUSR2 } };
	size_t i;

	for (i = 0; i < sizeof rfc4254 / sizeof rfc4254[0]; i++)
		if (rfc4254[i].number == signo)
			return rfc4254[i].name;
	return "SIG@openssh.com";
}

static void
exec_signal_sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		continue;
}

static void
exec_pids_add(struct exec_pids *l, pid_t pid)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (l->v[i] == pid)
			return;
	if (l->n == l->cap) {
		l->cap = l->cap == 0 ? 8 : l->cap * 2;
		l->v = xreallocarray(l->v, l->cap, sizeof *l->v);
	}
	l->v[l->n++] = pid;
}

static void
exec_target_clear(struct exec_target *t)
{
	free(t->container);
	free(t->user);
	memset(t, 0, sizeof *t);
}

/* /proc/PID/FILE as a NUL-terminated string (caller frees), or NULL. */
static char *
exec_signal_proc_read(pid_t pid, const char *file)
{
	char path[64], *s;
	size_t n;
	FILE *f;

	snprintf(path, sizeof path, "/proc/%ld/%s", (long)pid, file);
	if ((f = fopen(path, "re")) == NULL)
		return NULL;
	s = xmalloc(EXEC_SIGNAL_PROC_MAX + 1);
	n = fread(s, 1, EXEC_SIGNAL_PROC_MAX, f);
	fclose(f);
	s[n] = '\0';
	return s;
}

/* The fields of /proc/PID/stat we need; 0, or -1 if the process is gone or
 * dead (a zombie is no longer anyone's problem but its parent's). */
static int
exec_signal_proc_stat(pid_t pid, pid_t *pgrp, pid_t *sid, pid_t *tpgid)
{
	char *s = exec_signal_proc_read(pid, "stat"), *p, state;
	int tty_nr, rc = -1, a, b, c, ppid;

	/* "PID (COMM) S PPID PGRP SID TTY TPGID ...": COMM may hold anything. */
	if (s != NULL && (p = strrchr(s, ')')) != NULL &&
	    sscanf(p + 1, " %c %d %d %d %d %d", &state, &ppid, &a, &b, &tty_nr, &c) ==
		6 &&
	    state != 'Z' && state != 'X') {
		*pgrp = a;
		*sid = b;
		*tpgid = c;
		rc = 0;
	}
	free(s);
	return rc;
}

/* The pid of PID at pid-namespace level (0: ours) from the NSpid line of
 * /proc/PID/status, or -1; *levels (may be NULL) gets how many there are. */
static pid_t
exec_signal_nspid(pid_t pid, int level, int *levels)
{
	char *s = exec_signal_proc_read(pid, "status"), *p, *end;
	long v, found = -1;
	int i = 0;

	if (s == NULL || (p = strstr(s, "\nNSpid:")) == NULL) {
		free(s);
		return -1;
	}
	p += strlen("\nNSpid:");
	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (!isdigit((unsigned char)*p))
			break;
		v = strtol(p, &end, 10);
		if (i == level)
			found = v;
		i++;
		p = end;
	}
	if (levels != NULL)
		*levels = i;
	free(s);
	return (pid_t)found;
}

/* Whether PID's cgroups name the container: the check that the daemon's
 * pid is a process of ours, and of that container. */
static int
exec_signal_in_container(pid_t pid, const char *container)
{
	char *s = exec_signal_proc_read(pid, "cgroup");
	int yes = s != NULL && strstr(s, container) != NULL;

	free(s);
	return yes;
}

/* Look the exec up: 1 and *t while it runs, 0 once it has ended, -1 with
 * *cause. */
static int
exec_signal_lookup(
    struct docker *d, const char *exec_id, struct exec_target *t, char **cause)
{
	const cJSON *pid, *cid, *pc, *user;
	cJSON *info;
	int levels, tries;

	memset(t, 0, sizeof *t);
	for (tries = 0;; tries++) {
		if (docker_exec_inspect(d, exec_id, &info, cause) != 0)
			return -1;
		if (info == NULL)
			return error_set(cause, "exec %.12s no longer exists", exec_id);
		pid = cJSON_GetObjectItemCaseSensitive(info, "Pid");
		if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(info, "Running"))) {
			cJSON_Delete(info);
			return 0;
		}
		/* The daemon says Running, and passes output on, a moment
		 * before it records the Pid. */
		if ((cJSON_IsNumber(pid) && pid->valuedouble >= 1) || tries == 100)
			break;
		cJSON_Delete(info);
		exec_signal_sleep_ms(20);
	}
	cid = cJSON_GetObjectItemCaseSensitive(info, "ContainerID");
	pc = cJSON_GetObjectItemCaseSensitive(info, "ProcessConfig");
	user = cJSON_GetObjectItemCaseSensitive(pc, "user");
	if (!cJSON_IsNumber(pid) || pid->valuedouble < 1 || !cJSON_IsString(cid) ||
	    *cid->valuestring == '\0') {
		cJSON_Delete(info);
		return error_set(cause,
		    "docker: exec %.12s: no Pid or ContainerID in its "
		    "inspect",
		    exec_id);
	}
	t->container = xstrdup(cid->valuestring);
	if (cJSON_IsString(user) && *user->valuestring != '\0')
		t->user = xstrdup(user->valuestring);
	t->tty = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(pc, "tty"));
	t->host_pid = (pid_t)pid->valuedouble;
	cJSON_Delete(info);

	if (!exec_signal_in_container(t->host_pid, t->container) ||
	    exec_signal_proc_stat(t->host_pid, &t->pgrp, &t->sid, &t->tpgid) != 0 ||
	    exec_signal_nspid(t->host_pid, 0, &levels) != t->host_pid || levels < 2) {
		/* Gone in the meantime, or not visible from here. */
		if (docker_exec_inspect(d, exec_id, &info, NULL) == 0 && info != NULL &&
		    !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(info, "Running"))) {
			cJSON_Delete(info);
			exec_target_clear(t);
			return 0;
		}
		cJSON_Delete(info);
		error_set(cause,
		    "exec %.12s: its process %ld is not visible in this host's "
		    "/proc as a process of container %.12s (the agent must run on the "
		    "Docker "
		    "host, in its pid namespace)",
		    exec_id, (long)t->host_pid, t->container);
		exec_target_clear(t);
		return -1;
	}
	t->level = levels - 1;
	return 1;
}

/* Add to l (as container pids) the live processes of the container whose
 * process group (or session, when by_session) is id. */
static void
exec_signal_collect(
    const struct exec_target *t, int by_session, pid_t id, struct exec_pids *l)
{
	struct dirent *de;
	pid_t pid, pgrp, sid, tpgid, inner;
	char *end;
	DIR *dir;
	long v;

	if (id <= 0 || (dir = opendir("/proc")) == NULL)
		return;
	while ((de = readdir(dir)) != NULL) {
		errno = 0;
		v = strtol(de->d_name, &end, 10);
		if (*end != '\0' || v <= 0 || errno != 0)
			continue;
		pid = (pid_t)v;
		if (exec_signal_proc_stat(pid, &pgrp, &sid, &tpgid) != 0 ||
		    (by_session ? sid : pgrp) != id ||
		    !exec_signal_in_container(pid, t->container))
			continue;
		if ((inner = exec_signal_nspid(pid, t->level, NULL)) > 0)
			exec_pids_add(l, inner);
	}
	closedir(dir);
}

/* What a terminal's signal would reach (exec-signal.h), the exec's own
 * process first; 0 if that one has gone meanwhile. */
static int
exec_signal_targets(const struct exec_target *t, struct exec_pids *l)
{
	pid_t inner = exec_signal_nspid(t->host_pid, t->level, NULL);

	if (inner > 0)
		exec_pids_add(l, inner);
	if (t->tty)
		exec_signal_collect(t, 0, t->tpgid, l);
	else if (t->pgrp == t->host_pid)
		exec_signal_collect(t, 0, t->pgrp, l);
	return inner > 0;
}

/* Run kill -s name pids... in the container as the exec's user. With
 * strict, the first pid must get it; the others may be gone already (a
 * group's short-lived members). */
static int
exec_signal_kill(struct docker *d, const struct exec_target *t, const char *name,
    const struct exec_pids *l, int strict, char **cause)
{
	static const char script[] =
	    "s=$1; p=$2; shift 2; "
	    "[ \"$p\" = - ] || kill -s \"$s\" \"$p\" || exit; "
	    "[ $# -eq 0 ] || kill -s \"$s\" \"$@\" 2>/dev/null; exit 0";
	struct docker_exec_opts opts = { 0 };
	const char **argv;
	char **nums, *out = NULL, *err = NULL, *msg, *p;
	size_t i;
	int code, rc = -1, attempt;

	if (l->n == 0)
		return 0;
	argv = xcalloc(l->n + 7, sizeof *argv);
	nums = xcalloc(l->n, sizeof *nums);
	for (i = 0; i < l->n; i++)
		nums[i] = xasprintf("%ld", (long)l->v[i]);
	opts.user = t->user;
	for (attempt = 0; attempt < 2; attempt++) {
		/* sh's kill first: minimal images have no kill program. */
		i = 0;
		if (attempt == 0) {
			argv[i++] = "sh";
			argv[i++] = "-c";
			argv[i++] = script;
			argv[i++] = "sh";
			argv[i++] = name;
			if (!strict)
				argv[i++] = "-";
		} else {
			argv[i++] = "kill";
			argv[i++] = "-s";
			argv[i++] = name;
		}
		memcpy(argv + i, nums, l->n * sizeof *argv);
		argv[i + l->n] = NULL;
		opts.argv = argv;
		free(out);
		free(err);
		out = err = NULL;
		if (docker_exec_capture(
			d, t->container, &opts, &out, &err, &code, cause) != 0)
			goto done;
		if (code != 126 && code != 127)
			break;
	}
	if (code == 0) {
		rc = 0;
		goto done;
	}
	msg = err != NULL && *err != '\0' ? err : out != NULL ? out : "";
	if ((p = strchr(msg, '\n')) != NULL)
		*p = '\0';
	error_set(cause, "kill -s %s in container %.12s: exit status %d%s%s", name,
	    t->container, code, *msg != '\0' ? ": " : "", msg);
done:
	for (i = 0; i < l->n; i++)
		free(nums[i]);
	free(nums);
	free(argv);
	free(out);
	free(err);
	return rc;
}

int
exec_signal_send(struct docker *d, const char *exec_id, const char *name, char **cause)
{
	struct exec_target t;
	struct exec_pids l = { 0 };
	int rc;

	if (exec_signal_number(name) < 0)
		return error_set(
		    cause, "unknown signal \"%s\"", name != NULL ? name : "");
	if ((rc = exec_signal_lookup(d, exec_id, &t, cause)) <= 0)
		return rc < 0 ? -1 : error_set(cause, "the command has ended");
	if (!exec_signal_targets(&t, &l))
		rc = error_set(cause, "the command has ended");
	else {
		log_debug("exec %.12s: %s to %zu process(es), first %ld", exec_id, name,
		    l.n, (long)l.v[0]);
		rc = exec_signal_kill(d, &t, name, &l, 1, cause);
	}
	free(l.v);
	exec_target_clear(&t);
	return rc;
}

int
exec_signal_hangup(struct docker *d, const char *exec_id, int grace_ms, char **cause)
{
	struct exec_target t;
	struct exec_pids l = { 0 };
	char *why = NULL;
	pid_t inner, pgrp, sid, tpgid;
	int rc, waited, strict;

	if ((rc = exec_signal_lookup(d, exec_id, &t, cause)) <= 0)
		return rc;
	strict = exec_signal_targets(&t, &l);
	if (exec_signal_kill(d, &t, "HUP", &l, strict, &why) != 0) {
		log_debug("exec %.12s: %s", exec_id, why);
		free(why);
		why = NULL;
	}
	/* Wait for the whole session to go: HUP may leave children behind. */
	for (waited = 0;; waited += EXEC_SIGNAL_POLL_MS) {
		l.n = 0;
		if (t.sid == t.host_pid)
			exec_signal_collect(&t, 1, t.sid, &l);
		else if (exec_signal_proc_stat(t.host_pid, &pgrp, &sid, &tpgid) == 0 &&
		    exec_signal_in_container(t.host_pid, t.container) &&
		    (inner = exec_signal_nspid(t.host_pid, t.level, NULL)) > 0)
			exec_pids_add(&l, inner);
		if (l.n == 0 || waited >= grace_ms)
			break;
		exec_signal_sleep_ms(EXEC_SIGNAL_POLL_MS);
	}
	rc = 0;
	if (l.n > 0) {
		log_info("exec %.12s: %zu process(es) still there after SIGHUP: SIGKILL",
		    exec_id, l.n);
		rc = exec_signal_kill(d, &t, "KILL", &l, 0, cause);
	}
	free(l.v);
	exec_target_clear(&t);
	return rc;
}
