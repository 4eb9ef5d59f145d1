/* host-agent.c - asking the agent, from a host session's thread
 * (host-internal.h). */
#include "host-internal.h"

#include <stdint.h>
#include <stdlib.h>

#include "buf.h"
#include "error.h"

/* Run one request on a new `rdev-agent serve` channel and wait for its
 * response (events are skipped). 0 and *result (may be NULL), or -1. */
int
host_agent_call(struct host_session *h, cJSON *req, cJSON **result, char **cause)
{
	ssh_session ss = rdev_ssh_session(h->ssh);
	const char *argv[] = { h->agent_path, "serve", NULL };
	struct buf *out = buf_new(), *in = buf_new();
	unsigned char tmp[16384];
	struct proto_frame f;
	cJSON *hello, *msg;
	const cJSON *v;
	ssh_channel ch;
	size_t used;
	char *cmd;
	int rc = -1, n, got_hello = 0, r;
	uint32_t version;

	*result = NULL;
	ch = ssh_channel_new(ss);
	cmd = rdev_ssh_quote_argv(argv);
	if (ch == NULL || ssh_channel_open_session(ch) != SSH_OK ||
	    ssh_channel_request_exec(ch, cmd) != SSH_OK) {
		error_set(cause, "%s: cannot run the agent: %s", h->label, ssh_get_error(ss));
		goto out;
	}
	hello = proto_hello_new("rdev-broker " RDEV_VERSION);
	proto_encode_json(out, PROTO_HELLO, 0, hello, NULL);
	cJSON_Delete(hello);
	if (proto_encode_json(out, PROTO_CONTROL, 0, req, cause) != 0)
		goto out;
	if (ssh_channel_write(ch, buf_data(out), (uint32_t)buf_len(out)) !=
	    (int)buf_len(out)) {
		error_set(cause, "%s: writing to the agent: %s", h->label, ssh_get_error(ss));
		goto out;
	}
	for (;;) {
		while ((r = proto_decode(buf_data(in), buf_len(in), &f, &used, cause)) == 1) {
			msg = proto_frame_json(&f, NULL);
			buf_consume(in, used);
			if (msg == NULL)
				continue;
			if (f.type == PROTO_HELLO && !got_hello) {
				got_hello = 1;
				if (proto_hello_negotiate(msg, &version, cause) != 0) {
					cJSON_Delete(msg);
					goto out;
				}
			} else if (f.type == PROTO_FATAL) {
				v = cJSON_GetObjectItemCaseSensitive(msg, "error");
				error_set(cause, "%s: agent: %s", h->label,
				    cJSON_IsString(v) ? v->valuestring : "fatal error");
				cJSON_Delete(msg);
				goto out;
			} else if (f.type == PROTO_CONTROL &&
			    cJSON_GetObjectItemCaseSensitive(msg, "ok") != NULL) {
				v = cJSON_GetObjectItemCaseSensitive(msg, "error");
				if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(msg, "ok"))) {
					*result = cJSON_DetachItemFromObjectCaseSensitive(msg,
					    "result");
					rc = 0;
				} else
					error_set(cause, "%s: %s", h->label,
					    cJSON_IsString(v) ? v->valuestring : "failed");
				cJSON_Delete(msg);
				goto out;
			}
			cJSON_Delete(msg);
		}
		if (r < 0)
			goto out;
		n = ssh_channel_read_timeout(ch, tmp, sizeof tmp, 0, 60000);
		if (n <= 0) {
			error_set(cause, "%s: the agent did not answer", h->label);
			goto out;
		}
		buf_append(in, tmp, (size_t)n);
	}
out:
	if (ch != NULL) {
		if (ssh_channel_is_open(ch)) {
			ssh_channel_send_eof(ch);
			ssh_channel_close(ch);
		}
		ssh_channel_free(ch);
	}
	free(cmd);
	buf_free(out);
	buf_free(in);
	return rc;
}
