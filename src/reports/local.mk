# src/reports: sales and user analytics, the dashboard (included by Makefile.am).
libemporium_a_SOURCES += src/reports/reports.h src/reports/reports_internal.h \
	src/reports/module.c src/reports/range.c src/reports/util.c src/reports/csv.c \
	src/reports/sales.c src/reports/reports_routes.c src/reports/sales_routes.c \
	src/reports/stock.c src/reports/orders_report.c src/reports/sold_report.c \
	src/reports/customers_report.c
INTEGRATION_TESTS += tests/integration/test_reports
tests_integration_test_reports_SOURCES = tests/integration/test_reports.c
tests_integration_test_reports_LDADD = $(INTEGRATION_LDADD)
UNIT_TESTS += tests/unit/test_reports
tests_unit_test_reports_SOURCES = tests/unit/test_reports.c
tests_unit_test_reports_LDADD = $(EM_LIBS) $(CMOCKA_LIBS)
