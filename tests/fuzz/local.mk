# tests/fuzz: libFuzzer harnesses (included by Makefile.am; see
# tests/fuzz/README.md). They are EXTRA_PROGRAMS: built only by
# `make fuzzers` in a tree configured for them, which tests/fuzz/run.sh
# makes (build/fuzz: CC=clang --enable-asan --enable-ubsan
# CFLAGS=-fsanitize=fuzzer-no-link), never by the gcc trees' `make`.
FUZZERS = tests/fuzz/fuzz_parse tests/fuzz/fuzz_request tests/fuzz/fuzz_multipart \
	tests/fuzz/fuzz_probe tests/fuzz/fuzz_json tests/fuzz/fuzz_cursor \
	tests/fuzz/fuzz_auth tests/fuzz/fuzz_template tests/fuzz/fuzz_pricing tests/fuzz/fuzz_ipn
EXTRA_PROGRAMS = $(FUZZERS)

# The harnesses themselves are held to -Werror whatever the tree's flags.
FUZZ_COMPILE_FLAGS = $(AM_CFLAGS) -Werror
FUZZ_LINK_FLAGS = $(AM_LDFLAGS) -fsanitize=fuzzer

tests_fuzz_fuzz_parse_SOURCES = tests/fuzz/fuzz_parse.c tests/fuzz/fuzz.h
tests_fuzz_fuzz_parse_CFLAGS = $(FUZZ_COMPILE_FLAGS)
tests_fuzz_fuzz_parse_LDFLAGS = $(FUZZ_LINK_FLAGS)
tests_fuzz_fuzz_parse_LDADD = $(EM_LIBS)

tests_fuzz_fuzz_request_SOURCES = tests/fuzz/fuzz_request.c tests/fuzz/fuzz.h
tests_fuzz_fuzz_request_CFLAGS = $(FUZZ_COMPILE_FLAGS)
tests_fuzz_fuzz_request_LDFLAGS = $(FUZZ_LINK_FLAGS)
tests_fuzz_fuzz_request_LDADD = $(EM_LIBS)

tests_fuzz_fuzz_multipart_SOURCES = tests/fuzz/fuzz_multipart.c tests/fuzz/fuzz.h
tests_fuzz_fuzz_multipart_CFLAGS = $(FUZZ_COMPILE_FLAGS)
tests_fuzz_fuzz_multipart_LDFLAGS = $(FUZZ_LINK_FLAGS)
tests_fuzz_fuzz_multipart_LDADD = $(EM_LIBS)

tests_fuzz_fuzz_probe_SOURCES = tests/fuzz/fuzz_probe.c tests/fuzz/fuzz.h
tests_fuzz_fuzz_probe_CFLAGS = $(FUZZ_COMPILE_FLAGS)
tests_fuzz_fuzz_probe_LDFLAGS = $(FUZZ_LINK_FLAGS)
tests_fuzz_fuzz_probe_LDADD = $(EM_LIBS)

tests_fuzz_fuzz_json_SOURCES = tests/fuzz/fuzz_json.c tests/fuzz/fuzz.h
tests_fuzz_fuzz_json_CFLAGS = $(FUZZ_COMPILE_FLAGS)
tests_fuzz_fuzz_json_LDFLAGS = $(FUZZ_LINK_FLAGS)
tests_fuzz_fuzz_json_LDADD = $(EM_LIBS)

tests_fuzz_fuzz_cursor_SOURCES = tests/fuzz/fuzz_cursor.c tests/fuzz/fuzz.h
tests_fuzz_fuzz_cursor_CFLAGS = $(FUZZ_COMPILE_FLAGS)
tests_fuzz_fuzz_cursor_LDFLAGS = $(FUZZ_LINK_FLAGS)
tests_fuzz_fuzz_cursor_LDADD = $(EM_LIBS)

# The user lookup is faked: the authenticator's store and mongoc calls are
# redirected to the harness's __wrap_* functions (only references from the
# objects linked here are redirected, never libmongoc's own).
FUZZ_AUTH_WRAP = -Wl,--wrap=store_collection -Wl,--wrap=mongoc_collection_find_with_opts \
	-Wl,--wrap=mongoc_cursor_next -Wl,--wrap=mongoc_cursor_error \
	-Wl,--wrap=mongoc_cursor_destroy -Wl,--wrap=mongoc_collection_destroy
tests_fuzz_fuzz_auth_SOURCES = tests/fuzz/fuzz_auth.c tests/fuzz/fuzz.h
tests_fuzz_fuzz_auth_CFLAGS = $(FUZZ_COMPILE_FLAGS)
tests_fuzz_fuzz_auth_LDFLAGS = $(FUZZ_LINK_FLAGS) $(FUZZ_AUTH_WRAP)
tests_fuzz_fuzz_auth_LDADD = $(EM_LIBS)

tests_fuzz_fuzz_template_SOURCES = tests/fuzz/fuzz_template.c tests/fuzz/fuzz.h
tests_fuzz_fuzz_template_CFLAGS = $(FUZZ_COMPILE_FLAGS)
tests_fuzz_fuzz_template_LDFLAGS = $(FUZZ_LINK_FLAGS)
tests_fuzz_fuzz_template_LDADD = $(EM_LIBS)


tests_fuzz_fuzz_pricing_SOURCES = tests/fuzz/fuzz_pricing.c tests/fuzz/fuzz.h
tests_fuzz_fuzz_pricing_CFLAGS = $(FUZZ_COMPILE_FLAGS)
tests_fuzz_fuzz_pricing_LDFLAGS = $(FUZZ_LINK_FLAGS)
tests_fuzz_fuzz_pricing_LDADD = $(EM_LIBS)

tests_fuzz_fuzz_ipn_SOURCES = tests/fuzz/fuzz_ipn.c tests/fuzz/fuzz.h
tests_fuzz_fuzz_ipn_CFLAGS = $(FUZZ_COMPILE_FLAGS)
tests_fuzz_fuzz_ipn_LDFLAGS = $(FUZZ_LINK_FLAGS)
tests_fuzz_fuzz_ipn_LDADD = $(EM_LIBS)

fuzzers: $(FUZZERS)

# `make fuzz FUZZ_SECONDS=N` (in any tree): builds build/fuzz and runs
# every harness for N seconds (default 60) under ASan + UBSan.
FUZZ_SECONDS = 60
fuzz:
	FUZZ_SECONDS=$(FUZZ_SECONDS) $(SHELL) $(top_srcdir)/tests/fuzz/run.sh
.PHONY: fuzz fuzzers
