/* host-probe.c - the broker's "probe" request (host-probe.h). */
#include "host-probe.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libssh/sftp.h>

#include "clock.h"
#include "error.h"
#include "host-internal.h"
#include "log.h"
#include "proto.h"
#include "xmalloc.h"

/* A probe's thread: its copy of the request. */
struct host_probe {
	int fd;
	int id;
	struct ssh_target_opts o;
	char *host, *user, *config, *known, *auth_sock;
};

static char *
host_probe_dup(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

static void
host_probe_free(struct host_probe *p)
{
	free(p->host);
	free(p->user);
	free(p->config);
	free(p->known);
	free(p->auth_sock);
	free(p);
}

static const char *
host_probe_step_name(enum ssh_step s)
{
	switch (s) {
	case SSH_STEP_CONFIG: return "config";
	case SSH_STEP_CONNECT: return "connect";
	case SSH_STEP_HOSTKEY: return "hostkey";
	case SSH_STEP_AUTH: return "auth";
	case SSH_STEP_DONE: break;
	}
	return "done";
}

static const char *
host_probe_hostkey_name(enum ssh_hostkey_state s)
{
	switch (s) {
	case SSH_HOSTKEY_UNCHECKED: break;
	case SSH_HOSTKEY_KNOWN: return "known";
	case SSH_HOSTKEY_UNKNOWN: return "unknown";
	case SSH_HOSTKEY_RECORDED: return "recorded";
	case SSH_HOSTKEY_CHANGED: return "changed";
	case SSH_HOSTKEY_REVOKED: return "revoked";
	}
	return "unchecked";
}

cJSON *
host_probe_report_json(const struct ssh_connect_report *r)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "reached", host_probe_step_name(r->reached));
	cJSON_AddStringToObject(o, "hostname", r->hostname);
	cJSON_AddNumberToObject(o, "port", r->port);
	cJSON_AddStringToObject(o, "user", r->user);
	cJSON_AddBoolToObject(o, "proxied", r->proxied);
	if (r->fail != SSH_FAIL_NONE)
		cJSON_AddStringToObject(o, "errorKind", rdev_ssh_fail_name(r->fail));
	if (r->reached > SSH_STEP_CONNECT) {
		cJSON_AddStringToObject(o, "banner", r->banner);
		cJSON_AddNumberToObject(o, "connectMs", (double)r->connect_ms);
		cJSON_AddStringToObject(
		    o, "hostKey", host_probe_hostkey_name(r->hostkey));
		cJSON_AddStringToObject(o, "hostKeyFile", r->hostkey_file);
		cJSON_AddStringToObject(o, "fingerprint", r->fingerprint);
		if (r->other_type)
			cJSON_AddBoolToObject(o, "hostKeyOtherType", 1);
	}
	if (r->reached == SSH_STEP_DONE) {
		cJSON_AddStringToObject(o, "auth", r->auth);
		cJSON_AddNumberToObject(o, "authMs", (double)r->auth_ms);
	}
	return o;
}

#define HOST_PROBE_MARKER "rdev-probe-7f3a"
#define HOST_PROBE_NOISE_MAX 60

/* The first bytes of out (len of them, at most HOST_PROBE_NOISE_MAX, cut
 * back to a UTF-8 character's start), control characters as '.'. New
 * string. */
static char *
host_probe_sample(const char *out, size_t len)
{
	char *noise;
	size_t i;

	if (len > HOST_PROBE_NOISE_MAX) {
		len = HOST_PROBE_NOISE_MAX;
		while (len > 0 && ((unsigned char)out[len] & 0xc0) == 0x80)
			len--;
	}
	noise = xstrndup(out, len);
	for (i = 0; noise[i] != '\0'; i++)
		if ((unsigned char)noise[i] < 0x20 || noise[i] == 0x7f)
			noise[i] = '.';
	return noise;
}

/* A command through the remote user's shell: its time (the shell's start,
 * ~/.bashrc included, plus a round trip), the shell ($SHELL, "shell") and
 * the agent versions installed (~/.rdev/agent/VERSION). Its output starts
 * with a marker line: what comes before it was printed by the shell's
 * start-up files ("shellStdout", its first HOST_PROBE_NOISE_MAX bytes),
 * which breaks every stream rdev runs through that shell (the agent's
 * protocol). No marker: the command never ran (a forced command, a nologin
 * shell, which prints "This account is currently not available."):
 * "shellNotRun" with its exit status, and what it printed instead as
 * "shellNotRunStdout" (the start-up files are blamed only for text before a
 * marker). */
static void
host_probe_shell(struct rdev_ssh *s, cJSON *o)
{
	const char *const argv[] = { "sh", "-c",
		"echo " HOST_PROBE_MARKER " \"$SHELL\"; exec ls -1 .rdev/agent", NULL };
	char *out = NULL, *cause = NULL, *line, *save = NULL, *mark, *noise, *eol;
	cJSON *versions;
	long long t0 = clock_now_ms();
	size_t len;
	int status;

	if (rdev_ssh_run(s, argv, NULL, 0, &out, &len, NULL, &status, &cause) != 0) {
		cJSON_AddStringToObject(o, "shellError", cause);
		free(cause);
		return;
	}
	cJSON_AddNumberToObject(o, "shellMs", (double)(clock_now_ms() - t0));
	mark = strstr(out, HOST_PROBE_MARKER " ");
	if (mark != NULL && (eol = strchr(mark, '\n')) != NULL) {
		*eol = '\0';
		cJSON_AddStringToObject(o, "shell", mark + strlen(HOST_PROBE_MARKER " "));
		line = eol + 1;
	} else {
		mark = NULL;
		line = NULL;
	}
	len = mark != NULL ? (size_t)(mark - out) : strlen(out);
	while (len > 0 && (out[len - 1] == '\n' || out[len - 1] == '\r'))
		len--;
	if (mark == NULL)
		cJSON_AddNumberToObject(o, "shellNotRun", status);
	if (len > 0) {
		noise = host_probe_sample(out, len);
		cJSON_AddStringToObject(
		    o, mark != NULL ? "shellStdout" : "shellNotRunStdout", noise);
		free(noise);
	}
	versions = cJSON_AddArrayToObject(o, "agentsInstalled");
	for (line = line != NULL ? strtok_r(line, "\n", &save) : NULL;
	     status == 0 && line != NULL; line = strtok_r(NULL, "\n", &save))
		cJSON_AddItemToArray(versions, cJSON_CreateString(line));
	free(out);
}

/* Does sshd have an sftp subsystem? On a host with MaxSessions 1 the
 * shell's channel may still hold the one slot for a moment (ssh-session.h,
 * RDEV_SSH_OPEN_RETRIES): an open refused is tried again, as there. */
static void
host_probe_sftp(struct rdev_ssh *s, cJSON *o)
{
	ssh_session ss = rdev_ssh_session(s);
	sftp_session sf = NULL;
	const char *e;
	int i;

	for (i = 0; i < RDEV_SSH_OPEN_RETRIES; i++) {
		if ((sf = sftp_new(ss)) != NULL)
			break;
		e = ssh_get_error(ss);
		if (e == NULL || strstr(e, "Channel opening failure") == NULL)
			break;
		usleep(RDEV_SSH_OPEN_RETRY_MS * 1000);
	}
	if (sf != NULL && sftp_init(sf) == SSH_OK)
		cJSON_AddStringToObject(o, "sftp", "available");
	else {
		cJSON_AddStringToObject(o, "sftp", "missing");
		cJSON_AddStringToObject(o, "sftpError", ssh_get_error(ss));
	}
	if (sf != NULL)
		sftp_free(sf);
}

/* Does sshd allow TCP forwarding? A direct-tcpip open to port 1 of the
 * host's loopback, where nothing listens: sshd tries the connect (and says
 * "connect failed") only when it allows forwarding; otherwise it answers
 * administratively prohibited (reason 1, kept by libssh 0.10 in its message
 * only, as host_open_prohibited reads it). */
static void
host_probe_tcp(struct rdev_ssh *s, cJSON *o)
{
	ssh_session ss = rdev_ssh_session(s);
	ssh_channel ch = ssh_channel_new(ss);
	const char *e;

	if (ch == NULL)
		fatal("ssh_channel_new failed");
	if (ssh_channel_open_forward(ch, "127.0.0.1", 1, "127.0.0.1", 0) == SSH_OK)
		cJSON_AddStringToObject(o, "tcpForwarding", "allowed");
	else if ((e = ssh_get_error(ss)) != NULL && strstr(e, "error (1)") != NULL)
		cJSON_AddStringToObject(o, "tcpForwarding", "denied");
	else if (e != NULL && strstr(e, "error (") != NULL)
		cJSON_AddStringToObject(o, "tcpForwarding", "allowed");
	else {
		cJSON_AddStringToObject(o, "tcpForwarding", "unknown");
		cJSON_AddStringToObject(o, "tcpForwardingError", e != NULL ? e : "");
	}
	ssh_channel_free(ch);
}

/* The ssh config options that apply to the host but are not honoured
 * ("FILE:LINE: ..."), as "sshConfigNotes" (the user's files) and
 * "sshConfigSystemNotes" (/etc/ssh's), and in the log. */
static void
host_probe_notes(struct rdev_ssh *s, const char *host, cJSON *o)
{
	const char *const *notes;
	cJSON *a;
	size_t i, n;

	notes = rdev_ssh_notes(s, &n);
	if (n > 0) {
		a = cJSON_AddArrayToObject(o, "sshConfigNotes");
		for (i = 0; i < n; i++) {
			log_warn("host %s: ssh config: %s", host, notes[i]);
			cJSON_AddItemToArray(a, cJSON_CreateString(notes[i]));
		}
	}
	notes = rdev_ssh_system_notes(s, &n);
	if (n > 0) {
		a = cJSON_AddArrayToObject(o, "sshConfigSystemNotes");
		for (i = 0; i < n; i++) {
			log_warn("host %s: ssh config (system file): %s", host, notes[i]);
			cJSON_AddItemToArray(a, cJSON_CreateString(notes[i]));
		}
	}
}

/* The probe's connect wait (ssh_target_opts.wait): nothing else to serve,
 * but with one the connect makes its TCP connection itself, as sessions do
 * (BindAddress, the name looked up within the timeout): without, libssh
 * made it and ignored BindAddress. */
static int
host_probe_wait(void *arg, int fd, short events, int ms)
{
	struct pollfd p = { .fd = fd, .events = events };

	(void)arg;
	poll(&p, fd >= 0 ? 1 : 0, ms);
	return 0;
}

static void *
host_probe_main(void *arg)
{
	struct host_probe *p = arg;
	struct ssh_connect_report rep;
	struct rdev_ssh *s;
	cJSON *msg = cJSON_CreateObject(), *o;
	char *cause = NULL;
	long long t0 = clock_now_ms();

	p->o.report = &rep;
	p->o.wait = host_probe_wait;
	p->o.wait_arg = NULL;
	s = rdev_ssh_connect(&p->o, &cause);
	o = host_probe_report_json(&rep);
	cJSON_AddNumberToObject(o, "totalMs", (double)(clock_now_ms() - t0));
	/* (the bound a "timeout" or "handshake-timeout" took: the doctor says
	 * which, the probe's own, not the ssh config's ConnectTimeout) */
	cJSON_AddNumberToObject(o, "connectTimeoutS", p->o.connect_timeout_s);
	if (s == NULL) {
		cJSON_AddStringToObject(o, "error", cause);
		free(cause);
	} else {
		host_probe_notes(s, p->host, o);
		host_probe_shell(s, o);
		host_probe_sftp(s, o);
		host_probe_tcp(s, o);
		rdev_ssh_free(s);
	}
	log_info("host %s: probed (%s)", p->host, host_probe_step_name(rep.reached));
	cJSON_AddNumberToObject(msg, "id", p->id);
	cJSON_AddBoolToObject(msg, "ok", 1);
	cJSON_AddItemToObject(msg, "result", o);
	host_send_json(p->fd, PROTO_CONTROL, msg);
	cJSON_Delete(msg);
	close(p->fd);
	host_probe_free(p);
	return NULL;
}

void
host_probe_start(int fd, int id, const struct ssh_target_opts *o)
{
	struct host_probe *p = xcalloc(1, sizeof *p);
	pthread_attr_t attr;
	pthread_t t;

	p->fd = fd;
	p->id = id;
	p->o = *o;
	p->o.host = p->host = host_probe_dup(o->host);
	p->o.user = p->user = host_probe_dup(o->user);
	p->o.ssh_config_file = p->config = host_probe_dup(o->ssh_config_file);
	p->o.known_hosts_file = p->known = host_probe_dup(o->known_hosts_file);
	p->o.auth_sock = p->auth_sock = host_probe_dup(o->auth_sock);
	p->o.batch = 1; /* a daemon's thread: nobody to ask */
	p->o.ask = NULL;
	if (p->o.connect_timeout_s <= 0)
		p->o.connect_timeout_s = HOST_PROBE_CONNECT_TIMEOUT_S;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &attr, host_probe_main, p) != 0)
		fatal("pthread_create: %s", strerror(errno));
	pthread_attr_destroy(&attr);
}
