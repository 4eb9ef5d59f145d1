/* fuzz-target.c - fuzz the TARGET parser (common/target.c).
 *
 * Every input (up to its first NUL) must either fail with a message that
 * names the target ("target 'x': ...", "empty target") and leave the struct
 * cleared, or give a target whose
 * members hold what target.h promises: a host that is not empty, has no
 * control characters and does not start with '-'; a port in 0..65535; a
 * path that is not empty; a pool name for @POOL.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "target.h"

static int
has_control(const char *s)
{
	for (; *s != '\0'; s++) {
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 1;
	}
	return 0;
}

static void
check_target(const struct target *t)
{
	switch (t->kind) {
	case TARGET_LOCAL:
		if (t->path == NULL || t->path[0] == '\0')
			abort();
		break;
	case TARGET_SSH:
		if (t->host == NULL || t->host[0] == '\0' || t->host[0] == '-' ||
		    has_control(t->host))
			abort();
		if (t->user != NULL &&
		    (t->user[0] == '\0' || t->user[0] == '-' || has_control(t->user)))
			abort();
		if (t->port < 0 || t->port > 65535)
			abort();
		if (t->path == NULL || t->path[0] == '\0' || has_control(t->path))
			abort();
		break;
	case TARGET_POOL:
		if (t->pool == NULL)
			abort();
		break;
	case TARGET_HOST:
		if (t->host == NULL || t->host[0] == '\0' || t->host[0] == '-' ||
		    has_control(t->host) || t->path != NULL)
			abort();
		break;
	default: abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct target t;
	char *text, *cause = NULL;

	if (size > 4096)
		return 0;
	text = malloc(size + 1);
	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (target_parse(text, &t, &cause) != 0) {
		if (cause == NULL || strstr(cause, "target") == NULL)
			abort();
		if (t.host != NULL || t.path != NULL || t.user != NULL || t.pool != NULL)
			abort();
		free(cause);
	} else {
		if (cause != NULL)
			abort();
		check_target(&t);
		target_clear(&t);
	}
	free(text);
	return 0;
}
