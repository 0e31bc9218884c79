/*
 * fuzz_probe - what an upload is (src/media/probe.c): the PNG, JPEG and
 * WebP container walks, on bytes nobody checked before.
 *
 * Input: the file. Checked: an accepted file starts with its type's
 * magic, has dimensions > 0 within the pixel limit, and names its
 * content type and extension; a refusal is EM_ERR_MEDIA_TYPE or
 * EM_ERR_INVALID on field "file".
 */
#include <stdbool.h>

#include "fuzz.h"
#include "media/media.h"

#define FUZZ_MAX_PIXELS (40LL * 1000 * 1000)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* a copy of exactly size bytes, so ASan sees any read past the end */
	unsigned char *d = xmalloc(size ? size : 1);
	struct em_error err = EM_ERROR_INIT;
	struct media_image_info info;

	memcpy(d, data, size);
	if (!media_image_probe(d, size, FUZZ_MAX_PIXELS, &info, &err)) {
		FUZZ_CHECK(err.kind == EM_ERR_MEDIA_TYPE || err.kind == EM_ERR_INVALID);
		FUZZ_CHECK(strcmp(err.field, "file") == 0);
		free(d);
		return 0;
	}
	FUZZ_CHECK(info.width > 0 && info.height > 0);
	FUZZ_CHECK((uint64_t)info.width * info.height <= (uint64_t)FUZZ_MAX_PIXELS);
	FUZZ_CHECK(info.content_type && info.ext);
	switch (info.type) {
	case MEDIA_IMAGE_PNG:
		FUZZ_CHECK(size >= 8 && memcmp(d, "\x89PNG\r\n\x1a\n", 8) == 0);
		FUZZ_CHECK(strcmp(info.content_type, "image/png") == 0);
		break;
	case MEDIA_IMAGE_JPEG:
		FUZZ_CHECK(size >= 4 && d[0] == 0xff && d[1] == 0xd8);
		/* EOI last: nothing may follow the image */
		FUZZ_CHECK(d[size - 2] == 0xff && d[size - 1] == 0xd9);
		FUZZ_CHECK(strcmp(info.content_type, "image/jpeg") == 0);
		break;
	case MEDIA_IMAGE_WEBP:
		FUZZ_CHECK(size >= 12 && memcmp(d, "RIFF", 4) == 0 && memcmp(d + 8, "WEBP", 4) == 0);
		FUZZ_CHECK(strcmp(info.content_type, "image/webp") == 0);
		break;
	default:
		FUZZ_CHECK(!"an unknown image type");
	}
	free(d);
	return 0;
}
