/* doctor-judge.c - `rdev doctor`: facts into checks, each with its fix
 * (doctor.h). Pure: the facts come as JSON (the broker's "probe", the
 * agent's "info", the broker's session status). */
#include "doctor.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "xmalloc.h"

static const char *
doctor_str(const cJSON *o, const char *name, const char *none)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsString(v) ? v->valuestring : none;
}

static double
doctor_num(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

/* The connect step failed: say whether at DNS, TCP or the SSH handshake,
 * by the kind of failure the broker recorded ("errorKind"). */
static void
doctor_judge_connect(
    struct doctor_report *r, const char *host, const cJSON *probe, const char *err)
{
	const char *hn = doctor_str(probe, "hostname", host);
	const char *kind = doctor_str(probe, "errorKind", "other");
	int port = (int)doctor_num(probe, "port");
	double limit = doctor_num(probe, "connectTimeoutS");
	int proxied = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(probe, "proxied"));
	char *fix, *qhn = doctor_quote(hn), *qhost = doctor_quote(host), *bound;

	/* (the probe's own bound, not ConnectTimeout: host-probe.h) */
	bound = isnan(limit) ? xstrdup("the connect timeout")
			     : xasprintf("%g s (rdev doctor's connect timeout)", limit);

	if (strcmp(kind, "dns") == 0) {
		fix = xasprintf("check the name %s (HostName in your ssh config, or "
				"DNS: getent hosts %s)",
		    hn, qhn);
		doctor_add(
		    r, "ssh", DOCTOR_FAIL, fix, "DNS: cannot resolve %s (%s)", hn, err);
	} else if (strcmp(kind, "refused") == 0) {
		fix = xasprintf("is sshd running on %s and listening on port %d? "
				"(check Port in your ssh config, and the host's "
				"firewall)",
		    hn, port);
		doctor_add(r, "ssh", DOCTOR_FAIL, fix,
		    "TCP: connection to %s port %d refused (%s)", hn, port, err);
	} else if (strcmp(kind, "unreachable") == 0) {
		fix = xasprintf("is %s up, and is there a route to it from here? "
				"(try: ip route get %s)",
		    hn, qhn);
		doctor_add(
		    r, "ssh", DOCTOR_FAIL, fix, "TCP: %s is unreachable (%s)", hn, err);
	} else if (strcmp(kind, "timeout") == 0) {
		fix = xasprintf("is %s up and reachable from here? a firewall may "
				"drop packets to port %d (try: nc -vz %s %d)",
		    hn, port, qhn, port);
		doctor_add(r, "ssh", DOCTOR_FAIL, fix,
		    "TCP: no answer from %s port %d within %s: %s", hn, port, bound, err);
	} else if (strcmp(kind, "handshake-timeout") == 0) {
		/* TCP connected (the kernel accepts for a listener whose sshd
		 * is stopped): the server is there but does not speak SSH */
		fix = proxied
		    ? xasprintf("check the ProxyCommand or ProxyJump for %s in your "
				"ssh config, and sshd on %s (try: ssh -v %s)",
			  host, hn, qhost)
		    : xasprintf("is sshd on %s hung, stopped or overloaded "
				"(MaxStartups)? the TCP port answers but not SSH "
				"(try: ssh -v %s; on the host: systemctl status ssh)",
			  hn, qhost);
		/* (proxied: no TCP connect of ours; the proxy command ran,
		 * and what came through it was no SSH) */
		if (proxied)
			doctor_add(r, "ssh", DOCTOR_FAIL, fix,
			    "no SSH handshake: the proxy command for %s ran, but "
			    "no SSH from %s port %d came through it within %s: "
			    "%s",
			    host, hn, port, bound, err);
		else
			doctor_add(r, "ssh", DOCTOR_FAIL, fix,
			    "no SSH handshake: %s port %d accepted the TCP "
			    "connection but did not speak SSH within %s: %s",
			    hn, port, bound, err);
	} else if (strcmp(kind, "proxy") == 0 || proxied) {
		/* (no TCP of ours: hn and port are the proxy command's %h %p) */
		fix = xasprintf("check the ProxyCommand or ProxyJump for %s in your ssh "
				"config (run it by hand; try: ssh -v %s)",
		    host, qhost);
		doctor_add(r, "ssh", DOCTOR_FAIL, fix,
		    "the connection through the proxy command failed: %s", err);
	} else {
		fix = xasprintf("is it an SSH server at %s port %d? (try: ssh -v %s)", hn,
		    port, qhost);
		doctor_add(r, "ssh", DOCTOR_FAIL, fix,
		    "SSH handshake with %s port %d failed: %s", hn, port, err);
	}
	free(fix);
	free(bound);
	free(qhn);
	free(qhost);
}

/* The host key check's outcome. */
static void
doctor_judge_hostkey(
    struct doctor_report *r, const char *host, const cJSON *probe, const char *err)
{
	const char *hk = doctor_str(probe, "hostKey", "unchecked");
	const char *file = doctor_str(probe, "hostKeyFile", "?");
	const char *fp = doctor_str(probe, "fingerprint", "?");
	const char *hn = doctor_str(probe, "hostname", host);
	int port = (int)doctor_num(probe, "port");
	char *path = xstrdup(file), *colon, *pat, *fix, *qhost = doctor_quote(host);
	char *qpath, *qpat;

	if ((colon = strrchr(path, ':')) != NULL)
		*colon = '\0';
	pat = port == 22 ? xstrdup(hn) : xasprintf("[%s]:%d", hn, port);
	qpath = doctor_quote(path);
	qpat = doctor_quote(pat);
	if (strcmp(hk, "known") == 0)
		doctor_add(r, "host key", DOCTOR_OK, NULL, "%s matches %s", fp, file);
	else if (strcmp(hk, "recorded") == 0 && strcmp(file, "/dev/null") == 0)
		doctor_add(r, "host key", DOCTOR_OK, NULL,
		    "%s was unknown; accepted for this connection only (not "
		    "recorded: UserKnownHostsFile is /dev/null)",
		    fp);
	else if (strcmp(hk, "recorded") == 0)
		doctor_add(r, "host key", DOCTOR_OK, NULL,
		    "%s was unknown; recorded now in %s", fp, file);
	else if (strcmp(hk, "unknown") == 0) {
		fix = xasprintf("check the fingerprint with the host's admin, then "
				"rdev doctor %s --accept-new-host-key (%s%s)",
		    qhost,
		    strcmp(file, "/dev/null") == 0
			? "it is not recorded, UserKnownHostsFile is /dev/null: "
			  "it will be asked again"
			: "records it in ",
		    strcmp(file, "/dev/null") == 0 ? "" : file);
		doctor_add(r, "host key", DOCTOR_WARN, fix,
		    "%s is not known yet (rdev refuses it until it is recorded)", fp);
		free(fix);
	} else if (strcmp(hk, "changed") == 0 || strcmp(hk, "revoked") == 0) {
		fix = xasprintf("if the host was reinstalled and you trust the new key: "
				"ssh-keygen -f %s -R %s, then rdev doctor %s "
				"--accept-new-host-key; otherwise do not connect (ask "
				"the host's admin)",
		    qpath, qpat, qhost);
		doctor_add(r, "host key", DOCTOR_FAIL, fix,
		    strcmp(hk, "changed") == 0
			? "CHANGED: the host sent %s, %s records another key for %s"
			: "the host's key %s is marked @revoked in %s (%s)",
		    fp, file, pat);
		free(fix);
	} else
		doctor_add(r, "host key", DOCTOR_FAIL, NULL, "not checked: %s", err);
	free(pat);
	free(path);
	free(qpat);
	free(qpath);
	free(qhost);
}

/* The ssh config options that apply to the host but rdev does not honour
 * (the probe's "sshConfigNotes", each "FILE:LINE: ..."): one warning for
 * each, none when there are none; the system file's ("sshConfigSystemNotes")
 * as info. */
static void
doctor_judge_notes(struct doctor_report *r, const cJSON *probe)
{
	const cJSON *v;

	cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(probe, "sshConfigNotes")) {
		if (cJSON_IsString(v))
			doctor_add(r, "ssh config", DOCTOR_WARN,
			    "rdev goes on without it, as said; to silence this, "
			    "remove the option where it applies to this host",
			    "%s", v->valuestring);
	}
	/* the system file's are the admin's: said, not a warning (doctor
	 * would exit 1 on every distribution that sets one) */
	cJSON_ArrayForEach(
	    v, cJSON_GetObjectItemCaseSensitive(probe, "sshConfigSystemNotes")) {
		if (cJSON_IsString(v))
			doctor_add(r, "ssh config", DOCTOR_INFO, NULL,
			    "%s (system file: not honoured, told only here)",
			    v->valuestring);
	}
}

/* The start-up files a non-interactive shell run by sshd reads, by the
 * login shell's name ($SHELL on the host; NULL when unknown). */
static const char *
doctor_login_files(const char *shell)
{
	const char *base;

	if (shell == NULL)
		return "the shell's startup files";
	base = strrchr(shell, '/') != NULL ? strrchr(shell, '/') + 1 : shell;
	if (strcmp(base, "bash") == 0)
		return "~/.bashrc (or /etc/bash.bashrc)";
	if (strcmp(base, "zsh") == 0)
		return "~/.zshenv";
	return "the shell's startup files";
}

int
doctor_judge_probe(struct doctor_report *r, const char *host, const cJSON *probe)
{
	const char *reached = doctor_str(probe, "reached", "config");
	const char *err = doctor_str(probe, "error", "no answer");
	const char *sftp = doctor_str(probe, "sftp", NULL);
	const char *tcp = doctor_str(probe, "tcpForwarding", NULL);
	const char *user = doctor_str(probe, "user", "?");
	double shell_ms = doctor_num(probe, "shellMs");
	const char *noise = doctor_str(probe, "shellStdout", NULL);
	const char *not_run_out = doctor_str(probe, "shellNotRunStdout", NULL);
	char *fix, *q;

	if (strcmp(reached, "config") == 0) {
		doctor_add(r, "ssh", DOCTOR_FAIL,
		    "fix the ssh config ($RDEV_SSH_CONFIG, else ~/.ssh/config)", "%s",
		    err);
		return 0;
	}
	if (strcmp(reached, "connect") == 0) {
		doctor_judge_connect(r, host, probe, err);
		return 0;
	}
	doctor_add(r, "ssh", DOCTOR_OK, NULL, "%s port %d%s reached in %.0f ms (%s)",
	    doctor_str(probe, "hostname", host), (int)doctor_num(probe, "port"),
	    cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(probe, "proxied"))
		? " (through a proxy)"
		: "",
	    doctor_num(probe, "connectMs"), doctor_str(probe, "banner", "?"));
	doctor_judge_hostkey(r, host, probe, err);
	if (strcmp(reached, "hostkey") == 0)
		return 0;
	if (strcmp(reached, "auth") == 0) {
		q = doctor_quote(host);
		fix = xasprintf("put your public key in %s's ~/.ssh/authorized_keys "
				"(ssh-copy-id %s), or load the key into ssh-agent "
				"(ssh-add)",
		    user, q);
		doctor_add(r, "auth", DOCTOR_FAIL, fix, "%s", err);
		free(fix);
		free(q);
		return 0;
	}
	doctor_add(r, "auth", DOCTOR_OK, NULL, "as %s, %s (%.0f ms)", user,
	    doctor_str(probe, "auth", "?"), doctor_num(probe, "authMs"));
	doctor_judge_notes(r, probe);
	if (!isnan(doctor_num(probe, "shellNotRun")))
		doctor_add(r, "login shell", DOCTOR_FAIL,
		    "rdev runs its agent through the login shell: the account needs "
		    "a shell (not nologin) and no forced command",
		    "the command did not run on %s (exit %d%s%s%s): a forced command "
		    "(ForceCommand / authorized_keys command=) or a non-shell login "
		    "shell?",
		    host, (int)doctor_num(probe, "shellNotRun"),
		    not_run_out != NULL ? "; it printed \"" : "",
		    not_run_out != NULL ? not_run_out : "",
		    not_run_out != NULL ? "\" instead" : "");
	else if (noise != NULL)
		doctor_add(r, "login shell", DOCTOR_FAIL,
		    "guard them with `[[ $- == *i* ]]` / `case $- in *i*)` (as "
		    "Debian's ~/.bashrc starts: `case $- in *i*) ;; *) return;; "
		    "esac`), or send that output to stderr",
		    "%s on %s print to stdout for "
		    "non-interactive shells (\"%s\"): rdev's agent, started through "
		    "that shell, cannot be talked to",
		    doctor_login_files(doctor_str(probe, "shell", NULL)), host, noise);
	else if (isnan(shell_ms))
		doctor_add(r, "login shell", DOCTOR_WARN,
		    "check the user's shell and its start-up files (ssh HOST true)",
		    "a command could not be run: %s",
		    doctor_str(probe, "shellError", "?"));
	else if (shell_ms > DOCTOR_SHELL_WARN_MS)
		doctor_add(r, "login shell", DOCTOR_WARN,
		    "make ~/.bashrc return early for non-interactive shells (`[ -z "
		    "\"$PS1\" ] && return` near its top) or move slow set-up (nvm, "
		    "conda, pyenv) below that line",
		    "a command takes %.0f ms through %s's shell (warn above %d ms): "
		    "~/.bashrc or the like runs for each exec channel rdev opens",
		    shell_ms, user, DOCTOR_SHELL_WARN_MS);
	else
		doctor_add(r, "login shell", DOCTOR_OK, NULL,
		    "a command takes %.0f ms through %s's shell", shell_ms, user);
	if (sftp != NULL && strcmp(sftp, "available") == 0)
		doctor_add(r, "sftp", DOCTOR_OK, NULL, "sshd has an sftp subsystem");
	else if (sftp != NULL)
		doctor_add(r, "sftp", DOCTOR_WARN,
		    "add `Subsystem sftp internal-sftp` to the host's sshd_config and "
		    "reload sshd (optional for rdev; scp, sftp and editors' file "
		    "browsers need it)",
		    "sshd has no sftp subsystem (rdev does not need it: its agent is "
		    "installed over an exec channel)");
	if (tcp != NULL && strcmp(tcp, "allowed") == 0)
		doctor_add(r, "tcp forwarding", DOCTOR_OK, NULL,
		    "sshd allows TCP forwarding (direct-tcpip)");
	else if (tcp != NULL && strcmp(tcp, "denied") == 0)
		doctor_add(r, "tcp forwarding", DOCTOR_WARN,
		    "AllowTcpForwarding yes (or local) in the host's sshd_config, if "
		    "its policy allows; rdev works without it",
		    "sshd refuses TCP forwarding (administratively prohibited): "
		    "forwarded ports travel over the agent's session instead");
	else if (tcp != NULL)
		doctor_add(r, "tcp forwarding", DOCTOR_WARN, NULL, "could not tell: %s",
		    doctor_str(probe, "tcpForwardingError", "?"));
	/* (no agent can start through that shell) */
	return noise == NULL && isnan(doctor_num(probe, "shellNotRun"));
}

/* Free space under path: ok, warn or fail by the thresholds. */
static void
doctor_judge_disk(struct doctor_report *r, const char *name, const char *host,
    const char *path, double free_bytes)
{
	enum doctor_status st = DOCTOR_OK;
	char *fix;

	if (isnan(free_bytes) || path == NULL) {
		doctor_add(r, name, DOCTOR_WARN, NULL, "free space not known");
		return;
	}
	if (free_bytes < DOCTOR_DISK_FAIL_BYTES)
		st = DOCTOR_FAIL;
	else if (free_bytes < DOCTOR_DISK_WARN_BYTES)
		st = DOCTOR_WARN;
	fix = xasprintf("free space on %s under %s (old images: docker image prune; "
			"unused dev containers: rdev down)",
	    host, path);
	doctor_add(r, name, st, fix, "%.1f GiB free under %s%s",
	    free_bytes / 1073741824.0, path,
	    st == DOCTOR_OK	    ? ""
		: st == DOCTOR_WARN ? " (warn under 5 GiB)"
				    : " (fail under 1 GiB)");
	free(fix);
}

/* "0.1.0-abc, 0.0.9-def" for the installed versions; "none" when empty.
 * The caller frees. */
static char *
doctor_judge_installed(const cJSON *installed)
{
	struct buf *b = buf_new();
	const cJSON *v;
	char *out;

	cJSON_ArrayForEach(v, installed) {
		if (cJSON_IsString(v))
			buf_appendf(b, "%s%s", buf_len(b) ? ", " : "", v->valuestring);
	}
	if (buf_len(b) == 0)
		buf_appendf(b, "none");
	out = buf_take_string(b, NULL);
	buf_free(b);
	return out;
}

void
doctor_judge_info(struct doctor_report *r, const char *host, const cJSON *info,
    double mid_ms, const char *client_version, const cJSON *installed)
{
	char *before = doctor_judge_installed(installed);
	const char *user = doctor_str(info, "user", "the SSH user");
	const char *derr = doctor_str(info, "dockerError", NULL);
	const char *problem = doctor_str(info, "dockerProblem", "other");
	const char *dhost = doctor_str(info, "dockerHost", NULL);
	const char *software = doctor_str(info, "software", "?");
	const char *v =
	    strncmp(software, "rdev-agent ", 11) == 0 ? software + 11 : software;
	double skew = doctor_num(info, "time") - mid_ms;
	char *fix, *q;

	if (derr == NULL)
		doctor_add(r, "docker", DOCTOR_OK, NULL, "Docker %s, reachable as %s",
		    doctor_str(info, "dockerVersion", "?"), user);
	else {
		if (strcmp(problem, "permission") == 0) {
			q = doctor_quote(user);
			fix = xasprintf("add %s to the docker group on %s (sudo usermod "
					"-aG docker %s), then rdev-broker stop (its "
					"SSH session still has the old groups)%s%s%s",
			    user, host, q,
			    dhost != NULL ? "; the socket is DOCKER_HOST's, " : "",
			    dhost != NULL ? dhost : "",
			    dhost != NULL ? ", set for the account there: if that is not "
					    "the daemon's, unset it or point it there"
					  : "");
			free(q);
		} else if (strcmp(problem, "down") == 0 && dhost != NULL) {
			/* (DOCKER_HOST names the socket tried: rootless Docker's
			 * (agent-install's hint sets it), or a mistake; either
			 * may be, "start Docker" alone would not say which) */
			q = doctor_quote(user);
			fix = xasprintf(
			    "the socket tried is DOCKER_HOST's, %s, set for %s on %s "
			    "(its shell startup files, e.g. ~/.bashrc): if that is "
			    "rootless Docker, start it (systemctl --user start docker; "
			    "and loginctl enable-linger %s, so that it runs without a "
			    "login); else unset it or point it at the daemon's socket "
			    "(unix:///var/run/docker.sock), then rdev-broker stop",
			    dhost, user, host, q);
			free(q);
		} else if (strcmp(problem, "down") == 0)
			fix = xasprintf("start Docker on %s (sudo systemctl start "
					"docker; not installed: sudo apt install "
					"docker.io)",
			    host);
		else
			fix =
			    xasprintf("check Docker on %s as %s (docker info)%s%s", host,
				user, dhost != NULL ? "; DOCKER_HOST is set there: " : "",
				dhost != NULL ? dhost : "");
		doctor_add(r, "docker", DOCTOR_FAIL, fix, "%s: %s", user, derr);
		free(fix);
	}
	if (strcmp(v, client_version) == 0)
		doctor_add(r, "agent version", DOCTOR_OK, NULL,
		    "rdev-agent %s, the same as this rdev (installed before: %s)", v,
		    before);
	else
		doctor_add(r, "agent version", DOCTOR_WARN,
		    "rdev-broker stop; the next rdev command installs the agent of "
		    "its version",
		    "rdev-agent %s, but this rdev is %s (installed before: %s)", v,
		    client_version, before);
	free(before);
	doctor_judge_disk(r, "disk (workspaces)", host,
	    doctor_str(info, "workspaceRoot", NULL),
	    doctor_num(cJSON_GetObjectItemCaseSensitive(info, "actual"), "storage"));
	if (derr == NULL)
		doctor_judge_disk(r, "disk (docker)", host,
		    doctor_str(info, "dockerRootDir", NULL),
		    doctor_num(info, "dockerRootFree"));
	if (isnan(skew))
		doctor_add(
		    r, "clock", DOCTOR_WARN, NULL, "the host did not say its time");
	else if (fabs(skew) > DOCTOR_SKEW_WARN_MS) {
		fix = xasprintf("keep both clocks in sync with NTP (timedatectl "
				"set-ntp true, here and on %s)",
		    host);
		doctor_add(r, "clock", DOCTOR_WARN, fix,
		    "%s's clock is %.1f s %s this one (warn above %d s): file times "
		    "of synced files and build tools go wrong",
		    host, fabs(skew) / 1000, skew > 0 ? "ahead of" : "behind",
		    DOCTOR_SKEW_WARN_MS / 1000);
		free(fix);
	} else
		doctor_add(r, "clock", DOCTOR_OK, NULL, "within %.1f s of this one",
		    fabs(skew) / 1000);
}

void
doctor_judge_session(struct doctor_report *r, const cJSON *session)
{
	const cJSON *ag = cJSON_GetObjectItemCaseSensitive(session, "agent");
	const cJSON *fwd = cJSON_GetObjectItemCaseSensitive(session, "forwarding");
	const char *transport = doctor_str(ag, "transport", "?");
	const char *sl = doctor_str(fwd, "streamlocal", "untried");
	double pid = doctor_num(ag, "pid");

	if (session == NULL) {
		doctor_add(r, "agent", DOCTOR_WARN,
		    "rdev-broker status shows the sessions",
		    "the broker holds no session with the host");
		return;
	}
	if (strcmp(transport, "exec") == 0)
		doctor_add(r, "agent", DOCTOR_OK, NULL,
		    "one rdev-agent per request (exec channels), session %s",
		    doctor_str(session, "state", "?"));
	else if (!isnan(pid))
		doctor_add(r, "agent", DOCTOR_OK, NULL,
		    "running (pid %.0f, %s), reached %s", pid,
		    doctor_str(ag, "state", "?"),
		    strcmp(transport, "session") == 0
			? "over streams of its session channel"
			: "through its stream-local socket");
	else
		doctor_add(r, "agent", DOCTOR_WARN,
		    "see the broker's log (broker.log next to its socket)",
		    "not running (%s)%s%s", doctor_str(ag, "state", "?"),
		    cJSON_IsString(cJSON_GetObjectItemCaseSensitive(session, "error"))
			? ": "
			: "",
		    doctor_str(session, "error", ""));
	if (strcmp(sl, "allowed") == 0)
		doctor_add(r, "stream-local forwarding", DOCTOR_OK, NULL,
		    "sshd allows it (clients reach the agent's socket)");
	else if (strcmp(sl, "denied") == 0)
		doctor_add(r, "stream-local forwarding", DOCTOR_WARN,
		    "AllowStreamLocalForwarding yes in the host's sshd_config, if its "
		    "policy allows; rdev works without it",
		    "sshd refuses it: clients reach the agent over streams of its "
		    "session channel");
	else
		doctor_add(r, "stream-local forwarding", DOCTOR_OK, NULL, "%s", sl);
}
