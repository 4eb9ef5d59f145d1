/* oci-auth.c - what a registry's 401 asks for and what its token endpoint
 * answers: the WWW-Authenticate challenge and the token reply (oci.h). Pure.
 * (Which credentials we answer with: oci-cred.c.) */
#include "oci.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "error.h"
#include "xmalloc.h"

/* Read one auth-param value at *p: a quoted-string (with \ escapes) or a
 * token. New string, *p moved past it; NULL if malformed. */
static char *
oci_challenge_value(const char **p)
{
	const char *s = *p;
	struct buf *b;

	if (*s != '"') {
		size_t n = strcspn(s, ", \t");
		*p = s + n;
		return n > 0 ? xstrndup(s, n) : NULL;
	}
	b = buf_new();
	for (s++; *s != '"'; s++) {
		if (*s == '\\' && s[1] != '\0')
			s++;
		if (*s == '\0') {
			buf_free(b);
			return NULL;
		}
		buf_append(b, s, 1);
	}
	*p = s + 1;
	{
		char *text = buf_take_string(b, NULL);

		buf_free(b);
		return text;
	}
}

int
oci_challenge_parse(const char *header, struct oci_challenge *c, char **cause)
{
	const char *p = header;
	size_t n;

	memset(c, 0, sizeof *c);
	while (*p == ' ')
		p++;
	n = strcspn(p, " \t,=");
	if (n == 0 || p[n] == '=')
		return error_set(
		    cause, "malformed WWW-Authenticate header: %.100s", header);
	c->scheme = xstrndup(p, n);
	for (p += n;;) {
		char *key, *value, **slot = NULL;

		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (*p == '\0')
			return 0;
		n = strcspn(p, " \t,=");
		if (n == 0 || p[n] != '=') {
			/* The next challenge ("Basic realm=..., Bearer ...") or junk:
			 * the first challenge is all we use. */
			return 0;
		}
		key = xstrndup(p, n);
		p += n + 1;
		if ((value = oci_challenge_value(&p)) == NULL) {
			free(key);
			oci_challenge_clear(c);
			return error_set(
			    cause, "malformed WWW-Authenticate header: %.100s", header);
		}
		if (strcasecmp(key, "realm") == 0)
			slot = &c->realm;
		else if (strcasecmp(key, "service") == 0)
			slot = &c->service;
		else if (strcasecmp(key, "scope") == 0)
			slot = &c->scope;
		free(key);
		if (slot != NULL) {
			free(*slot);
			*slot = value;
		} else
			free(value);
	}
}

void
oci_challenge_clear(struct oci_challenge *c)
{
	free(c->scheme);
	free(c->realm);
	free(c->service);
	free(c->scope);
	memset(c, 0, sizeof *c);
}

char *
oci_auth_token_parse(const char *json, size_t len)
{
	cJSON *doc = cJSON_ParseWithLength(json, len), *t;
	char *out = NULL;

	t = cJSON_GetObjectItemCaseSensitive(doc, "token");
	if (!cJSON_IsString(t) || t->valuestring[0] == '\0')
		t = cJSON_GetObjectItemCaseSensitive(doc, "access_token");
	if (cJSON_IsString(t) && t->valuestring[0] != '\0')
		out = xstrdup(t->valuestring);
	cJSON_Delete(doc);
	return out;
}
