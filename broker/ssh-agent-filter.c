/* ssh-agent-filter.c - a filtering ssh-agent relay for libssh (see
 * ssh-agent-filter.h). */
#include "ssh-agent-filter.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "error.h"
#include "log.h"
#include "xmalloc.h"

#define AGENT_MAX_FRAME (256 * 1024)
#define AGENTC_REQUEST_IDENTITIES 11
#define AGENT_IDENTITIES_ANSWER 12

struct ssh_agent_filter {
	pthread_t thread;
	int client; /* our end of libssh's socket pair */
	int agent;  /* the real agent */
	unsigned char **blobs;
	size_t *lens;
	size_t n;
	int kept, total; /* (written by the thread; read after the join) */
};

static uint32_t
ssh_agent_filter_get32(const unsigned char *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) |
	    p[3];
}

static void
ssh_agent_filter_put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

/* One read or send of up to left bytes at offset done of ctx's buffer (the
 * system call's result). */
typedef ssize_t (*ssh_agent_filter_io)(int fd, void *ctx, size_t done, size_t left);

/* Repeat io until n bytes are done; 0, or -1 at EOF or an error. (The loop
 * is one; the buffer, writable for a read and const for a send, is each
 * io's own.) */
static int
ssh_agent_filter_all(int fd, size_t n, ssh_agent_filter_io io, void *ctx)
{
	size_t done = 0;
	ssize_t r;

	while (done < n) {
		r = io(fd, ctx, done, n - done);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		done += (size_t)r;
	}
	return 0;
}

static ssize_t
ssh_agent_filter_io_read(int fd, void *ctx, size_t done, size_t left)
{
	unsigned char *p = ctx;

	return read(fd, p + done, left);
}

/* A send's buffer, held as it is: const. */
struct ssh_agent_filter_out {
	const unsigned char *p;
};

static ssize_t
ssh_agent_filter_io_send(int fd, void *ctx, size_t done, size_t left)
{
	const struct ssh_agent_filter_out *out = ctx;

	return send(fd, out->p + done, left, MSG_NOSIGNAL);
}

/* Read exactly n bytes into p; 0, or -1 at EOF or an error. */
static int
ssh_agent_filter_read_full(int fd, unsigned char *p, size_t n)
{
	return ssh_agent_filter_all(fd, n, ssh_agent_filter_io_read, p);
}

/* Send exactly n bytes of p; 0, or -1 on an error. */
static int
ssh_agent_filter_send_full(int fd, const unsigned char *p, size_t n)
{
	struct ssh_agent_filter_out out = { p };

	return ssh_agent_filter_all(fd, n, ssh_agent_filter_io_send, &out);
}

/* One frame (length, then body) into a new buffer of *len bytes (the
 * body); NULL at EOF, on an error or a frame too large. */
static unsigned char *
ssh_agent_filter_read_frame(int fd, size_t *len)
{
	unsigned char hdr[4], *body;

	if (ssh_agent_filter_read_full(fd, hdr, 4) != 0)
		return NULL;
	*len = ssh_agent_filter_get32(hdr);
	if (*len == 0 || *len > AGENT_MAX_FRAME)
		return NULL;
	body = xmalloc(*len);
	if (ssh_agent_filter_read_full(fd, body, *len) != 0) {
		free(body);
		return NULL;
	}
	return body;
}

static int
ssh_agent_filter_write_frame(int fd, const unsigned char *body, size_t len)
{
	unsigned char hdr[4];

	ssh_agent_filter_put32(hdr, (uint32_t)len);
	return ssh_agent_filter_send_full(fd, hdr, 4) != 0 ||
		ssh_agent_filter_send_full(fd, body, len) != 0
	    ? -1
	    : 0;
}

/* Is blob one of blobs[0..n)? */
static int
ssh_agent_filter_allowed(const unsigned char *const *blobs, const size_t *lens, size_t n,
    const unsigned char *blob, size_t len)
{
	for (size_t i = 0; i < n; i++) {
		if (lens[i] == len && memcmp(blobs[i], blob, len) == 0)
			return 1;
	}
	return 0;
}

int
ssh_agent_filter_identities(const unsigned char *const *blobs, const size_t *lens,
    size_t n, const unsigned char *body, size_t len, struct buf *b, int *kept, int *total)
{
	const unsigned char *p = body + 5, *end = body + len, *blob, *comment;
	uint32_t count, i, blen, clen;
	unsigned char num[4];
	struct buf *keys;

	*kept = *total = 0;
	if (len < 5 || body[0] != AGENT_IDENTITIES_ANSWER)
		return -1;
	keys = buf_new();
	count = ssh_agent_filter_get32(body + 1);
	for (i = 0; i < count; i++) {
		if (end - p < 4 ||
		    (blen = ssh_agent_filter_get32(p)) > (size_t)(end - p) - 4)
			goto bad;
		blob = p + 4;
		p += 4 + blen;
		if (end - p < 4 ||
		    (clen = ssh_agent_filter_get32(p)) > (size_t)(end - p) - 4)
			goto bad;
		comment = p + 4;
		p += 4 + clen;
		(*total)++;
		if (!ssh_agent_filter_allowed(blobs, lens, n, blob, blen))
			continue;
		(*kept)++;
		ssh_agent_filter_put32(num, blen);
		buf_append(keys, num, 4);
		buf_append(keys, blob, blen);
		ssh_agent_filter_put32(num, clen);
		buf_append(keys, num, 4);
		buf_append(keys, comment, clen);
	}
	num[0] = AGENT_IDENTITIES_ANSWER;
	buf_append(b, num, 1);
	ssh_agent_filter_put32(num, (uint32_t)*kept);
	buf_append(b, num, 4);
	buf_append(b, buf_data(keys), buf_len(keys));
	buf_free(keys);
	return 0;
bad:
	buf_free(keys);
	*kept = *total = 0;
	return -1;
}

/* The thread: each request from libssh to the agent, and its answer back
 * (a list of identities filtered), until either side closes. */
static void *
ssh_agent_filter_main(void *arg)
{
	struct ssh_agent_filter *f = arg;
	unsigned char *req, *ans;
	size_t rlen, alen;
	struct buf *b;
	int rc;

	while ((req = ssh_agent_filter_read_frame(f->client, &rlen)) != NULL) {
		if (ssh_agent_filter_write_frame(f->agent, req, rlen) != 0 ||
		    (ans = ssh_agent_filter_read_frame(f->agent, &alen)) == NULL) {
			free(req);
			break;
		}
		if (req[0] == AGENTC_REQUEST_IDENTITIES &&
		    ans[0] == AGENT_IDENTITIES_ANSWER) {
			b = buf_new();
			rc = ssh_agent_filter_identities(
			    (const unsigned char *const *)f->blobs, f->lens, f->n, ans,
			    alen, b, &f->kept, &f->total);
			if (rc != 0) /* (libssh then sees the agent go: no key) */
				log_warn(
				    "ssh-agent filter: the agent's list of identities "
				    "is malformed (%zu bytes): dropped",
				    alen);
			if (rc == 0)
				rc = ssh_agent_filter_write_frame(
				    f->client, buf_data(b), buf_len(b));
			buf_free(b);
		} else
			rc = ssh_agent_filter_write_frame(f->client, ans, alen);
		free(req);
		free(ans);
		if (rc != 0)
			break;
	}
	shutdown(f->client, SHUT_RDWR);
	return NULL;
}

struct ssh_agent_filter *
ssh_agent_filter_start(const char *sock, const unsigned char *const *blobs,
    const size_t *lens, size_t n, int *fd, char **cause)
{
	struct ssh_agent_filter *f;
	struct sockaddr_un sun;
	int sv[2], a, err;

	if (strlen(sock) >= sizeof sun.sun_path) {
		error_set(cause, "agent socket path too long: %s", sock);
		return NULL;
	}
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, sock, strlen(sock));
	if ((a = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    connect(a, (struct sockaddr *)&sun, sizeof sun) != 0) {
		error_set_errno(cause, errno, "agent at %s", sock);
		if (a >= 0)
			close(a);
		return NULL;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
		error_set_errno(cause, errno, "agent filter: socketpair");
		close(a);
		return NULL;
	}
	f = xcalloc(1, sizeof *f);
	f->agent = a;
	f->client = sv[1];
	f->kept = f->total = -1;
	f->n = n;
	f->blobs = xcalloc(n > 0 ? n : 1, sizeof *f->blobs);
	f->lens = xcalloc(n > 0 ? n : 1, sizeof *f->lens);
	for (size_t i = 0; i < n; i++) {
		f->blobs[i] = xmalloc(lens[i] > 0 ? lens[i] : 1);
		memcpy(f->blobs[i], blobs[i], lens[i]);
		f->lens[i] = lens[i];
	}
	if ((err = pthread_create(&f->thread, NULL, ssh_agent_filter_main, f)) != 0) {
		error_set_errno(cause, err, "agent filter: thread");
		close(sv[0]);
		f->thread = pthread_self(); /* (none to join) */
		close(f->client);
		close(f->agent);
		for (size_t i = 0; i < n; i++)
			free(f->blobs[i]);
		free(f->blobs);
		free(f->lens);
		free(f);
		return NULL;
	}
	*fd = sv[0];
	return f;
}

void
ssh_agent_filter_stop(struct ssh_agent_filter *f, int *kept, int *total)
{
	/* (wakes the thread's read of either side) */
	shutdown(f->client, SHUT_RDWR);
	shutdown(f->agent, SHUT_RDWR);
	pthread_join(f->thread, NULL);
	*kept = f->kept;
	*total = f->total;
	close(f->client);
	close(f->agent);
	for (size_t i = 0; i < f->n; i++)
		free(f->blobs[i]);
	free(f->blobs);
	free(f->lens);
	free(f);
}
