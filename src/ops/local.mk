# src/ops: health checks and CSP reports (included by Makefile.am).
libemporium_a_SOURCES += src/ops/ops.h src/ops/module.c \
	src/ops/health_routes.c src/ops/csp_routes.c
