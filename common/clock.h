/* clock.h - the monotonic clock, in milliseconds, for deadlines and
 * intervals (never for dates). */
#ifndef RDEV_CLOCK_H
#define RDEV_CLOCK_H

/* Milliseconds since an arbitrary fixed point (CLOCK_MONOTONIC). */
long long clock_now_ms(void);
/* Microseconds since the same point: for rates over short intervals. */
long long clock_now_us(void);
/* A wait in milliseconds read from the environment variable name (tests set
 * one to sit out a product wait sooner): its value when it is a whole number
 * of ms above 0, else default_ms (unset, empty, junk, 0, negative, too big). */
int clock_env_ms(const char *name, int default_ms);

#endif
