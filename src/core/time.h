/*
 * time.h - the wall clock as the database stores it, and the one text
 * form the API shows it in.
 *
 * BSON dates are milliseconds since the Unix epoch (UTC); every module
 * takes "now" from em_now_ms() and renders a date with em_time_rfc3339()
 * so that one format reaches clients: RFC 3339, UTC, with milliseconds
 * ("2026-12-01T08:52:00.123Z").
 */
#ifndef EM_CORE_TIME_H
#define EM_CORE_TIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Bytes em_time_rfc3339 needs, with the NUL (years 0..9999 take 25). */
#define EM_TIME_RFC3339_SIZE 32

/* The current time in ms since the epoch (CLOCK_REALTIME). */
int64_t em_now_ms(void);

/*
 * Writes ms (since the epoch, may be negative: floored to whole seconds)
 * as "YYYY-MM-DDTHH:MM:SS.mmmZ" into buf. False (buf set to "") when the
 * time cannot be represented or size is below EM_TIME_RFC3339_SIZE.
 */
bool em_time_rfc3339(int64_t ms, char *buf, size_t size);

#endif
