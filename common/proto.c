/* proto.c - the rdev wire protocol codec (see proto.h and docs/PROTOCOL.md). */
#include "proto.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "byte-order.h"
#include "error.h"
#include "xmalloc.h"

const char *
proto_type_name(uint16_t type)
{
	switch (type) {
	case PROTO_HELLO: return "HELLO";
	case PROTO_FATAL: return "FATAL";
	case PROTO_CONTROL: return "CONTROL";
	case PROTO_DATA: return "DATA";
	case PROTO_EOF: return "EOF";
	case PROTO_CLOSE: return "CLOSE";
	case PROTO_WINDOW: return "WINDOW";
	}
	return "unknown";
}

void
proto_put_header(unsigned char *h, enum proto_type type, uint32_t channel, uint32_t len)
{
	be_put_u32(h, len);
	be_put_u16(h + 4, PROTO_MAGIC);
	be_put_u16(h + 6, (uint16_t)type);
	be_put_u32(h + 8, channel);
}

void
proto_encode(struct buf *out, enum proto_type type, uint32_t channel, const void *payload,
    size_t len)
{
	if (len > PROTO_MAX_PAYLOAD)
		fatal("proto_encode: %zu-byte payload exceeds the frame limit", len);
	proto_put_header(
	    buf_reserve(out, PROTO_HEADER_SIZE), type, channel, (uint32_t)len);
	buf_commit(out, PROTO_HEADER_SIZE);
	buf_append(out, payload, len);
}

int
proto_encode_json(struct buf *out, enum proto_type type, uint32_t channel,
    const cJSON *obj, char **cause)
{
	char *text = cJSON_PrintUnformatted(obj);
	size_t len;

	if (text == NULL)
		fatal("out of memory printing JSON");
	len = strlen(text);
	if (len > PROTO_MAX_PAYLOAD) {
		free(text);
		return error_set(cause,
		    "%s message of %zu bytes exceeds the %u-byte limit",
		    proto_type_name((uint16_t)type), len, PROTO_MAX_PAYLOAD);
	}
	proto_encode(out, type, channel, text, len);
	/* A request may carry secrets (secrets.h): no copy is left behind. */
	sodium_memzero(text, len);
	free(text);
	return 0;
}

/* Show the first bytes of a stream that is not rdev, printable, for the error. */
static char *
proto_snippet(const unsigned char *data, size_t len)
{
	char *s = xmalloc(41);
	size_t i, n = len < 40 ? len : 40;

	for (i = 0; i < n; i++)
		s[i] = isprint(data[i]) ? (char)data[i] : '.';
	s[n] = '\0';
	return s;
}

int
proto_decode_header(
    const unsigned char *data, size_t len, struct proto_frame *frame, char **cause)
{
	uint32_t plen;
	uint16_t magic, type;
	char *snip;

	if (len < 6)
		return 0; /* (too short to see the magic: more is needed) */
	magic = be_get_u16(data + 4);
	if (magic != PROTO_MAGIC) {
		snip = proto_snippet(data, len);
		error_set(cause, "not an rdev protocol stream (it starts \"%s\")", snip);
		free(snip);
		return -1;
	}
	if (len < PROTO_HEADER_SIZE)
		return 0;
	plen = be_get_u32(data);
	type = be_get_u16(data + 6);
	if (strcmp(proto_type_name(type), "unknown") == 0)
		return error_set(cause, "frame of unknown type %u", type);
	if (plen > PROTO_MAX_PAYLOAD)
		return error_set(cause, "%s frame of %u bytes exceeds the %u-byte limit",
		    proto_type_name(type), plen, PROTO_MAX_PAYLOAD);
	frame->type = type;
	frame->channel = be_get_u32(data + 8);
	frame->payload = NULL;
	frame->len = plen;
	return 1;
}

int
proto_decode(const unsigned char *data, size_t len, struct proto_frame *frame,
    size_t *consumed, char **cause)
{
	int r = proto_decode_header(data, len, frame, cause);

	if (r <= 0)
		return r;
	if (len - PROTO_HEADER_SIZE < frame->len)
		return 0;
	frame->payload = data + PROTO_HEADER_SIZE;
	*consumed = PROTO_HEADER_SIZE + frame->len;
	return 1;
}

cJSON *
proto_frame_json(const struct proto_frame *frame, char **cause)
{
	cJSON *obj;

	if (frame->len == 0) {
		error_set(cause, "empty %s message", proto_type_name(frame->type));
		return NULL;
	}
	obj = cJSON_ParseWithLength((const char *)frame->payload, frame->len);
	if (obj == NULL || !cJSON_IsObject(obj)) {
		cJSON_Delete(obj);
		error_set(cause, "%s message is not a JSON object",
		    proto_type_name(frame->type));
		return NULL;
	}
	return obj;
}

cJSON *
proto_hello_new(const char *software)
{
	cJSON *obj = cJSON_CreateObject(), *versions = cJSON_CreateArray();

	if (obj == NULL || versions == NULL)
		fatal("out of memory building HELLO");
	cJSON_AddItemToArray(versions, cJSON_CreateNumber(PROTO_MIN_VERSION));
	cJSON_AddItemToArray(versions, cJSON_CreateNumber(PROTO_VERSION));
	cJSON_AddItemToObject(obj, "versions", versions);
	cJSON_AddStringToObject(obj, "software", software);
	return obj;
}

void
proto_hello_add_feature(cJSON *hello, const char *name)
{
	cJSON *list = cJSON_GetObjectItemCaseSensitive(hello, "features");

	if (!cJSON_IsArray(list)) {
		cJSON_DeleteItemFromObjectCaseSensitive(hello, "features");
		if ((list = cJSON_AddArrayToObject(hello, "features")) == NULL)
			fatal("out of memory building HELLO");
	}
	if (!proto_hello_has_feature(hello, name))
		cJSON_AddItemToArray(list, cJSON_CreateString(name));
}

int
proto_hello_has_feature(const cJSON *hello, const char *name)
{
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(hello, "features");
	const cJSON *f;

	cJSON_ArrayForEach(f, list) {
		if (cJSON_IsString(f) && strcmp(f->valuestring, name) == 0)
			return 1;
	}
	return 0;
}

int
proto_hello_negotiate(const cJSON *peer, uint32_t *version, char **cause)
{
	const cJSON *versions = cJSON_GetObjectItemCaseSensitive(peer, "versions");
	const cJSON *sw = cJSON_GetObjectItemCaseSensitive(peer, "software");
	const char *name = cJSON_IsString(sw) ? sw->valuestring : "the peer";
	const cJSON *lo, *hi;
	double min, max;

	if (!cJSON_IsArray(versions) || cJSON_GetArraySize(versions) != 2 ||
	    !cJSON_IsNumber(lo = cJSON_GetArrayItem(versions, 0)) ||
	    !cJSON_IsNumber(hi = cJSON_GetArrayItem(versions, 1)))
		return error_set(
		    cause, "HELLO from %s has no valid \"versions\" range", name);
	min = lo->valuedouble;
	max = hi->valuedouble;
	if (min > max || min < 1 || max > 65535)
		return error_set(
		    cause, "HELLO from %s has an invalid version range", name);
	if (max < PROTO_MIN_VERSION || min > PROTO_VERSION)
		return error_set(cause,
		    "protocol version mismatch: this rdev speaks %d..%d, %s speaks "
		    "%.0f..%.0f; install matching versions",
		    PROTO_MIN_VERSION, PROTO_VERSION, name, min, max);
	*version = max < PROTO_VERSION ? (uint32_t)max : PROTO_VERSION;
	return 0;
}
