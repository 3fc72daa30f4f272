#!/usr/bin/env bash
# What the hooks add to each call: build/progs/bench_hooks run alternately
# without and with libpromshim.so preloaded (exporter off), medians compared.
#
#   make bench-hooks                     (builds, then runs this)
#   scripts/bench-hooks.sh [FILE_ITERATIONS [SOCKET_ITERATIONS]]
#   BENCH_ROUNDS=5                       rounds of each (default 5)
#
# The last part counts what nginx spends per request, plain and under the
# shim, with callgrind (set NGINX to another binary, BENCH_NO_CALLGRIND=1 to
# skip the exact parts).
#
# Each bench_hooks run reports, per call, the best of 5 repetitions; this
# script takes the median of those over the rounds.
set -euo pipefail

cd "$(dirname -- "$(readlink -f -- "${BASH_SOURCE[0]}")")/.."
root=$PWD

BIN=build/progs/bench_hooks
LIB=build/libpromshim.so
ROUNDS=${BENCH_ROUNDS:-5}
# default iteration counts: enough for stable minima, short enough to run often
[[ $# -eq 0 ]] && set -- 500000 50000

[[ -x "$BIN" ]] || { echo "bench-hooks: $BIN not built: run 'make' first" >&2; exit 1; }
[[ -f "$LIB" ]] || { echo "bench-hooks: $LIB not built: run 'make' first" >&2; exit 1; }
[[ "$ROUNDS" =~ ^[1-9][0-9]*$ ]] || { echo "bench-hooks: BENCH_ROUNDS must be a positive number" >&2; exit 2; }

shim_env=(env "LD_PRELOAD=$root/$LIB" PROMSHIM_EXPORTER_ENABLED=0)

# The library must really load, or the "shim" column measures nothing.
if ! "${shim_env[@]}" grep -q libpromshim /proc/self/maps; then
    echo "bench-hooks: $LIB did not load under LD_PRELOAD" >&2
    exit 1
fi

results=$(mktemp)
errlog=$(mktemp)
trap 'rm -f -- "$results" "$errlog"' EXIT

run() { # run MODE: one bench_hooks run, lines "MODE name ns" appended
    local mode=$1 out
    shift
    if ! out=$("$@" "$BIN" "${args[@]}" 2>"$errlog"); then
        echo "bench-hooks: $BIN failed ($mode):" >&2
        cat -- "$errlog" >&2
        exit 1
    fi
    if [[ -s "$errlog" ]]; then
        sed "s/^/  ($mode) /" -- "$errlog" >&2
    fi
    printf '%s\n' "$out" | awk -v m="$mode" 'NF == 2 { print m, $1, $2 }' >>"$results"
}

args=("$@")
echo "bench-hooks: $ROUNDS rounds, alternating plain and shim (PROMSHIM_EXPORTER_ENABLED=0)..." >&2
for ((r = 1; r <= ROUNDS; r++)); do
    echo "  round $r/$ROUNDS" >&2
    run plain env
    run shim "${shim_env[@]}"
done

echo
echo "ns per call, median of $ROUNDS runs (each run: best of 5 repetitions)"
echo "Wall-clock time on a shared machine: expect a few ns of noise; compare the"
echo "added column with the hot-path budget, not the absolute numbers."
echo
awk '
    function median(list,    a, n, i, j, t) {
        n = split(list, a, " ")
        for (i = 2; i <= n; i++) {          # insertion sort, n is small
            t = a[i] + 0
            for (j = i - 1; j >= 1 && a[j] + 0 > t; j--) a[j + 1] = a[j]
            a[j + 1] = t
        }
        if (n % 2) return a[(n + 1) / 2]
        return (a[n / 2] + a[n / 2 + 1]) / 2
    }
    {
        if (!($2 in seen)) { seen[$2] = 1; order[++k] = $2 }
        v[$1, $2] = v[$1, $2] " " $3
    }
    END {
        printf "%-20s %12s %12s %12s\n", "call", "plain ns", "shim ns", "added ns"
        for (i = 1; i <= k; i++) {
            name = order[i]
            p = median(v["plain", name]); s = median(v["shim", name])
            printf "%-20s %12.1f %12.1f %+12.1f\n", name, p, s, s - p
        }
    }
' "$results"

# Exact figures: instructions per call counted by callgrind (repeatable run to
# run, whatever else the machine does). Two runs of different lengths are
# differenced so start-up and set-up cancel out; bench_hooks repeats each
# measurement 5 times, and a socket iteration is 4 calls.
if command -v valgrind >/dev/null 2>&1 && [[ -z "${BENCH_NO_CALLGRIND:-}" ]]; then
    count() { # count ENV... -- ARGS: total instructions of one run
        local out
        out=$("$@" valgrind --tool=callgrind --callgrind-out-file=/dev/null "$BIN" "${cargs[@]}" 2>&1 >/dev/null |
            awk '/Collected :/ { print $NF }')
        echo "${out:-0}"
    }
    per_call() { # per_call MODE A1 A2 B1 B2 DIVISOR: instructions per call
        local mode=$1 a b
        local -a envv=(env)
        [[ $mode == shim ]] && envv=("${shim_env[@]}")
        cargs=("$2" "$3"); a=$(count "${envv[@]}")
        cargs=("$4" "$5"); b=$(count "${envv[@]}")
        awk -v a="$a" -v b="$b" -v d="$6" 'BEGIN { printf "%.1f", (b - a) / d }'
    }
    echo
    echo "instructions per call (callgrind, exact)"
    printf "%-28s %10s %10s %10s\n" "call" "plain" "shim" "added"
    F=20000; S=2000
    # file calls: FILE_N doubles, socket iterations fixed; read+write, 5 reps each
    p=$(per_call plain $F $S $((2 * F)) $S $((F * 2 * 5)))
    s=$(per_call shim $F $S $((2 * F)) $S $((F * 2 * 5)))
    printf "%-28s %10s %10s %10s\n" "read/write, untracked fd" "$p" "$s" "$(awk -v p="$p" -v s="$s" 'BEGIN { printf "%+.1f", s - p }')"
    p=$(per_call plain $F $S $F $((2 * S)) $((S * 4 * 5)))
    s=$(per_call shim $F $S $F $((2 * S)) $((S * 4 * 5)))
    printf "%-28s %10s %10s %10s\n" "send/recv, tracked socket" "$p" "$s" "$(awk -v p="$p" -v s="$s" 'BEGIN { printf "%+.1f", s - p }')"
fi

# Exact figures for a real server: nginx (one process, master_process off)
# under callgrind serving N1 and then N2 keep-alive requests for a 6-byte
# file from one Python client, plain and under the shim; the difference of
# the two totals over N2 - N1 is what one request costs in user space (start-up,
# the exporter's libmicrohttpd load and shutdown cancel out).
nginx_bin=${NGINX:-/usr/sbin/nginx}
if command -v valgrind >/dev/null 2>&1 && [[ -z "${BENCH_NO_CALLGRIND:-}" && -x "$nginx_bin" ]] &&
    command -v python3 >/dev/null 2>&1; then
    ndir=$(mktemp -d)
    trap 'rm -f -- "$results" "$errlog"; rm -rf -- "$ndir"' EXIT
    free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
    mkdir -p "$ndir/html" "$ndir/tmp"
    printf 'hello\n' >"$ndir/html/index.html"
    nginx_count() { # nginx_count MODE N: total instructions of nginx serving N requests
        local mode=$1 n=$2 port eport pid out i
        port=$(free_port)
        eport=$(free_port)
        cat >"$ndir/nginx.conf" <<NGINXEOF
$( (($(id -u) == 0)) && echo "user root;")
master_process off;
daemon off;
worker_processes 1;
pid $ndir/nginx.pid;
error_log $ndir/error.log notice;
events { worker_connections 64; }
http {
    access_log $ndir/access.log;
    client_body_temp_path $ndir/tmp/body;
    proxy_temp_path $ndir/tmp/proxy;
    fastcgi_temp_path $ndir/tmp/fastcgi;
    uwsgi_temp_path $ndir/tmp/uwsgi;
    scgi_temp_path $ndir/tmp/scgi;
    default_type application/octet-stream;
    keepalive_requests 1000000;
    sendfile off;
    server { listen 127.0.0.1:$port; root $ndir/html; location / { } }
}
NGINXEOF
        local -a envv=(env)
        [[ $mode == shim ]] && envv=(env "LD_PRELOAD=$root/$LIB" "PROMSHIM_EXPORTER_PORT=$eport")
        "${envv[@]}" valgrind --tool=callgrind --callgrind-out-file=/dev/null "$nginx_bin" -c "$ndir/nginx.conf" \
            >/dev/null 2>"$ndir/valgrind.err" &
        pid=$!
        for ((i = 0; i < 200; i++)); do
            python3 -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 0.2).close()' \
                "$port" 2>/dev/null && break
            sleep 0.1
        done
        python3 - "$port" "$n" <<'PYEOF'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
req = b"GET /index.html HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: bench\r\n\r\n"
for _ in range(int(sys.argv[2])):
    s.sendall(req)
    buf = b""
    while not buf.endswith(b"hello\n"):
        buf += s.recv(65536)
s.close()
PYEOF
        kill -QUIT "$pid"
        wait "$pid" || true
        out=$(awk '/Collected :/ { print $NF }' "$ndir/valgrind.err")
        echo "${out:-0}"
    }
    echo
    echo "nginx, instructions per request in user space (callgrind, exact; 1,000 vs 3,000 requests)"
    printf "%-28s %10s %10s %10s\n" "" "plain" "shim" "added"
    np=$(awk -v a="$(nginx_count plain 1000)" -v b="$(nginx_count plain 3000)" 'BEGIN { printf "%.0f", (b - a) / 2000 }')
    ns=$(awk -v a="$(nginx_count shim 1000)" -v b="$(nginx_count shim 3000)" 'BEGIN { printf "%.0f", (b - a) / 2000 }')
    printf "%-28s %10s %10s %10s\n" "GET of a 6-byte file" "$np" "$ns" \
        "$(awk -v p="$np" -v s="$ns" 'BEGIN { printf "%+d (x%.2f)", s - p, s / p }')"
fi
