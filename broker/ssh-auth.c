/* ssh-auth.c - authenticate an SSH session: none, ssh-agent, identity files,
 * keyboard-interactive, password, with prompts through the caller or the
 * terminal, and a failure message that says what was tried (ssh-session.h,
 * step 4). */
#include "ssh-session-internal.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "buf.h"
#include "error.h"
#include "ssh-agent-filter.h"
#include "tty-prompt.h"
#include "xmalloc.h"

/* What authentication tried, for the failure message. */
struct rdev_ssh_auth {
	struct buf *files;     /* "~/.ssh/id_ed25519 (not accepted), ..." */
	char *agent;	       /* "agent: 2 keys" */
	int skipped_publickey; /* not in PreferredAuthentications */
	int tried_kbdint, tried_password;
};

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
rdev_ssh_passphrase_cb(
    const char *prompt, char *buf, size_t len, int echo, int verify, void *userdata)
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
rdev_ssh_auth_file(
    struct rdev_ssh *s, struct rdev_ssh_auth *a, const char *path, const char *what)
{
	char *t = rdev_ssh_tilde(s->home, path);

	buf_appendf(a->files, "%s%s%s%s", buf_len(a->files) ? ", " : "", t,
	    *what ? " " : "", what);
	free(t);
}

/* Try one identity file: 1 authenticated, 2 partial, 0 not. */
static int
rdev_ssh_auth_one_file(
    struct rdev_ssh *s, struct rdev_ssh_auth *a, const char *path, int is_default)
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
		rdev_ssh_auth_file(s, a, path,
		    s->ask_refused || !rdev_ssh_can_ask(s)
			? "(unreadable, or encrypted and no terminal to ask for its "
			  "passphrase: run rdev from a terminal, or add the key to "
			  "ssh-agent with ssh-add)"
			: "(unreadable or wrong passphrase)");
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

/* libssh's passphrase callback when nobody may be asked. */
static int
rdev_ssh_no_passphrase_cb(
    const char *prompt, char *buf, size_t len, int echo, int verify, void *userdata)
{
	return -1;
}

/* The public key blob of identity file path, as the agent lists it: from
 * path.pub, else from the file (unencrypted). NULL when neither gives it;
 * the caller frees. */
static unsigned char *
rdev_ssh_file_blob(const char *path, size_t *len)
{
	ssh_key pub = NULL, priv = NULL;
	char *pubpath = xasprintf("%s.pub", path), *b64 = NULL;
	unsigned char *blob = NULL;
	size_t max;

	if (ssh_pki_import_pubkey_file(pubpath, &pub) != SSH_OK) {
		pub = NULL;
		if (ssh_pki_import_privkey_file(
			path, NULL, rdev_ssh_no_passphrase_cb, NULL, &priv) == SSH_OK &&
		    ssh_pki_export_privkey_to_pubkey(priv, &pub) != SSH_OK)
			pub = NULL;
		ssh_key_free(priv);
	}
	free(pubpath);
	if (pub == NULL || ssh_pki_export_pubkey_base64(pub, &b64) != SSH_OK) {
		ssh_key_free(pub);
		return NULL;
	}
	ssh_key_free(pub);
	max = strlen(b64);
	blob = xmalloc(max + 1);
	if (sodium_base642bin(blob, max, b64, strlen(b64), NULL, len, NULL,
		sodium_base64_VARIANT_ORIGINAL) != 0) {
		free(blob);
		blob = NULL;
	}
	ssh_string_free_char(b64);
	return blob;
}

/* IdentitiesOnly yes with an agent at sock: as OpenSSH, the agent signs
 * with the keys of the identity files listed (paths), matched by public
 * key, and offers no other (ssh-agent-filter.h). 1 authenticated, 2
 * partial, 0 not; a->agent says what was done. */
static int
rdev_ssh_auth_agent_listed(struct rdev_ssh *s, struct rdev_ssh_auth *a, const char *sock,
    char *const *paths, size_t npaths)
{
	struct ssh_agent_filter *f;
	unsigned char **blobs = xcalloc(npaths + 1, sizeof *blobs);
	size_t *lens = xcalloc(npaths + 1, sizeof *lens), n = 0, i;
	char *cause = NULL;
	int fd, rc = SSH_AUTH_DENIED, kept, total;

	for (i = 0; i < npaths; i++) {
		if ((blobs[n] = rdev_ssh_file_blob(paths[i], &lens[n])) != NULL)
			n++;
	}
	if (n == 0) {
		a->agent = xstrdup("agent: not used (IdentitiesOnly yes, and no "
				   "listed key's public key is known: put KEY.pub "
				   "beside it)");
		goto out;
	}
	if ((f = ssh_agent_filter_start(sock, (const unsigned char *const *)blobs, lens,
		 n, &fd, &cause)) == NULL) {
		a->agent = xasprintf("agent: not reachable at %s", sock);
		free(cause);
		goto out;
	}
	/* (libssh owns fd now: closed at ssh_free) */
	if (ssh_set_agent_socket(s->ss, fd) != SSH_OK)
		close(fd);
	else
		rc = ssh_userauth_agent(s->ss, NULL);
	ssh_agent_filter_stop(f, &kept, &total);
	if (total < 0)
		a->agent = xstrdup("agent: not asked (IdentitiesOnly yes)");
	else
		a->agent = xasprintf("agent: %d of its %d key%s listed by "
				     "IdentityFile (IdentitiesOnly yes)",
		    kept, total, total == 1 ? "" : "s");
out:
	for (i = 0; i < n; i++)
		free(blobs[i]);
	free(blobs);
	free(lens);
	return rc == SSH_AUTH_SUCCESS ? 1 : rc == SSH_AUTH_PARTIAL ? 2 : 0;
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
			if (rdev_ssh_ask(s, prompt_line, answer, sizeof answer, echo) !=
			    0) {
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

/* Note the method that worked (and its key file or agent socket, shown
 * with ~) in s's report, when asked for one. */
static void
rdev_ssh_auth_used(struct rdev_ssh *s, const char *method, const char *where)
{
	char *t;

	if (s->report == NULL)
		return;
	if (where == NULL) {
		snprintf(s->report->auth, sizeof s->report->auth, "%s", method);
		return;
	}
	t = rdev_ssh_tilde(s->home, where);
	snprintf(s->report->auth, sizeof s->report->auth, "%s %s", method, t);
	free(t);
}

/* Authenticate as user: agent, identity files, then the terminal
 * (keyboard-interactive, password); with PreferredAuthentications, only the
 * methods it lists, in its order. */
int
rdev_ssh_auth(struct rdev_ssh *s, const char *user, const char *hostname,
    const char *auth_sock, char **cause)
{
	struct rdev_ssh_auth a = { buf_new(), NULL, 0, 0, 0 };
	const int rdev_order[] = { SSH_CONFIG_AUTH_PUBLICKEY, SSH_CONFIG_AUTH_KBDINT,
		SSH_CONFIG_AUTH_PASSWORD };
	/* PreferredAuthentications: its methods only, in its order */
	const int *order = s->cfg.auth_order_set ? s->cfg.auth_order : rdev_order;
	size_t n_order = s->cfg.auth_order_set ? s->cfg.n_auth_order : 3;
	const char *defaults[] = { "id_rsa", "id_ecdsa", "id_ed25519" };
	const char *sock = s->cfg.identity_agent != NULL ? s->cfg.identity_agent
	    : auth_sock != NULL				 ? auth_sock
							 : getenv("SSH_AUTH_SOCK");
	char *allowed, *files, *path, *defpaths[3] = { NULL, NULL, NULL };
	char *const *listed;
	size_t nlisted;
	int rc, methods, before, n, tty, done = 0, publickey_done = 0;
	size_t i, k;

	rc = ssh_userauth_none(s->ss, NULL);
	if (rc == SSH_AUTH_SUCCESS) {
		rdev_ssh_auth_used(s, "none", NULL);
		goto ok;
	}
	if (rc == SSH_AUTH_ERROR) {
		error_set(cause, "%s: authentication failed: %s", s->prefix,
		    ssh_get_error(s->ss));
		goto out;
	}
	methods = ssh_userauth_list(s->ss, NULL);
	tty = rdev_ssh_can_ask(s);
	a.skipped_publickey = 1;
	for (k = 0; k < n_order; k++)
		if (order[k] == SSH_CONFIG_AUTH_PUBLICKEY)
			a.skipped_publickey = 0;

	/* (a partial success changes what the server allows: the order is
	 * started over, each method tried once (so at most three passes), as
	 * OpenSSH's authmethod_get
	 * "start over, passed a different list": key then OTP with
	 * keyboard-interactive first in PreferredAuthentications) */
	for (k = 0; k < n_order; k++) {
		before = methods;
		if (order[k] == SSH_CONFIG_AUTH_PUBLICKEY && !publickey_done &&
		    (methods & SSH_AUTH_METHOD_PUBLICKEY)) {
			if (s->cfg.identities_only && sock != NULL && *sock != '\0' &&
			    strcmp(sock, "none") != 0) {
				listed = s->cfg.identity_files;
				nlisted = s->cfg.n_identity_files;
				if (nlisted == 0) {
					for (i = 0; i < 3; i++)
						defpaths[i] = xasprintf(
						    "%s/.ssh/%s", s->home, defaults[i]);
					listed = defpaths;
					nlisted = 3;
				}
				rc = rdev_ssh_auth_agent_listed(
				    s, &a, sock, listed, nlisted);
				for (i = 0; i < 3; i++)
					free(defpaths[i]);
				if (rc == 1) {
					rdev_ssh_auth_used(
					    s, "publickey via ssh-agent", sock);
					goto ok;
				}
				if (rc == 2)
					methods = ssh_userauth_list(s->ss, NULL);
			} else if (s->cfg.identities_only)
				a.agent = xstrdup("agent: not used (IdentitiesOnly yes)");
			else if (sock == NULL || *sock == '\0')
				a.agent = xstrdup("agent: none (SSH_AUTH_SOCK unset)");
			else if (strcmp(sock, "none") == 0)
				a.agent = xstrdup("agent: none (IdentityAgent none)");
			else if ((n = rdev_ssh_agent_count(sock)) < 0)
				a.agent = xasprintf("agent: not reachable at %s", sock);
			else {
				a.agent =
				    xasprintf("agent: %d key%s", n, n == 1 ? "" : "s");
				/* libssh would take $SSH_AUTH_SOCK: the broker's, which
				 * may be unset or stale; the socket counted is the one.
				 */
				ssh_options_set(s->ss, SSH_OPTIONS_IDENTITY_AGENT, sock);
				if (n > 0) {
					rc = ssh_userauth_agent(s->ss, NULL);
					if (rc == SSH_AUTH_SUCCESS) {
						rdev_ssh_auth_used(
						    s, "publickey via ssh-agent", sock);
						goto ok;
					}
					if (rc == SSH_AUTH_PARTIAL)
						methods = ssh_userauth_list(s->ss, NULL);
				}
			}
			for (i = 0; i < s->cfg.n_identity_files && !done; i++) {
				rc = rdev_ssh_auth_one_file(
				    s, &a, s->cfg.identity_files[i], 0);
				if (rc == 1) {
					rdev_ssh_auth_used(s, "publickey with key file",
					    s->cfg.identity_files[i]);
					goto ok;
				}
				if (rc == 2)
					methods = ssh_userauth_list(s->ss, NULL);
			}
			if (s->cfg.n_identity_files == 0) {
				for (i = 0; i < sizeof defaults / sizeof defaults[0];
				     i++) {
					path =
					    xasprintf("%s/.ssh/%s", s->home, defaults[i]);
					rc = rdev_ssh_auth_one_file(s, &a, path, 1);
					if (rc == 1)
						rdev_ssh_auth_used(
						    s, "publickey with key file", path);
					free(path);
					if (rc == 1)
						goto ok;
					if (rc == 2)
						methods = ssh_userauth_list(s->ss, NULL);
				}
			}
			publickey_done = 1;
		} else if (order[k] == SSH_CONFIG_AUTH_KBDINT && !a.tried_kbdint &&
		    (methods & SSH_AUTH_METHOD_INTERACTIVE) && tty) {
			a.tried_kbdint = 1;
			if (rdev_ssh_auth_kbdint(s)) {
				rdev_ssh_auth_used(s, "keyboard-interactive", NULL);
				goto ok;
			}
			/* (a partial success: OTP first, then the key) */
			methods = ssh_userauth_list(s->ss, NULL);
		} else if (order[k] == SSH_CONFIG_AUTH_PASSWORD && !a.tried_password &&
		    (methods & SSH_AUTH_METHOD_PASSWORD) && tty) {
			a.tried_password = 1;
			if (rdev_ssh_auth_password(s, user, hostname)) {
				rdev_ssh_auth_used(s, "password", NULL);
				goto ok;
			}
			methods = ssh_userauth_list(s->ss, NULL);
		}
		if (methods != before)
			k = (size_t)-1; /* (the loop's k++: from the first) */
	}

	allowed = rdev_ssh_methods(methods);
	files = buf_take_string(a.files, NULL);
	error_set(cause,
	    "%s: authentication failed as user %s; tried: "
	    "%s%s%s%s%s%s%s; server allows: %s%s%s",
	    s->prefix, user,
	    a.skipped_publickey ? "no key (publickey not tried" : "publickey (",
	    a.skipped_publickey	  ? ""
		: a.agent != NULL ? a.agent
				  : "agent: not offered by the server",
	    a.skipped_publickey ? "" : "; files: ",
	    a.skipped_publickey ? ")"
		: *files	? files
				: "none found",
	    a.skipped_publickey ? "" : ")",
	    a.tried_kbdint ? ", keyboard-interactive" : "",
	    a.tried_password ? ", password" : "", allowed,
	    !tty && (methods & (SSH_AUTH_METHOD_INTERACTIVE | SSH_AUTH_METHOD_PASSWORD))
		? (s->batch ? " (no prompts in batch "
			      "mode)"
			    : " (no terminal to ask for a password)")
		: "",
	    s->cfg.auth_order_set ? " (PreferredAuthentications limits what "
				    "rdev tries)"
				  : "");
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
