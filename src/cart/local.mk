# src/cart: the cart module — pricing engine, carts, favorites, coupons
# (included by Makefile.am).
libemporium_a_SOURCES += src/cart/pricing.h src/cart/pricing.c
libemporium_a_SOURCES += src/cart/cart.h src/cart/cart_internal.h src/cart/module.c \
	src/cart/shipping.c src/cart/token.c src/cart/coupon.c src/cart/coupon_store.c \
	src/cart/cart_store.c src/cart/quote.c src/cart/cart_routes.c src/cart/favorite_routes.c \
	src/cart/coupon_routes.c src/cart/seed.c
UNIT_TESTS += tests/unit/test_pricing tests/unit/test_cart
tests_unit_test_pricing_SOURCES = tests/unit/test_pricing.c
tests_unit_test_pricing_LDADD = $(EM_LIBS) $(CMOCKA_LIBS)
tests_unit_test_cart_SOURCES = tests/unit/test_cart.c
tests_unit_test_cart_LDADD = $(EM_LIBS) $(CMOCKA_LIBS)
INTEGRATION_TESTS += tests/integration/test_cart
tests_integration_test_cart_SOURCES = tests/integration/test_cart.c tests/integration/harness_catalog.c \
	tests/integration/harness_catalog.h
tests_integration_test_cart_LDADD = $(INTEGRATION_LDADD) $(SODIUM_LIBS)
