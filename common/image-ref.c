/* image-ref.c - Docker image references by Docker's grammar (image-ref.h). */
#include "image-ref.h"

#include <stdlib.h>
#include <string.h>

#include "quote.h"
#include "xmalloc.h"

/* [a-z0-9] */
static int
image_ref_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* [A-Za-z0-9] */
static int
image_ref_alnum_any(char c)
{
	return image_ref_alnum(c) || (c >= 'A' && c <= 'Z');
}

/* Is s[0..n) one path component: [a-z0-9]+ then ([._]|__|-+)[a-z0-9]+ ...? */
static int
image_ref_path_component(const char *s, size_t n)
{
	size_t i = 0, start;

	for (;;) {
		for (start = i; i < n && image_ref_alnum(s[i]); i++)
			;
		if (i == start)
			return 0;
		if (i == n)
			return 1;
		if (s[i] == '.')
			i++;
		else if (s[i] == '_')
			i += i + 1 < n && s[i + 1] == '_' ? 2 : 1;
		else if (s[i] == '-')
			while (i < n && s[i] == '-')
				i++;
		else
			return 0;
	}
}

/* Is s[0..n) a registry: host[:port], host a dotted name (or IPv4
 * address) or [IPv6]? */
static int
image_ref_domain(const char *s, size_t n)
{
	size_t i = 0;

	if (n > 0 && s[0] == '[') {
		/* Docker's \[[a-fA-F0-9:]+\]: no zone ("%eth0"), no dotted
		 * IPv4-mapped tail */
		for (i = 1; i < n && s[i] != ']'; i++)
			if (!((s[i] >= '0' && s[i] <= '9') ||
				(s[i] >= 'a' && s[i] <= 'f') ||
				(s[i] >= 'A' && s[i] <= 'F') || s[i] == ':'))
				return 0;
		if (i == n || i == 1)
			return 0;
		i++;
	} else
		for (;;) {
			if (i == n || !image_ref_alnum_any(s[i]))
				return 0;
			while (i < n && (image_ref_alnum_any(s[i]) || s[i] == '-'))
				i++;
			if (s[i - 1] == '-')
				return 0;
			if (i == n || s[i] != '.')
				break;
			i++;
		}
	if (i == n)
		return 1;
	if (s[i] != ':' || i + 1 == n)
		return 0;
	for (i++; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

/* [\w] */
static int
image_ref_word(char c)
{
	return image_ref_alnum_any(c) || c == '_';
}

/* Is s[0..n) a tag: [\w][\w.-]{0,127}? */
static int
image_ref_tag(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > 128 || !image_ref_word(s[0]))
		return 0;
	for (i = 1; i < n; i++)
		if (!image_ref_word(s[i]) && s[i] != '.' && s[i] != '-')
			return 0;
	return 1;
}

/* Is s a digest: algorithm ":" 32 or more hex digits? */
static int
image_ref_digest(const char *s)
{
	const char *colon = strchr(s, ':'), *p;
	size_t hex = 0;
	int letter_next = 1;

	if (colon == NULL || colon == s)
		return 0;
	for (p = s; p < colon; p++) {
		if (letter_next) {
			if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
				return 0;
			letter_next = 0;
		} else if (*p == '+' || *p == '.' || *p == '_' || *p == '-')
			letter_next = 1;
		else if (!image_ref_alnum_any(*p))
			return 0;
	}
	if (letter_next)
		return 0;
	for (p = colon + 1; *p != '\0'; p++, hex++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f') ||
			(*p >= 'A' && *p <= 'F')))
			return 0;
	return hex >= 32;
}

/* Has s[0..n) an upper-case letter? */
static int
image_ref_has_upper(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] >= 'A' && s[i] <= 'Z')
			return 1;
	return 0;
}

/* Is s[0..n) 64 lower-case hex digits (an image id, which Docker refuses
 * as a whole reference)? */
static int
image_ref_is_id(const char *s, size_t n)
{
	size_t i;

	if (n != 64)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

/* The length of the name Docker checks against 255: distribution's
 * ParseNormalizedNamed parses domain + "/" + remainder, with docker.io when
 * no domain is given (index.docker.io becomes docker.io) and "library/"
 * before a docker.io remainder without a '/' ("app" is checked as
 * "docker.io/library/app": 18 more bytes). */
static size_t
image_ref_normalised_len(const char *s, const struct image_ref *ref)
{
	size_t domain = ref->domain_len, path, full;
	const char *rest = s + (domain > 0 ? domain + 1 : 0);

	path = ref->name_len - (size_t)(rest - s);
	if (domain == 0 || (domain == 15 && strncmp(s, "index.docker.io", 15) == 0))
		domain = 9; /* docker.io */
	else if (domain != 9 || strncmp(s, "docker.io", 9) != 0)
		return domain + 1 + path;
	full = domain + 1 + path;
	if (memchr(rest, '/', path) == NULL)
		full += strlen("library/");
	return full;
}

int
image_ref_parse(const char *s, struct image_ref *ref, const char **why)
{
	const char *at = strchr(s, '@'), *slash, *colon, *path, *p, *end;
	size_t len;

	memset(ref, 0, sizeof *ref);
	if (*s == '\0')
		return *why = "an empty name", -1;
	/* ParseNormalizedNamed matches ^[a-f0-9]{64}$ against the whole
	 * string: "<64 hex>:v1" is a name like any other */
	if (image_ref_is_id(s, strlen(s)))
		return *why = "cannot specify 64-byte hexadecimal strings", -1;
	if (at != NULL) {
		if (!image_ref_digest(at + 1))
			return *why = "invalid digest format", -1;
		ref->digest_len = strlen(at + 1);
		len = (size_t)(at - s);
	} else
		len = strlen(s);
	/* the tag: after the last ':' that no '/' follows */
	for (colon = NULL, p = s; p < s + len; p++)
		if (*p == ':')
			colon = p;
		else if (*p == '/')
			colon = NULL;
	if (colon != NULL) {
		ref->tag_len = len - (size_t)(colon - s) - 1;
		if (!image_ref_tag(colon + 1, ref->tag_len))
			return *why = "invalid tag format (a tag is [A-Za-z0-9_] then "
				      "up to 127 of [A-Za-z0-9_.-])",
			       -1;
		len = (size_t)(colon - s);
	}
	if (len == 0)
		return *why = "an empty repository name", -1;
	ref->name_len = len;
	path = s;
	slash = memchr(s, '/', len);
	if (slash != NULL &&
	    (memchr(s, '.', (size_t)(slash - s)) != NULL ||
		memchr(s, ':', (size_t)(slash - s)) != NULL ||
		((size_t)(slash - s) == 9 && strncmp(s, "localhost", 9) == 0) ||
		image_ref_has_upper(s, (size_t)(slash - s)))) {
		if (!image_ref_domain(s, (size_t)(slash - s)))
			return *why = "invalid registry host[:port]", -1;
		ref->domain_len = (size_t)(slash - s);
		path = slash + 1;
	}
	if (image_ref_has_upper(path, (size_t)(s + len - path)))
		return *why = "repository name must be lowercase", -1;
	for (end = s + len; path <= end; path = p + 1) {
		if ((p = memchr(path, '/', (size_t)(end - path))) == NULL)
			p = end;
		if (!image_ref_path_component(path, (size_t)(p - path)))
			return *why = "invalid reference format (a repository path "
				      "component is [a-z0-9]+ joined by '.', '_', '__' "
				      "or '-')",
			       -1;
	}
	if (image_ref_normalised_len(s, ref) > 255)
		return *why = ref->domain_len == 0
			   ? "repository name must not be more than 255 characters "
			     "(with the docker.io/library/ Docker adds)"
			   : "repository name must not be more than 255 characters",
		       -1;
	return 0;
}

char *
image_ref_tag_check(const char *what, const char *s)
{
	struct image_ref ref;
	const char *why;
	char *quoted = quote_needed(s) ? quote_string(s, 80) : NULL, *msg;

	if (image_ref_parse(s, &ref, &why) == 0) {
		if (ref.digest_len == 0) {
			free(quoted);
			return NULL;
		}
		why = "an image is tagged with a name, not a digest";
	}
	msg = xasprintf("%s %s: %s (an image name is "
			"[REGISTRY[:PORT]/]PATH[:TAG], PATH lowercase)",
	    what, quoted != NULL ? quoted : s, why);
	free(quoted);
	return msg;
}
