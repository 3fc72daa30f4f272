#!/usr/bin/env bats
# The metric scheduler, built-in probes, custom metrics from the program
# itself (weak symbols: the same binary runs without the shim) and plugins.

load 'helpers/common'
bats_require_minimum_version 1.5.0

setup() { common_setup; }
teardown() { common_teardown; }

@test "custom metrics: a program's counter, gauge and histogram appear with their labels" {
    port=$(free_port)
    shim_env "$port"
    start_bg cm "${SHIM_ENV[@]}" "$PROGS/custom_metrics" 20
    wait_until 10 file_has "$BATS_TEST_TMPDIR/cm.out" '^promshim: present$'
    wait_exporter "$port"
    text=$(scrape "$port")
    assert_metric_exact "$text" shop_orders_total 'kind="book"' 3
    assert_metric_exact "$text" shop_orders_total 'kind="pen \"blue\""' 0.5
    assert_metric_exact "$text" shop_latency_seconds_bucket 'le="0.5"' 1
    assert_metric_exact "$text" shop_latency_seconds_count '' 2
    assert_metric_exact "$text" shop_latency_seconds_sum '' 2.25
    assert_promtool_ok "$text"
    # the refused definition was said once
    run grep -c 'custom metric "bad name!" refused' "$BATS_TEST_TMPDIR/cm.err"
    assert_output 1
}

@test "the scheduler at 1 s: a probe's gauge moves, and the probe is timed" {
    port=$(free_port)
    shim_env "$port"
    start_bg cm "${SHIM_ENV[@]}" "$PROGS/custom_metrics" 20
    wait_exporter "$port"
    wait_metric "$port" shop_queue_depth '' 3 8
    text=$(scrape "$port")
    run metric_value "$text" promshim_probe_duration_seconds 'probe="queue"'
    assert_success
}

@test "the same binary without the shim runs as usual" {
    run "$PROGS/custom_metrics" 0
    assert_success
    assert_output 'promshim: absent'
}

@test "a plugin's probe appears (PROMSHIM_PLUGINS, collection_interval_seconds=1)" {
    port=$(free_port)
    shim_env "$port" PROMSHIM_PLUGINS="$REPO/build/plugins/example_plugin.so" \
        PROMSHIM_METRICS_COLLECTION_INTERVAL_SECONDS=1
    start_bg srv "${SHIM_ENV[@]}" "$PY" -c 'import socket, time; s = socket.socket(); time.sleep(30)'
    wait_exporter "$port"
    wait_until 10 bash -c "curl -sf http://127.0.0.1:$port/metrics | grep -q '^example_load1 '"
    text=$(scrape "$port")
    assert_metric "$text" promshim_probe_failures_total 'probe="example_load"' 0
}

@test "a plugin that does not exist, and one without an init: one clear line each, the host runs on" {
    port=$(free_port)
    noinit=/lib/x86_64-linux-gnu/libm.so.6 # a shared object with no promshim_plugin_init
    [[ -f "$noinit" ]] || skip "no $noinit on this machine"
    shim_env "$port" PROMSHIM_PLUGINS="/nonexistent/plugin.so:$noinit"
    start_bg srv "${SHIM_ENV[@]}" "$PY" -c 'import socket, time; s = socket.socket(); print("up", flush=True); time.sleep(30)'
    wait_exporter "$port"
    wait_until 10 file_has "$BATS_TEST_TMPDIR/srv.err" 'libm.so.6 has no promshim_plugin_init'
    run grep -c 'plugin /nonexistent/plugin.so cannot be loaded' "$BATS_TEST_TMPDIR/srv.err"
    assert_output 1
    assert_equal "$(cat "$BATS_TEST_TMPDIR/srv.out")" up
}

@test "tcp and pools probes: RTT, retransmits and busy/idle connections by peer" {
    port=$(free_port)
    eport=$(free_port)
    start_echo "$port"
    shim_env "$eport" PROMSHIM_METRICS_COLLECTION_INTERVAL_SECONDS=1
    start_bg hold "${SHIM_ENV[@]}" "$PROGS/hold_client" 127.0.0.1 "$port" 3 0
    wait_until 10 file_has "$BATS_TEST_TMPDIR/hold.out" '^ready$'
    wait_exporter "$eport"
    wait_metric "$eport" promshim_pool_connections \
        "server_address=\"127.0.0.1\",server_port=\"$port\",protocol=\"unknown\",state=\"idle\"" 3 10
    text=$(scrape "$eport")
    assert_metric "$text" promshim_pool_connections "server_port=\"$port\",state=\"busy\"" 0
    assert_metric "$text" promshim_tcp_retransmits "server_address=\"127.0.0.1\",server_port=\"$port\"" 0
    run metric_value "$text" promshim_tcp_rtt_seconds "server_address=\"127.0.0.1\",server_port=\"$port\""
    assert_success
    [[ "$output" != 0 ]]
}

@test "exit while a probe runs: the exit waits for the run, which ends before the textfile is written" {
    tf="$BATS_TEST_TMPDIR/exit.prom"
    tf_env "$tf"
    run --separate-stderr "${TF_ENV[@]}" "$PROGS/exit_probe" wait 400
    assert_success
    # the probe was inside its run when main called exit; the process ended
    # after the run did, and no run started once the exit had begun
    assert_equal "$output" "$(printf 'probe start\nexit\nprobe end')"
    assert_equal "$stderr" ""
    text=$(read_textfile "$tf")
    assert_metric_exact "$text" exit_probe_done '' 42
}

@test "exit while a probe runs for too long: the exit waits 1 s, says so once, and goes on" {
    tf="$BATS_TEST_TMPDIR/exit.prom"
    tf_env "$tf"
    t0=$(now_ms)
    run --separate-stderr "${TF_ENV[@]}" "$PROGS/exit_probe" wait 20000
    elapsed=$(($(now_ms) - t0))
    assert_success
    assert_equal "$output" "$(printf 'probe start\nexit')"
    ((elapsed >= 1000 && elapsed < 10000)) || fail "exit took $elapsed ms (want about 1000)"
    [[ $(grep -c 'a probe run did not end within 1000 ms of exit' <<<"$stderr") == 1 ]] || fail "stderr: $stderr"
    read_textfile "$tf" >/dev/null
}

@test "a probe that calls exit itself: the exit does not wait for its own run" {
    tf="$BATS_TEST_TMPDIR/exit.prom"
    tf_env "$tf"
    run --separate-stderr "${TF_ENV[@]}" "$PROGS/exit_probe" self 0
    assert_equal "$status" 3
    assert_equal "$output" "probe start"
    assert_equal "$stderr" ""
    read_textfile "$tf" >/dev/null
}

@test "pools probe: an IPv4 connection on the fd number of a closed IPv6 one counts with the peer's others" {
    port=$(free_port)
    eport=$(free_port)
    start_echo "$port"
    shim_env "$eport" PROMSHIM_METRICS_COLLECTION_INTERVAL_SECONDS=1
    # a connection to ::1, closed; then two to 127.0.0.1, the first on the
    # same fd number (its entry once held the 16 bytes of ::1)
    # The exporter's thread starts with the first socket and opens fds of
    # its own: wait for its port first, so the fd numbers below are ours.
    start_bg hold "${SHIM_ENV[@]}" "$PY" -c '
import socket, sys, time
l6 = socket.socket(socket.AF_INET6)
l6.bind(("::1", 0))
l6.listen()
for _ in range(100):
    try:
        socket.create_connection(("127.0.0.1", int(sys.argv[2])), 1).close()
        break
    except OSError:
        time.sleep(0.1)
for _ in range(20):
    s6 = socket.socket(socket.AF_INET6)
    s6.connect(l6.getsockname())
    n6 = s6.fileno()
    s6.close()
    a = socket.socket()
    a.connect(("127.0.0.1", int(sys.argv[1])))
    if a.fileno() == n6:
        break
    a.close()
b = socket.socket()
b.connect(("127.0.0.1", int(sys.argv[1])))
print("ready" if a.fileno() == n6 else "fd not reused", flush=True)
time.sleep(30)' "$port" "$eport"
    wait_until 10 file_has "$BATS_TEST_TMPDIR/hold.out" '^(ready|fd not reused)$'
    [[ $(cat "$BATS_TEST_TMPDIR/hold.out") == ready ]] || skip "the IPv4 socket did not get the IPv6 one's fd number"
    wait_exporter "$eport"
    wait_metric "$eport" promshim_pool_connections \
        "server_address=\"127.0.0.1\",server_port=\"$port\",protocol=\"unknown\",state=\"idle\"" 2 10
    text=$(scrape "$eport")
    assert_equal "$(metric_count "$text" promshim_pool_connections "server_port=\"$port\"")" 2
}
