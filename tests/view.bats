#!/usr/bin/env bats
# The views and the monitoring examples: scripts/promshim-view (`promshim
# metrics` and `promshim top`) against nginx under the shim, the Grafana
# dashboard's every query against a real Prometheus (Debian's) scraping
# promshim, and the example Prometheus configuration. Each test starts what
# it needs on free loopback ports and stops it by pid; tmux runs on a server
# of its own (tmux -L, socket under $BATS_TEST_TMPDIR), killed in teardown.

# bats runs each test in a subshell: the ports a test sets are its own.
# shellcheck disable=SC2030,SC2031
load 'helpers/common'

VIEW="$REPO/scripts/promshim-view"
DASH="$REPO/scripts/grafana/promshim.json"
PROMCFG="$REPO/scripts/prometheus/prometheus.yml"
PROMETHEUS="${PROMETHEUS:-/usr/bin/prometheus}"

setup() {
    common_setup
    # a tmux server of the test's own, its socket in the test's directory
    export TMUX_TMPDIR="$BATS_TEST_TMPDIR"
    TMUX_SOCK="view"
    unset TMUX
}

teardown() {
    tmux -L "$TMUX_SOCK" kill-server 2>/dev/null || true
    common_teardown
}

D=http_server_request_duration_seconds

# nginx_shim: nginx (keep-alive, 2 workers, /err500 /shed429 /shed503) under
# the shim on $port, its exporter on $eport.
nginx_shim() {
    port=$(free_port)
    eport=$(free_port)
    shim_env "$eport"
    start_nginx_http "$port" "${SHIM_ENV[@]}"
    wait_exporter "$eport"
}

# get N PATH: N requests to nginx's PATH, one curl each.
get() {
    local i
    for ((i = 0; i < $1; i++)); do
        curl -s -o /dev/null --max-time 5 "http://127.0.0.1:$port$2"
    done
}

# ----------------------------------------------------------------- tmux ----

# pane: the text of the tmux test session's pane.
pane() {
    tmux -L "$TMUX_SOCK" capture-pane -p -t view
}

# pane_has REGEX: the pane has a line matching the extended REGEX.
pane_has() {
    pane | grep -Eq -- "$1"
}

# pane_rate NAME_REGEX: the REQ/s column of the first `route` row whose name
# matches (counted from the end of the line, as in the header: the name may
# hold spaces); fails when there is none.
pane_rate() {
    pane | awk -v re="^route +$1 " '
        /^KIND +NAME +REQ\/s/ { for (i = 1; i <= NF; i++) if ($i == "REQ/s") back = NF - i }
        back != "" && $0 ~ re { print $(NF - back); found = 1; exit }
        END { exit !found }'
}

# pane_route_busy NAME_REGEX: that row shows a rate above zero.
pane_route_busy() {
    local r
    r=$(pane_rate "$1") || return 1
    [[ "$r" =~ ^[0-9.]+k?$ && "$r" != 0 ]] && awk -v r="${r%k}" 'BEGIN { exit !(r > 0) }'
}

fail_with_pane() {
    fail "$1$(printf '\n----- pane -----\n')$(pane)$(printf '\n')$(dump_logs)"
}

# ----------------------------------------------------------- Prometheus ----

# start_prometheus PORT CONFIG: Debian's prometheus on 127.0.0.1:PORT with
# CONFIG, storage in $BATS_TEST_TMPDIR. Sets PROM_PID.
start_prometheus() {
    local port=$1 cfg=$2
    start_bg "prometheus-$port" "$PROMETHEUS" --config.file="$cfg" \
        --storage.tsdb.path="$BATS_TEST_TMPDIR/prometheus-data" \
        --web.listen-address="127.0.0.1:$port" --log.level=warn
    # shellcheck disable=SC2034  # for the caller
    PROM_PID=$BG_PID
    wait_until 30 curl -sf --max-time 2 "http://127.0.0.1:$port/-/ready" ||
        fail "prometheus on port $port did not become ready"
}

# The Prometheus HTTP API client behind prom_nonempty and the dashboard check.
# shellcheck disable=SC2016
PROM_PY='
import json, sys, urllib.parse, urllib.request
def query(port, expr):
    data = urllib.parse.urlencode({"query": expr}).encode()
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open("http://127.0.0.1:%s/api/v1/query" % port, data, timeout=10) as r:
            return json.load(r)
    except urllib.error.HTTPError as e:
        try:
            return json.load(e)
        except ValueError:
            return {"status": "error", "error": "HTTP %d" % e.code}
'

# prom_nonempty PORT EXPR: the instant query EXPR has at least one result.
prom_nonempty() {
    "$PY" -c "$PROM_PY"'
r = query(sys.argv[1], sys.argv[2])
sys.exit(0 if r.get("status") == "success" and r["data"]["result"] else 1)
' "$1" "$2"
}

# ------------------------------------------------------------------- (a) ----

@test "promshim-view metrics: nginx under the shim, routes with counts, errors and quantiles" {
    nginx_shim
    get 7 /
    get 2 /err500
    get 1 /users/42
    wait_metric "$eport" "${D}_count" '' 10

    run "$VIEW" metrics "127.0.0.1:$eport"
    assert_success
    assert_line --index 0 --regexp "^promshim [0-9][^ ]* at 127\.0\.0\.1:$eport \(3 processes, up [0-9]"
    assert_line "HTTP server requests (by route, method, status)"
    assert_line --regexp '^  ROUTE +METHOD +STATUS +REQUESTS +ERRORS +AVG +P50 +P95 +P99$'
    # route "/" with count 7, no errors, the average and three quantiles
    assert_line --regexp '^  / +GET +200 +7 +0( +[0-9.]+(us|ms|s)){4}$'
    assert_line --regexp '^  /err500 +GET +500 +2 +2 '
    assert_line --regexp '^  /users/\{id\} +GET +404 +1 +0 '
    assert_line --regexp '^  \(all\) +10 +2( +[0-9.]+(us|ms|s)){4}$'
    assert_line "  errors: 2 of 10 requests (20.0%)"
    assert_line "Connections"
    assert_line --regexp '^  server +10 +'
    assert_line "Process"
    assert_line --regexp '^  cpu [0-9.]+s  rss [0-9.]+[KMG]iB'
    assert_line "promshim"
    assert_line --regexp '^  series [0-9]+  series dropped 0  events dropped 0  parse errors 0$'
    # no HTTP client, database or Kafka traffic: those sections are left out
    refute_line --partial "HTTP client"
    refute_line --partial "Databases"
    refute_line --partial "Messaging"
    # every line fits 80 columns here
    local long
    long=$(awk 'length > 80' <<<"$output")
    [[ -z "$long" ]] || fail "lines over 80 columns: $long"

    # the same through the wrapper (found next to it), with the default host
    run "$REPO/scripts/promshim" metrics "$eport"
    assert_success
    assert_line --regexp '^  / +GET +200 +7 +0 '
    if [[ -x "$REPO/build/promshim-view" ]]; then
        run "$WRAPPER" metrics "$eport"
        assert_success
        assert_line --regexp '^  / +GET +200 +7 +0 '
    fi
}

@test "promshim-view: bad addresses, unreachable and wrong endpoints give messages and exit codes" {
    run "$VIEW" metrics foo
    assert_failure 2
    assert_output --partial "invalid address 'foo'"
    run "$VIEW" metrics 127.0.0.1:70000
    assert_failure 2
    assert_output --partial "invalid port '70000'"
    run "$VIEW" metrics ''
    assert_failure 2
    run "$VIEW" metrics
    assert_failure 2
    run "$VIEW"
    assert_failure 2
    run "$VIEW" top 9100 --interval 0
    assert_failure 2
    assert_output --partial "invalid interval"
    run "$VIEW" top 9100 </dev/null
    assert_failure 2
    assert_output --partial "needs a terminal"
    run "$REPO/scripts/promshim" top
    assert_failure 2

    # nothing listens there
    local dead
    dead=$(free_port)
    run "$VIEW" metrics "127.0.0.1:$dead"
    assert_failure 1
    assert_output "promshim-view: cannot reach http://127.0.0.1:$dead/metrics: connection refused"
    run "$REPO/scripts/promshim" metrics "$dead"
    assert_failure 1
    assert_output "promshim: cannot reach http://127.0.0.1:$dead/metrics: connection refused"
    # top --batch keeps trying and says why
    run "$VIEW" top --batch -n 2 -i 0.2 "$dead"
    assert_failure 1
    assert_line "waiting for 127.0.0.1:$dead: connection refused (retrying)"

    # an HTTP server without /metrics, then one whose /metrics is not metrics
    local hp www="$BATS_TEST_TMPDIR/www"
    mkdir -p "$www"
    hp=$(free_port)
    start_http_server "$hp" "$www"
    run "$VIEW" metrics "127.0.0.1:$hp"
    assert_failure 1
    assert_output --partial "answered HTTP 404"
    printf '<html><body>hello</body></html>\n' >"$www/metrics"
    run "$VIEW" metrics "http://127.0.0.1:$hp/metrics"
    assert_failure 1
    assert_output --partial "did not answer with Prometheus metrics"
}

@test "promshim-view metrics: the parser (escapes, NaN, +Inf, OpenMetrics) and other exporters' names (Beyla)" {
    local www="$BATS_TEST_TMPDIR/www" hp
    mkdir -p "$www"
    write_fixture "$www/metrics"
    hp=$(free_port)
    start_http_server "$hp" "$www"
    run "$VIEW" metrics "$hp"
    assert_success
    assert_line --index 0 "metrics at 127.0.0.1:$hp"
    # the escaped route is read back as \ " and a newline (printed as \n)
    assert_line --regexp '^  /q"uote\\back\\nline +POST +500 +5 +5 +1\.90s +850ms +1\.00s +1\.00s$'
    # quantiles interpolated inside the buckets as histogram_quantile does
    assert_line --regexp '^  /a +GET +200 +100 +0 +25\.0ms +20\.0ms +100ms +250ms$'
    # an empty histogram: no quantiles
    assert_line --regexp '^  /empty +GET +200 +0 +0 +- +- +- +-$'
    # Beyla-style client series (no error_type): 503 counts as an error
    assert_line --regexp '^  10\.0\.0\.7:8080 +GET +503 +4 +4 +1\.05s +500ms +500ms +500ms$'
    assert_line --regexp '^  redis +GET +10\.0\.0\.8:6379 +3 +0 +400us +500us +950us +990us$'
    assert_line --regexp '^  redis +3 +1 +75\.0%$'
    # Kafka: sent, consumed, lag per topic
    assert_line --regexp '^  orders +12 +9 +0 +5 +4 +2$'
    assert_line --regexp '^  connect errors: ECONNREFUSED 3, ETIMEDOUT 1$'
    assert_line --regexp '^  cpu 1\.5s  rss 2\.0MiB'
    assert_line --regexp '^1 line of the exposition did not parse \(skipped\); first: line [0-9]+: '

    # OpenMetrics: exemplars, _created, # EOF; a quoted (UTF-8 style) metric name
    cat >"$www/om" <<'EOF'
# TYPE http_server_request_duration_seconds histogram
http_server_request_duration_seconds_bucket{http_request_method="GET",http_route="/om",http_response_status_code="200",error_type="",le="0.1"} 2 # {trace_id="abc"} 0.05 1700000000.000
http_server_request_duration_seconds_bucket{http_request_method="GET",http_route="/om",http_response_status_code="200",error_type="",le="+Inf"} 3
http_server_request_duration_seconds_count{http_request_method="GET",http_route="/om",http_response_status_code="200",error_type=""} 3
http_server_request_duration_seconds_sum{http_request_method="GET",http_route="/om",http_response_status_code="200",error_type=""} 0.3
http_server_request_duration_seconds_created{http_request_method="GET",http_route="/om",http_response_status_code="200",error_type=""} 1.7e9
# TYPE db_client_cache_lookups counter
db_client_cache_lookups_total{db_system_name="memcached",result="hit"} 1.0
{"http_server_active_requests",server_port="80"} 2
# EOF
EOF
    run "$VIEW" metrics "http://127.0.0.1:$hp/om"
    assert_success
    assert_line --regexp '^  /om +GET +200 +3 +0 +100ms +75\.0ms +100ms +100ms$'
    assert_line "  in flight: 2 on port 80"
    assert_line --regexp '^  memcached +1 +0 +100\.0%$'
    refute_output --partial "did not parse"
}

# write_fixture FILE: exposition text with what a parser trips on.
write_fixture() {
    cat >"$1" <<'EOF'
# HELP http_server_request_duration_seconds Duration with an escaped \\ and \n in the help.
# TYPE http_server_request_duration_seconds histogram
http_server_request_duration_seconds_bucket{http_request_method="GET",http_route="/a",http_response_status_code="200",error_type="",le="0.005"} 10
http_server_request_duration_seconds_bucket{http_request_method="GET",http_route="/a",http_response_status_code="200",error_type="",le="0.01"} 30
http_server_request_duration_seconds_bucket{http_request_method="GET",http_route="/a",http_response_status_code="200",error_type="",le="0.025"} 60
http_server_request_duration_seconds_bucket{http_request_method="GET",http_route="/a",http_response_status_code="200",error_type="",le="0.05"} 80
http_server_request_duration_seconds_bucket{http_request_method="GET",http_route="/a",http_response_status_code="200",error_type="",le="0.1"} 95
http_server_request_duration_seconds_bucket{http_request_method="GET",http_route="/a",http_response_status_code="200",error_type="",le="0.25"} 99
http_server_request_duration_seconds_bucket{http_request_method="GET",http_route="/a",http_response_status_code="200",error_type="",le="+Inf"} 100
http_server_request_duration_seconds_sum{http_request_method="GET",http_route="/a",http_response_status_code="200",error_type=""} 2.5
http_server_request_duration_seconds_count{http_request_method="GET",http_route="/a",http_response_status_code="200",error_type=""} 100
http_server_request_duration_seconds_bucket{ http_request_method = "POST" , http_route="/q\"uote\\back\nline",http_response_status_code="500",error_type="5xx",le="0.1",} 0
http_server_request_duration_seconds_bucket{http_request_method="POST",http_route="/q\"uote\\back\nline",http_response_status_code="500",error_type="5xx",le="1.0"} 3
http_server_request_duration_seconds_bucket{http_request_method="POST",http_route="/q\"uote\\back\nline",http_response_status_code="500",error_type="5xx",le="+Inf"} 5 1700000000000
http_server_request_duration_seconds_sum{http_request_method="POST",http_route="/q\"uote\\back\nline",http_response_status_code="500",error_type="5xx"} 9.5
http_server_request_duration_seconds_count{http_request_method="POST",http_route="/q\"uote\\back\nline",http_response_status_code="500",error_type="5xx"} 5
http_server_request_duration_seconds_bucket{http_request_method="GET",http_route="/empty",http_response_status_code="200",error_type="",le="0.1"} 0
http_server_request_duration_seconds_bucket{http_request_method="GET",http_route="/empty",http_response_status_code="200",error_type="",le="+Inf"} 0
http_server_request_duration_seconds_sum{http_request_method="GET",http_route="/empty",http_response_status_code="200",error_type=""} 0
http_server_request_duration_seconds_count{http_request_method="GET",http_route="/empty",http_response_status_code="200",error_type=""} 0
# TYPE http_client_request_duration_seconds histogram
http_client_request_duration_seconds_bucket{http_request_method="GET",http_response_status_code="503",server_address="10.0.0.7",server_port="8080",service_name="",le="0.5"} 1
http_client_request_duration_seconds_bucket{http_request_method="GET",http_response_status_code="503",server_address="10.0.0.7",server_port="8080",service_name="",le="+Inf"} 4
http_client_request_duration_seconds_sum{http_request_method="GET",http_response_status_code="503",server_address="10.0.0.7",server_port="8080",service_name=""} 4.2
http_client_request_duration_seconds_count{http_request_method="GET",http_response_status_code="503",server_address="10.0.0.7",server_port="8080",service_name=""} 4
# TYPE db_client_operation_duration_seconds histogram
db_client_operation_duration_seconds_bucket{db_system="redis",db_operation="GET",server_address="10.0.0.8",server_port="6379",le="0.001"} 3
db_client_operation_duration_seconds_bucket{db_system="redis",db_operation="GET",server_address="10.0.0.8",server_port="6379",le="+Inf"} 3
db_client_operation_duration_seconds_sum{db_system="redis",db_operation="GET",server_address="10.0.0.8",server_port="6379"} 0.0012
db_client_operation_duration_seconds_count{db_system="redis",db_operation="GET",server_address="10.0.0.8",server_port="6379"} 3
# TYPE db_client_cache_lookups_total counter
db_client_cache_lookups_total{db_system_name="redis",result="hit"} 3
db_client_cache_lookups_total{db_system_name="redis",result="miss"} 1
# TYPE messaging_client_sent_messages_total counter
messaging_client_sent_messages_total{messaging_system="kafka",messaging_destination_name="orders"} 12
# TYPE messaging_client_consumed_messages_total counter
messaging_client_consumed_messages_total{messaging_system="kafka",messaging_destination_name="orders"} 9
# TYPE messaging_kafka_consumer_lag gauge
messaging_kafka_consumer_lag{messaging_destination_name="orders",partition="0"} 1
messaging_kafka_consumer_lag{messaging_destination_name="orders",partition="1"} 4
# TYPE promshim_connect_errors_total counter
promshim_connect_errors_total{server_address="10.0.0.9",server_port="5432",error_type="ECONNREFUSED"} 3
promshim_connect_errors_total{server_address="10.0.0.9",server_port="5432",error_type="ETIMEDOUT"} 1
# TYPE process_cpu_seconds_total counter
process_cpu_seconds_total 1.5
# TYPE process_resident_memory_bytes gauge
process_resident_memory_bytes 2.097152e+06
# TYPE process_open_fds gauge
process_open_fds NaN
# a comment, then a line that is no sample
this line { is broken
EOF
}

# ------------------------------------------------------------------- (b) ----

@test "promshim top under tmux: busiest route by rate, survives the exporter going away and a counter reset" {
    command -v tmux >/dev/null || skip "tmux not installed"
    nginx_shim
    # traffic: "/" three times as often as /err500
    # shellcheck disable=SC2016  # expanded by that bash
    start_bg traffic bash -c 'while :; do
        for p in / / / /err500; do curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$1$p"; done
        sleep 0.02
    done' _ "$port"

    # the pane's command says how it ended, so a crash shows in the pane
    tmux -L "$TMUX_SOCK" -f /dev/null new-session -d -s view -x 100 -y 30 \
        "'$VIEW' top 127.0.0.1:$eport; echo \"EXITED rc=\$?\"; sleep 600"
    wait_until 15 pane_route_busy 'GET /' || fail_with_pane "route / never showed a rate"
    wait_until 10 pane_route_busy 'GET /err500' || fail_with_pane "route /err500 never showed a rate"
    local text
    text=$(pane)
    assert_regex "$text" "promshim top  127\.0\.0\.1:$eport  every 1s"
    assert_regex "$text" 'KIND +NAME +REQ/s +ERR/s +AVG +P50 +P95 +P99 +TOTAL'
    assert_regex "$text" 'rates over the last [0-9.]+s: served [0-9.]+k? req/s'
    # busiest first: "/" before /err500; /err500's errors equal its rate
    local first
    first=$(grep -E '^route ' <<<"$text" | head -1)
    assert_regex "$first" '^route +GET / '
    assert_regex "$(grep -E '^route +GET /err500 ' <<<"$text")" '^route +GET /err500 +([0-9.]+) +\1 '
    [[ -z "$(awk 'length > 100' <<<"$text")" ]] || fail_with_pane "lines wider than the terminal"

    # an 80x24 terminal
    tmux -L "$TMUX_SOCK" resize-window -t view -x 80 -y 24
    wait_until 5 pane_route_busy 'GET /' || fail_with_pane "no route after resizing to 80x24"
    text=$(pane)
    [[ -z "$(awk 'length > 80' <<<"$text")" ]] || fail_with_pane "lines wider than 80 columns"
    assert_regex "$text" 'q quit'

    # the exporter goes away: the view says so and keeps trying
    local tree
    mapfile -t tree < <(descendants "$NGINX_PID")
    stop_pids "$NGINX_PID" "${tree[@]}"
    wait_until 10 pane_has 'scrape failed [0-9]+x: connection refused' ||
        fail_with_pane "no scrape error shown"
    ! pane_has 'EXITED' || fail_with_pane "promshim-view exited"

    # it comes back with fresh counters (a reset): rates again, never negative
    start_nginx_http "$port" "${SHIM_ENV[@]}"
    wait_exporter "$eport"
    wait_until 15 _fresh_rates || fail_with_pane "no rates after the exporter came back"
    ! pane_has 'EXITED' || fail_with_pane "promshim-view exited"
    ! pane | grep -E '^route ' | grep -Eq ' -[0-9]' || fail_with_pane "a negative rate after the reset"

    # s changes the sort order, q quits with status 0
    tmux -L "$TMUX_SOCK" send-keys -t view s
    wait_until 5 pane_has 'sort: errors' || fail_with_pane "s did not change the sort"
    tmux -L "$TMUX_SOCK" send-keys -t view q
    wait_until 5 pane_has '^EXITED rc=0$' || fail_with_pane "q did not quit cleanly"
}

_fresh_rates() {
    ! pane_has 'scrape failed' && pane_route_busy 'GET /'
}

# ------------------------------------------------------------------- (c) ----

# The client of the dashboard test, run under the shim: HTTP requests to
# nginx (200, 500, 429), a connect to a closed port, and Redis commands (a
# hit, a miss, an error) when a Redis port is given, until it is stopped.
# shellcheck disable=SC2016
CLIENT_PY='
import socket, sys, time, urllib.error, urllib.request
nginx, closed, redis = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
def get(path):
    try:
        opener.open("http://127.0.0.1:%d%s" % (nginx, path), timeout=5).read()
    except urllib.error.HTTPError as e:
        e.read()
    except OSError:
        pass
def resp(s):
    buf = b""
    while True:
        c = s.recv(4096)
        if not c:
            return
        buf += c
        if buf.endswith(b"\r\n") and (not buf.startswith(b"$") or buf.startswith(b"$-1") or buf.count(b"\r\n") >= 2):
            return
rs = None
i = 0
print("started", flush=True)
while True:
    for p in ("/", "/", "/err500" if i % 3 == 0 else "/", "/shed429" if i % 4 == 0 else "/"):
        get(p)
    try:
        socket.create_connection(("127.0.0.1", closed), timeout=2).close()
    except OSError:
        pass
    if redis:
        try:
            if rs is None:
                rs = socket.create_connection(("127.0.0.1", redis), timeout=5)
            for cmd in (b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n", b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n",
                        b"*2\r\n$3\r\nGET\r\n$4\r\nnone\r\n", b"*2\r\n$4\r\nINCR\r\n$1\r\nk\r\n"):
                rs.sendall(cmd)
                resp(rs)
        except OSError:
            rs = None
    i += 1
    time.sleep(0.05)
'

# dashboard_targets: what the dashboard's Prometheus scrapes, started and
# scraped for a few seconds: nginx under the shim, redis-server under the shim
# (when installed) and a Python client under the shim, all on loopback; and a
# real Prometheus on $pport scraping them every second. Sets port, eport,
# pport, rport (0 without redis) and instances (their exporters, a|b|c).
dashboard_targets() {
    # what Prometheus scrapes: nginx under the shim and a client under the shim
    nginx_shim
    rport=0
    local cport closed report targets="\"127.0.0.1:$eport\""
    instances="127.0.0.1:$eport"
    cport=$(free_port)
    closed=$(free_port)
    # Redis under the shim too (the database panels' served side), when there
    if command -v redis-server >/dev/null; then
        rport=$(free_port)
        report=$(free_port)
        shim_env "$report"
        start_redis "$rport" "${SHIM_ENV[@]}"
        wait_exporter "$report"
        targets+=", \"127.0.0.1:$report\""
        instances+="|127.0.0.1:$report"
    fi
    targets+=", \"127.0.0.1:$cport\""
    instances+="|127.0.0.1:$cport"
    shim_env "$cport"
    start_bg client "${SHIM_ENV[@]}" "$PY" -c "$CLIENT_PY" "$port" "$closed" "$rport"
    wait_exporter "$cport"

    pport=$(free_port)
    cat >"$BATS_TEST_TMPDIR/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: promshim
    scrape_interval: 1s
    static_configs:
      - targets: [$targets]
EOF
    start_prometheus "$pport" "$BATS_TEST_TMPDIR/prometheus.yml"
    # every target up and scraped for a few seconds
    local ntargets
    ntargets=$(tr '|' '\n' <<<"$instances" | wc -l)
    wait_until 30 prom_nonempty "$pport" "sum(up{job=\"promshim\"}) == $ntargets and min(count_over_time(up{job=\"promshim\"}[1m])) >= 6" ||
        fail "prometheus did not scrape every target"
    wait_until 10 prom_nonempty "$pport" 'sum(rate(promshim_connect_errors_total{job="promshim"}[1m])) > 0' ||
        fail "no connect errors reached prometheus"
}

@test "the Grafana dashboard: valid JSON, and every panel query is valid PromQL with data from a real Prometheus" {
    [[ -x "$PROMETHEUS" ]] || skip "prometheus not installed"
    # structure
    run "$PY" - "$DASH" <<'PYEOF'
import json, sys
d = json.load(open(sys.argv[1]))
problems = []
if d.get("schemaVersion", 0) < 36:
    problems.append("schemaVersion %s < 36" % d.get("schemaVersion"))
names = {v["name"]: v for v in d["templating"]["list"]}
for n in ("datasource", "job", "instance"):
    if n not in names:
        problems.append("no variable " + n)
if names.get("datasource", {}).get("type") != "datasource" or names["datasource"].get("query") != "prometheus":
    problems.append("datasource variable is not a prometheus data source variable")
if "promshim_info" not in names.get("job", {}).get("query", ""):
    problems.append("job variable does not come from promshim_info")
ids = set()
n = 0
for p in d["panels"]:
    if p["id"] in ids:
        problems.append("duplicate panel id %s" % p["id"])
    ids.add(p["id"])
    g = p.get("gridPos", {})
    if not all(k in g for k in "hwxy") or g["x"] + g["w"] > 24:
        problems.append("bad gridPos in %r" % p["title"])
    if p["type"] == "row":
        continue
    n += 1
    if p.get("datasource", {}).get("uid") != "${datasource}":
        problems.append("panel %r does not use ${datasource}" % p["title"])
    refs = [t["refId"] for t in p.get("targets", [])]
    if not refs or len(set(refs)) != len(refs):
        problems.append("panel %r: no targets or duplicate refIds" % p["title"])
    for t in p.get("targets", []):
        if not t.get("expr") or "$job" not in t["expr"] or "$instance" not in t["expr"]:
            problems.append("panel %r: query without $job/$instance: %r" % (p["title"], t.get("expr")))
print("%d panels" % n)
for x in problems:
    print("PROBLEM: " + x)
sys.exit(1 if problems else 0)
PYEOF
    assert_success

    dashboard_targets

    # every target of every panel, with Grafana's variables substituted
    # shellcheck disable=SC2016  # Python source
    run "$PY" -c "$PROM_PY"'
import math
port, dash, inst = sys.argv[1], sys.argv[2], sys.argv[3]
d = json.load(open(dash))
# the variables, as Grafana would fill them: job and instance from promshim_info
r = query(port, "count by (job, instance) (promshim_info)")
got = sorted(x["metric"]["instance"] for x in r["data"]["result"])
if got != sorted(inst.split("|")):
    print("PROBLEM: promshim_info instances %s, expected %s" % (got, inst))
    sys.exit(1)
subst = {"$__rate_interval": "1m", "$__interval": "15s", "$__range": "5m",
         "$job": "promshim", "$instance": inst}
required = {"HTTP server", "HTTP client", "Connections", "Process", "Overview"}
if sys.argv[4] != "0":
    required.add("Databases and caches")
row, bad = None, []
for p in d["panels"]:
    if p["type"] == "row":
        row = p["title"]
        continue
    for t in p["targets"]:
        expr = t["expr"]
        for k in sorted(subst, key=len, reverse=True):
            expr = expr.replace(k, subst[k])
        r = query(port, expr)
        if r.get("status") != "success":
            bad.append("INVALID %s / %s [%s]: %s: %s" % (row, p["title"], t["refId"], r.get("error"), expr))
            continue
        res = r["data"]["result"]
        finite = [x for x in res if math.isfinite(float(x["value"][1]))]
        print("%-26s %-40s %s %d series, %d finite" % (row, p["title"][:40], t["refId"], len(res), len(finite)))
        if row in required and not finite:
            bad.append("EMPTY %s / %s [%s]: %s" % (row, p["title"], t["refId"], expr))
for b in bad:
    print(b)
sys.exit(1 if bad else 0)
' "$pport" "$DASH" "$instances" "$rport"
    echo "$output" >"$BATS_TEST_TMPDIR/panels.txt"
    assert_success
    refute_output --partial INVALID
}

# build_renderer: scripts/grafana/render built in $REPO/build/grafana-render
# (npm ci from its lock file, then vite build), the install kept while the lock
# file is unchanged. Prints why and fails when it cannot be built here.
build_renderer() {
    local src="$REPO/scripts/grafana/render" dst="$REPO/build/grafana-render" major
    if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
        echo "node and npm are not installed (Debian's nodejs and npm, scripts/deps.sh)"
        return 1
    fi
    IFS=. read -r major _ <<<"$(node --version | tr -d v)"
    if ((major < 18)); then
        echo "Node.js $(node --version) is older than the 18 that vite 6 needs"
        return 1
    fi
    mkdir -p "$dst"
    cp "$src"/package.json "$src"/package-lock.json "$src"/index.html "$src"/main.jsx "$src"/vite.config.js "$dst"/
    if ! cmp -s "$src/package-lock.json" "$dst/node_modules/.promshim-lock"; then
        (cd "$dst" && timeout 600 npm ci --no-audit --no-fund --loglevel=error) >"$BATS_TEST_TMPDIR/npm.log" 2>&1 || {
            echo "npm ci failed (is the npm registry reachable?): $(tail -3 "$BATS_TEST_TMPDIR/npm.log")"
            return 1
        }
        cp "$src/package-lock.json" "$dst/node_modules/.promshim-lock"
    fi
    (cd "$dst" && timeout 300 ./node_modules/.bin/vite build) >"$BATS_TEST_TMPDIR/vite.log" 2>&1 || {
        echo "vite build failed: $(tail -5 "$BATS_TEST_TMPDIR/vite.log")"
        return 1
    }
}

@test "the Grafana dashboard drawn by Grafana's panel components from a real Prometheus (build/screenshots/dashboard.png)" {
    [[ -x "$PROMETHEUS" ]] || skip "prometheus not installed"
    reason=$(chromium_missing) && skip "$reason"
    # a missing toolchain is a skip with its reason; a failed build of a
    # toolchain that is there is a failure
    local why
    if ! why=$(build_renderer); then
        [[ "$why" == "vite build failed"* ]] && fail "$why"
        skip "cannot build the dashboard renderer: $why"
    fi
    local t0
    t0=$(date +%s)
    dashboard_targets
    # half a minute of history to draw, and the time range from its start
    wait_until 60 prom_nonempty "$pport" 'min(count_over_time(up{job="promshim"}[2m])) >= 30' ||
        fail "prometheus did not scrape for thirty seconds"

    local wport url png="$BATS_TEST_TMPDIR/dashboard.png"
    wport=$(free_port)
    start_bg render "$PY" "$REPO/scripts/grafana/render/serve.py" "$wport" "$REPO/build/grafana-render/dist" \
        "$DASH" "http://127.0.0.1:$pport"
    wait_until 10 curl -sf --max-time 2 -o /dev/null "http://127.0.0.1:$wport/" || fail "the renderer's server did not start"
    url="http://127.0.0.1:$wport/?scrape=1&from=$(($(date +%s) - t0))&width=1600"

    # the DOM once every panel has drawn: how many, which had no data, errors
    chromium_headless --virtual-time-budget=30000 --window-size=1600,6400 --dump-dom "$url" \
        >"$BATS_TEST_TMPDIR/dom.html" || fail "chromium --dump-dom failed: $(tail -5 "$BATS_TEST_TMPDIR/chromium.err")"
    run "$PY" - "$BATS_TEST_TMPDIR/dom.html" "$DASH" "$rport" <<'PYEOF'
import html, json, re, sys
dom = open(sys.argv[1], encoding="utf-8").read()
d = json.load(open(sys.argv[2]))
body = re.search(r"<body([^>]*)>", dom)
attrs = dict((k, html.unescape(v)) for k, v in re.findall(r'data-(\w+)="([^"]*)"', body.group(1) if body else ""))
want = sum(1 for p in d["panels"] if p["type"] != "row")
print("rendered=%s of %d" % (attrs.get("rendered"), want))
if attrs.get("rendered") != str(want):
    print("PROBLEM: not every panel drew")
if attrs.get("errors"):
    print("PROBLEM: query errors: " + attrs["errors"])
empty = set(filter(None, attrs.get("empty", "").split("|")))
required = {"Overview", "HTTP server", "HTTP client", "Connections", "Process"}
if sys.argv[3] != "0":
    required.add("Databases and caches")
row = None
for p in d["panels"]:
    if p["type"] == "row":
        row = p["title"]
    elif row in required and p["title"] in empty:
        print("PROBLEM: no data in %s / %s" % (row, p["title"]))
# uPlot draws each time series panel on a canvas; BigValue writes the value
ncanvas = len(re.findall(r"<canvas", dom))
nseries = sum(1 for p in d["panels"] if p["type"] == "timeseries" and p["title"] not in empty)
print("canvases=%d, time series panels with data=%d" % (ncanvas, nseries))
if ncanvas < nseries:
    print("PROBLEM: fewer uPlot canvases than time series panels with data")
print("empty: " + ", ".join(sorted(empty)))
PYEOF
    echo "$output" >"$BATS_TEST_TMPDIR/render.txt"
    refute_output --partial PROBLEM

    # the screenshot: the first rows (overview, HTTP server and client, data
    # stores), as the README shows it
    chromium_headless --virtual-time-budget=30000 --window-size=1600,1900 --hide-scrollbars \
        --screenshot="$png" "$url" >/dev/null || fail "chromium --screenshot failed: $(tail -5 "$BATS_TEST_TMPDIR/chromium.err")"
    [[ -s "$png" ]] || fail "no screenshot at $png"
    local size
    size=$(stat -c %s "$png")
    ((size > 100000)) || fail "screenshot is only $size bytes: a blank page?"
    mkdir -p "$REPO/build/screenshots"
    cp "$png" "$REPO/build/screenshots/dashboard.png"
    # and every row, for a person to look over (not in the README)
    chromium_headless --virtual-time-budget=30000 --window-size=1600,6400 --hide-scrollbars \
        --screenshot="$REPO/build/screenshots/dashboard-full.png" "$url" >/dev/null ||
        fail "chromium --screenshot (full) failed: $(tail -5 "$BATS_TEST_TMPDIR/chromium.err")"
}

# ------------------------------------------------------------------- (d) ----

@test "the example Prometheus configuration passes promtool check config, its file_sd target files too" {
    command -v promtool >/dev/null || skip "promtool not installed"
    local d="$BATS_TEST_TMPDIR/promcfg"
    mkdir -p "$d/targets"
    # the file as shipped, with its discovery directory moved here
    sed "s#/var/lib/promshim/targets#$d/targets#g" "$PROMCFG" >"$d/prometheus.yml"
    grep -q "$d/targets/\*.json" "$d/prometheus.yml" || fail "the config has no file_sd directory to move"
    cat >"$d/targets/nginx.json" <<'EOF'
[{"targets": ["127.0.0.1:9100", "[::1]:9101"], "labels": {"service": "nginx"}}]
EOF
    cat >"$d/targets/legacy.yml" <<'EOF'
- targets: ["10.0.0.5:9100"]
  labels:
    service: legacy
EOF
    run promtool check config "$d/prometheus.yml"
    assert_success
    assert_output --partial "SUCCESS"
    refute_output --partial "WARNING"
    # a broken target file is caught: the directory is really read
    echo '[{"targets": 42}]' >"$d/targets/broken.json"
    run promtool check config "$d/prometheus.yml"
    assert_failure
    # the shipped file itself is valid syntax (its directory need not exist here)
    run promtool check config "$PROMCFG"
    assert_success
    assert_output --partial "SUCCESS"
}

# ------------------------------------------------------------------- (e) ----

@test "promshim-view's quantiles equal Prometheus's histogram_quantile on the same buckets" {
    [[ -x "$PROMETHEUS" ]] || skip "prometheus not installed"
    local www="$BATS_TEST_TMPDIR/www" hp pport
    mkdir -p "$www"
    write_fixture "$www/metrics"
    # Prometheus refuses a scrape with a line it cannot parse: drop that one
    sed -i -e '/^this line/d' -e 's/ 1700000000000$//' "$www/metrics"
    hp=$(free_port)
    start_http_server "$hp" "$www"
    pport=$(free_port)
    cat >"$BATS_TEST_TMPDIR/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: fixture
    static_configs:
      - targets: ["127.0.0.1:$hp"]
EOF
    start_prometheus "$pport" "$BATS_TEST_TMPDIR/prometheus.yml"
    wait_until 30 prom_nonempty "$pport" 'up{job="fixture"} == 1' || fail "prometheus did not scrape the fixture"

    run "$PY" -c "$PROM_PY"'
import importlib.machinery, importlib.util, math
sys.dont_write_bytecode = True  # no __pycache__ next to the script
loader = importlib.machinery.SourceFileLoader("promshim_view", sys.argv[2])
spec = importlib.util.spec_from_loader("promshim_view", loader)
pv = importlib.util.module_from_spec(spec)
loader.exec_module(pv)
snap = pv.Snapshot(open(sys.argv[3]).read(), 0, 0)
mine = {}
for base in ("http_server_request_duration_seconds", "http_client_request_duration_seconds",
             "db_client_operation_duration_seconds"):
    for labels, h in snap.hists(base).values():
        mine[(base, labels.get("http_route", labels.get("server_address")))] = h
bad, n = [], 0
for q in (0, 0.25, 0.5, 0.9, 0.95, 0.99, 0.999, 1):
    for base in ("http_server_request_duration_seconds", "http_client_request_duration_seconds",
                 "db_client_operation_duration_seconds"):
        r = query(sys.argv[1], "histogram_quantile(%s, %s_bucket)" % (q, base))
        for x in r["data"]["result"]:
            key = (base, x["metric"].get("http_route", x["metric"].get("server_address")))
            theirs = float(x["value"][1])
            h = mine.get(key)
            if h is None:
                bad.append("no series %r here" % (key,))
                continue
            ours = h.quantile(q)
            n += 1
            same = (math.isnan(ours) and math.isnan(theirs)) or abs(ours - theirs) <= 1e-9 * max(1, abs(theirs))
            print("%s q=%s prometheus %r promshim-view %r%s" % (key, q, theirs, ours, "" if same else "  <-- DIFFERENT"))
            if not same:
                bad.append(key)
print("%d compared" % n)
sys.exit(1 if bad or n < 30 else 0)
' "$pport" "$VIEW" "$www/metrics"
    assert_success
    refute_output --partial DIFFERENT
    # the escaped route came back from Prometheus as the same string
    assert_output --partial "/q\"uote\\\\back\\nline"
}
