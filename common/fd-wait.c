/* fd-wait.c - wait for a descriptor until a deadline (fd-wait.h). */
#include "fd-wait.h"

#include <errno.h>
#include <poll.h>

#include "clock.h"

int
fd_wait(int fd, short events, int64_t deadline_ms)
{
	struct pollfd p = { .fd = fd, .events = events };
	int64_t left;
	int r;

	for (;;) {
		left = deadline_ms - clock_now_ms();
		if (left <= 0)
			return -1;
		r = poll(&p, 1, left > 0x7fffffff ? 0x7fffffff : (int)left);
		if (r > 0)
			return 0;
		if (r < 0 && errno != EINTR)
			return -1;
	}
}
