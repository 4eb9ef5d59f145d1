/* ssh-session.c - connect, verify, authenticate, run (see ssh-session.h). */
#include "ssh-session.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <libssh/callbacks.h>
#include <sodium.h>

#include "buf.h"
#include "error.h"
#include "shell-quote.h"
#include "tty-prompt.h"
#include "ssh-config.h"
#include "xmalloc.h"

/* With ServerAliveCountMax's default of 3: a silent host is dropped 9 s
 * after it was last heard. */
#define RDEV_SSH_DEFAULT_KEEPALIVE 3
#define RDEV_SSH_DEFAULT_TIMEOUT 20
#define RDEV_SSH_CIPHERS "aes128-gcm@openssh.com,aes256-gcm@openssh.com," \
	"chacha20-poly1305@openssh.com,aes128-ctr,aes192-ctr,aes256-ctr"

struct rdev_ssh {
	ssh_session ss;
	int (*ask)(void *arg, const char *prompt, int echo, char *buf, size_t len);
	void *ask_arg;
	const char *asking_key;  /* the identity file being opened, for prompts */
	int ask_refused;         /* a passphrase prompt found nobody to answer */
	char *label;    /* user@alias:port */
	char *prefix;   /* "host ALIAS (ADDR:PORT)" */
	char *home;
	int keepalive;  /* seconds */
	int batch;
	struct ssh_config_host cfg;
};

/* What authentication tried, for the failure message. */
struct rdev_ssh_auth {
	struct buf *files;   /* "~/.ssh/id_ed25519 (not accepted), ..." */
	char *agent;         /* "agent: 2 keys" */
	int tried_kbdint, tried_password;
};

/* --- small helpers ------------------------------------------------------ */

/* path with the home folder shown as "~". The caller frees. */
static char *
rdev_ssh_tilde(const char *home, const char *path)
{
	size_t n = strlen(home);

	if (n > 1 && strncmp(path, home, n) == 0 && path[n] == '/')
		return xasprintf("~%s", path + n);
	return xstrdup(path);
}

/* "ED25519", "RSA", "ECDSA" ... for a key, as OpenSSH names them. */
static const char *
rdev_ssh_key_name(ssh_key key)
{
	switch (ssh_key_type(key)) {
	case SSH_KEYTYPE_ED25519:
		return "ED25519";
	case SSH_KEYTYPE_RSA:
		return "RSA";
	case SSH_KEYTYPE_ECDSA_P256:
	case SSH_KEYTYPE_ECDSA_P384:
	case SSH_KEYTYPE_ECDSA_P521:
		return "ECDSA";
	case SSH_KEYTYPE_DSS:
		return "DSA";
	default:
		return ssh_key_type_to_char(ssh_key_type(key));
	}
}

/* "SHA256:..." for a key; the caller frees. */
static char *
rdev_ssh_fingerprint(ssh_key key)
{
	unsigned char *hash = NULL;
	size_t len = 0;
	char *fp, *out;

	if (ssh_get_publickey_hash(key, SSH_PUBLICKEY_HASH_SHA256, &hash,
	    &len) != 0)
		return xstrdup("(unknown fingerprint)");
	fp = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, len);
	ssh_clean_pubkey_hash(&hash);
	if (fp == NULL)
		return xstrdup("(unknown fingerprint)");
	out = xstrdup(fp);
	ssh_string_free_char(fp);
	return out;
}

/* An option string from libssh, copied; NULL if unset. */
static char *
rdev_ssh_get_option(ssh_session ss, enum ssh_options_e what)
{
	char *v = NULL, *out;

	if (ssh_options_get(ss, what, &v) != SSH_OK || v == NULL)
		return NULL;
	out = xstrdup(v);
	ssh_string_free_char(v);
	return out;
}

/* --- host key ----------------------------------------------------------- */

enum rdev_ssh_hk { HK_UNKNOWN, HK_OTHER, HK_CHANGED, HK_OK, HK_REVOKED };

struct rdev_ssh_hk_found {
	enum rdev_ssh_hk state;
	char *file;      /* where the offending (or revoking) entry is */
	unsigned int line;
	char *old_fp;    /* its fingerprint */
	const char *old_type;
};

/* Scan one known_hosts file for hostport; raises found->state. */
static void
rdev_ssh_hk_scan(const char *path, const char *hostport, ssh_key key,
    struct rdev_ssh_hk_found *found)
{
	struct ssh_knownhosts_entry *e;
	enum rdev_ssh_hk st;
	FILE *f;
	char *line = NULL, *p;
	size_t cap = 0;
	ssize_t len;
	unsigned int n = 0;
	int revoked;

	if (path == NULL || (f = fopen(path, "r")) == NULL)
		return;
	while ((len = getline(&line, &cap, f)) != -1) {
		n++;
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		for (p = line; isspace((unsigned char)*p); p++)
			;
		if (*p == '\0' || *p == '#')
			continue;
		revoked = 0;
		if (*p == '@') {
			if (strncmp(p, "@revoked", 8) != 0 || !isspace((unsigned char)p[8]))
				continue; /* @cert-authority: no certificates here */
			revoked = 1;
			for (p += 8; isspace((unsigned char)*p); p++)
				;
		}
		e = NULL;
		if (ssh_known_hosts_parse_line(revoked ? NULL : hostport, p, &e) !=
		    SSH_OK || e == NULL) {
			if (e != NULL)
				ssh_knownhosts_entry_free(e);
			continue;
		}
		if (ssh_key_cmp(key, e->publickey, SSH_KEY_CMP_PUBLIC) == 0)
			st = revoked ? HK_REVOKED : HK_OK;
		else if (revoked)
			st = HK_UNKNOWN;
		else if (ssh_key_type(key) == ssh_key_type(e->publickey))
			st = HK_CHANGED;
		else
			st = HK_OTHER;
		if (st > found->state) {
			found->state = st;
			if (st != HK_OK) {
				free(found->file);
				free(found->old_fp);
				found->file = xstrdup(path);
				found->line = n;
				found->old_fp = rdev_ssh_fingerprint(e->publickey);
				found->old_type = rdev_ssh_key_name(e->publickey);
			}
		}
		ssh_knownhosts_entry_free(e);
	}
	free(line);
	fclose(f);
}

/* Check the server's key; record it when unknown and accept_new. */
static int
rdev_ssh_verify(struct rdev_ssh *s, const char *hostname, int port,
    int accept_new, char **cause)
{
	struct rdev_ssh_hk_found found = { HK_UNKNOWN, NULL, 0, NULL, NULL };
	ssh_key key = NULL;
	char *user_file, *global_file, *fp, *hostport, *p, *shown;
	const char *type;
	int rc = -1;

	if (ssh_get_server_publickey(s->ss, &key) != SSH_OK)
		return error_set(cause, "%s: no host key from the server: %s",
		    s->prefix, ssh_get_error(s->ss));
	fp = rdev_ssh_fingerprint(key);
	type = rdev_ssh_key_name(key);
	if (port == 22)
		hostport = xstrdup(hostname);
	else
		hostport = xasprintf("[%s]:%d", hostname, port);
	for (p = hostport; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	user_file = rdev_ssh_get_option(s->ss, SSH_OPTIONS_KNOWNHOSTS);
	global_file = rdev_ssh_get_option(s->ss, SSH_OPTIONS_GLOBAL_KNOWNHOSTS);
	rdev_ssh_hk_scan(user_file, hostport, key, &found);
	rdev_ssh_hk_scan(global_file, hostport, key, &found);
	shown = rdev_ssh_tilde(s->home, user_file != NULL ? user_file :
	    "~/.ssh/known_hosts");

	switch (found.state) {
	case HK_OK:
		rc = 0;
		break;
	case HK_REVOKED:
		error_set(cause, "%s: the host key %s %s is marked @revoked in "
		    "%s:%u; refusing to connect", s->prefix, type, fp, found.file,
		    found.line);
		break;
	case HK_CHANGED:
		error_set(cause, "%s: host key verification failed\n"
		    "@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@\n"
		    "@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @\n"
		    "@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@\n"
		    "IT IS POSSIBLE THAT SOMEONE IS DOING SOMETHING NASTY!\n"
		    "Someone could be eavesdropping on you right now "
		    "(man-in-the-middle attack)!\n"
		    "It is also possible that a host key has just been changed.\n"
		    "The fingerprint for the %s key sent by the remote host is\n"
		    "%s.\n"
		    "The %s key recorded for %s is\n"
		    "%s.\n"
		    "Please contact your system administrator.\n"
		    "Offending %s key in %s:%u\n"
		    "  remove with:\n"
		    "  ssh-keygen -f '%s' -R '%s'\n"
		    "Host key for %s has changed; rdev always refuses a changed "
		    "host key.", s->prefix, type, fp, found.old_type, hostport,
		    found.old_fp, found.old_type, found.file, found.line,
		    found.file, hostport, hostport);
		break;
	case HK_OTHER:
		error_set(cause, "%s: host key verification failed\n"
		    "WARNING: the remote host sent a %s key (%s) but only a %s "
		    "key (%s) is recorded for %s, in %s:%u.\n"
		    "This may be a man-in-the-middle attack, or the host's keys "
		    "were replaced. rdev refuses; if you know the new key is "
		    "right, remove the old one with\n"
		    "  ssh-keygen -f '%s' -R '%s'\n"
		    "and connect again with --accept-new-host-key.", s->prefix,
		    type, fp, found.old_type, found.old_fp, hostport, found.file,
		    found.line, found.file, hostport);
		break;
	case HK_UNKNOWN:
		if (!accept_new) {
			error_set(cause, "%s: unknown host key, %s fingerprint %s; "
			    "to trust it, run again with --accept-new-host-key (it "
			    "is then recorded in %s)", s->prefix, type, fp, shown);
			break;
		}
		if (ssh_session_update_known_hosts(s->ss) != SSH_OK) {
			error_set(cause, "%s: cannot record the host key in %s: %s",
			    s->prefix, shown, ssh_get_error(s->ss));
			break;
		}
		rc = 0;
		break;
	}
	free(shown);
	free(user_file);
	free(global_file);
	free(hostport);
	free(fp);
	free(found.file);
	free(found.old_fp);
	ssh_key_free(key);
	return rc;
}

/* --- authentication ----------------------------------------------------- */

/* Number of keys the agent at sock holds, or -1 if it cannot be asked. */
static int
rdev_ssh_agent_count(const char *sock)
{
	struct sockaddr_un sun;
	unsigned char req[5] = { 0, 0, 0, 1, 11 }, hdr[9];
	struct pollfd pfd;
	size_t got = 0;
	ssize_t r;
	int fd, n = -1;

	if (sock == NULL || *sock == '\0' || strlen(sock) >= sizeof sun.sun_path)
		return -1;
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, sock, strlen(sock));
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	if (connect(fd, (struct sockaddr *)&sun, sizeof sun) != 0 ||
	    write(fd, req, sizeof req) != (ssize_t)sizeof req)
		goto out;
	/* length(4) type(1) nkeys(4) */
	while (got < sizeof hdr) {
		pfd.fd = fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, 5000) != 1)
			goto out;
		if ((r = read(fd, hdr + got, sizeof hdr - got)) <= 0)
			goto out;
		got += (size_t)r;
	}
	if (hdr[4] == 12)
		n = (int)(((unsigned)hdr[5] << 24) | (hdr[6] << 16) | (hdr[7] << 8) |
		    hdr[8]);
out:
	close(fd);
	return n;
}

/* Ask the user: through the caller's ask function, else on the terminal. */
static int
rdev_ssh_ask(struct rdev_ssh *s, const char *prompt, char *buf, size_t len, int echo)
{
	if (s->ask != NULL)
		return s->ask(s->ask_arg, prompt, echo, buf, len);
	return tty_prompt_read(prompt, buf, len, echo);
}

/* Is there someone to ask? */
static int
rdev_ssh_can_ask(struct rdev_ssh *s)
{
	return !s->batch && (s->ask != NULL || tty_prompt_available());
}

/* libssh's passphrase callback: ask unless batch. */
static int
rdev_ssh_passphrase_cb(const char *prompt, char *buf, size_t len, int echo,
    int verify, void *userdata)
{
	struct rdev_ssh *s = userdata;
	char *p;
	int rc;

	if (s->batch || len == 0)
		return -1;
	/* As OpenSSH says it (libssh's own prompt is just "Passphrase"). */
	if (s->asking_key != NULL) {
		char *t = rdev_ssh_tilde(s->home, s->asking_key);

		p = xasprintf("Enter passphrase for key '%s': ", t);
		free(t);
	} else
		p = xasprintf("%s: ", prompt);
	rc = rdev_ssh_ask(s, p, buf, len, 0);
	if (rc != 0)
		s->ask_refused = 1;
	free(p);
	return rc;
}

/* Note one identity file's outcome. */
static void
rdev_ssh_auth_file(struct rdev_ssh *s, struct rdev_ssh_auth *a, const char *path,
    const char *what)
{
	char *t = rdev_ssh_tilde(s->home, path);

	buf_appendf(a->files, "%s%s%s%s", buf_len(a->files) ? ", " : "", t,
	    *what ? " " : "", what);
	free(t);
}

/* Try one identity file: 1 authenticated, 2 partial, 0 not. */
static int
rdev_ssh_auth_one_file(struct rdev_ssh *s, struct rdev_ssh_auth *a,
    const char *path, int is_default)
{
	ssh_key pub = NULL, priv = NULL;
	char *pubpath;
	int rc;

	if (access(path, F_OK) != 0) {
		if (!is_default)
			rdev_ssh_auth_file(s, a, path, "(missing)");
		return 0;
	}
	pubpath = xasprintf("%s.pub", path);
	if (ssh_pki_import_pubkey_file(pubpath, &pub) == SSH_OK) {
		rc = ssh_userauth_try_publickey(s->ss, NULL, pub);
		ssh_key_free(pub);
		if (rc != SSH_AUTH_SUCCESS) {
			free(pubpath);
			rdev_ssh_auth_file(s, a, path, "(not accepted)");
			return 0;
		}
	}
	free(pubpath);
	s->asking_key = path;
	rc = ssh_pki_import_privkey_file(path, NULL, rdev_ssh_passphrase_cb, s, &priv);
	s->asking_key = NULL;
	if (rc != SSH_OK) {
		rdev_ssh_auth_file(s, a, path, s->ask_refused || !rdev_ssh_can_ask(s) ?
		    "(unreadable, or encrypted and no terminal to ask for its "
		    "passphrase: run rdev from a terminal, or add the key to "
		    "ssh-agent with ssh-add)" : "(unreadable or wrong passphrase)");
		s->ask_refused = 0;
		return 0;
	}
	rc = ssh_userauth_publickey(s->ss, NULL, priv);
	ssh_key_free(priv);
	if (rc == SSH_AUTH_SUCCESS)
		return 1;
	if (rc == SSH_AUTH_PARTIAL) {
		rdev_ssh_auth_file(s, a, path, "(accepted, more needed)");
		return 2;
	}
	rdev_ssh_auth_file(s, a, path, "(not accepted)");
	return 0;
}

/* Keyboard-interactive on the terminal: 1 authenticated, 0 not. */
static int
rdev_ssh_auth_kbdint(struct rdev_ssh *s)
{
	char answer[1024], *prompt_line;
	const char *name, *instr, *prompt;
	char echo;
	int rc, n, i;

	rc = ssh_userauth_kbdint(s->ss, NULL, NULL);
	while (rc == SSH_AUTH_INFO) {
		name = ssh_userauth_kbdint_getname(s->ss);
		instr = ssh_userauth_kbdint_getinstruction(s->ss);
		if (s->ask == NULL && ((name && *name) || (instr && *instr))) {
			char *text = xasprintf("%s%s%s", name ? name : "",
			    name && *name ? "\n" : "", instr ? instr : "");

			tty_prompt_show(text);
			free(text);
		}
		n = ssh_userauth_kbdint_getnprompts(s->ss);
		for (i = 0; i < n; i++) {
			prompt = ssh_userauth_kbdint_getprompt(s->ss, (unsigned)i, &echo);
			prompt_line = xstrdup(prompt != NULL ? prompt : "");
			if (rdev_ssh_ask(s, prompt_line, answer, sizeof answer,
			    echo) != 0) {
				free(prompt_line);
				sodium_memzero(answer, sizeof answer);
				return 0;
			}
			free(prompt_line);
			ssh_userauth_kbdint_setanswer(s->ss, (unsigned)i, answer);
			sodium_memzero(answer, sizeof answer);
		}
		rc = ssh_userauth_kbdint(s->ss, NULL, NULL);
	}
	return rc == SSH_AUTH_SUCCESS;
}

/* Password on the terminal: 1 authenticated, 0 not. */
static int
rdev_ssh_auth_password(struct rdev_ssh *s, const char *user, const char *host)
{
	char pw[1024], *prompt;
	int rc;

	prompt = xasprintf("%s@%s's password: ", user, host);
	rc = rdev_ssh_ask(s, prompt, pw, sizeof pw, 0);
	free(prompt);
	if (rc != 0) {
		sodium_memzero(pw, sizeof pw);
		return 0;
	}
	rc = ssh_userauth_password(s->ss, NULL, pw);
	sodium_memzero(pw, sizeof pw);
	return rc == SSH_AUTH_SUCCESS;
}

/* "publickey, password" for a method mask; the caller frees. */
static char *
rdev_ssh_methods(int m)
{
	struct buf *b = buf_new();
	char *out;

	if (m & SSH_AUTH_METHOD_PUBLICKEY)
		buf_appendf(b, "%spublickey", buf_len(b) ? ", " : "");
	if (m & SSH_AUTH_METHOD_INTERACTIVE)
		buf_appendf(b, "%skeyboard-interactive", buf_len(b) ? ", " : "");
	if (m & SSH_AUTH_METHOD_PASSWORD)
		buf_appendf(b, "%spassword", buf_len(b) ? ", " : "");
	if (m & SSH_AUTH_METHOD_GSSAPI_MIC)
		buf_appendf(b, "%sgssapi-with-mic", buf_len(b) ? ", " : "");
	if (m & SSH_AUTH_METHOD_HOSTBASED)
		buf_appendf(b, "%shostbased", buf_len(b) ? ", " : "");
	if (buf_len(b) == 0)
		buf_appendf(b, "none");
	out = buf_take_string(b, NULL);
	buf_free(b);
	return out;
}

/* Authenticate as user: agent, identity files, then the terminal. */
static int
rdev_ssh_auth(struct rdev_ssh *s, const char *user, const char *hostname,
    const char *auth_sock, char **cause)
{
	struct rdev_ssh_auth a = { buf_new(), NULL, 0, 0 };
	const char *defaults[] = { "id_rsa", "id_ecdsa", "id_ed25519" };
	const char *sock = s->cfg.identity_agent != NULL ? s->cfg.identity_agent :
	    auth_sock != NULL ? auth_sock : getenv("SSH_AUTH_SOCK");
	char *allowed, *files, *path;
	int rc, methods, n, tty, done = 0;
	size_t i;

	rc = ssh_userauth_none(s->ss, NULL);
	if (rc == SSH_AUTH_SUCCESS)
		goto ok;
	if (rc == SSH_AUTH_ERROR) {
		error_set(cause, "%s: authentication failed: %s", s->prefix,
		    ssh_get_error(s->ss));
		goto out;
	}
	methods = ssh_userauth_list(s->ss, NULL);
	tty = rdev_ssh_can_ask(s);

	if (methods & SSH_AUTH_METHOD_PUBLICKEY) {
		if (s->cfg.identities_only)
			a.agent = xstrdup("agent: not used (IdentitiesOnly yes)");
		else if (sock == NULL || *sock == '\0')
			a.agent = xstrdup("agent: none (SSH_AUTH_SOCK unset)");
		else if (strcmp(sock, "none") == 0)
			a.agent = xstrdup("agent: none (IdentityAgent none)");
		else if ((n = rdev_ssh_agent_count(sock)) < 0)
			a.agent = xasprintf("agent: not reachable at %s", sock);
		else {
			a.agent = xasprintf("agent: %d key%s", n, n == 1 ? "" : "s");
			/* libssh would take $SSH_AUTH_SOCK: the broker's, which
			 * may be unset or stale; the socket counted is the one. */
			ssh_options_set(s->ss, SSH_OPTIONS_IDENTITY_AGENT, sock);
			if (n > 0) {
				rc = ssh_userauth_agent(s->ss, NULL);
				if (rc == SSH_AUTH_SUCCESS)
					goto ok;
				if (rc == SSH_AUTH_PARTIAL)
					methods = ssh_userauth_list(s->ss, NULL);
			}
		}
		for (i = 0; i < s->cfg.n_identity_files && !done; i++) {
			rc = rdev_ssh_auth_one_file(s, &a, s->cfg.identity_files[i], 0);
			if (rc == 1)
				goto ok;
			if (rc == 2)
				methods = ssh_userauth_list(s->ss, NULL);
		}
		if (s->cfg.n_identity_files == 0) {
			for (i = 0; i < sizeof defaults / sizeof defaults[0]; i++) {
				path = xasprintf("%s/.ssh/%s", s->home, defaults[i]);
				rc = rdev_ssh_auth_one_file(s, &a, path, 1);
				free(path);
				if (rc == 1)
					goto ok;
				if (rc == 2)
					methods = ssh_userauth_list(s->ss, NULL);
			}
		}
	}
	if ((methods & SSH_AUTH_METHOD_INTERACTIVE) && tty) {
		a.tried_kbdint = 1;
		if (rdev_ssh_auth_kbdint(s))
			goto ok;
	}
	if ((methods & SSH_AUTH_METHOD_PASSWORD) && tty) {
		a.tried_password = 1;
		if (rdev_ssh_auth_password(s, user, hostname))
			goto ok;
	}

	allowed = rdev_ssh_methods(methods);
	files = buf_take_string(a.files, NULL);
	error_set(cause, "%s: authentication failed as user %s; tried: "
	    "publickey (%s; files: %s)%s%s; server allows: %s%s", s->prefix,
	    user, a.agent != NULL ? a.agent : "agent: not offered by the server",
	    *files ? files : "none found",
	    a.tried_kbdint ? ", keyboard-interactive" : "",
	    a.tried_password ? ", password" : "", allowed,
	    !tty && (methods & (SSH_AUTH_METHOD_INTERACTIVE |
	    SSH_AUTH_METHOD_PASSWORD)) ? (s->batch ? " (no prompts in batch "
	    "mode)" : " (no terminal to ask for a password)") : "");
	free(files);
	free(allowed);
	goto out;
ok:
	done = 1;
out:
	buf_free(a.files);
	free(a.agent);
	return done ? 0 : -1;
}

/* --- connect ------------------------------------------------------------ */

/* TCP keepalive from the SSH keepalive settings, so the kernel notices a
 * dead peer even on an idle session. Not a TCP socket (ProxyCommand): no-op. */
static void
rdev_ssh_tcp_keepalive(struct rdev_ssh *s)
{
	int fd = ssh_get_fd(s->ss), on = 1, idle = s->keepalive, intvl, cnt;
	unsigned int user_timeout;

	if (fd < 0)
		return;
	cnt = s->cfg.server_alive_count_max > 0 ? s->cfg.server_alive_count_max : 3;
	intvl = s->keepalive;
	user_timeout = (unsigned int)(s->keepalive * cnt) * 1000;
	if (setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on) != 0)
		return;
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof intvl);
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof cnt);
	setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &user_timeout,
	    sizeof user_timeout);
}

struct rdev_ssh *
rdev_ssh_connect(const struct ssh_target_opts *o, char **cause)
{
	struct rdev_ssh *s;
	struct ssh_config_ctx ctx;
	struct passwd *pw;
	const char *home;
	char *local_user, *user = NULL, *hostname = NULL, *proxy = NULL, *path;
	unsigned int port = 22;
	long timeout;
	int strict = 1, nodelay = 1, verbosity = SSH_LOG_NOLOG;

	if (o->host == NULL || *o->host == '\0') {
		error_set(cause, "no host given");
		return NULL;
	}
	if (o->host[0] == '-') {
		error_set(cause, "host %s: a host may not start with '-'", o->host);
		return NULL;
	}
	pw = getpwuid(getuid());
	home = getenv("HOME");
	if (home == NULL || *home == '\0')
		home = pw != NULL ? pw->pw_dir : "/";
	local_user = xstrdup(pw != NULL ? pw->pw_name : "unknown");

	s = xcalloc(1, sizeof *s);
	s->home = xstrdup(home);
	ssh_config_host_init(&s->cfg);
	s->prefix = xasprintf("host %s", o->host);
	if ((s->ss = ssh_new()) == NULL)
		fatal("ssh_new failed");
	ssh_options_set(s->ss, SSH_OPTIONS_LOG_VERBOSITY, &verbosity);
	ssh_options_set(s->ss, SSH_OPTIONS_HOST, o->host);
	if (o->user != NULL)
		ssh_options_set(s->ss, SSH_OPTIONS_USER, o->user);

	/*
	 * Prefer AES-GCM (AES-NI makes it several times faster than
	 * chacha20-poly1305 in libssh, and forwards are bulk data); a Ciphers
	 * line in the ssh config, parsed next, still wins.
	 */
	ssh_options_set(s->ss, SSH_OPTIONS_CIPHERS_C_S, RDEV_SSH_CIPHERS);
	ssh_options_set(s->ss, SSH_OPTIONS_CIPHERS_S_C, RDEV_SSH_CIPHERS);

	/* The ssh config: libssh's part, then ours from the same files. */
	if (ssh_options_parse_config(s->ss, o->ssh_config_file) != 0) {
		error_set(cause, "%s: ssh config %s: %s", s->prefix,
		    o->ssh_config_file != NULL ? o->ssh_config_file :
		    "~/.ssh/config", ssh_get_error(s->ss));
		goto fail;
	}
	ctx.host = o->host;
	ctx.remote_user = o->user;
	ctx.local_user = local_user;
	ctx.home = home;
	if (o->ssh_config_file != NULL) {
		if (ssh_config_host_read(&s->cfg, o->ssh_config_file, &ctx,
		    cause) != 0)
			goto fail_prefix;
	} else {
		path = xasprintf("%s/.ssh/config", home);
		if (ssh_config_host_read(&s->cfg, path, &ctx, cause) != 0) {
			free(path);
			goto fail_prefix;
		}
		free(path);
		if (ssh_config_host_read(&s->cfg, "/etc/ssh/ssh_config", &ctx,
		    cause) != 0)
			goto fail_prefix;
	}

	/* A LogLevel in the config must not make library code print. */
	ssh_options_set(s->ss, SSH_OPTIONS_LOG_VERBOSITY, &verbosity);
	if (o->port > 0) {
		port = (unsigned int)o->port;
		ssh_options_set(s->ss, SSH_OPTIONS_PORT, &port);
	}
	if (o->known_hosts_file != NULL)
		ssh_options_set(s->ss, SSH_OPTIONS_KNOWNHOSTS, o->known_hosts_file);
	ssh_options_set(s->ss, SSH_OPTIONS_STRICTHOSTKEYCHECK, &strict);
	/* Requests and keystrokes are small: never wait for Nagle. */
	ssh_options_set(s->ss, SSH_OPTIONS_NODELAY, &nodelay);
	timeout = o->connect_timeout_s > 0 ? o->connect_timeout_s :
	    s->cfg.connect_timeout > 0 ? s->cfg.connect_timeout :
	    RDEV_SSH_DEFAULT_TIMEOUT;
	ssh_options_set(s->ss, SSH_OPTIONS_TIMEOUT, &timeout);
	s->keepalive = o->keepalive_interval_s > 0 ? o->keepalive_interval_s :
	    s->cfg.server_alive_interval > 0 ? s->cfg.server_alive_interval :
	    RDEV_SSH_DEFAULT_KEEPALIVE;
	s->batch = o->batch || s->cfg.batch_mode;
	s->ask = o->ask;
	s->ask_arg = o->ask_arg;

	hostname = rdev_ssh_get_option(s->ss, SSH_OPTIONS_HOST);
	if (hostname == NULL)
		hostname = xstrdup(o->host);
	ssh_options_get_port(s->ss, &port);
	user = rdev_ssh_get_option(s->ss, SSH_OPTIONS_USER);
	if (user == NULL)
		user = xstrdup(local_user);
	proxy = rdev_ssh_get_option(s->ss, SSH_OPTIONS_PROXYCOMMAND);
	s->label = xasprintf("%s@%s:%u", user, o->host, port);
	free(s->prefix);
	s->prefix = xasprintf(strchr(hostname, ':') != NULL ?
	    "host %s ([%s]:%u%s%s)" : "host %s (%s:%u%s%s)", o->host, hostname,
	    port, proxy != NULL ? " via " : "", proxy != NULL ? proxy : "");

	if (ssh_connect(s->ss) != SSH_OK) {
		error_set(cause, "%s: cannot connect: %s", s->prefix,
		    ssh_get_error(s->ss));
		goto fail;
	}
	rdev_ssh_tcp_keepalive(s);
	if (rdev_ssh_verify(s, hostname, (int)port, o->accept_new_host_key,
	    cause) != 0)
		goto fail;
	if (rdev_ssh_auth(s, user, hostname, o->auth_sock, cause) != 0)
		goto fail;
	free(local_user);
	free(user);
	free(hostname);
	free(proxy);
	return s;

fail_prefix:
	error_prefix(cause, "%s: ssh config", s->prefix);
fail:
	free(local_user);
	free(user);
	free(hostname);
	free(proxy);
	rdev_ssh_free(s);
	return NULL;
}

void
rdev_ssh_free(struct rdev_ssh *s)
{
	if (s == NULL)
		return;
	if (s->ss != NULL) {
		if (ssh_is_connected(s->ss))
			ssh_disconnect(s->ss);
		ssh_free(s->ss);
	}
	ssh_config_host_clear(&s->cfg);
	free(s->label);
	free(s->prefix);
	free(s->home);
	free(s);
}

ssh_session
rdev_ssh_session(struct rdev_ssh *s)
{
	return s->ss;
}

const char *
rdev_ssh_host_label(const struct rdev_ssh *s)
{
	return s->label;
}

const char *const *
rdev_ssh_notes(const struct rdev_ssh *s, size_t *n)
{
	*n = s->cfg.n_notes;
	return (const char *const *)s->cfg.notes;
}

int
rdev_ssh_keepalive_interval(const struct rdev_ssh *s)
{
	return s->keepalive;
}

/* --- running commands --------------------------------------------------- */

/* Signal names in exit-signal messages (RFC 4254 6.10), for 128 + N. */
static int
rdev_ssh_signal_number(const char *name)
{
	static const struct { const char *name; int sig; } sigs[] = {
		{ "ABRT", SIGABRT }, { "ALRM", SIGALRM }, { "FPE", SIGFPE },
		{ "HUP", SIGHUP }, { "ILL", SIGILL }, { "INT", SIGINT },
		{ "KILL", SIGKILL }, { "PIPE", SIGPIPE }, { "QUIT", SIGQUIT },
		{ "SEGV", SIGSEGV }, { "TERM", SIGTERM }, { "USR1", SIGUSR1 },
		{ "USR2", SIGUSR2 },
	};
	size_t i;

	for (i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
		if (strcmp(name, sigs[i].name) == 0)
			return sigs[i].sig;
	}
	return 0;
}

/* Channel callback: remember an exit signal. */
static void
rdev_ssh_exit_signal_cb(ssh_session session, ssh_channel channel,
    const char *signal, int core, const char *errmsg, const char *lang,
    void *userdata)
{
	int *sig = userdata;

	*sig = rdev_ssh_signal_number(signal);
	if (*sig == 0)
		*sig = -1;
}

/* Drain what the channel has buffered on one stream into b; -1 on error. */
static int
rdev_ssh_drain(ssh_channel ch, int is_stderr, struct buf *b, int *progress)
{
	char chunk[16384];
	int r;

	while ((r = ssh_channel_read_nonblocking(ch, chunk, sizeof chunk,
	    is_stderr)) > 0) {
		if (b != NULL)
			buf_append(b, chunk, (size_t)r);
		*progress = 1;
	}
	return r == SSH_ERROR ? -1 : 0;
}

int
rdev_ssh_run(struct rdev_ssh *s, const char *const *argv,
    const void *stdin_data, size_t stdin_len, char **out, size_t *out_len,
    char **err, int *exit_status, char **cause)
{
	struct ssh_channel_callbacks_struct cb;
	ssh_channel ch;
	ssh_event ev = NULL;
	struct buf *ob = buf_new(), *eb = buf_new();
	const unsigned char *in = stdin_data;
	size_t sent = 0, n;
	char *cmd;
	uint32_t win;
	int rc = -1, sig = 0, progress, eof_sent = 0, w, status;

	cmd = shell_quote_argv(argv, SHELL_QUOTE_ALWAYS);
	if ((ch = ssh_channel_new(s->ss)) == NULL ||
	    ssh_channel_open_session(ch) != SSH_OK) {
		error_set(cause, "%s: cannot open a session channel: %s",
		    s->prefix, ssh_get_error(s->ss));
		goto out;
	}
	memset(&cb, 0, sizeof cb);
	cb.userdata = &sig;
	cb.channel_exit_signal_function = rdev_ssh_exit_signal_cb;
	ssh_callbacks_init(&cb);
	ssh_set_channel_callbacks(ch, &cb);
	if (ssh_channel_request_exec(ch, cmd) != SSH_OK) {
		error_set(cause, "%s: cannot run %s: %s", s->prefix, argv[0],
		    ssh_get_error(s->ss));
		goto out;
	}
	ev = ssh_event_new();
	if (ev == NULL || ssh_event_add_session(ev, s->ss) != SSH_OK)
		fatal("ssh_event_new failed");
	for (;;) {
		progress = 0;
		/* Write only what the window allows, so we never block while
		 * the remote waits for us to read. */
		if (sent < stdin_len) {
			win = ssh_channel_window_size(ch);
			n = stdin_len - sent;
			if (n > win)
				n = win;
			if (n > 32768)
				n = 32768;
			if (n > 0) {
				w = ssh_channel_write(ch, in + sent, (uint32_t)n);
				if (w == SSH_ERROR) {
					error_set(cause, "%s: writing to %s: %s",
					    s->prefix, argv[0], ssh_get_error(s->ss));
					goto out;
				}
				sent += (size_t)w;
				progress = 1;
			}
		}
		if (sent == stdin_len && !eof_sent) {
			ssh_channel_send_eof(ch);
			eof_sent = 1;
		}
		if (rdev_ssh_drain(ch, 0, out != NULL ? ob : NULL, &progress) != 0 ||
		    rdev_ssh_drain(ch, 1, err != NULL ? eb : NULL, &progress) != 0) {
			error_set(cause, "%s: reading from %s: %s", s->prefix,
			    argv[0], ssh_get_error(s->ss));
			goto out;
		}
		if (ssh_channel_is_eof(ch) || ssh_channel_is_closed(ch)) {
			progress = 0;
			if (rdev_ssh_drain(ch, 0, out != NULL ? ob : NULL,
			    &progress) != 0 || rdev_ssh_drain(ch, 1, err != NULL ?
			    eb : NULL, &progress) != 0)
				continue;
			if (!progress)
				break;
			continue;
		}
		if (!progress && ssh_event_dopoll(ev, 1000) == SSH_ERROR &&
		    !ssh_is_connected(s->ss)) {
			error_set(cause, "%s: connection lost while running %s: %s",
			    s->prefix, argv[0], ssh_get_error(s->ss));
			goto out;
		}
		if (!ssh_is_connected(s->ss)) {
			error_set(cause, "%s: connection lost while running %s",
			    s->prefix, argv[0]);
			goto out;
		}
	}
	status = ssh_channel_get_exit_status(ch);
	if (status < 0 || status > 255)
		status = sig > 0 ? 128 + sig : 255;
	*exit_status = status;
	if (out != NULL)
		*out = buf_take_string(ob, out_len);
	if (err != NULL)
		*err = buf_take_string(eb, NULL);
	rc = 0;
out:
	if (ev != NULL) {
		ssh_event_remove_session(ev, s->ss);
		ssh_event_free(ev);
	}
	if (ch != NULL) {
		if (ssh_channel_is_open(ch))
			ssh_channel_close(ch);
		ssh_channel_free(ch);
	}
	buf_free(ob);
	buf_free(eb);
	free(cmd);
	return rc;
}

int
rdev_ssh_peer_acking(struct rdev_ssh *s)
{
	struct tcp_info ti;
	socklen_t len = sizeof ti;
	int fd = ssh_get_fd(s->ss);

	/* Bytes in flight and an ACK within the interval: the peer's kernel
	 * takes our data. A hung peer stops reading, its window closes and
	 * nothing stays in flight (window probes carry no new data). */
	memset(&ti, 0, sizeof ti);
	if (fd < 0 || getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0)
		return 0;
	return ti.tcpi_unacked > 0 && ti.tcpi_last_ack_recv < (uint32_t)s->keepalive * 1000;
}

int
rdev_ssh_keepalive(struct rdev_ssh *s, char **cause)
{
	int count = s->cfg.server_alive_count_max > 1 ? s->cfg.server_alive_count_max : 2;
	long timeout = (long)s->keepalive * (count - 1);
	ssh_channel ch;
	int rc;

	/*
	 * libssh 0.10's ssh_send_keepalive() discards the outcome, so ask for
	 * something the server must answer: opening a session channel is
	 * answered (confirmed or refused) by every sshd, and a dead or hung
	 * peer makes it time out.
	 */
	ssh_options_set(s->ss, SSH_OPTIONS_TIMEOUT, &timeout);
	if (!ssh_is_connected(s->ss))
		return error_set(cause, "%s: connection lost", s->prefix);
	ch = ssh_channel_new(s->ss);
	if (ch == NULL)
		return error_set(cause, "%s: connection lost", s->prefix);
	rc = ssh_channel_open_session(ch);
	if (rc == SSH_OK)
		ssh_channel_close(ch);
	ssh_channel_free(ch);
	if (rc == SSH_OK || (rc == SSH_ERROR && ssh_is_connected(s->ss) &&
	    ssh_get_error_code(s->ss) == SSH_REQUEST_DENIED))
		return 0;
	return error_set(cause, "%s: no answer to keepalive within %ld s (peer "
	    "dead or hung): %s", s->prefix, timeout, ssh_get_error(s->ss));
}
