#!/usr/bin/env bats
# The foundation: connection and byte counting under the shim, errno and
# behaviour transparency, the exporter endpoint, settings, and what the
# library exports. Each test starts its own servers on free loopback ports.

load 'helpers/common'

setup() {
    common_setup
}

teardown() {
    common_teardown
}

# ------------------------------------------------------------ counting ----

@test "curl: N requests on separate connections count N client connections and exact bytes" {
    port=$(free_port)
    start_nginx "$port"
    tf="$BATS_TEST_TMPDIR/curl.prom"
    tf_env "$tf"
    curl_n 5 "http://127.0.0.1:$port/index.html"
    run "${TF_ENV[@]}" curl "${CURL_ARGS[@]}"
    assert_success
    printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/sizes"
    curl_sizes "$BATS_TEST_TMPDIR/sizes"
    assert_equal "$NREQ" 5

    text=$(read_textfile "$tf")
    assert_metric "$text" promshim_connections_total 'role="client"' 5
    assert_metric "$text" promshim_connections_total 'role="server"' 0
    assert_metric "$text" promshim_network_io_bytes_total 'direction="transmit",role="client"' "$REQ_BYTES"
    assert_metric "$text" promshim_network_io_bytes_total 'direction="receive",role="client"' "$RESP_BYTES"
    assert_metric_exact "$text" promshim_connect_duration_seconds_count \
        "server_address=\"127.0.0.1\",server_port=\"$port\",outcome=\"success\"" 5
    assert_metric "$text" promshim_connect_errors_total '' 0
    assert_metric "$text" promshim_connections_active 'role="client"' 0
}

@test "conn_client: blocking connects count exactly, bytes equal what it sent and received" {
    port=$(free_port)
    start_echo "$port"
    tf="$BATS_TEST_TMPDIR/conn.prom"
    tf_env "$tf"
    run "${TF_ENV[@]}" "$PROGS/conn_client" 127.0.0.1 "$port" 7
    assert_success
    assert_output "connections=7 ok=7 errors=0 sent=448 received=7000 last_errno=-"

    text=$(read_textfile "$tf")
    assert_metric "$text" promshim_connections_total 'role="client"' 7
    assert_metric "$text" promshim_network_io_bytes_total 'direction="transmit",role="client"' 448
    assert_metric "$text" promshim_network_io_bytes_total 'direction="receive",role="client"' 7000
    assert_metric "$text" promshim_network_io_bytes_total 'role="server"' 0
    assert_metric_exact "$text" promshim_connect_duration_seconds_count \
        "server_address=\"127.0.0.1\",server_port=\"$port\",outcome=\"success\"" 7
    assert_metric_exact "$text" promshim_connect_duration_seconds_bucket \
        "server_address=\"127.0.0.1\",server_port=\"$port\",outcome=\"success\",le=\"+Inf\"" 7
}

@test "conn_client over IPv6: server_address is ::1" {
    ip -6 addr show dev lo 2>/dev/null | grep -q 'inet6 ::1/128' || skip "no ::1 on lo"
    port=$(free_port)
    ECHO_HOST=::1 start_echo "$port"
    tf="$BATS_TEST_TMPDIR/v6.prom"
    tf_env "$tf"
    run "${TF_ENV[@]}" "$PROGS/conn_client" ::1 "$port" 2
    assert_success
    assert_output "connections=2 ok=2 errors=0 sent=128 received=2000 last_errno=-"
    text=$(read_textfile "$tf")
    assert_metric "$text" promshim_connections_total 'role="client"' 2
    assert_metric "$text" promshim_network_io_bytes_total 'direction="transmit",role="client"' 128
    assert_metric "$text" promshim_network_io_bytes_total 'direction="receive",role="client"' 2000
    assert_metric_exact "$text" promshim_connect_duration_seconds_count \
        "server_address=\"::1\",server_port=\"$port\",outcome=\"success\"" 2
}

@test "server side: an echo server under the shim counts accepted connections and bytes exactly" {
    port=$(free_port)
    eport=$(free_port)
    shim_env "$eport"
    start_echo "$port" "${SHIM_ENV[@]}"
    wait_exporter "$eport"
    run "$PROGS/conn_client" 127.0.0.1 "$port" 6
    assert_success
    wait_metric "$eport" promshim_connections_total 'role="server"' 6
    text=$(scrape "$eport")
    assert_metric "$text" promshim_connections_total 'role="server"' 6
    assert_metric "$text" promshim_connections_total 'role="client"' 0
    assert_metric "$text" promshim_network_io_bytes_total 'direction="receive",role="server"' 384
    assert_metric "$text" promshim_network_io_bytes_total 'direction="transmit",role="server"' 6000
    wait_metric "$eport" promshim_connections_active 'role="server"' 0
}

@test "curl (non-blocking connect) to a closed port 3 times: 3 ECONNREFUSED" {
    port=$(free_port)
    tf="$BATS_TEST_TMPDIR/refused.prom"
    tf_env "$tf"
    curl_n 3 "http://127.0.0.1:$port/"
    run "${TF_ENV[@]}" curl "${CURL_ARGS[@]}"
    assert_equal "$status" 7
    text=$(read_textfile "$tf")
    assert_metric_exact "$text" promshim_connect_errors_total \
        "server_address=\"127.0.0.1\",server_port=\"$port\",error_type=\"ECONNREFUSED\"" 3
    assert_metric "$text" promshim_connect_errors_total '' 3
    assert_metric_exact "$text" promshim_connect_duration_seconds_count \
        "server_address=\"127.0.0.1\",server_port=\"$port\",outcome=\"error\"" 3
    assert_metric "$text" promshim_connect_duration_seconds_count 'outcome="success"' 0
    assert_metric "$text" promshim_connections_total 'role="client"' 0
}

@test "conn_client (blocking connect) to a closed port 3 times: 3 ECONNREFUSED" {
    port=$(free_port)
    tf="$BATS_TEST_TMPDIR/refused.prom"
    tf_env "$tf"
    run "${TF_ENV[@]}" "$PROGS/conn_client" 127.0.0.1 "$port" 3
    assert_failure 1
    assert_output "connections=3 ok=0 errors=3 sent=0 received=0 last_errno=ECONNREFUSED"
    text=$(read_textfile "$tf")
    assert_metric_exact "$text" promshim_connect_errors_total \
        "server_address=\"127.0.0.1\",server_port=\"$port\",error_type=\"ECONNREFUSED\"" 3
    assert_metric "$text" promshim_connect_errors_total '' 3
    assert_metric_exact "$text" promshim_connect_duration_seconds_count \
        "server_address=\"127.0.0.1\",server_port=\"$port\",outcome=\"error\"" 3
    assert_metric "$text" promshim_connections_total 'role="client"' 0
    assert_metric "$text" promshim_network_io_bytes_total '' 0
}

@test "mt_client: 8 threads x 500 connections count exactly 4000" {
    port=$(free_port)
    start_echo "$port"
    tf="$BATS_TEST_TMPDIR/mt.prom"
    tf_env "$tf"
    run "${TF_ENV[@]}" "$PROGS/mt_client" 127.0.0.1 "$port" 8 500
    assert_success
    assert_output "connections=4000 ok=4000 errors=0"
    text=$(read_textfile "$tf")
    assert_metric "$text" promshim_connections_total 'role="client"' 4000
    assert_metric_exact "$text" promshim_connect_duration_seconds_count \
        "server_address=\"127.0.0.1\",server_port=\"$port\",outcome=\"success\"" 4000
    assert_metric "$text" promshim_connect_errors_total '' 0
    assert_metric "$text" promshim_connections_active '' 0
    assert_metric "$text" promshim_events_dropped_total '' 0
    # the eight threads' first connects all come before the call site has a
    # name: they wait for promshim's thread (or the exit) and still count
    assert_metric_exact "$text" promshim_connection_origins_total \
        "server_address=\"127.0.0.1\",server_port=\"$port\",module=\"mt_client\",function=\"unknown\"" 4000
}

@test "python3 client (socket): N connections and exact bytes" {
    port=$(free_port)
    start_echo "$port"
    tf="$BATS_TEST_TMPDIR/py.prom"
    tf_env "$tf"
    run "${TF_ENV[@]}" "$PY" "$PYPROGS/py_client.py" 127.0.0.1 "$port" 5
    assert_success
    assert_output "connections=5 sent=320 received=5000"
    text=$(read_textfile "$tf")
    assert_metric "$text" promshim_connections_total 'role="client"' 5
    assert_metric "$text" promshim_network_io_bytes_total 'direction="transmit",role="client"' 320
    assert_metric "$text" promshim_network_io_bytes_total 'direction="receive",role="client"' 5000
}

@test "python3 client (urllib) against python http.server: one connection per request" {
    port=$(free_port)
    mkdir -p "$BATS_TEST_TMPDIR/www"
    printf 'hello from http.server\n' >"$BATS_TEST_TMPDIR/www/index.html"
    start_http_server "$port" "$BATS_TEST_TMPDIR/www"
    tf="$BATS_TEST_TMPDIR/urllib.prom"
    tf_env "$tf"
    run "${TF_ENV[@]}" "$PY" "$PYPROGS/py_client.py" 127.0.0.1 "$port" 4 --http /index.html
    assert_success
    assert_output "requests=4 bytes=92"
    text=$(read_textfile "$tf")
    assert_metric "$text" promshim_connections_total 'role="client"' 4
    assert_metric "$text" promshim_connections_total 'role="server"' 0
    assert_metric_exact "$text" promshim_connect_duration_seconds_count \
        "server_address=\"127.0.0.1\",server_port=\"$port\",outcome=\"success\"" 4
}

# -------------------------------------------------------- transparency ----

@test "host stdout, stderr and exit status are identical with and without the shim" {
    port=$(free_port)
    eport=$(free_port)
    start_nginx "$port"
    shim_env "$eport"
    d=$BATS_TEST_TMPDIR
    i=0
    check() {
        i=$((i + 1))
        capture "$d/plain$i" "$@"
        capture "$d/shim$i" "${SHIM_ENV[@]}" "$@"
        assert_same_capture "$d/plain$i" "$d/shim$i"
    }
    check ls /
    check sh -c 'echo to-out; echo to-err >&2; exit 3'
    check sh -c 'seq 1 2000 | sort -r | head -3; cat /etc/hostname'
    check "$PY" -c 'import sys; print("py out"); print("py err", file=sys.stderr); sys.exit(4)'
    check curl -sS "http://127.0.0.1:$port/index.html"
    check curl -sS -o /dev/null -w '%{http_code} %{size_download}\n' "http://127.0.0.1:$port/nope"
    assert_equal "$(cat "$d/plain1.rc") $(cat "$d/plain2.rc") $(cat "$d/plain4.rc")" "0 3 4"
    assert_equal "$(cat "$d/shim5.out")" "hello from nginx"
}

@test "errno_probe: identical output with and without the shim" {
    eport=$(free_port)
    d=$BATS_TEST_TMPDIR
    capture "$d/plain" "$PROGS/errno_probe"
    assert_equal "$(cat "$d/plain.rc")" 0
    # Spot-check that the probe sees what it should, so "identical" means something.
    run cat "$d/plain.out"
    assert_line --regexp '^recv on pipe +ret=-1 errno=ENOTSOCK$'
    assert_line --regexp '^recv on closed fd +ret=-1 errno=EBADF$'
    assert_line --regexp '^blocking connect closed port +ret=-1 errno=ECONNREFUSED$'
    assert_line --regexp '^nonblocking connect listener +ret=-1 errno=EINPROGRESS$'
    assert_line --regexp '^read nonblocking no data +ret=-1 errno=EAGAIN$'
    assert_line --regexp '^send after shutdown +ret=-1 errno=EPIPE$'
    assert_line --regexp '^write on closed fd +ret=-1 errno=EBADF$'
    assert_line --regexp '^send 5 bytes +ok=1 errno_after=EDOM$'

    tf_env "$d/probe.prom"
    capture "$d/tf" "${TF_ENV[@]}" "$PROGS/errno_probe"
    assert_same_capture "$d/plain" "$d/tf"
    shim_env "$eport"
    capture "$d/exp" "${SHIM_ENV[@]}" "$PROGS/errno_probe"
    assert_same_capture "$d/plain" "$d/exp"
}

# ------------------------------------------------------------ exporter ----

@test "the exporter's own scrapes are not counted" {
    port=$(free_port)
    eport=$(free_port)
    shim_env "$eport"
    start_echo "$port" "${SHIM_ENV[@]}"
    wait_exporter "$eport"
    for _ in 1 2 3; do
        text=$(scrape "$eport")
        assert_metric "$text" promshim_connections_total '' 0
        assert_metric "$text" promshim_connections_active '' 0
        assert_metric "$text" promshim_network_io_bytes_total '' 0
        assert_metric "$text" promshim_connect_duration_seconds_count '' 0
    done
    run "$PROGS/conn_client" 127.0.0.1 "$port" 2
    assert_success
    wait_metric "$eport" promshim_connections_total 'role="server"' 2
    for _ in 1 2 3; do
        text=$(scrape "$eport")
        curl -sf "http://127.0.0.1:$eport/healthz" >/dev/null
        assert_metric "$text" promshim_connections_total '' 2
        assert_metric "$text" promshim_network_io_bytes_total 'direction="receive"' 128
        assert_metric "$text" promshim_network_io_bytes_total 'direction="transmit"' 2000
    done
}

@test "promtool check metrics passes on scrapes of a server and a client" {
    command -v promtool >/dev/null || skip "promtool not installed"
    port=$(free_port)
    eserver=$(free_port)
    eclient=$(free_port)
    shim_env "$eserver"
    start_echo "$port" "${SHIM_ENV[@]}"
    wait_exporter "$eserver"
    shim_env "$eclient"
    start_bg client "${SHIM_ENV[@]}" "$PROGS/conn_client" 127.0.0.1 "$port" 3 60
    wait_until 10 file_has "$BATS_TEST_TMPDIR/client.out" '^connections=3 ok=3'
    wait_exporter "$eclient"
    wait_metric "$eserver" promshim_connections_total 'role="server"' 3
    scrape "$eserver" >"$BATS_TEST_TMPDIR/server.txt"
    scrape "$eclient" >"$BATS_TEST_TMPDIR/client.txt"
    run promtool check metrics <"$BATS_TEST_TMPDIR/server.txt"
    assert_success
    assert_output ""
    run promtool check metrics <"$BATS_TEST_TMPDIR/client.txt"
    assert_success
    assert_output ""
    text=$(cat "$BATS_TEST_TMPDIR/client.txt")
    assert_metric_exact "$text" promshim_info 'version="0.1.0"' 1
    assert_metric "$text" promshim_processes '' 1
}

@test "/healthz answers 200 ok" {
    eport=$(free_port)
    port=$(free_port)
    shim_env "$eport"
    start_echo "$port" "${SHIM_ENV[@]}"
    wait_exporter "$eport"
    run curl -s -o "$BATS_TEST_TMPDIR/body" -w '%{http_code}' "http://127.0.0.1:$eport/healthz"
    assert_success
    assert_output 200
    assert_equal "$(tr -d '\r\n' <"$BATS_TEST_TMPDIR/body")" ok
}

@test "/metrics has Content-Type text/plain; version=0.0.4; charset=utf-8" {
    eport=$(free_port)
    port=$(free_port)
    shim_env "$eport"
    start_echo "$port" "${SHIM_ENV[@]}"
    wait_exporter "$eport"
    run curl -sf -D - -o /dev/null "http://127.0.0.1:$eport/metrics"
    assert_success
    ct=$(printf '%s\n' "$output" | tr -d '\r' | grep -i '^content-type:' | sed 's/^[^:]*: *//')
    assert_equal "$ct" "text/plain; version=0.0.4; charset=utf-8"
    run curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$eport/metrics"
    assert_output 200
}

# ------------------------------------------------------------ settings ----

@test "PROMSHIM_EXPORTER_PORT=abc: one clear stderr line, the program runs unchanged" {
    d=$BATS_TEST_TMPDIR
    capture "$d/bad" env LD_PRELOAD="$SHIM" PROMSHIM_EXPORTER_PORT=abc sh -c 'echo hello; exit 5'
    assert_equal "$(cat "$d/bad.out")" hello
    assert_equal "$(cat "$d/bad.rc")" 5
    run cat "$d/bad.err"
    assert_equal "${#lines[@]}" 1
    assert_line --index 0 --regexp '^promshim: '
    assert_line --index 0 --partial PROMSHIM_EXPORTER_PORT
    assert_line --index 0 --partial abc
    assert_line --index 0 --partial 9100
}

@test "PROMSHIM_EXPORTER_PORT=abc: the exporter uses the default port 9100" {
    for p in 9100 9101; do
        if port_listening "$p"; then skip "port $p is in use on this machine"; fi
    done
    port=$(free_port)
    start_echo "$port" env LD_PRELOAD="$SHIM" PROMSHIM_EXPORTER_PORT=abc PROMSHIM_EXPORTER_PORT_RANGE=1
    wait_exporter 9100
    text=$(scrape 9100)
    assert_metric "$text" promshim_processes '' 1
    run grep -c '^promshim: .*PROMSHIM_EXPORTER_PORT' "$BATS_TEST_TMPDIR/echo-$port.err"
    assert_output 1
}

@test "an unknown PROMSHIM_EXPORTR_PORT variable warns once on stderr" {
    d=$BATS_TEST_TMPDIR
    capture "$d/typo" env LD_PRELOAD="$SHIM" PROMSHIM_EXPORTR_PORT=9999 sh -c 'echo hello'
    assert_equal "$(cat "$d/typo.out")" hello
    assert_equal "$(cat "$d/typo.rc")" 0
    run cat "$d/typo.err"
    assert_equal "${#lines[@]}" 1
    assert_line --index 0 --regexp '^promshim: '
    assert_line --index 0 --partial PROMSHIM_EXPORTR_PORT
}

@test "PROMSHIM_EXPORTER_ENABLED=false: no exporter, the textfile is still written" {
    port=$(free_port)
    eport=$(free_port)
    start_echo "$port"
    tf="$BATS_TEST_TMPDIR/off.prom"
    start_bg client env LD_PRELOAD="$SHIM" PROMSHIM_EXPORTER_ENABLED=false \
        PROMSHIM_EXPORTER_PORT="$eport" PROMSHIM_TEXTFILE_PATH="$tf" \
        "$PROGS/conn_client" 127.0.0.1 "$port" 2 2
    pid=$BG_PID
    wait_until 10 file_has "$BATS_TEST_TMPDIR/client.out" '^connections=2 ok=2'
    never_within 1 port_listening "$eport"
    # conn_client lingers 2 s, then exits normally (and the textfile is written).
    wait_until 10 pid_gone "$pid"
    text=$(read_textfile "$tf")
    assert_metric "$text" promshim_connections_total 'role="client"' 2
    assert_equal "$(cat "$BATS_TEST_TMPDIR/client.err")" ""
}

@test "_exit and _Exit skip atexit, yet the textfile is written and the exit status kept" {
    port=$(free_port)
    start_echo "$port"
    local how tf
    for how in "os._exit(7)" "ctypes.CDLL(None)._Exit(7)"; do
        tf="$BATS_TEST_TMPDIR/exit-${how%%(*}.prom"
        run env LD_PRELOAD="$SHIM" PROMSHIM_EXPORTER_ENABLED=false PROMSHIM_TEXTFILE_PATH="$tf" "$PY" -c "
import ctypes, os, socket
for _ in range(3):
    s = socket.create_connection(('127.0.0.1', $port)); s.sendall(b'x' * 64); s.recv(1); s.close()
print('done', flush=True)
$how"
        assert_equal "$status" 7
        assert_output done
        text=$(read_textfile "$tf")
        assert_metric "$text" promshim_connections_total 'role="client"' 3
    done
}

@test "PROMSHIM_BIND_ADDRESS=127.0.0.1: the exporter listens on loopback only" {
    port=$(free_port)
    eport=$(free_port)
    shim_env "$eport" PROMSHIM_BIND_ADDRESS=127.0.0.1
    start_echo "$port" "${SHIM_ENV[@]}"
    wait_exporter "$eport"
    run ss -Hltn "sport = :$eport"
    assert_success
    assert_equal "$(printf '%s\n' "$output" | awk '{ print $4 }')" "127.0.0.1:$eport"
}

@test "PROMSHIM_ENABLED=0: no exporter, no textfile, identical behaviour" {
    port=$(free_port)
    eport=$(free_port)
    d=$BATS_TEST_TMPDIR
    start_echo "$port" env LD_PRELOAD="$SHIM" PROMSHIM_ENABLED=0 PROMSHIM_EXPORTER_PORT="$eport"
    run "$PROGS/conn_client" 127.0.0.1 "$port" 3
    assert_success
    never_within 1 port_listening "$eport"
    run healthz "$eport"
    assert_failure
    assert_equal "$(cat "$d/echo-$port.err")" ""

    off=(env LD_PRELOAD="$SHIM" PROMSHIM_ENABLED=0 PROMSHIM_EXPORTER_PORT="$eport"
        PROMSHIM_TEXTFILE_PATH="$d/off.prom")
    capture "$d/plain" "$PROGS/errno_probe"
    capture "$d/off" "${off[@]}" "$PROGS/errno_probe"
    assert_same_capture "$d/plain" "$d/off"
    capture "$d/cplain" "$PROGS/conn_client" 127.0.0.1 "$port" 2
    capture "$d/coff" "${off[@]}" "$PROGS/conn_client" 127.0.0.1 "$port" 2
    assert_same_capture "$d/cplain" "$d/coff"
    [[ ! -e "$d/off.prom" ]] || fail "PROMSHIM_ENABLED=0 wrote a textfile"
    run port_listening "$eport"
    assert_failure
}

@test "exporter port taken: the next port of the range is used, and stderr says so once" {
    eport=$(free_port 3)
    next=$((eport + 1))
    start_bg blocker "$PY" -c '
import socket, sys, time
s = socket.socket()
s.bind(("0.0.0.0", int(sys.argv[1])))
s.listen()
print("ready", flush=True)
time.sleep(600)
' "$eport"
    wait_until 10 file_has "$BATS_TEST_TMPDIR/blocker.out" '^ready'
    port=$(free_port)
    shim_env "$eport"
    start_echo "$port" "${SHIM_ENV[@]}"
    wait_exporter "$next"
    text=$(scrape "$next")
    assert_metric "$text" promshim_processes '' 1
    run grep -c "^promshim: .*$next" "$BATS_TEST_TMPDIR/echo-$port.err"
    assert_output 1
    run healthz "$eport"
    assert_failure
}

@test "a program that never opens a socket starts no exporter" {
    eport=$(free_port)
    shim_env "$eport"
    start_bg sleeper "${SHIM_ENV[@]}" sleep 30
    pid=$BG_PID
    wait_until 10 grep -qx sleep "/proc/$pid/comm"
    never_within 1 port_listening "$eport"
    tasks=("/proc/$pid/task"/*)
    assert_equal "${#tasks[@]}" 1
    assert_equal "$(cat "$BATS_TEST_TMPDIR/sleeper.err")" ""
    pid_alive "$pid"
}

@test "the promshim wrapper: build/promshim -p PORT -- CMD serves /metrics" {
    [[ -x "$WRAPPER" ]] || fail "missing $WRAPPER"
    port=$(free_port)
    eport=$(free_port)
    start_bg wrapped "$WRAPPER" -p "$eport" -- "$PY" "$PYPROGS/echo_server.py" "$port"
    wait_until 10 file_has "$BATS_TEST_TMPDIR/wrapped.out" '^listening'
    wait_exporter "$eport"
    run "$PROGS/conn_client" 127.0.0.1 "$port" 2
    assert_success
    wait_metric "$eport" promshim_connections_total 'role="server"' 2
}

# ------------------------------------------------------------ the .so ----

@test "libpromshim.so exports only the hooks and promshim_* symbols" {
    declare -A allowed
    for n in socket socketpair connect accept accept4 close close_range shutdown dup dup2 dup3 \
        fcntl fcntl64 getsockopt read write readv writev send recv sendto recvfrom sendmsg \
        recvmsg sendmmsg recvmmsg sendfile sendfile64 __read_chk __recv_chk __recvfrom_chk fork _exit _Exit \
        SSL_read SSL_write SSL_read_ex SSL_write_ex SSL_sendfile SSL_free gnutls_record_recv gnutls_record_send; do
        allowed[$n]=1
    done
    run nm -D --defined-only "$SHIM"
    assert_success
    bad=()
    while read -r _ type name; do
        name=${name%%@*}
        [[ -n "$name" ]] || continue
        # Version-node names (absolute symbols) are not code.
        [[ "$type" == A ]] && continue
        [[ "$name" == promshim_* ]] && continue
        [[ -n "${allowed[$name]:-}" ]] && continue
        bad+=("$name")
    done <<<"$output"
    if ((${#bad[@]})); then
        fail "unexpected exported symbols: ${bad[*]}"
    fi
}

@test "libpromshim.so needs only libc at load time" {
    run readelf -d "$SHIM"
    assert_success
    needed=$(printf '%s\n' "$output" | awk '/\(NEEDED\)/ { gsub(/[][]/, "", $NF); print $NF }')
    assert_equal "$needed" "libc.so.6"
}
