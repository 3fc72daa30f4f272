#!/usr/bin/env bash
# promshim demo: run Debian's nginx (master + 2 workers) under the shim, send it
# some traffic, and show what its /metrics endpoint says.
#
#   make demo          (installs what is missing, builds, then runs this)
#
# Everything it makes lives in one temporary folder, removed on exit; nginx
# listens on 127.0.0.1 only.
set -euo pipefail

cd "$(dirname -- "$(readlink -f -- "${BASH_SOURCE[0]}")")/.."
root=$PWD

NGINX=${NGINX:-/usr/sbin/nginx}
LIB=build/libpromshim.so
REQUESTS=${DEMO_REQUESTS:-50}
WRK_SECONDS=${DEMO_WRK_SECONDS:-2}
DEADLINE_S=${DEMO_DEADLINE:-15}

say() { printf '%s\n' "$*"; }
die() { printf 'demo: %s\n' "$*" >&2; exit 1; }

[[ -f "$LIB" ]] || die "$LIB not found: run 'make' first"
[[ -x "$NGINX" ]] || die "$NGINX not found: run scripts/deps.sh (package nginx-light)"
command -v curl >/dev/null 2>&1 || die "curl not found: run scripts/deps.sh"

# ---- free ports ----
port_busy() {
    if command -v ss >/dev/null 2>&1; then
        [[ -n "$(ss -Hltn "sport = :$1" 2>/dev/null)" ]]
    else
        # Something accepted the connection: the port is taken.
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
    fi
}
free_port() {
    local p=$1 last=$(($1 + 200))
    while ((p < last)); do
        if ! port_busy "$p"; then echo "$p"; return 0; fi
        p=$((p + 1))
    done
    return 1
}
http_port=$(free_port 18080) || die "no free port in 18080-18279"
metrics_port=$(free_port 19100) || die "no free port in 19100-19299"
[[ "$http_port" != "$metrics_port" ]] || die "port clash"

# ---- temporary nginx prefix ----
tmp=$(mktemp -d "${TMPDIR:-/tmp}/promshim-demo.XXXXXX")
nginx_pid=

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    if [[ -n "$nginx_pid" ]] && kill -0 "$nginx_pid" 2>/dev/null; then
        kill -TERM "$nginx_pid" 2>/dev/null || true
        # Wait for the master (it stops its workers first), 10 s at most.
        local i
        for ((i = 0; i < 100; i++)); do
            kill -0 "$nginx_pid" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$nginx_pid" 2>/dev/null; then
            echo "demo: nginx did not stop on SIGTERM, killing it" >&2
            kill -KILL "$nginx_pid" 2>/dev/null || true
        fi
        wait "$nginx_pid" 2>/dev/null || true
    fi
    rm -rf -- "$tmp"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# When started as root, nginx runs its workers as nobody: they must be able
# to read the page.
chmod 0755 "$tmp"
mkdir -p "$tmp/www"
cat >"$tmp/www/index.html" <<'HTML'
<!doctype html>
<html><head><title>promshim demo</title></head>
<body><h1>Hello from nginx under promshim</h1>
<p>This nginx knows nothing about Prometheus. Its metrics come from libpromshim.so.</p>
</body></html>
HTML
chmod 0644 "$tmp/www/index.html"

# Temp paths of the modules this nginx has (a build without one would refuse
# its directive).
nginx_v=$("$NGINX" -V 2>&1 || true)
temp_paths="    client_body_temp_path $tmp/client_body;"
for m in proxy fastcgi uwsgi scgi; do
    if [[ "$nginx_v" != *"--without-http_${m}_module"* ]]; then
        temp_paths+=$'\n'"    ${m}_temp_path $tmp/$m;"
    fi
done

cat >"$tmp/nginx.conf" <<CONF
master_process on;
worker_processes 2;
daemon off;
pid $tmp/nginx.pid;
error_log $tmp/error.log notice;

events {
    worker_connections 256;
}

http {
    access_log $tmp/access.log;
$temp_paths
    default_type text/html;
    server {
        listen 127.0.0.1:$http_port;
        root $tmp/www;
        index index.html;
        location / { }
    }
}
CONF

show_logs() {
    echo "---- nginx error log ($tmp/error.log) ----" >&2
    cat -- "$tmp/error.log" >&2 2>/dev/null || echo "(empty)" >&2
    if [[ -s "$tmp/nginx.out" ]]; then
        echo "---- nginx stdout/stderr (promshim's own messages land here) ----" >&2
        cat -- "$tmp/nginx.out" >&2
    fi
}

say "promshim demo"
say "  nginx:    $NGINX (master + 2 workers) on http://127.0.0.1:$http_port/"
say "  metrics:  http://127.0.0.1:$metrics_port/metrics"
say "  started as: LD_PRELOAD=$LIB PROMSHIM_EXPORTER_PORT=$metrics_port $NGINX -p $tmp -c $tmp/nginx.conf"
say

LD_PRELOAD="$root/$LIB${LD_PRELOAD:+:$LD_PRELOAD}" \
PROMSHIM_EXPORTER_ENABLED=1 PROMSHIM_EXPORTER_PORT=$metrics_port \
    "$NGINX" -p "$tmp" -e "$tmp/error.log" -c "$tmp/nginx.conf" \
    </dev/null >"$tmp/nginx.out" 2>&1 &
nginx_pid=$!

# ---- wait until nginx and the exporter both answer ----
answers() { curl -fsS -o /dev/null --max-time 1 "$1" 2>/dev/null; }
now_ms() { local t=${EPOCHREALTIME/[.,]/}; echo $((t / 1000)); }
deadline=$(($(now_ms) + DEADLINE_S * 1000))
nginx_up=0
exporter_up=0
while (($(now_ms) < deadline)); do
    if ! kill -0 "$nginx_pid" 2>/dev/null; then
        echo "demo: nginx exited during start-up" >&2
        show_logs
        exit 1
    fi
    ((nginx_up)) || { answers "http://127.0.0.1:$http_port/" && nginx_up=1; } || true
    ((exporter_up)) || { answers "http://127.0.0.1:$metrics_port/metrics" && exporter_up=1; } || true
    if ((nginx_up && exporter_up)); then break; fi
    sleep 0.1
done
if ! ((nginx_up)); then
    echo "demo: nginx did not answer on port $http_port within ${DEADLINE_S}s" >&2
    show_logs
    exit 1
fi
if ! ((exporter_up)); then
    echo "demo: the promshim exporter did not answer on port $metrics_port within ${DEADLINE_S}s" >&2
    show_logs
    exit 1
fi
say "nginx and the exporter are up."

# ---- traffic ----
ok=0
for ((i = 1; i <= REQUESTS; i++)); do
    if curl -fsS -o /dev/null --max-time 5 "http://127.0.0.1:$http_port/"; then ok=$((ok + 1)); fi
done
# A few misses, with ids in the path, to show status codes and route folding.
for ((i = 1; i <= 10; i++)); do
    curl -sS -o /dev/null --max-time 5 "http://127.0.0.1:$http_port/users/$((1000 + i))" || true
done
say "sent $REQUESTS requests to / with curl ($ok answered 200) and 10 to /users/<id> (404)."

if command -v wrk >/dev/null 2>&1; then
    say "running wrk for ${WRK_SECONDS}s (2 threads, 10 connections)..."
    wrk -t2 -c10 -d"${WRK_SECONDS}s" "http://127.0.0.1:$http_port/" 2>&1 |
        grep -E 'Requests/sec|requests in|Non-2xx|Socket errors' | sed 's/^/  wrk: /' || true
else
    say "(wrk not installed: skipping the load run)"
fi

# ---- what the exporter says ----
metrics=$(curl -fsS --max-time 5 "http://127.0.0.1:$metrics_port/metrics") || {
    echo "demo: scraping /metrics failed after the traffic" >&2
    show_logs
    exit 1
}

say
say "================ what /metrics says ================"
say "nginx was not changed, rebuilt or configured for this: libpromshim.so, preloaded"
say "into the master and inherited by both workers, watched the sockets they use."
say "  promshim_connections_*      connections accepted (role=\"server\"), by protocol"
say "  promshim_network_io_*       bytes read and written on those connections"
say "  http_server_*               requests parsed out of the HTTP traffic: duration,"
say "                              method, route (ids folded to {id}), status code"
say "  process_*                   the usual process metrics"
say "Histogram _bucket lines are left out here (count and sum shown)."
say "----------------------------------------------------"
interesting=$(printf '%s\n' "$metrics" |
    grep -E '^(promshim_connections|promshim_network_io|http_server|process_)' |
    grep -v '_bucket{' || true)
if [[ -n "$interesting" ]]; then
    printf '%s\n' "$interesting"
else
    say "(none of those families is there yet; the first lines of /metrics:)"
    printf '%s\n' "$metrics" | head -n 40
fi
say "----------------------------------------------------"
say "$(printf '%s\n' "$metrics" | grep -c -v '^#' || true) samples in all; stopping nginx."
