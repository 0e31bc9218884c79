/*
 * fuzz_multipart - multipart/form-data uploads (src/media/multipart.c):
 * the boundary parameter of Content-Type and the body split into parts.
 *
 * Input: the Content-Type header value up to the first LF, the body
 * after it. Checked: a boundary is 1..70 allowed characters; every part
 * lies inside the body and after the previous one, has a non-empty name
 * of at most 63 bytes unique among the parts, and there are at most
 * MEDIA_MULTIPART_MAX_PARTS; every refusal says why.
 */
#include <stdbool.h>

#include "fuzz.h"
#include "media/media.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *lf = memchr(data, '\n', size);
	size_t ct_len = lf ? (size_t)(lf - data) : size;
	char *ct = fuzz_cstr(data, ct_len), boundary[MEDIA_BOUNDARY_MAX + 1];
	/* the body in a buffer of its own size, so ASan sees any overread */
	size_t body_len = lf ? size - ct_len - 1 : 0;
	char *body = xmalloc(body_len ? body_len : 1);
	struct em_error err = EM_ERROR_INIT;
	struct media_multipart mp;
	const char *prev_end;
	char delim[MEDIA_BOUNDARY_MAX + 5];
	size_t dlen;

	if (body_len)
		memcpy(body, lf + 1, body_len);
	if (!media_multipart_boundary(ct, boundary, sizeof(boundary), &err)) {
		FUZZ_CHECK(err.kind == EM_ERR_MEDIA_TYPE || err.kind == EM_ERR_INVALID);
		goto done;
	}
	FUZZ_CHECK(strlen(boundary) >= 1 && strlen(boundary) <= MEDIA_BOUNDARY_MAX);
	dlen = (size_t)snprintf(delim, sizeof(delim), "\r\n--%s", boundary);
	if (!media_multipart_parse(body, body_len, boundary, &mp, &err)) {
		FUZZ_CHECK(err.kind == EM_ERR_INVALID && err.message[0]);
		goto done;
	}
	FUZZ_CHECK(mp.nparts <= MEDIA_MULTIPART_MAX_PARTS);
	prev_end = body;
	for (size_t i = 0; i < mp.nparts; i++) {
		const struct media_part *p = &mp.parts[i];

		FUZZ_CHECK(p->name[0] != '\0' && strlen(p->name) < sizeof(p->name));
		FUZZ_CHECK(p->data >= prev_end && p->data <= body + body_len);
		FUZZ_CHECK(p->len <= (size_t)(body + body_len - p->data));
		/* the delimiter that ends a part is not in it */
		FUZZ_CHECK(!memmem(p->data, p->len, delim, dlen));
		prev_end = p->data + p->len;
		FUZZ_CHECK(media_multipart_get(&mp, p->name) == p);
	}
done:
	free(body);
	free(ct);
	return 0;
}
