#!/usr/bin/env bash
# Install what promshim's build, tests and demo need, and only what is missing.
#
#   scripts/deps.sh          quiet when everything is present
#
# Uses Debian's apt packages only. As root (CI) it installs directly; otherwise
# through sudo when sudo is available, else it lists what is missing and fails.
set -euo pipefail

# One package a line, grouped. Add new servers/clients to the matching group.
PACKAGES=(
    # Build toolchain and the libraries the shim dlopens / links.
    build-essential
    pkg-config
    libmicrohttpd-dev

    # Sanitizer and fuzzing builds (clang, libFuzzer/ASan runtimes), leak checks.
    clang
    libclang-rt-14-dev
    valgrind

    # Test runner and its helper libraries.
    bats
    bats-assert
    bats-support

    # Clients and tools the tests and scripts use (promtool is in prometheus).
    curl
    python3
    prometheus
    prometheus-pushgateway
    wrk
    openssl
    gnutls-bin
    tmux
    zlib1g-dev
    librdkafka-dev
    kcat
    procps
    iproute2
    file
    binutils
    # Headless browser that loads the status page (tests/page.bats).
    chromium

    # Servers run under the shim by the tests and the demo.
    nginx-light

    # Database and cache servers and their clients (tests/db.bats): Redis
    # (redis-cli, redis-benchmark), memcached with libmemcached's memccp /
    # memccat, PostgreSQL 15 (psql, pgbench), MariaDB (mariadb, mysqlslap),
    # Perl's DBD::MariaDB for server-side prepared statements, openssl for a
    # TLS certificate.
    redis-server
    redis-tools
    memcached
    libmemcached-tools
    postgresql
    postgresql-client
    mariadb-server
    mariadb-client
    libdbd-mariadb-perl
    openssl
)

missing=()
for pkg in "${PACKAGES[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
    if [[ "$status" != "install ok installed" ]]; then
        missing+=("$pkg")
    fi
done

# Node.js and npm build the dashboard renderer (scripts/grafana/render, for
# tests/view.bats). A Node.js installed some other way, with its own npm,
# counts: only a missing command makes its Debian package wanted.
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)

if [[ ${#missing[@]} -eq 0 ]]; then
    exit 0
fi

echo "deps.sh: missing packages: ${missing[*]}" >&2

if [[ $(id -u) -eq 0 ]]; then
    SUDO=()
elif command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo)
    echo "deps.sh: not root, using sudo" >&2
else
    echo "deps.sh: not root and sudo is not available; as root, run:" >&2
    echo "    apt-get update && apt-get install -y --no-install-recommends ${missing[*]}" >&2
    exit 1
fi

echo "deps.sh: installing them with apt-get" >&2
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends "${missing[@]}"
