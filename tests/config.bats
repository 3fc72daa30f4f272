#!/usr/bin/env bats
# Settings file (the Athomic observability keys), precedence, --check-config,
# and /metrics protection: allow list (IPv4, IPv6) and basic auth.

load 'helpers/common'
bats_require_minimum_version 1.5.0

setup() { common_setup; }
teardown() { common_teardown; }

# a program that opens a socket (so its exporter starts) and lives until killed
idle_server() {
    "$PY" -c 'import socket, time; s = socket.socket(); time.sleep(60)'
}

# athomic FILE PORT [PROD_PORT]: a settings.toml as the Athomic documentation shows it
athomic() {
    cat >"$1" <<EOF
[default.observability]
enabled = true
exporter_enabled = true
exporter_port = $2

[default.observability.metrics]
enabled = true
collection_interval_seconds = 15
metrics_protection_enabled = false
allow_metrics_ips = ["127.0.0.1"]

[production.observability]
exporter_port = ${3:-$2}

[default.database]
url = "postgres://app@db/app"
EOF
}

start_idle() { # start_idle NAME ENV...: an idle server under the shim
    local name=$1
    shift
    start_bg "$name" env LD_PRELOAD="$SHIM" "$@" "$PY" -c 'import socket, time; s = socket.socket(); time.sleep(60)'
}

@test "an Athomic settings.toml serves /metrics on the port it names" {
    port=$(free_port)
    athomic "$BATS_TEST_TMPDIR/settings.toml" "$port"
    start_idle srv PROMSHIM_CONFIG="$BATS_TEST_TMPDIR/settings.toml"
    wait_exporter "$port"
    run scrape "$port"
    assert_success
    assert_output --partial 'promshim_info{version='
    assert_equal "$(cat "$BATS_TEST_TMPDIR/srv.err")" ""
}

@test "PROMSHIM_ENV=production takes [production.observability] over [default]" {
    port=$(free_port)
    prod=$(free_port)
    athomic "$BATS_TEST_TMPDIR/settings.toml" "$port" "$prod"
    start_idle srv PROMSHIM_CONFIG="$BATS_TEST_TMPDIR/settings.toml" PROMSHIM_ENV=production
    wait_exporter "$prod"
    run port_listening "$port"
    assert_failure
}

@test "the environment beats the file; the wrapper's -c gives the file" {
    port=$(free_port)
    envport=$(free_port)
    athomic "$BATS_TEST_TMPDIR/settings.toml" "$port"
    start_bg srv env PROMSHIM_EXPORTER_PORT="$envport" "$WRAPPER" -c "$BATS_TEST_TMPDIR/settings.toml" -- \
        "$PY" -c 'import socket, time; s = socket.socket(); time.sleep(60)'
    wait_exporter "$envport"
    run port_listening "$port"
    assert_failure
}

@test "promshim --check-config prints the effective settings and exits 0 on a good file" {
    athomic "$BATS_TEST_TMPDIR/settings.toml" 9234
    run "$WRAPPER" --check-config "$BATS_TEST_TMPDIR/settings.toml"
    assert_success
    assert_line 'observability.exporter_port = 9234    # PROMSHIM_EXPORTER_PORT'
    assert_line 'observability.metrics.allow_metrics_ips = "127.0.0.1"    # PROMSHIM_METRICS_ALLOW_METRICS_IPS'
}

@test "a bad value, a wrong type and an unknown key: one line each with file:line, defaults kept, exit 1" {
    f="$BATS_TEST_TMPDIR/bad.toml"
    cat >"$f" <<'EOF'
[observability]
exporter_port = 70000
exporter_enabled = "yes"
exporter_prot = 9101
EOF
    run --separate-stderr "$WRAPPER" --check-config "$f"
    assert_failure 1
    assert_line 'observability.exporter_port = 9100    # PROMSHIM_EXPORTER_PORT'
    assert_line 'observability.exporter_enabled = true    # PROMSHIM_EXPORTER_ENABLED'
    [[ "$stderr" == *"$f:2: observability.exporter_port = 70000 is out of range; using 9100"* ]]
    [[ "$stderr" == *"$f:3: observability.exporter_enabled must be true or false; using true"* ]]
    [[ "$stderr" == *"$f:4: unknown key observability.exporter_prot ignored"* ]]
}

@test "a malformed file is named with line and column; the program runs on with defaults" {
    f="$BATS_TEST_TMPDIR/broken.toml"
    printf '[observability]\nexporter_port = [1,\n' >"$f"
    run --separate-stderr env LD_PRELOAD="$SHIM" PROMSHIM_EXPORTER_ENABLED=0 PROMSHIM_CONFIG="$f" \
        sh -c 'echo out; exit 7'
    assert_equal "$status" 7
    assert_output out
    assert_equal "$stderr" "promshim: error: $f:2:17: unterminated array; the settings file is ignored"
}

@test "allow list: 127.0.0.1 is served, 127.0.0.2 is refused before any byte and counted" {
    port=$(free_port)
    start_idle srv PROMSHIM_EXPORTER_PORT="$port" PROMSHIM_METRICS_METRICS_PROTECTION_ENABLED=true \
        PROMSHIM_METRICS_ALLOW_METRICS_IPS=127.0.0.1/32
    wait_exporter "$port"
    run curl -s --max-time 5 --interface 127.0.0.2 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/metrics"
    assert_output 000
    text=$(scrape "$port")
    assert_metric "$text" promshim_scrapes_refused_total 'reason="address"' 1
}

@test "allow list over IPv6: ::1 is allowed by ::1/128, an IPv4 client of the same socket is not" {
    port=$(free_port)
    start_idle srv PROMSHIM_EXPORTER_PORT="$port" PROMSHIM_BIND_ADDRESS=:: \
        PROMSHIM_METRICS_METRICS_PROTECTION_ENABLED=true PROMSHIM_METRICS_ALLOW_METRICS_IPS=::1/128
    wait_until 10 curl -sf --max-time 2 -o /dev/null "http://[::1]:$port/healthz"
    run curl -s --max-time 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/healthz"
    assert_output 000
    run curl -sf --max-time 5 "http://[::1]:$port/metrics"
    assert_success
    assert_output --partial 'promshim_scrapes_refused_total{reason="address"} 1'
}

@test "basic auth: the password comes from a file; no or wrong credentials get 401 and are counted" {
    port=$(free_port)
    printf 's3cret\n' >"$BATS_TEST_TMPDIR/pw"
    start_idle srv PROMSHIM_EXPORTER_PORT="$port" PROMSHIM_METRICS_BASIC_AUTH_USER=prom \
        PROMSHIM_METRICS_BASIC_AUTH_PASSWORD_FILE="$BATS_TEST_TMPDIR/pw"
    wait_until 10 curl -sf --max-time 2 -u prom:s3cret -o /dev/null "http://127.0.0.1:$port/healthz"
    run curl -s --max-time 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/metrics"
    assert_output 401
    run curl -s --max-time 5 -u prom:wrong -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/metrics"
    assert_output 401
    run curl -sf --max-time 5 -u prom:s3cret "http://127.0.0.1:$port/metrics"
    assert_success
    assert_output --partial 'promshim_scrapes_refused_total{reason="auth"} 2'
    # the password is not in the process's environment
    run grep -a s3cret "/proc/$BG_PID/environ"
    assert_failure
}

@test "an allow list entry that is not an address: one clear line, the rest applies" {
    port=$(free_port)
    start_idle srv PROMSHIM_EXPORTER_PORT="$port" PROMSHIM_METRICS_METRICS_PROTECTION_ENABLED=true \
        PROMSHIM_METRICS_ALLOW_METRICS_IPS=not-an-ip,127.0.0.1
    wait_exporter "$port"
    run grep -c 'allow_metrics_ips: entry 1 of "not-an-ip,127.0.0.1" is not an address or CIDR range' \
        "$BATS_TEST_TMPDIR/srv.err"
    assert_output 1
}

@test "/metrics is gzipped when asked, and OpenMetrics when the scraper prefers it" {
    port=$(free_port)
    start_idle srv PROMSHIM_EXPORTER_PORT="$port"
    wait_exporter "$port"
    run bash -c "curl -sf -D - -o /dev/null -H 'Accept-Encoding: gzip' http://127.0.0.1:$port/metrics | tr -d '\r'"
    assert_line 'Content-Encoding: gzip'
    run bash -c "curl -sf -H 'Accept-Encoding: gzip' http://127.0.0.1:$port/metrics | gzip -dc | promtool check metrics"
    assert_success
    run curl -sf -D - -H 'Accept: application/openmetrics-text; version=1.0.0,text/plain;q=0.5' \
        "http://127.0.0.1:$port/metrics"
    assert_output --partial 'Content-Type: application/openmetrics-text; version=1.0.0; charset=utf-8'
    assert_output --partial '# TYPE promshim_connections counter'
    [[ "$output" == *$'# EOF\n' || "$output" == *'# EOF' ]]
}
