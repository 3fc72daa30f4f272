#!/usr/bin/env bats
# Process trees: forked children share the registry, so a prefork server and
# a forking client answer on one endpoint with exact totals; a daemon whose
# parent exits keeps its endpoint; the textfile holds the whole tree's
# totals; per-process gauges leave with their process.

load 'helpers/common'

setup() {
    common_setup
}

teardown() {
    common_teardown
}

# run_curls N URL: N curl transfers (no shim), one connection each (nginx
# runs with keepalive off), sizes summed into REQ_BYTES / RESP_BYTES.
run_curls() {
    curl_n "$1" "$2"
    curl "${CURL_ARGS[@]}" >"$BATS_TEST_TMPDIR/sizes" || fail "curl failed"
    curl_sizes "$BATS_TEST_TMPDIR/sizes"
    assert_equal "$NREQ" "$1"
}

@test "nginx, master + 2 workers under the shim: N requests give exactly N server connections on one endpoint" {
    port=$(free_port)
    eport=$(free_port)
    shim_env "$eport"
    start_nginx "$port" "${SHIM_ENV[@]}"
    wait_exporter "$eport"
    wait_metric "$eport" promshim_processes '' 3

    run_curls 20 "http://127.0.0.1:$port/index.html"
    wait_metric "$eport" promshim_connections_total 'role="server"' 20
    wait_metric "$eport" promshim_connections_active 'role="server"' 0
    text=$(scrape "$eport")
    assert_metric "$text" promshim_connections_total 'role="server"' 20
    assert_metric "$text" promshim_connections_total 'role="client"' 0
    assert_metric "$text" promshim_network_io_bytes_total 'direction="receive",role="server"' "$REQ_BYTES"
    assert_metric "$text" promshim_network_io_bytes_total 'direction="transmit",role="server"' "$RESP_BYTES"
    assert_metric "$text" promshim_processes '' 3

    # More traffic: the totals keep adding up across both workers.
    run_curls 7 "http://127.0.0.1:$port/index.html"
    wait_metric "$eport" promshim_connections_total 'role="server"' 27
}

@test "nginx with sendfile on: bytes sent through sendfile are counted exactly" {
    port=$(free_port)
    eport=$(free_port)
    shim_env "$eport"
    NGINX_SENDFILE=on start_nginx "$port" "${SHIM_ENV[@]}"
    wait_exporter "$eport"
    run_curls 5 "http://127.0.0.1:$port/big.bin"
    assert_equal "$((RESP_BYTES > 500000))" 1
    wait_metric "$eport" promshim_connections_total 'role="server"' 5
    wait_metric "$eport" promshim_network_io_bytes_total 'direction="transmit",role="server"' "$RESP_BYTES"
    text=$(scrape "$eport")
    assert_metric "$text" promshim_network_io_bytes_total 'direction="receive",role="server"' "$REQ_BYTES"
}

@test "fork_client, 4 children x 10 connections: 40 on the parent's endpoint" {
    port=$(free_port)
    eport=$(free_port)
    start_echo "$port"
    shim_env "$eport"
    start_bg fork "${SHIM_ENV[@]}" "$PROGS/fork_client" 127.0.0.1 "$port" 4 10 60
    wait_until 15 file_has "$BATS_TEST_TMPDIR/fork.out" '^children='
    expected="children=4 per_child=10 connections=40 failed_children=0 sent=2560"
    [[ "$(cat "$BATS_TEST_TMPDIR/fork.out")" == "$expected" ]] ||
        fail "fork_client: expected '$expected'$(printf '\n'; dump_logs)"
    wait_exporter "$eport"
    wait_metric "$eport" promshim_processes '' 1
    text=$(scrape "$eport")
    assert_metric "$text" promshim_connections_total 'role="client"' 40
    assert_metric "$text" promshim_network_io_bytes_total 'direction="transmit",role="client"' 2560
    assert_metric "$text" promshim_network_io_bytes_total 'direction="receive",role="client"' 40000
    assert_metric_exact "$text" promshim_connect_duration_seconds_count \
        "server_address=\"127.0.0.1\",server_port=\"$port\",outcome=\"success\"" 40
    assert_metric "$text" promshim_connections_active 'role="client"' 0
}

@test "fork_client with a textfile: the file holds the whole tree's 40 connections" {
    port=$(free_port)
    start_echo "$port"
    tf="$BATS_TEST_TMPDIR/fork.prom"
    tf_env "$tf"
    run "${TF_ENV[@]}" "$PROGS/fork_client" 127.0.0.1 "$port" 4 10
    # (run merges stderr: a child's crash shows up in $output.)
    assert_output "children=4 per_child=10 connections=40 failed_children=0 sent=2560"
    assert_success
    text=$(read_textfile "$tf")
    assert_metric "$text" promshim_connections_total 'role="client"' 40
    assert_metric "$text" promshim_network_io_bytes_total 'direction="transmit",role="client"' 2560
    assert_metric "$text" promshim_network_io_bytes_total 'direction="receive",role="client"' 40000
    assert_metric_exact "$text" promshim_connect_duration_seconds_count \
        "server_address=\"127.0.0.1\",server_port=\"$port\",outcome=\"success\"" 40
    # each child names the call site for itself (a parent's queue is not copied)
    assert_metric "$text" promshim_connection_origins_total "server_port=\"$port\",module=\"fork_client\"" 40
    # Written by rename: no temp file left beside it.
    run find "$BATS_TEST_TMPDIR" -maxdepth 1 -name 'fork.prom?*'
    assert_output ""
}

@test "textfile: written by the last process of the tree, with the whole tree's totals" {
    port=$(free_port)
    start_echo "$port"
    tf="$BATS_TEST_TMPDIR/tree.prom"
    gate="$BATS_TEST_TMPDIR/gate"
    tf_env "$tf"
    capture "$BATS_TEST_TMPDIR/tree" "${TF_ENV[@]}" "$PROGS/tree_client" 127.0.0.1 "$port" 3 4 "$gate"
    assert_equal "$(cat "$BATS_TEST_TMPDIR/tree.rc")" 0
    child=$(sed -n 's/^child \([0-9]*\)$/\1/p' "$BATS_TEST_TMPDIR/tree.out")
    [[ -n "$child" ]] || fail "no child pid: $(cat "$BATS_TEST_TMPDIR/tree.out" "$BATS_TEST_TMPDIR/tree.err")"
    track_pid "$child"
    assert_alive "$child" "the tree's child"
    # The parent has exited, but the tree lives on in the child: no file yet.
    never_within 1 test -e "$tf"
    touch "$gate"
    wait_until 10 pid_gone "$child"
    text=$(read_textfile "$tf")
    assert_metric "$text" promshim_connections_total 'role="client"' 7
    assert_metric "$text" promshim_network_io_bytes_total 'direction="transmit",role="client"' 448
    assert_metric "$text" promshim_network_io_bytes_total 'direction="receive",role="client"' 7000
}

@test "daemon: the parent exits after fork, the child keeps serving /metrics and counting" {
    port=$(free_port)
    eport=$(free_port)
    pidfile="$BATS_TEST_TMPDIR/daemon.pid"
    shim_env "$eport"
    register_log "$BATS_TEST_TMPDIR/daemon.err"
    capture "$BATS_TEST_TMPDIR/daemon" "${SHIM_ENV[@]}" "$PROGS/daemon_server" "$port" "$pidfile"
    assert_equal "$(cat "$BATS_TEST_TMPDIR/daemon.rc")" 0
    child=$(cat "$pidfile")
    track_pid "$child"
    assert_alive "$child" "the daemon child"
    wait_exporter "$eport"
    wait_metric "$eport" promshim_processes '' 1
    run "$PROGS/conn_client" 127.0.0.1 "$port" 5
    assert_success
    assert_output "connections=5 ok=5 errors=0 sent=320 received=5000 last_errno=-"
    wait_metric "$eport" promshim_connections_total 'role="server"' 5
    text=$(scrape "$eport")
    assert_metric "$text" promshim_network_io_bytes_total 'direction="receive",role="server"' 320
    assert_metric "$text" promshim_network_io_bytes_total 'direction="transmit",role="server"' 5000
    # Still the daemon answering, and still alive after the scrapes.
    healthz "$eport"
    assert_alive "$child" "the daemon child"
}

@test "connections_active: a child's connections leave the gauge when it is SIGKILLed" {
    port=$(free_port)
    eport=$(free_port)
    start_echo "$port"
    shim_env "$eport"
    start_bg hold "${SHIM_ENV[@]}" "$PROGS/hold_client" 127.0.0.1 "$port" 2 3
    wait_until 10 file_has "$BATS_TEST_TMPDIR/hold.out" '^ready$'
    child=$(sed -n 's/^child \([0-9]*\)$/\1/p' "$BATS_TEST_TMPDIR/hold.out")
    [[ -n "$child" ]] || fail "no child pid"
    wait_exporter "$eport"
    wait_metric "$eport" promshim_connections_active 'role="client"' 5
    text=$(scrape "$eport")
    assert_alive "$child" "hold_client's child"
    assert_metric "$text" promshim_connections_total 'role="client"' 5
    assert_metric "$text" promshim_processes '' 2

    kill -KILL "$child"
    wait_until 10 file_has "$BATS_TEST_TMPDIR/hold.out" '^child_gone signal=9$'
    wait_metric "$eport" promshim_connections_active 'role="client"' 2
    wait_metric "$eport" promshim_processes '' 1
    text=$(scrape "$eport")
    assert_metric "$text" promshim_connections_total 'role="client"' 5
}

@test "a tree whose processes first use sockets after the fork still has one endpoint" {
    port=$(free_port)
    eport=$(free_port 2)
    start_echo "$port"
    shim_env "$eport"
    start_bg hold "${SHIM_ENV[@]}" "$PROGS/hold_client" 127.0.0.1 "$port" 2 3 late
    wait_until 10 file_has "$BATS_TEST_TMPDIR/hold.out" '^ready$'
    wait_exporter "$eport"
    wait_metric "$eport" promshim_connections_active 'role="client"' 5
    text=$(scrape "$eport")
    assert_metric "$text" promshim_processes '' 2
    # No second endpoint on the next port, and no "port taken" message.
    if port_listening "$((eport + 1))"; then
        fail "a second endpoint listens on $((eport + 1)): $(ss -Hltnp "sport = :$((eport + 1))")
stderr: $(cat "$BATS_TEST_TMPDIR/hold.err")"
    fi
    assert_equal "$(cat "$BATS_TEST_TMPDIR/hold.err")" ""

    # The tree's endpoint outlives the child, and the child's gauge leaves.
    child=$(sed -n 's/^child \([0-9]*\)$/\1/p' "$BATS_TEST_TMPDIR/hold.out")
    kill -KILL "$child"
    wait_until 10 file_has "$BATS_TEST_TMPDIR/hold.out" '^child_gone signal=9$'
    wait_metric "$eport" promshim_processes '' 1
    wait_metric "$eport" promshim_connections_active 'role="client"' 2
}
