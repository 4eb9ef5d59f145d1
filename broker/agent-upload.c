/* agent-upload.c - send the bundle's files to a host: as one tar stream
 * into `tar -x` over one exec channel, or, where the host has no tar, file
 * by file over SFTP (or one exec channel per file where sshd has no sftp
 * subsystem); mkdir, put, rename (agent-install-internal.h).
 *
 * Why a tar stream first: libssh's sftp_write waits for the server's answer
 * to each write, and each file costs an open and a close, so the 65 files
 * and 18 MB of a bundle took about 410 round trips over SFTP (23 s at 40 ms
 * RTT); one exec channel streams as fast as the channel's window allows,
 * and starts the user's shell (which may be slow) once. */
#include "agent-install-internal.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libssh/libssh.h>
#include <libssh/sftp.h>

#include "atomic-file.h"
#include "buf.h"
#include "error.h"
#include "ssh-session.h"
#include "tar-stream.h"
#include "xmalloc.h"

#define AGENT_FILE_MAX (256 * 1024 * 1024)
#define AGENT_SFTP_CHUNK 65536

/* Without SFTP: write stdin to a new file $1 (noclobber, as SFTP's O_EXCL),
 * then give it mode $2. */
static const char agent_exec_put_script[] = "set -C\n"
					    "umask 077\n"
					    "cat >\"$1\" && chmod \"$2\" \"$1\"\n";

/* The whole bundle: make the new directory $1 and unpack the tar stream on
 * stdin into it (the files' modes from the stream: umask 022 keeps 0755
 * and 0644 as they are). Exit AGENT_TAR_MISSING, before making anything,
 * where the host has no tar, after reading stdin to its end: exiting
 * unread, the channel could close under the broker's write and fail the
 * install instead of falling back. */
/* A stream cut short (a bundle file that changed, the broker gone) is
 * refused, and the script removes what it made once tar has ended: the
 * broker's own cleanup could run before tar's last write and leave the
 * folder behind. Cut short is told by the stream's last entry, an empty
 * AGENT_TAR_COMPLETE, not by tar's exit: a stream cut between two entries
 * is a whole archive to GNU tar (EOF at a header is its end), which exits 0
 * with the files so far. */
#define AGENT_TAR_MISSING 90
#define AGENT_TAR_COMPLETE ".rdev-upload-complete"
static const char agent_tar_put_script[] =
    "command -v tar >/dev/null 2>&1 || { cat >/dev/null; exit 90; }\n"
    "umask 022\n"
    "mkdir -m 0755 -- \"$1\" && cd -- \"$1\" || exit 1\n"
    "tar -xf - && [ -f " AGENT_TAR_COMPLETE " ] && rm -f " AGENT_TAR_COMPLETE
    " && exit 0\n"
    "rc=$?\n"
    "cd / && rm -rf -- \"$1\"\n"
    "exit $rc\n";

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

static const char *
agent_sftp_strerror(int code)
{
	switch (code) {
	case SSH_FX_OK: return "ok";
	case SSH_FX_EOF: return "end of file";
	case SSH_FX_NO_SUCH_FILE: return "no such file or directory";
	case SSH_FX_PERMISSION_DENIED: return "permission denied";
	case SSH_FX_FAILURE: return "failure (disk full, or the name exists?)";
	case SSH_FX_NO_CONNECTION:
	case SSH_FX_CONNECTION_LOST: return "connection lost";
	case SSH_FX_FILE_ALREADY_EXISTS: return "already exists";
	case SSH_FX_WRITE_PROTECT: return "read-only file system";
	case SSH_FX_NO_MEDIA: return "no media";
	default: return "error";
	}
}

static int
agent_sftp_error(struct agent_xfer *x, char **cause, const char *what, const char *path)
{
	return error_set(cause, "host %s: SFTP %s %s: %s (%s)", rdev_ssh_host_label(x->s),
	    what, path, agent_sftp_strerror(sftp_get_error(x->sftp)),
	    ssh_get_error(rdev_ssh_session(x->s)));
}

/* Start SFTP; when the host refuses it, fall back to exec channels and say
 * so. Never fails: a session too broken for SFTP fails the next exec with
 * its own message. */
void
agent_xfer_open(struct agent_xfer *x, struct rdev_ssh *s,
    void (*progress)(void *, const char *), void *arg)
{
	x->s = s;
	x->sftp = NULL;
	x->progress = progress;
	x->arg = arg;
}

/* A host without tar: start SFTP for the files, or say they go over one
 * exec channel each. */
static void
agent_xfer_start_sftp(struct agent_xfer *x)
{
	const char *label = rdev_ssh_host_label(x->s);

	if ((x->sftp = sftp_new(rdev_ssh_session(x->s))) != NULL &&
	    sftp_init(x->sftp) == SSH_OK) {
		agent_progress(x->progress, x->arg,
		    "no tar on %s: uploading file by file over SFTP", label);
		return;
	}
	agent_progress(x->progress, x->arg,
	    "no tar and no SFTP on %s: uploading file by file over exec channels (%s)",
	    label, ssh_get_error(rdev_ssh_session(x->s)));
	if (x->sftp != NULL)
		sftp_free(x->sftp);
	x->sftp = NULL;
}

void
agent_xfer_close(struct agent_xfer *x)
{
	if (x->sftp != NULL)
		sftp_free(x->sftp);
	x->sftp = NULL;
}

/* Run one of the exec-fallback commands with stdin in; 0 on exit 0, else -1
 * with *cause "host H: WHAT over an exec channel: STDERR (exit N)". */
static int
agent_xfer_exec(struct agent_xfer *x, const char *const *argv, const void *in, size_t len,
    const char *what, char **cause)
{
	char *out = NULL, *err = NULL;
	int st, rc = -1;

	if (rdev_ssh_run(x->s, argv, in, len, &out, NULL, &err, &st, cause) != 0) {
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

/* The folders the bundle's files need, each once, parents first, as new
 * strings "PREFIX/NAME" (NAME when prefix is NULL) in a new array of *n
 * (the caller frees them and it). */
static char **
agent_bundle_folders(const struct agent_bundle *b, const char *prefix, size_t *n)
{
	const char *name, *slash;
	size_t i, j, max = 0;
	char **v;
	int len, seen;

	for (i = 0; i < b->nfiles; i++)
		for (slash = b->files[i].name; (slash = strchr(slash, '/')) != NULL;
		     slash++)
			max++;
	v = xcalloc(max + 1, sizeof *v);
	*n = 0;
	for (i = 0; i < b->nfiles; i++) {
		name = b->files[i].name;
		for (slash = strchr(name, '/'); slash != NULL;
		     slash = strchr(slash + 1, '/')) {
			len = (int)(slash - name);
			seen = 0;
			for (j = 0; j < i && !seen; j++)
				seen =
				    strncmp(b->files[j].name, name, (size_t)len + 1) == 0;
			if (!seen)
				v[(*n)++] = prefix != NULL
				    ? xasprintf("%s/%.*s", prefix, len, name)
				    : xstrndup(name, (size_t)len);
		}
	}
	return v;
}

/* Make the new directory tmp and every subdirectory the bundle's files need,
 * parents first: one SFTP mkdir each, or one `mkdir` exec. */
static int
agent_xfer_mkdirs(
    struct agent_xfer *x, const struct agent_bundle *b, const char *tmp, char **cause)
{
	const char **argv;
	char *what, **dirs;
	size_t i, n, ndirs;
	int rc = 0;

	dirs = agent_bundle_folders(b, tmp, &ndirs);
	argv = xcalloc(ndirs + 6, sizeof *argv); /* "mkdir -m 0755 --" tmp dirs NULL */
	n = 0;
	argv[n++] = "mkdir";
	argv[n++] = "-m";
	argv[n++] = "0755";
	argv[n++] = "--";
	argv[n++] = tmp;
	for (i = 0; i < ndirs; i++)
		argv[n++] = dirs[i];
	if (x->sftp == NULL) {
		what = xasprintf("mkdir %s", tmp);
		rc = agent_xfer_exec(x, argv, NULL, 0, what, cause);
		free(what);
	}
	for (i = 4; i < n && x->sftp != NULL && rc == 0; i++)
		if (sftp_mkdir(x->sftp, argv[i], 0755) != 0)
			rc = agent_sftp_error(x, cause, "mkdir", argv[i]);
	for (i = 0; i < ndirs; i++)
		free(dirs[i]);
	free(dirs);
	free(argv);
	return rc;
}

/* Write data to the new file remote, with mode. */
static int
agent_xfer_put(struct agent_xfer *x, const char *remote, const char *data, size_t len,
    mode_t mode, char **cause)
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
	if ((fh = sftp_open(x->sftp, remote, O_WRONLY | O_CREAT | O_EXCL, mode)) == NULL)
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
int
agent_xfer_rename(struct agent_xfer *x, const char *from, const char *to, char **cause)
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

/* Read bundle file f, checked against its hash in MANIFEST. 0 with *data
 * (new) and *len, or -1 with *cause. */
static int
agent_bundle_file_read(const struct agent_bundle *b, const struct agent_bundle_file *f,
    char **data, size_t *len, char **cause)
{
	unsigned char got[AGENT_HASH_LEN];
	char *local = xasprintf("%s/%s", b->dir, f->name);
	int rc = file_read_all(local, AGENT_FILE_MAX, data, len, cause);

	free(local);
	if (rc != 0)
		return error_prefix(cause, "agent bundle %s", b->dir);
	agent_hash_mem(*data, *len, got);
	if (memcmp(got, f->hash, sizeof got) != 0) {
		free(*data);
		*data = NULL;
		return error_set(cause,
		    "agent bundle %s: %s changed since the bundle was "
		    "opened (does not match its hash in MANIFEST)",
		    b->dir, f->name);
	}
	if (agent_test_hooks.upload != NULL)
		agent_test_hooks.upload(
		    agent_test_hooks.arg, f->name, (unsigned char *)*data, *len);
	return 0;
}

/* Upload one bundle file to tmp/NAME: read it, check it against MANIFEST,
 * send it. */
static int
agent_upload_file(struct agent_xfer *x, const struct agent_bundle *b,
    const struct agent_bundle_file *f, const char *tmp, char **cause)
{
	char *remote, *data = NULL;
	size_t len;
	int rc;

	if (agent_bundle_file_read(b, f, &data, &len, cause) != 0)
		return -1;
	remote = xasprintf("%s/%s", tmp, f->name);
	rc = agent_xfer_put(x, remote, data, len, f->mode, cause);
	free(data);
	free(remote);
	return rc;
}

/* The bundle as a tar stream, made a piece at a time as the channel takes
 * it (rdev_ssh_input): its folders first, then each file (checked against
 * MANIFEST as it is read), then AGENT_TAR_COMPLETE and the end blocks; so no more than
 * one file is held in memory, not the whole bundle. */
struct agent_tar_input {
	const struct agent_bundle *b;
	size_t next_file; /* the file for the next piece */
	int state;	  /* 0: folders next; 1: files; 2: end next; 3: done */
	struct buf *piece;
};

static int
agent_tar_input_next(void *arg, const unsigned char **data, size_t *len, char **cause)
{
	static const unsigned char zeros[TAR_BLOCK];
	struct agent_tar_input *t = arg;
	const struct agent_bundle_file *f;
	char *file, **dirs;
	size_t i, flen, ndirs;

	buf_reset(t->piece);
	if (t->state == 0) {
		dirs = agent_bundle_folders(t->b, NULL, &ndirs);
		for (i = 0; i < ndirs; i++) {
			tar_write_header(t->piece, 'd', dirs[i], 0755, 0, 0, NULL);
			free(dirs[i]);
		}
		free(dirs);
		t->state = 1;
	} else if (t->state == 1 && t->next_file < t->b->nfiles) {
		f = &t->b->files[t->next_file++];
		if (agent_bundle_file_read(t->b, f, &file, &flen, cause) != 0)
			return -1;
		tar_write_header(
		    t->piece, 'f', f->name, (unsigned)f->mode, flen, 0, NULL);
		buf_append(t->piece, file, flen);
		buf_append(t->piece, zeros, tar_pad_len(flen));
		free(file);
	} else if (t->state != 3) {
		/* (the script's sign that nothing was cut) */
		tar_write_header(t->piece, 'f', AGENT_TAR_COMPLETE, 0644, 0, 0, NULL);
		tar_write_end(t->piece);
		t->state = 3;
	}
	*data = buf_data(t->piece);
	*len = buf_len(t->piece);
	return 0;
}

/* The whole bundle into the new directory tmp as one tar stream over one
 * exec channel. 0, 1 when the host has no tar (nothing was made), or -1
 * with *cause. */
static int
agent_upload_tar(
    struct agent_xfer *x, const struct agent_bundle *b, const char *tmp, char **cause)
{
	const char *argv[] = { "sh", "-c", agent_tar_put_script, "rdev-agent-upload", tmp,
		NULL };
	struct agent_tar_input t = { b, 0, 0, buf_new() };
	struct rdev_ssh_input in = { agent_tar_input_next, &t };
	char *out = NULL, *err = NULL;
	int st, rc = -1;

	if (rdev_ssh_run_input(x->s, argv, &in, &out, NULL, &err, &st, cause) != 0)
		error_prefix(cause, "uploading %s over an exec channel", tmp);
	else if (st == AGENT_TAR_MISSING)
		rc = 1;
	else if (st != 0)
		error_set(cause,
		    "host %s: uploading %s with tar over an exec channel: %s (exit %d)",
		    rdev_ssh_host_label(x->s), tmp,
		    *agent_trim(err) != '\0' ? err : "failed", st);
	else
		rc = 0;
	buf_free(t.piece);
	free(out);
	free(err);
	return rc;
}

/* Into the new directory tmp: the bundle as a tar stream, or, where the host
 * has no tar, tmp and the folders the bundle's files need, then the files
 * one by one. */
int
agent_upload(
    struct agent_xfer *x, const struct agent_bundle *b, const char *tmp, char **cause)
{
	size_t i;
	int rc;

	if ((rc = agent_upload_tar(x, b, tmp, cause)) <= 0)
		return rc;
	if (x->sftp == NULL)
		agent_xfer_start_sftp(x);
	if (agent_xfer_mkdirs(x, b, tmp, cause) != 0)
		return -1;
	for (i = 0; i < b->nfiles; i++)
		if (agent_upload_file(x, b, &b->files[i], tmp, cause) != 0)
			return -1;
	return 0;
}
