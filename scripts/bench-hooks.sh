#!/usr/bin/env bash
# What the hooks add to each call: build/progs/bench_hooks run alternately
# without and with libpromshim.so preloaded (exporter off), medians compared.
#
#   make bench-hooks                     (builds, then runs this)
#   scripts/bench-hooks.sh [FILE_ITERATIONS [SOCKET_ITERATIONS]]
#   BENCH_ROUNDS=5                       rounds of each (default 5)
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
