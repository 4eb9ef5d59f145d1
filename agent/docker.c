/* docker.c - a small blocking client for the Docker Engine API (see docker.h):
 * the handle, the API version, simple requests and their errors. Connections
 * are in docker-conn.c, the calls in docker-container.c, docker-image.c and
 * docker-exec.c (docker-internal.h). */
#include "docker.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "buf.h"
#include "clock.h"
#include "docker-internal.h"
#include "error.h"
#include "log.h"
#include "xmalloc.h"

/* The API version rdev is written and tested against (Docker Engine 20.10). */
#define DOCKER_API_MAJOR 1
#define DOCKER_API_MINOR 41

struct docker *
docker_new(const char *socket_path)
{
	struct docker *d = xcalloc(1, sizeof *d);
	const char *host;

	if (socket_path != NULL)
		d->socket_path = xstrdup(socket_path);
	else if ((host = getenv("DOCKER_HOST")) != NULL && *host != '\0') {
		d->env_host = xstrdup(host);
		if (strncmp(host, "unix://", 7) == 0 && host[7] != '\0')
			d->socket_path = xstrdup(host + 7);
		else
			d->bad_host = xasprintf(
			    "DOCKER_HOST=%s: only unix:// sockets are supported", host);
	} else
		d->socket_path = xstrdup(DOCKER_DEFAULT_SOCKET);
	return d;
}

void
docker_free(struct docker *d)
{
	if (d == NULL)
		return;
	free(d->socket_path);
	free(d->bad_host);
	free(d->env_host);
	free(d->api_prefix);
	free(d);
}

const char *
docker_socket_path(const struct docker *d)
{
	return d->socket_path;
}

const char *
docker_host_env(const struct docker *d)
{
	return d->env_host;
}

/* Percent-encode s, keeping unreserved characters and those in keep. */
char *
docker_urlencode(const char *s, const char *keep)
{
	static const char hex[] = "0123456789ABCDEF";
	struct buf *b = buf_new();
	unsigned char c;
	char *out;

	for (; *s != '\0'; s++) {
		c = (unsigned char)*s;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || strchr("-._~", c) != NULL ||
		    strchr(keep, c) != NULL)
			buf_append(b, &c, 1);
		else
			buf_appendf(b, "%%%c%c", hex[c >> 4], hex[c & 15]);
	}
	out = buf_take_string(b, NULL);
	buf_free(b);
	return out;
}

/* Parse "MAJOR.MINOR". */
int
docker_parse_version(const char *s, int *major, int *minor)
{
	char *end;
	long a, b;

	if (s == NULL)
		return -1;
	a = strtol(s, &end, 10);
	if (end == s || *end != '.' || a < 0 || a > 1000)
		return -1;
	s = end + 1;
	b = strtol(s, &end, 10);
	if (end == s || *end != '\0' || b < 0 || b > 100000)
		return -1;
	*major = (int)a;
	*minor = (int)b;
	return 0;
}

/* Pick the API version with GET /version (see docker.h). */
static int
docker_negotiate_version(struct docker *d, char **cause)
{
	struct docker_response resp;
	cJSON *v = NULL, *api, *min;
	int maj, mnr, min_maj, min_mnr, rc = -1;

	free(d->api_prefix);
	d->api_prefix = NULL;
	d->api_checked = 0;
	if (docker_do(d, "GET", "/version", NULL, NULL, 0, DOCKER_TIMEOUT_S * 1000, &resp,
		cause) != 0) {
		docker_response_clear(&resp);
		return -1;
	}
	if (resp.status != 200) {
		error_set(cause, "docker at %s: GET /version answered HTTP %d",
		    d->socket_path, resp.status);
		goto out;
	}
	v = cJSON_ParseWithLength((const char *)buf_data(resp.body), buf_len(resp.body));
	api = cJSON_GetObjectItemCaseSensitive(v, "ApiVersion");
	min = cJSON_GetObjectItemCaseSensitive(v, "MinAPIVersion");
	if (!cJSON_IsString(api) ||
	    docker_parse_version(api->valuestring, &maj, &mnr) != 0) {
		error_set(cause, "docker at %s: GET /version gave no API version",
		    d->socket_path);
		goto out;
	}
	if (maj < DOCKER_API_MAJOR ||
	    (maj == DOCKER_API_MAJOR && mnr < DOCKER_API_MINOR)) {
		error_set(cause,
		    "docker at %s: API version %d.%d is too old (rdev needs %d.%d, "
		    "Docker Engine 20.10 or newer)",
		    d->socket_path, maj, mnr, DOCKER_API_MAJOR, DOCKER_API_MINOR);
		goto out;
	}
	maj = DOCKER_API_MAJOR;
	mnr = DOCKER_API_MINOR;
	if (cJSON_IsString(min) &&
	    docker_parse_version(min->valuestring, &min_maj, &min_mnr) == 0 &&
	    (min_maj > maj || (min_maj == maj && min_mnr > mnr))) {
		maj = min_maj;
		mnr = min_mnr;
	}
	d->api_prefix = xasprintf("/v%d.%d", maj, mnr);
	d->api_checked = 1;
	log_debug("docker at %s: using API %s", d->socket_path, d->api_prefix + 2);
	rc = 0;
out:
	cJSON_Delete(v);
	docker_response_clear(&resp);
	return rc;
}

/* The API version for a simple request: 1.41 is assumed without asking, as
 * GET /version is slow (the daemon asks containerd and runc for their
 * versions: about 40 ms, more than all the other requests of a warm `up`).
 * A daemon that does not speak 1.41 rejects the first request with a 400
 * before doing anything; docker_request_body() then negotiates and sends
 * it again. */
static void
docker_assume_version(struct docker *d)
{
	if (d->api_prefix == NULL)
		d->api_prefix = xasprintf("/v%d.%d", DOCKER_API_MAJOR, DOCKER_API_MINOR);
}

/* The API version for a streamed request (a pull, an exec's output), which
 * cannot simply be sent again: negotiated unless a simple request has
 * already shown that the daemon accepts it. */
int
docker_negotiate(struct docker *d, char **cause)
{
	if (d->api_prefix != NULL && d->api_checked)
		return 0;
	return docker_negotiate_version(d, cause);
}

/* Is resp the daemon's refusal of the API version in the path? Docker
 * answers 400 "client version 1.41 is too new. Maximum supported API version
 * is ..." or "... is too old. Minimum supported API version is ...". */
static int
docker_version_refused(const struct docker_response *resp)
{
	const char *body = (const char *)buf_data(resp->body);
	size_t len = buf_len(resp->body);

	if (resp->status != 400 || body == NULL)
		return 0;
	return memmem(body, len, "client version", 14) != NULL ||
	    memmem(body, len, "API version", 11) != NULL;
}

/* Turn a response body into JSON (see docker_request()). */
cJSON *
docker_body_json(struct buf *body)
{
	cJSON *j;
	char *s;

	if (buf_len(body) == 0)
		return NULL;
	j = cJSON_ParseWithLength((const char *)buf_data(body), buf_len(body));
	if (j != NULL)
		return j;
	s = buf_take_string(body, NULL);
	j = cJSON_CreateString(s);
	free(s);
	if (j == NULL)
		fatal("cJSON_CreateString: out of memory");
	return j;
}

/* Refuse a method, path or content type that would not make a well-formed
 * request (or would smuggle headers into it). */
static int
docker_check_request(
    const char *method, const char *path, const char *content_type, char **cause)
{
	const char *p;

	if (*method == '\0' ||
	    method[strspn(method, "ABCDEFGHIJKLMNOPQRSTUVWXYZ")] != '\0')
		return error_set(cause, "docker: bad HTTP method \"%s\"", method);
	if (path[0] != '/')
		return error_set(cause, "docker: bad API path \"%s\"", path);
	for (p = path; *p != '\0'; p++)
		if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f)
			return error_set(cause,
			    "docker: bad API path \"%s\" (unencoded characters)", path);
	if (content_type == NULL)
		return 0;
	for (p = content_type; *p != '\0'; p++)
		if ((unsigned char)*p < ' ' || (unsigned char)*p >= 0x7f)
			break;
	if (*content_type == '\0' || *p != '\0')
		return error_set(cause, "docker: bad content type \"%s\"", content_type);
	return 0;
}

/* One simple request on path (without the version prefix) with a body as
 * for docker_conn_send(), under the assumed API version, negotiated and sent
 * again if the daemon refuses it (see docker_assume_version()); or, with
 * prefix ("/v1.42") not NULL, under that version, for a request that needs
 * it (the caller knows from docker_api_at_least() that the daemon speaks
 * it). resp as for docker_do(), cleared whatever the result. */
static int
docker_request_body(struct docker *d, const char *prefix, const char *method,
    const char *path, const char *content_type, const void *body, size_t body_len,
    int timeout_ms, struct docker_response *resp, char **cause)
{
	char *full;
	int rc;

	memset(resp, 0, sizeof *resp);
	if (docker_check_request(
		method, path, body != NULL ? content_type : NULL, cause) != 0)
		return -1;
	if (prefix != NULL) {
		full = xasprintf("%s%s", prefix, path);
		rc = docker_do(d, method, full, content_type, body, body_len, timeout_ms,
		    resp, cause);
		if (rc != 0)
			docker_response_clear(resp);
		free(full);
		return rc;
	}
	docker_assume_version(d);
	full = xasprintf("%s%s", d->api_prefix, path);
	rc = docker_do(
	    d, method, full, content_type, body, body_len, timeout_ms, resp, cause);
	if (rc == 0 && !d->api_checked && docker_version_refused(resp)) {
		log_debug("docker at %s: API %s refused, negotiating", d->socket_path,
		    d->api_prefix + 2);
		docker_response_clear(resp);
		free(full);
		if (docker_negotiate_version(d, cause) != 0)
			return -1;
		full = xasprintf("%s%s", d->api_prefix, path);
		rc = docker_do(d, method, full, content_type, body, body_len, timeout_ms,
		    resp, cause);
	}
	if (rc == 0)
		d->api_checked = 1;
	else
		docker_response_clear(resp);
	free(full);
	return rc;
}

/* docker_request() with an inactivity timeout, under prefix as for
 * docker_request_body(). */
static int
docker_request_timeout(struct docker *d, const char *prefix, const char *method,
    const char *path, const cJSON *body, int timeout_ms, int *status, cJSON **response,
    char **cause)
{
	struct docker_response resp;
	char *text = NULL;
	int rc;

	*status = 0;
	*response = NULL;
	if (body != NULL && (text = cJSON_PrintUnformatted(body)) == NULL)
		fatal("cJSON_PrintUnformatted: out of memory");
	rc = docker_request_body(d, prefix, method, path, "application/json", text,
	    text != NULL ? strlen(text) : 0, timeout_ms, &resp, cause);
	if (rc == 0) {
		*status = resp.status;
		*response = docker_body_json(resp.body);
	}
	docker_response_clear(&resp);
	/* An exec's Env may hold secrets (secrets.h). */
	if (text != NULL)
		sodium_memzero(text, strlen(text));
	cJSON_free(text);
	return rc;
}

void
docker_set_deadline(struct docker *d, int ms)
{
	d->budget_ms = ms;
	d->deadline_ms = ms > 0 ? clock_now_ms() + ms : 0;
}

int
docker_request(struct docker *d, const char *method, const char *path, const cJSON *body,
    int *status, cJSON **response, char **cause)
{
	return docker_request_timeout(d, NULL, method, path, body,
	    DOCKER_TIMEOUT_S * 1000, status, response, cause);
}

int
docker_request_raw(struct docker *d, const char *method, const char *path,
    const char *content_type, const void *body, size_t body_len, int *status,
    char **response, size_t *response_len, char **cause)
{
	struct docker_response resp;
	int rc;

	*status = 0;
	*response = NULL;
	if (response_len != NULL)
		*response_len = 0;
	rc = docker_request_body(d, NULL, method, path, content_type, body, body_len,
	    DOCKER_TIMEOUT_S * 1000, &resp, cause);
	if (rc == 0) {
		*status = resp.status;
		*response = buf_take_string(resp.body, response_len);
	}
	docker_response_clear(&resp);
	return rc;
}

/* The error for a non-2xx answer: the daemon's message if it gave one. */
int
docker_error(int status, const cJSON *response, char **cause)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(response, "message");
	const char *text = NULL;
	size_t n;

	if (cJSON_IsString(m) && *m->valuestring != '\0')
		text = m->valuestring;
	else if (cJSON_IsString(response) && *response->valuestring != '\0')
		text = response->valuestring;
	if (text == NULL)
		return error_set(cause, "docker: HTTP %d", status);
	n = strlen(text);
	while (
	    n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r' || text[n - 1] == ' '))
		n--;
	return error_set(cause, "docker: %.*s", (int)n, text);
}

/* A request whose success is a 2xx (or one of the extra statuses in ok,
 * 0-terminated), under prefix as for docker_request_body(). *response (may
 * be NULL) gets the body on success. */
int
docker_call_at(struct docker *d, const char *prefix, const char *method, const char *path,
    const cJSON *body, int timeout_ms, const int *ok, int *status, cJSON **response,
    char **cause)
{
	cJSON *r;
	int st, good;

	if (response != NULL)
		*response = NULL;
	if (docker_request_timeout(
		d, prefix, method, path, body, timeout_ms, &st, &r, cause) != 0)
		return -1;
	if (status != NULL)
		*status = st;
	good = st >= 200 && st <= 299;
	for (; !good && ok != NULL && *ok != 0; ok++)
		good = st == *ok;
	if (!good) {
		docker_error(st, r, cause);
		cJSON_Delete(r);
		return -1;
	}
	if (response != NULL)
		*response = r;
	else
		cJSON_Delete(r);
	return 0;
}

int
docker_delete(struct docker *d, const char *kind, const char *name, const char *keep,
    int *removed, char **cause)
{
	static const int ok[] = { 404, 0 };
	char *enc, *path;
	int rc, status = 0;

	*removed = 0;
	if (*name == '\0')
		return error_set(cause, "docker: empty %s name", kind);
	enc = docker_urlencode(name, keep);
	path = xasprintf("/%ss/%s", kind, enc);
	rc = docker_call(
	    d, "DELETE", path, NULL, DOCKER_TIMEOUT_S * 1000, ok, &status, NULL, cause);
	free(path);
	free(enc);
	if (rc == 0)
		*removed = status != 404;
	return rc;
}

/* docker_call_at() under the handle's API version. */
int
docker_call(struct docker *d, const char *method, const char *path, const cJSON *body,
    int timeout_ms, const int *ok, int *status, cJSON **response, char **cause)
{
	return docker_call_at(
	    d, NULL, method, path, body, timeout_ms, ok, status, response, cause);
}

int
docker_api_at_least(const struct docker *d, int major, int minor)
{
	return d->daemon_major > major ||
	    (d->daemon_major == major && d->daemon_minor >= minor);
}

int
docker_ping(struct docker *d, char **api_version, char **cause)
{
	struct docker_response resp;
	cJSON *r;
	int rc = -1;

	if (api_version != NULL)
		*api_version = NULL;
	if (docker_do(d, "GET", "/_ping", NULL, NULL, 0, DOCKER_TIMEOUT_S * 1000, &resp,
		cause) != 0)
		goto out;
	if (resp.status != 200) {
		r = docker_body_json(resp.body);
		docker_error(resp.status, r, cause);
		cJSON_Delete(r);
		goto out;
	}
	if (api_version != NULL && resp.api_version != NULL)
		*api_version = xstrdup(resp.api_version);
	rc = 0;
out:
	docker_response_clear(&resp);
	return rc;
}

/* GET an inspect path; 404 is "not found", not an error. */
int
docker_inspect(struct docker *d, const char *path, cJSON **info, char **cause)
{
	static const int ok[] = { 404, 0 };
	cJSON *r;
	int status;

	*info = NULL;
	if (docker_call(d, "GET", path, NULL, DOCKER_TIMEOUT_S * 1000, ok, &status, &r,
		cause) != 0)
		return -1;
	if (status == 404) {
		cJSON_Delete(r);
		return 0;
	}
	if (!cJSON_IsObject(r)) {
		cJSON_Delete(r);
		return error_set(cause, "docker: %s did not answer a JSON object", path);
	}
	*info = r;
	return 0;
}
