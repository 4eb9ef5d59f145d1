/* relay-chunks.c - reading `rdev-relay --connect`'s output (relay-chunks.h). */
#include "relay-chunks.h"

#include <stdint.h>

#include "byte-order.h"

enum relay_chunks_what
relay_chunks_feed(struct relay_chunks *c, const unsigned char *data, size_t len,
    size_t *used, const unsigned char **piece, size_t *plen)
{
	size_t n = 0;

	*used = 0;
	while (n < len) {
		if (c->ended)
			return RELAY_CHUNKS_BAD;
		if (!c->have_status) {
			c->have_status = 1;
			c->status = data[n];
			*used = n + 1;
			return RELAY_CHUNKS_STATUS;
		}
		if (c->left > 0) {
			*piece = data + n;
			*plen = len - n < c->left ? len - n : c->left;
			c->left -= *plen;
			*used = n + *plen;
			return RELAY_CHUNKS_DATA;
		}
		c->hdr[c->hlen++] = data[n++];
		if (c->hlen < sizeof c->hdr)
			continue;
		c->hlen = 0;
		c->left = be_get_u32(c->hdr);
		if (c->left > RELAY_CHUNKS_MAX)
			return RELAY_CHUNKS_BAD;
		if (c->left == 0) {
			c->ended = 1;
			*used = n;
			return RELAY_CHUNKS_END;
		}
	}
	*used = n;
	return RELAY_CHUNKS_MORE;
}
