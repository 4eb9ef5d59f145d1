/* proto.h - the rdev wire protocol: frames, message types, version handshake.
 *
 * BUMP PROTO_VERSION WHEN THIS CHANGES, and change docs/PROTOCOL.md in the same
 * commit.
 *
 * A stream (broker <-> agent over an SSH exec channel, client <-> broker over a
 * unix socket) is a sequence of frames. Each frame is a 12-byte header, all
 * fields big-endian, then the payload:
 *
 *   u32 length   payload bytes that follow (<= PROTO_MAX_PAYLOAD)
 *   u16 magic    0x5244 ("RD"): catches a stream that is not rdev at all
 *                (a login banner, a shell error) on its first bytes
 *   u16 type     enum proto_type
 *   u32 channel  0 for the session itself, else a channel opened on it
 *
 * Control messages (HELLO, CONTROL, CLOSE) carry one JSON object. DATA carries
 * raw bytes, never encoded. The first frame each side sends is HELLO; nothing
 * else is valid before both HELLOs have been exchanged.
 *
 * The codec is pure: no I/O, no allocation beyond the returned objects.
 */
#ifndef RDEV_PROTO_H
#define RDEV_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "buf.h"

#define PROTO_VERSION 1	    /* the newest version this build speaks */
#define PROTO_MIN_VERSION 1 /* the oldest version this build accepts */
#define PROTO_MAGIC 0x5244u
#define PROTO_HEADER_SIZE 12
#define PROTO_MAX_PAYLOAD (16u << 20)

/* Message types, in numbered ranges:
 *   1-15   session: handshake and session-level errors
 *   16-63  control: JSON requests, responses and events
 *   64-127 data: raw bytes on a channel and its end-of-stream markers */
enum proto_type {
	PROTO_HELLO = 1,    /* JSON {"versions":[min..max], "software":"..."} */
	PROTO_FATAL = 2,    /* JSON {"error":"..."}, optional "host":"LABEL" when
			     * the error names that host already: the sender is
			     * closing the session */
	PROTO_CONTROL = 16, /* JSON {"id":N, "op":"...", ...} request/response/event */
	PROTO_DATA = 64,    /* raw bytes for the channel */
	PROTO_EOF = 65,	   /* no more DATA from the sender on this channel (half close) */
	PROTO_CLOSE = 66,  /* channel closed; optional JSON {"status":N} or
			    * {"error":"..."}, "reset":true when a stream's
			    * connection was reset (docs/PROTOCOL.md) */
	PROTO_WINDOW = 67, /* u32: more bytes the sender may receive on the channel */
};

struct proto_frame {
	uint16_t type;
	uint32_t channel;
	const unsigned char *payload; /* borrowed from the decoder's input */
	size_t len;
};

/* Write a frame's 12-byte header at h (for a payload read in place right
 * behind it, with no copy). */
void proto_put_header(
    unsigned char *h, enum proto_type type, uint32_t channel, uint32_t len);
/* Append one frame to out. Fatal if len > PROTO_MAX_PAYLOAD (a caller bug:
 * split DATA into pieces first). */
void proto_encode(struct buf *out, enum proto_type type, uint32_t channel,
    const void *payload, size_t len);
/* Append one frame whose payload is the compact JSON text of obj. Returns -1
 * with *cause set if the text exceeds PROTO_MAX_PAYLOAD. */
int proto_encode_json(struct buf *out, enum proto_type type, uint32_t channel,
    const cJSON *obj, char **cause);

/* Decode the frame at the start of data[0..len). Returns 1 and fills frame and
 * *consumed when a whole frame is there (frame->payload points into data), 0
 * when more bytes are needed, -1 with *cause set when the bytes are not a valid
 * frame (bad magic, unknown type, oversize length): the stream must be closed. */
int proto_decode(const unsigned char *data, size_t len, struct proto_frame *frame,
    size_t *consumed, char **cause);
/* The frame header at the start of data[0..len) alone (a reader that takes the
 * payload as it comes): 1 with frame's type, channel and len (payload NULL)
 * when a valid header is there, 0 when more bytes are needed, -1 with *cause
 * as proto_decode. */
int proto_decode_header(
    const unsigned char *data, size_t len, struct proto_frame *frame, char **cause);

/* Parse a control frame's payload; it must be one JSON object. The caller
 * frees the result with cJSON_Delete(). */
cJSON *proto_frame_json(const struct proto_frame *frame, char **cause);

/* The HELLO object this build sends; software is e.g. "rdev-agent 0.1.0".
 * The caller frees it with cJSON_Delete(). */
cJSON *proto_hello_new(const char *software);
/* Capabilities a HELLO may list in its "features" (an array of names; a
 * peer without one lacks them all):
 * - PROTO_FEATURE_EARLY_DATA, in the HELLO of `rdev-agent serve --listen`:
 *   DATA for a stream of the agent session may follow its open at once, up
 *   to PROTO_EARLY_DATA bytes before the open's answer (docs/PROTOCOL.md,
 *   "Streams of the agent session"). */
#define PROTO_FEATURE_EARLY_DATA "earlyData"
#define PROTO_EARLY_DATA 65536u
/* Add feature name to hello's "features" (made if missing). */
void proto_hello_add_feature(cJSON *hello, const char *name);
/* Does the peer's hello list feature name? */
int proto_hello_has_feature(const cJSON *hello, const char *name);
/* Check a peer's HELLO and choose the highest version both speak. Returns 0
 * and sets *version, or -1 with *cause naming both ranges and the peer. */
int proto_hello_negotiate(const cJSON *peer_hello, uint32_t *version, char **cause);

/* A human name for a type ("CONTROL"), or "unknown". */
const char *proto_type_name(uint16_t type);

#endif
