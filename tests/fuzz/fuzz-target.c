/* fuzz-target.c - fuzz the TARGET parser (common/target.c), and the image
 * reference parser (common/image-ref.c) on the same input: both take a name
 * as a user types it on the command line.
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
#include "image-ref.h"
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

/* image_ref_parse() on text: a reason, or parts that add up to the text:
 * name[:tag][@digest], a registry no longer than the name, a name of at most
 * 255 bytes without upper case outside the registry; image_ref_tag_check()
 * agrees. */
static void
check_image_ref(const char *text)
{
	struct image_ref r;
	const char *why = NULL;
	char *msg;
	size_t len = strlen(text), i;

	msg = image_ref_tag_check("--image-name", text);
	if (image_ref_parse(text, &r, &why) != 0) {
		if (why == NULL || msg == NULL)
			abort();
		free(msg);
		return;
	}
	if (r.name_len == 0 || r.name_len > 255 || r.domain_len >= r.name_len ||
	    r.name_len + (r.tag_len > 0 ? r.tag_len + 1 : 0) +
		    (r.digest_len > 0 ? r.digest_len + 1 : 0) !=
		len ||
	    (r.tag_len > 0 && text[r.name_len] != ':') ||
	    (r.digest_len > 0 && text[len - r.digest_len - 1] != '@') ||
	    (msg == NULL) != (r.digest_len == 0))
		abort();
	for (i = r.domain_len; i < r.name_len; i++)
		if (text[i] >= 'A' && text[i] <= 'Z')
			abort();
	free(msg);
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
	check_image_ref(text);
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
