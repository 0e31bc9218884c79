# src/media: sources, programs and tests of this module (included by Makefile.am).
# product images: upload validation, local storage, Cloudinary (see media.h)
libemporium_a_SOURCES += src/media/media.h src/media/media.c src/media/media_routes.c \
	src/media/multipart.c src/media/probe.c src/media/storage_local.c \
	src/media/cloudinary.c src/media/module.c src/media/media_routes.h

UNIT_TESTS += tests/unit/test_media
tests_unit_test_media_SOURCES = tests/unit/test_media.c
tests_unit_test_media_LDADD = $(EM_LIBS) $(CMOCKA_LIBS)
tests_unit_test_media_CPPFLAGS = $(AM_CPPFLAGS) -DEM_TOP_SRCDIR='"$(abs_top_srcdir)"'

INTEGRATION_TESTS += tests/integration/test_media_upload tests/integration/test_media_images \
	tests/integration/test_media_cloudinary
tests_integration_test_media_upload_SOURCES = tests/integration/test_media_upload.c tests/integration/harness_media.c tests/integration/harness_media.h
tests_integration_test_media_upload_LDADD = $(INTEGRATION_LDADD)
tests_integration_test_media_upload_CPPFLAGS = $(AM_CPPFLAGS) -DEM_TOP_SRCDIR='"$(abs_top_srcdir)"'
tests_integration_test_media_images_SOURCES = tests/integration/test_media_images.c tests/integration/harness_media.c tests/integration/harness_media.h
tests_integration_test_media_images_LDADD = $(INTEGRATION_LDADD)
tests_integration_test_media_images_CPPFLAGS = $(AM_CPPFLAGS) -DEM_TOP_SRCDIR='"$(abs_top_srcdir)"'
tests_integration_test_media_cloudinary_SOURCES = tests/integration/test_media_cloudinary.c tests/integration/harness_media.c tests/integration/harness_media.h
tests_integration_test_media_cloudinary_LDADD = $(INTEGRATION_LDADD)
tests_integration_test_media_cloudinary_CPPFLAGS = $(AM_CPPFLAGS) -DEM_TOP_SRCDIR='"$(abs_top_srcdir)"'


INTEGRATION_TESTS += tests/integration/test_upload_auth
tests_integration_test_upload_auth_SOURCES = tests/integration/test_upload_auth.c
tests_integration_test_upload_auth_LDADD = $(INTEGRATION_LDADD)
