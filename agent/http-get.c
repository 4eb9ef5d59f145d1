/* http-get.c - HTTP(S) GETs with libcurl for Feature downloads (oci.h), and
 * the one form POST of a token request: the body in memory up to a limit,
 * the two headers the OCI flow needs, errors as messages. TLS and its CA
 * store are libcurl's (OpenSSL, the system's certificates). */
#include "oci.h"

#include <curl/curl.h>
#include <dlfcn.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "error.h"
#include "xmalloc.h"

struct http_get_ctx {
	struct http_response *resp;
	size_t max;
	int too_big;
};

static size_t
http_get_body(char *data, size_t size, size_t n, void *arg)
{
	struct http_get_ctx *ctx = arg;

	if (buf_len(ctx->resp->body) + n > ctx->max) {
		ctx->too_big = 1;
		return 0; /* curl stops with CURLE_WRITE_ERROR */
	}
	buf_append(ctx->resp->body, data, n);
	return size * n;
}

/* Keep the value of header name (a new string; a later response replaces
 * an earlier one's, so after redirects the last response's wins). */
static void
http_get_keep(char **slot, const char *line, size_t len, const char *name)
{
	size_t nl = strlen(name);
	const char *v, *end = line + len;

	if (len <= nl || strncasecmp(line, name, nl) != 0 || line[nl] != ':')
		return;
	for (v = line + nl + 1; v < end && (*v == ' ' || *v == '\t'); v++)
		;
	while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
		end--;
	free(*slot);
	*slot = xstrndup(v, (size_t)(end - v));
}

static size_t
http_get_header(char *line, size_t size, size_t n, void *arg)
{
	struct http_get_ctx *ctx = arg;

	if (n > 5 && strncmp(line, "HTTP/", 5) == 0) {
		/* A new response (after a redirect or 100): forget the old one's. */
		free(ctx->resp->www_authenticate);
		free(ctx->resp->content_digest);
		ctx->resp->www_authenticate = ctx->resp->content_digest = NULL;
		buf_reset(ctx->resp->body);
	}
	http_get_keep(&ctx->resp->www_authenticate, line, n, "WWW-Authenticate");
	http_get_keep(&ctx->resp->content_digest, line, n, "Docker-Content-Digest");
	return size * n;
}

/* libcurl's functions, looked up at the first download (dlopen with
 * RTLD_NODELETE: later lookups are cheap, nothing is unloaded). Not linked:
 * libcurl and what it needs (OpenSSL, nghttp2, krb5, ...: about 30 shared
 * libraries) would be loaded by every rdev and rdev-agent process, about 20
 * ms each (measured), where only a Feature download uses them. */
struct http_curl {
	CURL *(*easy_init)(void);
	CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
	CURLcode (*easy_perform)(CURL *);
	CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
	void (*easy_cleanup)(CURL *);
	const char *(*easy_strerror)(CURLcode);
	struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
	void (*slist_free_all)(struct curl_slist *);
};

/* Load libcurl (the bundle's lib/, by the agent's RPATH, else the system's)
 * into *c. 0, or -1 with *cause. */
static int
http_curl_load(struct http_curl *c, char **cause)
{
	void *lib = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
	const char *missing = NULL;

	if (lib == NULL)
		return error_set(cause,
		    "libcurl is missing (cannot load libcurl.so.4, needed to download "
		    "Features): %s",
		    dlerror());
#define HTTP_CURL_SYM(field, name) \
	if (missing == NULL && (*(void **)&c->field = dlsym(lib, name)) == NULL) \
		missing = name;
	HTTP_CURL_SYM(easy_init, "curl_easy_init")
	HTTP_CURL_SYM(easy_setopt, "curl_easy_setopt")
	HTTP_CURL_SYM(easy_perform, "curl_easy_perform")
	HTTP_CURL_SYM(easy_getinfo, "curl_easy_getinfo")
	HTTP_CURL_SYM(easy_cleanup, "curl_easy_cleanup")
	HTTP_CURL_SYM(easy_strerror, "curl_easy_strerror")
	HTTP_CURL_SYM(slist_append, "curl_slist_append")
	HTTP_CURL_SYM(slist_free_all, "curl_slist_free_all")
#undef HTTP_CURL_SYM
	dlclose(lib); /* (RTLD_NODELETE: it stays) */
	if (missing != NULL)
		return error_set(cause, "libcurl has no %s", missing);
	return 0;
}

/* Which redirects a request follows. */
enum http_redirects {
	HTTP_REDIRECTS_ANY,   /* to http or https (a registry's blob store);
				 from an https URL to https only */
	HTTP_REDIRECTS_HTTPS, /* to https only */
	HTTP_REDIRECTS_NONE,  /* none: a 3xx is the answer */
};

/* One request: GET, HEAD (head) or POST of form (not NULL), following the
 * redirects redir allows. Header lines may hold credentials: curl's copies
 * of them are wiped. */
static int
http_request(const char *url, const char *const *headers, int head, const char *form,
    enum http_redirects redir, size_t max, struct http_response *resp, char **cause)
{
	struct http_get_ctx ctx = { resp, max, 0 };
	struct curl_slist *list = NULL;
	struct http_curl curl = { 0 };
	char errbuf[CURL_ERROR_SIZE] = "";
	int from_https = strncasecmp(url, "https://", 8) == 0;
	CURLcode rc;
	CURL *h;

	memset(resp, 0, sizeof *resp);
	/* -2: no transport error (the registry was not tried), so the entry
	 * is not taken for one whose registry could not be reached. */
	if (http_curl_load(&curl, cause) != 0) {
		error_prefix(cause, "%s", url);
		return -2;
	}
	resp->body = buf_new();
	if ((h = curl.easy_init()) == NULL)
		fatal("curl_easy_init failed");
	for (size_t i = 0; headers != NULL && headers[i] != NULL; i++) {
		if ((list = curl.slist_append(list, headers[i])) == NULL)
			fatal("curl_slist_append: out of memory");
	}
	curl.easy_setopt(h, CURLOPT_URL, url);
	curl.easy_setopt(h, CURLOPT_HTTPHEADER, list);
	curl.easy_setopt(h, CURLOPT_NOBODY, head ? 1L : 0L);
	if (form != NULL) {
		/* (not copied by curl; the type is x-www-form-urlencoded) */
		curl.easy_setopt(h, CURLOPT_POSTFIELDS, form);
		curl.easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(form));
	}
	curl.easy_setopt(
	    h, CURLOPT_FOLLOWLOCATION, redir != HTTP_REDIRECTS_NONE ? 1L : 0L);
	curl.easy_setopt(h, CURLOPT_MAXREDIRS, 10L);
	curl.easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	/* (a request begun over https never goes on in plain text: a
	 * redirect to http:// would hand an OCI manifest fetched by tag, or a
	 * token POST, to anyone on that leg) */
	curl.easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR,
	    redir == HTTP_REDIRECTS_HTTPS || from_https ? "https" : "http,https");
	curl.easy_setopt(h, CURLOPT_USERAGENT, "rdev-agent/" RDEV_VERSION);
	curl.easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 20L);
	/* A stalled transfer (under 1 KB/s for 60 s) fails instead of hanging up. */
	curl.easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1024L);
	curl.easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 60L);
	curl.easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl.easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	curl.easy_setopt(h, CURLOPT_WRITEFUNCTION, http_get_body);
	curl.easy_setopt(h, CURLOPT_WRITEDATA, &ctx);
	curl.easy_setopt(h, CURLOPT_HEADERFUNCTION, http_get_header);
	curl.easy_setopt(h, CURLOPT_HEADERDATA, &ctx);
	rc = curl.easy_perform(h);
	curl.easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status);
	curl.easy_cleanup(h);
	for (struct curl_slist *l = list; l != NULL; l = l->next)
		sodium_memzero(l->data, strlen(l->data));
	curl.slist_free_all(list);
	if (ctx.too_big) {
		http_response_clear(resp);
		error_set(cause, "%s: response larger than %zu bytes", url, max);
		return -2;
	}
	if (rc == CURLE_UNSUPPORTED_PROTOCOL &&
	    (redir == HTTP_REDIRECTS_HTTPS || from_https)) {
		/* an answer (a redirect to another scheme), not a server out of
		 * reach */
		http_response_clear(resp);
		error_set(cause,
		    "%s: redirected to a URL that is not https:// (refused: %s)", url,
		    errbuf[0] != '\0' ? errbuf : curl.easy_strerror(rc));
		return -2;
	}
	if (rc != CURLE_OK) {
		http_response_clear(resp);
		return error_set(cause, "%s: %s", url,
		    errbuf[0] != '\0' ? errbuf : curl.easy_strerror(rc));
	}
	return 0;
}

int
http_get(const char *url, const char *const *headers, int head, size_t max,
    struct http_response *resp, char **cause)
{
	return http_request(
	    url, headers, head, NULL, HTTP_REDIRECTS_ANY, max, resp, cause);
}

int
http_get_tarball(const char *url, size_t max, struct http_response *resp, char **cause)
{
	enum http_redirects redir = strncasecmp(url, "https://", 8) == 0
	    ? HTTP_REDIRECTS_HTTPS
	    : HTTP_REDIRECTS_NONE;

	return http_request(url, NULL, 0, NULL, redir, max, resp, cause);
}

int
http_post_form(const char *url, const char *const *headers, const char *form, size_t max,
    struct http_response *resp, char **cause)
{
	return http_request(url, headers, 0, form, HTTP_REDIRECTS_ANY, max, resp, cause);
}

void
http_response_clear(struct http_response *resp)
{
	buf_free(resp->body);
	free(resp->www_authenticate);
	free(resp->content_digest);
	memset(resp, 0, sizeof *resp);
}

char *
http_escape(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	char *out, *o;

	if (s == NULL)
		return xstrdup("");
	o = out = xmalloc(strlen(s) * 3 + 1);
	for (; *s != '\0'; s++) {
		unsigned char ch = (unsigned char)*s;

		/* RFC 3986's unreserved characters stay, the rest is %XX */
		if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		    (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' || ch == '_' ||
		    ch == '~')
			*o++ = (char)ch;
		else {
			*o++ = '%';
			*o++ = hex[ch >> 4];
			*o++ = hex[ch & 15];
		}
	}
	*o = '\0';
	return out;
}
