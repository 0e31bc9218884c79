# src/payments: the payments module — SSLCOMMERZ and cash on delivery
# (included by Makefile.am). MD5 for verify_sign comes from libcrypto.
AM_CFLAGS += $(CRYPTO_CFLAGS)
EM_LIBS += $(CRYPTO_LIBS)
libemporium_a_SOURCES += src/payments/payments.h src/payments/payments_internal.h \
	src/payments/amount.c src/payments/form.c src/payments/sign.c src/payments/log.c \
	src/payments/sslcommerz.c src/payments/gateway.c src/payments/util.c \
	src/payments/apply.c src/payments/refund.c src/payments/sweep.c src/payments/payments_routes.c \
	src/payments/module.c
UNIT_TESTS += tests/unit/test_payments
tests_unit_test_payments_SOURCES = tests/unit/test_payments.c
tests_unit_test_payments_LDADD = $(EM_LIBS) $(CMOCKA_LIBS)
INTEGRATION_TESTS += tests/integration/test_payments
tests_integration_test_payments_SOURCES = tests/integration/test_payments.c \
	tests/integration/harness_orders.c tests/integration/harness_orders.h \
	tests/integration/harness_catalog.c tests/integration/harness_catalog.h
tests_integration_test_payments_LDADD = $(INTEGRATION_LDADD) $(SODIUM_LIBS)
