#!/usr/bin/env bats
# The HTTP capability against real servers and clients: nginx (prefork, 2
# workers), python's http.server, tests/progs/http_server.py (chunked,
# read-until-close, resets, ...) under the shim on the server side; curl,
# python urllib / http.client and raw sockets (tests/progs/http_raw.py)
# under the shim on the client side. Server metrics are read from the
# exporter, a short client's from its textfile. Each test starts what it
# needs on free loopback ports; teardown stops it by pid.

# bats runs each test in a subshell: the port/eport a test sets are its own.
# shellcheck disable=SC2030,SC2031
load 'helpers/common'

setup() {
    common_setup
}

teardown() {
    common_teardown
}

D=http_server_request_duration_seconds
RQB=http_server_request_body_size_bytes
RSB=http_server_response_body_size_bytes
C=http_client_request_duration_seconds

# nginx_shim: nginx (keep-alive, 2 workers) under the shim on $port, its
# exporter on $eport.
nginx_shim() {
    port=$(free_port)
    eport=$(free_port)
    shim_env "$eport"
    start_nginx_http "$port" "${SHIM_ENV[@]}"
    wait_exporter "$eport"
    wait_metric "$eport" promshim_processes '' 3
}

# testsrv_shim [VAR=VALUE...]: http_server.py under the shim on $port, its
# exporter on $eport.
testsrv_shim() {
    port=$(free_port)
    eport=$(free_port)
    shim_env "$eport" "$@"
    start_http_test_server "$port" "${SHIM_ENV[@]}"
    wait_exporter "$eport"
}

# labels for the server histograms: sl METHOD ROUTE STATUS [ERROR]
sl() {
    echo "http_request_method=\"$1\",http_route=\"$2\",http_response_status_code=\"$3\",server_port=\"$port\",error_type=\"${4:-}\""
}

# labels for the client histogram: cl METHOD STATUS [ERROR]
cl() {
    echo "http_request_method=\"$1\",http_response_status_code=\"$2\",server_address=\"127.0.0.1\",server_port=\"$port\",error_type=\"${3:-}\""
}

peer() {
    echo "server_address=\"127.0.0.1\",server_port=\"$port\""
}

# ---------------------------------------------------------------- nginx ----

@test "nginx + curl: N keep-alive GETs of / count N, a missing file counts 404, bodies and the idle gauge are exact" {
    nginx_shim
    curl_n 5 "http://127.0.0.1:$port/"
    run curl "${CURL_ARGS[@]}" -o /dev/null "http://127.0.0.1:$port/missing.html"
    assert_success
    wait_metric "$eport" "${D}_count" "server_port=\"$port\"" 6
    text=$(scrape "$eport")
    assert_metric_exact "$text" "${D}_count" "$(sl GET / 200)" 5
    assert_metric_exact "$text" "${D}_bucket" "$(sl GET / 200),le=\"+Inf\"" 5
    assert_metric_exact "$text" "${D}_count" "$(sl GET /missing.html 404)" 1
    # "hello from nginx\n" is 17 bytes: 5 x 17 in the 64-byte bucket.
    assert_metric_exact "$text" "${RSB}_sum" "$(sl GET / 200)" 85
    assert_metric_exact "$text" "${RSB}_bucket" "$(sl GET / 200),le=\"64\"" 5
    assert_metric_exact "$text" "${RQB}_sum" "$(sl GET / 200)" 0
    assert_metric_exact "$text" "${RQB}_count" "$(sl GET / 200)" 5
    assert_metric_exact "$text" http_server_active_requests "server_port=\"$port\"" 0
    # Every request nginx logged is one observation, nothing else.
    wait_access_log "$NGINX_DIR/access.log" . 6
    assert_metric "$text" "${D}_count" '' 6
    assert_metric "$text" promshim_parse_errors_total '' 0
}

@test "nginx: HEAD and a 304 on one keep-alive connection, and the requests after them still parse" {
    nginx_shim
    url="http://127.0.0.1:$port/index.html"
    etag=$(curl -sI "$url" | tr -d '\r' | sed -n 's/^[Ee][Tt]ag: //p')
    [[ -n "$etag" ]] || fail "nginx gave no ETag"
    w='%{http_code} %{num_connects}\n'
    # One curl invocation: HEAD, conditional GET (304), GET (200), GET (404),
    # all on the connection the first transfer opened.
    run curl -s -I -w "$w" -o /dev/null "$url" \
        --next -s -w "$w" -o /dev/null -H "If-None-Match: $etag" "$url" \
        --next -s -w "$w" -o /dev/null "$url" \
        --next -s -w "$w" -o /dev/null "http://127.0.0.1:$port/nothere.html"
    assert_success
    assert_output "$(printf '200 1\n304 0\n200 0\n404 0')"
    # + the HEAD that fetched the ETag, on its own connection
    wait_metric "$eport" "${D}_count" "server_port=\"$port\"" 5
    text=$(scrape "$eport")
    assert_metric_exact "$text" "${D}_count" "$(sl HEAD /index.html 200)" 2
    assert_metric_exact "$text" "${D}_count" "$(sl GET /index.html 304)" 1
    assert_metric_exact "$text" "${D}_count" "$(sl GET /index.html 200)" 1
    assert_metric_exact "$text" "${D}_count" "$(sl GET /nothere.html 404)" 1
    # No body for HEAD or 304; the GET after them got its 17 bytes.
    assert_metric_exact "$text" "${RSB}_sum" "$(sl HEAD /index.html 200)" 0
    assert_metric_exact "$text" "${RSB}_sum" "$(sl GET /index.html 304)" 0
    assert_metric_exact "$text" "${RSB}_sum" "$(sl GET /index.html 200)" 17
    assert_metric_exact "$text" http_server_active_requests "server_port=\"$port\"" 0
    assert_metric "$text" promshim_parse_errors_total '' 0
}

@test "nginx: return 500 is error_type 5xx; 429 and 503 count as shed load" {
    nginx_shim
    b="http://127.0.0.1:$port"
    run curl -s -o /dev/null -w '%{http_code}\n' "$b/err500" -o /dev/null "$b/shed429" -o /dev/null "$b/shed429" \
        -o /dev/null "$b/shed503" -o /dev/null "$b/"
    assert_success
    assert_output "$(printf '500\n429\n429\n503\n200')"
    wait_metric "$eport" "${D}_count" "server_port=\"$port\"" 5
    text=$(scrape "$eport")
    assert_metric_exact "$text" "${D}_count" "$(sl GET /err500 500 5xx)" 1
    assert_metric_exact "$text" "${D}_count" "$(sl GET /shed503 503 5xx)" 1
    # A 429 is the client's problem, not a server error.
    assert_metric_exact "$text" "${D}_count" "$(sl GET /shed429 429)" 2
    assert_metric_exact "$text" "${D}_count" "$(sl GET / 200)" 1
    assert_metric_exact "$text" promshim_load_shed_total "server_port=\"$port\",http_response_status_code=\"429\"" 2
    assert_metric_exact "$text" promshim_load_shed_total "server_port=\"$port\",http_response_status_code=\"503\"" 1
    assert_metric "$text" promshim_load_shed_total '' 3
    # The 500 is not shed load; nothing else is an error.
    assert_metric "$text" "${D}_count" 'error_type="5xx"' 2
}

@test "nginx + wrk (keep-alive, 8 connections, 1 s): the histogram equals nginx's access log exactly" {
    command -v wrk >/dev/null || skip "wrk not installed"
    nginx_shim
    run wrk -t2 -c8 -d1s "http://127.0.0.1:$port/"
    assert_success
    wrk_n=$(sed -n 's/^ *\([0-9][0-9]*\) requests in .*/\1/p' <<<"$output")
    [[ -n "$wrk_n" ]] || fail "no request count in wrk's output: $output"
    ((wrk_n > 100)) || fail "wrk made only $wrk_n requests"
    # Idle again: no request in flight, no connection open (nginx logs a
    # request before it closes its connection).
    wait_metric "$eport" http_server_active_requests "server_port=\"$port\"" 0
    wait_metric "$eport" promshim_connections_active 'role="server"' 0
    wait_until 5 _log_stable "$NGINX_DIR/access.log"
    n_log=$(access_log_count "$NGINX_DIR/access.log" '"GET / HTTP/1.1"')
    text=$(scrape "$eport")
    # Every request to / whatever its outcome (a response cut by wrk's close
    # would show as status "" with an error_type, and is logged by nginx too).
    hist=$(metric_sum "$text" "${D}_count" "http_route=\"/\",server_port=\"$port\"")
    assert_equal "$hist" "$n_log"
    # wrk counts only the responses it read before its time was up. nginx
    # also served the requests that were in flight then (at most one per
    # connection: wrk does not pipeline), so wrk <= served <= wrk + 8.
    ((wrk_n <= hist && hist <= wrk_n + 8)) || fail "wrk=$wrk_n histogram=$hist: not within [wrk, wrk+8]"
    assert_metric "$text" "${D}_count" "server_port=\"$port\"" "$n_log"
    assert_equal "$(access_log_count "$NGINX_DIR/access.log" .)" "$n_log"
    assert_metric "$text" promshim_parse_errors_total '' 0
}

# _log_stable FILE: FILE's line count is the same 200 ms apart.
_log_stable() {
    local a b
    a=$(wc -l <"$1")
    sleep 0.2
    b=$(wc -l <"$1")
    [[ "$a" == "$b" ]]
}

@test "pipelining: 3 GETs in one write to nginx count 3 on the server and 3 on the client" {
    nginx_shim
    tf="$BATS_TEST_TMPDIR/raw.prom"
    tf_env "$tf"
    req='GET / HTTP/1.1\r\nHost: localhost\r\n\r\n'
    run "${TF_ENV[@]}" "$PY" "$PYPROGS/http_raw.py" 127.0.0.1 "$port" "send=$req$req$req" recv=3
    assert_success
    assert_output "$(printf 'status 200 body 17\nstatus 200 body 17\nstatus 200 body 17')"
    wait_metric "$eport" "${D}_count" "server_port=\"$port\"" 3
    text=$(scrape "$eport")
    assert_metric_exact "$text" "${D}_count" "$(sl GET / 200)" 3
    assert_metric_exact "$text" "${RSB}_sum" "$(sl GET / 200)" 51
    assert_metric_exact "$text" promshim_connections_total 'role="server"' 1
    wait_access_log "$NGINX_DIR/access.log" '"GET / HTTP/1.1" 200' 3

    ctext=$(read_textfile "$tf")
    assert_metric_exact "$ctext" "${C}_count" "$(cl GET 200)" 3
    assert_metric "$ctext" "${C}_count" '' 3
    assert_metric_exact "$ctext" http_client_active_requests "$(peer)" 0
    assert_metric "$ctext" promshim_retries_total '' 0
}

@test "bad input: a valid request then binary garbage on one connection to nginx is one parse error, nginx keeps serving" {
    nginx_shim
    run "$PY" "$PYPROGS/http_raw.py" 127.0.0.1 "$port" \
        'send=GET /first HTTP/1.1\r\nHost: x\r\n\r\n' recv=1 \
        'send=\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\xff\xfe\x00binary\r\n\r\n' eof
    assert_success
    assert_line --index 0 'status 404 body 153'
    # nginx answered the garbage with its 400 page and closed
    assert_line --index 1 --regexp '^eof [1-9][0-9]*$'
    wait_metric "$eport" promshim_parse_errors_total 'protocol="http"' 1
    # nginx still serves, and the next connection is measured again.
    run curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/"
    assert_output 200
    wait_metric "$eport" "${D}_count" "$(sl GET / 200)" 1
    text=$(scrape "$eport")
    assert_metric_exact "$text" "${D}_count" "$(sl GET /first 404)" 1
    # The garbage is not a request: after the parse error the connection
    # passes through, so nginx's 400 answer to it is not observed.
    assert_metric "$text" "${D}_count" "server_port=\"$port\"" 2
    assert_metric_exact "$text" promshim_parse_errors_total 'protocol="http"' 1
    assert_metric_exact "$text" http_server_active_requests "server_port=\"$port\"" 0
    wait_access_log "$NGINX_DIR/access.log" '" 400 ' 1
    pid_alive "$NGINX_PID"
    assert_equal "$(pgrep -c -P "$NGINX_PID")" 2
}

@test "bad input: a 17 KiB header to nginx is answered 400 and counted as a GET with its route, plus one parse error" {
    nginx_shim
    "$PY" -c 'import sys; sys.stdout.write("GET /bighdr HTTP/1.1\r\nHost: x\r\nX-Big: " + "a" * 17000 + "\r\n\r\n")' \
        >"$BATS_TEST_TMPDIR/big.req"
    run "$PY" "$PYPROGS/http_raw.py" 127.0.0.1 "$port" "sendfile=$BATS_TEST_TMPDIR/big.req" recv=1 eof
    assert_success
    assert_line --index 0 --regexp '^status (400|431|494) '
    wait_metric "$eport" "${D}_count" "server_port=\"$port\"" 1
    # nginx read only part of the head before answering 400; reading the
    # rest (lingering close) takes the head past the shim's 16 KiB cap.
    wait_metric "$eport" promshim_parse_errors_total 'protocol="http"' 1
    run curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/"
    assert_output 200
    wait_metric "$eport" "${D}_count" "server_port=\"$port\"" 2
    text=$(scrape "$eport")
    assert_metric_exact "$text" http_server_active_requests "server_port=\"$port\"" 0
    assert_metric "$text" "${D}_count" "http_response_status_code=\"400\",server_port=\"$port\"" 1
    # The request line was complete and valid: method GET, route /bighdr.
    assert_metric_exact "$text" "${D}_count" "$(sl GET /bighdr 400)" 1
}

@test "a path of quotes, backslashes and non-UTF-8 bytes is escaped: the scrape passes promtool" {
    command -v promtool >/dev/null || skip "promtool not installed"
    nginx_shim
    run "$PY" "$PYPROGS/http_raw.py" 127.0.0.1 "$port" \
        'send=GET /we"ird\\pa\\"th\xff\xfe\xc3/x HTTP/1.1\r\nHost: x\r\n\r\n' recv=1
    assert_success
    assert_output 'status 404 body 153'
    wait_metric "$eport" "${D}_count" "server_port=\"$port\"" 1
    scrape "$eport" >"$BATS_TEST_TMPDIR/scrape.txt"
    text=$(cat "$BATS_TEST_TMPDIR/scrape.txt")
    assert_promtool_ok "$text"
    # Quote and backslash escaped, each byte that is not UTF-8 one U+FFFD.
    grep -F 'http_route="/we\"ird\\pa\\\"th'$'\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd''/x"' "$BATS_TEST_TMPDIR/scrape.txt" ||
        fail "escaped route not found: $(grep -a 'http_route=' "$BATS_TEST_TMPDIR/scrape.txt" | head -3)"
    fffd=$'\xef\xbf\xbd'
    assert_metric_exact "$text" "${D}_count" "$(sl GET "/we\\\"ird\\\\pa\\\\\\\"th$fffd$fffd$fffd/x" 404)" 1
}

@test "methods: PROPFIND after a GET on one connection is _OTHER" {
    nginx_shim
    run "$PY" "$PYPROGS/http_raw.py" 127.0.0.1 "$port" \
        'send=GET /a HTTP/1.1\r\nHost: x\r\n\r\n' recv=1 \
        'send=PROPFIND /dav HTTP/1.1\r\nHost: x\r\nDepth: 0\r\n\r\n' recv=1
    assert_success
    assert_line --index 1 'status 405 body 157'
    wait_metric "$eport" "${D}_count" "server_port=\"$port\"" 2
    text=$(scrape "$eport")
    assert_metric_exact "$text" "${D}_count" "$(sl _OTHER /dav 405)" 1
    assert_metric_exact "$text" "${D}_count" "$(sl GET /a 404)" 1
    assert_equal "$(metric_count "$text" "${D}_count" 'http_request_method="PROPFIND"')" 0
}

@test "methods: PURGE as the first request of a connection is _OTHER" {
    nginx_shim
    run "$PY" "$PYPROGS/http_raw.py" 127.0.0.1 "$port" \
        'send=PURGE /cache/item HTTP/1.1\r\nHost: x\r\n\r\n' recv=1 \
        'send=GET /after HTTP/1.1\r\nHost: x\r\n\r\n' recv=1
    assert_success
    assert_line --index 0 'status 405 body 157'
    wait_access_log "$NGINX_DIR/access.log" '"PURGE /cache/item' 1
    wait_metric "$eport" "${D}_count" "server_port=\"$port\"" 2 5
    text=$(scrape "$eport")
    assert_metric_exact "$text" "${D}_count" "$(sl _OTHER /cache/item 405)" 1
    assert_metric_exact "$text" "${D}_count" "$(sl GET /after 404)" 1
}

# ------------------------------------------------------- http_server.py ----

@test "test server: chunked, Content-Length, statuses and slow responses are measured on the server side" {
    testsrv_shim
    b="http://127.0.0.1:$port"
    head -c 2000 /dev/zero | tr '\0' 'p' >"$BATS_TEST_TMPDIR/post.bin"
    run curl -s -o /dev/null -w '%{http_code} %{size_download}\n' "$b/chunked" \
        -o /dev/null "$b/length/1000" -o /dev/null "$b/length/5000?x=1" \
        -o /dev/null "$b/status/404" -o /dev/null "$b/status/500" -o /dev/null "$b/status/204" \
        -o /dev/null "$b/slow/300"
    assert_success
    assert_output "$(printf '200 20\n200 1000\n200 5000\n404 11\n500 11\n204 0\n200 5')"
    # POST bodies: 2000 bytes with Content-Length, then 2000 chunked.
    run curl -s -w '%{http_code}\n' --data-binary "@$BATS_TEST_TMPDIR/post.bin" "$b/echo" \
        --next -s -w '%{http_code}\n' -H 'Transfer-Encoding: chunked' \
        --data-binary "@$BATS_TEST_TMPDIR/post.bin" "$b/echo"
    assert_success
    assert_output "$(printf 'got 2000\n200\ngot 2000\n200')"
    wait_metric "$eport" "${D}_count" "server_port=\"$port\"" 9
    text=$(scrape "$eport")
    assert_metric_exact "$text" "${D}_count" "$(sl GET /chunked 200)" 1
    # chunked: the data bytes (6 + 8 + 6), not the chunk framing
    assert_metric_exact "$text" "${RSB}_sum" "$(sl GET /chunked 200)" 20
    assert_metric_exact "$text" "${D}_count" "$(sl GET '/length/{id}' 200)" 2
    assert_metric_exact "$text" "${RSB}_sum" "$(sl GET '/length/{id}' 200)" 6000
    assert_metric_exact "$text" "${RSB}_bucket" "$(sl GET '/length/{id}' 200),le=\"1024\"" 1
    assert_metric_exact "$text" "${RSB}_bucket" "$(sl GET '/length/{id}' 200),le=\"4096\"" 1
    assert_metric_exact "$text" "${RSB}_bucket" "$(sl GET '/length/{id}' 200),le=\"16384\"" 2
    assert_metric_exact "$text" "${D}_count" "$(sl GET '/status/{id}' 404)" 1
    assert_metric_exact "$text" "${D}_count" "$(sl GET '/status/{id}' 500 5xx)" 1
    assert_metric_exact "$text" "${D}_count" "$(sl GET '/status/{id}' 204)" 1
    assert_metric_exact "$text" "${RSB}_sum" "$(sl GET '/status/{id}' 204)" 0
    # /slow/300: at least 0.3 s from the first byte read to the last written
    assert_metric_exact "$text" "${D}_bucket" "$(sl GET '/slow/{id}' 200),le=\"0.25\"" 0
    assert_metric_exact "$text" "${D}_bucket" "$(sl GET '/slow/{id}' 200),le=\"+Inf\"" 1
    slow_sum=$(metric_value "$text" "${D}_sum" "$(sl GET '/slow/{id}' 200)")
    "$PY" -c "import sys; sys.exit(0 if 0.3 <= $slow_sum < 5 else 1)" || fail "slow request took $slow_sum s"
    assert_metric_exact "$text" "${RQB}_sum" "$(sl POST /echo 200)" 4000
    assert_metric_exact "$text" "${RQB}_count" "$(sl POST /echo 200)" 2
    assert_metric_exact "$text" "${RQB}_bucket" "$(sl POST /echo 200),le=\"1024\"" 0
    assert_metric_exact "$text" "${RQB}_bucket" "$(sl POST /echo 200),le=\"4096\"" 2
    assert_metric_exact "$text" http_server_active_requests "server_port=\"$port\"" 0
    assert_metric "$text" promshim_parse_errors_total '' 0
}

@test "test server: a server that closes or resets without answering records no_response" {
    testsrv_shim
    run curl -s -o /dev/null "http://127.0.0.1:$port/noreply"
    assert_equal "$status" 52 # empty reply from server
    run curl -s -o /dev/null "http://127.0.0.1:$port/reset"
    assert_equal "$status" 56 # failure receiving (connection reset)
    wait_metric "$eport" "${D}_count" "server_port=\"$port\"" 2
    text=$(scrape "$eport")
    assert_metric_exact "$text" "${D}_count" "$(sl GET /noreply '' no_response)" 1
    assert_metric_exact "$text" "${D}_count" "$(sl GET /reset '' no_response)" 1
    # no response: no response body observation
    assert_equal "$(metric_count "$text" "${RSB}_count" "server_port=\"$port\"")" 0
    assert_metric_exact "$text" http_server_active_requests "server_port=\"$port\"" 0
}

@test "test server: a response whose body runs until the server closes is a complete 200" {
    testsrv_shim
    run curl -s "http://127.0.0.1:$port/close"
    assert_success
    assert_output 'closing body'
    wait_metric "$eport" "${D}_count" "server_port=\"$port\"" 1
    text=$(scrape "$eport")
    assert_metric_exact "$text" "${D}_count" "$(sl GET /close 200)" 1
    assert_metric_exact "$text" "${RSB}_sum" "$(sl GET /close 200)" 13
    assert_metric "$text" "${D}_count" 'error_type="no_response"' 0
}

@test "test server: a client that goes away before the response" {
    testsrv_shim
    # Reset right after a complete request: the server's late write fails.
    run "$PY" "$PYPROGS/http_raw.py" 127.0.0.1 "$port" 'send=GET /slow/600 HTTP/1.1\r\nHost: x\r\n\r\n' rst
    assert_success
    # Closed (FIN) after a complete request: the kernel still takes the
    # server's whole response, so the server did answer: a 200.
    run "$PY" "$PYPROGS/http_raw.py" 127.0.0.1 "$port" 'send=GET /slow/601 HTTP/1.1\r\nHost: x\r\n\r\n'
    assert_success
    wait_metric "$eport" "${D}_count" "server_port=\"$port\"" 2
    text=$(scrape "$eport")
    assert_metric_exact "$text" "${D}_count" "$(sl GET '/slow/{id}' '' connection_reset)" 1
    assert_metric_exact "$text" "${D}_count" "$(sl GET '/slow/{id}' 200)" 1
    assert_equal "$(metric_count "$text" "${RSB}_count" "server_port=\"$port\"")" 1
    assert_metric_exact "$text" http_server_active_requests "server_port=\"$port\"" 0
}

@test "test server: a request whose head was cut off is no_response, with its request line's method and route" {
    testsrv_shim
    run "$PY" "$PYPROGS/http_raw.py" 127.0.0.1 "$port" 'send=GET /half HTTP/1.1\r\nHost: x\r\n'
    assert_success
    wait_metric "$eport" "${D}_count" "server_port=\"$port\"" 1
    text=$(scrape "$eport")
    assert_metric "$text" "${D}_count" "error_type=\"no_response\"" 1
    assert_metric_exact "$text" http_server_active_requests "server_port=\"$port\"" 0
    assert_metric_exact "$text" "${D}_count" "$(sl GET /half '' no_response)" 1
}

@test "active requests: the server and client gauges are 1 during a slow request and 0 after" {
    testsrv_shim
    cport=$(free_port)
    shim_env "$cport"
    start_bg client "${SHIM_ENV[@]}" "$PY" "$PYPROGS/http_client.py" keepalive 127.0.0.1 "$port" /slow/3000 --linger 30
    wait_metric "$eport" http_server_active_requests "server_port=\"$port\"" 1
    wait_exporter "$cport"
    wait_metric "$cport" http_client_active_requests "$(peer)" 1
    wait_until 10 file_has "$BATS_TEST_TMPDIR/client.out" '^requests=1 200=1$'
    wait_metric "$eport" http_server_active_requests "server_port=\"$port\"" 0
    wait_metric "$cport" http_client_active_requests "$(peer)" 0
    wait_metric "$cport" "${C}_count" "$(cl GET 200)" 1
    wait_metric "$eport" "${D}_count" "$(sl GET '/slow/{id}' 200)" 1
}

# -------------------------------------------------------- python server ----

@test "python http.server: N GETs count N; /users/1../users/500 are one /users/{id} series of 500" {
    mkdir -p "$BATS_TEST_TMPDIR/www"
    printf 'python index\n' >"$BATS_TEST_TMPDIR/www/index.html"
    port=$(free_port)
    eport=$(free_port)
    shim_env "$eport"
    start_http_server "$port" "$BATS_TEST_TMPDIR/www" "${SHIM_ENV[@]}"
    wait_exporter "$eport"
    run "$PY" "$PYPROGS/http_client.py" keepalive 127.0.0.1 "$port" / / / / /index.html
    assert_success
    assert_output 'requests=5 200=5'
    run "$PY" "$PYPROGS/http_client.py" keepalive 127.0.0.1 "$port" '/users/{i}' --range 1:500
    assert_success
    assert_output 'requests=500 404=500'
    wait_metric "$eport" "${D}_count" "server_port=\"$port\"" 505
    text=$(scrape "$eport")
    assert_metric_exact "$text" "${D}_count" "$(sl GET / 200)" 4
    assert_metric_exact "$text" "${D}_count" "$(sl GET /index.html 200)" 1
    assert_metric_exact "$text" "${D}_count" "$(sl GET '/users/{id}' 404)" 500
    # one /users series in each family, nothing else under /users/
    n=$(grep -c "^${D}_count{.*http_route=\"/users/" <<<"$text")
    assert_equal "$n" 1
    n=$(grep -Ec 'http_route="/users/[^{]' <<<"$text" || true)
    assert_equal "$n" 0
    assert_metric_exact "$text" "${RSB}_count" "$(sl GET '/users/{id}' 404)" 500
    assert_metric_exact "$text" http_server_active_requests "server_port=\"$port\"" 0
}

@test "routes: ids are folded by the heuristic, the query dropped; PROMSHIM_HTTP_ROUTES patterns win" {
    testsrv_shim PROMSHIM_HTTP_ROUTES="/orders/{id}/items,/users/{id}"
    run "$PY" "$PYPROGS/http_client.py" keepalive 127.0.0.1 "$port" \
        /orders/abc/items '/orders/xyz/items?page=2' /orders/abc/other \
        /items/42 /items/550e8400-e29b-41d4-a716-446655440000 /items/deadbeef12 \
        /items/AbCdEfGh1234567xYz /items/abcdef '/items/?q=1' /users/bob \
        /users/bob /orders/abc/other /items/abcdef /items/abcdef
    assert_success
    assert_output 'requests=14 404=14'
    wait_metric "$eport" "${D}_count" "server_port=\"$port\"" 14
    text=$(scrape "$eport")
    # the same target again, and again after another (the per-connection
    # route cache), counts under the same route
    assert_metric_exact "$text" "${D}_count" "$(sl GET '/orders/{id}/items' 404)" 2
    assert_metric_exact "$text" "${D}_count" "$(sl GET /orders/abc/other 404)" 2
    assert_metric_exact "$text" "${D}_count" "$(sl GET '/items/{id}' 404)" 4
    assert_metric_exact "$text" "${D}_count" "$(sl GET /items/abcdef 404)" 3
    assert_metric_exact "$text" "${D}_count" "$(sl GET /items/ 404)" 1
    assert_metric_exact "$text" "${D}_count" "$(sl GET '/users/{id}' 404)" 2
    assert_equal "$(metric_count "$text" "${D}_count" "server_port=\"$port\"")" 6
}

# -------------------------------------------------------------- clients ----

@test "curl under the shim: counts per status, 4xx/5xx error types, keep-alive and read-until-close" {
    port=$(free_port)
    start_http_test_server "$port"
    b="http://127.0.0.1:$port"
    tf="$BATS_TEST_TMPDIR/curl.prom"
    tf_env "$tf"
    run "${TF_ENV[@]}" curl -s -o /dev/null -w '%{http_code}\n' "$b/length/10" -o /dev/null "$b/length/20" \
        -o /dev/null "$b/chunked" -o /dev/null "$b/status/404" -o /dev/null "$b/length/30" \
        -o /dev/null "$b/status/500" -o /dev/null "$b/close"
    assert_success
    assert_output "$(printf '200\n200\n200\n404\n200\n500\n200')"
    text=$(read_textfile "$tf")
    assert_metric_exact "$text" "${C}_count" "$(cl GET 200)" 5
    assert_metric_exact "$text" "${C}_count" "$(cl GET 404 4xx)" 1
    assert_metric_exact "$text" "${C}_count" "$(cl GET 500 5xx)" 1
    assert_metric "$text" "${C}_count" '' 7
    assert_metric_exact "$text" http_client_active_requests "$(peer)" 0
    assert_metric_exact "$text" promshim_peer_consecutive_failures "$(peer)" 0
    # /status/500 repeats the failed /status/404's route (/status/{id}) to
    # the same peer within 10 s: one retry.
    assert_metric_exact "$text" promshim_retries_total "$(peer)" 1
    assert_metric "$text" http_client_rate_limited_total '' 0
    # one connection up to /close (keep-alive), none after
    assert_metric_exact "$text" promshim_connections_total 'role="client"' 1
}

@test "python urllib under the shim: statuses, a 429 is rate limited, no_response and connection_reset" {
    port=$(free_port)
    start_http_test_server "$port"
    tf="$BATS_TEST_TMPDIR/urllib.prom"
    tf_env "$tf"
    run "${TF_ENV[@]}" "$PY" "$PYPROGS/http_client.py" urllib 127.0.0.1 "$port" \
        /length/10 /chunked /close /close10 /status/404 /other/status/500 /noreply /reset
    assert_success
    assert_output 'requests=8 200=4 404=1 500=1 error:ConnectionResetError=1 error:RemoteDisconnected=1'
    text=$(read_textfile "$tf")
    assert_metric_exact "$text" "${C}_count" "$(cl GET 200)" 4
    assert_metric_exact "$text" "${C}_count" "$(cl GET 404 4xx)" 1
    assert_metric_exact "$text" "${C}_count" "$(cl GET 500 5xx)" 1
    assert_metric_exact "$text" "${C}_count" "$(cl GET '' no_response)" 1
    assert_metric_exact "$text" "${C}_count" "$(cl GET '' connection_reset)" 1
    assert_metric "$text" "${C}_count" '' 8
    assert_metric "$text" http_client_rate_limited_total '' 0
    # four failures in a row since the last success, each on its own route
    # (so none is a retry)
    assert_metric_exact "$text" promshim_peer_consecutive_failures "$(peer)" 4
    assert_metric "$text" promshim_retries_total '' 0
    assert_metric_exact "$text" http_client_active_requests "$(peer)" 0
    # urllib: one connection per request
    assert_metric_exact "$text" promshim_connections_total 'role="client"' 8

    tf2="$BATS_TEST_TMPDIR/urllib429.prom"
    tf_env "$tf2"
    run "${TF_ENV[@]}" "$PY" "$PYPROGS/http_client.py" urllib 127.0.0.1 "$port" /status/429 /length/1
    assert_success
    assert_output 'requests=2 200=1 429=1'
    text=$(read_textfile "$tf2")
    assert_metric_exact "$text" "${C}_count" "$(cl GET 429 4xx)" 1
    assert_metric_exact "$text" http_client_rate_limited_total "$(peer)" 1
    assert_metric_exact "$text" promshim_peer_consecutive_failures "$(peer)" 0
}

@test "clients: curl and urllib that give up while waiting record error_type timeout" {
    port=$(free_port)
    start_http_test_server "$port"
    tf="$BATS_TEST_TMPDIR/curl.prom"
    tf_env "$tf"
    run "${TF_ENV[@]}" curl -s -o /dev/null --max-time 0.4 "http://127.0.0.1:$port/slow/3000"
    assert_equal "$status" 28
    text=$(read_textfile "$tf")
    assert_metric_exact "$text" "${C}_count" "$(cl GET '' timeout)" 1
    assert_metric "$text" "${C}_count" '' 1
    assert_metric_exact "$text" http_client_active_requests "$(peer)" 0
    assert_metric_exact "$text" promshim_peer_consecutive_failures "$(peer)" 1

    tf2="$BATS_TEST_TMPDIR/py.prom"
    tf_env "$tf2"
    run "${TF_ENV[@]}" "$PY" "$PYPROGS/http_client.py" urllib 127.0.0.1 "$port" /slow/3000 --timeout 0.4
    assert_success
    assert_output 'requests=1 error:TimeoutError=1'
    text=$(read_textfile "$tf2")
    assert_metric_exact "$text" "${C}_count" "$(cl GET '' timeout)" 1
    assert_metric "$text" "${C}_count" '' 1
}

@test "retries: a request failing twice (503) then succeeding is 2 retries, consecutive failures back to 0" {
    port=$(free_port)
    start_http_test_server "$port"
    tf="$BATS_TEST_TMPDIR/flaky.prom"
    tf_env "$tf"
    run "${TF_ENV[@]}" "$PY" "$PYPROGS/http_client.py" urllib 127.0.0.1 "$port" \
        /flaky/alpha/2 /flaky/alpha/2 /flaky/alpha/2
    assert_success
    assert_output 'requests=3 200=1 503=2'
    text=$(read_textfile "$tf")
    assert_metric_exact "$text" "${C}_count" "$(cl GET 503 5xx)" 2
    assert_metric_exact "$text" "${C}_count" "$(cl GET 200)" 1
    assert_metric_exact "$text" promshim_retries_total "$(peer)" 2
    assert_metric_exact "$text" promshim_peer_consecutive_failures "$(peer)" 0
    assert_metric "$text" promshim_retries_exhausted_total '' 0

    # Keep-alive client, failures that never succeed: the gauge holds them.
    tf2="$BATS_TEST_TMPDIR/fail.prom"
    tf_env "$tf2"
    run "${TF_ENV[@]}" "$PY" "$PYPROGS/http_client.py" keepalive 127.0.0.1 "$port" \
        /flaky/beta/9 /flaky/beta/9 /flaky/beta/9
    assert_success
    assert_output 'requests=3 503=3'
    text=$(read_textfile "$tf2")
    assert_metric_exact "$text" "${C}_count" "$(cl GET 503 5xx)" 3
    assert_metric_exact "$text" promshim_retries_total "$(peer)" 2
    assert_metric_exact "$text" promshim_peer_consecutive_failures "$(peer)" 3
}

@test "retries: a run of failures older than 10 s is counted exhausted when the route is requested again" {
    port=$(free_port)
    start_http_test_server "$port"
    tf="$BATS_TEST_TMPDIR/exhausted.prom"
    tf_env "$tf"
    run "${TF_ENV[@]}" "$PY" "$PYPROGS/http_client.py" keepalive 127.0.0.1 "$port" \
        /status/500 /status/500 @sleep=10200 /status/500
    assert_success
    assert_output 'requests=3 500=3'
    text=$(read_textfile "$tf")
    assert_metric_exact "$text" "${C}_count" "$(cl GET 500 5xx)" 3
    # the second request retried the first; the third came too late to be a
    # retry and ended that run: exhausted
    assert_metric_exact "$text" promshim_retries_total "$(peer)" 1
    assert_metric_exact "$text" promshim_retries_exhausted_total "$(peer)" 1
    assert_metric_exact "$text" promshim_peer_consecutive_failures "$(peer)" 3
}
