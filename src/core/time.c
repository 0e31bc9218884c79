/*
 * time.c - the wall clock and its RFC 3339 form (see time.h).
 */
#include "core/time.h"

#include <stdio.h>
#include <time.h>

int64_t em_now_ms(void)
{
	struct timespec ts;

	/* CLOCK_REALTIME cannot fail with a valid clock id and pointer. */
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool em_time_rfc3339(int64_t ms, char *buf, size_t size)
{
	/* Floor, not truncate: -1 ms is 23:59:59.999 of the day before. */
	int64_t secs = ms >= 0 ? ms / 1000 : -((-(ms + 1)) / 1000) - 1;
	int milli = (int)(ms - secs * 1000);
	time_t t = (time_t)secs;
	struct tm tm;
	int n;

	if (!buf || size < EM_TIME_RFC3339_SIZE)
		return false;
	buf[0] = '\0';
	if ((int64_t)t != secs || !gmtime_r(&t, &tm) || tm.tm_year + 1900 < 0 ||
	    tm.tm_year + 1900 > 9999)
		return false;
	n = snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
		     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, milli);
	if (n < 0 || (size_t)n >= size) {
		buf[0] = '\0';
		return false;
	}
	return true;
}
