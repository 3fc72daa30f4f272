# shellcheck shell=bash
# Variables set here for the test files (SHIM_ENV, TF_ENV, *_PID, ...):
# shellcheck disable=SC2034
# Shared helpers for the promshim bats suites.
#
#   load 'helpers/common'
#   setup()    { common_setup; }
#   teardown() { common_teardown; }
#
# Every process a test starts goes through start_bg (or track_pid), which
# records its pid in $BATS_TEST_TMPDIR/pids; common_teardown stops them all by
# pid (TERM, wait with a deadline, then KILL), whatever the test's outcome.
# Nothing here exports LD_PRELOAD: only the commands a test puts behind
# "${SHIM_ENV[@]}" or "${TF_ENV[@]}" run under the shim.

load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
SHIM="$REPO/build/libpromshim.so"
WRAPPER="$REPO/build/promshim"
PROGS="$REPO/build/progs"
PYPROGS="$REPO/tests/progs"
NGINX="${NGINX:-/usr/sbin/nginx}"
# The system interpreter, not a version-manager shim script (which would run
# a shell and more under LD_PRELOAD, and start slower).
if [[ -x /usr/bin/python3 ]]; then PY=/usr/bin/python3; else PY="$(command -v python3)"; fi
export REPO SHIM WRAPPER PROGS PYPROGS NGINX PY

# A hung test fails after this long instead of hanging the run.
BATS_TEST_TIMEOUT="${BATS_TEST_TIMEOUT:-120}"

# ---------------------------------------------------------------- setup ----

common_setup() {
    [[ -f "$SHIM" ]] || fail "missing $SHIM: run 'make all' first"
    [[ -x "$PROGS/conn_client" ]] || fail "missing $PROGS/conn_client: run 'make all' first"
    : >"$BATS_TEST_TMPDIR/pids"
    : >"$BATS_TEST_TMPDIR/logs"
    : >"$BATS_TEST_TMPDIR/ports"
}

common_teardown() {
    stop_all
}

# ------------------------------------------------------ environment words ----

# shim_env PORT [VAR=VALUE...]: SHIM_ENV=(env LD_PRELOAD=... PROMSHIM_EXPORTER_PORT=PORT ...)
# to put in front of a command that should run under the shim with its
# exporter on PORT.
shim_env() {
    local port=$1
    shift
    SHIM_ENV=(env LD_PRELOAD="$SHIM" PROMSHIM_EXPORTER_PORT="$port" "$@")
}

# tf_env FILE [VAR=VALUE...]: TF_ENV=(env LD_PRELOAD=... exporter off, textfile FILE)
# for a short-lived client whose metrics are read from FILE after it exits.
tf_env() {
    local file=$1
    shift
    TF_ENV=(env LD_PRELOAD="$SHIM" PROMSHIM_EXPORTER_ENABLED=0 PROMSHIM_TEXTFILE_PATH="$file" "$@")
}

# --------------------------------------------------------------- ports ----

# free_port [COUNT]: print a port P such that P..P+COUNT-1 can all be bound
# now on 0.0.0.0 (no listener, no TIME_WAIT leftovers), chosen below the
# kernel's ephemeral range so client source ports cannot take it, and not
# handed out before in this test.
free_port() {
    local count=${1:-1} port
    port=$("$PY" - "$count" "$BATS_TEST_TMPDIR/ports" <<'PYEOF'
import random, socket, sys
count, used_file = int(sys.argv[1]), sys.argv[2]
try:
    used = {int(x) for x in open(used_file).read().split()}
except OSError:
    used = set()
lo, hi = 20000, 32000 - count
for _ in range(500):
    base = random.randint(lo, hi)
    ports = range(base, base + count)
    if any(p in used for p in ports):
        continue
    held = []
    try:
        for p in ports:
            for fam, addr in ((socket.AF_INET, "0.0.0.0"), (socket.AF_INET6, "::")):
                s = socket.socket(fam, socket.SOCK_STREAM)
                held.append(s)
                if fam == socket.AF_INET6:
                    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
                s.bind((addr, p))
    except OSError:
        continue
    finally:
        for s in held:
            s.close()
    print(base)
    sys.exit(0)
sys.exit("free_port: no free port found")
PYEOF
    ) || return 1
    local i
    for ((i = 0; i < count; i++)); do echo $((port + i)) >>"$BATS_TEST_TMPDIR/ports"; done
    echo "$port"
}

# port_listening PORT: something listens on TCP PORT (any address). Does not
# connect, so it never shows up in a server's metrics.
port_listening() {
    [[ -n "$(ss -Hltn "sport = :$1" 2>/dev/null)" ]]
}

# --------------------------------------------------------------- waiting ----

# now_ms: wall clock in milliseconds, without forking.
now_ms() {
    local t=${EPOCHREALTIME/./}
    echo $((t / 1000))
}

# wait_until TIMEOUT_SECS CMD...: run CMD every 50 ms until it succeeds.
# On timeout: say what was awaited, print the registered logs, return 1.
wait_until() {
    local timeout=$1
    shift
    local deadline=$(($(now_ms) + timeout * 1000))
    while true; do
        if "$@" >/dev/null 2>&1; then
            return 0
        fi
        if (($(now_ms) >= deadline)); then
            echo "wait_until: timed out after ${timeout}s waiting for: $*" >&2
            dump_logs >&2
            return 1
        fi
        sleep 0.05
    done
}

# file_has FILE REGEX: FILE exists and has a line matching REGEX.
file_has() {
    [[ -f "$1" ]] && grep -Eq -- "$2" "$1"
}

# ------------------------------------------------------------ processes ----

register_log() {
    echo "$1" >>"$BATS_TEST_TMPDIR/logs"
}

# dump_logs: print every registered log file (last 60 lines each).
dump_logs() {
    local f
    [[ -f "$BATS_TEST_TMPDIR/logs" ]] || return 0
    while IFS= read -r f; do
        [[ -f "$f" ]] || continue
        echo "----- $f -----"
        tail -n 60 "$f"
    done <"$BATS_TEST_TMPDIR/logs"
    echo "-----"
}

track_pid() {
    echo "$1" >>"$BATS_TEST_TMPDIR/pids"
}

# start_bg NAME CMD...: run CMD in the background, stdin from /dev/null,
# stdout to $BATS_TEST_TMPDIR/NAME.out, stderr to NAME.err, bats' fd 3
# closed. Sets BG_PID (CMD's own pid: use `env` for variables, not a shell
# function) and records it for teardown. Don't call it inside $(...).
start_bg() {
    local name=$1
    shift
    local out="$BATS_TEST_TMPDIR/$name.out" err="$BATS_TEST_TMPDIR/$name.err"
    "$@" </dev/null >"$out" 2>"$err" 3>&- &
    BG_PID=$!
    track_pid "$BG_PID"
    register_log "$out"
    register_log "$err"
}

# pid_alive PID: the process exists and is not a zombie.
pid_alive() {
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    stat=${stat##*) }
    [[ "${stat:0:1}" != Z ]]
}

# descendants PID: every descendant pid of PID, depth first.
descendants() {
    local c
    for c in $(pgrep -P "$1" 2>/dev/null); do
        echo "$c"
        descendants "$c"
    done
}

# stop_pids PID...: TERM each, wait up to 5 s for all to go, then KILL the
# rest; reap those that are this shell's children.
stop_pids() {
    local p deadline live
    for p in "$@"; do kill -TERM "$p" 2>/dev/null || true; done
    deadline=$(($(now_ms) + 5000))
    while true; do
        live=()
        for p in "$@"; do pid_alive "$p" && live+=("$p"); done
        ((${#live[@]} == 0)) && break
        if (($(now_ms) >= deadline)); then
            for p in "${live[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
            break
        fi
        sleep 0.05
    done
    for p in "$@"; do wait "$p" 2>/dev/null || true; done
}

# stop_all: stop every recorded process and its descendants (newest first).
stop_all() {
    local pidfile="$BATS_TEST_TMPDIR/pids" p all=()
    [[ -f "$pidfile" ]] || return 0
    local recorded
    mapfile -t recorded < <(tac "$pidfile")
    for p in "${recorded[@]}"; do
        [[ "$p" =~ ^[0-9]+$ ]] || continue
        all+=("$p")
        mapfile -t -O "${#all[@]}" all < <(descendants "$p")
    done
    ((${#all[@]})) && stop_pids "${all[@]}"
    : >"$pidfile"
}

# ------------------------------------------------------------- scraping ----

# scrape PORT [PATH]: GET http://127.0.0.1:PORT/metrics (or PATH); fails on
# a connection error or an HTTP error status.
scrape() {
    curl -sf --max-time 5 "http://127.0.0.1:$1${2:-/metrics}"
}

healthz() {
    [[ "$(curl -sf --max-time 2 "http://127.0.0.1:$1/healthz")" == ok* ]]
}

# wait_exporter PORT [TIMEOUT]: until /healthz on PORT answers ok.
wait_exporter() {
    wait_until "${2:-10}" healthz "$1"
}

# The sample parser behind metric_value / metric_sum. Reads exposition text
# on stdin. argv: MODE NAME [LABELS]. LABELS: 'a="x",b="y"', braces optional.
#   exact: the value of the sample of NAME whose label set is exactly
#          LABELS; exit 1 when there is none.
#   sum:   the sum over the samples of NAME whose labels include LABELS
#          (LABELS empty: every sample of NAME); 0 when none matches.
#   count: how many samples of NAME match as for sum.
#   lines: the matching sample lines themselves (for messages).
# Values print as integers when they are whole numbers.
# shellcheck disable=SC2016
METRIC_PY='
import math, re, sys
mode, name = sys.argv[1], sys.argv[2]
want_s = sys.argv[3] if len(sys.argv) > 3 else ""
LABEL = re.compile(r"\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*\"((?:[^\"\\]|\\.)*)\"\s*,?")
SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+-?\d+)?\s*$")
def unescape(v):
    return re.sub(r"\\(.)", lambda m: "\n" if m.group(1) == "n" else m.group(1), v)
def labels(s):
    out, pos, s = {}, 0, s.strip()
    while pos < len(s):
        m = LABEL.match(s, pos)
        if not m:
            sys.exit("metric: cannot parse labels: " + s)
        out[m.group(1)] = unescape(m.group(2))
        pos = m.end()
    return out
want_s = want_s.strip()
if want_s.startswith("{") and want_s.endswith("}"):
    want_s = want_s[1:-1]
want = labels(want_s)
hits = []
for line in sys.stdin:
    line = line.rstrip("\n")
    if not line or line.startswith("#"):
        continue
    m = SAMPLE.match(line)
    if not m or m.group(1) != name:
        continue
    have = labels(m.group(2) or "")
    if mode == "exact":
        ok = have == want
    else:
        ok = all(have.get(k) == v for k, v in want.items())
    if ok:
        hits.append((line, float(m.group(3))))
def fmt(v):
    if math.isfinite(v) and v == int(v):
        return str(int(v))
    return repr(v)
if mode == "exact":
    if len(hits) != 1:
        sys.exit(1)
    print(fmt(hits[0][1]))
elif mode == "sum":
    print(fmt(sum(v for _, v in hits)))
elif mode == "count":
    print(len(hits))
elif mode == "lines":
    for l, _ in hits:
        print(l)
else:
    sys.exit("metric: unknown mode " + mode)
'

# metric_value TEXT NAME [LABELS]: the value of the one sample NAME{LABELS}
# with exactly that label set; fails (prints nothing) when absent.
metric_value() {
    "$PY" -c "$METRIC_PY" exact "$2" "${3:-}" <<<"$1"
}

# metric_sum TEXT NAME [LABELS]: sum over the samples of NAME whose labels
# include LABELS (a partial set); 0 when none.
metric_sum() {
    "$PY" -c "$METRIC_PY" sum "$2" "${3:-}" <<<"$1"
}

# metric_count TEXT NAME [LABELS]: how many samples of NAME match LABELS.
metric_count() {
    "$PY" -c "$METRIC_PY" count "$2" "${3:-}" <<<"$1"
}

# metric_lines TEXT NAME [LABELS]: the matching sample lines.
metric_lines() {
    "$PY" -c "$METRIC_PY" lines "$2" "${3:-}" <<<"$1"
}

# assert_metric TEXT NAME LABELS EXPECTED: metric_sum equals EXPECTED.
assert_metric() {
    local got
    got=$(metric_sum "$1" "$2" "$3") || fail "metric_sum $2 $3 failed"
    if [[ "$got" != "$4" ]]; then
        {
            echo "metric $2{$3}: expected $4, got $got"
            echo "samples of $2:"
            metric_lines "$1" "$2"
        } | fail
        return 1
    fi
}

# assert_metric_exact TEXT NAME LABELS EXPECTED: the sample with exactly
# that label set exists and equals EXPECTED.
assert_metric_exact() {
    local got
    got=$(metric_value "$1" "$2" "$3") || got="<absent>"
    if [[ "$got" != "$4" ]]; then
        {
            echo "metric $2{$3} (exact label set): expected $4, got $got"
            echo "samples of $2:"
            metric_lines "$1" "$2"
        } | fail
        return 1
    fi
}

# _metric_is PORT NAME LABELS EXPECTED: one scrape, sum equals EXPECTED.
# Leaves the scrape in $BATS_TEST_TMPDIR/last_scrape.
_metric_is() {
    local text
    text=$(scrape "$1") || return 1
    printf '%s\n' "$text" >"$BATS_TEST_TMPDIR/last_scrape"
    [[ "$(metric_sum "$text" "$2" "$3")" == "$4" ]]
}

# wait_metric PORT NAME LABELS EXPECTED [TIMEOUT]: scrape until the sum of
# NAME{LABELS...} equals EXPECTED; on timeout show the last value and fail.
wait_metric() {
    local port=$1 name=$2 labels=$3 expected=$4 timeout=${5:-10}
    if ! wait_until "$timeout" _metric_is "$port" "$name" "$labels" "$expected"; then
        local last=""
        [[ -f "$BATS_TEST_TMPDIR/last_scrape" ]] && last=$(cat "$BATS_TEST_TMPDIR/last_scrape")
        {
            echo "wait_metric: $name{$labels} never became $expected in ${timeout}s on port $port"
            echo "last value: $(metric_sum "$last" "$name" "$labels")"
            echo "samples of $name:"
            metric_lines "$last" "$name"
        } | fail
        return 1
    fi
}

# read_textfile FILE: wait (5 s) for the textfile, then print it.
read_textfile() {
    wait_until 5 test -s "$1" || fail "textfile $1 was not written"
    cat "$1"
}

# ---------------------------------------------------------------- servers ----

# start_echo PORT [PREFIX...]: tests/progs/echo_server.py on ECHO_HOST
# (default 127.0.0.1):PORT, run behind PREFIX (e.g. "${SHIM_ENV[@]}").
# Sets ECHO_PID. Replies ECHO_REPLY_LEN (default 1000) bytes to a 64-byte
# request.
start_echo() {
    local port=$1
    shift
    start_bg "echo-$port" "$@" "$PY" "$PYPROGS/echo_server.py" "$port" \
        --host "${ECHO_HOST:-127.0.0.1}" --req-len 64 --reply-len "${ECHO_REPLY_LEN:-1000}"
    ECHO_PID=$BG_PID
    wait_until 10 file_has "$BATS_TEST_TMPDIR/echo-$port.out" '^listening' ||
        fail "echo server on port $port did not start"
}

# start_http_server PORT DIR [PREFIX...]: python3 -m http.server on
# 127.0.0.1:PORT serving DIR. Sets HTTP_PID.
start_http_server() {
    local port=$1 dir=$2
    shift 2
    start_bg "http-$port" "$@" "$PY" -m http.server --bind 127.0.0.1 --directory "$dir" "$port"
    HTTP_PID=$BG_PID
    wait_until 10 port_listening "$port" || fail "http.server on port $port did not start"
}

# start_nginx PORT [PREFIX...]: nginx (master + NGINX_WORKERS workers,
# default 2) in the foreground with everything in $BATS_TEST_TMPDIR/nginx-PORT,
# listening on 127.0.0.1:PORT, serving html/ (index.html: "hello from
# nginx\n", 17 bytes; big.bin: 100000 bytes), keepalive off so every
# request is its own connection, sendfile NGINX_SENDFILE (default off).
# Sets NGINX_PID (the master) and NGINX_DIR.
start_nginx() {
    local port=$1
    shift
    local d="$BATS_TEST_TMPDIR/nginx-$port"
    NGINX_DIR=$d
    mkdir -p "$d/html" "$d/tmp"
    printf 'hello from nginx\n' >"$d/html/index.html"
    head -c 100000 /dev/zero | tr '\0' 'n' >"$d/html/big.bin"
    local user_line=""
    (($(id -u) == 0)) && user_line="user root;"
    cat >"$d/nginx.conf" <<EOF
$user_line
master_process on;
worker_processes ${NGINX_WORKERS:-2};
daemon off;
pid $d/nginx.pid;
error_log $d/error.log notice;
events { worker_connections 512; }
http {
    access_log $d/access.log;
    client_body_temp_path $d/tmp/body;
    proxy_temp_path $d/tmp/proxy;
    fastcgi_temp_path $d/tmp/fastcgi;
    uwsgi_temp_path $d/tmp/uwsgi;
    scgi_temp_path $d/tmp/scgi;
    default_type application/octet-stream;
    keepalive_timeout 0;
    sendfile ${NGINX_SENDFILE:-off};
    server {
        listen 127.0.0.1:$port;
        root $d/html;
        location / { }
    }
}
EOF
    register_log "$d/error.log"
    start_bg "nginx-$port" "$@" "$NGINX" -p "$d/" -c "$d/nginx.conf" -e "$d/error.log"
    NGINX_PID=$BG_PID
    wait_until 10 port_listening "$port" || fail "nginx on port $port did not start"
    # Both workers up (master + NGINX_WORKERS children), without connecting.
    wait_until 10 _nginx_workers_up "$NGINX_PID" "${NGINX_WORKERS:-2}" ||
        fail "nginx workers did not start"
}

_nginx_workers_up() {
    (($(pgrep -c -P "$1") >= $2))
}

# never_within SECS CMD...: CMD does not succeed even once while polled for
# SECS seconds (for "nothing starts" checks; a fixed wait is the point here).
never_within() {
    local secs=$1
    shift
    local deadline=$(($(now_ms) + secs * 1000))
    while (($(now_ms) < deadline)); do
        if "$@" >/dev/null 2>&1; then
            echo "never_within: '$*' succeeded" >&2
            return 1
        fi
        sleep 0.05
    done
}

# capture PREFIX CMD...: run CMD (stdin /dev/null), saving stdout, stderr and
# the exit status to PREFIX.out, PREFIX.err, PREFIX.rc.
capture() {
    local prefix=$1
    shift
    local rc=0
    "$@" </dev/null >"$prefix.out" 2>"$prefix.err" 3>&- || rc=$?
    echo "$rc" >"$prefix.rc"
}

# assert_same_capture A B: the two captures are byte-for-byte identical.
assert_same_capture() {
    local part
    for part in out err rc; do
        if ! cmp -s "$1.$part" "$2.$part"; then
            {
                echo "$part differs between $1 and $2:"
                diff -u "$1.$part" "$2.$part" | head -40
            } | fail
            return 1
        fi
    done
}

# curl_sizes FILE: sum the "size_request size_download size_header" lines
# curl -w wrote; sets REQ_BYTES and RESP_BYTES (headers + body) and NREQ.
curl_sizes() {
    local rq dl hd
    REQ_BYTES=0 RESP_BYTES=0 NREQ=0
    while read -r rq dl hd; do
        [[ -n "$rq" ]] || continue
        REQ_BYTES=$((REQ_BYTES + rq))
        RESP_BYTES=$((RESP_BYTES + dl + hd))
        NREQ=$((NREQ + 1))
    done <"$1"
}

# curl_n N URL: curl arguments for N transfers of URL, each body to /dev/null,
# each writing "size_request size_download size_header" on stdout. Sets
# CURL_ARGS.
curl_n() {
    local n=$1 url=$2 i
    CURL_ARGS=(-s -w '%{size_request} %{size_download} %{size_header}\n')
    for ((i = 0; i < n; i++)); do CURL_ARGS+=(-o /dev/null "$url"); done
}

# pid_gone PID: the process has exited (a zombie counts as gone).
pid_gone() {
    ! pid_alive "$1"
}

# ------------------------------------------------------------ HTTP suite ----

# start_nginx_http PORT [PREFIX...]: like start_nginx (master +
# NGINX_WORKERS workers, everything in $BATS_TEST_TMPDIR/nginx-PORT, html/
# with index.html = "hello from nginx\n" and big.bin), but with keep-alive on
# (unlimited requests per connection), the access log in NGINX_DIR/access.log
# and locations that answer with a fixed status: /err500 (500), /shed429
# (429), /shed503 (503). NGINX_HTTP_EXTRA is added to the http block. Sets
# NGINX_PID (the master) and NGINX_DIR.
start_nginx_http() {
    local port=$1
    shift
    local d="$BATS_TEST_TMPDIR/nginx-$port"
    NGINX_DIR=$d
    mkdir -p "$d/html" "$d/tmp"
    printf 'hello from nginx\n' >"$d/html/index.html"
    head -c 100000 /dev/zero | tr '\0' 'n' >"$d/html/big.bin"
    local user_line=""
    (($(id -u) == 0)) && user_line="user root;"
    cat >"$d/nginx.conf" <<NGINXEOF
$user_line
master_process on;
worker_processes ${NGINX_WORKERS:-2};
daemon off;
pid $d/nginx.pid;
error_log $d/error.log notice;
events { worker_connections 512; }
http {
    access_log $d/access.log;
    client_body_temp_path $d/tmp/body;
    proxy_temp_path $d/tmp/proxy;
    fastcgi_temp_path $d/tmp/fastcgi;
    uwsgi_temp_path $d/tmp/uwsgi;
    scgi_temp_path $d/tmp/scgi;
    default_type application/octet-stream;
    keepalive_timeout 60;
    keepalive_requests 1000000;
    sendfile off;
    ${NGINX_HTTP_EXTRA:-}
    server {
        listen 127.0.0.1:$port;
        root $d/html;
        location / { }
        location = /err500 { return 500; }
        location = /shed429 { return 429; }
        location = /shed503 { return 503; }
    }
}
NGINXEOF
    register_log "$d/error.log"
    # nginx reads an NGINX variable as inherited listening sockets (binary
    # upgrade): the exported path of the binary must not reach it.
    start_bg "nginx-$port" env -u NGINX "$@" "$NGINX" -p "$d/" -c "$d/nginx.conf" -e "$d/error.log"
    NGINX_PID=$BG_PID
    wait_until 10 port_listening "$port" || fail "nginx on port $port did not start"
    wait_until 10 _nginx_workers_up "$NGINX_PID" "${NGINX_WORKERS:-2}" ||
        fail "nginx workers did not start"
}

# access_log_count FILE REGEX: how many lines of the access log FILE match
# the extended REGEX (0 when none or no file).
access_log_count() {
    [[ -f "$1" ]] || { echo 0; return 0; }
    grep -Ec -- "$2" "$1" || true
}

# start_http_test_server PORT [PREFIX...]: tests/progs/http_server.py on
# 127.0.0.1:PORT behind PREFIX. Sets HTTPSRV_PID.
start_http_test_server() {
    local port=$1
    shift
    start_bg "httpsrv-$port" "$@" "$PY" "$PYPROGS/http_server.py" "$port"
    HTTPSRV_PID=$BG_PID
    wait_until 10 file_has "$BATS_TEST_TMPDIR/httpsrv-$port.out" '^listening' ||
        fail "http_server.py on port $port did not start"
}

# assert_promtool_ok TEXT: `promtool check metrics` accepts TEXT with no
# complaint at all (exit 0, no output: no parse error, no lint warning).
assert_promtool_ok() {
    local out rc=0
    out=$(promtool check metrics <<<"$1" 2>&1) || rc=$?
    if ((rc != 0)) || [[ -n "$out" ]]; then
        {
            echo "promtool check metrics failed (rc=$rc):"
            echo "$out" | head -20
        } | fail
        return 1
    fi
}

# describe_pid PID: "alive", "gone", or for a zombie that nobody reaped (an
# orphan here: this machine's init does not reap) how it ended, read from
# /proc/PID/stat's exit_code field.
describe_pid() {
    local stat code
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || {
        echo "gone"
        return
    }
    stat=${stat##*) }
    if [[ "${stat:0:1}" != Z ]]; then
        echo "alive"
        return
    fi
    code=${stat##* }
    if ((code & 0x7f)); then
        echo "dead (killed by signal $((code & 0x7f)))"
    else
        echo "dead (exit status $((code >> 8)))"
    fi
}

# assert_alive PID WHAT: fail, saying how it ended, when PID is not alive.
assert_alive() {
    pid_alive "$1" && return 0
    fail "$2 (pid $1) is not running: $(describe_pid "$1")$(printf '\n'; dump_logs)"
}

# wait_access_log FILE REGEX N [TIMEOUT]: until exactly N lines of the access
# log FILE match REGEX (nginx writes a line just after the response's last
# byte, so a client can have its answer a moment before the line is there).
wait_access_log() {
    if ! wait_until "${4:-5}" _access_log_is "$1" "$2" "$3"; then
        fail "access log $1: $(access_log_count "$1" "$2") lines match '$2', expected $3"
        return 1
    fi
}

_access_log_is() {
    [[ "$(access_log_count "$1" "$2")" == "$3" ]]
}

# -------------------------------------------------------------- DB suite ----
# Real database and cache servers from Debian's packages, on loopback ports,
# each in a directory of its own. PostgreSQL and MariaDB run as their own
# users, so their directories are made under /tmp (a bats temporary
# directory is not reachable by them) and listed in
# $BATS_TEST_TMPDIR/db_dirs; db_teardown stops the servers and removes them.

PGBIN="${PGBIN:-/usr/lib/postgresql/15/bin}"
export PGBIN

# start_redis PORT [PREFIX...]: redis-server on 127.0.0.1:PORT, no
# persistence, in the foreground behind PREFIX. Sets REDIS_PID.
start_redis() {
    local port=$1
    shift
    start_bg "redis-$port" "$@" redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
        --dir "$BATS_TEST_TMPDIR" --daemonize no
    REDIS_PID=$BG_PID
    wait_until 10 port_listening "$port" || fail "redis-server on port $port did not start"
}

# start_memcached PORT [PREFIX...]: memcached on 127.0.0.1:PORT (TCP only).
# Sets MEMCACHED_PID.
start_memcached() {
    local port=$1
    shift
    local user=()
    (($(id -u) == 0)) && user=(-u nobody)
    start_bg "memcached-$port" "$@" memcached -l 127.0.0.1 -p "$port" -U 0 "${user[@]}"
    MEMCACHED_PID=$BG_PID
    wait_until 10 port_listening "$port" || fail "memcached on port $port did not start"
}

# db_dir OWNER: a new directory under /tmp owned by OWNER, removed by
# db_teardown. Prints it.
db_dir() {
    local d
    d=$(mktemp -d /tmp/promshim-db.XXXXXX) || return 1
    echo "$d" >>"$BATS_TEST_TMPDIR/db_dirs"
    chown "$1:$1" "$d"
    echo "$d"
}

# pg_can_run: PostgreSQL 15's server binaries are there and we are root
# (the server runs as the postgres user). Prints why not when it fails.
pg_can_run() {
    [[ -x "$PGBIN/initdb" && -x "$PGBIN/pg_ctl" ]] || { echo "PostgreSQL 15 server not installed ($PGBIN)"; return 1; }
    (($(id -u) == 0)) || { echo "not root: cannot run PostgreSQL as the postgres user"; return 1; }
    id postgres >/dev/null 2>&1 || { echo "no postgres user"; return 1; }
}

# start_postgres PORT [PREFIX...]: initdb (trust, superuser postgres) in a
# new directory and pg_ctl start with the server on 127.0.0.1:PORT, its
# socket in the directory, fsync off, PREFIX (e.g. env LD_PRELOAD=...) in
# front of pg_ctl. With PG_SSL=1 the server also offers TLS (a self-signed
# certificate made with openssl). Sets PGT (the directory); PGDATA is
# $PGT/data. Returns 1 (with the logs on stderr) when the server cannot be
# started.
start_postgres() {
    local port=$1
    shift
    PGT=$(db_dir postgres) || return 1
    echo "pg $PGT" >>"$BATS_TEST_TMPDIR/db_servers"
    register_log "$PGT/log"
    if ! runuser -u postgres -- "$PGBIN/initdb" -D "$PGT/data" -A trust -U postgres >"$PGT/initdb.log" 2>&1; then
        tail -20 "$PGT/initdb.log" >&2
        return 1
    fi
    local opts="-p $port -k $PGT -c listen_addresses=127.0.0.1 -c fsync=off"
    if [[ "${PG_SSL:-0}" == 1 ]]; then
        runuser -u postgres -- openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost \
            -keyout "$PGT/server.key" -out "$PGT/server.crt" >"$PGT/openssl.log" 2>&1 || return 1
        opts+=" -c ssl=on -c ssl_cert_file=$PGT/server.crt -c ssl_key_file=$PGT/server.key"
    fi
    if ! runuser -u postgres -- "$@" "$PGBIN/pg_ctl" -D "$PGT/data" -l "$PGT/log" -w -t 20 \
        -o "$opts" start >"$PGT/pg_ctl.log" 2>&1; then
        tail -20 "$PGT/pg_ctl.log" "$PGT/log" >&2
        return 1
    fi
}

# stop_postgres DIR: pg_ctl stop -m fast for the server of DIR.
stop_postgres() {
    [[ -f "$1/data/postmaster.pid" ]] || return 0
    runuser -u postgres -- "$PGBIN/pg_ctl" -D "$1/data" -m fast -w -t 20 stop >/dev/null 2>&1 || true
}

# mariadb_can_run: mariadbd and mariadb-install-db are there and we are root.
mariadb_can_run() {
    [[ -x /usr/sbin/mariadbd ]] && command -v mariadb-install-db >/dev/null || {
        echo "MariaDB server not installed"
        return 1
    }
    (($(id -u) == 0)) || { echo "not root: cannot run mariadbd as the mysql user"; return 1; }
    id mysql >/dev/null 2>&1 || { echo "no mysql user"; return 1; }
}

# start_mariadb PORT [PREFIX...]: mariadb-install-db in a new directory,
# mariadbd on 127.0.0.1:PORT (and a socket in the directory) behind PREFIX,
# with its general query log in $MT/general.log, then user app@'%'
# (password secret, all privileges) and database d made over the socket.
# Sets MT (the directory) and MARIADB_PID. Returns 1 when it cannot start.
start_mariadb() {
    local port=$1
    shift
    MT=$(db_dir mysql) || return 1
    echo "mariadb $MT" >>"$BATS_TEST_TMPDIR/db_servers"
    register_log "$MT/err.log"
    if ! mariadb-install-db --user=mysql --datadir="$MT/data" --auth-root-authentication-method=normal \
        --skip-test-db >"$MT/install.log" 2>&1; then
        tail -20 "$MT/install.log" >&2
        return 1
    fi
    start_bg "mariadb-$port" runuser -u mysql -- "$@" /usr/sbin/mariadbd --no-defaults --datadir="$MT/data" \
        --socket="$MT/sock" --port="$port" --bind-address=127.0.0.1 --pid-file="$MT/pid" \
        --log-error="$MT/err.log" --general-log=1 --general-log-file="$MT/general.log"
    MARIADB_PID=$BG_PID
    if ! wait_until 20 test -S "$MT/sock"; then
        tail -20 "$MT/err.log" >&2
        return 1
    fi
    mariadb --no-defaults -S "$MT/sock" -u root \
        -e "CREATE USER app@'%' IDENTIFIED BY 'secret'; GRANT ALL ON *.* TO app@'%'; CREATE DATABASE d;" ||
        return 1
}

# stop_mariadb DIR: TERM the mariadbd of DIR (its pid file) and wait for it.
stop_mariadb() {
    local pid
    pid=$(cat "$1/pid" 2>/dev/null) || return 0
    [[ "$pid" =~ ^[0-9]+$ ]] || return 0
    stop_pids "$pid"
}

# db_teardown: stop the PostgreSQL and MariaDB servers the test started,
# then everything else (common_teardown), then remove their directories.
db_teardown() {
    local kind dir
    if [[ -f "$BATS_TEST_TMPDIR/db_servers" ]]; then
        while read -r kind dir; do
            case $kind in
            pg) stop_postgres "$dir" ;;
            mariadb) stop_mariadb "$dir" ;;
            esac
        done <"$BATS_TEST_TMPDIR/db_servers"
    fi
    common_teardown
    if [[ -f "$BATS_TEST_TMPDIR/db_dirs" ]]; then
        while read -r dir; do
            [[ "$dir" == /tmp/promshim-db.* ]] && rm -rf "$dir"
        done <"$BATS_TEST_TMPDIR/db_dirs"
    fi
    : >"$BATS_TEST_TMPDIR/db_dirs"
    : >"$BATS_TEST_TMPDIR/db_servers"
}

# ------------------------------------------- other builds (scripts/sanitize.sh) ----
# scripts/sanitize.sh runs the suites against a sanitizer build. Each variable,
# when set, replaces one path above; unset, nothing changes. (Not PROMSHIM_*:
# the library warns about PROMSHIM_ variables it does not know.)
#   SHIM_UNDER_TEST     the library. It may be a preload list "RUNTIME:LIB"
#                       that is also the path of an existing file (a directory
#                       named "RUNTIME:" holds a link to LIB), so every
#                       LD_PRELOAD="$SHIM" loads the sanitizer runtime first
#                       and [[ -f "$SHIM" ]], nm and readelf still work.
#   PROGS_UNDER_TEST    the directory of the C test programs.
#   WRAPPER_UNDER_TEST  the promshim wrapper.
SHIM="${SHIM_UNDER_TEST:-$SHIM}"
PROGS="${PROGS_UNDER_TEST:-$PROGS}"
WRAPPER="${WRAPPER_UNDER_TEST:-$WRAPPER}"

# ----------------------------------------------------- status page suite ----
# Headless Chromium (Debian's package) loads promshim's status page at /.

CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"

# chromium_missing: true (printing why) when headless Chromium cannot run
# here: `reason=$(chromium_missing) && skip "$reason"`.
chromium_missing() {
    if [[ ! -x "$CHROMIUM" ]]; then
        echo "chromium is not installed ($CHROMIUM): apt-get install chromium, or run scripts/deps.sh"
        return 0
    fi
    return 1
}

# chromium_headless ARGS...: run headless Chromium with ARGS (e.g.
# --dump-dom URL), stdout as is, stderr appended to
# $BATS_TEST_TMPDIR/chromium.err, a profile of its own in
# $BATS_TEST_TMPDIR/chrome, 60 s at most. The flags are what it needs as
# root in a container with no network: no sandbox, no GPU, no QUIC, nothing
# fetched in the background.
chromium_headless() {
    register_log "$BATS_TEST_TMPDIR/chromium.err"
    timeout -k 5 60 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --disable-dev-shm-usage --user-data-dir="$BATS_TEST_TMPDIR/chrome" "$@" \
        </dev/null 2>>"$BATS_TEST_TMPDIR/chromium.err" 3>&-
}
