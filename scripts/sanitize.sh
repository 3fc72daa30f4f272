#!/usr/bin/env bash
# sanitize.sh - build promshim with sanitizers and run the tests against it.
#
#   scripts/sanitize.sh [all]   ASan+UBSan, then TSan      (make sanitize)
#   scripts/sanitize.sh asan    ASan+UBSan only            (make sanitize-asan)
#   scripts/sanitize.sh tsan    TSan only                  (make sanitize-tsan)
#
# ASan+UBSan (build/asan, clang): the library, the unit tests and the C test
# programs are built with -fsanitize=address,undefined
# -fno-sanitize-recover=undefined through the Makefile's own rules (make
# B=build/asan CC=clang EXTRA_CFLAGS=... EXTRA_LDFLAGS=...), all linked
# with the one shared runtime (-shared-libasan). The unit tests run directly
# (leak checking on); then the bats suites run against
# build/asan/libpromshim.so and build/asan/progs. An instrumented preload
# library needs the ASan runtime ahead of it in the host program, so the
# suites get, through the *_UNDER_TEST overrides of
# tests/helpers/common.bash, a SHIM that is the preload list
# "RUNTIME:HELPER:build/asan/libpromshim.so" and at the same time the path
# of a file (build/asan/preload/RUNTIME:/.../libpromshim.so links to the
# library): every LD_PRELOAD="$SHIM" of every suite loads the runtime first
# without a change to the suites. HELPER works around a runtime/glibc hang
# (early_helper below). Leak checking is off there (the host programs' own
# leaks are not ours). Why clang: gcc's UBSan, linked with ASan, ignores
# log_path and writes its reports to the host's stderr, where they are
# lost. Before the suites, a canary library with a heap overflow and a
# signed overflow must leave both reports, or the run fails.
#
# TSan (build/tsan, gcc): ThreadSanitizer cannot watch a library preloaded
# into an uninstrumented host (it sees none of the host's own
# synchronisation, so it reports races that are not there, and python,
# nginx, curl are not instrumented), so the bats suites are left out. What
# runs: a canary race, the unit tests built with -fsanitize=thread
# (test_registry's threads and forks, test_callsite's two threads among
# them), and tests/progs/mt_client, built with TSan, run under the TSan
# build of the library: 8 threads connecting and closing while the
# exporter thread is scraped, then the at-exit textfile.
#
# Every sanitizer writes its reports to files (log_path) under
# build/<variant>/logs/<part>/, never to the program's stderr, and a part
# fails when any report file appears there, whatever the exit status of the
# host program (a report in a forked worker or a daemon does not reach it).
# The output is TAP (bats' own for the suites, "[asan]"/"[tsan]" in front
# of each description), ending with "# " summary lines: what ran under which
# sanitizer, what was left out and why. Exit 0 when nothing was found.
#
# Environment:
#   SANITIZE_SUITES  bats files for the ASan pass (default: every
#                    tests/*.bats but tests/unit.bats, which runs the
#                    unsanitized build/unit; the sanitized unit tests run
#                    directly instead)
#   ASAN_CC, TSAN_CC compilers (default clang, gcc); SAN_CC sets both
#   SANITIZE_JOBS    parallel make jobs (default: number of CPUs)
set -uo pipefail

cd "$(dirname -- "${BASH_SOURCE[0]}")/.." || exit 2
REPO=$(pwd)

what=${1:-all}
case $what in
all | asan | tsan) ;;
-h | --help)
    sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'
    exit 0
    ;;
*)
    echo "usage: scripts/sanitize.sh [all|asan|tsan]" >&2
    exit 2
    ;;
esac

cc=  # the compiler of the variant being built (asan, tsan)
jobs=${SANITIZE_JOBS:-$(nproc 2>/dev/null || echo 2)}
PY=/usr/bin/python3
[[ -x $PY ]] || PY=$(command -v python3)

failed=0
summary=()  # "# " lines printed at the end
note() { summary+=("$*"); }

# tap_one DESCRIPTION OK [DETAIL-FILE]: one TAP test of its own (plan 1..1),
# DETAIL-FILE shown as "# " lines when it failed.
tap_one() {
    local desc=$1 ok=$2 detail=${3:-}
    echo "1..1"
    if ((ok)); then
        echo "ok 1 $desc"
    else
        echo "not ok 1 $desc"
        failed=$((failed + 1))
        [[ -n $detail && -s $detail ]] && sed 's/^/# /' "$detail"
    fi
}

# reports DIR: the sanitizer report files under DIR, one per line.
reports() {
    find "$1" -type f 2>/dev/null | sort
}

# show_reports DIR: the start of each report under DIR, as "# " lines.
show_reports() {
    local f
    while IFS= read -r f; do
        echo "# ---- $f"
        head -n 60 -- "$f" | sed 's/^/#   /'
    done < <(reports "$1")
}

# fresh_logs DIR: an empty report directory that every user may write to
# (the DB suites run servers as their own users).
fresh_logs() {
    rm -rf -- "$1"
    mkdir -p -- "$1"
    chmod 1777 -- "$1"
}

# build VARIANT FLAGS LDFLAGS: make B=build/VARIANT all with FLAGS added to
# every compile and link, LDFLAGS to every link. Starts over when the flags
# or the compiler changed.
build() {
    local variant=$1 flags=$2 ldflags=$3 b=build/$1 stamp log
    if ! command -v "$cc" >/dev/null 2>&1; then
        tap_one "[$variant] build: compiler $cc" 0
        note "$variant: no compiler $cc"
        return 1
    fi
    stamp="$cc|$flags|$ldflags"
    if [[ ! -f $b/sanitize-flags || "$(cat "$b/sanitize-flags")" != "$stamp" ]]; then
        rm -rf -- "$b"
    fi
    mkdir -p -- "$b"
    printf '%s\n' "$stamp" >"$b/sanitize-flags"
    log=$b/build.log
    local start=$SECONDS
    # shellcheck disable=SC2086
    if ! make -j"$jobs" B="$b" CC="$cc" CFLAGS="-O1 -g -fno-omit-frame-pointer" \
        EXTRA_CFLAGS="$flags" EXTRA_LDFLAGS="$flags $ldflags" all </dev/null >"$log" 2>&1; then
        tap_one "[$variant] build (make B=$b all)" 0 "$log"
        note "$variant: build FAILED, see $log"
        return 1
    fi
    note "$variant: built $b with $cc $flags $ldflags in $((SECONDS - start)) s"
    return 0
}

# run_units VARIANT ENVVAR OPTIONS: every $b/unit/test_* once, with its own
# report directory; a test fails on a non-zero exit or any report.
run_units() {
    local variant=$1 var=$2 opts=$3 b=build/$1 t name dir out rc n=0 i=0 bins=()
    for t in "$b"/unit/test_*; do
        [[ -x $t ]] && bins+=("$t")
    done
    echo "1..${#bins[@]}"
    for t in "${bins[@]}"; do
        i=$((i + 1))
        name=${t##*/}
        dir=$b/logs/unit/$name
        fresh_logs "$dir"
        out=$b/logs/unit/$name.out
        local start=$SECONDS
        env "$var=$opts:log_path=$REPO/$dir/report" \
            UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$REPO/$dir/report" \
            timeout -k 10 900 "$t" </dev/null >"$out" 2>&1
        rc=$?
        if ((rc == 0)) && [[ -z "$(reports "$dir")" ]]; then
            echo "ok $i [$variant] unit: $name ($((SECONDS - start)) s)"
            n=$((n + 1))
        else
            echo "not ok $i [$variant] unit: $name (exit $rc, $((SECONDS - start)) s)"
            failed=$((failed + 1))
            tail -n 20 -- "$out" | sed 's/^/# /'
            show_reports "$dir"
        fi
    done
    note "$variant: unit tests $n of ${#bins[@]} clean (${bins[*]##*/})"
}

# ---------------------------------------------------------------- ASan+UBSan

# Suite tests that cannot pass against a sanitizer build, by design (exact
# description, then the reason). Their failures are reported as skips.
declare -A asan_inapplicable=(
    ["libpromshim.so needs only libc at load time"]="the sanitizer build links the ASan and UBSan runtimes"
    ["PROMSHIM_FOLLOW_CHILDREN=false: exec'd children run without the shim; the program itself still has it"]="the shim takes only itself out of LD_PRELOAD; the ASan runtime entries stay for the children"
)

# tap_rewrite VARIANT: bats TAP on stdin; "[VARIANT]" before each
# description; a failure of an inapplicable test becomes a skip.
tap_rewrite() {
    local variant=$1 line desc num rest
    while IFS= read -r line; do
        if [[ $line =~ ^(not\ )?ok\ ([0-9]+)\ (.*)$ ]]; then
            num=${BASH_REMATCH[2]}
            rest=${BASH_REMATCH[3]}
            desc=${rest%% # *}
            if [[ -n ${BASH_REMATCH[1]} && -n ${asan_inapplicable[$desc]:-} ]]; then
                echo "ok $num [$variant] $desc # skip ${asan_inapplicable[$desc]}"
                continue
            fi
            echo "${BASH_REMATCH[1]}ok $num [$variant] $rest"
        else
            echo "$line"
        fi
    done
}

# early_helper DIR: DIR/libasan_early.so, preloaded right after the ASan
# runtime. A preloaded runtime's constructor runs after those of the host's
# own libraries, so ASan often starts lazily, on the first malloc of some
# library's constructor, and that malloc can sit inside a glibc function that
# holds a locale or gettext lock: newlocale() in libp11-kit's constructor
# (curl, wget), bindtextdomain() in the Kerberos libraries' (postgres). Part
# of ASan's start-up is dlsym(RTLD_DEFAULT, "swift_demangle") followed by
# dlerror(), and dlerror() translates its message through gettext, which
# takes and releases those same locks: the lock is left broken and the host
# hangs later in setlocale() or bindtextdomain(). (A sanitizer/glibc
# interaction, not promshim's: the bare runtime preloaded into curl or
# postgres hangs the same way.) With a swift_demangle symbol to find,
# dlerror() has no message to translate. ASan calls it to demangle Swift
# names; NULL means "not Swift".
early_helper() {
    local dir=$1
    cat >"$dir/asan_early.c" <<'CEOF'
#include <stddef.h>
#include <stdint.h>

/* swift_demangle: found by ASan's start-up (see scripts/sanitize.sh); never demangles. */
char *swift_demangle(const char *name, size_t len, char *out, size_t *outlen, uint32_t flags);
char *swift_demangle(const char *name, size_t len, char *out, size_t *outlen, uint32_t flags)
{
    return NULL;
}
CEOF
    $cc -O2 -shared -fPIC -o "$dir/libasan_early.so" "$dir/asan_early.c" >"$dir/early.log" 2>&1
}

# canary_asan DIR RUNTIME FLAGS: a library built with FLAGS that overflows a
# heap block (SANITIZE_CANARY=asan) or a signed int (=ubsan) when loaded,
# preloaded after RUNTIME into sh: each must leave its report file. (It
# caught two things: gcc's UBSan, when linked with ASan, ignores log_path and
# writes to the host's stderr; and gcc may delete an overflowing store to a
# block it sees freed unused.)
canary_asan() {
    local dir=$1 runtime=$2 flags=$3 kind logs ok=1 detail=$1/canary.detail
    cat >"$dir/canary.c" <<'CEOF'
#include <limits.h>
#include <stdlib.h>
#include <string.h>

__attribute__((constructor)) static void canary(void)
{
    const char *what = getenv("SANITIZE_CANARY");
    if (!what)
        return;
    /* only here: not in the symbolizer the report starts */
    static char kind[8];
    strncpy(kind, what, sizeof(kind) - 1);
    what = kind;
    unsetenv("SANITIZE_CANARY");
    if (strcmp(what, "asan") == 0) {
        size_t n = strlen(what);
        char *p = malloc(n);
        __asm__ volatile("" : : "r"(p) : "memory"); /* keep the block */
        p[n] = 1; /* one past its end */
        __asm__ volatile("" : : "r"(p) : "memory");
        free(p);
    } else if (strcmp(what, "ubsan") == 0) {
        volatile int x = INT_MAX;
        x = x + (int)strlen(what);
    }
}
CEOF
    : >"$detail"
    # shellcheck disable=SC2086
    if ! $cc -O1 -g $flags -shared -fPIC -o "$dir/libcanary.so" "$dir/canary.c" >>"$detail" 2>&1; then
        tap_one "[asan] canary: build" 0 "$detail"
        return
    fi
    for kind in asan ubsan; do
        logs=$dir/canary-$kind
        fresh_logs "$logs"
        SANITIZE_CANARY=$kind LD_PRELOAD="$runtime:$dir/libcanary.so" \
            ASAN_OPTIONS="detect_leaks=0:halt_on_error=1:abort_on_error=0:log_path=$logs/report" \
            UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$logs/report" \
            sh -c 'exit 0' </dev/null >>"$detail" 2>&1
        if [[ $kind == asan ]]; then
            grep -qs 'ERROR: AddressSanitizer: heap-buffer-overflow' "$logs"/report.* || ok=0
        else
            grep -qs 'runtime error: signed integer overflow' "$logs"/report.* || ok=0
        fi
        ((ok)) || echo "no $kind report in $logs" >>"$detail"
    done
    tap_one "[asan] canary: a heap overflow and a signed overflow in a preloaded library leave ASan and UBSan report files" "$ok" "$detail"
}

# name_filter NAME: an ERE (for bats --filter) that matches the test named
# NAME exactly. bats matches the name as written in the .bats file, where a
# character may carry a backslash (\$, \"): every one may have one here.
name_filter() {
    printf '^%s$' "$(sed -e 's/[][\\.^$*+?(){}|]/\\&/g' -e 's/\(\\\{0,1\}.\)/\\\\\{0,1\}\1/g' <<<"$1")"
}

# asan_bats SUITE DIR FILTER: bats --tap SUITE (only the tests matching
# FILTER when not empty) against the ASan build, reports into DIR. Needs
# $shim, $pre and $b of asan(). TAP on stdout.
asan_bats() {
    local suite=$1 dir=$2 filter=$3 f=()
    [[ -n $filter ]] && f=(-f "$filter")
    SHIM_UNDER_TEST=$shim \
        PROGS_UNDER_TEST=$REPO/$b/progs \
        WRAPPER_UNDER_TEST=$pre/promshim \
        BATS_TEST_TIMEOUT=${BATS_TEST_TIMEOUT:-200} \
        ASAN_OPTIONS="detect_leaks=0:halt_on_error=1:abort_on_error=0:log_path=$REPO/$dir/report" \
        UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$REPO/$dir/report" \
        bats --tap "${f[@]}" "$suite" </dev/null 2>&1
}

asan() {
    local flags="-fsanitize=address,undefined -fno-sanitize-recover=undefined" ldflags=""
    cc=${SAN_CC:-${ASAN_CC:-clang}}
    local b=build/asan rt rtname pre shim suite dir base start
    if [[ $cc == *clang* ]]; then
        rt=$($cc -print-file-name=libclang_rt.asan-x86_64.so)
        # One shared runtime for the library and the programs, found at run
        # time without LD_LIBRARY_PATH.
        ldflags="-shared-libasan -Wl,-rpath,$(dirname -- "$rt")"
    else
        rt=$($cc -print-file-name=libasan.so)
    fi
    rt=$(readlink -f -- "$rt")
    if [[ ! -f $rt ]]; then
        tap_one "[asan] ASan runtime for $cc" 0
        note "asan: no ASan runtime for $cc"
        return
    fi
    build asan "$flags" "$ldflags" || return

    run_units asan ASAN_OPTIONS "detect_leaks=1:halt_on_error=1:abort_on_error=0"

    # The preload list that is also a file (see the header): the runtime,
    # the start-up helper (early_helper), the library.
    rtname=${rt##*/}
    pre=$REPO/$b/preload
    rm -rf -- "$pre"
    mkdir -p -- "$pre"
    ln -s -- "$rt" "$pre/$rtname"
    if ! early_helper "$pre"; then
        tap_one "[asan] build the start-up helper $pre/libasan_early.so" 0 "$pre/early.log"
        return
    fi
    local runtime="$pre/$rtname:$pre/libasan_early.so"
    shim="$runtime:$REPO/$b/libpromshim.so"
    mkdir -p -- "$(dirname -- "$shim")"
    ln -s -- "$REPO/$b/libpromshim.so" "$shim"
    # The wrapper puts its library first and keeps what LD_PRELOAD held
    # after it: the runtime, second, which is sound (the library defines no
    # allocator) but needs ASan's order check off.
    cat >"$pre/promshim" <<EOF
#!/bin/sh
# The promshim wrapper of $b, with the ASan runtime preloaded after its library.
LD_PRELOAD="$runtime\${LD_PRELOAD:+:\$LD_PRELOAD}" \\
ASAN_OPTIONS="\${ASAN_OPTIONS:+\$ASAN_OPTIONS:}verify_asan_link_order=0" \\
    exec "$REPO/$b/promshim" "\$@"
EOF
    chmod +x "$pre/promshim"

    # Canary: the same runtime and options must turn a heap overflow and an
    # integer overflow in a preloaded library into report files, or a clean
    # run below would mean nothing.
    canary_asan "$pre" "$runtime" "$flags $ldflags"

    local suites=()
    if [[ -n ${SANITIZE_SUITES:-} ]]; then
        read -r -a suites <<<"$SANITIZE_SUITES"
    else
        for suite in tests/*.bats; do
            [[ $suite == tests/unit.bats ]] && continue
            suites+=("$suite")
        done
    fi
    local ran=()
    for suite in "${suites[@]}"; do
        if [[ ! -f $suite ]]; then
            tap_one "[asan] suite $suite exists" 0
            continue
        fi
        if [[ $suite == */unit.bats ]]; then
            note "asan: $suite left out: it runs build/unit, not the sanitized build/asan/unit (run above)"
            continue
        fi
        base=${suite##*/}
        base=${base%.bats}
        dir=$b/logs/$base
        fresh_logs "$dir"
        start=$SECONDS
        echo "# [asan] running $suite"
        asan_bats "$suite" "$dir" "" >"$dir.raw"
        tap_rewrite asan <"$dir.raw" >"$dir.tap"
        # A test that failed runs once more, alone: the sanitizers slow
        # everything down, and ASan 14 can deadlock a child forked while
        # another thread is inside its allocator (it takes no lock around
        # fork; LLVM 18 does). Passing then, it counts as passed, and the
        # summary names it. A sanitizer report in either run still fails.
        local line desc again=()
        while IFS= read -r line; do
            [[ $line =~ ^not\ ok\ [0-9]+\ \[asan\]\ (.*)$ ]] || continue
            desc=${BASH_REMATCH[1]%% # *}
            if asan_bats "$suite" "$dir" "$(name_filter "$desc")" | grep -q '^ok 1 '; then
                again+=("$desc")
            fi
        done <"$dir.tap"
        for desc in "${again[@]}"; do
            note "asan: $suite: \"$desc\" failed, then passed when run again"
            DESC=$desc awk '
                BEGIN { want = ENVIRON["DESC"] }
                /^not ok [0-9]+ \[asan\] / {
                    d = $0; sub(/^not ok [0-9]+ \[asan\] /, "", d); sub(/ # .*$/, "", d)
                    if (d == want) { sub(/^not ok/, "ok"); sub(/ # .*$/, ""); $0 = $0 " (failed once, passed when run again)" }
                }
                { print }' "$dir.tap" >"$dir.tap.new" && mv -- "$dir.tap.new" "$dir.tap"
        done
        cat -- "$dir.tap"
        # What bats reported, counted as .ci/run does.
        local plan n_ok n_fail
        plan=$(sed -n 's/^1\.\.\([0-9]*\).*/\1/p' "$dir.tap" | head -1)
        n_ok=$(grep -c '^ok ' "$dir.tap")
        n_fail=$(grep -c '^not ok ' "$dir.tap")
        failed=$((failed + n_fail))
        if ((n_ok + n_fail < ${plan:-1})); then
            tap_one "[asan] $suite reported all ${plan:-?} planned tests (got $((n_ok + n_fail)))" 0
        fi
        if [[ -z "$(reports "$dir")" ]]; then
            tap_one "[asan] no ASan/UBSan report while $suite ran ($((SECONDS - start)) s)" 1
        else
            echo "1..1"
            echo "not ok 1 [asan] ASan/UBSan reports while $suite ran ($((SECONDS - start)) s)"
            failed=$((failed + 1))
            show_reports "$dir"
        fi
        ran+=("$base")
    done
    note "asan: bats suites against $b/libpromshim.so (runtime $rtname preloaded first) and $b/progs: ${ran[*]:-none}"
    local k
    for k in "${!asan_inapplicable[@]}"; do
        note "asan: left out (reported as skip when it fails): \"$k\": ${asan_inapplicable[$k]}"
    done
}

# --------------------------------------------------------------------- TSan

# free_port: a TCP port free on 127.0.0.1 now.
free_port() {
    "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# canary_tsan DIR FLAGS: a program built with FLAGS whose two threads race
# on an int must leave a TSan report file.
canary_tsan() {
    local dir=$1 flags=$2 logs=$1/logs/canary detail=$1/logs/canary.detail ok=1
    fresh_logs "$logs"
    cat >"$dir/canary.c" <<'CEOF'
#include <pthread.h>

static int shared;

static void *bump(void *arg)
{
    shared++;
    return arg;
}

int main(void)
{
    pthread_t t;
    pthread_create(&t, NULL, bump, NULL);
    shared++;
    pthread_join(t, NULL);
    return 0;
}
CEOF
    # shellcheck disable=SC2086
    if $cc -O1 -g $flags -o "$dir/canary" "$dir/canary.c" -lpthread >"$detail" 2>&1; then
        TSAN_OPTIONS="halt_on_error=1:log_path=$REPO/$logs/tsan" "$dir/canary" </dev/null >>"$detail" 2>&1
        echo "canary exit status $?" >>"$detail"
        grep -qs 'ThreadSanitizer: data race' "$logs"/tsan.* || ok=0
        ((ok)) || echo "no TSan report in $logs" >>"$detail"
    else
        ok=0
    fi
    tap_one "[tsan] canary: a data race leaves a TSan report file" "$ok" "$detail"
}

tsan() {
    local flags="-fsanitize=thread" ldflags="" b=build/tsan rt
    cc=${SAN_CC:-${TSAN_CC:-gcc}}
    if [[ $cc == *clang* ]]; then
        rt=$($cc -print-file-name=libclang_rt.tsan-x86_64.so)
        ldflags="-shared-libsan -Wl,-rpath,$(dirname -- "$rt")"
    else
        rt=$($cc -print-file-name=libtsan.so)
        # gcc warns (-Wtsan) that TSan does not model atomic_thread_fence;
        # keep the warning, do not fail the build on it.
        flags+=" -Wno-error=tsan"
    fi
    rt=$(readlink -f -- "$rt")
    build tsan "$flags" "$ldflags" || return
    canary_tsan "$b" "$flags $ldflags"

    run_units tsan TSAN_OPTIONS "halt_on_error=1:second_deadlock_stack=1"

    # mt_client under the TSan library, /metrics and the status page scraped
    # meanwhile, the probes run every second (not every 15), then its
    # textfile at exit; a few rounds (races show up by chance), each a fresh
    # process.
    local dir=$b/logs/mt_client port eport tf srv out rc i scrapes pid threads=8 per=1500 round rounds=3
    local total=$((threads * per)) got detail ok start
    fresh_logs "$dir"
    out=$b/logs/mt_client
    port=$(free_port)
    "$PY" tests/progs/echo_server.py "$port" >"$out.server" 2>&1 </dev/null &
    srv=$!
    for ((i = 0; i < 100; i++)); do
        grep -q '^listening' "$out.server" 2>/dev/null && break
        sleep 0.1
    done
    echo "1..$rounds"
    for ((round = 1; round <= rounds; round++)); do
        eport=$(free_port)
        tf=$REPO/$out.$round.prom
        detail=$out.$round.detail
        rm -f -- "$tf"
        rc=0
        scrapes=0
        start=$SECONDS
        # The library before the runtime: its hooks then run outside TSan's
        # interceptors, whose fd bookkeeping (close releases, socket
        # acquires) models the kernel's ordering of a close and a later
        # socket that gets the same fd number. With the runtime first, the
        # library's fd-table accesses fall outside that window and TSan
        # reports races the kernel rules out. (timeout outside the env: it
        # must not run under the shim, or its own textfile at exit would
        # replace mt_client's.)
        timeout -k 10 600 env LD_PRELOAD="$REPO/$b/libpromshim.so:$rt" \
            PROMSHIM_EXPORTER_PORT="$eport" PROMSHIM_EXPORTER_PORT_RANGE=1 PROMSHIM_TEXTFILE_PATH="$tf" \
            PROMSHIM_METRICS_COLLECTION_INTERVAL_SECONDS=1 \
            TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:log_path=$REPO/$dir/tsan" \
            "$b/progs/mt_client" 127.0.0.1 "$port" "$threads" "$per" \
            >"$out.$round.out" 2>"$out.$round.err" </dev/null &
        pid=$!
        while kill -0 "$pid" 2>/dev/null; do
            curl -s --max-time 5 -o /dev/null "http://127.0.0.1:$eport/metrics" && scrapes=$((scrapes + 1))
            curl -s --max-time 5 -o /dev/null "http://127.0.0.1:$eport/" && scrapes=$((scrapes + 1))
            sleep 0.05
        done
        wait "$pid" || rc=$?
        got=$(awk '/^promshim_connections_total\{.*role="client"/ { s += $NF } END { print s + 0 }' "$tf" 2>/dev/null)
        {
            echo "exit $rc, output: $(cat "$out.$round.out" 2>/dev/null)"
            echo "textfile client connections: ${got:-none} (want $total); scrapes answered: $scrapes"
            tail -n 20 -- "$out.$round.err" 2>/dev/null
        } >"$detail"
        ok=0
        if ((rc == 0)) && [[ "$(cat "$out.$round.out")" == "connections=$total ok=$total errors=0" &&
            $got == "$total" && -z "$(reports "$dir")" ]]; then
            ok=1
        fi
        if ((ok)); then
            echo "ok $round [tsan] mt_client round $round ($threads threads x $per connections, $scrapes scrapes meanwhile, $((SECONDS - start)) s)"
        else
            echo "not ok $round [tsan] mt_client round $round ($threads threads x $per connections, $scrapes scrapes meanwhile, $((SECONDS - start)) s)"
            failed=$((failed + 1))
            sed 's/^/# /' "$detail"
            show_reports "$dir"
            # the rest would only repeat it
            for ((round++; round <= rounds; round++)); do
                echo "ok $round [tsan] mt_client round $round # skip a round before failed"
            done
        fi
    done
    kill "$srv" 2>/dev/null
    wait "$srv" 2>/dev/null
    note "tsan: tests/progs/mt_client (TSan-built) under $b/libpromshim.so, $rounds rounds, /metrics and / scraped meanwhile, then the at-exit textfile"
    note "tsan: left out: the bats suites (their hosts, python, nginx, curl, are not TSan-instrumented: TSan does not see their synchronisation and would report races that are not there)"
    note "tsan: left out: tests/unit.bats (runs build/unit; the TSan unit tests ran directly)"
}

# ---------------------------------------------------------------------- main

t0=$SECONDS
case $what in
asan) asan ;;
tsan) tsan ;;
all)
    asan
    tsan
    ;;
esac
echo "# ---- sanitize summary ($((SECONDS - t0)) s)"
for l in "${summary[@]}"; do echo "# $l"; done
if ((failed)); then
    echo "# sanitize: $failed FAILED (reports under build/*/logs/)"
    exit 1
fi
echo "# sanitize: nothing found"
exit 0
