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

# ---- nginx behind haproxy as a sidecar proxy with its own Prometheus
# exporter: the usual alternative for metrics from a service one cannot change
bench_haproxy() {
    command -v haproxy >/dev/null || { echo "  haproxy not installed: skipped" >&2; return 0; }
    local port hport sport dir
    dir=$tmp/nginx
    [[ -f $dir/nginx.conf ]] || { echo "  (haproxy: run the nginx section first)" >&2; return 0; }
    port=$(sed -n 's/.*listen 127.0.0.1:\([0-9]*\);.*/\1/p' "$dir/nginx.conf")
    hport=$(free_port)
    sport=$(free_port)
    cat >"$tmp/haproxy.cfg" <<EOF
global
    nbthread 1
defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s
frontend web
    bind 127.0.0.1:$hport
    default_backend nginx
frontend stats
    bind 127.0.0.1:$sport
    http-request use-service prometheus-exporter if { path /metrics }
backend nginx
    http-reuse always
    server n1 127.0.0.1:$port
EOF
    for ((r = 1; r <= ROUNDS; r++)); do
        /usr/sbin/nginx -p "$dir" -c "$dir/nginx.conf" 2>>"$dir/stderr" &
        local npid=$!
        pids+=("$npid")
        haproxy -f "$tmp/haproxy.cfg" -db 2>>"$tmp/haproxy.err" &
        local hpid=$!
        pids+=("$hpid")
        for _ in $(seq 100); do curl -sf "http://127.0.0.1:$hport/" >/dev/null && break; sleep 0.05; done
        wrk -t2 -c$CONNS -d1s "http://127.0.0.1:$hport/" >/dev/null
        local procs c0 c1 out reqs
        procs="$(tree "$npid") $hpid"
        # shellcheck disable=SC2086
        c0=$(cpu_ticks $procs)
        out=$(wrk -t2 -c$CONNS -d"${SECONDS_PER_RUN}s" --latency "http://127.0.0.1:$hport/")
        # shellcheck disable=SC2086
        c1=$(cpu_ticks $procs)
        reqs=$(awk '/requests in/ { print $1 }' <<<"$out")
        echo "nginx haproxy rps $(awk '/Requests\/sec/ { print $2 }' <<<"$out")" >>"$results"
        echo "nginx haproxy cpu_us_per_req $(awk -v c=$((c1 - c0)) -v t="$TICK" -v n="$reqs" 'BEGIN { printf "%.3f", c / t * 1e6 / n }')" >>"$results"
        echo "nginx haproxy p50_us $(awk '$1 == "50%" { print $2 }' <<<"$out" | to_us)" >>"$results"
        echo "nginx haproxy p99_us $(awk '$1 == "99%" { print $2 }' <<<"$out" | to_us)" >>"$results"
        kill "$hpid" "$npid"
        wait "$hpid" "$npid" 2>/dev/null || true
        echo "  haproxy round $r done" >&2
    done
}

# ---- redis-server driven by redis-benchmark (GET and SET, 32 clients):
# plain, the server under the shim, the client under the shim
bench_redis() {
    command -v redis-server >/dev/null || { echo "  redis-server not installed: skipped" >&2; return 0; }
    local port
    port=$(free_port)
    for ((r = 1; r <= ROUNDS; r++)); do
        for variant in plain server client both; do
            local pre=(env) cpre=(env)
            [[ $variant == server || $variant == both ]] && pre=(env LD_PRELOAD="$LIB" PROMSHIM_EXPORTER_PORT="$(free_port)")
            [[ $variant == client || $variant == both ]] && cpre=(env LD_PRELOAD="$LIB" PROMSHIM_EXPORTER_ENABLED=0)
            "${pre[@]}" redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no \
                --dir "$tmp" >/dev/null 2>&1 &
            local pid=$!
            pids+=("$pid")
            for _ in $(seq 100); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.05; done
            local c0 c1 out
            c0=$(cpu_ticks "$pid")
            out=$("${cpre[@]}" redis-benchmark -p "$port" -c 32 -n 200000 -t get,set -q 2>/dev/null | tr '\r' '\n')
            c1=$(cpu_ticks "$pid")
            for op in SET GET; do
                echo "redis-$op $variant rps $(awk -v o="$op:" '$1 == o { print $2 }' <<<"$out" | tail -1)" >>"$results"
            done
            echo "redis $variant server_cpu_us_per_req $(awk -v c=$((c1 - c0)) -v t="$TICK" 'BEGIN { printf "%.3f", c / t * 1e6 / 400000 }')" >>"$results"
            kill "$pid"
            wait "$pid" 2>/dev/null || true
        done
        echo "  redis round $r done" >&2
    done
}

# ---- start-up: a process that does nothing, and a shell loop of 200 /bin/true
bench_startup() {
    for ((r = 1; r <= ROUNDS; r++)); do
        for variant in plain shim; do
            local pre=(env)
            [[ $variant == shim ]] && pre=(env LD_PRELOAD="$LIB")
            local t0 t1 cpu
            t0=$(date +%s%N)
            for _ in $(seq 200); do "${pre[@]}" /bin/true; done
            t1=$(date +%s%N)
            echo "startup $variant ms_per_exec_of_true $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e6 / 200 }')" >>"$results"
            # the CPU of a shell loop, promshim preloaded into the shell and inherited by every /bin/true
            cpu=$( { /usr/bin/time -f '%U %S' "${pre[@]}" sh -c 'for i in $(seq 200); do /bin/true; done'; } 2>&1 | tail -1)
            echo "startup $variant sh_loop_cpu_s $(awk '{ printf "%.2f", $1 + $2 }' <<<"$cpu")" >>"$results"
        done
    done
}

# ---- the engine alone: per-request parse and record, scrapes of many series
bench_engine() {
    for ((r = 1; r <= ROUNDS; r++)); do
        echo "engine shim http_request_ns $("$root/build/bench/bench_http" 200000 | awk '{ print $2 }')" >>"$results"
        [[ -x $root/build/bench/bench_page ]] &&
            echo "page-10000 shim render_ms $("$root/build/bench/bench_page" 2>/dev/null | awk '{ for (i = 1; i < NF; i++) if ($i == "median") print $(i + 1) }' | head -1)" >>"$results"
        for n in 1000 10000 100000; do
            local out
            out=$("$root/build/bench/bench_scrape" "$n")
            echo "scrape-$n shim render_ms $(awk '{ print $4 }' <<<"$out")" >>"$results"
            echo "scrape-$n shim bytes_per_series $(awk '{ print $8 }' <<<"$out")" >>"$results"
        done
    done
}


# ---- nginx over HTTPS (TLS plaintext through OpenSSL's own functions)
bench_https() {
    local port dir
    port=$(free_port)
    dir=$tmp/nginxs
    mkdir -p "$dir"
    head -c 612 /dev/zero | tr '\0' 'x' >"$dir/index.html"
    openssl req -x509 -newkey rsa:2048 -nodes -keyout "$dir/key.pem" -out "$dir/cert.pem" -days 2 \
        -subj /CN=localhost 2>/dev/null
    cat >"$dir/nginx.conf" <<EOF
worker_processes 1;
daemon off;
master_process on;
pid $dir/nginx.pid;
error_log $dir/error.log;
events { worker_connections 1024; }
http {
    access_log off;
    keepalive_requests 1000000;
    client_body_temp_path $dir/cb; proxy_temp_path $dir/px; fastcgi_temp_path $dir/fc;
    uwsgi_temp_path $dir/uw; scgi_temp_path $dir/sc;
    server { listen 127.0.0.1:$port ssl; ssl_certificate $dir/cert.pem; ssl_certificate_key $dir/key.pem; root $dir; }
}
EOF
    chmod 755 "$tmp" "$dir"
    for ((r = 1; r <= ROUNDS; r++)); do
        for variant in plain shim; do
            local pre=(env) pid
            [[ $variant == shim ]] && pre=(env LD_PRELOAD="$LIB" PROMSHIM_EXPORTER_PORT="$(free_port)")
            "${pre[@]}" /usr/sbin/nginx -p "$dir" -c "$dir/nginx.conf" 2>>"$dir/stderr" &
            pid=$!
            pids+=("$pid")
            for _ in $(seq 100); do curl -skf "https://127.0.0.1:$port/" >/dev/null && break; sleep 0.05; done
            wrk -t2 -c$CONNS -d1s "https://127.0.0.1:$port/" >/dev/null
            local procs c0 c1 out reqs
            procs=$(tree "$pid")
            # shellcheck disable=SC2086
            c0=$(cpu_ticks $procs)
            out=$(wrk -t2 -c$CONNS -d"${SECONDS_PER_RUN}s" "https://127.0.0.1:$port/")
            # shellcheck disable=SC2086
            c1=$(cpu_ticks $procs)
            reqs=$(awk '/requests in/ { print $1 }' <<<"$out")
            echo "https $variant rps $(awk '/Requests\/sec/ { print $2 }' <<<"$out")" >>"$results"
            echo "https $variant cpu_us_per_req $(awk -v c=$((c1 - c0)) -v t="$TICK" -v n="$reqs" 'BEGIN { printf "%.3f", c / t * 1e6 / n }')" >>"$results"
            kill "$pid"
            wait "$pid" 2>/dev/null || true
        done
        echo "  https round $r done" >&2
    done
}

# ---- pgbench against PostgreSQL: neither, both sides under the shim
bench_pgbench() {
    local pgbin=/usr/lib/postgresql/15/bin
    [[ -x $pgbin/initdb ]] && command -v pgbench >/dev/null || { echo "  postgresql not installed: skipped" >&2; return 0; }
    local port pgt
    port=$(free_port)
    pgt=$(mktemp -d /tmp/promshim-bench-pg.XXXXXX)
    chown postgres:postgres "$pgt"
    runuser -u postgres -- "$pgbin/initdb" -D "$pgt/data" -A trust -U postgres >"$pgt/initdb.log" 2>&1 || return 0
    for ((r = 1; r <= ROUNDS; r++)); do
        for variant in plain both; do
            local pre=() cpre=(env)
            [[ $variant == both ]] && pre=(LD_PRELOAD="$LIB" PROMSHIM_EXPORTER_PORT="$(free_port)") &&
                cpre=(env LD_PRELOAD="$LIB" PROMSHIM_EXPORTER_ENABLED=0)
            runuser -u postgres -- env "${pre[@]}" "$pgbin/pg_ctl" -D "$pgt/data" -l "$pgt/log" -w \
                -o "-p $port -k $pgt -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null 2>&1
            [[ $r == 1 && $variant == plain ]] && pgbench -h 127.0.0.1 -p "$port" -U postgres -i -q postgres >/dev/null 2>&1
            local out
            out=$("${cpre[@]}" pgbench -h 127.0.0.1 -p "$port" -U postgres -c 4 -j 2 -T "$SECONDS_PER_RUN" -S postgres 2>/dev/null)
            echo "pgbench $variant tps $(awk '/^tps/ { print $3; exit }' <<<"$out")" >>"$results"
            runuser -u postgres -- "$pgbin/pg_ctl" -D "$pgt/data" -m fast -w stop >/dev/null 2>&1
        done
        echo "  pgbench round $r done" >&2
    done
    rm -rf "$pgt"
}

# ---- a Kafka producer (librdkafka) sending 100,000 small messages to the
# mock cluster, under the shim and without
bench_kafka() {
    local bin=$root/build/kafka/kafka_client
    [[ -x $bin ]] || { echo "  no build/kafka/kafka_client: skipped" >&2; return 0; }
    for ((r = 1; r <= ROUNDS; r++)); do
        for variant in plain shim; do
            local pre=(env) secs
            [[ $variant == shim ]] && pre=(env LD_PRELOAD="$LIB" PROMSHIM_EXPORTER_ENABLED=0)
            # the produce loop to the end of flush, timed by the client: the
            # whole process's time is mostly librdkafka's 1 s timers at
            # start and shutdown (0.6 or 1.6 s, whichever the round hits)
            secs=$(KAFKA_CLIENT_TIMING=1 "${pre[@]}" "$bin" none 100000 0 0 2>/dev/null | awk '/^produce_seconds / { print $2 }')
            [[ -n $secs ]] || { echo "  kafka_client printed no produce_seconds: skipped" >&2; return 0; }
            echo "kafka $variant msgs_per_s $(awk -v s="$secs" 'BEGIN { printf "%.0f", 100000 / s }')" >>"$results"
        done
        echo "  kafka round $r done" >&2
    done
}

sections=("$@")
[[ ${#sections[@]} -gt 0 ]] || sections=(nginx haproxy https redis pgbench kafka startup engine)
for s in "${sections[@]}"; do
    case $s in
    nginx) bench_nginx ;;
    haproxy) bench_haproxy ;;
    redis) bench_redis ;;
    https) bench_https ;;
    pgbench) bench_pgbench ;;
    kafka) bench_kafka ;;
    startup) bench_startup ;;
    engine) bench_engine ;;
    *) echo "bench: unknown section $s" >&2; exit 2 ;;
    esac
done

report() {
    echo "Medians of $ROUNDS alternating rounds, ${SECONDS_PER_RUN}s per load run"
    echo "Machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), kernel $(uname -r), $(date -u +%Y-%m-%d)"
    echo
    printf "| %-9s | %-24s | %-8s | %12s | %10s |\n" bench metric variant median "vs plain"
    printf "|%s|%s|%s|%s|%s|\n" ----------- -------------------------- ---------- -------------- ------------
    for bench in $(awk '{ print $1 }' "$results" | awk '!seen[$0]++'); do
        for metric in $(awk -v b="$bench" '$1 == b { print $3 }' "$results" | awk '!seen[$0]++'); do
            local p
            p=$(awk -v b="$bench" -v m="$metric" '$1 == b && $2 == "plain" && $3 == m { print $4 }' "$results" | median)
            for variant in $(awk -v b="$bench" -v m="$metric" '$1 == b && $3 == m { print $2 }' "$results" | awk '!seen[$0]++'); do
                local v
                v=$(awk -v b="$bench" -v m="$metric" -v x="$variant" '$1 == b && $2 == x && $3 == m { print $4 }' "$results" | median)
                printf "| %-9s | %-24s | %-8s | %12s | %10s |\n" "$bench" "$metric" "$variant" "$v" \
                    "$(awk -v p="$p" -v v="$v" -v x="$variant" 'BEGIN { if (x != "plain" && p > 0) printf "%.3f", v / p }')"
            done
        done
    done
}

echo
report | tee "$tmp/report"
if [[ -n "${BENCH_WRITE:-}" ]]; then
    cp "$tmp/report" "$BENCH_WRITE"
    echo "(written to $BENCH_WRITE)"
fi
