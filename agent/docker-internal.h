/* docker-internal.h - the pieces of the Docker client (docker.h) shared by
 * its files: docker.c (the handle, the API version, simple requests and
 * their errors), docker-conn.c (one connection to the daemon: connect, send
 * a request, read the response), docker-container.c (containers, and
 * removing a volume), docker-image.c (image inspect, remove and pull) and
 * docker-exec.c (execs). Only these files include it; everyone else uses
 * docker.h.
 *
 * Ownership as in docker.h: a struct docker_conn belongs to the function
 * that made it (it closes the fd and frees it), a struct docker_response's
 * strings and buffer to whoever filled it (docker_response_clear()).
 */
#ifndef RDEV_DOCKER_INTERNAL_H
#define RDEV_DOCKER_INTERNAL_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "docker.h"

struct buf;
struct docker_http;

/* Bound on one line of a pull's progress stream and on captured output. */
#define DOCKER_MAX_LINE (1024 * 1024)
#define DOCKER_MAX_CAPTURE (64 * 1024 * 1024)

struct docker {
	char *socket_path; /* NULL when bad_host is set */
	/* All requests end by deadline_ms (clock_now_ms(); 0: none), which
	 * docker_set_deadline() set budget_ms after it was called. */
	long long deadline_ms;
	int budget_ms;
	char *bad_host;	  /* why DOCKER_HOST cannot be used */
	char *env_host;	  /* the DOCKER_HOST d was made from, or NULL */
	char *api_prefix; /* "/v1.41" once assumed or negotiated */
	int api_checked;  /* the daemon accepted api_prefix (or it was negotiated) */
	/* The newest API version the daemon announced (its Api-Version header,
	 * sent with every answer), 0.0 until an answer came. */
	int daemon_major, daemon_minor;
};

/* One connection to the daemon, with its read buffer. */
struct docker_conn {
	struct docker *d;
	int fd;
	unsigned char rbuf[64 * 1024];
	size_t roff, rlen; /* unread bytes are rbuf[roff..rlen) */
	int eof;
};

/* What a simple request brings back. */
struct docker_response {
	int status;
	struct buf *body;
	char *api_version; /* the Api-Version header, if any */
};

typedef int (*docker_body_cb)(
    void *arg, const unsigned char *data, size_t len, char **cause);

/* docker.c */
/* A new string (caller frees). */
char *docker_urlencode(const char *s, const char *keep);
int docker_parse_version(const char *s, int *major, int *minor);
int docker_negotiate(struct docker *d, char **cause);
/* NULL, or a new cJSON (caller deletes); may take body's contents. */
cJSON *docker_body_json(struct buf *body);
int docker_error(int status, const cJSON *response, char **cause);
int docker_call_at(struct docker *d, const char *prefix, const char *method,
    const char *path, const cJSON *body, int timeout_ms, const int *ok, int *status,
    cJSON **response, char **cause);
int docker_call(struct docker *d, const char *method, const char *path, const cJSON *body,
    int timeout_ms, const int *ok, int *status, cJSON **response, char **cause);
int docker_inspect(struct docker *d, const char *path, cJSON **info, char **cause);
/* DELETE /KINDs/NAME (kind "image" or "volume"; keep: the characters NAME
 * keeps unencoded); 404 is *removed 0, not an error. */
int docker_delete(struct docker *d, const char *kind, const char *name, const char *keep,
    int *removed, char **cause);

/* docker-conn.c */
int docker_connect(struct docker *d, int *fd, char **cause);
int docker_poll(int fd, short events, int timeout_ms);
int docker_conn_send(struct docker_conn *c, const char *method, const char *path,
    const char *content_type, const void *body, size_t body_len, int upgrade,
    int timeout_ms, char **cause);
int docker_conn_response(struct docker_conn *c, struct docker_http *h,
    int stop_at_headers, int timeout_ms, docker_body_cb cb, void *arg, char **cause);
int docker_body_collect(void *arg, const unsigned char *data, size_t len, char **cause);
int docker_body_collect_small(
    void *arg, const unsigned char *data, size_t len, char **cause);
int docker_do(struct docker *d, const char *method, const char *full_path,
    const char *content_type, const void *body, size_t body_len, int timeout_ms,
    struct docker_response *resp, char **cause);
void docker_response_clear(struct docker_response *resp);

#endif
