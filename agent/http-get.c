/* http-get.c - HTTP(S) GETs with libcurl for Feature downloads (oci.h): the
 * body in memory up to a limit, the two headers the OCI flow needs, errors
 * as messages. TLS and its CA store are libcurl's (OpenSSL, the system's
 * certificates). */
#include "oci.h"

#include <curl/curl.h>
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

int
http_get(const char *url, const char *const *headers, int head, size_t max,
    struct http_response *resp, char **cause)
{
	struct http_get_ctx ctx = { resp, max, 0 };
	struct curl_slist *list = NULL;
	char errbuf[CURL_ERROR_SIZE] = "";
	CURLcode rc;
	CURL *h;

	memset(resp, 0, sizeof *resp);
	resp->body = buf_new();
	if ((h = curl_easy_init()) == NULL)
		fatal("curl_easy_init failed");
	for (size_t i = 0; headers != NULL && headers[i] != NULL; i++) {
		if ((list = curl_slist_append(list, headers[i])) == NULL)
			fatal("curl_slist_append: out of memory");
	}
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, list);
	curl_easy_setopt(h, CURLOPT_NOBODY, head ? 1L : 0L);
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(h, CURLOPT_MAXREDIRS, 10L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_USERAGENT, "rdev-agent/" RDEV_VERSION);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 20L);
	/* A stalled transfer (under 1 KB/s for 60 s) fails instead of hanging up. */
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1024L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 60L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, http_get_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &ctx);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, http_get_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, &ctx);
	rc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status);
	curl_easy_cleanup(h);
	curl_slist_free_all(list);
	if (ctx.too_big) {
		http_response_clear(resp);
		return error_set(cause, "%s: response larger than %zu bytes", url, max);
	}
	if (rc != CURLE_OK) {
		http_response_clear(resp);
		return error_set(cause, "%s: %s", url,
		    errbuf[0] != '\0' ? errbuf : curl_easy_strerror(rc));
	}
	return 0;
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
	char *e, *out;

	if (s == NULL)
		return xstrdup("");
	if ((e = curl_easy_escape(NULL, s, 0)) == NULL)
		fatal("curl_easy_escape: out of memory");
	out = xstrdup(e);
	curl_free(e);
	return out;
}
