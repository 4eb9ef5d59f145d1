/* clock.c - the monotonic clock (clock.h). */
#include "clock.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

long long
clock_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

long long
clock_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int
clock_env_ms(const char *name, int default_ms)
{
	const char *v = getenv(name);
	char *end;
	long n;

	if (v == NULL || *v == '\0')
		return default_ms;
	errno = 0;
	n = strtol(v, &end, 10);
	if (errno != 0 || *end != '\0' || n <= 0 || n > INT_MAX)
		return default_ms;
	return (int)n;
}

void
clock_ms_text(int ms, char *buf, size_t size)
{
	if (ms < 1000)
		snprintf(buf, size, "%d ms", ms);
	else if (ms % 1000 < 100)
		snprintf(buf, size, "%d s", ms / 1000);
	else
		snprintf(buf, size, "%d.%d s", ms / 1000, ms % 1000 / 100);
}
