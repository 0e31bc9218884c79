#include "core/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void em_error_set(struct em_error *err, enum em_error_kind kind,
		  const char *field, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return;
	err->kind = kind;
	err->retry_after_s = 0;
	snprintf(err->field, sizeof(err->field), "%s", field ? field : "");
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
}

void em_error_clear(struct em_error *err)
{
	if (!err)
		return;
	err->kind = EM_ERR_NONE;
	err->field[0] = '\0';
	err->message[0] = '\0';
	err->retry_after_s = 0;
}

const char *em_error_kind_name(enum em_error_kind kind)
{
	static const char *const names[] = {
		[EM_ERR_NONE] = "none",
		[EM_ERR_INVALID] = "invalid",
		[EM_ERR_UNAUTHENTICATED] = "unauthenticated",
		[EM_ERR_FORBIDDEN] = "forbidden",
		[EM_ERR_NOT_FOUND] = "not_found",
		[EM_ERR_METHOD] = "method_not_allowed",
		[EM_ERR_CONFLICT] = "conflict",
		[EM_ERR_PRECONDITION] = "precondition_failed",
		[EM_ERR_TOO_LARGE] = "too_large",
		[EM_ERR_URI_TOO_LONG] = "uri_too_long",
		[EM_ERR_MEDIA_TYPE] = "unsupported_media_type",
		[EM_ERR_RATE_LIMITED] = "rate_limited",
		[EM_ERR_UNAVAILABLE] = "unavailable",
		[EM_ERR_INTERNAL] = "internal",
	};

	if ((size_t)kind >= sizeof(names) / sizeof(names[0]) || !names[kind])
		return "unknown";
	return names[kind];
}
