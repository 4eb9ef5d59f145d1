/* clock.h - the monotonic clock, in milliseconds, for deadlines and
 * intervals (never for dates). */
#ifndef RDEV_CLOCK_H
#define RDEV_CLOCK_H

/* Milliseconds since an arbitrary fixed point (CLOCK_MONOTONIC). */
long long clock_now_ms(void);
/* Microseconds since the same point: for rates over short intervals. */
long long clock_now_us(void);

#endif
