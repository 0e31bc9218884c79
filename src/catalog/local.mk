# src/catalog: sources, programs and tests of this module (included by Makefile.am).
# Add to: libemporium_a_SOURCES, bin_PROGRAMS, UNIT_TESTS, INTEGRATION_TESTS
# (with += ), and declare each program's _SOURCES/_LDADD here.
libemporium_a_SOURCES += src/catalog/module.c
libemporium_a_SOURCES += src/catalog/seed.c
libemporium_a_SOURCES += src/catalog/catalog.h src/catalog/catalog.c
libemporium_a_SOURCES += src/catalog/catalog_db.h src/catalog/catalog_db.c
libemporium_a_SOURCES += src/catalog/products.c src/catalog/facets.c src/catalog/versions.c
libemporium_a_SOURCES += src/catalog/categories.c src/catalog/categories_cache.c
libemporium_a_SOURCES += src/catalog/catalog_internal.h src/catalog/catalog_http.c
libemporium_a_SOURCES += src/catalog/product_json.c
libemporium_a_SOURCES += src/catalog/category_routes.c src/catalog/product_routes.c
libemporium_a_SOURCES += src/catalog/admin_product_routes.c
INTEGRATION_TESTS += tests/integration/test_products tests/integration/test_catalog_browse
INTEGRATION_TESTS += tests/integration/test_storefront
# staff product management's conveniences (issue 17): every field error, slugs, explicit variants, search
INTEGRATION_TESTS += tests/integration/test_admin_products
tests_integration_test_admin_products_SOURCES = tests/integration/test_admin_products.c tests/integration/harness_catalog.c tests/integration/harness_catalog.h
tests_integration_test_admin_products_LDADD = $(INTEGRATION_LDADD)
tests_integration_test_storefront_SOURCES = tests/integration/test_storefront.c \
	tests/integration/harness_catalog.c tests/integration/harness_catalog.h \
	tests/integration/harness_orders.c tests/integration/harness_orders.h \
	tests/integration/harness_media.c tests/integration/harness_media.h
tests_integration_test_storefront_LDADD = $(INTEGRATION_LDADD)
tests_integration_test_products_SOURCES = tests/integration/test_products.c tests/integration/harness_catalog.c tests/integration/harness_catalog.h
tests_integration_test_products_LDADD = $(INTEGRATION_LDADD)
tests_integration_test_catalog_browse_SOURCES = tests/integration/test_catalog_browse.c tests/integration/harness_catalog.c tests/integration/harness_catalog.h
tests_integration_test_catalog_browse_LDADD = $(INTEGRATION_LDADD)
# which index the database used for each catalog and orders query (the stand-in's planner, issue 16)
INTEGRATION_TESTS += tests/integration/test_query_plans
tests_integration_test_query_plans_SOURCES = tests/integration/test_query_plans.c tests/integration/harness_catalog.c tests/integration/harness_catalog.h
tests_integration_test_query_plans_LDADD = $(INTEGRATION_LDADD)
# the workers' copy of the category tree: one query per product read, changes shown on every worker (issue 16)
INTEGRATION_TESTS += tests/integration/test_category_cache
tests_integration_test_category_cache_SOURCES = tests/integration/test_category_cache.c tests/integration/harness_catalog.c tests/integration/harness_catalog.h
tests_integration_test_category_cache_LDADD = $(INTEGRATION_LDADD)
UNIT_TESTS += tests/unit/test_catalog
tests_unit_test_catalog_SOURCES = tests/unit/test_catalog.c
tests_unit_test_catalog_LDADD = $(EM_LIBS) $(CMOCKA_LIBS)
INTEGRATION_TESTS += tests/integration/test_render_bytes
tests_integration_test_render_bytes_SOURCES = tests/integration/test_render_bytes.c tests/integration/harness_catalog.c tests/integration/harness_catalog.h
tests_integration_test_render_bytes_LDADD = $(INTEGRATION_LDADD)
