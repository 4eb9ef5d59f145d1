/* serve-internal.h - the pieces of `rdev-agent serve` (serve.h) shared by
 * its files: serve.c (the router: the loop, the frames it queues, the worker
 * processes it forks, cancels and reaps), serve-peer.c (the peer's frames:
 * the handshake, requests answered by the router or handed to a worker,
 * channel traffic for execs) and serve-job.c (a request run in the worker
 * process, exec and its pump included).
 *
 * Ownership: struct serve and its workers belong to serve_run() (serve.c);
 * a struct serve_job lives in the worker process, borrowing the request.
 */
#ifndef RDEV_SERVE_INTERNAL_H
#define RDEV_SERVE_INTERNAL_H

#include <sys/queue.h>
#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "proto.h"
#include "serve.h"

struct buf;

#define SERVE_SOFTWARE "rdev-agent " RDEV_VERSION
/* Stop reading workers while this much waits for the peer, and stop reading
 * the peer while this much waits for one worker. */
#define SERVE_HIGH_WATER (4u << 20)
#define SERVE_READ_SIZE 65536
/* When the peer is gone: how long an exec's processes get between SIGHUP and
 * SIGKILL, and how long the router then waits for its exec workers. */
#define SERVE_HANGUP_GRACE_MS 2000
#define SERVE_EXEC_WAIT_MS 10000
/* A cancelled operation's process group gets SIGINT, then SIGKILL this much
 * later; what is left of it is given up on a little after that. */
#define SERVE_CANCEL_GRACE_MS 5000
#define SERVE_CANCEL_GIVE_UP_MS 1000
/* How often the router looks whether a cancelled group is gone. */
#define SERVE_CANCEL_TICK_MS 100
/* What a cancelled operation answers: as a CLI killed by ^C. */
#define SERVE_CANCEL_STATUS 130

enum serve_kind { SERVE_OP, SERVE_EXEC };

/* An operation's cancel, as ^C cancels a local one (serve_cancel): not
 * cancelled; SIGINT sent to its process group; SIGKILL sent too, its grace
 * over (serve_cancel_tick). Only forward, one step at a time. */
enum serve_cancel_state { SERVE_CANCEL_NONE, SERVE_CANCEL_INT, SERVE_CANCEL_KILL };

/* One request being worked on by a child process. */
struct serve_worker {
	TAILQ_ENTRY(serve_worker) entry;
	enum serve_kind kind;
	double id; /* the request's id */
	char *op;
	uint32_t channel; /* exec: stdout/stdin on channel, stderr on channel + 1 */
	pid_t pid;
	int fd;	      /* our end of the socketpair; -1 once closed */
	int answered; /* its final response went to the peer */
	int closed;   /* exec: its CLOSE went to the peer */
	int reaped;
	int status;			/* wait status, once reaped */
	enum serve_cancel_state cancel; /* op */
	long long kill_at; /* op, cancelled: when SIGKILL goes (clock_now_ms) */
	double *signals;   /* exec: ids of signal requests it has not answered */
	size_t nsignals;
	struct buf *in;	 /* bytes from the worker, not yet a whole frame */
	struct buf *out; /* frames for the worker */
};
TAILQ_HEAD(serve_workers, serve_worker);

struct serve {
	const struct serve_opts *opts;
	struct buf *in;	 /* bytes from the peer, not yet a whole frame */
	struct buf *out; /* frames for the peer */
	struct serve_workers workers;
	uint32_t version; /* negotiated; 0 before the handshake */
	int in_eof;
	int fatal; /* a FATAL is queued: flush it and stop */
};

/* A request in its worker process (serve-job.c). */
struct serve_job {
	int sock; /* to the router */
	const cJSON *req;
	const cJSON *id;
};

/* serve.c */
void serve_queue_json(
    struct buf *out, enum proto_type type, uint32_t channel, cJSON *obj);
/* A new response object (caller deletes). */
cJSON *serve_error_response(const cJSON *id, const char *msg, int status);
void serve_reply_error(struct buf *out, const cJSON *id, const char *msg, int status);
/* Takes result. */
void serve_reply_result(struct buf *out, const cJSON *id, cJSON *result);
void serve_fatal(struct serve *s, const char *msg);
/* Borrowed from s->workers, or NULL. */
struct serve_worker *serve_find_id(struct serve *s, double id);
struct serve_worker *serve_find_channel(struct serve *s, uint32_t ch);
void serve_spawn(struct serve *s, cJSON *req, const cJSON *id, const char *op,
    enum serve_kind kind, uint32_t channel);
void serve_cancel(struct serve_worker *w, const char *why);

/* serve-peer.c */
void serve_peer_read(struct serve *s);

/* serve-job.c */
void serve_job_run(struct serve_job *j, const char *op);
/* Frames to the router from a worker (obj is not consumed). */
void serve_job_send(
    struct serve_job *j, enum proto_type type, uint32_t channel, cJSON *obj);
void serve_job_error(struct serve_job *j, const char *msg, int status);

/* serve-sync.c: the sync request (a stream on its channel). */
void serve_job_sync(struct serve_job *j);

#endif
