#!/usr/bin/env bash
# make bench: side-by-side benchmarks, variants alternated in one run,
# medians and ratios. This machine is shared and noisy (wrk moves +-15-30%
# run to run), so next to throughput the server's CPU time per request is
# reported (from /proc/PID/stat around the load), which is far steadier.
#
#   scripts/bench.sh [SECTION...]     sections: nginx (default: all)
#   BENCH_ROUNDS=5 BENCH_SECONDS=5    rounds per variant, seconds per wrk run
set -euo pipefail

cd "$(dirname -- "$(readlink -f -- "${BASH_SOURCE[0]}")")/.."
root=$PWD
LIB=$root/build/libpromshim.so
ROUNDS=${BENCH_ROUNDS:-5}
SECONDS_PER_RUN=${BENCH_SECONDS:-5}
CONNS=32
TICK=$(getconf CLK_TCK)

[[ -f $LIB ]] || { echo "bench: $LIB not built: run make" >&2; exit 1; }
command -v wrk >/dev/null || { echo "bench: wrk is not installed (scripts/deps.sh)" >&2; exit 1; }

tmp=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do
        for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$p" 2>/dev/null || true
    done
    rm -rf "$tmp"
}
trap cleanup EXIT

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# cpu_ticks PID...: utime+stime of the processes and their threads
cpu_ticks() {
    local t=0 p
    for p in "$@"; do
        [[ -r /proc/$p/stat ]] || continue
        t=$((t + $(awk '{ sub(/.*\) /, ""); print $12 + $13 }' "/proc/$p/stat")))
    done
    echo "$t"
}

# tree PID: the pid and its children (one level: nginx master and workers)
tree() {
    echo "$1"
    pgrep -P "$1" || true
}

# to_us: wrk's latency (1.2ms, 800.00us, 1.1s) in microseconds
to_us() { awk '{ v = $1 + 0; if ($1 ~ /ms$/) v *= 1000; else if ($1 ~ /us$/) v *= 1; else if ($1 ~ /s$/) v *= 1e6; printf "%.1f\n", v }'; }

median() { sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

results=$tmp/results
: >"$results"

# ---- nginx serving a small static file to wrk (keep-alive, 32 connections)
bench_nginx() {
    local port dir
    port=$(free_port)
    dir=$tmp/nginx
    mkdir -p "$dir"
    head -c 612 /dev/zero | tr '\0' 'x' >"$dir/index.html"
    cat >"$dir/nginx.conf" <<EOF
worker_processes 1;
daemon off;
master_process on;
pid $dir/nginx.pid;
error_log $dir/error.log;
events { worker_connections 1024; }
http {
    access_log off;
    sendfile on;
    keepalive_requests 1000000;
    client_body_temp_path $dir/cb; proxy_temp_path $dir/px; fastcgi_temp_path $dir/fc;
    uwsgi_temp_path $dir/uw; scgi_temp_path $dir/sc;
    server { listen 127.0.0.1:$port; root $dir; }
}
EOF
    chmod 755 "$tmp" "$dir"
    for ((r = 1; r <= ROUNDS; r++)); do
        for variant in plain shim; do
            local eport pid
            eport=$(free_port)
            if [[ $variant == shim ]]; then
                LD_PRELOAD=$LIB PROMSHIM_EXPORTER_PORT=$eport /usr/sbin/nginx -p "$dir" -c "$dir/nginx.conf" 2>>"$dir/stderr" &
            else
                /usr/sbin/nginx -p "$dir" -c "$dir/nginx.conf" 2>>"$dir/stderr" &
            fi
            pid=$!
            pids+=("$pid")
            for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/" >/dev/null && break; sleep 0.05; done
            # warm up, then measure
            wrk -t2 -c$CONNS -d1s "http://127.0.0.1:$port/" >/dev/null
            local procs c0 c1 out reqs rps p50 p99
            procs=$(tree "$pid")
            # shellcheck disable=SC2086
            c0=$(cpu_ticks $procs)
            out=$(wrk -t2 -c$CONNS -d"${SECONDS_PER_RUN}s" --latency "http://127.0.0.1:$port/")
            # shellcheck disable=SC2086
            c1=$(cpu_ticks $procs)
            reqs=$(awk '/requests in/ { print $1 }' <<<"$out")
            rps=$(awk '/Requests\/sec/ { print $2 }' <<<"$out")
            p50=$(awk '$1 == "50%" { print $2 }' <<<"$out" | to_us)
            p99=$(awk '$1 == "99%" { print $2 }' <<<"$out" | to_us)
            echo "nginx $variant rps $rps" >>"$results"
            echo "nginx $variant cpu_us_per_req $(awk -v c=$((c1 - c0)) -v t="$TICK" -v n="$reqs" 'BEGIN { printf "%.3f", c / t * 1e6 / n }')" >>"$results"
            echo "nginx $variant p50_us $p50" >>"$results"
            echo "nginx $variant p99_us $p99" >>"$results"
            kill "$pid"
            wait "$pid" 2>/dev/null || true
            echo "  nginx round $r $variant: $rps req/s" >&2
        done
    done
}

sections=("$@")
[[ ${#sections[@]} -gt 0 ]] || sections=(nginx)
for s in "${sections[@]}"; do
    case $s in
    nginx) bench_nginx ;;
    *) echo "bench: unknown section $s" >&2; exit 2 ;;
    esac
done

echo
echo "Medians of $ROUNDS alternating rounds, ${SECONDS_PER_RUN}s each ($(nproc) cores, $(uname -r))"
printf "%-8s %-16s %14s %14s %10s\n" bench metric plain shim ratio
for bench in $(awk '{ print $1 }' "$results" | sort -u); do
    for metric in $(awk -v b="$bench" '$1 == b { print $3 }' "$results" | awk '!seen[$0]++'); do
        p=$(awk -v b="$bench" -v m="$metric" '$1 == b && $2 == "plain" && $3 == m { print $4 }' "$results" | median)
        s=$(awk -v b="$bench" -v m="$metric" '$1 == b && $2 == "shim" && $3 == m { print $4 }' "$results" | median)
        printf "%-8s %-16s %14s %14s %10s\n" "$bench" "$metric" "$p" "$s" "$(awk -v p="$p" -v s="$s" 'BEGIN { if (p > 0) printf "%.3f", s / p }')"
    done
done
