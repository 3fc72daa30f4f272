#!/usr/bin/env bats
# TLS: the plaintext of OpenSSL and GnuTLS connections, measured like clear
# ones: nginx serving HTTPS under the shim, curl (OpenSSL, custom BIO),
# python3's ssl module (libssl loaded RTLD_LOCAL), gnutls-cli (GnuTLS) and
# wrk over HTTPS as clients; memory BIOs that have no socket are counted as
# unattributed, and a connection cut mid-record breaks nothing.

load 'helpers/common'
bats_require_minimum_version 1.5.0

setup() { common_setup; }
teardown() { common_teardown; }

# https_nginx: nginx with a plain port and a TLS port (self-signed
# certificate made here), under the shim with its exporter on EPORT.
# Sets PORT, SPORT, EPORT, NGX (its folder).
https_nginx() {
    PORT=$(free_port)
    SPORT=$(free_port)
    EPORT=$(free_port)
    NGX="$BATS_TEST_TMPDIR/nginx-$PORT"
    mkdir -p "$NGX"
    openssl req -x509 -newkey rsa:2048 -nodes -keyout "$NGX/key.pem" -out "$NGX/cert.pem" -days 2 \
        -subj /CN=localhost 2>/dev/null || fail "openssl req failed"
    NGINX_HTTP_EXTRA="server { listen 127.0.0.1:$SPORT ssl; ssl_certificate $NGX/cert.pem;
        ssl_certificate_key $NGX/key.pem; root $NGX/html; location / { } }" \
        start_nginx_http "$PORT" LD_PRELOAD="$SHIM" PROMSHIM_EXPORTER_PORT="$EPORT"
    wait_until 10 port_listening "$SPORT" || fail "nginx TLS port $SPORT did not start"
    wait_exporter "$EPORT"
}

# server_count ROUTE STATUS: the server histogram's count for the TLS port
server_count() {
    metric_sum "$(scrape "$EPORT")" http_server_request_duration_seconds_count \
        "http_route=\"$1\",http_response_status_code=\"$2\",server_port=\"$SPORT\""
}

# count_is ROUTE STATUS N: server_count is N now (for wait_until)
count_is() {
    [[ "$(server_count "$1" "$2")" == "$3" ]]
}

# count_is_logged ROUTE STATUS REGEX: server_count equals the access log's matching lines
count_is_logged() {
    [[ "$(server_count "$1" "$2")" == "$(access_log_count "$NGX/access.log" "$3")" ]]
}

@test "nginx over HTTPS with curl: server and client count every request, no parse error" {
    https_nginx
    tf="$BATS_TEST_TMPDIR/curl.prom"
    tf_env "$tf"
    urls=()
    for _ in 1 2 3 4 5; do urls+=("https://127.0.0.1:$SPORT/index.html"); done
    run "${TF_ENV[@]}" curl -sk -o /dev/null "${urls[@]}" "https://127.0.0.1:$SPORT/missing"
    assert_success
    wait_until 10 count_is /index.html 200 5
    assert_equal "$(server_count /missing 404)" 1
    text=$(read_textfile "$tf")
    assert_metric "$text" http_client_request_duration_seconds_count \
        "http_response_status_code=\"200\",server_port=\"$SPORT\"" 5
    assert_metric "$text" http_client_request_duration_seconds_count \
        "http_response_status_code=\"404\",server_port=\"$SPORT\",error_type=\"4xx\"" 1
    assert_metric "$text" promshim_parse_errors_total '' 0
    assert_metric "$text" promshim_tls_unattributed_total '' 0
    # the ciphertext is still counted as network bytes
    [[ "$(metric_sum "$text" promshim_network_io_bytes_total 'direction="receive"')" -gt 1000 ]]
}

@test "python3's ssl module (libssl loaded RTLD_LOCAL) as a client" {
    https_nginx
    tf="$BATS_TEST_TMPDIR/py.prom"
    tf_env "$tf"
    run "${TF_ENV[@]}" "$PY" -c "
import ssl, urllib.request
ctx = ssl._create_unverified_context()
for _ in range(4):
    urllib.request.urlopen('https://127.0.0.1:$SPORT/index.html', context=ctx).read()
print('done')"
    assert_success
    assert_output done
    text=$(read_textfile "$tf")
    assert_metric "$text" http_client_request_duration_seconds_count \
        "http_request_method=\"GET\",http_response_status_code=\"200\",server_port=\"$SPORT\"" 4
    wait_until 10 count_is /index.html 200 4
}

@test "gnutls-cli (GnuTLS's gnutls_record_send and _recv) as a client" {
    command -v gnutls-cli >/dev/null || skip "gnutls-cli is not installed (Debian's gnutls-bin)"
    https_nginx
    tf="$BATS_TEST_TMPDIR/gnutls.prom"
    tf_env "$tf"
    run bash -c "printf 'GET /index.html HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' |
        $(printf '%q ' "${TF_ENV[@]}") gnutls-cli --insecure --logfile=/dev/null -p $SPORT 127.0.0.1"
    assert_output --partial 'hello from nginx'
    text=$(read_textfile "$tf")
    assert_metric "$text" http_client_request_duration_seconds_count \
        "http_response_status_code=\"200\",server_port=\"$SPORT\"" 1
    wait_until 10 count_is /index.html 200 1
}

@test "wrk over HTTPS: the server histogram equals nginx's access log" {
    https_nginx
    run wrk -t1 -c4 -d1s "https://127.0.0.1:$SPORT/index.html"
    assert_success
    wrk_n=$(awk '/requests in/ { print $1 }' <<<"$output")
    # nginx logs a request when it is done: wait until the log stops moving
    wait_until 10 count_is_logged /index.html 200 'GET /index.html HTTP/1.1" 200'
    n=$(server_count /index.html 200)
    # wrk leaves unread the responses in flight when its time is up (4 connections)
    ((wrk_n <= n && n <= wrk_n + 4)) || fail "wrk=$wrk_n histogram=$n"
}

@test "memory BIOs (no socket at all) are counted as unattributed; nothing is parsed or broken" {
    tf="$BATS_TEST_TMPDIR/bio.prom"
    tf_env "$tf"
    dir="$BATS_TEST_TMPDIR"
    openssl req -x509 -newkey rsa:2048 -nodes -keyout "$dir/key.pem" -out "$dir/cert.pem" -days 2 \
        -subj /CN=localhost 2>/dev/null
    run "${TF_ENV[@]}" "$PY" - "$dir" <<'EOF'
import socket, ssl, sys
d = sys.argv[1]
sctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER); sctx.load_cert_chain(d + "/cert.pem", d + "/key.pem")
cctx = ssl._create_unverified_context()
ci, co, si, so = ssl.MemoryBIO(), ssl.MemoryBIO(), ssl.MemoryBIO(), ssl.MemoryBIO()
c = cctx.wrap_bio(ci, co, server_hostname="localhost"); s = sctx.wrap_bio(si, so, server_side=True)
def pump():
    while co.pending: si.write(co.read())
    while so.pending: ci.write(so.read())
for _ in range(10):
    for o in (c, s):
        try: o.do_handshake()
        except ssl.SSLWantReadError: pass
    pump()
c.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"); pump()
print(s.read(100).decode().split("\r\n")[0])
# a socket opened too, so the process has something to count
socket.socket().close()
EOF
    assert_success
    assert_output 'GET / HTTP/1.1'
    text=$(read_textfile "$tf")
    [[ "$(metric_sum "$text" promshim_tls_unattributed_total '')" -ge 2 ]]
    assert_metric "$text" http_client_request_duration_seconds_count '' 0
    assert_metric "$text" promshim_parse_errors_total '' 0
}

@test "a TLS connection cut in the middle of a record: nginx and its metrics go on" {
    https_nginx
    run "$PY" -c "
import socket
s = socket.create_connection(('127.0.0.1', $SPORT))
s.sendall(bytes([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00]))  # a handshake record cut short
s.close()"
    assert_success
    run curl -sk "https://127.0.0.1:$SPORT/index.html"
    assert_output 'hello from nginx'
    wait_until 10 count_is /index.html 200 1
    assert_metric "$(scrape "$EPORT")" promshim_parse_errors_total '' 0
}
