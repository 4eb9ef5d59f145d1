/* source.c - a workspace SOURCE and its host folder's name (source.h). */
#include "source.h"

#include <ctype.h>
#include <limits.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "error.h"
#include "xmalloc.h"

#define SOURCE_BASE_MAX 40
#define SOURCE_HASH_BYTES 6

static const char *const source_schemes[] = {
	"https://",
	"http://",
	"ssh://",
	"git://",
	"file://",
	NULL,
};

/* The scp form: "[user@]host:path" with no '/' before the first ':'. */
static int
source_is_scp(const char *text)
{
	const char *colon = strchr(text, ':'), *slash = strchr(text, '/');

	return colon != NULL && colon > text && colon[1] != '\0' &&
	    (slash == NULL || slash > colon);
}

int
source_is_url(const char *text)
{
	for (const char *const *s = source_schemes; *s != NULL; s++)
		if (strncmp(text, *s, strlen(*s)) == 0)
			return 1;
	return source_is_scp(text);
}

int
source_name_ok(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > 255 || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return 0;
	for (const char *p = name; *p != '\0'; p++)
		if (!isascii((unsigned char)*p) ||
		    !(isalnum((unsigned char)*p) || strchr("._-", *p) != NULL))
			return 0;
	return 1;
}

char *
source_who(void)
{
	struct passwd pwbuf, *pw = NULL;
	char host[256] = "", buf[4096];

	if (getpwuid_r(getuid(), &pwbuf, buf, sizeof buf, &pw) != 0)
		pw = NULL;
	if (gethostname(host, sizeof host - 1) != 0)
		strcpy(host, "localhost");
	if (pw != NULL)
		return xasprintf("%s@%s", pw->pw_name, host);
	return xasprintf("%lu@%s", (unsigned long)getuid(), host);
}

/* The last path component of s (a folder or a URL), without trailing '/'s
 * and, for a URL, ".git"; reduced to [A-Za-z0-9._-]. New string. */
static char *
source_basename(const char *s, int url)
{
	size_t len = strlen(s), start, n, i;
	char *out;

	while (len > 0 && s[len - 1] == '/')
		len--;
	if (url && len >= 4 && strncmp(s + len - 4, ".git", 4) == 0)
		len -= 4;
	start = len;
	while (start > 0 && s[start - 1] != '/' && !(url && s[start - 1] == ':'))
		start--;
	n = len - start;
	if (n > SOURCE_BASE_MAX)
		n = SOURCE_BASE_MAX;
	out = xmalloc(n + 1);
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[start + i];

		out[i] = isascii(c) && (isalnum(c) || c == '.' || c == '_' || c == '-')
		    ? (char)c
		    : '_';
	}
	out[n] = '\0';
	/* ".", ".." or nothing (a root folder, "https://host/") */
	if (n == 0 || strspn(out, ".") == n) {
		free(out);
		out = xstrdup("workspace");
	}
	return out;
}

/* NAME: basename, '-', the hash of who and what. New string. */
static char *
source_make_name(const char *base, const char *who, const char *what)
{
	unsigned char h[SOURCE_HASH_BYTES];
	char hex[SOURCE_HASH_BYTES * 2 + 1];
	crypto_generichash_state st;

	crypto_generichash_init(&st, NULL, 0, sizeof h);
	crypto_generichash_update(&st, (const unsigned char *)who, strlen(who) + 1);
	crypto_generichash_update(&st, (const unsigned char *)what, strlen(what));
	crypto_generichash_final(&st, h, sizeof h);
	sodium_bin2hex(hex, sizeof hex, h, sizeof h);
	return xasprintf("%s-%s", base, hex);
}

void
source_clear(struct source *s)
{
	free(s->text);
	free(s->path);
	free(s->url);
	free(s->name);
	memset(s, 0, sizeof *s);
}

int
source_parse(const char *text, const char *who, struct source *s, char **cause)
{
	char *own_who = NULL, *base, resolved[PATH_MAX];
	struct stat sb;

	memset(s, 0, sizeof *s);
	if (*text == '\0')
		return error_set(cause, "source '': empty");
	for (const char *p = text; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return error_set(cause, "source '%s': control character", text);
	if (who == NULL)
		who = own_who = source_who();
	s->text = xstrdup(text);
	if (source_is_url(text) && !(source_is_scp(text) && stat(text, &sb) == 0)) {
		s->kind = SOURCE_GIT;
		s->url = xstrdup(text);
		base = source_basename(text, 1);
		s->name = source_make_name(base, who, text);
	} else {
		if (realpath(text, resolved) == NULL || stat(resolved, &sb) != 0) {
			error_set(cause,
			    "source '%s': no such folder here (a git URL "
			    "starts with https://, ssh://, git://, file:// or "
			    "is user@host:path)",
			    text);
			goto fail;
		}
		if (!S_ISDIR(sb.st_mode)) {
			error_set(cause, "source '%s': not a folder", text);
			goto fail;
		}
		s->kind = SOURCE_LOCAL;
		s->path = xstrdup(resolved);
		base = source_basename(resolved, 0);
		s->name = source_make_name(base, who, resolved);
	}
	free(base);
	free(own_who);
	return 0;
fail:
	free(own_who);
	source_clear(s);
	return -1;
}
