/* feature-ref.c - Feature ids that name something to download: OCI
 * references and tarball URLs, checked as the reference CLI checks them
 * (feature-fetch.h). Pure. */
#include "feature-fetch.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "error.h"
#include "xmalloc.h"

int
feature_ref_is_local(const char *id)
{
	return strncmp(id, "./", 2) == 0 || strncmp(id, "../", 3) == 0 || id[0] == '/';
}

int
feature_ref_digest_valid(const char *s)
{
	if (strncmp(s, "sha256:", 7) != 0 || strlen(s + 7) != 64)
		return 0;
	for (s += 7; *s != '\0'; s++) {
		if (!isdigit((unsigned char)*s) && !(*s >= 'a' && *s <= 'f'))
			return 0;
	}
	return 1;
}

/* The reference's tag rule: [a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}. */
static int
feature_ref_tag_valid(const char *t)
{
	size_t n = strlen(t);

	if (n == 0 || n > 128 || !(isalnum((unsigned char)t[0]) || t[0] == '_'))
		return 0;
	return strspn(t,
		   "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") ==
	    n;
}

/* The reference's repository path rule: components of [a-z0-9]+ joined by
 * single '.', '_' or '-', separated by '/'. This is what keeps "..", empty
 * components and anything but those characters out of URLs and cache names. */
static int
feature_ref_path_valid(const char *p)
{
	int need_alnum = 1;

	for (; *p != '\0'; p++) {
		if (islower((unsigned char)*p) || isdigit((unsigned char)*p)) {
			need_alnum = 0;
			continue;
		}
		if (need_alnum || strchr("._-/", *p) == NULL)
			return 0;
		need_alnum = 1;
	}
	return !need_alnum;
}

/* A registry host[:port]: the reference looks up only names with a dot or
 * starting with "localhost" (others are GitHub release shorthands, which we
 * do not support). */
static int
feature_ref_registry_valid(const char *r)
{
	const char *colon = strchr(r, ':');
	size_t host = colon != NULL ? (size_t)(colon - r) : strlen(r);

	if (host == 0 || strspn(r, "abcdefghijklmnopqrstuvwxyz0123456789.-") != host)
		return 0;
	if (colon != NULL &&
	    (colon[1] == '\0' || strspn(colon + 1, "0123456789") != strlen(colon + 1) ||
		strlen(colon + 1) > 5))
		return 0;
	return memchr(r, '.', host) != NULL || strncmp(r, "localhost", 9) == 0;
}

/* Is the path segment s (n bytes) "." or ".." (dots also as %2e), as WHATWG's
 * URL parser counts them? 0, 1 or 2. */
static int
feature_ref_dots(const char *s, size_t n)
{
	int dots = 0;

	while (n > 0) {
		if (*s == '.') {
			s++;
			n--;
		} else if (n >= 3 && s[0] == '%' && s[1] == '2' &&
		    (s[2] == 'e' || s[2] == 'E')) {
			s += 3;
			n -= 3;
		} else
			return 0;
		if (++dots > 2)
			return 0;
	}
	return dots;
}

/* The userinfo of a URL (n bytes, its '@' excluded) into b as WHATWG's
 * serialiser writes it: user, then ":" and the password when there is one,
 * then "@" when either is not empty; in each, the userinfo percent-encode
 * set's characters that a tarball URL may hold ('@' ':' ';' '=' '[' ']';
 * the first ':' splits them) as %XX. Nothing for an empty one. */
static void
feature_ref_url_userinfo(struct buf *b, const char *s, size_t n)
{
	size_t colon = 0;

	while (colon < n && s[colon] != ':')
		colon++;
	for (size_t i = 0; i < n; i++) {
		if (i == colon) {
			if (i + 1 < n)
				buf_append(b, ":", 1);
		} else if (strchr("@:;=[]", s[i]) != NULL)
			buf_appendf(b, "%%%02X", (unsigned char)s[i]);
		else
			buf_append(b, s + i, 1);
	}
	if (n > 0 && (colon > 0 || colon + 1 < n))
		buf_append(b, "@", 1);
}

char *
feature_ref_url_normalise(const char *url)
{
	size_t scheme = strcspn(url, ":"), auth, at, hostend, nseg = 0;
	const char *p, *path, *query, *port = NULL, **seg;
	size_t *seglen;
	struct buf *b = buf_new();
	unsigned long num = 0;
	char *out;

	for (size_t i = 0; i < scheme; i++)
		buf_appendf(b, "%c", tolower((unsigned char)url[i]));
	buf_append(b, "://", 3);
	p = url + scheme + (strncmp(url + scheme, "://", 3) == 0 ? 3 : 1);
	auth = strcspn(p, "/?");
	/* userinfo@host:port; the host's last ':' after any ']' (IPv6) */
	for (at = auth; at > 0 && p[at - 1] != '@'; at--)
		;
	if (at > 0)
		feature_ref_url_userinfo(b, p, at - 1);
	hostend = auth;
	for (size_t i = auth; i > at; i--) {
		if (p[i - 1] == ']')
			break;
		if (p[i - 1] == ':') {
			hostend = i - 1;
			port = p + i;
			break;
		}
	}
	for (size_t i = at; i < hostend; i++)
		buf_appendf(b, "%c", tolower((unsigned char)p[i]));
	if (port != NULL && port < p + auth) {
		for (const char *d = port; d < p + auth; d++)
			num = num * 10 + (unsigned long)(*d - '0');
		if (!((scheme == 5 && num == 443) || (scheme == 4 && num == 80)))
			buf_appendf(b, ":%lu", num);
	}
	path = p + auth;
	query = path + strcspn(path, "?");
	seg = xcalloc((size_t)(query - path) + 1, sizeof *seg);
	seglen = xcalloc((size_t)(query - path) + 1, sizeof *seglen);
	for (const char *s = path; s < query;) {
		size_t n = strcspn(s + 1, "/?");
		int dots = feature_ref_dots(s + 1, n), last = s + 1 + n >= query;

		if (dots == 2 && nseg > 0)
			nseg--;
		if (dots == 0 || last) {
			seg[nseg] = dots == 0 ? s + 1 : s + 1 + n;
			seglen[nseg++] = dots == 0 ? n : 0;
		}
		s += 1 + n;
	}
	for (size_t i = 0; i < nseg; i++) {
		buf_append(b, "/", 1);
		buf_append(b, seg[i], seglen[i]);
	}
	if (nseg == 0)
		buf_append(b, "/", 1);
	buf_append(b, query, strlen(query));
	out = buf_take_string(b, NULL);
	buf_free(b);
	free(seg);
	free(seglen);
	return out;
}

char *
feature_ref_backcompat(const char *id)
{
	static const char *const moved[] = { "aws-cli", "azure-cli", "desktop-lite",
		"docker-in-docker", "docker-from-docker", "dotnet", "git", "git-lfs",
		"github-cli", "java", "kubectl-helm-minikube", "node", "powershell",
		"python", "ruby", "rust", "sshd", "terraform" };
	static const char *const renamed[][2] = { { "golang", "go" },
		{ "common", "common-utils" } };

	for (size_t i = 0; i < sizeof moved / sizeof moved[0]; i++)
		if (strcmp(id, moved[i]) == 0)
			return xasprintf("ghcr.io/devcontainers/features/%s:1", id);
	for (size_t i = 0; i < sizeof renamed / sizeof renamed[0]; i++)
		if (strcmp(id, renamed[i][0]) == 0)
			return xasprintf(
			    "ghcr.io/devcontainers/features/%s:1", renamed[i][1]);
	return NULL;
}

/* updateDeprecatedFeaturesIntoOptions()'s table. */
static const struct {
	const char *id, *into, *option;
} feature_ref_folds[] = { { "gradle", "java", "installGradle" },
	{ "maven", "java", "installMaven" },
	{ "jupyterlab", "python", "installJupyterlab" } };

const char *
feature_ref_folded_into(const char *id)
{
	for (size_t i = 0; i < sizeof feature_ref_folds / sizeof feature_ref_folds[0];
	     i++)
		if (strcmp(id, feature_ref_folds[i].id) == 0)
			return feature_ref_folds[i].into;
	return NULL;
}

cJSON *
feature_ref_fold_deprecated(const cJSON *features)
{
	cJSON *out = cJSON_Duplicate(features, 1), *t, *opts, *next;
	const cJSON *e;
	char *q;
	size_t i, n;

	if (out == NULL)
		fatal("cJSON_Duplicate");
	cJSON_ArrayForEach(e, features) {
		for (i = 0; i < sizeof feature_ref_folds / sizeof feature_ref_folds[0];
		     i++)
			if (strcmp(e->string, feature_ref_folds[i].id) == 0)
				break;
		if (i == sizeof feature_ref_folds / sizeof feature_ref_folds[0])
			continue;
		q = xasprintf(
		    "ghcr.io/devcontainers/features/%s", feature_ref_folds[i].into);
		n = strlen(q);
		cJSON_ArrayForEach(t, out) {
			if (strcmp(t->string, feature_ref_folds[i].into) == 0 ||
			    strcmp(t->string, q) == 0 ||
			    (strncmp(t->string, q, n) == 0 && t->string[n] == ':'))
				break;
		}
		if (t != NULL) {
			/* {...options, ...withOptions}: a string is its version */
			if (cJSON_IsObject(t))
				opts = cJSON_Duplicate(t, 1);
			else {
				opts = cJSON_CreateObject();
				if (cJSON_IsString(t))
					cJSON_AddStringToObject(
					    opts, "version", t->valuestring);
			}
			if (cJSON_GetObjectItemCaseSensitive(
				opts, feature_ref_folds[i].option) != NULL)
				cJSON_ReplaceItemInObjectCaseSensitive(opts,
				    feature_ref_folds[i].option, cJSON_CreateTrue());
			else
				cJSON_AddTrueToObject(opts, feature_ref_folds[i].option);
			if (opts->string == NULL) /* a duplicate has it */
				opts->string = xstrdup(t->string);
			cJSON_ReplaceItemViaPointer(out, t, opts);
		} else {
			opts = cJSON_AddObjectToObject(out, "");
			free(opts->string);
			opts->string = xasprintf("%s:1", q);
			cJSON_AddTrueToObject(opts, feature_ref_folds[i].option);
		}
		free(q);
	}
	for (t = out->child; t != NULL; t = next) {
		next = t->next;
		if (feature_ref_folded_into(t->string) != NULL)
			cJSON_Delete(cJSON_DetachItemViaPointer(out, t));
	}
	return out;
}

int
feature_ref_github_form(const char *id)
{
	const char *at = strchr(id, '@'), *s1, *s2, *end;

	if (at != NULL && strchr(at + 1, '@') != NULL)
		return 0;
	end = at != NULL ? at : id + strlen(id);
	if ((s1 = memchr(id, '/', (size_t)(end - id))) == NULL || s1 == id ||
	    (s2 = memchr(s1 + 1, '/', (size_t)(end - s1 - 1))) == NULL || s2 == s1 + 1 ||
	    s2 + 1 == end || memchr(s2 + 1, '/', (size_t)(end - s2 - 1)) != NULL)
		return 0;
	for (const char *c = s2 + 1; c < end; c++)
		if (!isalnum((unsigned char)*c) && *c != '_' && *c != '-')
			return 0;
	return 1;
}

/* The authority of tarball URL id (rest: after "scheme://"): refused where
 * WHATWG's URL parser fails (an empty host, a port that is not a number up
 * to 65535) and where the reference would write its host otherwise than
 * feature_ref_url_normalise() does (percent-encoded, an IPv4 address not
 * written a.b.c.d, an IPv6 one not in its shortest form): a URL the two
 * would key differently is an error, not a quiet mismatch. A plain http://
 * URL (http set) is refused unless its host is this machine's loopback
 * (localhost, 127.x.x.x, [::1]): a Feature's install.sh runs as root, and the
 * spec (and the reference) take "direct HTTPS tarballs" only; loopback is
 * what the reference itself speaks plain HTTP to (an OCI registry on
 * localhost), and its bytes do not cross a network. 0, or -1 with *cause. */
static int
feature_ref_url_authority(const char *id, const char *rest, int http, char **cause)
{
	size_t auth = strcspn(rest, "/?"), at, hostend, i;
	const char *host, *last;
	char *h = NULL, canon[INET6_ADDRSTRLEN];
	unsigned char addr[16];
	unsigned long port = 0;
	int rc = 0;

	for (at = auth; at > 0 && rest[at - 1] != '@'; at--)
		;
	host = rest + at;
	hostend = auth;
	for (i = auth; i > at; i--) {
		if (rest[i - 1] == ']')
			break;
		if (rest[i - 1] == ':') {
			hostend = i - 1;
			break;
		}
	}
	for (i = hostend + 1; i < auth; i++) {
		if (!isdigit((unsigned char)rest[i]) ||
		    (port = port * 10 + (unsigned long)(rest[i] - '0')) > 65535)
			return error_set(
			    cause, "Feature '%s': tarball URL has an invalid port", id);
	}
	h = xstrndup(host, (size_t)(rest + hostend - host));
	for (char *c = h; *c != '\0'; c++)
		*c = (char)tolower((unsigned char)*c);
	last = strrchr(h, '.');
	last = last == NULL ? h : last + 1;
	if (*h == '\0')
		rc = error_set(cause, "Feature '%s': tarball URL has no host", id);
	else if (*h != '[' && strpbrk(h, ":[]") != NULL) /* (new URL() fails) */
		rc =
		    error_set(cause, "Feature '%s': tarball URL has an invalid host", id);
	else if (strchr(h, '%') != NULL)
		rc = error_set(cause,
		    "Feature '%s': a percent-encoded host in a tarball URL is not "
		    "supported (write it decoded)",
		    id);
	else if (*h == '[') {
		h[strlen(h) - 1] = '\0'; /* the ']', checked below */
		if (rest[hostend - 1] != ']' || inet_pton(AF_INET6, h + 1, addr) != 1 ||
		    inet_ntop(AF_INET6, addr, canon, sizeof canon) == NULL ||
		    strchr(canon, '.') != NULL || strcmp(canon, h + 1) != 0)
			rc = error_set(cause,
			    "Feature '%s': tarball URL: write its IPv6 address in its "
			    "shortest form, without an IPv4 part",
			    id);
	} else if (*last != '\0' &&
	    (strspn(last, "0123456789") == strlen(last) || strncmp(last, "0x", 2) == 0) &&
	    inet_pton(AF_INET, h, addr) != 1)
		rc = error_set(cause,
		    "Feature '%s': tarball URL: write its IPv4 address as a.b.c.d "
		    "(decimal, no leading zeros)",
		    id);
	if (rc == 0 && http && strcmp(h, "localhost") != 0 &&
	    strcmp(h, "[::1") != 0 && /* (its ']' cut above) */
	    (strncmp(h, "127.", 4) != 0 || inet_pton(AF_INET, h, addr) != 1))
		rc = error_set(cause,
		    "Feature '%s': a tarball URL must be https:// (a Feature's "
		    "install.sh runs as root; plain http:// is taken from "
		    "localhost only)",
		    id);
	free(h);
	return rc;
}

/* A tarball URL: http(s)://HOST/.../devcontainer-feature-NAME.tgz, printable
 * ASCII without spaces, quotes or a fragment; its name is checked in the
 * normalised URL, whose path the reference takes it from. */
static int
feature_ref_parse_tarball(const char *id, struct feature_ref *ref, char **cause)
{
	const char *rest = id + (strncmp(id, "https://", 8) == 0 ? 8 : 7);
	const char *base, *end, *q;
	char *url;
	size_t n;

	for (q = id; *q != '\0'; q++) {
		if (*q <= ' ' || *q >= 0x7f || strchr("\"'<>\\`#{}|^", *q) != NULL)
			return error_set(
			    cause, "Feature '%s': invalid character in tarball URL", id);
	}
	if (*rest == '\0' || *rest == '/' || strchr(rest, '/') == NULL ||
	    strcspn(rest, "/") > strcspn(rest, "?"))
		return error_set(
		    cause, "Feature '%s': tarball URL has no host or path", id);
	if (feature_ref_url_authority(id, rest, strncmp(id, "http://", 7) == 0, cause) !=
	    0)
		return -1;
	url = feature_ref_url_normalise(id);
	rest = url + (strncmp(url, "https://", 8) == 0 ? 8 : 7);
	end = strchr(rest, '?');
	if (end == NULL)
		end = rest + strlen(rest);
	for (base = end; base > rest && base[-1] != '/'; base--)
		;
	n = (size_t)(end - base);
	if (n <= 25 || strncmp(base, "devcontainer-feature-", 21) != 0 ||
	    strncmp(end - 4, ".tgz", 4) != 0) {
		free(url);
		return error_set(cause,
		    "Feature '%s': a tarball URL must name a file "
		    "devcontainer-feature-NAME.tgz",
		    id);
	}
	ref->kind = FEATURE_REF_TARBALL;
	ref->id = xstrdup(id);
	ref->name = xstrndup(base + 21, n - 25);
	ref->url = url;
	ref->resource = xstrdup(url);
	return 0;
}

int
feature_ref_parse(const char *id, struct feature_ref *ref, char **cause)
{
	char *s, *at, *colon, *slash, *last;
	size_t hostlen;

	memset(ref, 0, sizeof *ref);
	if (strncmp(id, "https://", 8) == 0 || strncmp(id, "http://", 7) == 0)
		return feature_ref_parse_tarball(id, ref, cause);
	if (feature_ref_is_local(id))
		return error_set(
		    cause, "Feature '%s' is a local folder, not fetched", id);
	s = xstrdup(id);
	for (char *p = s; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	ref->kind = FEATURE_REF_OCI;
	ref->id = xstrdup(s);
	if ((at = strrchr(s, '@')) != NULL) {
		*at = '\0';
		if (!feature_ref_digest_valid(at + 1)) {
			error_set(cause,
			    "Feature '%s': digest '%s' is not sha256:<64 hex digits>", id,
			    at + 1);
			goto fail;
		}
		ref->digest = xstrdup(at + 1);
	} else if ((colon = strrchr(s, ':')) != NULL &&
	    (strrchr(s, '/') == NULL || colon > strrchr(s, '/'))) {
		*colon = '\0';
		if (!feature_ref_tag_valid(colon + 1)) {
			error_set(cause, "Feature '%s': invalid tag '%s'", id, colon + 1);
			goto fail;
		}
		ref->tag = xstrdup(colon + 1);
	} else
		ref->tag = xstrdup("latest");
	slash = strchr(s, '/');
	last = strrchr(s, '/');
	if (slash == NULL || slash == last) {
		error_set(cause,
		    "Feature '%s' is not a local folder (./name), a tarball URL or an "
		    "OCI "
		    "reference registry/namespace/name[:tag]",
		    id);
		goto fail;
	}
	*slash = '\0';
	if (!feature_ref_registry_valid(s)) {
		error_set(cause, "Feature '%s': '%s' is not a registry host name", id, s);
		goto fail;
	}
	if (!feature_ref_path_valid(slash + 1)) {
		error_set(
		    cause, "Feature '%s': invalid repository path '%s'", id, slash + 1);
		goto fail;
	}
	ref->registry = xstrdup(s);
	ref->resource = xasprintf("%s/%s", s, slash + 1);
	/* getRef()'s redirect: its resource keeps the name as written. */
	if (strncmp(slash + 1, "devcontainers-contrib/", 22) == 0)
		ref->path = xasprintf("devcontainers-extra/%s", slash + 23);
	else
		ref->path = xstrdup(slash + 1);
	ref->name = xstrdup(last + 1);
	/* Plain HTTP for "localhost" only, as the reference decides. */
	hostlen = strcspn(s, ":");
	ref->url = xasprintf("%s://%s/v2/%s",
	    hostlen == 9 && strncmp(s, "localhost", 9) == 0 ? "http" : "https", s,
	    ref->path);
	free(s);
	return 0;
fail:
	free(s);
	feature_ref_clear(ref);
	return -1;
}

void
feature_ref_clear(struct feature_ref *ref)
{
	free(ref->id);
	free(ref->name);
	free(ref->registry);
	free(ref->path);
	free(ref->tag);
	free(ref->digest);
	free(ref->url);
	free(ref->resource);
	memset(ref, 0, sizeof *ref);
}

char *
feature_ref_unversioned(const char *id)
{
	const char *slash = strrchr(id, '/');
	size_t n = strcspn(slash != NULL ? slash : id, ":@");

	return xstrndup(id, (size_t)((slash != NULL ? slash : id) - id) + n);
}

int
feature_ref_version_check(const char *version, char **cause)
{
	regex_t re;
	int ok;

	if (regcomp(&re, "^[0-9]+([.][0-9]+([.][0-9]+)?)?$", REG_EXTENDED | REG_NOSUB) !=
	    0)
		fatal("regcomp");
	ok = regexec(&re, version, 0, NULL, 0) == 0;
	regfree(&re);
	if (!ok)
		return error_set(cause,
		    "Invalid version '%s'.  Must be in the form of 'x', 'x.y', or "
		    "'x.y.z'",
		    version);
	return 0;
}

char *
feature_ref_retarget(const char *text, const cJSON *features, const char *feature,
    const char *version, const char **key)
{
	char *want = feature_ref_unversioned(feature), *have, *with, *out;
	const cJSON *f;
	const char *p, *hit;
	struct buf *b;

	*key = NULL;
	cJSON_ArrayForEach(f, features) {
		have = feature_ref_unversioned(f->string);
		if (strcmp(have, want) == 0)
			*key = f->string;
		free(have);
		if (*key != NULL)
			break;
	}
	if (*key == NULL || **key == '\0') {
		free(want);
		return NULL;
	}
	with = xasprintf("%s:%s", want, version);
	b = buf_new();
	for (p = text; (hit = strstr(p, *key)) != NULL; p = hit + strlen(*key)) {
		buf_append(b, p, (size_t)(hit - p));
		buf_append(b, with, strlen(with));
	}
	buf_append(b, p, strlen(p));
	out = buf_take_string(b, NULL);
	buf_free(b);
	free(with);
	free(want);
	return out;
}
