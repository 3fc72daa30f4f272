/*
 * test_postgres.c - unit tests of the incremental PostgreSQL protocol parser
 * (shim/proto/postgres.c) and of the SQL keyword classifier
 * (shim/proto/sqlop.c).
 *
 * The sessions below are real byte streams captured from PostgreSQL 15
 * through a recording TCP proxy: psql (SSLRequest refused, SCRAM login,
 * simple queries with several statements, an error, COPY FROM STDIN, an
 * empty query), pgbench -M extended and -M prepared, and a raw-protocol
 * python script (an error in the middle of an extended batch, named
 * statement and portal with a row limit, pipelined batches, a Parse error,
 * NOTICE and NOTIFY). Each segment is what one read of the proxy got, in
 * order, so the tests know which frontend bytes were sent before which
 * backend bytes: the backend parser is told about a frontend event
 * (shim_pg_expect) at the backend offset where the request was sent.
 *
 * Every stream is fed whole, one byte at a time, split in two at every
 * byte position and in pseudo-random chunks; all runs must give the same
 * trace (events, fields, stream offsets), and the whole run must render to
 * the expected summary. Every chunk handed to the parser is copied so that
 * it ends right at a PROT_NONE page: reading past it crashes the test.
 */
#include "shim/proto/postgres.h"
#include "shim/proto/sqlop.h"

#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "unit.h"

/* ---------------------------------------------------------------- guard */

#define AREA (64 * 1024)
#include "guard.h"
#include "trace.h"

/* ---------------------------------------------------------------- captures */

/* One read of the recording proxy per segment (struct seg, trace.h). */

static const struct seg pg_psql[] = {
    {'>', 8, "\000\000\000\010\004\322\026/"
    },
    {'<', 1, "N"
    },
    {'>', 58, "\000\000\000:\000\003\000\000user\000app\000database\000postgres\000application_name\000ps"
              "ql\000\000"
    },
    {'<', 24, "R\000\000\000\027\000\000\000\012SCRAM-SHA-256\000\000"
    },
    {'>', 55, "p\000\000\0006SCRAM-SHA-256\000\000\000\000 n,,n=,r=Kg+8SWrs447cfwsNoYY0Dc6i"
    },
    {'<', 93, "R\000\000\000\134\000\000\000\013r=Kg+8SWrs447cfwsNoYY0Dc6ix0VR/gbKo6O75MkSi95w9JS7,s=urIm"
              "a+RHxk0I4kwX0OGofw==,i=4096"
    },
    {'>', 109, "p\000\000\000lc=biws,r=Kg+8SWrs447cfwsNoYY0Dc6ix0VR/gbKo6O75MkSi95w9JS7,p=Vhce3uj+v4wfj1/7"
              "tn93mi7b5ulD/BCx1HmfnYbWrTA="
    },
    {'<', 464, "R\000\000\0006\000\000\000\014v=bod/RoVW9pbwboXSeCjjAIKmXt4lKFBgxs7MhmeTMXY=R\000\000\000\010"
              "\000\000\000\000S\000\000\000\032application_name\000psql\000S\000\000\000\031client_encod"
              "ing\000UTF8\000S\000\000\000\027DateStyle\000ISO, MDY\000S\000\000\000&default_transaction"
              "_read_only\000off\000S\000\000\000\027in_hot_standby\000off\000S\000\000\000\031integer_da"
              "tetimes\000on\000S\000\000\000\033IntervalStyle\000postgres\000S\000\000\000\024is_superus"
              "er\000on\000S\000\000\000\031server_encoding\000UTF8\000S\000\000\0002server_version\00015"
              ".18 (Debian 15.18-0+deb12u1)\000S\000\000\000\036session_authorization\000app\000S\000\000"
              "\000#standard_conforming_strings\000on\000S\000\000\000\025TimeZone\000Etc/UTC\000K\000\000"
              "\000\014\000\000I4k\015\364\011Z\000\000\000\005I"
    },
    {'>', 19, "Q\000\000\000\022SELECT 1 AS x\000"
    },
    {'<', 59, "T\000\000\000\032\000\001x\000\000\000\000\000\000\000\000\000\000\027\000\004\377\377\377"
              "\377\000\000D\000\000\000\013\000\001\000\000\000\0011C\000\000\000\015SELECT 1\000Z\000\000"
              "\000\005I"
    },
    {'>', 74, "Q\000\000\000IBEGIN; INSERT INTO t VALUES (1,'a'); SELECT * FROM t LIMIT 2; COMMIT\000"
    },
    {'<', 123, "C\000\000\000\012BEGIN\000C\000\000\000\017INSERT 0 1\000T\000\000\000.\000\002a\000\000\000"
              "@\001\000\001\000\000\000\027\000\004\377\377\377\377\000\000b\000\000\000@\001\000\002\000"
              "\000\000\031\377\377\377\377\377\377\000\000D\000\000\000\020\000\002\000\000\000\0011\000"
              "\000\000\001aC\000\000\000\015SELECT 1\000C\000\000\000\013COMMIT\000Z\000\000\000\005I"
    },
    {'>', 16, "Q\000\000\000\017select 1/0\000"
    },
    {'<', 66, "E\000\000\000ASERROR\000VERROR\000C22012\000Mdivision by zero\000Fint.c\000L869\000Rint4di"
              "v\000\000"
    },
    {'<', 6, "Z\000\000\000\005I"
    },
    {'>', 23, "Q\000\000\000\026COPY t FROM STDIN\000"
    },
    {'<', 12, "G\000\000\000\013\000\000\002\000\000\000\000"
    },
    {'>', 22, "d\000\000\000\0201\011one\0122\011two\012c\000\000\000\004"
    },
    {'<', 18, "C\000\000\000\013COPY 2\000Z\000\000\000\005I"
    },
    {'>', 7, "Q\000\000\000\006;\000"
    },
    {'<', 11, "I\000\000\000\004Z\000\000\000\005I"
    },
    {'>', 5, "X\000\000\000\004"
    },
};
static const struct seg pg_bench_ext[] = {
    {'>', 8, "\000\000\000\010\004\322\026/"
    },
    {'<', 1, "N"
    },
    {'>', 61, "\000\000\000=\000\003\000\000user\000app\000database\000postgres\000application_name\000pg"
              "bench\000\000"
    },
    {'<', 24, "R\000\000\000\027\000\000\000\012SCRAM-SHA-256\000\000"
    },
    {'>', 55, "p\000\000\0006SCRAM-SHA-256\000\000\000\000 n,,n=,r=1fwMKnNVXmyl9u5nCxsVR30Y"
    },
    {'<', 93, "R\000\000\000\134\000\000\000\013r=1fwMKnNVXmyl9u5nCxsVR30YYR2Bdr2+znD05a1ZRycbdFnm,s=urIm"
              "a+RHxk0I4kwX0OGofw==,i=4096"
    },
    {'>', 109, "p\000\000\000lc=biws,r=1fwMKnNVXmyl9u5nCxsVR30YYR2Bdr2+znD05a1ZRycbdFnm,p=Btlq73fsh2R0+Lcg"
              "uCzerpQS2585ZwG4EGFdM3mYlt0="
    },
    {'<', 467, "R\000\000\0006\000\000\000\014v=LLHXQ+PeXw3GsaUyJYbU+kMj4k69GedTf/A1RNbNFg4=R\000\000\000\010"
              "\000\000\000\000S\000\000\000\035application_name\000pgbench\000S\000\000\000\031client_en"
              "coding\000UTF8\000S\000\000\000\027DateStyle\000ISO, MDY\000S\000\000\000&default_transact"
              "ion_read_only\000off\000S\000\000\000\027in_hot_standby\000off\000S\000\000\000\031integer"
              "_datetimes\000on\000S\000\000\000\033IntervalStyle\000postgres\000S\000\000\000\024is_supe"
              "ruser\000on\000S\000\000\000\031server_encoding\000UTF8\000S\000\000\0002server_version\000"
              "15.18 (Debian 15.18-0+deb12u1)\000S\000\000\000\036session_authorization\000app\000S\000\000"
              "\000#standard_conforming_strings\000on\000S\000\000\000\025TimeZone\000Etc/UTC\000K\000\000"
              "\000\014\000\000I:\361\202^\267Z\000\000\000\005I"
    },
    {'>', 52, "P\000\000\000\016\000BEGIN;\000\000\000B\000\000\000\016\000\000\000\000\000\000\000\001\000"
              "\000D\000\000\000\006P\000E\000\000\000\011\000\000\000\000\000S\000\000\000\004"
    },
    {'<', 32, "1\000\000\000\0042\000\000\000\004n\000\000\000\004C\000\000\000\012BEGIN\000Z\000\000\000"
              "\005T"
    },
    {'>', 131, "P\000\000\000L\000UPDATE pgbench_accounts SET abalance = abalance + $1 WHERE aid = $2;\000"
              "\000\000B\000\000\000\037\000\000\000\000\000\002\000\000\000\0043062\000\000\000\00516938"
              "\000\001\000\000D\000\000\000\006P\000E\000\000\000\011\000\000\000\000\000S\000\000\000\004"
    },
    {'<', 35, "1\000\000\000\0042\000\000\000\004n\000\000\000\004C\000\000\000\015UPDATE 1\000Z\000\000\000"
              "\005T"
    },
    {'>', 108, "P\000\000\000=\000SELECT abalance FROM pgbench_accounts WHERE aid = $1;\000\000\000B\000\000"
              "\000\027\000\000\000\000\000\001\000\000\000\00516938\000\001\000\000D\000\000\000\006P\000"
              "E\000\000\000\011\000\000\000\000\000S\000\000\000\004"
    },
    {'<', 79, "1\000\000\000\0042\000\000\000\004T\000\000\000!\000\001abalance\000\000\000@\014\000\003\000"
              "\000\000\027\000\004\377\377\377\377\000\000D\000\000\000\016\000\001\000\000\000\0043062C"
              "\000\000\000\015SELECT 1\000Z\000\000\000\005T"
    },
    {'>', 126, "P\000\000\000K\000UPDATE pgbench_tellers SET tbalance = tbalance + $1 WHERE tid = $2;\000\000"
              "\000B\000\000\000\033\000\000\000\000\000\002\000\000\000\0043062\000\000\000\0016\000\001"
              "\000\000D\000\000\000\006P\000E\000\000\000\011\000\000\000\000\000S\000\000\000\004"
    },
    {'<', 35, "1\000\000\000\0042\000\000\000\004n\000\000\000\004C\000\000\000\015UPDATE 1\000Z\000\000\000"
              "\005T"
    },
    {'>', 127, "P\000\000\000L\000UPDATE pgbench_branches SET bbalance = bbalance + $1 WHERE bid = $2;\000"
              "\000\000B\000\000\000\033\000\000\000\000\000\002\000\000\000\0043062\000\000\000\0011\000"
              "\001\000\000D\000\000\000\006P\000E\000\000\000\011\000\000\000\000\000S\000\000\000\004"
    },
    {'<', 35, "1\000\000\000\0042\000\000\000\004n\000\000\000\004C\000\000\000\015UPDATE 1\000Z\000\000\000"
              "\005T"
    },
    {'>', 174, "P\000\000\000m\000INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES ($1, $2"
              ", $3, $4, CURRENT_TIMESTAMP);\000\000\000B\000\000\000)\000\000\000\000\000\004\000\000\000"
              "\0016\000\000\000\0011\000\000\000\00516938\000\000\000\0043062\000\001\000\000D\000\000\000"
              "\006P\000E\000\000\000\011\000\000\000\000\000S\000\000\000\004"
    },
    {'<', 37, "1\000\000\000\0042\000\000\000\004n\000\000\000\004C\000\000\000\017INSERT 0 1\000Z\000\000"
              "\000\005T"
    },
    {'>', 50, "P\000\000\000\014\000END;\000\000\000B\000\000\000\016\000\000\000\000\000\000\000\001\000"
              "\000D\000\000\000\006P\000E\000\000\000\011\000\000\000\000\000S\000\000\000\004"
    },
    {'<', 33, "1\000\000\000\0042\000\000\000\004n\000\000\000\004C\000\000\000\013COMMIT\000Z\000\000\000"
              "\005I"
    },
    {'>', 52, "P\000\000\000\016\000BEGIN;\000\000\000B\000\000\000\016\000\000\000\000\000\000\000\001\000"
              "\000D\000\000\000\006P\000E\000\000\000\011\000\000\000\000\000S\000\000\000\004"
    },
    {'<', 32, "1\000\000\000\0042\000\000\000\004n\000\000\000\004C\000\000\000\012BEGIN\000Z\000\000\000"
              "\005T"
    },
    {'>', 131, "P\000\000\000L\000UPDATE pgbench_accounts SET abalance = abalance + $1 WHERE aid = $2;\000"
              "\000\000B\000\000\000\037\000\000\000\000\000\002\000\000\000\004-326\000\000\000\00592729"
              "\000\001\000\000D\000\000\000\006P\000E\000\000\000\011\000\000\000\000\000S\000\000\000\004"
    },
    {'<', 35, "1\000\000\000\0042\000\000\000\004n\000\000\000\004C\000\000\000\015UPDATE 1\000Z\000\000\000"
              "\005T"
    },
    {'>', 108, "P\000\000\000=\000SELECT abalance FROM pgbench_accounts WHERE aid = $1;\000\000\000B\000\000"
              "\000\027\000\000\000\000\000\001\000\000\000\00592729\000\001\000\000D\000\000\000\006P\000"
              "E\000\000\000\011\000\000\000\000\000S\000\000\000\004"
    },
    {'<', 79, "1\000\000\000\0042\000\000\000\004T\000\000\000!\000\001abalance\000\000\000@\014\000\003\000"
              "\000\000\027\000\004\377\377\377\377\000\000D\000\000\000\016\000\001\000\000\000\004-326C"
              "\000\000\000\015SELECT 1\000Z\000\000\000\005T"
    },
    {'>', 126, "P\000\000\000K\000UPDATE pgbench_tellers SET tbalance = tbalance + $1 WHERE tid = $2;\000\000"
              "\000B\000\000\000\033\000\000\000\000\000\002\000\000\000\004-326\000\000\000\0018\000\001"
              "\000\000D\000\000\000\006P\000E\000\000\000\011\000\000\000\000\000S\000\000\000\004"
    },
    {'<', 35, "1\000\000\000\0042\000\000\000\004n\000\000\000\004C\000\000\000\015UPDATE 1\000Z\000\000\000"
              "\005T"
    },
    {'>', 127, "P\000\000\000L\000UPDATE pgbench_branches SET bbalance = bbalance + $1 WHERE bid = $2;\000"
              "\000\000B\000\000\000\033\000\000\000\000\000\002\000\000\000\004-326\000\000\000\0011\000"
              "\001\000\000D\000\000\000\006P\000E\000\000\000\011\000\000\000\000\000S\000\000\000\004"
    },
    {'<', 35, "1\000\000\000\0042\000\000\000\004n\000\000\000\004C\000\000\000\015UPDATE 1\000Z\000\000\000"
              "\005T"
    },
    {'>', 174, "P\000\000\000m\000INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES ($1, $2"
              ", $3, $4, CURRENT_TIMESTAMP);\000\000\000B\000\000\000)\000\000\000\000\000\004\000\000\000"
              "\0018\000\000\000\0011\000\000\000\00592729\000\000\000\004-326\000\001\000\000D\000\000\000"
              "\006P\000E\000\000\000\011\000\000\000\000\000S\000\000\000\004"
    },
    {'<', 37, "1\000\000\000\0042\000\000\000\004n\000\000\000\004C\000\000\000\017INSERT 0 1\000Z\000\000"
              "\000\005T"
    },
    {'>', 50, "P\000\000\000\014\000END;\000\000\000B\000\000\000\016\000\000\000\000\000\000\000\001\000"
              "\000D\000\000\000\006P\000E\000\000\000\011\000\000\000\000\000S\000\000\000\004"
    },
    {'<', 33, "1\000\000\000\0042\000\000\000\004n\000\000\000\004C\000\000\000\013COMMIT\000Z\000\000\000"
              "\005I"
    },
    {'>', 5, "X\000\000\000\004"
    },
};
static const struct seg pg_bench_prep[] = {
    {'>', 8, "\000\000\000\010\004\322\026/"
    },
    {'<', 1, "N"
    },
    {'>', 61, "\000\000\000=\000\003\000\000user\000app\000database\000postgres\000application_name\000pg"
              "bench\000\000"
    },
    {'<', 24, "R\000\000\000\027\000\000\000\012SCRAM-SHA-256\000\000"
    },
    {'>', 55, "p\000\000\0006SCRAM-SHA-256\000\000\000\000 n,,n=,r=G7nfMtwjCz6Q5tlscocaH8ig"
    },
    {'<', 93, "R\000\000\000\134\000\000\000\013r=G7nfMtwjCz6Q5tlscocaH8igJ85stOAPfhgTY10B2TOOKd6Z,s=urIm"
              "a+RHxk0I4kwX0OGofw==,i=4096"
    },
    {'>', 109, "p\000\000\000lc=biws,r=G7nfMtwjCz6Q5tlscocaH8igJ85stOAPfhgTY10B2TOOKd6Z,p=Lh6G9NRP2GkfIcR6"
              "IgiAuBeB8FL7llQuCkdaN9tL+VM="
    },
    {'<', 467, "R\000\000\0006\000\000\000\014v=00AIIQUEtWi/zxAdyyJLSa5QRkfelWltLQwjNtRGqvo=R\000\000\000\010"
              "\000\000\000\000S\000\000\000\035application_name\000pgbench\000S\000\000\000\031client_en"
              "coding\000UTF8\000S\000\000\000\027DateStyle\000ISO, MDY\000S\000\000\000&default_transact"
              "ion_read_only\000off\000S\000\000\000\027in_hot_standby\000off\000S\000\000\000\031integer"
              "_datetimes\000on\000S\000\000\000\033IntervalStyle\000postgres\000S\000\000\000\024is_supe"
              "ruser\000on\000S\000\000\000\031server_encoding\000UTF8\000S\000\000\0002server_version\000"
              "15.18 (Debian 15.18-0+deb12u1)\000S\000\000\000\036session_authorization\000app\000S\000\000"
              "\000#standard_conforming_strings\000on\000S\000\000\000\025TimeZone\000Etc/UTC\000K\000\000"
              "\000\014\000\000I@\000\003z\264Z\000\000\000\005I"
    },
    {'>', 23, "P\000\000\000\021P_0\000BEGIN;\000\000\000S\000\000\000\004"
    },
    {'<', 11, "1\000\000\000\004Z\000\000\000\005I"
    },
    {'>', 40, "B\000\000\000\021\000P_0\000\000\000\000\000\000\001\000\000D\000\000\000\006P\000E\000\000"
              "\000\011\000\000\000\000\000S\000\000\000\004"
    },
    {'<', 27, "2\000\000\000\004n\000\000\000\004C\000\000\000\012BEGIN\000Z\000\000\000\005T"
    },
    {'>', 85, "P\000\000\000OP_1\000UPDATE pgbench_accounts SET abalance = abalance + $1 WHERE aid = $2;\000"
              "\000\000S\000\000\000\004"
    },
    {'<', 11, "1\000\000\000\004Z\000\000\000\005T"
    },
    {'>', 56, "B\000\000\000!\000P_1\000\000\000\000\002\000\000\000\0043528\000\000\000\0047178\000\001\000"
              "\000D\000\000\000\006P\000E\000\000\000\011\000\000\000\000\000S\000\000\000\004"
    },
    {'<', 30, "2\000\000\000\004n\000\000\000\004C\000\000\000\015UPDATE 1\000Z\000\000\000\005T"
    },
    {'>', 70, "P\000\000\000@P_2\000SELECT abalance FROM pgbench_accounts WHERE aid = $1;\000\000\000S\000"
              "\000\000\004"
    },
    {'<', 11, "1\000\000\000\004Z\000\000\000\005T"
    },
    {'>', 48, "B\000\000\000\031\000P_2\000\000\000\000\001\000\000\000\0047178\000\001\000\000D\000\000\000"
              "\006P\000E\000\000\000\011\000\000\000\000\000S\000\000\000\004"
    },
    {'<', 74, "2\000\000\000\004T\000\000\000!\000\001abalance\000\000\000@\014\000\003\000\000\000\027\000"
              "\004\377\377\377\377\000\000D\000\000\000\016\000\001\000\000\000\0043528C\000\000\000\015"
              "SELECT 1\000Z\000\000\000\005T"
    },
    {'>', 84, "P\000\000\000NP_3\000UPDATE pgbench_tellers SET tbalance = tbalance + $1 WHERE tid = $2;\000"
              "\000\000S\000\000\000\004"
    },
    {'<', 11, "1\000\000\000\004Z\000\000\000\005T"
    },
    {'>', 53, "B\000\000\000\036\000P_3\000\000\000\000\002\000\000\000\0043528\000\000\000\0014\000\001\000"
              "\000D\000\000\000\006P\000E\000\000\000\011\000\000\000\000\000S\000\000\000\004"
    },
    {'<', 30, "2\000\000\000\004n\000\000\000\004C\000\000\000\015UPDATE 1\000Z\000\000\000\005T"
    },
    {'>', 85, "P\000\000\000OP_4\000UPDATE pgbench_branches SET bbalance = bbalance + $1 WHERE bid = $2;\000"
              "\000\000S\000\000\000\004"
    },
    {'<', 11, "1\000\000\000\004Z\000\000\000\005T"
    },
    {'>', 53, "B\000\000\000\036\000P_4\000\000\000\000\002\000\000\000\0043528\000\000\000\0011\000\001\000"
              "\000D\000\000\000\006P\000E\000\000\000\011\000\000\000\000\000S\000\000\000\004"
    },
    {'<', 30, "2\000\000\000\004n\000\000\000\004C\000\000\000\015UPDATE 1\000Z\000\000\000\005T"
    },
    {'>', 118, "P\000\000\000pP_5\000INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES ($1,"
              " $2, $3, $4, CURRENT_TIMESTAMP);\000\000\000S\000\000\000\004"
    },
    {'<', 11, "1\000\000\000\004Z\000\000\000\005T"
    },
    {'>', 66, "B\000\000\000+\000P_5\000\000\000\000\004\000\000\000\0014\000\000\000\0011\000\000\000\004"
              "7178\000\000\000\0043528\000\001\000\000D\000\000\000\006P\000E\000\000\000\011\000\000\000"
              "\000\000S\000\000\000\004"
    },
    {'<', 32, "2\000\000\000\004n\000\000\000\004C\000\000\000\017INSERT 0 1\000Z\000\000\000\005T"
    },
    {'>', 21, "P\000\000\000\017P_6\000END;\000\000\000S\000\000\000\004"
    },
    {'<', 11, "1\000\000\000\004Z\000\000\000\005T"
    },
    {'>', 40, "B\000\000\000\021\000P_6\000\000\000\000\000\000\001\000\000D\000\000\000\006P\000E\000\000"
              "\000\011\000\000\000\000\000S\000\000\000\004"
    },
    {'<', 28, "2\000\000\000\004n\000\000\000\004C\000\000\000\013COMMIT\000Z\000\000\000\005I"
    },
    {'>', 40, "B\000\000\000\021\000P_0\000\000\000\000\000\000\001\000\000D\000\000\000\006P\000E\000\000"
              "\000\011\000\000\000\000\000S\000\000\000\004"
    },
    {'<', 27, "2\000\000\000\004n\000\000\000\004C\000\000\000\012BEGIN\000Z\000\000\000\005T"
    },
    {'>', 56, "B\000\000\000!\000P_1\000\000\000\000\002\000\000\000\003165\000\000\000\00554126\000\001\000"
              "\000D\000\000\000\006P\000E\000\000\000\011\000\000\000\000\000S\000\000\000\004"
    },
    {'<', 30, "2\000\000\000\004n\000\000\000\004C\000\000\000\015UPDATE 1\000Z\000\000\000\005T"
    },
    {'>', 49, "B\000\000\000\032\000P_2\000\000\000\000\001\000\000\000\00554126\000\001\000\000D\000\000"
              "\000\006P\000E\000\000\000\011\000\000\000\000\000S\000\000\000\004"
    },
    {'<', 73, "2\000\000\000\004T\000\000\000!\000\001abalance\000\000\000@\014\000\003\000\000\000\027\000"
              "\004\377\377\377\377\000\000D\000\000\000\015\000\001\000\000\000\003165C\000\000\000\015S"
              "ELECT 1\000Z\000\000\000\005T"
    },
    {'>', 52, "B\000\000\000\035\000P_3\000\000\000\000\002\000\000\000\003165\000\000\000\0019\000\001\000"
              "\000D\000\000\000\006P\000E\000\000\000\011\000\000\000\000\000S\000\000\000\004"
    },
    {'<', 30, "2\000\000\000\004n\000\000\000\004C\000\000\000\015UPDATE 1\000Z\000\000\000\005T"
    },
    {'>', 52, "B\000\000\000\035\000P_4\000\000\000\000\002\000\000\000\003165\000\000\000\0011\000\001\000"
              "\000D\000\000\000\006P\000E\000\000\000\011\000\000\000\000\000S\000\000\000\004"
    },
    {'<', 30, "2\000\000\000\004n\000\000\000\004C\000\000\000\015UPDATE 1\000Z\000\000\000\005T"
    },
    {'>', 66, "B\000\000\000+\000P_5\000\000\000\000\004\000\000\000\0019\000\000\000\0011\000\000\000\005"
              "54126\000\000\000\003165\000\001\000\000D\000\000\000\006P\000E\000\000\000\011\000\000\000"
              "\000\000S\000\000\000\004"
    },
    {'<', 32, "2\000\000\000\004n\000\000\000\004C\000\000\000\017INSERT 0 1\000Z\000\000\000\005T"
    },
    {'>', 40, "B\000\000\000\021\000P_6\000\000\000\000\000\000\001\000\000D\000\000\000\006P\000E\000\000"
              "\000\011\000\000\000\000\000S\000\000\000\004"
    },
    {'<', 28, "2\000\000\000\004n\000\000\000\004C\000\000\000\013COMMIT\000Z\000\000\000\005I"
    },
    {'>', 5, "X\000\000\000\004"
    },
};
static const struct seg pg_raw[] = {
    {'>', 41, "\000\000\000)\000\003\000\000user\000postgres\000database\000postgres\000\000"
    },
    {'<', 410, "R\000\000\000\010\000\000\000\000S\000\000\000\026application_name\000\000S\000\000\000\031"
              "client_encoding\000UTF8\000S\000\000\000\027DateStyle\000ISO, MDY\000S\000\000\000&default"
              "_transaction_read_only\000off\000S\000\000\000\027in_hot_standby\000off\000S\000\000\000\031"
              "integer_datetimes\000on\000S\000\000\000\033IntervalStyle\000postgres\000S\000\000\000\024"
              "is_superuser\000on\000S\000\000\000\031server_encoding\000UTF8\000S\000\000\0002server_ver"
              "sion\00015.18 (Debian 15.18-0+deb12u1)\000S\000\000\000#session_authorization\000postgres\000"
              "S\000\000\000#standard_conforming_strings\000on\000S\000\000\000\025TimeZone\000Etc/UTC\000"
              "K\000\000\000\014\000\000JE\037\373\271\372Z\000\000\000\005I"
    },
    {'>', 150, "P\000\000\000\020\000SELECT 1\000\000\000B\000\000\000\014\000\000\000\000\000\000\000\000"
              "D\000\000\000\006P\000E\000\000\000\011\000\000\000\000\000P\000\000\000\022\000select 1/0"
              "\000\000\000B\000\000\000\014\000\000\000\000\000\000\000\000E\000\000\000\011\000\000\000"
              "\000\000P\000\000\000 \000INSERT INTO t VALUES (2)\000\000\000B\000\000\000\014\000\000\000"
              "\000\000\000\000\000E\000\000\000\011\000\000\000\000\000S\000\000\000\004"
    },
    {'<', 147, "1\000\000\000\0042\000\000\000\004T\000\000\000!\000\001\077column\077\000\000\000\000\000"
              "\000\000\000\000\000\027\000\004\377\377\377\377\000\000D\000\000\000\013\000\001\000\000\000"
              "\0011C\000\000\000\015SELECT 1\0001\000\000\000\004E\000\000\000ASERROR\000VERROR\000C2201"
              "2\000Mdivision by zero\000Fint.c\000L869\000Rint4div\000\000Z\000\000\000\005I"
    },
    {'>', 243, "P\000\000\0007s1\000  /* hi */ SELECT * FROM generate_series(1,5)\000\000\000B\000\000\000"
              "\020c1\000s1\000\000\000\000\000\000\000E\000\000\000\013c1\000\000\000\000\002E\000\000\000"
              "\013c1\000\000\000\000\000C\000\000\000\010Pc1\000C\000\000\000\010Ss1\000P\000\000\000\010"
              "\000\000\000\000B\000\000\000\014\000\000\000\000\000\000\000\000E\000\000\000\011\000\000"
              "\000\000\000S\000\000\000\004P\000\000\000\022bad\000SELEC 1\000\000\000S\000\000\000\004P"
              "\000\000\000&\000UPDATE t SET a = 3 WHERE false\000\000\000B\000\000\000\014\000\000\000\000"
              "\000\000\000\000E\000\000\000\011\000\000\000\000\000S\000\000\000\004"
    },
    {'<', 250, "1\000\000\000\0042\000\000\000\004D\000\000\000\013\000\001\000\000\000\0011D\000\000\000\013"
              "\000\001\000\000\000\0012s\000\000\000\004D\000\000\000\013\000\001\000\000\000\0013D\000\000"
              "\000\013\000\001\000\000\000\0014D\000\000\000\013\000\001\000\000\000\0015C\000\000\000\015"
              "SELECT 3\0003\000\000\000\0043\000\000\000\0041\000\000\000\0042\000\000\000\004I\000\000\000"
              "\004Z\000\000\000\005IE\000\000\000]SERROR\000VERROR\000C42601\000Msyntax error at or near"
              " \042SELEC\042\000P1\000Fscan.l\000L1188\000Rscanner_yyerror\000\000Z\000\000\000\005I1\000"
              "\000\000\0042\000\000\000\004C\000\000\000\015UPDATE 0\000Z\000\000\000\005I"
    },
    {'>', 76, "Q\000\000\000KDO $$BEGIN RAISE NOTICE 'hello'; END$$; SELECT 1; SELECT 1/0; SELECT 2\000"
    },
    {'<', 123, "N\000\000\000zSNOTICE\000VNOTICE\000C00000\000Mhello\000WPL/pgSQL function inline_code_blo"
              "ck line 1 at RAISE\000Fpl_exec.c\000L3891\000Rexec_stmt_raise\000\000"
    },
    {'<', 140, "C\000\000\000\007DO\000T\000\000\000!\000\001\077column\077\000\000\000\000\000\000\000\000"
              "\000\000\027\000\004\377\377\377\377\000\000D\000\000\000\013\000\001\000\000\000\0011C\000"
              "\000\000\015SELECT 1\000E\000\000\000ASERROR\000VERROR\000C22012\000Mdivision by zero\000F"
              "int.c\000L869\000Rint4div\000\000Z\000\000\000\005I"
    },
    {'>', 37, "Q\000\000\000$LISTEN ch; NOTIFY ch, 'payload'\000"
    },
    {'<', 50, "C\000\000\000\013LISTEN\000C\000\000\000\013NOTIFY\000A\000\000\000\023\000\000JEch\000pay"
              "load\000Z\000\000\000\005I"
    },
    {'>', 5, "X\000\000\000\004"
    },
};

/* ---------------------------------------------------------------- expected */

#define WANT_PSQL_FE "SSLREQ STARTUP Q:SELECT Q:BEGIN Q:SELECT Q:COPY Q:_OTHER TERM"
#define WANT_PSQL_BE                                                           \
    "SSL:N Z:I* C:SELECT:1 Z:I/d1r1 C:BEGIN C:INSERT:1 C:SELECT:1 C:COMMIT "   \
    "Z:I/d1r2 E:22012 Z:I/d1!22012r0 C:COPY:2 Z:I/d1r2 I Z:I/d1r0"
#define WANT_EXT_FE                                                            \
    "SSLREQ STARTUP X:BEGIN SYNC X:UPDATE SYNC X:SELECT SYNC X:UPDATE SYNC "   \
    "X:UPDATE SYNC X:INSERT SYNC X:COMMIT SYNC X:BEGIN SYNC X:UPDATE SYNC "    \
    "X:SELECT SYNC X:UPDATE SYNC X:UPDATE SYNC X:INSERT SYNC X:COMMIT SYNC TERM"
#define WANT_EXT_BE                                                            \
    "SSL:N Z:I* C:BEGIN/d1 Z:T C:UPDATE:1/d1 Z:T C:SELECT:1/d1 Z:T "           \
    "C:UPDATE:1/d1 Z:T C:UPDATE:1/d1 Z:T C:INSERT:1/d1 Z:T C:COMMIT/d1 Z:I "   \
    "C:BEGIN/d1 Z:T C:UPDATE:1/d1 Z:T C:SELECT:1/d1 Z:T C:UPDATE:1/d1 Z:T "    \
    "C:UPDATE:1/d1 Z:T C:INSERT:1/d1 Z:T C:COMMIT/d1 Z:I"
/* -M prepared: Parse P_n + Sync first, then Bind/Execute of the named
 * statement; the second transaction only binds the statements again */
#define WANT_PREP_FE                                                           \
    "SSLREQ STARTUP SYNC X:BEGIN SYNC SYNC X:UPDATE SYNC SYNC X:SELECT SYNC "  \
    "SYNC X:UPDATE SYNC SYNC X:UPDATE SYNC SYNC X:INSERT SYNC SYNC X:COMMIT "  \
    "SYNC X:BEGIN SYNC X:UPDATE SYNC X:SELECT SYNC X:UPDATE SYNC X:UPDATE "    \
    "SYNC X:INSERT SYNC X:COMMIT SYNC TERM"
#define WANT_PREP_BE                                                           \
    "SSL:N Z:I* Z:I C:BEGIN/d1 Z:T Z:T C:UPDATE:1/d1 Z:T Z:T C:SELECT:1/d1 "   \
    "Z:T Z:T C:UPDATE:1/d1 Z:T Z:T C:UPDATE:1/d1 Z:T Z:T C:INSERT:1/d1 Z:T "   \
    "Z:T C:COMMIT/d1 Z:I C:BEGIN/d1 Z:T C:UPDATE:1/d1 Z:T C:SELECT:1/d1 Z:T "  \
    "C:UPDATE:1/d1 Z:T C:UPDATE:1/d1 Z:T C:INSERT:1/d1 Z:T C:COMMIT/d1 Z:I"
/* batch 1: SELECT ok, 1/0 fails, INSERT skipped (aborted at Z); batches 2-4
 * pipelined: portal c1 with a 2-row limit (suspended, then the rest), an
 * empty query, a Parse-only batch whose Parse fails (done 0), an UPDATE;
 * then simple queries: a NOTICE, an error in the 3rd of 4 statements, a
 * NOTIFY delivered to ourselves */
#define WANT_RAW_FE                                                            \
    "STARTUP X:SELECT X:SELECT X:INSERT SYNC X:SELECT X:SELECT X:_OTHER SYNC " \
    "SYNC X:UPDATE SYNC Q:DO Q:LISTEN TERM"
#define WANT_RAW_BE                                                            \
    "Z:I* C:SELECT:1/d1 E:22012/d1 Z:I/d1a1 s/d1 C:SELECT:3/d1 I/d1 Z:I "      \
    "E:42601 Z:I C:UPDATE:0/d1 Z:I C:DO C:SELECT:1 E:22012 Z:I/d1!22012r1 "    \
    "C:LISTEN C:NOTIFY Z:I/d1r0"

/* ---------------------------------------------------------------- traces */

#define DB(x) shim_pg_##x
#define DB_RC(x) SHIM_PG_##x
#define DB_STATE struct shim_pg
#include "trace_db.h"

/* same_event: the fields a caller reads. */
static int same_event(const struct shim_pg_event *x, const struct shim_pg_event *y)
{
    return x->type == y->type && x->kind == y->kind && x->op == y->op && x->txn == y->txn &&
           x->flags == y->flags && x->done == y->done && x->aborted == y->aborted &&
           memcmp(x->sqlstate, y->sqlstate, 6) == 0 && x->code == y->code && x->msg_len == y->msg_len &&
           x->rows == y->rows;
}

static void check_event(const struct shim_pg_event *e)
{
    CHECK(e->sqlstate[5] == 0);
    CHECK(e->aborted <= e->done);
}

/* ---------------------------------------------------------------- rendering */

static const char *req_kind(int k)
{
    return k == SHIM_PG_REQ_SIMPLE ? "Q" : k == SHIM_PG_REQ_EXECUTE ? "X" : k == SHIM_PG_REQ_FUNCTION ? "F" : "?";
}

/*
 * render_event: the token of one event (render, trace_db.h, puts them
 * one per record, space separated):
 *   frontend: STARTUP SSLREQ GSSREQ CANCEL SYNC TERM, Q:op (simple query),
 *             X:op (Execute), F:op (FunctionCall)
 *   backend:  SSL:S / SSL:N, C:op[:rows], E:sqlstate, I (empty), s
 *             (suspended), Z:txn; then /d<done>[a<aborted>] when done > 0,
 *             "!" error flag on a READY (with its sqlstate), r<rows> on a
 *             READY that completed something, "*" startup READY, "~" fatal
 *   (BAD / ENCRYPTED when the stream stops, the final IDLE state not
 *   rendered: render's).
 */
static void render_event(const struct shim_pg_event *e, char *out, size_t cap, size_t *n)
{
#define PUT(...) appendf(out, cap, n, __VA_ARGS__)
    switch (e->type) {
    case SHIM_PG_EV_STARTUP: PUT("STARTUP"); break;
    case SHIM_PG_EV_SSL_REQUEST: PUT((e->flags & SHIM_PG_F_GSS) ? "GSSREQ" : "SSLREQ"); break;
    case SHIM_PG_EV_CANCEL: PUT("CANCEL"); break;
    case SHIM_PG_EV_SYNC: PUT("SYNC"); break;
    case SHIM_PG_EV_TERMINATE: PUT("TERM"); break;
    case SHIM_PG_EV_REQ: PUT("%s:%s", req_kind(e->kind), shim_sql_op_name(e->op)); break;
    case SHIM_PG_EV_SSL_ANSWER: PUT("SSL:%s", (e->flags & SHIM_PG_F_ACCEPTED) ? "S" : "N"); break;
    case SHIM_PG_EV_RESP:
        switch (e->kind) {
        case SHIM_PG_RESP_COMPLETE:
            PUT("C:%s", shim_sql_op_name(e->op));
            if (e->flags & SHIM_PG_F_ROWS)
                PUT(":%llu", (unsigned long long)e->rows);
            break;
        case SHIM_PG_RESP_ERROR: PUT("E:%s%s", e->sqlstate, (e->flags & SHIM_PG_F_FATAL) ? "~" : ""); break;
        case SHIM_PG_RESP_EMPTY: PUT("I"); break;
        case SHIM_PG_RESP_SUSPENDED: PUT("s"); break;
        case SHIM_PG_RESP_READY:
            PUT("Z:%c", e->txn);
            if (e->flags & SHIM_PG_F_STARTUP)
                PUT("*");
            break;
        default: PUT("RESP?%d", e->kind); break;
        }
        if (e->done) {
            PUT("/d%u", e->done);
            if (e->aborted)
                PUT("a%u", e->aborted);
        }
        if (e->kind == SHIM_PG_RESP_READY && e->done && e->done > e->aborted) {
            if (e->flags & SHIM_PG_F_ERROR)
                PUT("!%s", e->sqlstate);
            if (e->flags & SHIM_PG_F_ROWS)
                PUT("r%llu", (unsigned long long)e->rows);
        }
        if (e->flags & SHIM_PG_F_DESYNC)
            PUT("#");
        if (e->flags & SHIM_PG_F_RESYNC)
            PUT("@");
        break;
    default: PUT("?%d", e->type); break;
    }
#undef PUT
}

/* ---------------------------------------------------------------- capture tests */

static void test_psql_simple(void)
{
    check_session("psql", pg_psql, NSEG(pg_psql),
                  WANT_PSQL_FE, WANT_PSQL_BE);
}

static void test_pgbench_extended(void)
{
    check_session("pgbench -M extended", pg_bench_ext, NSEG(pg_bench_ext),
                  WANT_EXT_FE, WANT_EXT_BE);
}

static void test_pgbench_prepared(void)
{
    check_session("pgbench -M prepared", pg_bench_prep, NSEG(pg_bench_prep),
                  WANT_PREP_FE, WANT_PREP_BE);
}

static void test_raw_batches(void)
{
    check_session("raw batches", pg_raw, NSEG(pg_raw),
                  WANT_RAW_FE, WANT_RAW_BE);
}

/* ---------------------------------------------------------------- synthetic streams */

static void put32(struct buf *b, uint32_t v)
{
    uint8_t x[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    put(b, x, 4);
}

/* put_msg: a typed message; the body may hold NULs (give its length). */
static void put_msg(struct buf *b, char type, const void *body, size_t n)
{
    put(b, &type, 1);
    put32(b, (uint32_t)(n + 4));
    put(b, body, n);
}

/* MSG(b, 'Q', "SELECT 1\0"): a literal body, its explicit NULs included. */
#define MSG(b, t, lit) put_msg((b), (t), (lit), sizeof(lit) - 1)

/* put_startup: protocol 3.0 startup packet. */
static void put_startup(struct buf *b)
{
    static const char params[] = "user\0app\0database\0db\0";
    put32(b, (uint32_t)(8 + sizeof(params)));
    put32(b, 196608);
    put(b, params, sizeof(params));
}

static void test_ssl_accepted(void)
{
    struct buf fe = {{0}, 0}, be = {{0}, 0};
    static const uint8_t tls[] = {0x16, 0x03, 0x01, 0x00, 0x05, 'h', 'e', 'l', 'l', 'o'};

    put32(&fe, 8);
    put32(&fe, 80877103);
    put(&fe, tls, sizeof(tls));
    check_stream("ssl fe", SHIM_PG_FRONTEND, &fe, NULL, "SSLREQ ENCRYPTED", -1);
    /* the BAD/ENCRYPTED record sits at the TLS record's first byte */
    CHECK_EQ(tr_whole.r[1].off, 8);

    frontend_trace(&fe, &tr_syn);
    put(&be, "S", 1);
    put(&be, tls, sizeof(tls));
    check_stream("ssl be", SHIM_PG_BACKEND, &be, &tr_syn, "SSL:S ENCRYPTED", -1);
    CHECK_EQ(tr_whole.r[0].off, 1);

    /* GSSENCRequest accepted: 'G' */
    fe.n = 0;
    put32(&fe, 8);
    put32(&fe, 80877104);
    check_stream("gss fe", SHIM_PG_FRONTEND, &fe, NULL, "GSSREQ", 1);
    frontend_trace(&fe, &tr_syn);
    be.n = 0;
    put(&be, "G\0\0\0\x10garbage!", 13);
    check_stream("gss be", SHIM_PG_BACKEND, &be, &tr_syn, "SSL:S ENCRYPTED", -1);

    /* refused, then an old server's ErrorResponse instead of the byte */
    fe.n = 0;
    put32(&fe, 8);
    put32(&fe, 80877103);
    put_startup(&fe);
    check_stream("ssl refused fe", SHIM_PG_FRONTEND, &fe, NULL, "SSLREQ STARTUP", 1);
    frontend_trace(&fe, &tr_syn);
    be.n = 0;
    MSG(&be, 'E', "SFATAL\0VFATAL\0C08P01\0Munsupported\0\0");
    check_stream("ssl error be", SHIM_PG_BACKEND, &be, &tr_syn, "E:08P01~", 1);
    /* without the expectation the 'S' of an answer is a message type: the
     * caller must pass the SSL_REQUEST event on */
    be.n = 0;
    put(&be, "S", 1);
    put(&be, tls, sizeof(tls));
    check_stream("ssl unexpected be", SHIM_PG_BACKEND, &be, NULL, "", 0); /* ParameterStatus of 369 MB */
}

static void test_bad_inputs(void)
{
    struct buf b = {{0}, 0};
    struct shim_pg st;
    struct shim_pg_event ev;
    size_t c;

    /* startup packet lengths and codes */
    put32(&b, 5);
    put32(&b, 196608);
    check_stream("startup len 5", SHIM_PG_FRONTEND, &b, NULL, "BAD", -1);
    CHECK_EQ(tr_whole.r[0].off, 3);
    b.n = 0;
    put32(&b, 20000);
    put32(&b, 196608);
    check_stream("startup len 20000", SHIM_PG_FRONTEND, &b, NULL, "BAD", -1);
    b.n = 0;
    put32(&b, 0xffffffffu);
    check_stream("startup len -1", SHIM_PG_FRONTEND, &b, NULL, "BAD", -1);
    b.n = 0;
    put32(&b, 16);
    put32(&b, 1234);
    put32(&b, 0);
    put32(&b, 0);
    check_stream("startup code 1234", SHIM_PG_FRONTEND, &b, NULL, "BAD", -1);
    CHECK_EQ(tr_whole.r[0].off, 7);
    b.n = 0;
    put32(&b, 16);
    put32(&b, 80877103);
    put32(&b, 0);
    put32(&b, 0);
    check_stream("ssl request len 16", SHIM_PG_FRONTEND, &b, NULL, "BAD", -1);
    b.n = 0;
    put(&b, "GET / HTTP/1.1\r\n\r\n", 18);
    check_stream("http on frontend", SHIM_PG_FRONTEND, &b, NULL, "BAD", -1);

    /* typed messages whose length lies */
    b.n = 0;
    put_startup(&b);
    put(&b, "Q\0\0\0\3", 5);
    check_stream("Q len 3", SHIM_PG_FRONTEND, &b, NULL, "STARTUP BAD", -1);
    b.n = 0;
    put_startup(&b);
    put(&b, "Q\x80\0\0\x10SELECT", 11);
    check_stream("Q len negative", SHIM_PG_FRONTEND, &b, NULL, "STARTUP BAD", -1);
    b.n = 0;
    put_startup(&b);
    put(&b, "Q\x40\0\0\0SELECT", 11);
    check_stream("Q len 1 GiB", SHIM_PG_FRONTEND, &b, NULL, "STARTUP BAD", -1);
    b.n = 0;
    put_startup(&b);
    put(&b, "S\0\0\0\5x", 6);
    check_stream("Sync len 5", SHIM_PG_FRONTEND, &b, NULL, "STARTUP BAD", -1);
    b.n = 0;
    put_startup(&b);
    MSG(&b, 'z', "junk");
    check_stream("unknown frontend type", SHIM_PG_FRONTEND, &b, NULL, "STARTUP BAD", -1);
    CHECK_EQ(tr_whole.r[1].off, 30);
    b.n = 0;
    put(&b, "Z\0\0\0\6II", 7);
    check_stream("Z len 6", SHIM_PG_BACKEND, &b, NULL, "BAD", -1);
    b.n = 0;
    put(&b, "K\0\0\x01\x2c", 5);
    check_stream("K len 300", SHIM_PG_BACKEND, &b, NULL, "BAD", -1);
    b.n = 0;
    put(&b, "HTTP/1.1 200 OK\r\n", 17);
    check_stream("http on backend", SHIM_PG_BACKEND, &b, NULL, "BAD", -1);
    b.n = 0;
    MSG(&b, 'Q', "SELECT 1\0"); /* a frontend type on the backend */
    check_stream("Q on backend", SHIM_PG_BACKEND, &b, NULL, "BAD", -1);

    /* truncated: need more, not idle; a huge (legal) DataRow is skipped */
    b.n = 0;
    put_startup(&b);
    put(&b, "Q\0\0\0\x20SELECT", 11);
    check_stream("truncated Q", SHIM_PG_FRONTEND, &b, NULL, "STARTUP", 0);
    b.n = 0;
    put(&b, "D\x3f\xff\xff\xff\0\1", 7);
    check_stream("huge DataRow", SHIM_PG_BACKEND, &b, NULL, "", 0);

    /* BAD is sticky; a zeroed state recovers */
    b.n = 0;
    MSG(&b, 'z', "junk");
    shim_pg_init(&st, SHIM_PG_BACKEND);
    CHECK_EQ(shim_pg_feed(&st, b.b, b.n, &ev, &c), SHIM_PG_BAD);
    CHECK_EQ(c, 0);
    CHECK_EQ(shim_pg_idle(&st), -1);
    b.n = 0;
    MSG(&b, 'Z', "I");
    CHECK_EQ(shim_pg_feed(&st, b.b, b.n, &ev, &c), SHIM_PG_BAD);
    memset(&st, 0, sizeof(st));
    st.mode = SHIM_PG_BACKEND;
    CHECK_EQ(shim_pg_feed(&st, b.b, b.n, &ev, &c), SHIM_PG_EVENT);
    CHECK_EQ(c, 6);
    CHECK_EQ(ev.kind, SHIM_PG_RESP_READY);
    CHECK_EQ(ev.txn, 'I');
    CHECK_EQ(shim_pg_feed(&st, b.b + c, 0, &ev, &c), SHIM_PG_NEED_MORE);
    CHECK_EQ(shim_pg_idle(&st), 1);
    /* a corrupted state byte is BAD, not a crash */
    memset(&st, 0x5a, sizeof(st));
    st.mode = SHIM_PG_BACKEND;
    CHECK_EQ(shim_pg_feed(&st, b.b, b.n, &ev, &c), SHIM_PG_BAD);
}

static void test_desync(void)
{
    struct buf fe = {{0}, 0}, be = {{0}, 0};
    char *w = want;
    int k;

    put_startup(&fe);
    MSG(&fe, 'P', "\0SELECT 1\0\0\0");
    for (k = 0; k < 20; k++) {
        MSG(&fe, 'B', "\0\0\0\0\0\0\0\0");
        MSG(&fe, 'E', "\0\0\0\0\0");
        MSG(&fe, 'S', "");
    }
    frontend_trace(&fe, &tr_syn);
    CHECK_EQ(tr_syn.n, 1 + 20 * 2 + 1);
    /* 40 runs pending, the backend tracks 16 (8 batches): the 8th
     * ReadyForQuery empties its queue: the caller flushes the rest */
    w += sprintf(w, "Z:I*#"); /* overflowed before the startup ended */
    for (k = 0; k < 20; k++) {
        MSG(&be, '2', "");
        MSG(&be, 'C', "SELECT 1\0");
        MSG(&be, 'Z', "I");
        if (k < 7)
            w += sprintf(w, " C:SELECT:1/d1# Z:I#");
        else if (k == 7)
            w += sprintf(w, " C:SELECT:1/d1# Z:I#@");
        else
            w += sprintf(w, " C:SELECT:1 Z:I");
    }
    {
        /* the startup's ReadyForQuery comes first */
        struct buf all = {{0}, 0};
        MSG(&all, 'Z', "I");
        put(&all, be.b, be.n);
        check_stream("desync", SHIM_PG_BACKEND, &all, &tr_syn, want, 1);
    }
}

static void test_statement_maps(void)
{
    struct buf fe = {{0}, 0};
    char body[64];
    char *w = want;
    int k, n;

    put_startup(&fe);
    w += sprintf(w, "STARTUP");
    /* 17 named statements: the first is evicted by the 17th */
    for (k = 0; k < 17; k++) {
        n = sprintf(body, "st%d", k) + 1;
        n += sprintf(body + n, "%s", k % 2 ? "insert into t values (1)" : "select 1") + 1;
        memset(body + n, 0, 2);
        put_msg(&fe, 'P', body, (size_t)n + 2);
    }
    MSG(&fe, 'S', "");
    w += sprintf(w, " SYNC");
    for (k = 0; k < 17; k++) {
        n = sprintf(body, "p%d", k % 3) + 1; /* portals p0..p2 */
        n += sprintf(body + n, "st%d", k) + 1;
        memset(body + n, 0, 6);
        put_msg(&fe, 'B', body, (size_t)n + 6);
        n = sprintf(body, "p%d", k % 3) + 1;
        memset(body + n, 0, 4);
        put_msg(&fe, 'E', body, (size_t)n + 4);
        w += sprintf(w, " X:%s", k == 0 ? "_OTHER" : k % 2 ? "INSERT" : "SELECT");
    }
    /* Close statement st1, then bind it: unknown; Close portal p1 */
    MSG(&fe, 'C', "Sst1\0");
    MSG(&fe, 'B', "p1\0st1\0\0\0\0\0\0\0");
    MSG(&fe, 'E', "p1\0\0\0\0\0");
    w += sprintf(w, " X:_OTHER");
    MSG(&fe, 'C', "Pp2\0");
    MSG(&fe, 'E', "p2\0\0\0\0\0");
    w += sprintf(w, " X:_OTHER");
    /* unnamed statement and portal; a portal bound before a new Parse keeps its op */
    MSG(&fe, 'P', "\0/* x */ (( DELETE FROM t\0\0\0");
    MSG(&fe, 'B', "\0\0\0\0\0\0\0\0");
    MSG(&fe, 'P', "\0UPDATE t SET a = 1\0\0\0");
    MSG(&fe, 'E', "\0\0\0\0\0");
    w += sprintf(w, " X:DELETE");
    MSG(&fe, 'B', "\0\0\0\0\0\0\0\0");
    MSG(&fe, 'E', "\0\0\0\0\0");
    w += sprintf(w, " X:UPDATE");
    /* FunctionCall; Flush, Describe, CopyFail, password make no event */
    put_msg(&fe, 'F', "\0\0\0\1\0\0\0\0\0\0", 10);
    w += sprintf(w, " F:_OTHER");
    MSG(&fe, 'H', "");
    MSG(&fe, 'D', "S\0");
    MSG(&fe, 'f', "oops\0");
    MSG(&fe, 'p', "secret\0");
    MSG(&fe, 'X', "");
    w += sprintf(w, " TERM");
    check_stream("statement maps", SHIM_PG_FRONTEND, &fe, NULL, want, 1);
}

static void test_backend_misc(void)
{
    struct buf fe = {{0}, 0}, be = {{0}, 0};

    /* a function call: FunctionCallResponse then ReadyForQuery */
    put_startup(&fe);
    put_msg(&fe, 'F', "\0\0\0\1\0\0\0\0\0\0", 10);
    MSG(&fe, 'Q', "  -- comment\n  VACUUM\0");
    frontend_trace(&fe, &tr_syn);
    MSG(&be, 'R', "\0\0\0\0");
    MSG(&be, 'S', "a\0b\0");
    MSG(&be, 'K', "\0\0\0\1\0\0\0\2");
    MSG(&be, 'Z', "I");
    MSG(&be, 'V', "\0\0\0\1x");
    MSG(&be, 'Z', "I");
    /* notice (not a response), then a FATAL error with an odd field order */
    MSG(&be, 'N', "SWARNING\0C01000\0Mhm\0\0");
    MSG(&be, 'E', "Mbye\0C57P01\0SFATAL\0VFATAL\0\0");
    MSG(&be, 'Z', "E");
    check_stream("function call", SHIM_PG_BACKEND, &be, &tr_syn,
                 "Z:I* Z:I/d1r0 E:57P01~ Z:E/d1!57P01r0", 1);
    /* COPY TO STDOUT and row counts in tags */
    be.n = 0;
    MSG(&be, 'H', "\0\0\1\0\0");
    MSG(&be, 'd', "1\n");
    MSG(&be, 'c', "");
    MSG(&be, 'C', "COPY 18446744073709551615\0");
    MSG(&be, 'C', "INSERT 0 12\0");
    MSG(&be, 'C', "CREATE TABLE\0");
    MSG(&be, 'C', "SELECT 123456789012345678901\0"); /* too long: no count */
    MSG(&be, 'C', "\0");
    check_stream("copy out", SHIM_PG_BACKEND, &be, NULL,
                 "C:COPY:18446744073709551615 C:INSERT:12 C:CREATE C:SELECT C:_OTHER", 1);
    /* an unterminated error field and sqlstate longer than 5 */
    be.n = 0;
    MSG(&be, 'E', "C1234567");
    check_stream("short error", SHIM_PG_BACKEND, &be, NULL, "E:12345", 1);
}

static void test_detect(void)
{
    static const uint8_t startup[] = {0, 0, 0, 0x29, 0, 3, 0, 0, 'u'};
    static const uint8_t ssl[] = {0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f};
    static const uint8_t gss[] = {0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x30};
    static const uint8_t cancel[] = {0, 0, 0, 16, 0x04, 0xd2, 0x16, 0x2e};
    static const uint8_t zero[8] = {0};
    static const uint8_t ssl_len9[] = {0, 0, 0, 9, 0x04, 0xd2, 0x16, 0x2f};
    size_t k;
    for (k = 0; k < 8; k++) {
        CHECK_EQ(shim_pg_detect(at_guard(startup, k), k), -1);
        CHECK_EQ(shim_pg_detect(at_guard(ssl, k), k), -1);
    }
    CHECK_EQ(shim_pg_detect(at_guard(startup, 9), 9), 1);
    CHECK_EQ(shim_pg_detect(at_guard(ssl, 8), 8), 1);
    CHECK_EQ(shim_pg_detect(at_guard(gss, 8), 8), 1);
    CHECK_EQ(shim_pg_detect(at_guard(cancel, 8), 8), 1);
    CHECK_EQ(shim_pg_detect(at_guard(zero, 8), 8), 0);
    CHECK_EQ(shim_pg_detect(at_guard(ssl_len9, 8), 8), 0);
    CHECK_EQ(shim_pg_detect((const uint8_t *)"GET / HTTP/1.1", 14), 0);
    CHECK_EQ(shim_pg_detect((const uint8_t *)"\x16\x03\x01", 3), 0);
    CHECK_EQ(shim_pg_detect((const uint8_t *)"\0\0\0\x29\0\4", 6), 0); /* protocol 4 */
    CHECK_EQ(shim_pg_detect(NULL, 0), -1);
    /* the captures' first bytes */
    session_load(&sess, pg_psql, NSEG(pg_psql));
    CHECK_EQ(shim_pg_detect(sess.client, sess.client_len), 1);
    session_load(&sess, pg_raw, NSEG(pg_raw));
    CHECK_EQ(shim_pg_detect(sess.client, sess.client_len), 1);
}

/* ---------------------------------------------------------------- sqlop */

static int op_of(const char *s)
{
    size_t n = strlen(s);
    return shim_sql_op(at_guard((const uint8_t *)s, n), n);
}

/* op_split: the incremental scanner fed s in two pieces at every position
 * and byte by byte agrees with shim_sql_op. */
static void op_split(const char *s)
{
    size_t n = strlen(s), k, i;
    int whole = shim_sql_op((const uint8_t *)s, n);
    struct shim_sql_scan sc;
    for (k = 0; k <= n; k++) {
        shim_sql_scan_init(&sc);
        shim_sql_scan_feed(&sc, at_guard((const uint8_t *)s, k), k);
        shim_sql_scan_feed(&sc, at_guard((const uint8_t *)s + k, n - k), n - k);
        CHECK_EQ(shim_sql_scan_end(&sc), whole);
    }
    shim_sql_scan_init(&sc);
    for (i = 0; i < n; i++)
        shim_sql_scan_feed(&sc, at_guard((const uint8_t *)s + i, 1), 1);
    CHECK_EQ(shim_sql_scan_end(&sc), whole);
}

static void test_sqlop(void)
{
    static const struct {
        const char *text;
        int op;
    } cases[] = {
        {"SELECT 1", SHIM_SQL_SELECT},
        {"select 1", SHIM_SQL_SELECT},
        {"SeLeCt", SHIM_SQL_SELECT},
        {"  \t\r\n\v\f SELECT", SHIM_SQL_SELECT},
        {"-- a comment\nINSERT INTO t VALUES (1)", SHIM_SQL_INSERT},
        {"-- one\n -- two\r\n\tupdate t set a=1", SHIM_SQL_UPDATE},
        {"# mysql comment\nDELETE FROM t", SHIM_SQL_DELETE},
        {"/* c */ SELECT", SHIM_SQL_SELECT},
        {"/**/SELECT", SHIM_SQL_SELECT},
        {"/***/SELECT", SHIM_SQL_SELECT},
        {"/* a /* nested */ still */ CREATE TABLE t()", SHIM_SQL_CREATE},
        {"/* a /* nested */ SELECT", SHIM_SQL_OTHER},
        {"/* unterminated", SHIM_SQL_OTHER},
        {"/*!40101 SET NAMES utf8 */", SHIM_SQL_SET},
        {"/*!SET x=1*/", SHIM_SQL_SET},
        {"/*M!100101 SET x=1*/", SHIM_SQL_SET},
        {"/*Main comment*/ DROP TABLE t", SHIM_SQL_DROP},
        {"((SELECT 1) UNION (SELECT 2))", SHIM_SQL_SELECT},
        {"( /* x */ ( -- y\n with q as (select 1) select * from q))", SHIM_SQL_WITH},
        {";; ; BEGIN", SHIM_SQL_BEGIN},
        {"START TRANSACTION", SHIM_SQL_START},
        {"END", SHIM_SQL_COMMIT},
        {"end;", SHIM_SQL_COMMIT},
        {"ABORT", SHIM_SQL_ROLLBACK},
        {"ROLLBACK TO SAVEPOINT a", SHIM_SQL_ROLLBACK},
        {"savepoint a", SHIM_SQL_SAVEPOINT},
        {"RELEASE a", SHIM_SQL_RELEASE},
        {"COPY t FROM STDIN", SHIM_SQL_COPY},
        {"SET search_path=x", SHIM_SQL_SET},
        {"SHOW ALL", SHIM_SQL_SHOW},
        {"ALTER TABLE t", SHIM_SQL_ALTER},
        {"TRUNCATE t", SHIM_SQL_TRUNCATE},
        {"GRANT ALL", SHIM_SQL_GRANT},
        {"REVOKE ALL", SHIM_SQL_REVOKE},
        {"EXPLAIN SELECT 1", SHIM_SQL_EXPLAIN},
        {"ANALYZE t", SHIM_SQL_ANALYZE},
        {"analyse t", SHIM_SQL_ANALYZE},
        {"VACUUM", SHIM_SQL_VACUUM},
        {"PREPARE s AS SELECT 1", SHIM_SQL_PREPARE},
        {"EXECUTE s", SHIM_SQL_EXECUTE},
        {"DEALLOCATE s", SHIM_SQL_DEALLOCATE},
        {"DEALLOCATEX", SHIM_SQL_OTHER},
        {"CALL p()", SHIM_SQL_CALL},
        {"DO $$ $$", SHIM_SQL_DO},
        {"LOCK TABLE t", SHIM_SQL_LOCK},
        {"LISTEN c", SHIM_SQL_LISTEN},
        {"NOTIFY c", SHIM_SQL_NOTIFY},
        {"UNLISTEN *", SHIM_SQL_UNLISTEN},
        {"FETCH 10 FROM c", SHIM_SQL_FETCH},
        {"DECLARE c CURSOR FOR SELECT 1", SHIM_SQL_DECLARE},
        {"CLOSE c", SHIM_SQL_CLOSE},
        {"MERGE INTO t", SHIM_SQL_MERGE},
        {"REPLACE INTO t VALUES (1)", SHIM_SQL_REPLACE},
        {"USE app", SHIM_SQL_USE},
        {"DESCRIBE t", SHIM_SQL_DESCRIBE},
        {"desc t", SHIM_SQL_DESCRIBE},
        {"SELECT", SHIM_SQL_SELECT},
        {"SELECTX", SHIM_SQL_OTHER},
        {"SELECT_1", SHIM_SQL_OTHER},
        {"SELECT$", SHIM_SQL_OTHER},
        {"SELECT(1)", SHIM_SQL_SELECT},
        {"SELECT*FROM t", SHIM_SQL_SELECT},
        {"select\n1", SHIM_SQL_SELECT},
        {"VALUES (1)", SHIM_SQL_OTHER},
        {"TABLE t", SHIM_SQL_OTHER},
        {"1", SHIM_SQL_OTHER},
        {"'SELECT'", SHIM_SQL_OTHER},
        {"\"SELECT\"", SHIM_SQL_OTHER},
        {"-SELECT", SHIM_SQL_OTHER},
        {"/SELECT", SHIM_SQL_OTHER},
        {"- - SELECT", SHIM_SQL_OTHER},
        {"", SHIM_SQL_OTHER},
        {"   ", SHIM_SQL_OTHER},
        {"-- only a comment", SHIM_SQL_OTHER},
        {"\xef\xbb\xbfSELECT", SHIM_SQL_OTHER},
        {"ÉSELECT", SHIM_SQL_OTHER},
        {"averyveryverylongidentifier", SHIM_SQL_OTHER},
    };
    size_t k;
    char deep[400];
    for (k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        unit_set_context("sqlop \"%s\"", cases[k].text);
        CHECK_EQ(op_of(cases[k].text), cases[k].op);
        op_split(cases[k].text);
    }
    unit_context[0] = 0;
    /* comments nested deeper than the scanner follows: OTHER, no overflow */
    for (k = 0; k < 100; k++)
        memcpy(deep + 2 * k, "/*", 2);
    memcpy(deep + 200, " SELECT", 8);
    CHECK_EQ(op_of(deep), SHIM_SQL_OTHER);
    CHECK_EQ(shim_sql_op(NULL, 0), SHIM_SQL_OTHER);
    /* names */
    CHECK_STREQ(shim_sql_op_name(SHIM_SQL_SELECT), "SELECT");
    CHECK_STREQ(shim_sql_op_name(SHIM_SQL_DEALLOCATE), "DEALLOCATE");
    CHECK_STREQ(shim_sql_op_name(SHIM_SQL_DESCRIBE), "DESCRIBE");
    CHECK_STREQ(shim_sql_op_name(SHIM_SQL_OTHER), "_OTHER");
    CHECK_STREQ(shim_sql_op_name(-1), "_OTHER");
    CHECK_STREQ(shim_sql_op_name(SHIM_SQL_OP_COUNT), "_OTHER");
    for (k = 1; k < SHIM_SQL_OP_COUNT; k++)
        CHECK_EQ(op_of(shim_sql_op_name((int)k)), k == SHIM_SQL_OTHER ? 0 : (long long)k);
}

int main(void)
{
    guard_init();
    UNIT_RUN(test_sqlop);
    UNIT_RUN(test_psql_simple);
    UNIT_RUN(test_pgbench_extended);
    UNIT_RUN(test_pgbench_prepared);
    UNIT_RUN(test_raw_batches);
    UNIT_RUN(test_ssl_accepted);
    UNIT_RUN(test_bad_inputs);
    UNIT_RUN(test_desync);
    UNIT_RUN(test_statement_maps);
    UNIT_RUN(test_backend_misc);
    UNIT_RUN(test_detect);
    printf("sizeof(struct shim_pg) = %zu, sizeof(struct shim_pg_event) = %zu\n",
           sizeof(struct shim_pg), sizeof(struct shim_pg_event));
    return unit_summary();
}
