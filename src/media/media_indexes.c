#include "store/indexes.h"

static const struct store_index media_indexes[] = {
	/* Removing an image asks whether any product still names its bytes
	 * (src/media/media.c, media_refs_count). Multikey over the array. */
	{ "products", "media_images_id", "{\"images.id\": 1}", "{}" },
};

const struct store_index_set media_index_set = STORE_INDEX_SET("media", media_indexes);
