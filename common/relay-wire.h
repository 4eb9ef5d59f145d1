/* relay-wire.h - what the container relay (relay/) and the broker that
 * talks to it (broker/forward.c) must agree on beyond the bytes of
 * docs/PROTOCOL.md, "The container relay": the relay's connect timeout,
 * which the broker waits out and names in its messages. Header-only and
 * dependency-free, so that the static relay (which links nothing of
 * common/) can use it too.
 */
#ifndef RDEV_RELAY_WIRE_H
#define RDEV_RELAY_WIRE_H

/* How long a 'C' connection's connect to its target may take before the
 * relay answers 2 (REPLY_ERROR: a server whose accept queue stays full;
 * the kernel retries the SYN for about two minutes, and a full queue for
 * some seconds is a busy server, not a dead one). The broker waits for
 * the status byte this long plus a margin (FORWARD_RELAY_STATUS_MS in
 * broker/forward.h). (A direct connection over SSH has no bound but the
 * kernel's: sshd's connect; docs/PROTOCOL.md says how the two differ.)
 * Whole seconds, so that messages can name it: RELAY_CONNECT_TIMEOUT_TEXT. */
#define RELAY_CONNECT_TIMEOUT_S 30
#define RELAY_CONNECT_TIMEOUT_MS (RELAY_CONNECT_TIMEOUT_S * 1000)
/* "30 s", made from RELAY_CONNECT_TIMEOUT_S (a string literal). */
#define RELAY_WIRE_STR_(x) #x
#define RELAY_WIRE_STR(x) RELAY_WIRE_STR_(x)
#define RELAY_CONNECT_TIMEOUT_TEXT RELAY_WIRE_STR(RELAY_CONNECT_TIMEOUT_S) " s"

#endif
