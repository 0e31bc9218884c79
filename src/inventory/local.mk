# src/inventory: sources and tests of this module (included by Makefile.am).
libemporium_a_SOURCES += src/inventory/module.c src/inventory/inventory.h \
	src/inventory/inventory.c src/inventory/inventory_routes.h src/inventory/inventory_routes.c
INTEGRATION_TESTS += tests/integration/test_inventory
tests_integration_test_inventory_SOURCES = tests/integration/test_inventory.c
tests_integration_test_inventory_LDADD = $(INTEGRATION_LDADD)
