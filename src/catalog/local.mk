# src/catalog: sources, programs and tests of this module (included by Makefile.am).
# Add to: libemporium_a_SOURCES, bin_PROGRAMS, UNIT_TESTS, INTEGRATION_TESTS
# (with += ), and declare each program's _SOURCES/_LDADD here.
libemporium_a_SOURCES += src/catalog/catalog_indexes.c
libemporium_a_SOURCES += src/catalog/seed.c
