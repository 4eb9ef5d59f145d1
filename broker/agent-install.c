/* agent-install.c - put the rdev-agent bundle on a host: the probe, the
 * pre-flight, the upload checked where it landed and renamed into place, the
 * check before each start (agent-install.h). The bundle itself:
 * agent-bundle.c; sending its files: agent-upload.c. */
#include "agent-install-internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "atomic-file.h"
#include "buf.h"
#include "error.h"
#include "shell-quote.h"
#include "ssh-session.h"
#include "xmalloc.h"

#define AGENT_UPLOAD_TRIES 2
#define AGENT_RENAME_TRIES 4

struct agent_install_test_hooks agent_test_hooks;

void
agent_install_set_test_hooks(const struct agent_install_test_hooks *h)
{
	if (h == NULL)
		memset(&agent_test_hooks, 0, sizeof agent_test_hooks);
	else
		agent_test_hooks = *h;
}

/* The fast path: what is on the host. $1 the install dir's name
 * (<version>-<hash prefix>), $2 our bundle hash, $3 the `b2sum -c` list of
 * our files (MANIFEST included; an argument, not stdin: stdin data then EOF
 * as two small writes costs a Nagle/delayed-ACK wait). When the installed
 * bundle.hash is ours, one b2sum re-hashes every installed file against it
 * (rdev-agent-check, which also runs rdev-agent, costs ~10 processes: it is
 * only the fallback for a host without b2sum). Few processes on purpose, as
 * this runs at the start of every broker session: `uname -sm` comes from
 * /proc/sys/kernel/{ostype,arch} (Linux >= 6.1) when it can, with the shell's
 * own `read`, so a good install costs sh and one b2sum. */
static const char agent_probe_script[] =
    "d=$HOME/.rdev/agent/$1\n"
    "if read -r os </proc/sys/kernel/ostype && read -r m </proc/sys/kernel/arch; then\n"
    "  u=\"$os $m\"\n"
    "else\n"
    "  u=$(uname -sm 2>/dev/null)\n"
    "fi 2>/dev/null\n"
    "printf 'home: %s\\nuname: %s\\n' \"$HOME\" \"$u\"\n"
    "[ -e \"$d\" ] || [ -L \"$d\" ] || exit 0\n"
    "echo 'present: yes'\n"
    "h=\n"
    "[ -f \"$d/bundle.hash\" ] && read -r h _ <\"$d/bundle.hash\"\n"
    "printf 'hash: %.64s\\n' \"$h\"\n"
    "[ \"$h\" = \"$2\" ] || exit 0\n"
    "cd \"$d\" || exit 0\n"
    "if command -v b2sum >/dev/null 2>&1; then\n"
    "  out=$(b2sum -l 256 -c --quiet 2>&1 <<EOF\n$3\nEOF\n) && { echo 'check: 0 ok: "
    "hashes checked'; exit 0; }\n"
    "  rc=2\n"
    "else\n"
    "  out=$(sh ./rdev-agent-check 2>&1 </dev/null)\n"
    "  rc=$?\n"
    "fi\n"
    "printf 'check: %s %s\\n' \"$rc\" \"$(printf '%s' \"$out\" | tr '\\n' ' ')\"\n";

/* Before a new agent process starts: $1 the install dir, $2 our bundle hash,
 * $3 our `b2sum -c` list. The installed files are checked against the
 * broker's own hashes (b2sum, when the host has it), so an install whose
 * MANIFEST was rewritten along with a file is caught too, and only then is
 * the installed rdev-agent-check run (hashes against MANIFEST, then
 * rdev-agent --version). Exit 2 and one stderr line: damaged or changed. */
#define AGENT_VERIFY_INSTALLED_BODY \
	"cd \"$1\" 2>/dev/null || { echo \"no directory $1\" >&2; exit 2; }\n" \
	"h=\n" \
	"[ -f bundle.hash ] && read -r h _ <bundle.hash\n" \
	"[ \"$h\" = \"$2\" ] || { printf 'its bundle.hash is %.16s, want %.16s\\n' " \
	"\"${h:-none}\" \"$2\" >&2; exit 2; }\n" \
	"if command -v b2sum >/dev/null 2>&1; then\n" \
	"  out=$(b2sum -l 256 -c --quiet 2>&1 <<EOF\n$3\nEOF\n) || " \
	"{ printf '%s' \"$out\" | tr '\\n' ' ' >&2; exit 2; }\n" \
	"fi\n" \
	"out=$(sh ./rdev-agent-check 2>&1 </dev/null)\n" \
	"rc=$?\n" \
	"[ $rc -eq 0 ] || printf '%s' \"$out\" | tr '\\n' ' ' >&2\n" \
	"exit $rc\n"

static const char agent_verify_installed_script[] = AGENT_VERIFY_INSTALLED_BODY;

/* The same check in a subshell, then the agent serves ($4: --listen's id):
 * one login shell for both. */
static const char agent_verify_then_serve_script[] =
    "(\n" AGENT_VERIFY_INSTALLED_BODY ")\n"
    "rc=$?\n"
    "[ $rc -eq 0 ] || exit $rc\n"
    "exec \"$1/rdev-agent\" serve --listen \"$4\"\n";

/* Pre-flight: $1 KiB needed; stdin is rdev-agent-check. Also removes
 * leftovers of interrupted installs older than an hour. */
static const char agent_preflight_script[] =
    "d=$HOME/.rdev/agent\n"
    "err=$(mkdir -p \"$d\" 2>&1) || { echo \"cannot create $d: ${err##*: }\" >&2; exit "
    "3; }\n"
    "[ -w \"$d\" ] || { echo \"cannot write to $d (permission denied)\" >&2; exit 3; }\n"
    "sh -s -- --host-only >/dev/null || exit $?\n"
    "find \"$d\" -mindepth 1 -maxdepth 1 \\( -name '.*.tmp.*' -o -name '.*.old.*' \\) "
    "-mmin +60 -exec rm -rf {} + 2>/dev/null\n"
    "avail=$(df -Pk \"$d\" 2>/dev/null | awk 'NR == 2 { print $4 }')\n"
    "case $avail in\n"
    "''|*[!0-9]*) ;;\n"
    "*) if [ \"$avail\" -lt \"$1\" ]; then\n"
    "     echo \"no space left: $d has $avail KiB free, rdev-agent needs $1 KiB\" >&2\n"
    "     exit 4\n"
    "   fi ;;\n"
    "esac\n"
    "exit 0\n";

/* Check an upload where it landed ($1); remove it unless it is good. */
static const char agent_verify_script[] = "out=$(sh \"$1/rdev-agent-check\" 2>&1)\n"
					  "rc=$?\n"
					  "[ $rc -eq 0 ] || rm -rf -- \"$1\"\n"
					  "printf '%s\\n' \"$out\" | tr '\\n' ' '\n"
					  "exit $rc\n";

struct agent_probe {
	char *os, *arch, *home, *hash;
	int present;
	int check_rc; /* -1: not run */
	char *check_out;
};

static void
agent_probe_clear(struct agent_probe *p)
{
	free(p->os);
	free(p->arch);
	free(p->home);
	free(p->hash);
	free(p->check_out);
	memset(p, 0, sizeof *p);
	p->check_rc = -1;
}

/* Trim trailing white space in place. */
char *
agent_trim(char *s)
{
	size_t n = strlen(s);

	while (n > 0 && strchr(" \t\r\n", s[n - 1]) != NULL)
		s[--n] = '\0';
	return s;
}

/* Run one remote command (argv) with optional stdin; on success *out and *err
 * are owned by the caller. */
static int
agent_run(struct rdev_ssh *s, const char *const *argv, const char *in, char **out,
    char **err, int *status, char **cause)
{
	size_t len;

	*out = *err = NULL;
	return rdev_ssh_run(
	    s, argv, in, in != NULL ? strlen(in) : 0, out, &len, err, status, cause);
}

/* Our files as a `b2sum -l 256 -c` list (bundle.hash left out: it is
 * compared on its own). The caller frees it. */
static char *
agent_hash_list(const struct agent_bundle *b)
{
	char hex[AGENT_HASH_LEN * 2 + 1], *list;
	struct buf *lb = buf_new();
	size_t i;

	for (i = 0; i < b->nfiles; i++) {
		if (strcmp(b->files[i].name, "bundle.hash") == 0)
			continue;
		sodium_bin2hex(hex, sizeof hex, b->files[i].hash, AGENT_HASH_LEN);
		buf_appendf(lb, "%s%s  %s", i > 0 ? "\n" : "", hex, b->files[i].name);
	}
	list = buf_take_string(lb, NULL);
	buf_free(lb);
	return list;
}

/* The fast-path round trip. */
static int
agent_probe(
    struct rdev_ssh *s, const struct agent_bundle *b, struct agent_probe *p, char **cause)
{
	char *out, *err, *line, *next, *v, *sp, *list;
	int status, rc;

	agent_probe_clear(p);
	list = agent_hash_list(b);
	{
		const char *argv[] = { "sh", "-c", agent_probe_script, "rdev-agent-probe",
			b->install_name, b->hash_hex, list, NULL };

		rc = agent_run(s, argv, NULL, &out, &err, &status, cause);
	}
	free(list);
	if (rc != 0)
		return -1;
	if (status != 0) {
		error_set(cause,
		    "host %s: probing for rdev-agent failed (exit %d): "
		    "%s",
		    rdev_ssh_host_label(s), status, agent_trim(err));
		free(out);
		free(err);
		return -1;
	}
	for (line = out; line != NULL && *line != '\0'; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if ((v = strstr(line, ": ")) == NULL)
			continue;
		*v = '\0';
		v += 2;
		if (strcmp(line, "uname") == 0 && p->os == NULL) {
			if ((sp = strchr(v, ' ')) != NULL) {
				p->os = xstrndup(v, (size_t)(sp - v));
				p->arch = xstrdup(sp + 1);
			} else
				p->os = xstrdup(v);
		} else if (strcmp(line, "home") == 0 && p->home == NULL)
			p->home = xstrdup(v);
		else if (strcmp(line, "present") == 0)
			p->present = 1;
		else if (strcmp(line, "hash") == 0 && p->hash == NULL)
			p->hash = xstrdup(v);
		else if (strcmp(line, "check") == 0 && p->check_out == NULL) {
			p->check_rc = atoi(v);
			sp = strchr(v, ' ');
			p->check_out = xstrdup(agent_trim(sp != NULL ? sp + 1 : ""));
		}
	}
	free(out);
	free(err);
	if (p->os == NULL || *p->os == '\0')
		return error_set(cause,
		    "host %s: `uname -sm` printed nothing "
		    "(not a POSIX host?)",
		    rdev_ssh_host_label(s));
	if (p->home == NULL || p->home[0] != '/')
		return error_set(cause,
		    "host %s: $HOME is not an absolute path "
		    "('%s')",
		    rdev_ssh_host_label(s), p->home != NULL ? p->home : "");
	return 0;
}

/* Is the probed install ours and good? */
static int
agent_probe_good(const struct agent_probe *p, const struct agent_bundle *b)
{
	return p->present && p->hash != NULL && strcmp(p->hash, b->hash_hex) == 0 &&
	    p->check_rc == 0 && strncmp(p->check_out, "ok", 2) == 0;
}

void
agent_progress(void (*progress)(void *, const char *), void *arg, const char *fmt, ...)
{
	va_list ap;
	char *line;

	if (progress == NULL)
		return;
	va_start(ap, fmt);
	line = xvasprintf(fmt, ap);
	va_end(ap);
	progress(arg, line);
	free(line);
}

/* A random hex suffix for temporary names. */
static void
agent_random_hex(char out[17])
{
	unsigned char r[8];

	randombytes_buf(r, sizeof r);
	sodium_bin2hex(out, 17, r, sizeof r);
}

/* Best effort: rm -rf the given remote paths. */
static void
agent_remove(struct rdev_ssh *s, const char *a, const char *b2)
{
	const char *argv[] = { "rm", "-rf", "--", a, b2, NULL };
	char *out = NULL, *err = NULL;
	int status;

	if (a == NULL)
		return;
	if (agent_run(s, argv, NULL, &out, &err, &status, NULL) == 0) {
		free(out);
		free(err);
	}
}

/* Upload into a new temporary dir and check it there, uploading once more if
 * it arrived damaged. On success *tmp_out is the checked dir. */
static int
agent_upload_checked(struct agent_xfer *x, const struct agent_bundle *b, const char *base,
    char **tmp_out, void (*progress)(void *, const char *), void *arg, char **cause)
{
	struct rdev_ssh *s = x->s;
	const char *label = rdev_ssh_host_label(s);
	char rnd[17], *tmp, *out, *err;
	int attempt, status;

	for (attempt = 1; attempt <= AGENT_UPLOAD_TRIES; attempt++) {
		agent_random_hex(rnd);
		tmp = xasprintf("%s/.%s.tmp.%s", base, b->install_name, rnd);
		if (agent_upload(x, b, tmp, cause) != 0) {
			agent_remove(s, tmp, NULL);
			free(tmp);
			return -1;
		}
		{
			const char *argv[] = { "sh", "-c", agent_verify_script,
				"rdev-agent-verify", tmp, NULL };

			if (agent_run(s, argv, NULL, &out, &err, &status, cause) != 0) {
				agent_remove(s, tmp, NULL);
				free(tmp);
				return -1;
			}
		}
		agent_trim(out);
		if (status == 0) {
			free(out);
			free(err);
			*tmp_out = tmp;
			return 0;
		}
		free(tmp);
		if (status == 2 && attempt < AGENT_UPLOAD_TRIES) {
			agent_progress(progress, arg,
			    "rdev-agent upload to %s "
			    "arrived damaged (%s); uploading again",
			    label, out);
			free(out);
			free(err);
			continue;
		}
		if (status == 2)
			error_set(cause,
			    "host %s: the rdev-agent upload arrived "
			    "damaged %d times: %s",
			    label, attempt, out);
		else if (status == 1)
			error_set(cause, "host %s: cannot run rdev-agent %s: %s", label,
			    b->version, out);
		else
			error_set(cause,
			    "host %s: checking the uploaded rdev-agent "
			    "failed (exit %d): %s %s",
			    label, status, out, agent_trim(err));
		free(out);
		free(err);
		return -1;
	}
	fatal("not reached");
}

/* Rename the checked upload into place, handling a name already taken by a
 * racing broker (good: keep theirs) or by a damaged install (move it
 * aside). */
static int
agent_rename_into_place(struct agent_xfer *x, const struct agent_bundle *b,
    const char *base, const char *tmp, const char *final, char **cause)
{
	struct rdev_ssh *s = x->s;
	struct agent_probe p;
	char rnd[17], *aside = NULL, *why = NULL;
	int try, rc = -1, absent = 0;

	memset(&p, 0, sizeof p);
	for (try = 0; try < AGENT_RENAME_TRIES; try++) {
		if (agent_test_hooks.before_rename != NULL)
			agent_test_hooks.before_rename(agent_test_hooks.arg);
		free(why);
		why = NULL;
		if (agent_xfer_rename(x, tmp, final, &why) == 0) {
			rc = 0;
			break;
		}
		if (agent_probe(s, b, &p, cause) != 0)
			break;
		if (agent_probe_good(&p, b)) {
			/* Another broker installed the same bundle first. */
			agent_remove(s, tmp, NULL);
			tmp = NULL;
			rc = 0;
			break;
		}
		if (!p.present) {
			/* A racing broker moved a damaged copy aside between
			 * our rename and our look: try again, once. */
			if (absent++ == 0)
				continue;
			error_set(cause, "%s", why);
			break;
		}
		/* Damaged: move it aside (a racing broker may do the same;
		 * then the rename is simply tried again). */
		if (aside != NULL)
			agent_remove(s, aside, NULL);
		free(aside);
		agent_random_hex(rnd);
		aside = xasprintf("%s/.%s.old.%s", base, b->install_name, rnd);
		if (agent_xfer_rename(x, final, aside, NULL) != 0) {
			free(aside);
			aside = NULL;
		}
	}
	if (rc != 0 && try == AGENT_RENAME_TRIES)
		error_set(cause,
		    "host %s: cannot rename %s into place after %d "
		    "tries (another installer keeps changing it?)",
		    rdev_ssh_host_label(s), final, try);
	if (rc != 0)
		agent_remove(s, tmp, aside);
	else
		agent_remove(s, aside, NULL);
	free(aside);
	free(why);
	agent_probe_clear(&p);
	return rc;
}

/* The pre-flight exec: can the host run the bundle, is there room. */
static int
agent_preflight(struct rdev_ssh *s, const struct agent_bundle *b, char **cause)
{
	const char *label = rdev_ssh_host_label(s);
	char need[32], *check = NULL, *path, *out, *err;
	size_t len;
	int status, rc = -1;

	/* Room for the new copy twice over (one may be moved aside). */
	snprintf(
	    need, sizeof need, "%llu", (unsigned long long)(b->size * 2 / 1024 + 1024));
	path = xasprintf("%s/rdev-agent-check", b->dir);
	if (file_read_all(path, AGENT_MANIFEST_MAX, &check, &len, cause) != 0) {
		free(path);
		return error_prefix(cause, "agent bundle %s", b->dir);
	}
	free(path);
	{
		const char *argv[] = { "sh", "-c", agent_preflight_script,
			"rdev-agent-preflight", need, NULL };

		if (agent_run(s, argv, check, &out, &err, &status, cause) != 0) {
			free(check);
			return -1;
		}
	}
	free(check);
	agent_trim(err);
	switch (status) {
	case 0: rc = 0; break;
	case 1:
		error_set(cause, "host %s: cannot run rdev-agent %s: %s", label,
		    b->version, err);
		break;
	case 3:
	case 4:
		error_set(cause, "host %s: cannot install rdev-agent: %s", label, err);
		break;
	default:
		error_set(cause,
		    "host %s: the rdev-agent pre-flight check failed "
		    "(exit %d): %s",
		    label, status, err);
		break;
	}
	free(out);
	free(err);
	return rc;
}

int
agent_install_ensure(struct rdev_ssh *s, const struct agent_bundle *b, char **agent_path,
    void (*progress)(void *arg, const char *line), void *arg, char **cause)
{
	const char *label = rdev_ssh_host_label(s);
	struct agent_probe p;
	struct agent_xfer x = { 0 };
	char *base = NULL, *final = NULL, *tmp = NULL, mb[32];
	int rc = -1;

	*agent_path = NULL;
	memset(&p, 0, sizeof p);
	if (agent_probe(s, b, &p, cause) != 0)
		goto out;
	if (strcasecmp(p.os, b->os) != 0 || p.arch == NULL ||
	    strcmp(p.arch, b->arch) != 0) {
		error_set(cause,
		    "host %s: this host is %s/%s; the rdev-agent "
		    "bundle is for %s/%s (rdev needs a Linux Docker host of the "
		    "bundle's architecture)",
		    label, p.os, p.arch != NULL ? p.arch : "unknown", "Linux", b->arch);
		goto out;
	}
	base = xasprintf("%s/.rdev/agent", p.home);
	final = xasprintf("%s/%s", base, b->install_name);
	if (agent_probe_good(&p, b)) {
		rc = 0;
		goto out;
	}

	snprintf(mb, sizeof mb, "%.1f MB", (double)b->size / 1e6);
	if (!p.present)
		agent_progress(progress, arg, "installing rdev-agent %s on %s (%s)",
		    b->version, label, mb);
	else if (p.hash == NULL || strcmp(p.hash, b->hash_hex) != 0)
		agent_progress(progress, arg,
		    "warning: rdev-agent %s on %s was "
		    "changed or damaged after it was installed (its bundle.hash "
		    "is %.16s, want %.16s); installing it again (%s)",
		    b->version, label,
		    p.hash != NULL && *p.hash != '\0' ? p.hash : "none", b->hash_hex, mb);
	else
		agent_progress(progress, arg,
		    "warning: rdev-agent %s on %s was "
		    "changed or damaged after it was installed (%s); installing "
		    "it again (%s)",
		    b->version, label,
		    p.check_out != NULL && *p.check_out != '\0'
			? p.check_out
			: "rdev-agent-check failed",
		    mb);

	if (agent_preflight(s, b, cause) != 0)
		goto out;
	agent_xfer_open(&x, s, progress, arg);
	if (agent_upload_checked(&x, b, base, &tmp, progress, arg, cause) != 0)
		goto out;
	if (agent_rename_into_place(&x, b, base, tmp, final, cause) != 0)
		goto out;
	rc = 0;
out:
	if (rc == 0)
		*agent_path = xasprintf("%s/rdev-agent", final);
	agent_xfer_close(&x);
	free(tmp);
	free(base);
	free(final);
	agent_probe_clear(&p);
	return rc;
}

int
agent_install_verify(struct rdev_ssh *s, const struct agent_bundle *b,
    const char *agent_path, char **cause)
{
	const char *label = rdev_ssh_host_label(s);
	static const char suffix[] = "/rdev-agent";
	char *dir, *list, *out, *err;
	size_t n = strlen(agent_path);
	int status, rc;

	if (n <= sizeof suffix - 1 ||
	    strcmp(agent_path + n - (sizeof suffix - 1), suffix) != 0)
		return error_set(cause,
		    "host %s: %s is not an installed "
		    "rdev-agent",
		    label, agent_path);
	dir = xstrndup(agent_path, n - (sizeof suffix - 1));
	list = agent_hash_list(b);
	{
		const char *argv[] = { "sh", "-c", agent_verify_installed_script,
			"rdev-agent-verify", dir, b->hash_hex, list, NULL };

		rc = agent_run(s, argv, NULL, &out, &err, &status, cause);
	}
	free(list);
	if (rc != 0) {
		free(dir);
		return -1;
	}
	agent_trim(err);
	if (status == 0)
		rc = 0;
	else if (status == 2)
		rc = error_set(cause,
		    "host %s: rdev-agent %s in %s was changed or "
		    "damaged after it was installed: %s",
		    label, b->version, dir, err);
	else if (status == 1)
		rc = error_set(cause, "host %s: cannot run rdev-agent %s: %s", label,
		    b->version, err);
	else
		rc = error_set(cause,
		    "host %s: checking rdev-agent %s in %s "
		    "failed (exit %d): %s",
		    label, b->version, dir, status, err);
	free(out);
	free(err);
	free(dir);
	return rc;
}

char *
agent_install_serve_command(const struct agent_bundle *b, const char *agent_path,
    const char *listen_id, int verify)
{
	static const char suffix[] = "/rdev-agent";
	size_t n = strlen(agent_path);
	char *dir, *list, *cmd;

	if (!verify || n <= sizeof suffix - 1 ||
	    strcmp(agent_path + n - (sizeof suffix - 1), suffix) != 0) {
		const char *argv[] = { agent_path, "serve", "--listen", listen_id, NULL };

		return shell_quote_argv(argv, SHELL_QUOTE_ALWAYS);
	}
	dir = xstrndup(agent_path, n - (sizeof suffix - 1));
	list = agent_hash_list(b);
	{
		const char *argv[] = { "sh", "-c", agent_verify_then_serve_script,
			"rdev-agent-verify", dir, b->hash_hex, list, listen_id, NULL };

		cmd = shell_quote_argv(argv, SHELL_QUOTE_ALWAYS);
	}
	free(list);
	free(dir);
	return cmd;
}

int
agent_install_check_docker(struct rdev_ssh *s, const char *agent_path, char **cause)
{
	const char *argv[] = { agent_path, "ls", "--json", NULL };
	char *out, *err;
	int status;

	if (agent_run(s, argv, NULL, &out, &err, &status, cause) != 0)
		return -1;
	free(out);
	if (status == 0) {
		free(err);
		return 0;
	}
	agent_trim(err);
	if (strstr(err, "permission denied") != NULL ||
	    strstr(err, "Permission denied") != NULL)
		error_set(cause,
		    "host %s: the SSH user cannot use Docker: %s (add "
		    "the user to group docker and reconnect, or, for rootless "
		    "Docker, set DOCKER_HOST=unix://... in the SSH session's "
		    "environment)",
		    rdev_ssh_host_label(s), err);
	else
		error_set(cause, "host %s: the SSH user cannot use Docker: %s",
		    rdev_ssh_host_label(s), *err != '\0' ? err : "rdev-agent ls failed");
	free(err);
	return -1;
}
