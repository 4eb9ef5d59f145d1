/* test-proto.c - unit tests for common/proto.c (frames and handshake). */
#include "test.h"

#include "proto.h"

TEST(encode_decode_roundtrip_data)
{
	struct buf *b = buf_new();
	struct proto_frame f;
	size_t used = 0;
	unsigned char bin[256];
	int i;

	for (i = 0; i < 256; i++)
		bin[i] = (unsigned char)i;
	proto_encode(b, PROTO_DATA, 7, bin, sizeof bin);
	ASSERT_INT_EQ(buf_len(b), PROTO_HEADER_SIZE + 256);
	ASSERT_INT_EQ(proto_decode(buf_data(b), buf_len(b), &f, &used, NULL), 1);
	ASSERT_INT_EQ(f.type, PROTO_DATA);
	ASSERT_INT_EQ(f.channel, 7);
	ASSERT_INT_EQ(f.len, 256);
	ASSERT_MEM_EQ(f.payload, bin, 256);
	ASSERT_INT_EQ(used, PROTO_HEADER_SIZE + 256);
	buf_free(b);
}

TEST(header_layout_is_big_endian)
{
	struct buf *b = buf_new();
	const unsigned char want[] = { 0, 0, 0, 2, 0x52, 0x44, 0, 64, 0, 0, 1, 2, 'h',
		'i' };

	proto_encode(b, PROTO_DATA, 0x0102, "hi", 2);
	ASSERT_INT_EQ(buf_len(b), sizeof want);
	ASSERT_MEM_EQ(buf_data(b), want, sizeof want);
	buf_free(b);
}

TEST(partial_frames_need_more_bytes)
{
	struct buf *b = buf_new();
	struct proto_frame f;
	size_t used = 0, cut;

	proto_encode(b, PROTO_CONTROL, 0, "{\"id\":1}", 8);
	for (cut = 0; cut < buf_len(b); cut++)
		ASSERT_INT_EQ(proto_decode(buf_data(b), cut, &f, &used, NULL), 0);
	ASSERT_INT_EQ(proto_decode(buf_data(b), buf_len(b), &f, &used, NULL), 1);
	buf_free(b);
}

TEST(a_header_alone_is_decoded_before_its_payload)
{
	struct buf *b = buf_new();
	struct proto_frame f;
	size_t cut;
	char *cause = NULL;

	proto_encode(b, PROTO_DATA, 9, "payload", 7);
	for (cut = 0; cut < PROTO_HEADER_SIZE; cut++)
		ASSERT_INT_EQ(proto_decode_header(buf_data(b), cut, &f, NULL), 0);
	ASSERT_INT_EQ(proto_decode_header(buf_data(b), PROTO_HEADER_SIZE, &f, NULL), 1);
	ASSERT_INT_EQ(f.type, PROTO_DATA);
	ASSERT_INT_EQ(f.channel, 9);
	ASSERT_INT_EQ(f.len, 7);
	ASSERT_TRUE(f.payload == NULL);
	buf_reset(b);
	buf_append(b, "SSH-2.0-OpenSSH\r\n", 17);
	ASSERT_INT_EQ(proto_decode_header(buf_data(b), buf_len(b), &f, &cause), -1);
	ASSERT_STR_CONTAINS(cause, "not an rdev protocol stream");
	free(cause);
	buf_free(b);
}

TEST(several_frames_in_one_read)
{
	struct buf *b = buf_new();
	struct proto_frame f;
	size_t used;
	int n = 0;

	proto_encode(b, PROTO_DATA, 1, "a", 1);
	proto_encode(b, PROTO_EOF, 1, NULL, 0);
	proto_encode(b, PROTO_CLOSE, 1, "{\"status\":0}", 12);
	while (proto_decode(buf_data(b), buf_len(b), &f, &used, NULL) == 1) {
		n++;
		buf_consume(b, used);
	}
	ASSERT_INT_EQ(n, 3);
	ASSERT_INT_EQ(f.type, PROTO_CLOSE);
	ASSERT_INT_EQ(buf_len(b), 0);
	buf_free(b);
}

TEST(non_rdev_stream_is_rejected_with_snippet)
{
	const char *banner = "Welcome to Debian GNU/Linux!\n";
	struct proto_frame f;
	size_t used;
	char *cause = NULL;

	ASSERT_INT_EQ(proto_decode((const unsigned char *)banner, strlen(banner), &f,
			  &used, &cause),
	    -1);
	ASSERT_STR_CONTAINS(cause, "not an rdev protocol stream");
	ASSERT_STR_CONTAINS(cause, "Welcome to Debian");
	free(cause);
}

TEST(oversize_and_unknown_type_are_rejected)
{
	unsigned char h[PROTO_HEADER_SIZE] = { 0x7f, 0xff, 0xff, 0xff, 0x52, 0x44, 0, 64,
		0, 0, 0, 1 };
	struct proto_frame f;
	size_t used;
	char *cause = NULL;

	ASSERT_INT_EQ(proto_decode(h, sizeof h, &f, &used, &cause), -1);
	ASSERT_STR_CONTAINS(cause, "exceeds");
	free(cause);
	cause = NULL;
	h[0] = 0;
	h[7] = 99;
	ASSERT_INT_EQ(proto_decode(h, sizeof h, &f, &used, &cause), -1);
	ASSERT_STR_CONTAINS(cause, "unknown type 99");
	free(cause);
}

TEST(json_roundtrip_and_non_object_rejected)
{
	struct buf *b = buf_new();
	struct proto_frame f;
	cJSON *obj = cJSON_CreateObject(), *back;
	char *cause = NULL;
	size_t used;

	cJSON_AddNumberToObject(obj, "id", 5);
	cJSON_AddStringToObject(obj, "op", "ping");
	ASSERT_INT_EQ(proto_encode_json(b, PROTO_CONTROL, 0, obj, NULL), 0);
	ASSERT_INT_EQ(proto_decode(buf_data(b), buf_len(b), &f, &used, NULL), 1);
	back = proto_frame_json(&f, &cause);
	ASSERT_NOT_NULL(back);
	ASSERT_TRUE(cJSON_Compare(obj, back, 1));
	cJSON_Delete(back);
	buf_consume(b, used);
	proto_encode(b, PROTO_CONTROL, 0, "[1,2]", 5);
	ASSERT_INT_EQ(proto_decode(buf_data(b), buf_len(b), &f, &used, NULL), 1);
	ASSERT_NULL(proto_frame_json(&f, &cause));
	ASSERT_STR_CONTAINS(cause, "CONTROL message is not a JSON object");
	free(cause);
	cJSON_Delete(obj);
	buf_free(b);
}

TEST(handshake_picks_highest_common_version)
{
	cJSON *hello = proto_hello_new("rdev-agent 0.1.0");
	uint32_t v = 0;

	ASSERT_INT_EQ(proto_hello_negotiate(hello, &v, NULL), 0);
	ASSERT_INT_EQ(v, PROTO_VERSION);
	cJSON_Delete(hello);

	/* a newer peer that still speaks ours */
	hello = cJSON_Parse("{\"versions\":[1,9],\"software\":\"rdev 9\"}");
	ASSERT_INT_EQ(proto_hello_negotiate(hello, &v, NULL), 0);
	ASSERT_INT_EQ(v, PROTO_VERSION);
	cJSON_Delete(hello);
}

/* A HELLO's "features": added once, found by name; a HELLO without them (an
 * older peer's), or with something else there, has none. */
TEST(hello_features)
{
	cJSON *hello = proto_hello_new("rdev-agent 0.1.0");
	char *text;

	ASSERT_INT_EQ(proto_hello_has_feature(hello, PROTO_FEATURE_EARLY_DATA), 0);
	proto_hello_add_feature(hello, PROTO_FEATURE_EARLY_DATA);
	proto_hello_add_feature(hello, PROTO_FEATURE_EARLY_DATA);
	proto_hello_add_feature(hello, "other");
	ASSERT_INT_EQ(proto_hello_has_feature(hello, PROTO_FEATURE_EARLY_DATA), 1);
	ASSERT_INT_EQ(proto_hello_has_feature(hello, "other"), 1);
	ASSERT_INT_EQ(proto_hello_has_feature(hello, "early"), 0);
	text = cJSON_PrintUnformatted(hello);
	ASSERT_STR_CONTAINS(text, "\"features\":[\"earlyData\",\"other\"]");
	free(text);
	cJSON_Delete(hello);

	hello = cJSON_Parse("{\"versions\":[1,1],\"features\":\"earlyData\"}");
	ASSERT_INT_EQ(proto_hello_has_feature(hello, PROTO_FEATURE_EARLY_DATA), 0);
	cJSON_Delete(hello);
	hello = cJSON_Parse("{\"versions\":[1,1],\"features\":[1,{\"a\":2}]}");
	ASSERT_INT_EQ(proto_hello_has_feature(hello, PROTO_FEATURE_EARLY_DATA), 0);
	cJSON_Delete(hello);
}

TEST(handshake_mismatch_names_both_sides)
{
	cJSON *hello =
	    cJSON_Parse("{\"versions\":[7,9],\"software\":\"rdev-agent 3.0\"}");
	char *cause = NULL;
	uint32_t v;

	ASSERT_INT_EQ(proto_hello_negotiate(hello, &v, &cause), -1);
	ASSERT_STR_CONTAINS(cause, "protocol version mismatch");
	ASSERT_STR_CONTAINS(cause, "rdev-agent 3.0 speaks 7..9");
	free(cause);
	cJSON_Delete(hello);

	hello = cJSON_Parse("{\"software\":\"x\"}");
	cause = NULL;
	ASSERT_INT_EQ(proto_hello_negotiate(hello, &v, &cause), -1);
	ASSERT_STR_CONTAINS(cause, "no valid \"versions\"");
	free(cause);
	cJSON_Delete(hello);
}
