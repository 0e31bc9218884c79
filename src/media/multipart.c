/*
 * multipart.c - a bounded multipart/form-data parser (RFC 7578 over
 * RFC 2046 §5.1), for uploads; the router itself only parses JSON.
 *
 * The whole body is in memory (read up to the route's limit by the
 * worker), so parts are slices of it: nothing is copied but the names.
 * Every search is bounded by the body's length, never by a NUL.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "media/media.h"

#define MEDIA_PART_HEADERS_MAX 4096

/* RFC 2046 bcharsnospace, plus the space allowed inside a boundary. */
static bool boundary_char(unsigned char c)
{
	return c && (isalnum(c) || strchr("'()+_,-./:=? ", c) != NULL);
}

static const char *skip_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	return p;
}

/*
 * Reads one parameter value at p (a token or a quoted-string) into out.
 * Quoted strings may hold neither a backslash nor a control character:
 * no browser needs them in the values read here (part names, the
 * boundary), and refusing them spares an unescaping step. Returns the
 * end of the value, or NULL.
 */
static const char *param_value(const char *p, const char *end, char *out, size_t size)
{
	size_t n = 0;

	if (p < end && *p == '"') {
		for (p++; p < end && *p != '"'; p++) {
			if (*p == '\\' || (unsigned char)*p < 0x20 || *p == 0x7f || n + 1 >= size)
				return NULL;
			out[n++] = *p;
		}
		if (p >= end)
			return NULL;
		p++;
	} else {
		for (; p < end && *p != ';' && *p != ' ' && *p != '\t'; p++) {
			if ((unsigned char)*p < 0x20 || *p == '"' || *p == 0x7f || n + 1 >= size)
				return NULL;
			out[n++] = *p;
		}
	}
	out[n] = '\0';
	return p;
}

/*
 * Finds the parameter `name` (case-insensitive) among the "; k=v" list
 * that starts at p. *found is false when it is absent; false is returned
 * when the list is malformed or a value does not fit out.
 */
static bool header_param(const char *p, const char *end, const char *name,
			 char *out, size_t size, bool *found)
{
	size_t nlen = strlen(name);

	*found = false;
	for (;;) {
		const char *key, *key_end;
		char tmp[512];

		p = skip_ws(p, end);
		if (p >= end)
			return true;
		if (*p != ';')
			return false;
		p = skip_ws(p + 1, end);
		if (p >= end)
			return true; /* a trailing ';' is tolerated */
		key = p;
		while (p < end && *p != '=' && *p != ';' && *p != ' ' && *p != '\t')
			p++;
		key_end = p;
		p = skip_ws(p, end);
		if (p >= end || *p != '=' || key_end == key)
			return false;
		p = param_value(skip_ws(p + 1, end), end, tmp, sizeof(tmp));
		if (!p)
			return false;
		if ((size_t)(key_end - key) == nlen && strncasecmp(key, name, nlen) == 0) {
			if (*found || strlen(tmp) >= size)
				return false; /* twice, or too long */
			memcpy(out, tmp, strlen(tmp) + 1);
			*found = true;
		}
	}
}

bool media_multipart_boundary(const char *content_type, char *boundary, size_t size,
			      struct em_error *err)
{
	static const char type[] = "multipart/form-data";
	const char *end;
	bool found = false;
	size_t len;

	if (!content_type) {
		em_error_set(err, EM_ERR_MEDIA_TYPE, NULL,
			     "the body must be multipart/form-data");
		return false;
	}
	end = content_type + strlen(content_type);
	content_type = skip_ws(content_type, end);
	if (strncasecmp(content_type, type, sizeof(type) - 1) != 0 ||
	    (content_type[sizeof(type) - 1] != '\0' && content_type[sizeof(type) - 1] != ';' &&
	     content_type[sizeof(type) - 1] != ' ' && content_type[sizeof(type) - 1] != '\t')) {
		em_error_set(err, EM_ERR_MEDIA_TYPE, NULL,
			     "the body must be multipart/form-data");
		return false;
	}
	if (size < MEDIA_BOUNDARY_MAX + 1 ||
	    !header_param(content_type + sizeof(type) - 1, end, "boundary", boundary, size,
			  &found) || !found) {
		em_error_set(err, EM_ERR_INVALID, "Content-Type",
			     "the Content-Type needs one valid boundary parameter");
		return false;
	}
	len = strlen(boundary);
	if (len < 1 || len > MEDIA_BOUNDARY_MAX || boundary[len - 1] == ' ') {
		em_error_set(err, EM_ERR_INVALID, "Content-Type",
			     "the boundary must be 1 to 70 characters, not ending in a space");
		return false;
	}
	for (size_t i = 0; i < len; i++) {
		if (!boundary_char((unsigned char)boundary[i])) {
			em_error_set(err, EM_ERR_INVALID, "Content-Type",
				     "the boundary has a character RFC 2046 does not allow");
			return false;
		}
	}
	return true;
}

/* memmem bounded by [p, end). */
static const char *find(const char *p, const char *end, const char *needle, size_t nlen)
{
	if (p >= end)
		return NULL;
	return memmem(p, (size_t)(end - p), needle, nlen);
}

/*
 * Parses a part's header block [p, end) (CRLF-separated lines, the final
 * CRLF CRLF excluded) into part->name / has_filename.
 */
static bool part_headers(const char *p, const char *end, struct media_part *part,
			 struct em_error *err)
{
	bool have_disposition = false;

	while (p < end) {
		const char *eol = find(p, end, "\r\n", 2);
		const char *line_end = eol ? eol : end;
		const char *colon = memchr(p, ':', (size_t)(line_end - p));
		static const char cd[] = "Content-Disposition";

		if (!colon || colon == p) {
			em_error_set(err, EM_ERR_INVALID, "body", "a part has a malformed header line");
			return false;
		}
		for (const char *q = p; q < line_end; q++) {
			if ((unsigned char)*q < 0x20 && *q != '\t') {
				em_error_set(err, EM_ERR_INVALID, "body",
					     "a part header has a control character");
				return false;
			}
		}
		if ((size_t)(colon - p) == sizeof(cd) - 1 && strncasecmp(p, cd, sizeof(cd) - 1) == 0) {
			const char *v = skip_ws(colon + 1, line_end);
			char fname[512];
			bool found = false;

			if (have_disposition) {
				em_error_set(err, EM_ERR_INVALID, "body",
					     "a part has two Content-Disposition headers");
				return false;
			}
			have_disposition = true;
			if ((size_t)(line_end - v) < 9 || strncasecmp(v, "form-data", 9) != 0 ||
			    (v + 9 < line_end && v[9] != ';' && v[9] != ' ' && v[9] != '\t')) {
				em_error_set(err, EM_ERR_INVALID, "body",
					     "a part's Content-Disposition must be form-data");
				return false;
			}
			if (!header_param(v + 9, line_end, "name", part->name, sizeof(part->name),
					  &found) || !found || !part->name[0]) {
				em_error_set(err, EM_ERR_INVALID, "body",
					     "a part's Content-Disposition needs a name (up to 63 bytes)");
				return false;
			}
			/* The filename is only noted: what a file is gets decided
			 * from its bytes, never from its name. */
			if (!header_param(v + 9, line_end, "filename", fname, sizeof(fname), &found)) {
				em_error_set(err, EM_ERR_INVALID, "body",
					     "a part's Content-Disposition is malformed");
				return false;
			}
			part->has_filename = found;
		}
		p = eol ? eol + 2 : end;
	}
	if (!have_disposition) {
		em_error_set(err, EM_ERR_INVALID, "body", "a part has no Content-Disposition");
		return false;
	}
	return true;
}

bool media_multipart_parse(const char *body, size_t len, const char *boundary,
			   struct media_multipart *mp, struct em_error *err)
{
	char delim[MEDIA_BOUNDARY_MAX + 5];
	size_t blen = strlen(boundary), dlen;
	const char *end = body + len, *p;

	memset(mp, 0, sizeof(*mp));
	if (blen < 1 || blen > MEDIA_BOUNDARY_MAX) {
		em_error_set(err, EM_ERR_INVALID, "Content-Type", "bad boundary");
		return false;
	}
	/* delim is CRLF "--" boundary; the first one may start the body. */
	delim[0] = '\r';
	delim[1] = '\n';
	delim[2] = '-';
	delim[3] = '-';
	memcpy(delim + 4, boundary, blen);
	dlen = blen + 4;
	if (len >= dlen - 2 && memcmp(body, delim + 2, dlen - 2) == 0) {
		p = body + dlen - 2;
	} else {
		p = find(body, end, delim, dlen); /* after a preamble */
		if (!p) {
			em_error_set(err, EM_ERR_INVALID, "body",
				     "the body does not hold the boundary");
			return false;
		}
		p += dlen;
	}
	for (;;) {
		const char *hdr_end, *next;
		struct media_part *part;

		/* p is just after a delimiter: "--" closes, else padding CRLF. */
		if (end - p >= 2 && p[0] == '-' && p[1] == '-')
			break;
		p = skip_ws(p, end);
		if (end - p < 2 || p[0] != '\r' || p[1] != '\n') {
			em_error_set(err, EM_ERR_INVALID, "body",
				     "a boundary line is not followed by CRLF");
			return false;
		}
		p += 2;
		if (mp->nparts >= MEDIA_MULTIPART_MAX_PARTS) {
			em_error_set(err, EM_ERR_INVALID, "body", "too many parts (at most %d)",
				     MEDIA_MULTIPART_MAX_PARTS);
			return false;
		}
		part = &mp->parts[mp->nparts];
		if (end - p >= 2 && p[0] == '\r' && p[1] == '\n') {
			hdr_end = p; /* no headers at all */
		} else {
			const char *lim = end - p > MEDIA_PART_HEADERS_MAX + 4
						  ? p + MEDIA_PART_HEADERS_MAX + 4 : end;

			hdr_end = find(p, lim, "\r\n\r\n", 4);
			if (!hdr_end) {
				em_error_set(err, EM_ERR_INVALID, "body",
					     "a part's headers are unterminated or longer than %d bytes",
					     MEDIA_PART_HEADERS_MAX);
				return false;
			}
			hdr_end += 2; /* keep the last header's CRLF out of the block */
		}
		if (!part_headers(p, hdr_end, part, err))
			return false;
		p = hdr_end + 2;
		next = find(p, end, delim, dlen);
		if (!next) {
			em_error_set(err, EM_ERR_INVALID, "body",
				     "the body ends inside a part (no closing boundary)");
			return false;
		}
		part->data = p;
		part->len = (size_t)(next - p);
		for (size_t i = 0; i < mp->nparts; i++) {
			if (strcmp(mp->parts[i].name, part->name) == 0) {
				em_error_set(err, EM_ERR_INVALID, part->name,
					     "the part %s is given more than once", part->name);
				return false;
			}
		}
		mp->nparts++;
		p = next + dlen;
	}
	return true;
}

const struct media_part *media_multipart_get(const struct media_multipart *mp,
					     const char *name)
{
	for (size_t i = 0; i < mp->nparts; i++)
		if (strcmp(mp->parts[i].name, name) == 0)
			return &mp->parts[i];
	return NULL;
}
