# src/media: sources, programs and tests of this module (included by Makefile.am).
# product images: upload validation, local storage, Cloudinary (issue 6)
libemporium_a_SOURCES += src/media/media.h src/media/media.c src/media/media_routes.c \
	src/media/multipart.c src/media/probe.c src/media/storage_local.c \
	src/media/cloudinary.c src/media/media_indexes.c

UNIT_TESTS += tests/unit/test_media
tests_unit_test_media_SOURCES = tests/unit/test_media.c
tests_unit_test_media_LDADD = $(EM_LIBS) $(CMOCKA_LIBS)
tests_unit_test_media_CPPFLAGS = $(AM_CPPFLAGS) -DEM_TOP_SRCDIR='"$(abs_top_srcdir)"'

INTEGRATION_TESTS += tests/integration/test_media
tests_integration_test_media_SOURCES = tests/integration/test_media.c
tests_integration_test_media_LDADD = $(INTEGRATION_LDADD)
tests_integration_test_media_CPPFLAGS = $(AM_CPPFLAGS) -DEM_TOP_SRCDIR='"$(abs_top_srcdir)"'

