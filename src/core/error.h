/*
 * error.h - the error every fallible function fills in.
 *
 * Functions return bool and, on false, describe what went wrong in a
 * caller-provided struct em_error (the bson_error_t pattern). The kind says
 * what sort of failure it is; only src/http/ turns a kind into an HTTP
 * status and a problem+json body, so domain code never knows about HTTP.
 */
#ifndef EM_CORE_ERROR_H
#define EM_CORE_ERROR_H

#include <stdbool.h>
#include <stddef.h>

enum em_error_kind {
	EM_ERR_NONE = 0,
	EM_ERR_INVALID,        /* bad input: a field, a parameter, a body */
	EM_ERR_UNAUTHENTICATED,/* no or bad credentials */
	EM_ERR_FORBIDDEN,      /* authenticated, but not allowed */
	EM_ERR_NOT_FOUND,
	EM_ERR_METHOD,         /* path exists, method does not */
	EM_ERR_CONFLICT,       /* unique key, state machine */
	EM_ERR_UNPROCESSABLE,  /* well-formed, but breaks a rule (422) */
	EM_ERR_PRECONDITION,   /* If-Match on a stale version */
	EM_ERR_PRECONDITION_REQUIRED, /* If-Match missing where it is required (428) */
	EM_ERR_TOO_LARGE,      /* body over the limit */
	EM_ERR_URI_TOO_LONG,
	EM_ERR_MEDIA_TYPE,     /* wrong Content-Type */
	EM_ERR_RATE_LIMITED,   /* retry_after_s says when to come back */
	EM_ERR_UNAVAILABLE,    /* a dependency (MongoDB) is down */
	EM_ERR_BAD_GATEWAY,    /* an upstream service (storage, gateway) failed (502) */
	EM_ERR_INTERNAL,       /* a bug or an unexpected library failure */
};

/* One more field error of a request, past the first (which lives in
 * struct em_error itself, so code that knows only one keeps working). */
struct em_field_error {
	char field[64];
	char code[24];
	char message[160];
};

/* Field errors kept past the first; a request with more is told the first
 * EM_ERROR_MORE_MAX + 1 (and that there were more). */
#define EM_ERROR_MORE_MAX 7

struct em_error {
	enum em_error_kind kind;
	char field[64];    /* the input field at fault, "" when none */
	char message[256]; /* for humans; never holds secrets */
	int retry_after_s; /* EM_ERR_RATE_LIMITED / UNAVAILABLE: Retry-After, 0 = 1 s */
	/* A machine-readable code for the field error ("required",
	 * "too_long", ...; see em_error_code), "" = the kind's default. */
	char code[24];
	/* Collecting mode (em_error_collect): further validation errors are
	 * appended to more[] instead of replacing the first. */
	bool collect;
	unsigned n_more;     /* entries used in more[] */
	unsigned n_dropped;  /* field errors past more[] */
	struct em_field_error more[EM_ERROR_MORE_MAX];
};

#define EM_ERROR_INIT { EM_ERR_NONE, "", "", 0, "", false, 0, 0, { { "", "", "" } } }

/*
 * The codes a field error carries (documented in docs/api/README.md and
 * at /problems/validation); clients program against these, not against
 * the message.
 */
#define EM_CODE_REQUIRED       "required"        /* missing or null */
#define EM_CODE_INVALID_TYPE   "invalid_type"    /* a string where a number goes */
#define EM_CODE_TOO_SHORT      "too_short"
#define EM_CODE_TOO_LONG       "too_long"
#define EM_CODE_OUT_OF_RANGE   "out_of_range"
#define EM_CODE_INVALID_FORMAT "invalid_format"  /* an e-mail, an id, a date */
#define EM_CODE_INVALID_VALUE  "invalid_value"   /* not one of the allowed values */
#define EM_CODE_UNKNOWN_FIELD  "unknown_field"
#define EM_CODE_NOT_UNIQUE     "not_unique"      /* taken already, or repeated in the request */
#define EM_CODE_CONFLICT       "conflict"        /* clashes with the current state (409) */
#define EM_CODE_RULE           "rule_violation"  /* well-formed, breaks a rule (422) */
#define EM_CODE_INVALID        "invalid"         /* anything else wrong with it */

/* Sets kind, field (may be NULL) and a printf-style message; truncates. */
void em_error_set(struct em_error *err, enum em_error_kind kind,
		  const char *field, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* As em_error_set, with a field error code (EM_CODE_*). */
void em_error_setc(struct em_error *err, enum em_error_kind kind, const char *field,
		   const char *code, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/*
 * Starts collecting: until em_error_collect_end(), a validation error
 * (EM_ERR_INVALID / EM_ERR_UNPROCESSABLE) set on top of another is
 * appended to the field errors instead of replacing it, so a validator
 * can check every field and report them all. 400 wins over 422: a
 * malformed field makes the whole request malformed. Any other kind
 * replaces what was collected (a database failure is the answer).
 */
void em_error_collect(struct em_error *err);

/* Stops collecting; true when nothing was collected (err->kind NONE). */
bool em_error_collect_end(struct em_error *err);

/* The code of the first field error: err->code, or the kind's default. */
const char *em_error_code(const struct em_error *err);

/* Resets err to EM_ERROR_INIT. */
void em_error_clear(struct em_error *err);

/* A short stable name for a kind ("invalid", "not_found", ...). */
const char *em_error_kind_name(enum em_error_kind kind);

#endif
