# src/auth: sources, programs and tests of this module (included by Makefile.am).
# Add to: libemporium_a_SOURCES, bin_PROGRAMS, UNIT_TESTS, INTEGRATION_TESTS
# (with += ), and declare each program's _SOURCES/_LDADD here.
libemporium_a_SOURCES += src/auth/module.c src/auth/auth_routes.h
libemporium_a_SOURCES += src/auth/auth.h src/auth/authenticate.c
libemporium_a_SOURCES += src/auth/admin_cmd.c

# accounts: passwords, tokens, one-time codes, throttles, users, routes
libemporium_a_SOURCES += src/auth/accounts.h src/auth/auth_config.h src/auth/tokens.c \
	src/auth/users.c src/auth/password.c src/auth/otp.c src/auth/throttle.c \
	src/auth/mail_job.c src/auth/auth_http.h src/auth/session_http.c \
	src/auth/totp.c src/auth/mfa_routes.c \
	src/auth/auth_routes.c src/auth/me_routes.c src/auth/admin_routes.c
# The common-password list is compiled in (sorted, lower-case) so nothing
# has to be found on disk at run time; see src/auth/password.c.
libemporium_a_SOURCES += src/auth/common_passwords.c
src/auth/common_passwords.c: $(top_srcdir)/data/common-passwords.txt
	$(MKDIR_P) src/auth
	{ echo '/* Generated from data/common-passwords.txt by src/auth/local.mk. */'; \
	  echo '#include <stddef.h>'; \
	  echo 'extern const char *const auth_common_passwords[];'; \
	  echo 'extern const size_t auth_common_passwords_count;'; \
	  echo 'const char *const auth_common_passwords[] = {'; \
	  sed -e 's/\r$$//' -e '/^#/d' -e '/^$$/d' $(top_srcdir)/data/common-passwords.txt | \
	    LC_ALL=C tr 'A-Z' 'a-z' | LC_ALL=C sort -u | \
	    sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/\t"/' -e 's/$$/",/'; \
	  echo '};'; \
	  echo 'const size_t auth_common_passwords_count ='; \
	  echo '	sizeof(auth_common_passwords) / sizeof(auth_common_passwords[0]);'; \
	} > $@.tmp && mv $@.tmp $@
UNIT_TESTS += tests/unit/test_auth
tests_unit_test_auth_SOURCES = tests/unit/test_auth.c
tests_unit_test_auth_LDADD = $(EM_LIBS) $(CMOCKA_LIBS)
INTEGRATION_TESTS += tests/integration/test_register tests/integration/test_session \
	tests/integration/test_me tests/integration/test_admin_users \
	tests/integration/test_account_security tests/integration/test_mfa
tests_integration_test_register_SOURCES = tests/integration/test_register.c
tests_integration_test_register_LDADD = $(INTEGRATION_LDADD)
tests_integration_test_session_SOURCES = tests/integration/test_session.c
tests_integration_test_session_LDADD = $(INTEGRATION_LDADD)
tests_integration_test_me_SOURCES = tests/integration/test_me.c
tests_integration_test_me_LDADD = $(INTEGRATION_LDADD)
tests_integration_test_admin_users_SOURCES = tests/integration/test_admin_users.c
tests_integration_test_admin_users_LDADD = $(INTEGRATION_LDADD)
tests_integration_test_account_security_SOURCES = tests/integration/test_account_security.c
tests_integration_test_account_security_LDADD = $(INTEGRATION_LDADD)
tests_integration_test_mfa_SOURCES = tests/integration/test_mfa.c
tests_integration_test_mfa_LDADD = $(INTEGRATION_LDADD)

# OpenID Connect sign-in
libemporium_a_SOURCES += src/auth/oauth.h src/auth/oauth_internal.h \
	src/auth/oauth_provider.c src/auth/oauth_fetch.c src/auth/oauth_jwk.c \
	src/auth/oauth_idtoken.c src/auth/oauth_accounts.c src/auth/oauth_routes.c
UNIT_TESTS += tests/unit/test_oauth
tests_unit_test_oauth_SOURCES = tests/unit/test_oauth.c
tests_unit_test_oauth_LDADD = $(EM_LIBS) $(CMOCKA_LIBS)
INTEGRATION_TESTS += tests/integration/test_oauth_login tests/integration/test_oauth_attacks
tests_integration_test_oauth_login_SOURCES = tests/integration/test_oauth_login.c tests/integration/harness_oauth.c tests/integration/harness_oauth.h
tests_integration_test_oauth_login_LDADD = $(INTEGRATION_LDADD)
tests_integration_test_oauth_login_CPPFLAGS = $(AM_CPPFLAGS) -DEM_TOP_SRCDIR='"$(abs_top_srcdir)"'
tests_integration_test_oauth_attacks_SOURCES = tests/integration/test_oauth_attacks.c tests/integration/harness_oauth.c tests/integration/harness_oauth.h
tests_integration_test_oauth_attacks_LDADD = $(INTEGRATION_LDADD)
tests_integration_test_oauth_attacks_CPPFLAGS = $(AM_CPPFLAGS) -DEM_TOP_SRCDIR='"$(abs_top_srcdir)"'
