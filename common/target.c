/* target.c - parsing a TARGET (see target.h). */
#include "target.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "error.h"
#include "xmalloc.h"

#define TARGET_MAX_HOST 255
#define TARGET_MAX_USER 256
#define TARGET_MAX_PATH 4096

int
target_is_remote(const char *target)
{
	const char *colon = strchr(target, ':'), *slash = strchr(target, '/');
	struct stat sb;

	if (strncmp(target, "ssh://", 6) == 0 || target[0] == '@')
		return 1;
	if (colon == NULL || (slash != NULL && slash < colon))
		return 0;
	return stat(target, &sb) != 0;
}

void
target_clear(struct target *t)
{
	free(t->user);
	free(t->host);
	free(t->path);
	free(t->pool);
	memset(t, 0, sizeof *t);
}

/* Characters allowed in a host name or user name. */
static int
target_name_char(int c)
{
	return isascii(c) && (isalnum(c) || c == '.' || c == '_' || c == '-');
}

/* Check a user name (len bytes at s); 0 or -1 with *cause. */
static int
target_check_user(const char *text, const char *s, size_t len, char **cause)
{
	size_t i;

	if (len == 0)
		return error_set(cause, "target '%s': empty user name before '@'", text);
	if (len > TARGET_MAX_USER)
		return error_set(cause, "target '%s': user name too long", text);
	if (s[0] == '-')
		return error_set(
		    cause, "target '%s': user name may not start with '-'", text);
	for (i = 0; i < len; i++) {
		if (!target_name_char((unsigned char)s[i]))
			return error_set(cause,
			    "target '%s': bad character in user "
			    "name (allowed: letters, digits, '.', '_', '-')",
			    text);
	}
	return 0;
}

/* Check a host: a name, or an IPv6 address (bracketed in the input; bracketed
 * is 1 then and s/len exclude the brackets). */
static int
target_check_host(
    const char *text, const char *s, size_t len, int bracketed, char **cause)
{
	size_t i;
	int c, zone = 0;

	if (len == 0)
		return error_set(cause, "target '%s': empty host", text);
	if (len > TARGET_MAX_HOST)
		return error_set(cause, "target '%s': host name too long", text);
	if (s[0] == '-')
		return error_set(cause, "target '%s': host may not start with '-'", text);
	for (i = 0; i < len; i++) {
		c = (unsigned char)s[i];
		if (bracketed) {
			/* hex digits, ':' and '.' (IPv4-mapped); after '%' a zone */
			if (c == '%' && !zone && i > 0 && i + 1 < len) {
				zone = 1;
				continue;
			}
			if (zone ? target_name_char(c)
				 : (isascii(c) && (isxdigit(c) || c == ':' || c == '.')))
				continue;
			return error_set(cause,
			    "target '%s': bad IPv6 address in "
			    "brackets",
			    text);
		}
		if (!target_name_char(c))
			return error_set(cause,
			    "target '%s': bad character in host "
			    "(allowed: letters, digits, '.', '_', '-'; an IPv6 "
			    "address goes in brackets)",
			    text);
	}
	if (bracketed && memchr(s, ':', len) == NULL)
		return error_set(cause,
		    "target '%s': brackets are only for IPv6 "
		    "addresses",
		    text);
	return 0;
}

/* Check a port (len digits at s) and store it in *port. */
static int
target_check_port(const char *text, const char *s, size_t len, int *port, char **cause)
{
	size_t i;
	long v = 0;

	if (len == 0)
		return error_set(cause, "target '%s': empty port", text);
	for (i = 0; i < len; i++) {
		if (!isdigit((unsigned char)s[i]))
			return error_set(
			    cause, "target '%s': port must be a number", text);
		v = v * 10 + (s[i] - '0');
		if (v > 65535)
			break;
	}
	if (v < 1 || v > 65535)
		return error_set(cause, "target '%s': port must be 1 to 65535", text);
	*port = (int)v;
	return 0;
}

/* Check a remote or local path. */
static int
target_check_path(const char *text, const char *path, int remote, char **cause)
{
	const char *p;

	if (*path == '\0')
		return error_set(cause,
		    "target '%s': empty path (use ~ for the home "
		    "folder)",
		    text);
	if (strlen(path) > TARGET_MAX_PATH)
		return error_set(cause, "target '%s': path too long", text);
	for (p = path; *p != '\0'; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return error_set(cause,
			    "target '%s': control character in "
			    "path",
			    text);
	}
	if (remote && path[0] == '~' && path[1] != '\0' && path[1] != '/')
		return error_set(cause,
		    "target '%s': only ~ and ~/... are "
		    "supported, not ~user",
		    text);
	return 0;
}

/* The first stop character in s outside [...], or NULL. */
static const char *
target_scan(const char *s, int stop)
{
	int in = 0;

	for (; *s != '\0'; s++) {
		if (*s == '[')
			in = 1;
		else if (*s == ']')
			in = 0;
		else if (*s == stop && !in)
			return s;
	}
	return NULL;
}

/* Decode %XX escapes (URL form) into a new string; NULL on a bad escape or
 * an encoded NUL. */
static char *
target_unescape(const char *s, size_t len)
{
	char *out = xmalloc(len + 1), *o = out;
	size_t i;
	int hi, lo;

	for (i = 0; i < len; i++) {
		if (s[i] != '%') {
			*o++ = s[i];
			continue;
		}
		if (i + 2 >= len || !isxdigit((unsigned char)s[i + 1]) ||
		    !isxdigit((unsigned char)s[i + 2])) {
			free(out);
			return NULL;
		}
		hi = isdigit((unsigned char)s[i + 1])
		    ? s[i + 1] - '0'
		    : (tolower((unsigned char)s[i + 1]) - 'a' + 10);
		lo = isdigit((unsigned char)s[i + 2])
		    ? s[i + 2] - '0'
		    : (tolower((unsigned char)s[i + 2]) - 'a' + 10);
		if (hi == 0 && lo == 0) {
			free(out);
			return NULL;
		}
		*o++ = (char)(hi * 16 + lo);
		i += 2;
	}
	*o = '\0';
	return out;
}

/*
 * Parse "[user@]host[:port]" (authority, len bytes) for either form. In the
 * scp-like form the caller has already cut the port off; url says which form
 * (the URL form decodes %XX in the user).
 */
static int
target_parse_authority(
    const char *text, const char *s, size_t len, int url, struct target *t, char **cause)
{
	const char *at = NULL, *host, *end = s + len, *p, *close;
	size_t hlen;
	int bracketed = 0;

	for (p = s; p < end; p++) {
		if (*p == '@')
			at = p;
	}
	if (at != NULL) {
		if (url) {
			t->user = target_unescape(s, (size_t)(at - s));
			if (t->user == NULL)
				return error_set(cause,
				    "target '%s': bad %% escape "
				    "in user name",
				    text);
		} else
			t->user = xstrndup(s, (size_t)(at - s));
		if (target_check_user(text, t->user, strlen(t->user), cause) != 0)
			return -1;
		host = at + 1;
	} else
		host = s;

	if (host < end && *host == '[') {
		close = memchr(host, ']', (size_t)(end - host));
		if (close == NULL)
			return error_set(cause,
			    "target '%s': missing ']' after IPv6 "
			    "address",
			    text);
		bracketed = 1;
		p = close + 1;
		hlen = (size_t)(close - host - 1);
		host++;
	} else {
		p = memchr(host, ':', (size_t)(end - host));
		if (p == NULL)
			p = end;
		hlen = (size_t)(p - host);
	}
	if (target_check_host(text, host, hlen, bracketed, cause) != 0)
		return -1;
	t->host = xstrndup(host, hlen);
	if (p < end) {
		if (*p != ':')
			return error_set(cause,
			    "target '%s': unexpected text after "
			    "']'",
			    text);
		if (target_check_port(
			text, p + 1, (size_t)(end - p - 1), &t->port, cause) != 0)
			return -1;
	}
	return 0;
}

/* ssh://[user@]host[:port][/path] */
static int
target_parse_url(const char *text, struct target *t, char **cause)
{
	const char *s = text + 6, *slash;

	/* The authority ends at the first '/' that is not inside brackets. */
	slash = target_scan(s, '/');
	if (slash == NULL)
		return error_set(cause,
		    "target '%s': no path after the host (add "
		    "/~ for the home folder)",
		    text);
	if (strpbrk(s, "?#") != NULL)
		return error_set(cause,
		    "target '%s': '?' and '#' are not allowed in "
		    "an ssh:// target",
		    text);
	if (target_parse_authority(text, s, (size_t)(slash - s), 1, t, cause) != 0)
		return -1;
	t->path = target_unescape(slash, strlen(slash));
	if (t->path == NULL)
		return error_set(cause, "target '%s': bad %% escape in path", text);
	/* "/~" and "/~/x" are relative to the home, as in git's ssh URLs. */
	if (t->path[1] == '~') {
		memmove(t->path, t->path + 1, strlen(t->path));
	}
	return target_check_path(text, t->path, 1, cause);
}

/* [user@]host[:port]:path */
static int
target_parse_scp(const char *text, struct target *t, char **cause)
{
	const char *s = text, *colon, *p;
	size_t alen;

	/* The host ends at the first ':' outside brackets. */
	colon = target_scan(s, ':');
	if (colon == NULL && strchr(s, '[') != NULL && strchr(s, ']') == NULL)
		return error_set(cause,
		    "target '%s': missing ']' after IPv6 "
		    "address",
		    text);
	if (colon == NULL)
		return error_set(cause, "target '%s': expected host:path", text);
	alen = (size_t)(colon - s);
	/* A run of digits then ':' is a port. */
	p = colon + 1;
	while (isdigit((unsigned char)*p))
		p++;
	if (p > colon + 1 && *p == ':') {
		if (target_parse_authority(text, s, (size_t)(p - s), 0, t, cause) != 0)
			return -1;
		p++;
	} else {
		if (target_parse_authority(text, s, alen, 0, t, cause) != 0)
			return -1;
		p = colon + 1;
	}
	if (*p == '\0') {
		/* "host:": the host alone; a SOURCE follows (source.h). */
		t->kind = TARGET_HOST;
		return 0;
	}
	t->path = xstrdup(p);
	return target_check_path(text, t->path, 1, cause);
}

/* Does text start with a URL scheme ("https://")? */
static int
target_has_scheme(const char *text)
{
	const char *p = text;

	if (!isalpha((unsigned char)*p))
		return 0;
	while (isalnum((unsigned char)*p) || *p == '+' || *p == '-' || *p == '.')
		p++;
	return strncmp(p, "://", 3) == 0;
}

int
target_parse(const char *text, struct target *t, char **cause)
{
	const char *p;
	int rc;

	memset(t, 0, sizeof *t);
	if (*text == '\0')
		return error_set(cause, "empty target");
	for (p = text; *p != '\0'; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return error_set(cause, "target has a control character");
	}
	if (text[0] == '@') {
		t->kind = TARGET_POOL;
		if (text[1] == '\0')
			return error_set(cause, "target '@': empty pool name");
		for (p = text + 1; *p != '\0'; p++) {
			if (!target_name_char((unsigned char)*p))
				return error_set(cause,
				    "target '%s': bad character in "
				    "pool name",
				    text);
		}
		t->pool = xstrdup(text + 1);
		return 0;
	}
	if (target_has_scheme(text) && strncmp(text, "ssh://", 6) != 0)
		return error_set(cause,
		    "target '%s' is a URL, not a place: name the host to clone it "
		    "on first (rdev up HOST: %s, or @POOL %s)",
		    text, text, text);
	if (!target_is_remote(text)) {
		t->kind = TARGET_LOCAL;
		t->path = xstrdup(text);
		if ((rc = target_check_path(text, t->path, 0, cause)) != 0)
			target_clear(t);
		return rc;
	}
	t->kind = TARGET_SSH;
	if (strncmp(text, "ssh://", 6) == 0)
		rc = target_parse_url(text, t, cause);
	else
		rc = target_parse_scp(text, t, cause);
	if (rc != 0)
		target_clear(t);
	return rc;
}
