/* agent-install.c - put the rdev-agent bundle on a host (see agent-install.h). */
#include "agent-install.h"

#include <sys/stat.h>
#include <sys/utsname.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <libssh/libssh.h>
#include <libssh/sftp.h>
#include <sodium.h>

#include "atomic-file.h"
#include "buf.h"
#include "error.h"
#include "shell-quote.h"
#include "ssh-session.h"
#include "xmalloc.h"

#define AGENT_HASH_LEN 32
#define AGENT_MANIFEST_MAX (1024 * 1024)
#define AGENT_FILE_MAX (256 * 1024 * 1024)
#define AGENT_SFTP_CHUNK 65536
#define AGENT_UPLOAD_TRIES 2
#define AGENT_RENAME_TRIES 4
/* Hex digits of the bundle hash in the install dir's name: 64 bits tell
 * builds apart, and the path stays short (a unix socket path may be made
 * next to it, and sun_path has 108 bytes). */
#define AGENT_DIR_HASH_HEX 16

struct agent_bundle_file {
	char *name;                          /* relative to the bundle dir */
	unsigned char hash[AGENT_HASH_LEN];  /* BLAKE2b-256 */
	mode_t mode;                         /* 0755 or 0644 */
	uint64_t size;
};

struct agent_bundle {
	char *dir;
	char *version;
	char *os;
	char *arch;
	char hash_hex[AGENT_HASH_LEN * 2 + 1]; /* of MANIFEST */
	char *install_name;                    /* <version>-<hash prefix> */
	struct agent_bundle_file *files;       /* MANIFEST's, then MANIFEST
						  and bundle.hash */
	size_t nfiles;
	uint64_t size;
};

static struct agent_install_test_hooks agent_test_hooks;

void
agent_install_set_test_hooks(const struct agent_install_test_hooks *h)
{
	if (h == NULL)
		memset(&agent_test_hooks, 0, sizeof agent_test_hooks);
	else
		agent_test_hooks = *h;
}

void
agent_bundle_free(struct agent_bundle *b)
{
	size_t i;

	if (b == NULL)
		return;
	for (i = 0; i < b->nfiles; i++)
		free(b->files[i].name);
	free(b->files);
	free(b->dir);
	free(b->version);
	free(b->install_name);
	free(b->os);
	free(b->arch);
	free(b);
}

const char *
agent_bundle_version(const struct agent_bundle *b)
{
	return b->version;
}

const char *
agent_bundle_install_name(const struct agent_bundle *b)
{
	return b->install_name;
}

const char *
agent_bundle_dir(const struct agent_bundle *b)
{
	return b->dir;
}

const char *
agent_bundle_arch(const struct agent_bundle *b)
{
	return b->arch;
}

const char *
agent_bundle_hash(const struct agent_bundle *b)
{
	return b->hash_hex;
}

uint64_t
agent_bundle_size(const struct agent_bundle *b)
{
	return b->size;
}

/* A bundle file name is relative, made of plain components. */
static int
agent_safe_name(const char *name)
{
	const char *p;

	if (*name == '\0' || *name == '/' || strlen(name) > 200)
		return 0;
	for (p = name; *p != '\0'; p++)
		if (strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "0123456789._+-/", *p) == NULL)
			return 0;
	if (strstr(name, "//") != NULL || name[strlen(name) - 1] == '/')
		return 0;
	for (p = name; p != NULL; p = strchr(p, '/')) {
		if (*p == '/')
			p++;
		if (*p == '.')
			return 0; /* ".", "..", dot files */
	}
	return 1;
}

/* A version goes into a path: no slash, no leading dot. */
static int
agent_safe_version(const char *v)
{
	return *v != '\0' && *v != '.' && strlen(v) < 64 &&
	    strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789._+-") == strlen(v);
}

static void
agent_hash_mem(const void *data, size_t len, unsigned char out[AGENT_HASH_LEN])
{
	crypto_generichash(out, AGENT_HASH_LEN, data, len, NULL, 0);
}

/* Hash a local file; its size in *size. */
static int
agent_hash_file(const char *path, unsigned char out[AGENT_HASH_LEN],
    uint64_t *size, char **cause)
{
	crypto_generichash_state st;
	unsigned char chunk[65536];
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return error_set_errno(cause, errno, "%s", path);
	crypto_generichash_init(&st, NULL, 0, AGENT_HASH_LEN);
	*size = 0;
	for (;;) {
		n = read(fd, chunk, sizeof chunk);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			error_set_errno(cause, errno, "reading %s", path);
			close(fd);
			return -1;
		}
		if (n == 0)
			break;
		crypto_generichash_update(&st, chunk, (size_t)n);
		*size += (uint64_t)n;
	}
	close(fd);
	crypto_generichash_final(&st, out, AGENT_HASH_LEN);
	return 0;
}

static int
agent_is_hex64(const char *s)
{
	return strspn(s, "0123456789abcdef") >= AGENT_HASH_LEN * 2;
}

/* Add a file to the bundle's list, hashing it and comparing with want
 * (NULL: take what it hashes to). */
static int
agent_bundle_add(struct agent_bundle *b, const char *name,
    const unsigned char *want, char **cause)
{
	struct agent_bundle_file *f;
	struct stat sb;
	char *path;
	int rc = -1;

	path = xasprintf("%s/%s", b->dir, name);
	if (lstat(path, &sb) != 0) {
		error_set_errno(cause, errno, "agent bundle %s: %s", b->dir, name);
		goto out;
	}
	if (!S_ISREG(sb.st_mode)) {
		error_set(cause, "agent bundle %s: %s is not a regular file",
		    b->dir, name);
		goto out;
	}
	b->files = xreallocarray(b->files, b->nfiles + 1, sizeof *b->files);
	f = &b->files[b->nfiles];
	memset(f, 0, sizeof *f);
	if (agent_hash_file(path, f->hash, &f->size, cause) != 0) {
		error_prefix(cause, "agent bundle %s", b->dir);
		goto out;
	}
	if (want != NULL && memcmp(want, f->hash, AGENT_HASH_LEN) != 0) {
		error_set(cause, "agent bundle %s: %s does not match its hash in "
		    "MANIFEST (damaged bundle; rebuild it with "
		    "deploy/agent-bundle.sh)", b->dir, name);
		goto out;
	}
	f->name = xstrdup(name);
	f->mode = (sb.st_mode & S_IXUSR) ? 0755 : 0644;
	b->size += f->size;
	b->nfiles++;
	rc = 0;
out:
	free(path);
	return rc;
}

/* Parse MANIFEST: "key: value" lines, then "HASH  NAME" lines. */
static int
agent_bundle_parse(struct agent_bundle *b, char *manifest, char **cause)
{
	unsigned char want[AGENT_HASH_LEN];
	char *line, *next, *v;
	int format_ok = 0, has_agent = 0, has_check = 0;
	size_t bin_len;

	for (line = manifest; line != NULL && *line != '\0'; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if (agent_is_hex64(line) && strncmp(line + 64, "  ", 2) == 0) {
			v = line + 66;
			if (!agent_safe_name(v) || strcmp(v, "MANIFEST") == 0 ||
			    strcmp(v, "bundle.hash") == 0)
				return error_set(cause, "agent bundle %s: MANIFEST: "
				    "bad file name '%s'", b->dir, v);
			if (sodium_hex2bin(want, sizeof want, line, 64, NULL,
			    &bin_len, NULL) != 0 || bin_len != sizeof want)
				fatal("hex2bin of checked hex failed");
			if (agent_bundle_add(b, v, want, cause) != 0)
				return -1;
			has_agent |= strcmp(v, "rdev-agent") == 0;
			has_check |= strcmp(v, "rdev-agent-check") == 0;
			continue;
		}
		if ((v = strstr(line, ": ")) == NULL)
			continue;
		*v = '\0';
		v += 2;
		if (strcmp(line, "format") == 0)
			format_ok = strcmp(v, "rdev-agent-bundle 1") == 0;
		else if (strcmp(line, "version") == 0 && b->version == NULL)
			b->version = xstrdup(v);
		else if (strcmp(line, "os") == 0 && b->os == NULL)
			b->os = xstrdup(v);
		else if (strcmp(line, "arch") == 0 && b->arch == NULL)
			b->arch = xstrdup(v);
	}
	if (!format_ok)
		return error_set(cause, "agent bundle %s: MANIFEST is not "
		    "\"format: rdev-agent-bundle 1\"", b->dir);
	if (b->version == NULL || !agent_safe_version(b->version))
		return error_set(cause, "agent bundle %s: MANIFEST has no usable "
		    "version", b->dir);
	if (b->os == NULL || b->arch == NULL || !agent_safe_version(b->arch))
		return error_set(cause, "agent bundle %s: MANIFEST has no os/arch",
		    b->dir);
	if (!has_agent || !has_check)
		return error_set(cause, "agent bundle %s: MANIFEST lists no %s",
		    b->dir, has_agent ? "rdev-agent-check" : "rdev-agent");
	return 0;
}

struct agent_bundle *
agent_bundle_open(const char *dir, char **cause)
{
	struct agent_bundle *b;
	unsigned char mhash[AGENT_HASH_LEN];
	char *manifest = NULL, *hashfile = NULL, *path;
	size_t mlen, hlen;

	if (sodium_init() < 0)
		fatal("sodium_init failed");
	b = xcalloc(1, sizeof *b);
	b->dir = xstrdup(dir);
	path = xasprintf("%s/MANIFEST", dir);
	if (file_read_all(path, AGENT_MANIFEST_MAX, &manifest, &mlen, cause) != 0) {
		free(path);
		error_prefix(cause, "agent bundle %s", dir);
		goto fail;
	}
	free(path);
	path = xasprintf("%s/bundle.hash", dir);
	if (file_read_all(path, 4096, &hashfile, &hlen, cause) != 0) {
		free(path);
		error_prefix(cause, "agent bundle %s", dir);
		goto fail;
	}
	free(path);
	agent_hash_mem(manifest, mlen, mhash);
	sodium_bin2hex(b->hash_hex, sizeof b->hash_hex, mhash, sizeof mhash);
	if (strcmp(hashfile, "") == 0 || strncmp(hashfile, b->hash_hex, 64) != 0 ||
	    strcmp(hashfile + 64, "  MANIFEST\n") != 0) {
		error_set(cause, "agent bundle %s: MANIFEST does not match "
		    "bundle.hash (damaged bundle; rebuild it with "
		    "deploy/agent-bundle.sh)", dir);
		goto fail;
	}
	if (agent_bundle_parse(b, manifest, cause) != 0)
		goto fail;
	b->install_name = xasprintf("%s-%.*s", b->version, AGENT_DIR_HASH_HEX,
	    b->hash_hex);
	if (agent_bundle_add(b, "MANIFEST", mhash, cause) != 0 ||
	    agent_bundle_add(b, "bundle.hash", NULL, cause) != 0)
		goto fail;
	free(manifest);
	free(hashfile);
	return b;
fail:
	free(manifest);
	free(hashfile);
	agent_bundle_free(b);
	return NULL;
}

struct agent_bundle *
agent_bundle_find(char **cause)
{
	struct agent_bundle *b;
	struct utsname u;
	struct stat sb;
	struct buf *looked;
	char exe[PATH_MAX], *slash, *name, *cands[2], *msg;
	const char *env;
	ssize_t n;
	int i;

	if ((env = getenv("RDEV_AGENT_BUNDLE")) != NULL && *env != '\0') {
		if ((b = agent_bundle_open(env, cause)) == NULL)
			error_prefix(cause, "RDEV_AGENT_BUNDLE=%s", env);
		return b;
	}
	if (uname(&u) != 0)
		fatal("uname failed");
	name = xasprintf("rdev-agent-%s-linux-%s", RDEV_VERSION, u.machine);
	if ((n = readlink("/proc/self/exe", exe, sizeof exe - 1)) <= 0) {
		error_set_errno(cause, errno, "cannot find the agent bundle %s: "
		    "readlink /proc/self/exe", name);
		free(name);
		return NULL;
	}
	exe[n] = '\0';
	if ((slash = strrchr(exe, '/')) != NULL)
		*slash = '\0';
	cands[0] = xasprintf("%s/agent-bundle/%s", exe, name);
	cands[1] = xasprintf("%s/../lib/rdev/agent-bundle/%s", exe, name);
	b = NULL;
	looked = buf_new();
	for (i = 0; i < 2; i++) {
		if (stat(cands[i], &sb) != 0) {
			buf_appendf(looked, "%s%s (%s)", i > 0 ? ", " : "",
			    cands[i], strerror(errno));
			continue;
		}
		b = agent_bundle_open(cands[i], cause);
		break;
	}
	if (i == 2) {
		msg = buf_take_string(looked, NULL);
		error_set(cause, "no agent bundle %s: RDEV_AGENT_BUNDLE is not set, "
		    "and looked in %s; build one (make agent-bundle, or "
		    "deploy/agent-bundle.sh) or set RDEV_AGENT_BUNDLE to a bundle "
		    "directory", name, msg);
		free(msg);
	}
	buf_free(looked);
	free(cands[0]);
	free(cands[1]);
	free(name);
	return b;
}

/* ------------------------------------------------------------------------ */
/* The host side. */

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
    "  out=$(b2sum -l 256 -c --quiet 2>&1 <<EOF\n$3\nEOF\n) && { echo 'check: 0 ok: hashes checked'; exit 0; }\n"
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
    "err=$(mkdir -p \"$d\" 2>&1) || { echo \"cannot create $d: ${err##*: }\" >&2; exit 3; }\n"
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
static const char agent_verify_script[] =
    "out=$(sh \"$1/rdev-agent-check\" 2>&1)\n"
    "rc=$?\n"
    "[ $rc -eq 0 ] || rm -rf -- \"$1\"\n"
    "printf '%s\\n' \"$out\" | tr '\\n' ' '\n"
    "exit $rc\n";

/* Without SFTP: write stdin to a new file $1 (noclobber, as SFTP's O_EXCL),
 * then give it mode $2. */
static const char agent_exec_put_script[] =
    "set -C\n"
    "umask 077\n"
    "cat >\"$1\" && chmod \"$2\" \"$1\"\n";

/* Without SFTP: rename dir $1 to $2, failing (exit 17) when $2 exists, as
 * SFTP's rename does: plain `mv` would move $1 into an existing $2. `mv -T`
 * is GNU's; without it (busybox), a check, then mv, then an undo if another
 * installer made $2 in between. */
static const char agent_exec_rename_script[] =
    "mv -T -- \"$1\" \"$2\" 2>/dev/null && exit 0\n"
    "[ -e \"$2\" ] || [ -L \"$2\" ] && exit 17\n"
    "[ -d \"$1\" ] || { echo \"no directory $1\" >&2; exit 1; }\n"
    "mv -- \"$1\" \"$2\" || exit 1\n"
    "if [ -e \"$2/${1##*/}\" ]; then rm -rf -- \"$2/${1##*/}\"; exit 17; fi\n"
    "exit 0\n";

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
static char *
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
agent_run(struct rdev_ssh *s, const char *const *argv, const char *in,
    char **out, char **err, int *status, char **cause)
{
	size_t len;

	*out = *err = NULL;
	return rdev_ssh_run(s, argv, in, in != NULL ? strlen(in) : 0, out, &len,
	    err, status, cause);
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
		buf_appendf(lb, "%s%s  %s", i > 0 ? "\n" : "", hex,
		    b->files[i].name);
	}
	list = buf_take_string(lb, NULL);
	buf_free(lb);
	return list;
}

/* The fast-path round trip. */
static int
agent_probe(struct rdev_ssh *s, const struct agent_bundle *b,
    struct agent_probe *p, char **cause)
{
	char *out, *err, *line, *next, *v, *sp, *list;
	int status, rc;

	agent_probe_clear(p);
	list = agent_hash_list(b);
	{
		const char *argv[] = { "sh", "-c", agent_probe_script,
			"rdev-agent-probe", b->install_name, b->hash_hex, list,
			NULL };

		rc = agent_run(s, argv, NULL, &out, &err, &status, cause);
	}
	free(list);
	if (rc != 0)
		return -1;
	if (status != 0) {
		error_set(cause, "host %s: probing for rdev-agent failed (exit %d): "
		    "%s", rdev_ssh_host_label(s), status, agent_trim(err));
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
		return error_set(cause, "host %s: `uname -sm` printed nothing "
		    "(not a POSIX host?)", rdev_ssh_host_label(s));
	if (p->home == NULL || p->home[0] != '/')
		return error_set(cause, "host %s: $HOME is not an absolute path "
		    "('%s')", rdev_ssh_host_label(s), p->home != NULL ? p->home : "");
	return 0;
}

/* Is the probed install ours and good? */
static int
agent_probe_good(const struct agent_probe *p, const struct agent_bundle *b)
{
	return p->present && p->hash != NULL && strcmp(p->hash, b->hash_hex) == 0 &&
	    p->check_rc == 0 && strncmp(p->check_out, "ok", 2) == 0;
}

static void
agent_progress(void (*progress)(void *, const char *), void *arg,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void
agent_progress(void (*progress)(void *, const char *), void *arg,
    const char *fmt, ...)
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

static const char *
agent_sftp_strerror(int code)
{
	switch (code) {
	case SSH_FX_OK:
		return "ok";
	case SSH_FX_EOF:
		return "end of file";
	case SSH_FX_NO_SUCH_FILE:
		return "no such file or directory";
	case SSH_FX_PERMISSION_DENIED:
		return "permission denied";
	case SSH_FX_FAILURE:
		return "failure (disk full, or the name exists?)";
	case SSH_FX_NO_CONNECTION:
	case SSH_FX_CONNECTION_LOST:
		return "connection lost";
	case SSH_FX_FILE_ALREADY_EXISTS:
		return "already exists";
	case SSH_FX_WRITE_PROTECT:
		return "read-only file system";
	case SSH_FX_NO_MEDIA:
		return "no media";
	default:
		return "error";
	}
}

/* How the files reach the host: SFTP, or, where sshd has no sftp subsystem,
 * exec channels (one per file, the path an argument of `sh -c`). */
struct agent_xfer {
	struct rdev_ssh *s;
	sftp_session sftp; /* NULL: exec channels */
};

static int
agent_sftp_error(struct agent_xfer *x, char **cause, const char *what,
    const char *path)
{
	return error_set(cause, "host %s: SFTP %s %s: %s (%s)",
	    rdev_ssh_host_label(x->s), what, path,
	    agent_sftp_strerror(sftp_get_error(x->sftp)),
	    ssh_get_error(rdev_ssh_session(x->s)));
}

/* Start SFTP; when the host refuses it, fall back to exec channels and say
 * so. Never fails: a session too broken for SFTP fails the next exec with
 * its own message. */
static void
agent_xfer_open(struct agent_xfer *x, struct rdev_ssh *s,
    void (*progress)(void *, const char *), void *arg)
{
	x->s = s;
	if ((x->sftp = sftp_new(rdev_ssh_session(s))) != NULL &&
	    sftp_init(x->sftp) == SSH_OK)
		return;
	agent_progress(progress, arg, "no SFTP on %s: uploading over an exec "
	    "channel (%s)", rdev_ssh_host_label(s),
	    ssh_get_error(rdev_ssh_session(s)));
	if (x->sftp != NULL)
		sftp_free(x->sftp);
	x->sftp = NULL;
}

static void
agent_xfer_close(struct agent_xfer *x)
{
	if (x->sftp != NULL)
		sftp_free(x->sftp);
	x->sftp = NULL;
}

/* Run one of the exec-fallback commands with stdin in; 0 on exit 0, else -1
 * with *cause "host H: WHAT over an exec channel: STDERR (exit N)". */
static int
agent_xfer_exec(struct agent_xfer *x, const char *const *argv,
    const void *in, size_t len, const char *what, char **cause)
{
	char *out = NULL, *err = NULL;
	int st, rc = -1;

	if (rdev_ssh_run(x->s, argv, in, len, &out, NULL, &err, &st,
	    cause) != 0) {
		error_prefix(cause, "%s over an exec channel", what);
		return -1;
	}
	if (st == 0)
		rc = 0;
	else
		error_set(cause, "host %s: %s over an exec channel: %s (exit %d)",
		    rdev_ssh_host_label(x->s), what,
		    *agent_trim(err) != '\0' ? err : "failed", st);
	free(out);
	free(err);
	return rc;
}

/* Make the new directory tmp and every subdirectory the bundle's files need,
 * parents first (one level, lib/ and licenses/, is all a bundle has; deeper
 * names work too): one SFTP mkdir each, or one `mkdir` exec. */
static int
agent_xfer_mkdirs(struct agent_xfer *x, const struct agent_bundle *b,
    const char *tmp, char **cause)
{
	const char **argv, *slash;
	char *what;
	size_t i, j, n = 0, max = 6;
	int seen, rc = 0;

	for (i = 0; i < b->nfiles; i++)
		for (slash = b->files[i].name; (slash = strchr(slash, '/')) != NULL;
		    slash++)
			max++;
	argv = xcalloc(max, sizeof *argv); /* "mkdir -m 0755 --" dirs NULL */
	argv[n++] = "mkdir";
	argv[n++] = "-m";
	argv[n++] = "0755";
	argv[n++] = "--";
	argv[n++] = xstrdup(tmp);
	for (i = 0; i < b->nfiles; i++) {
		for (slash = strchr(b->files[i].name, '/'); slash != NULL;
		    slash = strchr(slash + 1, '/')) {
			seen = 0;
			for (j = 0; j < i && !seen; j++)
				seen = strncmp(b->files[j].name, b->files[i].name,
				    (size_t)(slash - b->files[i].name) + 1) == 0;
			if (!seen)
				argv[n++] = xasprintf("%s/%.*s", tmp,
				    (int)(slash - b->files[i].name),
				    b->files[i].name);
		}
	}
	if (x->sftp == NULL) {
		what = xasprintf("mkdir %s", tmp);
		rc = agent_xfer_exec(x, argv, NULL, 0, what, cause);
		free(what);
	}
	for (i = 4; i < n && x->sftp != NULL && rc == 0; i++)
		if (sftp_mkdir(x->sftp, argv[i], 0755) != 0)
			rc = agent_sftp_error(x, cause, "mkdir", argv[i]);
	for (i = 4; i < n; i++)
		free((char *)argv[i]);
	free(argv);
	return rc;
}

/* Write data to the new file remote, with mode. */
static int
agent_xfer_put(struct agent_xfer *x, const char *remote, const char *data,
    size_t len, mode_t mode, char **cause)
{
	sftp_file fh;
	size_t off, n;
	ssize_t w;
	char m[16], *what;
	int rc = -1;

	if (x->sftp == NULL) {
		const char *argv[] = { "sh", "-c", agent_exec_put_script,
			"rdev-agent-upload", remote, m, NULL };

		snprintf(m, sizeof m, "%o", (unsigned)mode);
		what = xasprintf("uploading %s", remote);
		rc = agent_xfer_exec(x, argv, data, len, what, cause);
		free(what);
		return rc;
	}
	if ((fh = sftp_open(x->sftp, remote, O_WRONLY | O_CREAT | O_EXCL,
	    mode)) == NULL)
		return agent_sftp_error(x, cause, "open", remote);
	for (off = 0; off < len; off += (size_t)w) {
		n = len - off < AGENT_SFTP_CHUNK ? len - off : AGENT_SFTP_CHUNK;
		if ((w = sftp_write(fh, data + off, n)) <= 0) {
			agent_sftp_error(x, cause, "write", remote);
			goto out;
		}
	}
	rc = 0;
out:
	if (sftp_close(fh) != 0 && rc == 0)
		rc = agent_sftp_error(x, cause, "close", remote);
	return rc;
}

/* Rename directory from to to; fails when to exists. */
static int
agent_xfer_rename(struct agent_xfer *x, const char *from, const char *to,
    char **cause)
{
	char *what;
	int rc;

	if (x->sftp != NULL) {
		if (sftp_rename(x->sftp, from, to) == 0)
			return 0;
		return error_set(cause, "host %s: SFTP rename %s to %s: %s (%s)",
		    rdev_ssh_host_label(x->s), from, to,
		    agent_sftp_strerror(sftp_get_error(x->sftp)),
		    ssh_get_error(rdev_ssh_session(x->s)));
	}
	{
		const char *argv[] = { "sh", "-c", agent_exec_rename_script,
			"rdev-agent-rename", from, to, NULL };

		what = xasprintf("rename %s to %s", from, to);
		rc = agent_xfer_exec(x, argv, NULL, 0, what, cause);
		free(what);
	}
	return rc;
}

/* Upload one bundle file to tmp/NAME: read it, check it against MANIFEST,
 * send it. */
static int
agent_upload_file(struct agent_xfer *x, const struct agent_bundle *b,
    const struct agent_bundle_file *f, const char *tmp, char **cause)
{
	unsigned char got[AGENT_HASH_LEN];
	char *local, *remote, *data = NULL;
	size_t len;
	int rc = -1;

	local = xasprintf("%s/%s", b->dir, f->name);
	remote = xasprintf("%s/%s", tmp, f->name);
	if (file_read_all(local, AGENT_FILE_MAX, &data, &len, cause) != 0) {
		error_prefix(cause, "agent bundle %s", b->dir);
		goto out;
	}
	agent_hash_mem(data, len, got);
	if (memcmp(got, f->hash, sizeof got) != 0) {
		error_set(cause, "agent bundle %s: %s changed since the bundle was "
		    "opened (does not match its hash in MANIFEST)", b->dir,
		    f->name);
		goto out;
	}
	if (agent_test_hooks.upload != NULL)
		agent_test_hooks.upload(agent_test_hooks.arg, f->name,
		    (unsigned char *)data, len);
	rc = agent_xfer_put(x, remote, data, len, f->mode, cause);
out:
	free(data);
	free(local);
	free(remote);
	return rc;
}

/* Create tmp and the directories the bundle's files need, then upload
 * them. */
static int
agent_upload(struct agent_xfer *x, const struct agent_bundle *b,
    const char *tmp, char **cause)
{
	size_t i;

	if (agent_xfer_mkdirs(x, b, tmp, cause) != 0)
		return -1;
	for (i = 0; i < b->nfiles; i++)
		if (agent_upload_file(x, b, &b->files[i], tmp, cause) != 0)
			return -1;
	return 0;
}

/* Upload into a new temporary dir and check it there, uploading once more if
 * it arrived damaged. On success *tmp_out is the checked dir. */
static int
agent_upload_checked(struct agent_xfer *x, const struct agent_bundle *b,
    const char *base, char **tmp_out, void (*progress)(void *, const char *),
    void *arg, char **cause)
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

			if (agent_run(s, argv, NULL, &out, &err, &status,
			    cause) != 0) {
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
			agent_progress(progress, arg, "rdev-agent upload to %s "
			    "arrived damaged (%s); uploading again", label, out);
			free(out);
			free(err);
			continue;
		}
		if (status == 2)
			error_set(cause, "host %s: the rdev-agent upload arrived "
			    "damaged %d times: %s", label, attempt, out);
		else if (status == 1)
			error_set(cause, "host %s: cannot run rdev-agent %s: %s",
			    label, b->version, out);
		else
			error_set(cause, "host %s: checking the uploaded rdev-agent "
			    "failed (exit %d): %s %s", label, status, out,
			    agent_trim(err));
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
		error_set(cause, "host %s: cannot rename %s into place after %d "
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
	snprintf(need, sizeof need, "%llu",
	    (unsigned long long)(b->size * 2 / 1024 + 1024));
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
	case 0:
		rc = 0;
		break;
	case 1:
		error_set(cause, "host %s: cannot run rdev-agent %s: %s", label,
		    b->version, err);
		break;
	case 3:
	case 4:
		error_set(cause, "host %s: cannot install rdev-agent: %s", label,
		    err);
		break;
	default:
		error_set(cause, "host %s: the rdev-agent pre-flight check failed "
		    "(exit %d): %s", label, status, err);
		break;
	}
	free(out);
	free(err);
	return rc;
}

int
agent_install_ensure(struct rdev_ssh *s, const struct agent_bundle *b,
    char **agent_path, void (*progress)(void *arg, const char *line), void *arg,
    char **cause)
{
	const char *label = rdev_ssh_host_label(s);
	struct agent_probe p;
	struct agent_xfer x = { s, NULL };
	char *base = NULL, *final = NULL, *tmp = NULL, mb[32];
	int rc = -1;

	*agent_path = NULL;
	memset(&p, 0, sizeof p);
	if (agent_probe(s, b, &p, cause) != 0)
		goto out;
	if (strcasecmp(p.os, b->os) != 0 || p.arch == NULL ||
	    strcmp(p.arch, b->arch) != 0) {
		error_set(cause, "host %s: this host is %s/%s; the rdev-agent "
		    "bundle is for %s/%s (rdev needs a Linux Docker host of the "
		    "bundle's architecture)", label, p.os,
		    p.arch != NULL ? p.arch : "unknown", "Linux", b->arch);
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
		agent_progress(progress, arg, "warning: rdev-agent %s on %s was "
		    "changed or damaged after it was installed (its bundle.hash "
		    "is %.16s, want %.16s); installing it again (%s)", b->version,
		    label, p.hash != NULL && *p.hash != '\0' ? p.hash : "none",
		    b->hash_hex, mb);
	else
		agent_progress(progress, arg, "warning: rdev-agent %s on %s was "
		    "changed or damaged after it was installed (%s); installing "
		    "it again (%s)", b->version, label,
		    p.check_out != NULL && *p.check_out != '\0' ? p.check_out :
		    "rdev-agent-check failed", mb);

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
		return error_set(cause, "host %s: %s is not an installed "
		    "rdev-agent", label, agent_path);
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
		rc = error_set(cause, "host %s: rdev-agent %s in %s was changed or "
		    "damaged after it was installed: %s", label, b->version, dir,
		    err);
	else if (status == 1)
		rc = error_set(cause, "host %s: cannot run rdev-agent %s: %s",
		    label, b->version, err);
	else
		rc = error_set(cause, "host %s: checking rdev-agent %s in %s "
		    "failed (exit %d): %s", label, b->version, dir, status, err);
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
agent_install_check_docker(struct rdev_ssh *s, const char *agent_path,
    char **cause)
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
		error_set(cause, "host %s: the SSH user cannot use Docker: %s (add "
		    "the user to group docker and reconnect, or, for rootless "
		    "Docker, set DOCKER_HOST=unix://... in the SSH session's "
		    "environment)", rdev_ssh_host_label(s), err);
	else
		error_set(cause, "host %s: the SSH user cannot use Docker: %s",
		    rdev_ssh_host_label(s), *err != '\0' ? err : "rdev-agent ls failed");
	free(err);
	return -1;
}
