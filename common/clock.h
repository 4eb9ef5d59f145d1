/* clock.h - the monotonic clock, in milliseconds, for deadlines and
 * intervals (never for dates). */
#ifndef RDEV_CLOCK_H
#define RDEV_CLOCK_H

#include <stddef.h>

/* Milliseconds since an arbitrary fixed point (CLOCK_MONOTONIC). */
long long clock_now_ms(void);
/* Microseconds since the same point: for rates over short intervals. */
long long clock_now_us(void);
/* A wait in milliseconds read from the environment variable name (tests set
 * one to sit out a product wait sooner): its value when it is a whole number
 * of ms above 0, else default_ms (unset, empty, junk, 0, negative, too big). */
int clock_env_ms(const char *name, int default_ms);
/* A wait of ms milliseconds as a message says it, into buf: "5 s", "4.5 s"
 * (tenths, rounded down, when not whole seconds), "250 ms" (under 1 s). */
void clock_ms_text(int ms, char *buf, size_t size);

#endif
