# src/orders: placement, workflow, tracking, mails (included by Makefile.am).
libemporium_a_SOURCES += src/orders/orders.h src/orders/orders_internal.h \
	src/orders/module.c src/orders/state.c src/orders/number.c src/orders/place.c \
	src/orders/idempotency.c src/orders/read.c src/orders/transition.c src/orders/mail.c \
	src/orders/orders_routes.c src/orders/returns.c src/orders/returns_routes.c
UNIT_TESTS += tests/unit/test_orders
tests_unit_test_orders_SOURCES = tests/unit/test_orders.c
tests_unit_test_orders_LDADD = $(EM_LIBS) $(CMOCKA_LIBS)
INTEGRATION_TESTS += tests/integration/test_orders tests/integration/test_order_races \
	tests/integration/test_returns
tests_integration_test_returns_SOURCES = tests/integration/test_returns.c \
	tests/integration/harness_orders.c tests/integration/harness_orders.h \
	tests/integration/harness_catalog.c tests/integration/harness_catalog.h
tests_integration_test_returns_LDADD = $(INTEGRATION_LDADD)
tests_integration_test_orders_SOURCES = tests/integration/test_orders.c \
	tests/integration/harness_orders.c tests/integration/harness_orders.h \
	tests/integration/harness_catalog.c tests/integration/harness_catalog.h
tests_integration_test_orders_LDADD = $(INTEGRATION_LDADD)
tests_integration_test_order_races_SOURCES = tests/integration/test_order_races.c \
	tests/integration/harness_orders.c tests/integration/harness_orders.h \
	tests/integration/harness_catalog.c tests/integration/harness_catalog.h
tests_integration_test_order_races_LDADD = $(INTEGRATION_LDADD)
INTEGRATION_TESTS += tests/integration/test_order_faults
tests_integration_test_order_faults_SOURCES = tests/integration/test_order_faults.c \
	tests/integration/harness_orders.c tests/integration/harness_orders.h \
	tests/integration/harness_catalog.c tests/integration/harness_catalog.h
tests_integration_test_order_faults_LDADD = $(INTEGRATION_LDADD)
# the cart's and the orders' views against the json-c renderers they replaced
INTEGRATION_TESTS += tests/integration/test_render_orders
tests_integration_test_render_orders_SOURCES = tests/integration/test_render_orders.c \
	tests/integration/harness_orders.c tests/integration/harness_orders.h \
	tests/integration/harness_catalog.c tests/integration/harness_catalog.h
tests_integration_test_render_orders_LDADD = $(INTEGRATION_LDADD) $(SODIUM_LIBS)
