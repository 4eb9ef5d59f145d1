/* agent-bundle.c - the local rdev-agent bundle: find it, open it, check every
 * file against MANIFEST and bundle.hash (agent-install.h). */
#include "agent-install-internal.h"

#include <sys/stat.h>
#include <sys/utsname.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "atomic-file.h"
#include "buf.h"
#include "error.h"
#include "xmalloc.h"

/* Hex digits of the bundle hash in the install dir's name: 64 bits tell
 * builds apart, and the path stays short (a unix socket path may be made
 * next to it, and sun_path has 108 bytes). */
#define AGENT_DIR_HASH_HEX 16

struct agent_bundle_slot {
	pthread_mutex_t lock;
	struct agent_bundle *b; /* one reference, or NULL */
};

struct agent_bundle *
agent_bundle_ref(struct agent_bundle *b)
{
	if (b != NULL)
		atomic_fetch_add(&b->refs, 1);
	return b;
}

void
agent_bundle_free(struct agent_bundle *b)
{
	size_t i;

	if (b == NULL || atomic_fetch_sub(&b->refs, 1) > 1)
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
			   "0123456789._+-/",
			*p) == NULL)
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
	    strspn(v,
		"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		"0123456789._+-") == strlen(v);
}

void
agent_hash_mem(const void *data, size_t len, unsigned char out[AGENT_HASH_LEN])
{
	crypto_generichash(out, AGENT_HASH_LEN, data, len, NULL, 0);
}

/* Hash a local file; its size in *size. */
static int
agent_hash_file(
    const char *path, unsigned char out[AGENT_HASH_LEN], uint64_t *size, char **cause)
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
agent_bundle_add(
    struct agent_bundle *b, const char *name, const unsigned char *want, char **cause)
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
		error_set(
		    cause, "agent bundle %s: %s is not a regular file", b->dir, name);
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
		error_set(cause,
		    "agent bundle %s: %s does not match its hash in "
		    "MANIFEST (damaged bundle; rebuild it with "
		    "deploy/agent-bundle.sh)",
		    b->dir, name);
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
				return error_set(cause,
				    "agent bundle %s: MANIFEST: "
				    "bad file name '%s'",
				    b->dir, v);
			if (sodium_hex2bin(
				want, sizeof want, line, 64, NULL, &bin_len, NULL) != 0 ||
			    bin_len != sizeof want)
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
		return error_set(cause,
		    "agent bundle %s: MANIFEST is not "
		    "\"format: rdev-agent-bundle 1\"",
		    b->dir);
	if (b->version == NULL || !agent_safe_version(b->version))
		return error_set(cause,
		    "agent bundle %s: MANIFEST has no usable "
		    "version",
		    b->dir);
	if (b->os == NULL || b->arch == NULL || !agent_safe_version(b->arch))
		return error_set(
		    cause, "agent bundle %s: MANIFEST has no os/arch", b->dir);
	if (!has_agent || !has_check)
		return error_set(cause, "agent bundle %s: MANIFEST lists no %s", b->dir,
		    has_agent ? "rdev-agent-check" : "rdev-agent");
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
	atomic_init(&b->refs, 1);
	b->dir = xstrdup(dir);
	path = xasprintf("%s/MANIFEST", dir);
	/* (before the read: a MANIFEST replaced between the two makes the
	 * bundle stale at once, never one that looks current) */
	if (stat(path, &b->manifest_st) != 0)
		memset(&b->manifest_st, 0, sizeof b->manifest_st);
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
		error_set(cause,
		    "agent bundle %s: MANIFEST does not match "
		    "bundle.hash (damaged bundle; rebuild it with "
		    "deploy/agent-bundle.sh)",
		    dir);
		goto fail;
	}
	if (agent_bundle_parse(b, manifest, cause) != 0)
		goto fail;
	b->install_name =
	    xasprintf("%s-%.*s", b->version, AGENT_DIR_HASH_HEX, b->hash_hex);
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

int
agent_bundle_stale(const struct agent_bundle *b)
{
	const struct stat *was = &b->manifest_st;
	struct stat sb;
	char *path = xasprintf("%s/MANIFEST", b->dir);
	int rc;

	rc = stat(path, &sb);
	free(path);
	return rc != 0 || sb.st_dev != was->st_dev || sb.st_ino != was->st_ino ||
	    sb.st_size != was->st_size || sb.st_mtim.tv_sec != was->st_mtim.tv_sec ||
	    sb.st_mtim.tv_nsec != was->st_mtim.tv_nsec;
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
		error_set_errno(cause, errno,
		    "cannot find the agent bundle %s: "
		    "readlink /proc/self/exe",
		    name);
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
			buf_appendf(looked, "%s%s (%s)", i > 0 ? ", " : "", cands[i],
			    strerror(errno));
			continue;
		}
		b = agent_bundle_open(cands[i], cause);
		break;
	}
	if (i == 2) {
		msg = buf_take_string(looked, NULL);
		error_set(cause,
		    "no agent bundle %s: RDEV_AGENT_BUNDLE is not set, "
		    "and looked in %s; build one (make agent-bundle, or "
		    "deploy/agent-bundle.sh) or set RDEV_AGENT_BUNDLE to a bundle "
		    "directory",
		    name, msg);
		free(msg);
	}
	buf_free(looked);
	free(cands[0]);
	free(cands[1]);
	free(name);
	return b;
}

struct agent_bundle_slot *
agent_bundle_slot_new(void)
{
	struct agent_bundle_slot *s = xcalloc(1, sizeof *s);

	pthread_mutex_init(&s->lock, NULL);
	return s;
}

void
agent_bundle_slot_free(struct agent_bundle_slot *s)
{
	if (s == NULL)
		return;
	agent_bundle_free(s->b);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

void
agent_bundle_slot_set(struct agent_bundle_slot *s, struct agent_bundle *b)
{
	struct agent_bundle *old;

	pthread_mutex_lock(&s->lock);
	old = s->b;
	s->b = b;
	pthread_mutex_unlock(&s->lock);
	/* (after the unlock: a session's reference may keep it anyway) */
	agent_bundle_free(old);
}

struct agent_bundle *
agent_bundle_slot_take(struct agent_bundle_slot *s)
{
	struct agent_bundle *b;

	/* (the ref under the lock: a set between the read and the ref could
	 * free it) */
	pthread_mutex_lock(&s->lock);
	b = agent_bundle_ref(s->b);
	pthread_mutex_unlock(&s->lock);
	return b;
}

struct agent_bundle *
agent_bundle_slot_take_fresh(struct agent_bundle_slot *s)
{
	struct agent_bundle *b, *nb, *drop;
	char *cause = NULL;

	if ((b = agent_bundle_slot_take(s)) == NULL || !agent_bundle_stale(b))
		return b;
	if ((nb = agent_bundle_open(b->dir, &cause)) == NULL) {
		/* (being replaced, not whole yet: b serves, as on the
		 * broker's loop; an install of it may fail its hashes) */
		free(cause);
		return b;
	}
	pthread_mutex_lock(&s->lock);
	if (s->b == b) {
		/* (still the stale one: nb replaces it, the slot's
		 * reference now nb's) */
		s->b = agent_bundle_ref(nb);
		drop = b;
	} else {
		/* (another was set meanwhile: that one is the current) */
		drop = nb;
		nb = agent_bundle_ref(s->b);
	}
	pthread_mutex_unlock(&s->lock);
	/* (the slot's reference to b, or the nb not kept; then ours to b) */
	agent_bundle_free(drop);
	agent_bundle_free(b);
	return nb;
}
