/* fuzz-proto.c - fuzz the frame decoder and the handshake check. */
#include <stdlib.h>

#include "fuzz.h"
#include "proto.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proto_frame f;
	size_t used, off = 0;
	char *cause = NULL;
	cJSON *obj;
	uint32_t v;
	int rc;

	while ((rc = proto_decode(data + off, size - off, &f, &used, &cause)) == 1) {
		if (used < PROTO_HEADER_SIZE || used > size - off)
			abort();
		if (f.type == PROTO_HELLO || f.type == PROTO_CONTROL ||
		    f.type == PROTO_CLOSE) {
			obj = proto_frame_json(&f, &cause);
			if (obj != NULL) {
				if (proto_hello_negotiate(obj, &v, &cause) == 0 &&
				    (v < PROTO_MIN_VERSION || v > PROTO_VERSION))
					abort();
				cJSON_Delete(obj);
			}
			free(cause);
			cause = NULL;
		}
		off += used;
	}
	free(cause);
	return 0;
}
