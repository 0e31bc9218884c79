# src/ops: health checks and CSP reports (included by Makefile.am).
libemporium_a_SOURCES += src/ops/ops.h src/ops/module.c \
	src/ops/health_routes.c src/ops/csp_routes.c src/ops/metrics_routes.c \
	src/ops/status_cmd.c
UNIT_TESTS += tests/unit/test_metrics
tests_unit_test_metrics_SOURCES = tests/unit/test_metrics.c
tests_unit_test_metrics_LDADD = $(EM_LIBS) $(CMOCKA_LIBS)

INTEGRATION_TESTS += tests/integration/test_metrics
tests_integration_test_metrics_SOURCES = tests/integration/test_metrics.c \
	tests/integration/harness_orders.c tests/integration/harness_orders.h \
	tests/integration/harness_catalog.c tests/integration/harness_catalog.h
tests_integration_test_metrics_LDADD = $(INTEGRATION_LDADD)
