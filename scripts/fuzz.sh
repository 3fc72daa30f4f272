#!/usr/bin/env bash
# fuzz.sh - build and run the libFuzzer harnesses (tests/fuzz/fuzz_X.c).
#
#   scripts/fuzz.sh [run] [X...]     build, then fuzz each harness for
#                                    FUZZ_SECONDS on a copy of its corpus
#   scripts/fuzz.sh regress [X...]   build, then run every file of
#                                    tests/fuzz/corpus/X through fuzz_X once
#   scripts/fuzz.sh build [X...]     build only
#
# X: harness names (http1, toml, ...); none given: every tests/fuzz/fuzz_*.c.
# `make fuzz` runs the first form, `make fuzz-regress` the second.
#
# Build: every library source of shim/, shim/proto/, shim/probes/ and
# exporter/ except shim/init.c (its constructor would start the shim inside
# the fuzzer) is compiled with coverage, ASan and UBSan into
# build/fuzz/libshimfuzz.a; each harness is linked against that archive, so
# it pulls in just the objects it needs and a new harness needs no rule.
# Objects are rebuilt when their source, a header or the flags change.
#
# Run: the harness's seeds (tests/fuzz/corpus/X) are copied into
# build/fuzz/corpus/X (kept between runs, so later runs start from what
# earlier ones found; the repository's corpus is never written), then
#   build/fuzz/fuzz_X -max_total_time=FUZZ_SECONDS -max_len=L build/fuzz/corpus/X
# Anything the fuzzer reports (crash, sanitizer report, broken harness
# invariant, leak, timeout, out of memory) fails the harness; the reproducer
# lands in build/fuzz/artifacts/X/ and its path, the report and the command
# that replays it are printed. Keep such an input as a regression file in
# tests/fuzz/corpus/X/ once the bug is fixed.
#
# Output is TAP (one test per harness; diagnostics as "# " lines), so CI can
# count it. The full fuzzer logs are in build/fuzz/logs/. Exit status: 0
# when every harness passed, 1 when one failed, 2 on a build or usage error.
#
# Environment:
#   FUZZ_SECONDS   seconds per harness in run mode (default 60)
#   FUZZ_CC        compiler with libFuzzer (default clang)
#   FUZZ_DIR       build directory (default build/fuzz)
#   FUZZ_MAX_LEN   -max_len for every harness (default: per harness, below)
#   FUZZ_TIMEOUT   seconds one input may take before it counts as a hang (10)
#   FUZZ_RSS_MB    memory limit in MB (default 2048)
#   FUZZ_ARGS      extra libFuzzer arguments (run mode)
#   FUZZ_JOBS      parallel compiles (default: number of CPUs)
set -uo pipefail

cd "$(dirname -- "${BASH_SOURCE[0]}")/.." || exit 2

mode=run
case "${1:-}" in
run | regress | build)
    mode=$1
    shift
    ;;
-h | --help)
    sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'
    exit 0
    ;;
esac

seconds=${FUZZ_SECONDS:-60}
cc=${FUZZ_CC:-clang}
fb=${FUZZ_DIR:-build/fuzz}
timeout_s=${FUZZ_TIMEOUT:-10}
rss_mb=${FUZZ_RSS_MB:-2048}
jobs=${FUZZ_JOBS:-$(nproc 2>/dev/null || echo 2)}
[[ "$seconds" =~ ^[0-9]+$ ]] || {
    echo "fuzz.sh: FUZZ_SECONDS must be a whole number of seconds" >&2
    exit 2
}

# -max_len per harness: long enough for several pipelined messages of the
# protocol (and the byte-by-byte replay stays cheap), short enough that the
# fuzzer spends its time on structure, not bulk. Unknown harnesses: 4096, or
# twice the largest seed when that is more.
max_len_for() {
    local name=$1 largest
    if [[ -n "${FUZZ_MAX_LEN:-}" ]]; then
        echo "$FUZZ_MAX_LEN"
        return
    fi
    case $name in
    http1 | memcached | redis) echo 4096 ;;
    mysql | postgres | kafka) echo 8192 ;;
    route) echo 1024 ;;
    toml) echo 4096 ;;
    *)
        largest=0
        if [[ -d tests/fuzz/corpus/$name ]]; then
            largest=$(find "tests/fuzz/corpus/$name" -type f -printf '%s\n' | sort -n | tail -1)
        fi
        largest=${largest:-0}
        echo $((2 * largest > 4096 ? 2 * largest : 4096))
        ;;
    esac
}

# ---------------------------------------------------------------- harnesses

if (($# > 0)); then
    names=("$@")
else
    names=()
    for f in tests/fuzz/fuzz_*.c; do
        [[ -e "$f" ]] || continue
        n=${f#tests/fuzz/fuzz_}
        names+=("${n%.c}")
    done
fi
if ((${#names[@]} == 0)); then
    echo "fuzz.sh: no harness found (tests/fuzz/fuzz_*.c)" >&2
    exit 2
fi
for n in "${names[@]}"; do
    if [[ ! -f tests/fuzz/fuzz_$n.c ]]; then
        echo "fuzz.sh: no harness tests/fuzz/fuzz_$n.c" >&2
        exit 2
    fi
done

# ------------------------------------------------------------------- build

san="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
common="-g -O1 $san -D_GNU_SOURCE -DPROMSHIM_VERSION=\"fuzz\" -I."
lib_cflags="$common -fsanitize=fuzzer-no-link"
bin_cflags="$common -fsanitize=fuzzer"

build_failed() {
    echo "1..1"
    echo "not ok 1 - fuzz: build failed ($1)"
    exit 2
}

build() {
    local stamp="$fb/flags" want src obj newest_hdr pids=() rc=0 objs=() f
    mkdir -p "$fb/obj" || build_failed "cannot create $fb"
    want="$cc $lib_cflags | $bin_cflags"
    # Different flags or compiler: start over.
    if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
        rm -rf -- "$fb/obj" "$fb/libshimfuzz.a" "$fb"/fuzz_*
        mkdir -p "$fb/obj"
        printf '%s\n' "$want" >"$stamp"
    fi
    # The newest header: an object older than it is rebuilt (headers are
    # few and shared widely; tracking exact dependencies is not worth it).
    newest_hdr=$(find shim exporter hooks tests/fuzz -name '*.h' -printf '%T@ %p\n' 2>/dev/null |
        sort -n | tail -1 | cut -d' ' -f2-)
    local srcs=()
    for src in shim/*.c shim/proto/*.c shim/probes/*.c exporter/*.c; do
        [[ -e "$src" && "$src" != shim/init.c ]] || continue
        srcs+=("$src")
    done
    for src in "${srcs[@]}"; do
        obj="$fb/obj/${src%.c}.o"
        objs+=("$obj")
        if [[ -f "$obj" && ! "$src" -nt "$obj" && (-z "$newest_hdr" || ! "$newest_hdr" -nt "$obj") ]]; then
            continue
        fi
        mkdir -p "$(dirname -- "$obj")"
        while (($(jobs -rp | wc -l) >= jobs)); do wait -n; done
        echo "# cc $src" >&2
        # shellcheck disable=SC2086
        $cc $lib_cflags -c "$src" -o "$obj" &
        pids+=($!)
    done
    for f in "${pids[@]}"; do wait "$f" || rc=1; done
    ((rc == 0)) || build_failed "a library source did not compile"
    # Objects of sources that are gone must leave the archive.
    find "$fb/obj" -name '*.o' | while read -r f; do
        local s=${f#"$fb/obj/"}
        [[ -e "${s%.o}.c" && "${s%.o}.c" != shim/init.c ]] || rm -f -- "$f"
    done
    local ar_out="$fb/libshimfuzz.a" need=0
    [[ -f "$ar_out" ]] || need=1
    for obj in "${objs[@]}"; do [[ "$obj" -nt "$ar_out" ]] && need=1; done
    if ((need)); then
        rm -f -- "$ar_out"
        ar rcs "$ar_out" "${objs[@]}" || build_failed "ar"
    fi
    pids=()
    for n in "${names[@]}"; do
        local h=tests/fuzz/fuzz_$n.c bin=$fb/fuzz_$n
        if [[ -x "$bin" && ! "$h" -nt "$bin" && ! "$ar_out" -nt "$bin" &&
            (-z "$newest_hdr" || ! "$newest_hdr" -nt "$bin") ]]; then
            continue
        fi
        while (($(jobs -rp | wc -l) >= jobs)); do wait -n; done
        echo "# cc $h" >&2
        # shellcheck disable=SC2086
        $cc $bin_cflags "$h" "$ar_out" -o "$bin" -lpthread -ldl -lm &
        pids+=($!)
    done
    for f in "${pids[@]}"; do wait "$f" || rc=1; done
    ((rc == 0)) || build_failed "a harness did not compile or link"
}

command -v "$cc" >/dev/null 2>&1 || build_failed "no $cc"
build
[[ $mode == build ]] && exit 0

# --------------------------------------------------------------------- run

mkdir -p "$fb/logs" "$fb/corpus" "$fb/artifacts"

# report NAME LOG ARTDIR BEFORE: the "# " diagnostics of a failed harness.
report() {
    local name=$1 log=$2 art=$3 before=$4 f new=()
    # The input the fuzzer saved ("Test unit written to PATH"; the same
    # input found again overwrites its file), else any new artifact.
    while IFS= read -r f; do
        [[ -n "$f" && -f "$f" ]] && new+=("$f")
    done < <(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | sort -u)
    if ((${#new[@]} == 0)); then
        while IFS= read -r f; do
            [[ -n "$f" ]] || continue
            grep -qxF -- "$f" "$before" || new+=("$f")
        done < <(find "$art" -maxdepth 1 -type f | sort)
    fi
    if ((${#new[@]})); then
        for f in "${new[@]}"; do
            echo "#   reproducer: $f"
            echo "#   replay:     $fb/fuzz_$name $f"
        done
    else
        echo "#   (no reproducer written; see the log)"
    fi
    echo "#   log: $log; the report:"
    # The report: the sanitizer's or the harness's own lines and the top of
    # the stack (libFuzzer's own frames left out).
    grep -aE 'ERROR: |SUMMARY: |runtime error|^fuzz_|    #[0-9]+ |deadly signal|Timeout|out-of-memory|leak' "$log" |
        grep -vE 'INFO: |in fuzzer::|in main |in _start|__libc_start' | sed 's/ (BuildId: [0-9a-f]*)//' |
        head -24 | sed 's/^/#     /'
}

n_total=${#names[@]}
echo "1..$n_total"
i=0
failed=0
for n in "${names[@]}"; do
    i=$((i + 1))
    bin=$fb/fuzz_$n
    art=$fb/artifacts/$n
    mkdir -p "$art"
    before=$(mktemp)
    find "$art" -maxdepth 1 -type f | sort >"$before"
    dict=()
    [[ -f tests/fuzz/$n.dict ]] && dict=(-dict="tests/fuzz/$n.dict")
    start=$SECONDS
    if [[ $mode == run ]]; then
        log=$fb/logs/$n.log
        corpus=$fb/corpus/$n
        mkdir -p "$corpus"
        if [[ -d tests/fuzz/corpus/$n ]]; then
            cp -p -- tests/fuzz/corpus/"$n"/* "$corpus"/ 2>/dev/null || true
        fi
        len=$(max_len_for "$n")
        # shellcheck disable=SC2086
        "$bin" -max_total_time="$seconds" -max_len="$len" -timeout="$timeout_s" \
            -rss_limit_mb="$rss_mb" -artifact_prefix="$art/" -print_final_stats=1 \
            "${dict[@]}" ${FUZZ_ARGS:-} "$corpus" </dev/null >"$log" 2>&1
        rc=$?
        runs=$(grep -aoE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' | tail -1)
        cov=$(grep -aoE 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -1)
        size=$(find "$corpus" -type f | wc -l)
        what="fuzz $n: $((SECONDS - start)) s, ${runs:-?} runs, ${cov:-no coverage line}, corpus $size files, max_len $len"
    else
        log=$fb/logs/$n.regress.log
        # Every file of the repository's corpus once. The directory is read,
        # never written (-runs=0: no mutation, nothing new to save).
        corpus=tests/fuzz/corpus/$n
        if [[ ! -d $corpus ]]; then
            corpus=$(mktemp -d)
        fi
        count=$(find "$corpus" -type f | wc -l)
        "$bin" -runs=0 -timeout="$timeout_s" -rss_limit_mb="$rss_mb" \
            -artifact_prefix="$art/" "$corpus" </dev/null >"$log" 2>&1
        rc=$?
        what="fuzz regress $n: $count files of $corpus, $((SECONDS - start)) s"
    fi
    if ((rc == 0)) && ! grep -aqE '^==[0-9]+==ERROR|runtime error:|^SUMMARY: ' "$log"; then
        echo "ok $i - $what"
    else
        failed=$((failed + 1))
        echo "not ok $i - $what: FAILED (exit $rc)"
        report "$n" "$log" "$art" "$before"
    fi
    rm -f -- "$before"
done

if ((failed)); then
    echo "# fuzz: $failed of $n_total harnesses failed"
    exit 1
fi
exit 0
