#!/usr/bin/env bats
# The status page at / (exporter/page.c) as a browser sees it: nginx (2
# workers) under the shim on a free loopback port, traffic from curl, and
# headless Chromium (Debian's package) loading http://127.0.0.1:EPORT/:
# the DOM it built, a screenshot, the raw HTML's validity and
# self-containedness, escaping of hostile label values, and the
# exporter's protection applied to the page. Skipped, saying why, when
# Chromium is not installed.

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

# nginx_page_start [VAR=VALUE...]: nginx under the shim on $port, its
# exporter (and so the page) on $eport. nginx_page: and wait for /healthz.
nginx_page_start() {
    port=$(free_port)
    eport=$(free_port)
    shim_env "$eport" "$@"
    start_nginx_http "$port" "${SHIM_ENV[@]}"
}

nginx_page() {
    nginx_page_start "$@"
    wait_exporter "$eport"
}

# page_rows FILE SECTION_ID: the rows of the table in <section id=ID> of the
# HTML in FILE, one line each: "Header=cell|Header=cell|..." (cell text
# with whitespace collapsed).
# shellcheck disable=SC2016
ROWS_PY='
import sys
from html.parser import HTMLParser
path, want = sys.argv[1], sys.argv[2]
class P(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.depth = 0      # inside the wanted section
        self.heads, self.row, self.cell = [], None, None
        self.in_th = False
        self.skip = 0       # inside <svg>: its <title> is not cell text
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "section":
            if self.depth:
                self.depth += 1
            elif a.get("id") == want:
                self.depth = 1
        if not self.depth:
            return
        if tag == "svg":
            self.skip += 1
        elif tag == "th":
            self.in_th, self.cell = True, ""
        elif tag == "tr":
            self.row = []
        elif tag == "td":
            self.cell = ""
    def handle_endtag(self, tag):
        if not self.depth:
            return
        if tag == "section":
            self.depth -= 1
        elif tag == "svg":
            self.skip -= 1
        elif tag == "th":
            self.heads.append(" ".join(self.cell.split()))
            self.in_th, self.cell = False, None
        elif tag == "td" and self.row is not None:
            self.row.append(" ".join(self.cell.split()))
            self.cell = None
        elif tag == "tr" and self.row:
            print("|".join(f"{h}={c}" for h, c in zip(self.heads, self.row)))
            self.row = None
    def handle_data(self, data):
        if self.depth and self.cell is not None and not self.skip:
            self.cell += data
p = P()
p.feed(open(path, encoding="utf-8", errors="strict").read())
p.close()
'

page_rows() {
    "$PY" -c "$ROWS_PY" "$1" "$2"
}

# HTML checker: strict UTF-8, a doctype, every element closed in order
# (void elements and self-closed SVG elements aside), nothing left open,
# and one <html>, <head>, <body>, <title> (outside the SVG charts).
# shellcheck disable=SC2016
VALID_PY='
import sys
from html.parser import HTMLParser
raw = open(sys.argv[1], "rb").read()
text = raw.decode("utf-8")  # strict: raises on bytes that are not UTF-8
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
errors, stack, seen = [], [], {}
class V(HTMLParser):
    def handle_decl(self, decl):
        seen["doctype"] = decl.lower()
    def handle_starttag(self, tag, attrs):
        if not any(t == "svg" for t, _ in stack):  # an SVG <title> is its tooltip
            seen[tag] = seen.get(tag, 0) + 1
        if tag not in VOID:
            stack.append((tag, self.getpos()))
    def handle_startendtag(self, tag, attrs):
        seen[tag] = seen.get(tag, 0) + 1
        if tag not in VOID and not any(t == "svg" for t, _ in stack):
            errors.append(f"self-closed <{tag}/> outside svg at {self.getpos()}")
    def handle_endtag(self, tag):
        if tag in VOID:
            errors.append(f"end tag of void element </{tag}> at {self.getpos()}")
        elif not stack or stack[-1][0] != tag:
            errors.append(f"</{tag}> at {self.getpos()} closes {stack[-1] if stack else None}")
        else:
            stack.pop()
v = V(convert_charrefs=True)
v.feed(text)
v.close()
if not text.startswith("<!DOCTYPE html>"):
    errors.append("does not start with <!DOCTYPE html>")
if stack:
    errors.append(f"left open: {stack}")
for t in ("html", "head", "body", "title"):
    if seen.get(t) != 1:
        errors.append(f"<{t}> appears {seen.get(t, 0)} times")
if '"'"'<meta charset="utf-8">'"'"' not in text:
    errors.append("no <meta charset=utf-8>")
for e in errors:
    print(e)
sys.exit(1 if errors else 0)
'

# ---------------------------------------------------------------- tests ----

@test "page: chromium --dump-dom shows route / with exactly the 25 requests curl sent" {
    reason=$(chromium_missing) && skip "$reason"
    nginx_page
    curl_n 25 "http://127.0.0.1:$port/"
    run curl "${CURL_ARGS[@]}"
    assert_success
    wait_metric "$eport" "${D}_count" "http_route=\"/\"" 25
    chromium_headless --dump-dom "http://127.0.0.1:$eport/" >"$BATS_TEST_TMPDIR/dom.html" ||
        fail "chromium --dump-dom failed: $(tail -5 "$BATS_TEST_TMPDIR/chromium.err")"
    run page_rows "$BATS_TEST_TMPDIR/dom.html" http-server
    assert_success
    assert_line --regexp '^Method=GET\|Route=/\|Status=2xx\|.*\|Total=25\|'
    # one row for it, and nothing else was counted on the server
    assert_equal "$(grep -c '^Method=GET|Route=/|' <<<"$output")" 1
    assert_equal "${#lines[@]}" 1
    # the page's own header and refresh, as the browser parsed them
    grep -q '<meta http-equiv="refresh" content="5">' "$BATS_TEST_TMPDIR/dom.html"
    grep -q '<h1>promshim <span>nginx</span></h1>' "$BATS_TEST_TMPDIR/dom.html"
}

@test "page: chromium --screenshot renders a 1200x900 PNG after varied traffic (build/screenshots/status-page.png)" {
    reason=$(chromium_missing) && skip "$reason"
    nginx_page
    # about 32 s of a varying load (7 snapshots, 5 s apart, for the charts):
    # pages, a big file, 404s (ids folded into the route), 500s and 429s
    local i j n cfg="$BATS_TEST_TMPDIR/curl.cfg"
    for ((i = 0; i < 32; i++)); do
        n=$((20 + (i % 8) * 12))
        : >"$cfg"
        for ((j = 0; j < n; j++)); do
            printf 'url = "http://127.0.0.1:%s/"\noutput = "/dev/null"\n' "$port" >>"$cfg"
            ((j % 4)) || printf 'url = "http://127.0.0.1:%s/index.html"\noutput = "/dev/null"\n' "$port" >>"$cfg"
            ((j % 6)) || printf 'url = "http://127.0.0.1:%s/users/%s/orders"\noutput = "/dev/null"\n' \
                "$port" "$((1000 + j))" >>"$cfg"
        done
        ((i % 3)) || printf 'url = "http://127.0.0.1:%s/big.bin"\noutput = "/dev/null"\n' "$port" >>"$cfg"
        ((i % 4)) || printf 'url = "http://127.0.0.1:%s/err500"\noutput = "/dev/null"\n' "$port" >>"$cfg"
        ((i % 5)) || printf 'url = "http://127.0.0.1:%s/shed429"\noutput = "/dev/null"\n' "$port" >>"$cfg"
        curl -s -K "$cfg" || fail "curl failed"
        sleep 1
    done
    local png="$BATS_TEST_TMPDIR/page.png"
    chromium_headless --screenshot="$png" --window-size=1200,900 --hide-scrollbars "http://127.0.0.1:$eport/" \
        >/dev/null || fail "chromium --screenshot failed: $(tail -5 "$BATS_TEST_TMPDIR/chromium.err")"
    [[ -s "$png" ]] || fail "no screenshot at $png"
    # a PNG of 1200x900 with more than a blank page's worth of bytes
    run "$PY" -c '
import struct, sys
b = open(sys.argv[1], "rb").read()
assert b[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
w, h = struct.unpack(">II", b[16:24])
print(w, h, len(b))
' "$png"
    assert_success
    read -r w h size <<<"$output"
    assert_equal "$w" 1200
    assert_equal "$h" 900
    ((size > 30000)) || fail "screenshot is only $size bytes: a blank page?"
    mkdir -p "$REPO/build/screenshots"
    cp "$png" "$REPO/build/screenshots/status-page.png"
}

@test "page: the HTML is valid, self-contained (no other host, script, stylesheet link, import or url()) and UTF-8" {
    nginx_page
    curl_n 10 "http://127.0.0.1:$port/"
    run curl "${CURL_ARGS[@]}"
    run curl -s -o /dev/null "http://127.0.0.1:$port/err500"
    wait_metric "$eport" "${D}_count" "server_port=\"$port\"" 11
    curl -sf -D "$BATS_TEST_TMPDIR/headers" -o "$BATS_TEST_TMPDIR/page.html" "http://127.0.0.1:$eport/" ||
        fail "GET / failed"
    grep -qi '^content-type: text/html; charset=utf-8' "$BATS_TEST_TMPDIR/headers"
    run "$PY" -c "$VALID_PY" "$BATS_TEST_TMPDIR/page.html"
    assert_success
    assert_output ''
    local page="$BATS_TEST_TMPDIR/page.html"
    # no absolute or scheme-relative URL, nothing loaded from anywhere
    run grep -Eion 'https?:|(href|src|action|xlink:href)[[:space:]]*=[[:space:]]*"?//|<script|<link|<img|<iframe|<object|<embed|@import|url\(' "$page"
    assert_failure
    # links are relative paths of the exporter itself
    run grep -Eo 'href="[^"]*"' "$page"
    assert_success
    for l in "${lines[@]}"; do
        [[ "$l" =~ ^href=\"/[a-z]*\"$ ]] || fail "unexpected link: $l"
    done
    # the inline SVG charts are there, and the page asks to be refreshed
    grep -q '<svg class="sp"' "$page"
    grep -q '<meta http-equiv="refresh" content="5">' "$page"
    run page_rows "$page" http-server
    assert_line --regexp '^Method=GET\|Route=/err500\|Status=5xx\|.*Errors=100\.0%\|.*Total=1\|'
}

@test "page: a hostile path (quotes, <script>, bytes that are not UTF-8) shows as escaped text, never as markup" {
    nginx_page
    # a raw request: curl would percent-encode some of these bytes
    run "$PY" - "$port" <<'PYEOF'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
s.sendall(b"GET /a\"b'c<script>alert(1)</script>\xff\xfe&<i>x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
r = b""
while True:
    d = s.recv(65536)
    if not d:
        break
    r += d
print(r.split(b"\r\n")[0].decode())
PYEOF
    assert_success
    assert_output 'HTTP/1.1 404 Not Found'
    wait_metric "$eport" "${D}_count" "server_port=\"$port\"" 1
    local page="$BATS_TEST_TMPDIR/page.html"
    curl -sf -o "$page" "http://127.0.0.1:$eport/" || fail "GET / failed"
    # the route, escaped: entities for the markup, U+FFFD for the two bytes
    local want
    want=$(printf '%s\xef\xbf\xbd\xef\xbf\xbd%s' \
        '<td class="k">/a&quot;b&#39;c&lt;script&gt;alert(1)&lt;/script&gt;' '&amp;&lt;i&gt;x</td>')
    grep -qF -- "$want" "$page" || fail "escaped route not found; route cells: $(grep -o '<td class="k">/a[^/]*' "$page")"
    run grep -Ec '<script|<i>' "$page"
    assert_output 0
    run "$PY" -c "$VALID_PY" "$page"
    assert_success
    if ! reason=$(chromium_missing); then
        # the browser's DOM: the route is one text cell, no element made of it
        chromium_headless --dump-dom "http://127.0.0.1:$eport/" >"$BATS_TEST_TMPDIR/dom.html" ||
            fail "chromium --dump-dom failed"
        run grep -Ec '<script|<i>' "$BATS_TEST_TMPDIR/dom.html"
        assert_output 0
        run page_rows "$BATS_TEST_TMPDIR/dom.html" http-server
        assert_line --regexp "^Method=GET\|Route=/a\"b'c<script>alert\(1\)</script>"$'\xef\xbf\xbd\xef\xbf\xbd'"&<i>x\|Status=4xx\|"
    fi
}

@test "page: with protection on, / answers an allowed client only; basic auth guards it too" {
    printf 's3cret\n' >"$BATS_TEST_TMPDIR/pw"
    nginx_page PROMSHIM_METRICS_METRICS_PROTECTION_ENABLED=true PROMSHIM_METRICS_ALLOW_METRICS_IPS=127.0.0.1/32
    curl_n 3 "http://127.0.0.1:$port/"
    run curl "${CURL_ARGS[@]}"
    wait_metric "$eport" "${D}_count" "http_route=\"/\"" 3
    # a client the allow list does not name is closed before any byte
    run curl -s --max-time 5 --interface 127.0.0.2 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$eport/"
    assert_output 000
    run curl -sf --max-time 5 -o /dev/null "http://127.0.0.1:$eport/"
    assert_success
    if ! reason=$(chromium_missing); then
        chromium_headless --dump-dom "http://127.0.0.1:$eport/" >"$BATS_TEST_TMPDIR/dom.html" ||
            fail "chromium --dump-dom failed"
        run page_rows "$BATS_TEST_TMPDIR/dom.html" http-server
        assert_line --regexp '^Method=GET\|Route=/\|Status=2xx\|.*\|Total=3\|'
    fi
    stop_all

    # basic auth: no or wrong credentials get 401 and no page
    nginx_page_start PROMSHIM_METRICS_BASIC_AUTH_USER=prom \
        PROMSHIM_METRICS_BASIC_AUTH_PASSWORD_FILE="$BATS_TEST_TMPDIR/pw"
    wait_until 10 curl -sf --max-time 2 -u prom:s3cret -o /dev/null "http://127.0.0.1:$eport/healthz"
    run curl -s --max-time 5 -w '\n%{http_code}' "http://127.0.0.1:$eport/"
    assert_line --index 1 401
    refute_output --partial '<!DOCTYPE html>'
    run curl -s --max-time 5 -u prom:wrong -o /dev/null -w '%{http_code}' "http://127.0.0.1:$eport/"
    assert_output 401
    run curl -sf --max-time 5 -u prom:s3cret "http://127.0.0.1:$eport/"
    assert_success
    assert_output --partial '<!DOCTYPE html>'
}
