/* host-client.c - talking to a client of a host session before its splice,
 * on its blocking fd: frames, progress, errors, and the passphrase and
 * password prompts relayed to it while connecting (host-internal.h). */
#include "host-internal.h"

#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "atomic-file.h"
#include "buf.h"
#include "proto.h"
#include "xmalloc.h"

#define HOST_ASK_TIMEOUT_MS 120000

void
host_send_json(int fd, enum proto_type type, const cJSON *obj)
{
	struct buf *b = buf_new();

	if (proto_encode_json(b, type, 0, obj, NULL) == 0)
		fd_write_all(fd, buf_data(b), buf_len(b));
	buf_free(b);
}

static void
host_send_progress(int fd, int id, const char *text)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddNumberToObject(o, "id", id);
	cJSON_AddStringToObject(o, "event", "progress");
	cJSON_AddStringToObject(o, "text", text);
	host_send_json(fd, PROTO_CONTROL, o);
	cJSON_Delete(o);
}

void
host_send_failure(
    int fd, int id, const char *error, const struct ssh_connect_report *report)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddNumberToObject(o, "id", id);
	cJSON_AddBoolToObject(o, "ok", 0);
	cJSON_AddStringToObject(o, "error", error);
	if (report != NULL && report->fail != SSH_FAIL_NONE)
		cJSON_AddStringToObject(o, "errorKind", rdev_ssh_fail_name(report->fail));
	/* (what the handshake got to: pool-probe's words for it) */
	if (report != NULL && report->fail == SSH_FAIL_HANDSHAKE) {
		if (report->proxied)
			cJSON_AddBoolToObject(o, "proxied", 1);
		if (report->banner[0] != '\0')
			cJSON_AddStringToObject(o, "banner", report->banner);
	}
	host_send_json(fd, PROTO_CONTROL, o);
	cJSON_Delete(o);
}

void
host_send_error(int fd, int id, const char *error)
{
	host_send_failure(fd, id, error, NULL);
}

/* Progress for every client waiting on the connect/install. Written
 * outside the lock (a client that stopped reading must not hold status and
 * submit in the main thread); only this thread takes jobs off the queue. */
void
host_progress_all(void *arg, const char *line)
{
	struct host_session *h = arg;
	struct host_job *j;
	char *text = xasprintf("%s\n", line);
	int *fds, *ids;
	size_t n = 0, i;

	pthread_mutex_lock(&h->lock);
	TAILQ_FOREACH(j, &h->jobs, entry)
		n++;
	fds = xcalloc(n + 1, sizeof *fds);
	ids = xcalloc(n + 1, sizeof *ids);
	n = 0;
	TAILQ_FOREACH(j, &h->jobs, entry) {
		fds[n] = j->fd;
		ids[n++] = j->request_id;
	}
	pthread_mutex_unlock(&h->lock);
	for (i = 0; i < n; i++)
		host_send_progress(fds[i], ids[i], text);
	free(fds);
	free(ids);
	free(text);
}

/* ssh_target_opts.ask: a passphrase or password prompt while connecting goes
 * to the first waiting user's client (not the broker's own probes and syncs,
 * which cannot answer) as a "prompt" event; its "answer" comes back
 * on the same connection (it sends nothing else while it waits). */
int
host_ask(void *arg, const char *prompt, int echo, char *buf, size_t len)
{
	struct host_session *h = arg;
	struct buf *in = buf_new();
	unsigned char tmp[4096];
	struct proto_frame f;
	struct pollfd p;
	const cJSON *text;
	cJSON *o, *msg;
	size_t used;
	struct host_job *j;
	int fd, id, rc = -1, r;
	ssize_t n;

	pthread_mutex_lock(&h->lock);
	TAILQ_FOREACH(j, &h->jobs, entry)
		if (j->can_prompt)
			break;
	fd = j != NULL ? j->fd : -1;
	id = j != NULL ? j->request_id : 0;
	pthread_mutex_unlock(&h->lock);
	if (fd < 0)
		goto out;
	o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "id", id);
	cJSON_AddStringToObject(o, "event", "prompt");
	cJSON_AddStringToObject(o, "text", prompt);
	cJSON_AddBoolToObject(o, "echo", echo);
	host_send_json(fd, PROTO_CONTROL, o);
	cJSON_Delete(o);
	for (;;) {
		while (
		    (r = proto_decode(buf_data(in), buf_len(in), &f, &used, NULL)) == 1) {
			msg = f.type == PROTO_CONTROL ? proto_frame_json(&f, NULL) : NULL;
			buf_consume(in, used);
			if (msg == NULL)
				continue;
			text = cJSON_GetObjectItemCaseSensitive(msg, "text");
			if (cJSON_IsString(text) && strlen(text->valuestring) < len) {
				strcpy(buf, text->valuestring);
				sodium_memzero(
				    text->valuestring, strlen(text->valuestring));
				rc = 0;
			}
			cJSON_Delete(msg);
			goto out; /* an answer, or a cancel */
		}
		if (r < 0)
			goto out;
		p = (struct pollfd){ .fd = fd, .events = POLLIN };
		if (poll(&p, 1, HOST_ASK_TIMEOUT_MS) <= 0)
			goto out;
		if ((n = read(fd, tmp, sizeof tmp)) <= 0)
			goto out;
		buf_append(in, tmp, (size_t)n);
	}
out:
	sodium_memzero(tmp, sizeof tmp);
	buf_free(in);
	return rc;
}
