#!/usr/bin/env bash
# deps.sh - installs the Debian packages Emporium needs to build, run and
# test, when any is missing. Sourced by ./scripts/run and ./scripts/test.
#
#   deps_install run|test
#
# As root it runs apt-get itself; as a normal user it uses sudo when that
# works without a prompt, and otherwise prints the command to run.

DEPS_BUILD="build-essential autoconf automake pkg-config libfcgi-dev libjson-c-dev
libmongoc-dev libbson-dev libjwt-dev libsodium-dev libcurl4-openssl-dev libcmocka-dev libssl-dev"
DEPS_RUN="nginx-light openssl curl python3 python3-aiosmtpd ca-certificates"
# iproute2 (network namespaces) and jq: the cluster fault tests (tests/cluster)
DEPS_TEST="valgrind systemd clang libclang-rt-14-dev chromium iproute2 jq"

deps_missing() {
	local p missing=""
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
			missing="$missing $p"
	done
	# nginx from any Debian flavour (nginx, nginx-full, nginx-light) will do
	if [[ " $missing " == *" nginx-light "* ]] && command -v nginx >/dev/null; then
		missing=${missing/ nginx-light/}
	fi
	echo "$missing"
}

deps_install() {
	local what=$1 pkgs missing sudo=""
	pkgs="$DEPS_BUILD $DEPS_RUN"
	[ "$what" = test ] && pkgs="$pkgs $DEPS_TEST"
	# Node.js runs the database stand-in; Debian 12's nodejs 18 is enough.
	command -v node >/dev/null || pkgs="$pkgs nodejs"
	command -v npm >/dev/null || pkgs="$pkgs npm"
	# shellcheck disable=SC2086
	missing=$(deps_missing $pkgs)
	[ -n "$missing" ] || return 0
	if [ "$(id -u)" != 0 ]; then
		if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
			sudo="sudo -n"
		else
			echo "missing Debian packages:$missing" >&2
			echo "install them with: sudo apt-get install -y$missing" >&2
			return 1
		fi
	fi
	echo "installing Debian packages:$missing" >&2
	$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 || return 1
	# shellcheck disable=SC2086
	$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		$missing >&2 || return 1
}

# build_tree DIR CONFIGURE_ARGS...: configures (once) and builds in DIR.
build_tree() {
	local top dir=$1; shift
	top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
	[ -x "$top/configure" ] || (cd "$top" && autoreconf -fi >/dev/null 2>&1) ||
		{ echo "autoreconf failed" >&2; return 1; }
	mkdir -p "$dir"
	if [ ! -f "$dir/Makefile" ] || [ "$top/configure" -nt "$dir/Makefile" ] ||
		[ "$(cat "$dir/.configure-args" 2>/dev/null)" != "$*" ]; then
		(cd "$dir" && "$top/configure" "$@" >configure.out 2>&1) ||
			{ echo "configure failed: see $dir/config.log" >&2; tail -5 "$dir/configure.out" >&2; return 1; }
		echo "$*" > "$dir/.configure-args"
	fi
	make -C "$dir" -j"$(nproc)" >"$dir/make.out" 2>&1 ||
		{ grep -E 'error|warning' "$dir/make.out" | head -30 >&2; echo "build failed: see $dir/make.out" >&2; return 1; }
}
