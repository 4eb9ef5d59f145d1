/* docker-image.c - images through the Docker Engine API: inspect, remove,
 * and pull with its progress stream read line by line (docker.h). */
#include "docker-internal.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "docker-http.h"
#include "error.h"
#include "log.h"
#include "xmalloc.h"

int
docker_image_inspect(struct docker *d, const char *image, cJSON **info, char **cause)
{
	char *enc = docker_urlencode(image, "/:@"), *path;
	int rc;

	*info = NULL;
	if (*image == '\0') {
		free(enc);
		return error_set(cause, "docker: empty image name");
	}
	path = xasprintf("/images/%s/json", enc);
	rc = docker_inspect(d, path, info, cause);
	free(path);
	free(enc);
	return rc;
}

int
docker_image_remove(struct docker *d, const char *image, int *removed, char **cause)
{
	return docker_delete(d, "image", image, "/:@", removed, cause);
}

/* State of a pull's progress stream. */
struct docker_pull {
	struct buf *line;
	char *error; /* the first {"error": ...} */
};

/* Look at one progress line. */
static void
docker_pull_line(struct docker_pull *p, const char *s, size_t len)
{
	cJSON *j, *e, *detail;

	if (p->error != NULL || len == 0)
		return;
	if ((j = cJSON_ParseWithLength(s, len)) == NULL)
		return; /* progress we cannot read is no reason to fail */
	e = cJSON_GetObjectItemCaseSensitive(j, "error");
	detail = cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(j, "errorDetail"), "message");
	if (cJSON_IsString(e))
		p->error = xstrdup(e->valuestring);
	else if (cJSON_IsString(detail))
		p->error = xstrdup(detail->valuestring);
	cJSON_Delete(j);
}

/* Split a pull's body into lines. */
static int
docker_pull_body(void *arg, const unsigned char *data, size_t len, char **cause)
{
	struct docker_pull *p = arg;
	const unsigned char *nl;
	size_t n;

	while (len > 0) {
		nl = memchr(data, '\n', len);
		n = nl != NULL ? (size_t)(nl - data) : len;
		if (buf_len(p->line) + n > DOCKER_MAX_LINE)
			return error_set(cause,
			    "docker: pull progress line over %d bytes", DOCKER_MAX_LINE);
		buf_append(p->line, data, n);
		if (nl == NULL)
			break;
		docker_pull_line(p, (const char *)buf_data(p->line), buf_len(p->line));
		buf_reset(p->line);
		data += n + 1;
		len -= n + 1;
	}
	return 0;
}

int
docker_image_pull(struct docker *d, const char *image, char **cause)
{
	struct docker_pull p = { NULL, NULL };
	struct docker_conn *c = NULL;
	struct docker_http *h = NULL;
	const char *slash, *at, *colon;
	char *name, *tag, *ename, *etag, *path;
	struct buf *errbody = NULL;
	cJSON *r;
	int fd = -1, rc = -1, timeout = DOCKER_PULL_TIMEOUT_S * 1000;

	if (*image == '\0')
		return error_set(cause, "docker: empty image name");
	/* Split name and tag (or digest); a colon before the last slash is a
	 * registry port. */
	slash = strrchr(image, '/');
	at = strchr(image, '@');
	colon = strrchr(slash != NULL ? slash : image, ':');
	if (at != NULL) {
		name = xstrndup(image, (size_t)(at - image));
		tag = xstrdup(at + 1);
	} else if (colon != NULL) {
		name = xstrndup(image, (size_t)(colon - image));
		tag = xstrdup(colon + 1);
	} else {
		name = xstrdup(image);
		tag = xstrdup("latest");
	}
	ename = docker_urlencode(name, "");
	etag = docker_urlencode(tag, "");
	path = NULL;
	if (docker_negotiate(d, cause) != 0)
		goto out;
	path =
	    xasprintf("%s/images/create?fromImage=%s&tag=%s", d->api_prefix, ename, etag);
	if (docker_connect(d, &fd, cause) != 0)
		goto out;
	c = xcalloc(1, sizeof *c);
	c->d = d;
	c->fd = fd;
	h = docker_http_new("POST", 0);
	if (docker_conn_send(c, "POST", path, NULL, NULL, 0, 0, timeout, cause) != 0)
		goto out;
	if (docker_conn_response(c, h, 1, timeout, NULL, NULL, cause) != 0)
		goto out;
	log_debug("docker: POST %s -> %d", path, docker_http_status(h));
	if (docker_http_status(h) < 200 || docker_http_status(h) > 299) {
		errbody = buf_new();
		if (docker_conn_response(c, h, 0, DOCKER_TIMEOUT_S * 1000,
			docker_body_collect_small, errbody, cause) != 0)
			goto out;
		r = docker_body_json(errbody);
		docker_error(docker_http_status(h), r, cause);
		cJSON_Delete(r);
		goto out;
	}
	p.line = buf_new();
	if (docker_conn_response(c, h, 0, timeout, docker_pull_body, &p, cause) != 0)
		goto out;
	docker_pull_line(&p, (const char *)buf_data(p.line), buf_len(p.line));
	if (p.error != NULL) {
		error_set(cause, "docker: %s", p.error);
		goto out;
	}
	rc = 0;
out:
	if (fd != -1)
		close(fd);
	free(c);
	docker_http_free(h);
	buf_free(errbody);
	buf_free(p.line);
	free(p.error);
	free(path);
	free(ename);
	free(etag);
	free(name);
	free(tag);
	return rc;
}
