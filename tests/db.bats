#!/usr/bin/env bats
# Database and cache metrics against real servers from Debian's packages:
# redis-server, memcached, PostgreSQL 15 and MariaDB, each started by the
# test on free loopback ports (PostgreSQL and MariaDB as their own users, in
# a directory of their own under /tmp) and stopped in teardown. Clients
# under the shim are real programs (redis-cli, redis-benchmark, libmemcached's
# memccp / memccat, psql, pgbench, the mariadb client, mysqlslap, Perl's
# DBD::MariaDB) or a raw socket client (tests/progs/db_raw.py) where the
# exact bytes matter; a short client's metrics are read from its textfile,
# a server's from its exporter. A server that cannot be started here makes
# its test skip with the reason.

# bats runs each test in a subshell: the port/eport a test sets are its own.
# shellcheck disable=SC2030,SC2031
load 'helpers/common'

setup() {
    common_setup
}

teardown() {
    db_teardown
}

C=db_client_operation_duration_seconds
S=db_server_operation_duration_seconds
L=db_client_cache_lookups_total

# client labels: cl SYSTEM OPERATION [ERROR] (peer 127.0.0.1:$port)
cl() {
    echo "db_system_name=\"$1\",db_operation_name=\"$2\",server_address=\"127.0.0.1\",server_port=\"$port\",error_type=\"${3:-}\""
}

# server labels: sl SYSTEM OPERATION [ERROR] (local port $port)
sl() {
    echo "db_system_name=\"$1\",db_operation_name=\"$2\",server_port=\"$port\",error_type=\"${3:-}\""
}

lk() {
    echo "db_system_name=\"$1\",result=\"$2\""
}

need() {
    local c
    for c in "$@"; do
        command -v "$c" >/dev/null || skip "$c is not installed (scripts/deps.sh installs it)"
    done
}

raw() {
    "$PY" "$PYPROGS/db_raw.py" 127.0.0.1 "$port" "$@"
}

# ---------------------------------------------------------------- Redis ----

@test "redis-cli: exact counts per command, hits and misses, ERR and WRONGTYPE error types" {
    need redis-server redis-cli
    port=$(free_port)
    start_redis "$port"
    tf="$BATS_TEST_TMPDIR/cli.prom"
    tf_env "$tf"
    run "${TF_ENV[@]}" redis-cli -p "$port" <<<$'SET k v\nGET k\nGET missing\nSET k2 v2\nMGET k missing k2\nSET s abc\nINCR s\nHSET h f 1\nHGET h f\nHGET h nof\nHMGET h f nof f\nGET h'
    assert_success
    assert_line --partial "ERR value is not an integer"
    assert_line --partial "WRONGTYPE"
    text=$(read_textfile "$tf")
    # redis-cli asks for COMMAND DOCS once when it starts
    assert_metric_exact "$text" "${C}_count" "$(cl redis COMMAND)" 1
    assert_metric_exact "$text" "${C}_count" "$(cl redis SET)" 3
    assert_metric_exact "$text" "${C}_count" "$(cl redis GET)" 2
    assert_metric_exact "$text" "${C}_count" "$(cl redis GET WRONGTYPE)" 1
    assert_metric_exact "$text" "${C}_count" "$(cl redis MGET)" 1
    assert_metric_exact "$text" "${C}_count" "$(cl redis INCR ERR)" 1
    assert_metric_exact "$text" "${C}_count" "$(cl redis HSET)" 1
    assert_metric_exact "$text" "${C}_count" "$(cl redis HGET)" 2
    assert_metric_exact "$text" "${C}_count" "$(cl redis HMGET)" 1
    assert_metric "$text" "${C}_count" "" 13
    assert_metric_exact "$text" "${C}_bucket" "$(cl redis SET),le=\"+Inf\"" 3
    # GET k, MGET (k, k2), HGET h f, HMGET (f, f): 6 hits; GET missing,
    # MGET missing, HGET nof, HMGET nof: 4 misses; the WRONGTYPE GET is none
    assert_metric_exact "$text" "$L" "$(lk redis hit)" 6
    assert_metric_exact "$text" "$L" "$(lk redis miss)" 4
    assert_metric "$text" promshim_events_dropped_total "" 0
    assert_promtool_ok "$text"
}

@test "redis-cli --pipe: replies pair with their commands in order, within the ring and past it" {
    need redis-server redis-cli
    port=$(free_port)
    start_redis "$port"
    redis-cli -p "$port" SET s abc >/dev/null
    # 20 commands: fit in the ring of operations in flight
    for ((i = 0; i < 10; i++)); do printf 'SET k%d v\r\nINCR s\r\n' "$i"; done >"$BATS_TEST_TMPDIR/small.txt"
    tf="$BATS_TEST_TMPDIR/small.prom"
    tf_env "$tf"
    # (--pipe exits 1 when a reply was an error)
    run "${TF_ENV[@]}" redis-cli -p "$port" --pipe <"$BATS_TEST_TMPDIR/small.txt"
    assert_output --partial "errors: 10, replies: 20"
    text=$(read_textfile "$tf")
    assert_metric_exact "$text" "${C}_count" "$(cl redis SET)" 10
    assert_metric_exact "$text" "${C}_count" "$(cl redis INCR ERR)" 10
    # --pipe ends with an ECHO of a random marker to know the last reply
    assert_metric_exact "$text" "${C}_count" "$(cl redis ECHO)" 1
    assert_metric "$text" "${C}_count" "" 21
    assert_metric "$text" promshim_events_dropped_total "" 0

    # 300 commands written at once: the first 32 are followed, the others
    # counted as dropped events; no reply is paired with the wrong command
    for ((i = 0; i < 150; i++)); do printf 'SET k%d v\r\nINCR s\r\n' "$i"; done >"$BATS_TEST_TMPDIR/big.txt"
    tf="$BATS_TEST_TMPDIR/big.prom"
    tf_env "$tf"
    run "${TF_ENV[@]}" redis-cli -p "$port" --pipe <"$BATS_TEST_TMPDIR/big.txt"
    assert_output --partial "errors: 150, replies: 300"
    text=$(read_textfile "$tf")
    sets=$(metric_sum "$text" "${C}_count" "$(cl redis SET)")
    incrs=$(metric_sum "$text" "${C}_count" "$(cl redis INCR ERR)")
    echos=$(metric_sum "$text" "${C}_count" "$(cl redis ECHO)")
    dropped=$(metric_sum "$text" promshim_events_dropped_total)
    ((sets + incrs >= 32)) || fail "only $sets SET and $incrs INCR followed"
    assert_equal "$((sets + incrs + echos + dropped))" 301
    # every SET succeeded and every INCR failed: any mispairing shows here
    assert_metric "$text" "${C}_count" 'db_operation_name="SET",error_type="ERR"' 0
    assert_metric "$text" "${C}_count" 'db_operation_name="INCR",error_type=""' 0
    assert_metric "$text" "${C}_count" 'error_type="no_response"' 0
}

@test "redis-benchmark: GET and SET counted exactly 2000 each, every GET a hit" {
    need redis-server redis-benchmark
    port=$(free_port)
    start_redis "$port"
    tf="$BATS_TEST_TMPDIR/bench.prom"
    tf_env "$tf"
    run "${TF_ENV[@]}" redis-benchmark -p "$port" -t get,set -n 2000 -c 4 -q
    assert_success
    text=$(read_textfile "$tf")
    assert_metric_exact "$text" "${C}_count" "$(cl redis SET)" 2000
    assert_metric_exact "$text" "${C}_count" "$(cl redis GET)" 2000
    # its start-up CONFIG GET save / appendonly
    assert_metric_exact "$text" "${C}_count" "$(cl redis CONFIG)" 2
    assert_metric "$text" "${C}_count" "" 4002
    assert_metric_exact "$text" "$L" "$(lk redis hit)" 2000
    assert_metric "$text" "$L" "$(lk redis miss)" 0
    assert_metric "$text" promshim_events_dropped_total "" 0
}

@test "redis-server under the shim: redis-benchmark's 1000 SETs are 1000 server operations" {
    need redis-server redis-benchmark
    port=$(free_port)
    eport=$(free_port)
    shim_env "$eport"
    start_redis "$port" "${SHIM_ENV[@]}"
    wait_exporter "$eport"
    run redis-benchmark -p "$port" -t set -n 1000 -c 4 -q
    assert_success
    wait_metric "$eport" "${S}_count" "$(sl redis SET)" 1000
    text=$(scrape "$eport")
    assert_metric_exact "$text" "${S}_count" "$(sl redis SET)" 1000
    assert_metric_exact "$text" "${S}_count" "$(sl redis CONFIG)" 2
    assert_metric "$text" "${S}_count" "" 1002
    # the server looks nothing up in a cache of its own
    assert_metric "$text" "$L" "" 0
    assert_metric "$text" "${C}_count" "" 0
}

@test "redis: MULTI/EXEC and SUBSCRIBE: queued GETs are no lookups, a subscriber's messages answer nothing" {
    need redis-server redis-cli
    port=$(free_port)
    start_redis "$port"
    tf="$BATS_TEST_TMPDIR/multi.prom"
    tf_env "$tf"
    run "${TF_ENV[@]}" redis-cli -p "$port" <<<$'SET k v\nMULTI\nGET k\nGET nokey\nEXEC\nGET k'
    assert_success
    text=$(read_textfile "$tf")
    assert_metric_exact "$text" "${C}_count" "$(cl redis MULTI)" 1
    assert_metric_exact "$text" "${C}_count" "$(cl redis EXEC)" 1
    assert_metric_exact "$text" "${C}_count" "$(cl redis GET)" 3
    # only the GET outside the transaction is a lookup
    assert_metric_exact "$text" "$L" "$(lk redis hit)" 1
    assert_metric "$text" "$L" "$(lk redis miss)" 0

    # a subscriber: SUBSCRIBE is confirmed (counted), then a message and the
    # reply to a PING in subscriber mode pair with nothing
    tf="$BATS_TEST_TMPDIR/sub.prom"
    tf_env "$tf"
    start_bg sub "${TF_ENV[@]}" "$PY" "$PYPROGS/db_raw.py" 127.0.0.1 "$port" \
        's:*2\r\n$9\r\nSUBSCRIBE\r\n$2\r\nch\r\n' 'r::1\r\n' 'r:$5\r\nhello\r\n' \
        's:*1\r\n$4\r\nPING\r\n' 'r:$0\r\n\r\n'
    sub_pid=$BG_PID
    wait_until 10 _redis_subscribed "$port"
    redis-cli -p "$port" PUBLISH ch hello >/dev/null
    wait_until 10 pid_gone "$sub_pid"
    wait "$sub_pid" || fail "db_raw.py failed: $(cat "$BATS_TEST_TMPDIR/sub.out")"
    text=$(read_textfile "$tf")
    assert_metric_exact "$text" "${C}_count" "$(cl redis SUBSCRIBE)" 1
    assert_metric "$text" "${C}_count" "" 1
}

_redis_subscribed() {
    [[ "$(redis-cli -p "$1" PUBSUB NUMSUB ch | tail -1)" == 1 ]]
}

@test "redis: garbage after a good command is one parse error, the connection keeps working" {
    need redis-server
    port=$(free_port)
    start_redis "$port"
    tf="$BATS_TEST_TMPDIR/garbage.prom"
    tf_env "$tf"
    run "${TF_ENV[@]}" "$PY" "$PYPROGS/db_raw.py" 127.0.0.1 "$port" \
        'p:*1\r\n$4\r\nPING\r\n' 'p:\x01\x02garbage\r\n' 'p:*1\r\n$4\r\nPING\r\n'
    assert_success
    assert_line --index 0 "b'+PONG\\r\\n'"
    assert_line --index 2 "b'+PONG\\r\\n'"
    text=$(read_textfile "$tf")
    assert_metric_exact "$text" promshim_parse_errors_total 'protocol="redis"' 1
    # the first PING was recorded; after the garbage the connection passes through
    assert_metric_exact "$text" "${C}_count" "$(cl redis PING)" 1
    assert_metric "$text" "${C}_count" "" 1
}

# ------------------------------------------------------------ memcached ----

@test "memcached + libmemcached's memccp / memccat, text and binary protocol: sets, gets, hits and misses" {
    need memcached memccp memccat
    port=$(free_port)
    start_memcached "$port"
    printf 'hello\n' >"$BATS_TEST_TMPDIR/f1"
    printf 'world\n' >"$BATS_TEST_TMPDIR/f2"
    cd "$BATS_TEST_TMPDIR"
    tf="$BATS_TEST_TMPDIR/cp.prom"
    tf_env "$tf"
    run "${TF_ENV[@]}" memccp --servers="127.0.0.1:$port" f1 f2
    assert_success
    text=$(read_textfile "$tf")
    assert_metric_exact "$text" "${C}_count" "$(cl memcached set)" 2
    assert_metric "$text" "${C}_count" "" 2

    tf="$BATS_TEST_TMPDIR/cat.prom"
    tf_env "$tf"
    run "${TF_ENV[@]}" memccat --servers="127.0.0.1:$port" f1 f2 nokey f1
    assert_line hello
    assert_line world
    text=$(read_textfile "$tf")
    assert_metric_exact "$text" "${C}_count" "$(cl memcached get)" 4
    assert_metric "$text" "${C}_count" "" 4
    assert_metric_exact "$text" "$L" "$(lk memcached hit)" 3
    assert_metric_exact "$text" "$L" "$(lk memcached miss)" 1

    tf="$BATS_TEST_TMPDIR/bin.prom"
    tf_env "$tf"
    run "${TF_ENV[@]}" memccat --binary --servers="127.0.0.1:$port" f1 nokey f2
    assert_line hello
    text=$(read_textfile "$tf")
    assert_metric_exact "$text" "${C}_count" "$(cl memcached get)" 3
    # the binary Quit libmemcached sends without waiting is no operation
    assert_metric "$text" "${C}_count" "" 3
    assert_metric_exact "$text" "$L" "$(lk memcached hit)" 2
    assert_metric_exact "$text" "$L" "$(lk memcached miss)" 1
    assert_metric "$text" promshim_parse_errors_total "" 0
}

@test "memcached raw client: a multi-key get, ERROR, CLIENT_ERROR, noreply" {
    need memcached
    port=$(free_port)
    start_memcached "$port"
    tf="$BATS_TEST_TMPDIR/raw.prom"
    tf_env "$tf"
    run "${TF_ENV[@]}" "$PY" "$PYPROGS/db_raw.py" 127.0.0.1 "$port" \
        'p:set a 0 0 1\r\nA\r\n' 'p:set b 0 0 1\r\nB\r\n' \
        's:get a b nokey a\r\n' 'r:END\r\n' 's:gets nokey\r\n' 'r:END\r\n' \
        'p:bogus\r\n' 'p:set k 0 0 xx\r\n' 'p:incr a 1\r\n' \
        's:set n 0 0 1 noreply\r\n5\r\n' 'p:incr n 2\r\n' 's:quit\r\n'
    assert_success
    assert_line "b'ERROR\\r\\n'"
    assert_line "b'7\\r\\n'"
    text=$(read_textfile "$tf")
    # a, b and the noreply one (recorded when written: no reply tells its end)
    assert_metric_exact "$text" "${C}_count" "$(cl memcached set)" 3
    assert_metric_exact "$text" "${C}_count" "$(cl memcached set CLIENT_ERROR)" 1
    assert_metric_exact "$text" "${C}_count" "$(cl memcached get)" 1
    assert_metric_exact "$text" "${C}_count" "$(cl memcached gets)" 1
    assert_metric_exact "$text" "${C}_count" "$(cl memcached _OTHER ERROR)" 1
    assert_metric_exact "$text" "${C}_count" "$(cl memcached incr CLIENT_ERROR)" 1
    assert_metric_exact "$text" "${C}_count" "$(cl memcached incr)" 1
    assert_metric "$text" "${C}_count" "" 9
    # get a b nokey a: 3 hits, 1 miss; gets nokey: 1 miss
    assert_metric_exact "$text" "$L" "$(lk memcached hit)" 3
    assert_metric_exact "$text" "$L" "$(lk memcached miss)" 2
}

@test "memcached under the shim: memccat's gets are server operations" {
    need memcached memccp memccat
    port=$(free_port)
    eport=$(free_port)
    shim_env "$eport"
    start_memcached "$port" "${SHIM_ENV[@]}"
    wait_exporter "$eport"
    printf 'hello\n' >"$BATS_TEST_TMPDIR/f1"
    cd "$BATS_TEST_TMPDIR"
    run memccp --servers="127.0.0.1:$port" f1
    assert_success
    run memccat --servers="127.0.0.1:$port" f1 nokey f1
    wait_metric "$eport" "${S}_count" "$(sl memcached get)" 3
    text=$(scrape "$eport")
    assert_metric_exact "$text" "${S}_count" "$(sl memcached set)" 1
    assert_metric "$text" "${S}_count" "" 4
    assert_metric "$text" "$L" "" 0
}

# ----------------------------------------------------------- PostgreSQL ----

# pg_server [PREFIX...]: a fresh PostgreSQL on $port (skips when it cannot run)
pg_server() {
    local why
    why=$(pg_can_run) || skip "$why"
    need psql
    start_postgres "$port" "$@" || skip "PostgreSQL did not start here (see the log above)"
}

PSQL_SCRIPT='CREATE TABLE t (id int, v text);
SELECT 1;
SELECT 2;
SELECT 3;
INSERT INTO t VALUES (1, $$a$$);
SELECT * FROM missing;
BEGIN;
UPDATE t SET v = $$b$$;
END;'

# assert_psql_script TEXT METRIC LABELFN: the counts of PSQL_SCRIPT
assert_psql_script() {
    local text=$1 m=$2 f=$3
    assert_metric_exact "$text" "${m}_count" "$($f postgresql CREATE)" 1
    assert_metric_exact "$text" "${m}_count" "$($f postgresql SELECT)" 3
    assert_metric_exact "$text" "${m}_count" "$($f postgresql SELECT 42P01)" 1
    assert_metric_exact "$text" "${m}_count" "$($f postgresql INSERT)" 1
    assert_metric_exact "$text" "${m}_count" "$($f postgresql BEGIN)" 1
    assert_metric_exact "$text" "${m}_count" "$($f postgresql UPDATE)" 1
    # END is PostgreSQL's COMMIT
    assert_metric_exact "$text" "${m}_count" "$($f postgresql COMMIT)" 1
    assert_metric "$text" "${m}_count" 'db_system_name="postgresql"' 9
}

@test "psql: exact counts per statement, a missing table is SQLSTATE 42P01" {
    port=$(free_port)
    pg_server
    tf="$BATS_TEST_TMPDIR/psql.prom"
    tf_env "$tf" PGSSLMODE=disable
    printf '%s\n' "$PSQL_SCRIPT" >"$BATS_TEST_TMPDIR/script.sql"
    run "${TF_ENV[@]}" psql -h 127.0.0.1 -p "$port" -U postgres -X -q -f "$BATS_TEST_TMPDIR/script.sql" postgres
    assert_output --partial 'relation "missing" does not exist'
    text=$(read_textfile "$tf")
    assert_psql_script "$text" "$C" cl
    assert_metric "$text" promshim_events_dropped_total "" 0
    assert_metric "$text" promshim_parse_errors_total "" 0
}

@test "psql and TLS: a refused SSLRequest goes on in clear; an encrypted connection is measured through OpenSSL" {
    need openssl
    port=$(free_port)
    pg_server
    printf '%s\n' "$PSQL_SCRIPT" >"$BATS_TEST_TMPDIR/script.sql"
    # the server has no TLS: psql's SSLRequest is answered N
    tf="$BATS_TEST_TMPDIR/prefer.prom"
    tf_env "$tf" PGSSLMODE=prefer
    run "${TF_ENV[@]}" psql -h 127.0.0.1 -p "$port" -U postgres -X -q -f "$BATS_TEST_TMPDIR/script.sql" postgres
    assert_output --partial 'relation "missing" does not exist'
    text=$(read_textfile "$tf")
    assert_psql_script "$text" "$C" cl
    stop_postgres "$PGT"

    # a server with TLS: the connection is encrypted after the SSLRequest;
    # the plaintext comes through libpq's OpenSSL calls (hooks/tls.c) and is
    # measured like a clear connection, with no parse error
    port=$(free_port)
    PG_SSL=1 pg_server
    tf="$BATS_TEST_TMPDIR/require.prom"
    tf_env "$tf" PGSSLMODE=require
    run "${TF_ENV[@]}" psql -h 127.0.0.1 -p "$port" -U postgres -X -q -c 'SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()' -t postgres
    assert_success
    assert_output --partial t
    text=$(read_textfile "$tf")
    assert_metric "$text" "${C}_count" 'db_operation_name="SELECT",error_type=""' 1
    assert_metric "$text" "${C}_count" "" 1
    assert_metric "$text" promshim_parse_errors_total "" 0
    assert_metric "$text" promshim_connections_total 'role="client"' 1
}

@test "pgbench -M simple and -M extended: each transaction is BEGIN, 3 UPDATE, SELECT, INSERT, COMMIT" {
    need pgbench
    port=$(free_port)
    pg_server
    export PGSSLMODE=disable PGHOST=127.0.0.1 PGPORT=$port PGUSER=postgres
    run pgbench -i -q postgres
    assert_success
    for mode in simple extended; do
        tf="$BATS_TEST_TMPDIR/pgbench-$mode.prom"
        tf_env "$tf"
        run "${TF_ENV[@]}" pgbench -n -t 50 -c 2 -M "$mode" postgres
        assert_success
        assert_output --partial "number of transactions actually processed: 100/100"
        text=$(read_textfile "$tf")
        assert_metric_exact "$text" "${C}_count" "$(cl postgresql BEGIN)" 100
        assert_metric_exact "$text" "${C}_count" "$(cl postgresql UPDATE)" 300
        assert_metric_exact "$text" "${C}_count" "$(cl postgresql INSERT)" 100
        assert_metric_exact "$text" "${C}_count" "$(cl postgresql COMMIT)" 100
        # 100 from the transactions, 2 before them: pgbench's count(*) of
        # pgbench_branches (the scale) and its partition lookup
        assert_metric_exact "$text" "${C}_count" "$(cl postgresql SELECT)" 102
        assert_metric "$text" "${C}_count" "" 702
        assert_metric "$text" promshim_events_dropped_total "" 0
    done
}

@test "extended-protocol pipeline: an error aborts the rest of its batch until the Sync" {
    port=$(free_port)
    pg_server
    tf="$BATS_TEST_TMPDIR/pipe.prom"
    tf_env "$tf"
    # five Executes and one Sync in one write: the second fails, the server
    # skips the three after it
    run "${TF_ENV[@]}" "$PY" "$PYPROGS/db_pg_pipeline.py" 127.0.0.1 "$port" postgres postgres \
        'SELECT 1' 'SELECT * FROM missing' 'SELECT 2' 'INSERT INTO nowhere VALUES (1)' 'SELECT 3'
    assert_success
    assert_output $'C SELECT 1\nE 42P01\nZ I'
    text=$(read_textfile "$tf")
    assert_metric_exact "$text" "${C}_count" "$(cl postgresql SELECT)" 1
    assert_metric_exact "$text" "${C}_count" "$(cl postgresql SELECT 42P01)" 1
    assert_metric_exact "$text" "${C}_count" "$(cl postgresql SELECT aborted)" 2
    assert_metric_exact "$text" "${C}_count" "$(cl postgresql INSERT aborted)" 1
    assert_metric "$text" "${C}_count" "" 5
}

@test "PostgreSQL under the shim (postmaster and forked backends): the psql script on the server side, pgbench's SELECTs" {
    need pgbench
    port=$(free_port)
    eport=$(free_port)
    shim_env "$eport"
    pg_server "${SHIM_ENV[@]}"
    wait_exporter "$eport"
    printf '%s\n' "$PSQL_SCRIPT" >"$BATS_TEST_TMPDIR/script.sql"
    PGSSLMODE=disable run psql -h 127.0.0.1 -p "$port" -U postgres -X -q -f "$BATS_TEST_TMPDIR/script.sql" postgres
    wait_metric "$eport" "${S}_count" 'db_system_name="postgresql"' 9
    text=$(scrape "$eport")
    assert_psql_script "$text" "$S" sl
    # a client and a server under the shim count alike: pgbench -S (select only)
    tf="$BATS_TEST_TMPDIR/pgbench.prom"
    tf_env "$tf" PGSSLMODE=disable
    PGSSLMODE=disable run pgbench -h 127.0.0.1 -p "$port" -U postgres -i -q postgres
    assert_success
    base=$(metric_sum "$(scrape "$eport")" "${S}_count" "$(sl postgresql SELECT)")
    run "${TF_ENV[@]}" pgbench -h 127.0.0.1 -p "$port" -U postgres -n -S -t 40 -c 2 -M extended postgres
    assert_success
    client=$(metric_sum "$(read_textfile "$tf")" "${C}_count" "$(cl postgresql SELECT)")
    assert_equal "$client" 82
    wait_metric "$eport" "${S}_count" "$(sl postgresql SELECT)" "$((base + client))"
    assert_metric "$(scrape "$eport")" "$L" "" 0
}

# -------------------------------------------------------------- MariaDB ----

# maria_server [PREFIX...]: a fresh MariaDB on $port (skips when it cannot run)
maria_server() {
    local why
    why=$(mariadb_can_run) || skip "$why"
    start_mariadb "$port" "$@" || skip "MariaDB did not start here (see the log above)"
}

MY_SCRIPT='CREATE TABLE d.t (id int, v varchar(10));
SELECT 1;
SELECT 2;
SELECT 3;
INSERT INTO d.t VALUES (1, "a");
BEGIN;
UPDATE d.t SET v = "b";
COMMIT;
SELECT * FROM d.missing;'

# assert_my_script TEXT METRIC LABELFN: the counts of MY_SCRIPT
assert_my_script() {
    local text=$1 m=$2 f=$3
    assert_metric_exact "$text" "${m}_count" "$($f mysql CREATE)" 1
    assert_metric_exact "$text" "${m}_count" "$($f mysql SELECT)" 3
    assert_metric_exact "$text" "${m}_count" "$($f mysql SELECT 1146)" 1
    assert_metric_exact "$text" "${m}_count" "$($f mysql INSERT)" 1
    assert_metric_exact "$text" "${m}_count" "$($f mysql BEGIN)" 1
    assert_metric_exact "$text" "${m}_count" "$($f mysql UPDATE)" 1
    assert_metric_exact "$text" "${m}_count" "$($f mysql COMMIT)" 1
    assert_metric "$text" "${m}_count" 'db_system_name="mysql"' 9
}

@test "mariadb client over TCP: exact counts per statement, an unknown table is error 1146" {
    need mariadb
    port=$(free_port)
    maria_server
    tf="$BATS_TEST_TMPDIR/my.prom"
    tf_env "$tf"
    run "${TF_ENV[@]}" mariadb --no-defaults -h 127.0.0.1 -P "$port" -u app -psecret --skip-ssl <<<"$MY_SCRIPT"
    assert_failure
    assert_output --partial "ERROR 1146"
    text=$(read_textfile "$tf")
    assert_my_script "$text" "$C" cl
    assert_metric "$text" promshim_events_dropped_total "" 0
}

@test "prepared statements (DBD::MariaDB, server-side prepare): executes count under their statement's keyword" {
    perl -MDBI -MDBD::MariaDB -e 1 2>/dev/null || skip "Perl DBD::MariaDB is not installed (libdbd-mariadb-perl)"
    port=$(free_port)
    maria_server
    mariadb --no-defaults -S "$MT/sock" -u root -e "CREATE TABLE d.t (id int, v varchar(10)); INSERT INTO d.t VALUES (1, 'a')"
    tf="$BATS_TEST_TMPDIR/prep.prom"
    tf_env "$tf"
    run "${TF_ENV[@]}" perl - "$port" <<'PERL'
use strict;
use DBI;
my ($port) = @ARGV;
my $dbh = DBI->connect("DBI:MariaDB:database=d;host=127.0.0.1;port=$port;mariadb_server_prepare=1;mariadb_ssl=0",
    "app", "secret", {RaiseError => 0, PrintError => 0}) or die DBI->errstr;
my $sel = $dbh->prepare("SELECT id, v FROM t WHERE id = ?") or die $dbh->errstr;
for my $i (1 .. 5) { $sel->execute($i) or die; while (my @r = $sel->fetchrow_array) { } }
my $ins = $dbh->prepare("INSERT INTO t VALUES (?, ?)") or die $dbh->errstr;
$ins->execute(10, 'x') or die;
$ins->execute(11, 'y') or die;
my $bad = $dbh->prepare("SELECT * FROM nosuch WHERE id = ?");
print "bad prepare: ", ($bad ? "ok" : $dbh->err), "\n";
$dbh->disconnect;
PERL
    assert_success
    assert_output "bad prepare: 1146"
    text=$(read_textfile "$tf")
    assert_metric_exact "$text" "${C}_count" "$(cl mysql PREPARE)" 2
    assert_metric_exact "$text" "${C}_count" "$(cl mysql PREPARE 1146)" 1
    assert_metric_exact "$text" "${C}_count" "$(cl mysql SELECT)" 5
    assert_metric_exact "$text" "${C}_count" "$(cl mysql INSERT)" 2
    # what the driver sends when it connects (SET NAMES, autocommit ...)
    sets=$(metric_sum "$text" "${C}_count" "$(cl mysql SET)")
    assert_metric "$text" "${C}_count" "" "$((10 + sets))"
    # the statements the server ran, as its general log has them
    execs=$(grep -Ec $'[0-9] Execute\t' "$MT/general.log" || true)
    assert_equal "$execs" 7
}

@test "mariadbd under the shim: the client script server-side; mysqlslap counted alike by client, server and general log" {
    need mariadb mysqlslap
    port=$(free_port)
    eport=$(free_port)
    shim_env "$eport"
    maria_server "${SHIM_ENV[@]}"
    wait_exporter "$eport"
    base=$(scrape "$eport")
    run mariadb --no-defaults -h 127.0.0.1 -P "$port" -u app -psecret --skip-ssl <<<"$MY_SCRIPT"
    assert_output --partial "ERROR 1146"
    # the setup done over the Unix socket is not measured: only TCP is
    assert_metric "$base" "${S}_count" "" 0
    wait_metric "$eport" "${S}_count" 'db_system_name="mysql"' 9
    assert_my_script "$(scrape "$eport")" "$S" sl

    # mysqlslap under the shim, against the server under the shim
    mid=$(scrape "$eport")
    q0=$(grep -Ec $'[0-9] (Query|Init DB)\t' "$MT/general.log" || true)
    tf="$BATS_TEST_TMPDIR/slap.prom"
    tf_env "$tf"
    run "${TF_ENV[@]}" mysqlslap --no-defaults -h 127.0.0.1 -P "$port" -u app -psecret --skip-ssl \
        --concurrency=2 --iterations=2 --number-of-queries=20 --auto-generate-sql
    assert_success
    client=$(read_textfile "$tf")
    total=$(metric_sum "$client" "${C}_count")
    # every statement and USE the server logged, and nothing else
    q1=$(grep -Ec $'[0-9] (Query|Init DB)\t' "$MT/general.log" || true)
    assert_equal "$total" "$((q1 - q0))"
    assert_metric "$client" "${C}_count" 'error_type=""' "$total"
    wait_metric "$eport" "${S}_count" 'db_system_name="mysql"' "$((9 + total))"
    server=$(scrape "$eport")
    for op in SELECT INSERT CREATE DROP USE; do
        c=$(metric_sum "$client" "${C}_count" "$(cl mysql "$op")")
        s=$(($(metric_sum "$server" "${S}_count" "$(sl mysql "$op")") - $(metric_sum "$mid" "${S}_count" "$(sl mysql "$op")")))
        assert_equal "$op $s" "$op $c"
    done
    assert_metric "$client" "${C}_count" "$(cl mysql SELECT)" 20
}
