#include "store/indexes.h"

/* The indexes that serve this module's queries (emporium-admin migrate). */
const struct store_index_set jobs_index_set = { "jobs", NULL, 0 };
