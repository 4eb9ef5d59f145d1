/* fuzz-agent-answer.c - fuzz the commands' handling of an agent's answers:
 * a hostile or broken agent must not crash the client.
 *
 * The first byte picks a command (up, stop, down, ls, logs, logs --json,
 * read-configuration, status's printer) or the broker's reader of a "relay"
 * answer (for a container, for a Compose service); the rest is the answer a backend
 * gives it: JSON text, or, when the second byte is '!', an error with that
 * text as the cause. The command runs through a backend whose call returns
 * that (agent-cmds.h: the same path a remote agent's answer takes), with its
 * output thrown away. Any exit code is fine; a crash or a sanitizer report is
 * not; a relay answer taken must have a port in 1..65535 (0 for a service).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent-cmds.h"
#include "client.h"
#include "fuzz.h"
#include "forward.h"
#include "host-internal.h"
#include "xmalloc.h"

struct answer {
	const char *text;
	int error;
};

static int
fake_call(void *ctx, cJSON *req, const struct progress *p, cJSON **result, char **cause)
{
	const struct answer *a = ctx;

	cJSON_Delete(req);
	*result = NULL;
	if (a->error) {
		*cause = xstrdup(a->text);
		return -1;
	}
	if ((*result = cJSON_Parse(a->text)) == NULL) {
		*cause = xstrdup("not JSON");
		return -1;
	}
	return 0;
}

static int
fake_exec(void *ctx, const char *prog_name, const struct agent_exec_req *req)
{
	return 0;
}

static const struct cmd_entry entry = { "fuzz", "", "", NULL, NULL };
static const struct cmd_entry *const entries[] = { &entry, NULL };
static const struct cmd_program prog = { "rdev", "fuzz", entries, NULL, NULL, NULL,
	NULL };

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int quiet;
	struct answer a;
	struct agent_backend be = { .call = fake_call, .exec = fake_exec, .ctx = &a };
	char *text, *argv[4] = { (char *)"cmd", (char *)"/ws", NULL, NULL };
	cJSON *ports = NULL, *st;
	int which;

	if (!quiet) {
		/* The commands print; sanitizer reports still reach fd 2. */
		stdout = fopen("/dev/null", "w");
		stderr = fopen("/dev/null", "w");
		if (stdout == NULL || stderr == NULL)
			abort();
		quiet = 1;
	}
	if (size < 1)
		return 0;
	which = data[0] % 10;
	a.error = size > 1 && data[1] == '!';
	text = xmalloc(size);
	memcpy(text, data + 1 + a.error, size - 1 - (size_t)a.error);
	text[size - 1 - a.error] = '\0';
	a.text = text;
	switch (which) {
	case 0:
		agent_cmd_up(&be, &prog, &entry, 2, argv, &ports, NULL, NULL);
		cJSON_Delete(ports);
		break;
	case 1: agent_cmd_stop(&be, &prog, &entry, 2, argv); break;
	case 2: agent_cmd_down(&be, &prog, &entry, 2, argv); break;
	case 3: agent_cmd_ls(&be, &prog, &entry, 1, argv); break;
	case 4: agent_cmd_logs(&be, &prog, &entry, 2, argv); break;
	case 5:
		argv[2] = (char *)"--json";
		agent_cmd_logs(&be, &prog, &entry, 3, argv);
		break;
	case 6: agent_cmd_read_configuration(&be, &prog, &entry, 2, argv); break;
	case 8:
	case 9: {
		unsigned char token[FORWARD_RELAY_TOKEN_LEN];
		char *address = NULL;
		int port = -1;

		if ((st = cJSON_Parse(text)) != NULL &&
		    forward_relay_parse(st, which == 9, &address, &port, token) == 0 &&
		    (address == NULL ||
			(which == 8 ? port < 1 || port > 65535 : port != 0)))
			abort();
		free(address);
		cJSON_Delete(st);
		break;
	}
	case 7:
		if ((st = cJSON_Parse(text)) != NULL)
			client_status_print(st, "/ws");
		cJSON_Delete(st);
		break;
	}
	fflush(stdout);
	free(text);
	return 0;
}
