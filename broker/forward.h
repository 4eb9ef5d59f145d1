/* forward.h - the broker's local listeners for port forwards (specs:
 * forward-spec.h). A container port is reached through the relay inside the
 * container (so a server bound to 127.0.0.1 there works); a Compose service
 * port directly at the service container's address on its network.
 * Listeners: 127.0.0.1 and, when the machine has IPv6, ::1, on one port. */
#ifndef RDEV_FORWARD_H
#define RDEV_FORWARD_H

#include "forward-spec.h"

/* Bind listeners on 127.0.0.1 and ::1 (if available) at port, or at the
 * first free port from port up (unless exact). 0 with fds (fd6 may be -1)
 * and *bound, or -1 with *cause ("127.0.0.1:3000 is in use"). */
int forward_listen(int port, int exact, int *fd4, int *fd6, int *bound, char **cause);

#endif
