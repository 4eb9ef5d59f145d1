/* mux-upload.c - the agent session's upload hop alone, CPU per byte: a
 * writer process (in sshd's place) writes DATA frames of one "tcp" stream
 * into a pipe in 32 KiB writes, honouring the agent's WINDOW grants; this
 * process runs serve_mux on the pipe's other end; a sink process reads the
 * stream's TCP connection on 127.0.0.1 (the container's server). Prints the
 * CPU time (utime + stime) of each of the three.
 *
 *   build/bench/mux-upload [BYTES [WRITE_SIZE]]     (default 10^9, 32768)
 *
 * Not run by ctest: an A/B of agent/serve-mux.c between two builds. */
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "byte-order.h"
#include "proto.h"
#include "host-usage.h"
#include "serve-mux.h"

static int
mux_upload_agent(void *arg, char **cause)
{
	(void)arg;
	*cause = strdup("no agent streams here");
	return -1;
}

static void
mux_upload_write(int fd, const unsigned char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		if ((w = write(fd, p, n)) < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			perror("mux-upload: write");
			exit(1);
		}
		p += w;
		n -= (size_t)w;
	}
}

static double
mux_upload_ms(const struct rusage *r)
{
	return (double)(r->ru_utime.tv_sec + r->ru_stime.tv_sec) * 1e3 +
	    (double)(r->ru_utime.tv_usec + r->ru_stime.tv_usec) / 1e3;
}

/* The sink: reads its one connection to the end, says if bytes are missing. */
static void
mux_upload_sink(int lfd, size_t total)
{
	static char b[1 << 16];
	int c = accept(lfd, NULL, NULL);
	size_t got = 0;
	ssize_t n;

	while ((n = read(c, b, sizeof b)) > 0)
		got += (size_t)n;
	if (got != total)
		fprintf(
		    stderr, "mux-upload: the sink got %zu bytes of %zu\n", got, total);
	_exit(0);
}

/* The writer, as the broker through sshd: HELLO, the open, DATA within the
 * credit, EOF; ends at the agent's CLOSE. */
static void
mux_upload_writer(int to, int from, int port, size_t total, size_t wsize)
{
	struct buf *out = buf_new(), *in = buf_new();
	static unsigned char payload[65536], tmp[65536];
	cJSON *hello = proto_hello_new("mux-upload");
	struct proto_frame f;
	const char *w;
	char req[256], *why = NULL;
	long long credit = -1;
	size_t sent = 0, len, used;
	ssize_t n;
	int closed = 0;

	proto_encode_json(out, PROTO_HELLO, 0, hello, NULL);
	snprintf(req, sizeof req,
	    "{\"id\":1,\"op\":\"open\",\"connect\":\"tcp\",\"address\":\"127.0.0.1\","
	    "\"port\":%d,\"window\":1048576}",
	    port);
	proto_encode(out, PROTO_CONTROL, 0, req, strlen(req));
	memset(payload, 'u', sizeof payload);
	while (!closed) {
		while (credit > 0 && sent < total) {
			len =
			    total - sent < sizeof payload ? total - sent : sizeof payload;
			if ((long long)len > credit)
				len = (size_t)credit;
			proto_encode(out, PROTO_DATA, 1, payload, len);
			sent += len;
			credit -= (long long)len;
			if (sent == total)
				proto_encode(out, PROTO_EOF, 1, NULL, 0);
			for (size_t at = 0; at < buf_len(out); at += len) {
				len =
				    buf_len(out) - at < wsize ? buf_len(out) - at : wsize;
				mux_upload_write(to, buf_data(out) + at, len);
			}
			buf_consume(out, buf_len(out));
		}
		mux_upload_write(to, buf_data(out), buf_len(out));
		buf_consume(out, buf_len(out));
		if ((n = read(from, tmp, sizeof tmp)) <= 0)
			break;
		buf_append(in, tmp, (size_t)n);
		while (proto_decode(buf_data(in), buf_len(in), &f, &used, &why) > 0) {
			if (f.type == PROTO_CONTROL && credit < 0) {
				w = memmem(f.payload, f.len, "\"window\":", 9);
				credit = w != NULL ? atoll(w + 9) : 0;
			} else if (f.type == PROTO_WINDOW && f.len == 4)
				credit += be_get_u32(f.payload);
			else if (f.type == PROTO_CLOSE)
				closed = 1;
			buf_consume(in, used);
		}
	}
	_exit(0);
}

int
main(int argc, char **argv)
{
	size_t total = argc > 1 ? strtoull(argv[1], NULL, 10) : 1000000000;
	size_t wsize = argc > 2 ? strtoull(argv[2], NULL, 10) : 32768;
	struct sockaddr_in sa = { 0 };
	socklen_t sl = sizeof sa;
	struct rusage r0, r1, rs, rw;
	struct serve_mux *m;
	pid_t sink, writer;
	int to[2], from[2], lfd;

	if (wsize == 0 || pipe(to) != 0 || pipe(from) != 0 ||
	    (lfd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
		return 1;
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(lfd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(lfd, 1) != 0 ||
	    getsockname(lfd, (struct sockaddr *)&sa, &sl) != 0)
		return 1;
	if ((sink = fork()) == 0)
		mux_upload_sink(lfd, total);
	close(lfd);
	if ((writer = fork()) == 0) {
		close(to[0]);
		close(from[1]);
		mux_upload_writer(to[1], from[0], ntohs(sa.sin_port), total, wsize);
	}
	close(to[1]);
	close(from[0]);
	m = serve_mux_new(to[0], from[1], host_usage_cpus(), mux_upload_agent, NULL);
	getrusage(RUSAGE_SELF, &r0);
	while (serve_mux_poll(m, NULL, 0, 1000) == 1)
		;
	getrusage(RUSAGE_SELF, &r1);
	if (wait4(sink, NULL, 0, &rs) < 0 || wait4(writer, NULL, 0, &rw) < 0)
		return 1;
	printf("%zu bytes: CPU ms mux %.0f, writer %.0f, sink %.0f\n", total,
	    mux_upload_ms(&r1) - mux_upload_ms(&r0), mux_upload_ms(&rw),
	    mux_upload_ms(&rs));
	serve_mux_free(m);
	close(to[0]);
	close(from[1]);
	return 0;
}
