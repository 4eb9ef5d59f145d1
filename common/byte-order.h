/* byte-order.h - big-endian (network order) integers in byte buffers, for
 * the wire formats: the rdev protocol, the relay's exec frames, Docker's
 * stream header. Header-only and dependency-free, so that the static relay
 * (relay/, which links nothing of common/) can use it too.
 */
#ifndef RDEV_BYTE_ORDER_H
#define RDEV_BYTE_ORDER_H

#include <stdint.h>

static inline void
be_put_u32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static inline uint32_t
be_get_u32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void
be_put_u16(unsigned char *p, uint16_t v)
{
	p[0] = (unsigned char)(v >> 8);
	p[1] = (unsigned char)v;
}

static inline uint16_t
be_get_u16(const unsigned char *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

#endif
