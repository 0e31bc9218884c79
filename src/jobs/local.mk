# src/jobs: sources, programs and tests of this module (included by Makefile.am).
# Add to: libemporium_a_SOURCES, bin_PROGRAMS, UNIT_TESTS, INTEGRATION_TESTS
# (with += ), and declare each program's _SOURCES/_LDADD here.
libemporium_a_SOURCES += src/jobs/module.c src/jobs/jobs_routes.h
libemporium_a_SOURCES += src/jobs/jobs.h src/jobs/enqueue.c
libemporium_a_SOURCES += src/jobs/mail.h src/jobs/template.c src/jobs/mime.c src/jobs/smtp.c
libemporium_a_SOURCES += src/jobs/runner.c src/jobs/email_job.c src/jobs/metrics_listen.c
libemporium_a_SOURCES += src/jobs/jobs_routes.c

bin_PROGRAMS += emporium-worker
emporium_worker_SOURCES = src/bin/emporium-worker.c
emporium_worker_LDADD = $(EM_LIBS)

UNIT_TESTS += tests/unit/test_jobs
tests_unit_test_jobs_SOURCES = tests/unit/test_jobs.c
tests_unit_test_jobs_LDADD = $(EM_LIBS) $(CMOCKA_LIBS)
tests_unit_test_jobs_CPPFLAGS = $(AM_CPPFLAGS) -DEM_TOP_SRCDIR='"$(abs_top_srcdir)"'

INTEGRATION_TESTS += tests/integration/test_jobs_worker tests/integration/test_jobs_admin \
	tests/integration/test_mail_tls tests/integration/test_worker_metrics
tests_integration_test_worker_metrics_SOURCES = tests/integration/test_worker_metrics.c tests/integration/harness_jobs.c tests/integration/harness_jobs.h
tests_integration_test_worker_metrics_LDADD = $(INTEGRATION_LDADD)
tests_integration_test_mail_tls_SOURCES = tests/integration/test_mail_tls.c tests/integration/harness_jobs.c tests/integration/harness_jobs.h
tests_integration_test_mail_tls_LDADD = $(INTEGRATION_LDADD)
tests_integration_test_jobs_worker_SOURCES = tests/integration/test_jobs_worker.c tests/integration/harness_jobs.c tests/integration/harness_jobs.h
tests_integration_test_jobs_worker_LDADD = $(INTEGRATION_LDADD)
tests_integration_test_jobs_admin_SOURCES = tests/integration/test_jobs_admin.c tests/integration/harness_jobs.c tests/integration/harness_jobs.h
tests_integration_test_jobs_admin_LDADD = $(INTEGRATION_LDADD)
