#!/usr/bin/env bats
# Whole process trees: exec'd programs with their own endpoints found by a
# real Prometheus through file_sd target files, short jobs pushing to a real
# Pushgateway, the port range, stale target files, following children.

load 'helpers/common'
bats_require_minimum_version 1.5.0

setup() { common_setup; }
teardown() { common_teardown; }

# prom_query PORT EXPR: the first value of an instant query (empty when none)
prom_query() {
    curl -sf --max-time 5 --get --data-urlencode "query=$2" "http://127.0.0.1:$1/api/v1/query" |
        "$PY" -c 'import json, sys
d = json.load(sys.stdin)
r = d["data"]["result"]
print(r[0]["value"][1] if r else "")'
}

# query_is PORT EXPR VALUE: the query's value is VALUE now (for wait_until)
query_is() {
    [[ "$(prom_query "$1" "$2")" == "$3" ]]
}

# start_prometheus DISCOVERY_DIR: Debian's prometheus scraping every 1 s the
# targets of the file_sd folder. Sets PROM_PORT.
start_prometheus() {
    PROM_PORT=$(free_port)
    local d="$BATS_TEST_TMPDIR/prom"
    mkdir -p "$d/data"
    cat >"$d/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: promshim
    file_sd_configs:
      - files: ['$1/*.json']
        refresh_interval: 1s
    relabel_configs:
      - source_labels: [job]
        target_label: program_job
EOF
    start_bg prometheus /usr/bin/prometheus --config.file="$d/prometheus.yml" --storage.tsdb.path="$d/data" \
        --web.listen-address="127.0.0.1:$PROM_PORT"
    wait_until 20 curl -sf "http://127.0.0.1:$PROM_PORT/-/ready" >/dev/null || fail "prometheus did not start"
}

@test "a real Prometheus discovers and scrapes nginx, a Python service and a shell script's curls; exact counts" {
    command -v /usr/bin/prometheus >/dev/null || skip "Debian's prometheus is not installed"
    sd="$BATS_TEST_TMPDIR/sd"
    mkdir -p "$sd"
    start_prometheus "$sd"
    base=$(free_port 40)

    # nginx, 2 workers
    nport=$(free_port)
    NGINX_WORKERS=2 start_nginx_http "$nport" LD_PRELOAD="$SHIM" PROMSHIM_EXPORTER_PORT="$base" \
        PROMSHIM_EXPORTER_PORT_RANGE=40 PROMSHIM_DISCOVERY_DIR="$sd" PROMSHIM_JOB=web
    # a Python service
    pport=$(free_port)
    start_bg pysrv env LD_PRELOAD="$SHIM" PROMSHIM_EXPORTER_PORT="$base" PROMSHIM_EXPORTER_PORT_RANGE=40 \
        PROMSHIM_DISCOVERY_DIR="$sd" PROMSHIM_JOB=pyservice "$PY" -m http.server "$pport" --bind 127.0.0.1
    wait_until 10 port_listening "$pport"
    # a shell script that runs curl against nginx in a loop, itself kept alive
    start_bg script env LD_PRELOAD="$SHIM" PROMSHIM_EXPORTER_PORT="$base" PROMSHIM_EXPORTER_PORT_RANGE=40 \
        PROMSHIM_DISCOVERY_DIR="$sd" PROMSHIM_JOB=script PROMSHIM_EXPORTER_START_DELAY_MS=100 \
        bash -c "for i in \$(seq 7); do curl -s -o /dev/null http://127.0.0.1:$nport/; done; echo done; sleep 60"
    wait_until 10 file_has "$BATS_TEST_TMPDIR/script.out" '^done$'
    for i in $(seq 3); do curl -s -o /dev/null "http://127.0.0.1:$pport/"; done

    # every program with an endpoint has its target file, and Prometheus scrapes them all
    wait_until 20 query_is "$PROM_PORT" 'count(up{program_job=~"web|pyservice|script"} == 1)' 3 ||
        fail "targets: $(cat "$sd"/*.json) prometheus: $(curl -s "http://127.0.0.1:$PROM_PORT/api/v1/targets")"
    # the counts Prometheus holds equal what was sent: 7 requests from the script's curls
    q='sum(http_server_request_duration_seconds_count{program_job="web",http_route="/"})'
    wait_until 20 query_is "$PROM_PORT" "$q" 7 || fail "web: $(prom_query "$PROM_PORT" "$q")"
    q='sum(http_server_request_duration_seconds_count{program_job="pyservice"})'
    wait_until 20 query_is "$PROM_PORT" "$q" 3
    # nginx's tree is one target with its 3 processes
    assert_equal "$(prom_query "$PROM_PORT" 'promshim_processes{program_job="web"}')" 3
}

@test "a short job pushes its final metrics to a real Pushgateway at exit" {
    command -v prometheus-pushgateway >/dev/null || skip "Debian's prometheus-pushgateway is not installed"
    gport=$(free_port)
    start_bg gateway prometheus-pushgateway --web.listen-address="127.0.0.1:$gport" \
        --persistence.file="$BATS_TEST_TMPDIR/pg.data"
    wait_until 10 curl -sf "http://127.0.0.1:$gport/-/ready" >/dev/null
    port=$(free_port)
    start_echo "$port"
    run env LD_PRELOAD="$SHIM" PROMSHIM_EXPORTER_ENABLED=0 PROMSHIM_PUSHGATEWAY_URL="http://127.0.0.1:$gport" \
        PROMSHIM_JOB=nightly "$PROGS/conn_client" 127.0.0.1 "$port" 4
    assert_success
    text=$(curl -sf "http://127.0.0.1:$gport/metrics")
    assert_metric "$text" promshim_connections_total 'job="nightly",role="client"' 4
}

@test "a Pushgateway that does not answer delays the exit by the timeout at most" {
    # a listener that never reads: the push connects, then waits for a reply
    gport=$(free_port)
    start_bg sink "$PY" -c "import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('127.0.0.1', $gport)); s.listen(1); print('up', flush=True); time.sleep(60)"
    wait_until 10 file_has "$BATS_TEST_TMPDIR/sink.out" '^up$'
    start=$(date +%s%N)
    run --separate-stderr env LD_PRELOAD="$SHIM" PROMSHIM_EXPORTER_ENABLED=0 \
        PROMSHIM_PUSHGATEWAY_URL="http://127.0.0.1:$gport" PROMSHIM_PUSHGATEWAY_TIMEOUT_MS=500 \
        "$PY" -c 'import socket; socket.socket().close(); print("ran")'
    end=$(date +%s%N)
    assert_success
    assert_output ran
    [[ "$stderr" == *"push to http://127.0.0.1:$gport failed (timed out)"* ]]
    # the timeout plus the interpreter's own start: well under 3 s
    (((end - start) / 1000000 < 3000)) || fail "exit took $(((end - start) / 1000000)) ms"
}

@test "a port range that is all taken: one clear line, the program runs on" {
    base=$(free_port 2)
    start_bg hold1 "$PY" -c "import socket, time
a = socket.socket(); a.bind(('0.0.0.0', $base)); a.listen()
b = socket.socket(); b.bind(('0.0.0.0', $((base + 1)))); b.listen()
print('up', flush=True); time.sleep(60)"
    wait_until 10 file_has "$BATS_TEST_TMPDIR/hold1.out" '^up$'
    run --separate-stderr env LD_PRELOAD="$SHIM" PROMSHIM_EXPORTER_PORT="$base" PROMSHIM_EXPORTER_PORT_RANGE=2 \
        "$PY" -c 'import socket, time; socket.socket(); time.sleep(0.5); print("ran")'
    assert_success
    assert_output ran
    assert_equal "$stderr" "promshim: warning: exporter ports $base-$((base + 1)) are all taken: no /metrics endpoint for process $(
        echo "$stderr" | sed -n 's/.*process \([0-9]*\)$/\1/p')"
}

@test "target files: removed at exit; a crashed process's stale file is cleaned by the next one" {
    sd="$BATS_TEST_TMPDIR/sd"
    mkdir -p "$sd"
    p1=$(free_port)
    start_bg crash env LD_PRELOAD="$SHIM" PROMSHIM_EXPORTER_PORT="$p1" PROMSHIM_DISCOVERY_DIR="$sd" \
        "$PY" -c 'import socket, time; s = socket.socket(); time.sleep(60)'
    crash=$BG_PID
    wait_until 10 test -f "$sd/promshim-$p1.json"
    grep -q "\"127.0.0.1:$p1\"" "$sd/promshim-$p1.json"
    kill -KILL "$crash"
    wait_until 10 pid_gone "$crash"
    [[ -f "$sd/promshim-$p1.json" ]] # a killed process cannot clean up
    p2=$(free_port)
    start_bg next env LD_PRELOAD="$SHIM" PROMSHIM_EXPORTER_PORT="$p2" PROMSHIM_DISCOVERY_DIR="$sd" \
        "$PY" -c 'import socket, time; s = socket.socket(); time.sleep(2)'
    wait_until 10 test -f "$sd/promshim-$p2.json"
    [[ ! -e "$sd/promshim-$p1.json" ]]
    # its own file leaves with it
    wait_until 10 test ! -e "$sd/promshim-$p2.json"
}

@test "PROMSHIM_FOLLOW_CHILDREN=false: exec'd children run without the shim; the program itself still has it" {
    run env LD_PRELOAD="$SHIM" PROMSHIM_EXPORTER_ENABLED=0 PROMSHIM_FOLLOW_CHILDREN=false \
        sh -c 'grep -c libpromshim /proc/$$/maps; echo "LD_PRELOAD=${LD_PRELOAD-unset}"'
    assert_success
    [[ "${lines[0]}" -ge 1 ]] # the shell itself has promshim mapped
    assert_line --index 1 'LD_PRELOAD=unset'
    run env LD_PRELOAD="$SHIM" PROMSHIM_EXPORTER_ENABLED=0 PROMSHIM_FOLLOW_CHILDREN=false \
        sh -c 'cat /proc/self/maps | grep -c libpromshim'
    assert_output 0
}

@test "PROMSHIM_PROGRAMS: only the named programs are instrumented, the rest pass through" {
    port=$(free_port)
    start_echo "$port"
    tf="$BATS_TEST_TMPDIR/f.prom"
    run env LD_PRELOAD="$SHIM" PROMSHIM_EXPORTER_ENABLED=0 PROMSHIM_TEXTFILE_PATH="$tf" PROMSHIM_PROGRAMS=curl \
        "$PROGS/conn_client" 127.0.0.1 "$port" 1
    assert_success
    [[ ! -e "$tf" ]]
    run env LD_PRELOAD="$SHIM" PROMSHIM_EXPORTER_ENABLED=0 PROMSHIM_TEXTFILE_PATH="$tf" \
        PROMSHIM_PROGRAMS=curl,conn_client "$PROGS/conn_client" 127.0.0.1 "$port" 1
    assert_success
    assert_metric "$(read_textfile "$tf")" promshim_connections_total 'role="client"' 1
}
