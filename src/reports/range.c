/*
 * range.c - a report's range and buckets in an IANA time zone.
 *
 * The C library's tz database does the zone arithmetic: TZ is set for the
 * one conversion and put back at once (a worker serves one request at a
 * time and no other thread exists, so nothing sees the change). Midnights
 * come from mktime with tm_isdst = -1, which gives the first instant of a
 * local day whether it is 23, 24 or 25 hours long. MongoDB's $dateTrunc
 * with the same zone gives the same instants, which is what lets the
 * pipeline's groups be matched with these edges.
 */
#include "reports/reports.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define DAY_MS INT64_C(86400000)
/* A range of N local days is N x 24 h give or take one DST hour. */
#define DST_SLACK_MS INT64_C(3600000)

const char *reports_interval_name(enum reports_interval iv)
{
	switch (iv) {
	case REPORTS_WEEK: return "week";
	case REPORTS_MONTH: return "month";
	case REPORTS_DAY: break;
	}
	return "day";
}

bool reports_tz_valid(const char *tz)
{
	char path[128];
	struct stat sb;
	size_t len = tz ? strlen(tz) : 0;

	if (len == 0 || len > REPORTS_TZ_MAX || tz[0] == '/' || tz[0] == '.' || strstr(tz, ".."))
		return false;
	/* glibc's variants of the database, which MongoDB does not know */
	if (strncmp(tz, "posix/", 6) == 0 || strncmp(tz, "right/", 6) == 0)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = tz[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '/' || c == '+' || c == '-'))
			return false;
	}
	if (strcmp(tz, "UTC") == 0)
		return true;
	/* glibc takes an unknown TZ for UTC without a word: ask the database */
	snprintf(path, sizeof(path), "/usr/share/zoneinfo/%s", tz);
	return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

/* Runs with TZ=tz and puts the previous TZ back. */
struct tz_saved {
	char value[256];
	bool had;
};

static void tz_enter(const char *tz, struct tz_saved *s)
{
	const char *old = getenv("TZ");

	s->had = old != NULL && strlen(old) < sizeof(s->value);
	if (s->had)
		snprintf(s->value, sizeof(s->value), "%s", old);
	setenv("TZ", tz, 1);
	tzset();
}

static void tz_leave(const struct tz_saved *s)
{
	if (s->had)
		setenv("TZ", s->value, 1);
	else
		unsetenv("TZ");
	tzset();
}

bool reports_tz_date(const char *tz, int64_t ms, struct reports_date *out)
{
	struct tz_saved s;
	struct tm tm;
	time_t t = (time_t)(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
	bool ok;

	tz_enter(tz, &s);
	ok = localtime_r(&t, &tm) != NULL;
	tz_leave(&s);
	if (!ok)
		return false;
	out->year = tm.tm_year + 1900;
	out->month = tm.tm_mon + 1;
	out->day = tm.tm_mday;
	return true;
}

bool reports_tz_midnight(const char *tz, struct reports_date d, int64_t *ms)
{
	struct tz_saved s;
	struct tm tm;
	time_t t;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = d.year - 1900;
	tm.tm_mon = d.month - 1;
	tm.tm_mday = d.day;
	tm.tm_isdst = -1;
	tz_enter(tz, &s);
	t = mktime(&tm);
	tz_leave(&s);
	if (t == (time_t)-1)
		return false;
	*ms = (int64_t)t * 1000;
	return true;
}

static bool digits(const char *s, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

static int month_days(int y, int m)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && leap ? 29 : days[m - 1];
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's). */
static int64_t days_from_civil(int y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/*
 * "YYYY-MM-DD" (midnight in tz) or RFC 3339 "YYYY-MM-DDTHH:MM:SS[.f+](Z|+HH:MM|-HH:MM)".
 * Years 1970..2199: reports have nothing before and need nothing after.
 */
static bool parse_instant(const char *s, const char *tz, int64_t *ms)
{
	size_t len = strlen(s);
	int y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 0;
	size_t i = 19;
	int64_t frac_ms = 0;

	if (len < 10 || !digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) || s[7] != '-' ||
	    !digits(s + 8, 2, &d))
		return false;
	if (y < 1970 || y > 2199 || mo < 1 || mo > 12 || d < 1 || d > month_days(y, mo))
		return false;
	if (len == 10)
		return reports_tz_midnight(tz, (struct reports_date){ y, mo, d }, ms);
	if (len < 20 || (s[10] != 'T' && s[10] != 't') || !digits(s + 11, 2, &h) || s[13] != ':' ||
	    !digits(s + 14, 2, &mi) || s[16] != ':' || !digits(s + 17, 2, &sec))
		return false;
	if (h > 23 || mi > 59 || sec > 59)
		return false;
	if (s[i] == '.') {
		int scale = 100, n = 0;

		for (i++; s[i] >= '0' && s[i] <= '9'; i++, n++) {
			if (n >= 9)
				return false;
			frac_ms += (s[i] - '0') * scale;
			scale /= 10;
		}
		if (n == 0)
			return false;
	}
	if ((s[i] == 'Z' || s[i] == 'z') && s[i + 1] == '\0') {
		sign = 0;
	} else if ((s[i] == '+' || s[i] == '-') && len == i + 6 && digits(s + i + 1, 2, &oh) &&
		   s[i + 3] == ':' && digits(s + i + 4, 2, &om) && oh <= 23 && om <= 59) {
		sign = s[i] == '+' ? 1 : -1;
	} else {
		return false;
	}
	*ms = ((days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec) -
	       sign * (oh * 3600 + om * 60)) * 1000 + frac_ms;
	return true;
}

static bool today_midnight(const char *tz, int64_t now_ms, int add_days, int64_t *ms)
{
	struct reports_date d;

	if (!reports_tz_date(tz, now_ms, &d))
		return false;
	d.day += add_days; /* mktime normalises */
	return reports_tz_midnight(tz, d, ms);
}

bool reports_range_last_days(const char *tz, int64_t now_ms, int days,
			     struct reports_range *out, struct em_error *err)
{
	memset(out, 0, sizeof(*out));
	snprintf(out->tz, sizeof(out->tz), "%s", tz);
	out->interval = REPORTS_DAY;
	if (!today_midnight(tz, now_ms, 1, &out->to_ms) ||
	    !today_midnight(tz, now_ms, 1 - days, &out->from_ms)) {
		em_error_set(err, EM_ERR_INTERNAL, NULL, "cannot compute today in %s", tz);
		return false;
	}
	return true;
}

bool reports_range_parse(const char *from, const char *to, const char *tz,
			 const char *interval, const char *default_tz, int64_t now_ms,
			 struct reports_range *out, struct em_error *err)
{
	int64_t max_ms;

	memset(out, 0, sizeof(*out));
	if (!tz)
		tz = default_tz;
	if (!reports_tz_valid(tz)) {
		em_error_set(err, EM_ERR_INVALID, "tz", "not a time zone of the tz database (e.g. Asia/Dhaka, UTC)");
		return false;
	}
	snprintf(out->tz, sizeof(out->tz), "%s", tz);
	if (!interval || strcmp(interval, "day") == 0) {
		out->interval = REPORTS_DAY;
	} else if (strcmp(interval, "week") == 0) {
		out->interval = REPORTS_WEEK;
	} else if (strcmp(interval, "month") == 0) {
		out->interval = REPORTS_MONTH;
	} else {
		em_error_set(err, EM_ERR_INVALID, "interval", "must be day, week or month");
		return false;
	}
	if (to) {
		if (!parse_instant(to, tz, &out->to_ms)) {
			em_error_set(err, EM_ERR_INVALID, "to", "must be an RFC 3339 instant or a YYYY-MM-DD date");
			return false;
		}
	} else if (!today_midnight(tz, now_ms, 1, &out->to_ms)) {
		em_error_set(err, EM_ERR_INTERNAL, NULL, "cannot compute today in %s", tz);
		return false;
	}
	if (from) {
		if (!parse_instant(from, tz, &out->from_ms)) {
			em_error_set(err, EM_ERR_INVALID, "from", "must be an RFC 3339 instant or a YYYY-MM-DD date");
			return false;
		}
	} else {
		struct reports_date d;

		/* 30 local days ending at `to` */
		if (!reports_tz_date(tz, out->to_ms - 1, &d)) {
			em_error_set(err, EM_ERR_INTERNAL, NULL, "cannot compute dates in %s", tz);
			return false;
		}
		d.day -= 29;
		if (!reports_tz_midnight(tz, d, &out->from_ms)) {
			em_error_set(err, EM_ERR_INTERNAL, NULL, "cannot compute dates in %s", tz);
			return false;
		}
	}
	if (out->from_ms >= out->to_ms) {
		em_error_set(err, EM_ERR_INVALID, "from", "must be before to");
		return false;
	}
	max_ms = (out->interval == REPORTS_DAY ? REPORTS_DAY_RANGE_DAYS : REPORTS_LONG_RANGE_DAYS) *
		 DAY_MS + DST_SLACK_MS;
	if (out->to_ms - out->from_ms > max_ms) {
		em_error_set(err, EM_ERR_INVALID, "to", "the range is longer than %d days (interval %s)",
			     out->interval == REPORTS_DAY ? REPORTS_DAY_RANGE_DAYS : REPORTS_LONG_RANGE_DAYS,
			     reports_interval_name(out->interval));
		return false;
	}
	return true;
}

/* The local date's weekday, 0 = Monday (1970-01-01 was a Thursday). */
static int weekday_monday0(struct reports_date d)
{
	int64_t n = days_from_civil(d.year, d.month, d.day);

	return (int)(((n % 7) + 7 + 3) % 7);
}

bool reports_range_buckets(const struct reports_range *r, int64_t *edges, size_t *n,
			   struct em_error *err)
{
	struct reports_date d;
	int64_t at;

	*n = 0;
	if (!reports_tz_date(r->tz, r->from_ms, &d))
		goto fail;
	if (r->interval == REPORTS_WEEK)
		d.day -= weekday_monday0(d);
	else if (r->interval == REPORTS_MONTH)
		d.day = 1;
	for (;;) {
		if (!reports_tz_midnight(r->tz, d, &at))
			goto fail;
		if (at >= r->to_ms)
			break;
		if (*n == REPORTS_BUCKETS_MAX) {
			em_error_set(err, EM_ERR_INVALID, "to", "too many buckets");
			return false;
		}
		edges[(*n)++] = at;
		if (r->interval == REPORTS_DAY)
			d.day += 1;
		else if (r->interval == REPORTS_WEEK)
			d.day += 7;
		else
			d.month += 1;
		/* renormalise so the next step starts from a real date */
		{
			struct tm tm;
			time_t t;

			memset(&tm, 0, sizeof(tm));
			tm.tm_year = d.year - 1900;
			tm.tm_mon = d.month - 1;
			tm.tm_mday = d.day;
			tm.tm_hour = 12;
			t = timegm(&tm);
			if (t == (time_t)-1 || !gmtime_r(&t, &tm))
				goto fail;
			d.year = tm.tm_year + 1900;
			d.month = tm.tm_mon + 1;
			d.day = tm.tm_mday;
		}
	}
	return true;
fail:
	em_error_set(err, EM_ERR_INTERNAL, NULL, "cannot compute the buckets in %s", r->tz);
	return false;
}
