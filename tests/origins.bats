#!/usr/bin/env bats
# Who opened each connection: promshim_connection_origins_total names the
# module (and function, where the module exports it) of the first frame
# outside libc, found at connect time.

load 'helpers/common'

setup() { common_setup; }
teardown() { common_teardown; }

# origin_of TEXTFILE: the module="..",function=".." labels of its origins
origins() {
    metric_lines "$(read_textfile "$1")" promshim_connection_origins_total
}

@test "curl's connections come from libcurl" {
    port=$(free_port)
    tf="$BATS_TEST_TMPDIR/curl.prom"
    tf_env "$tf"
    run "${TF_ENV[@]}" curl -s "http://127.0.0.1:$port/"
    run origins "$tf"
    assert_output --partial "server_port=\"$port\",module=\"libcurl.so.4\""
}

@test "psql's connections come from libpq, function PQconnectPoll" {
    command -v psql >/dev/null || skip "psql is not installed"
    port=$(free_port)
    tf="$BATS_TEST_TMPDIR/psql.prom"
    tf_env "$tf"
    run "${TF_ENV[@]}" psql -h 127.0.0.1 -p "$port" -U nobody -c 'select 1' postgres
    run origins "$tf"
    assert_output --partial "server_port=\"$port\",module=\"libpq.so.5\",function=\"PQconnectPoll\""
}

@test "a program's own connect names the program" {
    port=$(free_port)
    start_echo "$port"
    tf="$BATS_TEST_TMPDIR/prog.prom"
    tf_env "$tf"
    run "${TF_ENV[@]}" "$PROGS/conn_client" 127.0.0.1 "$port" 2
    assert_success
    run origins "$tf"
    assert_output --partial "server_port=\"$port\",module=\"conn_client\""
    assert_output --partial '} 2'
}

@test "a live scrape shows a new call site's connects: they are named off the hook, before the render" {
    port=$(free_port)
    eport=$(free_port)
    start_echo "$port"
    shim_env "$eport"
    # two connects from a call site never named before, then 10 s held open
    start_bg client "${SHIM_ENV[@]}" "$PROGS/conn_client" 127.0.0.1 "$port" 2 10
    wait_until 10 file_has "$BATS_TEST_TMPDIR/client.out" '^connections=2 ok=2'
    wait_exporter "$eport"
    text=$(scrape "$eport")
    assert_metric_exact "$text" promshim_connection_origins_total \
        "server_address=\"127.0.0.1\",server_port=\"$port\",module=\"conn_client\",function=\"unknown\"" 2
    assert_metric "$text" promshim_events_dropped_total '' 0
}

@test "PROMSHIM_CALLSITE_ENABLED=0 turns the origins off" {
    port=$(free_port)
    tf="$BATS_TEST_TMPDIR/off.prom"
    tf_env "$tf" PROMSHIM_CALLSITE_ENABLED=0
    run "${TF_ENV[@]}" curl -s "http://127.0.0.1:$port/"
    run origins "$tf"
    assert_output ""
}
