#!/usr/bin/env bats
# The C unit tests (tests/unit/test_*.c), one test each: parsers, registry,
# configuration. Each binary exits 0 when all its checks passed.

setup() {
  REPO="$(cd "$BATS_TEST_DIRNAME/.." && pwd)"
}

run_unit() {
  local bin="$REPO/build/unit/$1"
  [ -x "$bin" ] || { echo "$bin not built (run make)"; return 1; }
  run "$bin"
  echo "$output"
  [ "$status" -eq 0 ]
}

@test "unit: registry (values, cap, threads, fork, per-process gauges, rendering)" {
  run_unit test_registry
}

@test "unit: configuration, address and errno formatting" {
  run_unit test_config
}

@test "unit: HTTP/1 parser, every message split at every byte" {
  [ -f "$REPO/tests/unit/test_http1.c" ] || skip "no HTTP/1 parser tests in this tree"
  run_unit test_http1
}

@test "unit: route normalisation" {
  [ -f "$REPO/tests/unit/test_route.c" ] || skip "no route tests in this tree"
  run_unit test_route
}

@test "unit: Redis RESP2/RESP3 parser, every stream split at every byte" {
  run_unit test_redis
}

@test "unit: memcached text and binary parser, every stream split at every byte" {
  run_unit test_memcached
}

@test "unit: PostgreSQL protocol parser, every stream split at every byte" {
  run_unit test_postgres
}

@test "unit: MySQL/MariaDB protocol parser, every stream split at every byte" {
  run_unit test_mysql
}

@test "unit: /metrics allow lists (CIDR, IPv4, IPv6, mapped addresses)" {
  run_unit test_acl
}

@test "unit: Kafka wire protocol parser, every stream split at every byte" {
  run_unit test_kafka
}

@test "unit: connection origins: names, and two threads sharing a cache slot never get each other's" {
  run_unit test_callsite
}
