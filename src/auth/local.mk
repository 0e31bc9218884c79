# src/auth: sources, programs and tests of this module (included by Makefile.am).
# Add to: libemporium_a_SOURCES, bin_PROGRAMS, UNIT_TESTS, INTEGRATION_TESTS
# (with += ), and declare each program's _SOURCES/_LDADD here.
libemporium_a_SOURCES += src/auth/auth_indexes.c
libemporium_a_SOURCES += src/auth/auth.h src/auth/authenticate.c
libemporium_a_SOURCES += src/auth/admin_cmd.c
