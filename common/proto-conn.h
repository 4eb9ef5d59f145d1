/* proto-conn.h - a protocol stream over one file descriptor, for programs
 * that talk to one peer from a simple loop (the client; tests).
 *
 * Frames to send are queued in an output buffer and written by
 * proto_conn_flush() (blocking) or proto_conn_write_some() (from a poll
 * loop, the fd non-blocking). Frames received are read into an input buffer
 * and handed out one at a time by proto_conn_next(). The conn owns neither
 * the fd's lifetime rules beyond closing it in proto_conn_free().
 */
#ifndef RDEV_PROTO_CONN_H
#define RDEV_PROTO_CONN_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "proto.h"

struct buf;
struct proto_conn;

/* Take ownership of fd (closed by proto_conn_free). name is for messages
 * ("the broker", "host buildbox"). */
struct proto_conn *proto_conn_new(int fd, const char *name);
void proto_conn_free(struct proto_conn *c);
int proto_conn_fd(const struct proto_conn *c);
/* Has the peer closed or reset the connection (end of stream, ECONNRESET,
 * EPIPE seen by a read or write)? Then the error of the call that met it
 * says so, and the caller may try again on a new connection. */
int proto_conn_peer_gone(const struct proto_conn *c);
/* Did a wait for a response (proto_conn_response, proto_conn_request) end
 * with the peer's FATAL whose error names its host already (the broker's
 * "lost the SSH connection to HOST: ...", with "host")? Then a caller that
 * puts the host's name before errors shows this one as it is. */
int proto_conn_fatal_named(const struct proto_conn *c);
/* Give up (-1 with *cause: "NAME sent nothing for N s", "... took nothing")
 * when a wait or a flush sees nothing read or written for ms (0, the
 * default: never), whatever its own timeout; a flush waits only when the
 * fd is non-blocking. For a peer that may hang without closing. */
void proto_conn_set_idle(struct proto_conn *c, int ms);
/* Give up (-1 with *cause: "NAME did not answer in time", "... took nothing
 * in time") when a wait or a flush is still waiting at clock_now_ms() time
 * at (0, the default: never), whatever its own timeout: a bound on a whole
 * exchange (a connect and its handshakes) with a peer that may hang. */
void proto_conn_set_deadline(struct proto_conn *c, long long at);
/* Did a wait or a flush give up at c's deadline (proto_conn_set_deadline:
 * its "did not answer in time", "took nothing in time")? Cleared when a
 * deadline is set. For a caller that words a timeout its own way. */
int proto_conn_deadline_met(const struct proto_conn *c);
/* Bytes queued but not written yet. */
size_t proto_conn_pending_out(const struct proto_conn *c);

/* Queue a frame. */
void proto_conn_queue(struct proto_conn *c, enum proto_type type, uint32_t channel,
    const void *payload, size_t len);
/* Queue a JSON frame; -1 with *cause if it is too large. */
int proto_conn_queue_json(struct proto_conn *c, enum proto_type type, uint32_t channel,
    const cJSON *obj, char **cause);
/* Write everything queued, waiting as needed (poll if the fd is non-blocking).
 * -1 with *cause when the peer is gone: the error of the FATAL it sent
 * before its end when one is there to read (proto_conn_fatal_named then
 * says whether it names its host), else what the write met. */
int proto_conn_flush(struct proto_conn *c, char **cause);
/* Write what the fd takes now (fd non-blocking). -1 with *cause on error. */
int proto_conn_write_some(struct proto_conn *c, char **cause);

/* Read what the fd has now (one read call). Returns 1 if bytes came, 0 at
 * end of stream, -1 with *cause on error (EAGAIN is 1 with nothing new). */
int proto_conn_read_some(struct proto_conn *c, char **cause);
/* The next complete frame already read: 1 and *f (its payload valid until the
 * next call on c), 0 if none yet, -1 with *cause on a bad frame. */
int proto_conn_next(struct proto_conn *c, struct proto_frame *f, char **cause);
/* Move the bytes read but not handed out as frames to out (for a stream
 * that carries other bytes after its frames). */
void proto_conn_take_input(struct proto_conn *c, struct buf *out);
/* Wait for the next frame (reading as needed, timeout_ms < 0: forever).
 * 1 and *f; 0 at end of stream (cause set: "NAME closed the connection");
 * -1 with *cause (also on timeout). */
int proto_conn_wait(
    struct proto_conn *c, struct proto_frame *f, int timeout_ms, char **cause);

/* Who answers "prompt" events ({"event":"prompt","text":T,"echo":B} while a
 * request waits, e.g. an SSH passphrase the broker needs): fn returns 0 with
 * a new string in *answer, or -1 (nobody can answer). The answer goes back
 * as {"op":"answer","id":ID,"text":...} or {"op":"answer","id":ID,
 * "cancel":true}. Without a handler every prompt is cancelled. */
void proto_conn_set_prompt(struct proto_conn *c,
    int (*fn)(void *arg, const char *text, int echo, char **answer), void *arg);

/* Send our HELLO (software, e.g. "rdev 0.1.0") and check the peer's. A FATAL
 * from the peer becomes *cause. 0 and *version, or -1. */
int proto_conn_handshake(
    struct proto_conn *c, const char *software, uint32_t *version, char **cause);
/* The handshake in halves, for a caller that does not wait: send our HELLO
 * (0, or -1 with *cause); check the peer's first frame f (0 and *version
 * for a HELLO we can talk with, else -1 with *cause: a FATAL's error). */
int proto_conn_send_hello(struct proto_conn *c, const char *software, char **cause);
int proto_conn_check_hello(const struct proto_conn *c, const struct proto_frame *f,
    uint32_t *version, char **cause);

/* Send a request (a CONTROL object with "id" and "op"; consumed) and wait
 * for its response, passing "progress" events' text to on_progress (may be
 * NULL). Frames of other requests that arrive meanwhile are skipped, other
 * frames are a protocol error. Returns 0 with *result (the response's "result", or NULL
 * if it had none; the caller frees it), or -1 with *cause: the response's "error" (and
 * *exit_status its "exitStatus", else 1) or what broke, and *result the error's
 * details when it has an object "result" (up's containerId) or an "errorCode"
 * (copied into the details as "errorCode"; else NULL; the caller frees it). */
int proto_conn_request(struct proto_conn *c, cJSON *request,
    void (*on_progress)(void *arg, const char *text), void *arg, cJSON **result,
    int *exit_status, char **cause);

/* proto_conn_request in two halves, for a caller that may give up waiting
 * (^C) and send a request meanwhile ("cancel"). Send: queue request
 * (consumed) and write it; 0, or -1 with *cause. */
int proto_conn_send_request(struct proto_conn *c, cJSON *request, char **cause);
/* Wait for the response to request id, as proto_conn_request does, for at
 * most timeout_ms (< 0: no limit; -1 with *cause when it passes). When stop
 * is not NULL, returns -2 (nothing in *cause, the request still running) as
 * soon as *stop is non-zero: set it from a signal handler, installed with or
 * without SA_RESTART (the wait looks at it at least every 100 ms). */
int proto_conn_response(struct proto_conn *c, double id,
    void (*on_progress)(void *arg, const char *text), void *arg, int timeout_ms,
    const volatile sig_atomic_t *stop, cJSON **result, int *exit_status, char **cause);

#endif
