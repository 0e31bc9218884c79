# src/cart: the cart module — pricing engine, carts, favorites, coupons
# (included by Makefile.am).
libemporium_a_SOURCES += src/cart/pricing.h src/cart/pricing.c
UNIT_TESTS += tests/unit/test_pricing
tests_unit_test_pricing_SOURCES = tests/unit/test_pricing.c
tests_unit_test_pricing_LDADD = $(EM_LIBS) $(CMOCKA_LIBS)
