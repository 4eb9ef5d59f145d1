/* fuzz-ssh-config.c - fuzz the OpenSSH client config reader
 * (broker/ssh-config.c) and its %-token expansion.
 *
 * Every input (up to its first NUL) applied as a config file must either
 * fail with a "fuzz:LINE: ..." message or give settings whose strings are
 * there and whose notes name the file; numbers stay in their ranges. Its
 * first line, expanded for a fixed host, is either refused (NULL) or a
 * string.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "ssh-config.h"

static const struct ssh_config_ctx ctx = {
	.host = "buildbox",
	.remote_user = NULL,
	.local_user = "dev",
	.home = "/home/dev",
};

static void
check_host(const struct ssh_config_host *h)
{
	size_t i;

	for (i = 0; i < h->n_identity_files; i++) {
		if (h->identity_files[i] == NULL)
			abort();
	}
	for (i = 0; i < h->n_notes; i++) {
		if (h->notes[i] == NULL || strncmp(h->notes[i], "fuzz:", 5) != 0)
			abort();
	}
	if (h->identities_only != 0 && h->identities_only != 1)
		abort();
	if (h->batch_mode != 0 && h->batch_mode != 1)
		abort();
	if (h->server_alive_interval < 0 || h->server_alive_count_max < 0 ||
	    h->connect_timeout < 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ssh_config_host h;
	char *text, *cause = NULL, *line, *expanded;

	if (size > 65536)
		return 0;
	text = malloc(size + 1);
	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';

	ssh_config_host_init(&h);
	if (ssh_config_host_parse(&h, text, "fuzz", &ctx, &cause) != 0) {
		if (cause == NULL || strncmp(cause, "fuzz:", 5) != 0)
			abort();
		free(cause);
	} else {
		if (cause != NULL)
			abort();
		check_host(&h);
	}
	ssh_config_host_clear(&h);

	line = strndup(text, strcspn(text, "\n"));
	if (line != NULL) {
		expanded = ssh_config_expand(line, &ctx, NULL);
		free(expanded);
		free(line);
	}
	free(text);
	return 0;
}
