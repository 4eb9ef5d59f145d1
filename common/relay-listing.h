/* relay-listing.h - what a container relay's 'L' answer must look like
 * (docs/PROTOCOL.md, "The container relay"), checked by both readers of it:
 * the agent's probe of a recorded relay (agent/relay-install-connect.c) and
 * the broker's auto-forward listings (broker/host-auto.c, local-auto.c).
 * A relay that died may have had its port taken by another program; its
 * answer must be told from a listing before any port in it is believed.
 * Pure: no I/O, no globals.
 */
#ifndef RDEV_RELAY_LISTING_H
#define RDEV_RELAY_LISTING_H

#include <stddef.h>

/* Are text[0..len) a relay's listing: lines of "PORT ADDRESS\n", PORT one
 * to five digits, ADDRESS as inet_ntop writes it (or no line at all:
 * nothing listens)? 1 yes, 0 no. */
int relay_listing_ok(const char *text, size_t len);

#endif
