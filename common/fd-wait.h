/* fd-wait.h - wait for a descriptor to be ready, until a deadline on the
 * monotonic clock (clock.h's clock_now_ms()).
 */
#ifndef RDEV_FD_WAIT_H
#define RDEV_FD_WAIT_H

#include <stdint.h>

/* Wait until fd is ready for events (poll(2) bits) or deadline_ms passes;
 * EINTR is retried. 0 ready (or in error: the next call on fd says which),
 * -1 timed out or poll failed. */
int fd_wait(int fd, short events, int64_t deadline_ms);

#endif
