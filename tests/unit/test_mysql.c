/*
 * test_mysql.c - unit tests of the incremental MySQL / MariaDB protocol
 * parser (shim/proto/mysql.c).
 *
 * The sessions below are real byte streams captured from MariaDB 10.11
 * through a recording TCP proxy: the mariadb command-line client (libmariadb
 * 3.3, MariaDB metadata-cache column counts, no CLIENT_DEPRECATE_EOF: a
 * multi-row result, an error, CALL with two result sets, PREPARE / EXECUTE
 * in SQL, LOAD DATA LOCAL INFILE with a MariaDB progress report), and a
 * raw-protocol python client run with and without CLIENT_DEPRECATE_EOF
 * (multi-statement COM_QUERY failing in its second statement,
 * COM_STMT_PREPARE / EXECUTE / RESET / CLOSE, executing a closed statement,
 * a failing prepare, COM_PING, COM_INIT_DB, COM_FIELD_LIST,
 * COM_STATISTICS, COM_QUIT), an auth switch and a failed login. Each
 * segment is what one read of the proxy got, in order, so the tests know
 * which frontend bytes were sent before which backend bytes: the backend
 * parser is told about a frontend event (shim_mysql_expect) at the backend
 * offset where the request was sent.
 *
 * Every stream is fed whole, one byte at a time, split in two at every
 * byte position and in pseudo-random chunks; all runs must give the same
 * trace (events, fields, stream offsets), and the whole run must render to
 * the expected summary. Every chunk handed to the parser is copied so that
 * it ends right at a PROT_NONE page: reading past it crashes the test.
 */
#include "shim/proto/mysql.h"
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

static const struct seg my_cli[] = {
    {'<', 104, "d\000\000\000\0125.5.5-10.11.19-MariaDB-0+deb12u1\000\007\000\000\000P$a@Y~/m\000\376\367\010"
              "\002\000\377\201\025\000\000\000\000\000\000\035\000\000\000ZZ46Po`r=v]O\000mysql_native_p"
              "assword\000"
    },
    {'>', 215, "\323\000\000\001\214\242\277\000\000\000\020\000!\000\000\000\000\000\000\000\000\000\000\000"
              "\000\000\000\000\000\000\000\000\035\000\000\000app\000\024\321O$\321M\333\341\0173\022\270"
              "4\034\205\337j\015I\337xapp\000mysql_native_password\000\177\003_os\005Linux\014_client_na"
              "me\012libmariadb\004_pid\00519220\017_client_version\0063.3.20\011_platform\006x86_64\014p"
              "rogram_name\005mysql\014_server_host\011127.0.0.1"
    },
    {'<', 19, "\017\000\000\002\000\000\000\002@\000\000\000\006\001\004\003app"
    },
    {'>', 13, "\011\000\000\000\003SELECT 1"
    },
    {'<', 58, "\002\000\000\001\001\001\030\000\000\002\003def\000\000\000\0011\000\000\014\077\000\001\000"
              "\000\000\003\201\000\000\000\000\005\000\000\003\376\000\000\002\000\002\000\000\004\0011\005"
              "\000\000\005\376\000\000\002\000"
    },
    {'>', 46, "*\000\000\000\003INSERT INTO t(b) VALUES ('x'),('y'),('z')"
    },
    {'<', 50, ".\000\000\001\000\003\004\002\000\000\000&Records: 3  Duplicates: 0  Warnings: 0"
    },
    {'>', 34, "\036\000\000\000\003SELECT a, b FROM t ORDER BY a"
    },
    {'<', 140, "\002\000\000\001\002\001\036\000\000\002\003def\003app\001t\001t\001a\001a\000\014\077\000"
              "\013\000\000\000\003\003B\000\000\000\036\000\000\003\003def\003app\001t\001t\001b\001b\000"
              "\014!\000<\000\000\000\375\000\000\000\000\000\005\000\000\004\376\000\000\042\000\004\000"
              "\000\005\0011\001x\004\000\000\006\0012\001y\004\000\000\007\0013\001z\004\000\000\010\001"
              "4\001x\004\000\000\011\0015\001y\004\000\000\012\0016\001z\005\000\000\013\376\000\000\042"
              "\000"
    },
    {'>', 30, "\032\000\000\000\003SELECT * FROM nosuchtable"
    },
    {'<', 50, ".\000\000\001\377z\004#42S02Table 'app.nosuchtable' doesn't exist"
    },
    {'>', 38, "\042\000\000\000\003 UPDATE t SET b = 'q' WHERE a > 1"
    },
    {'<', 52, "0\000\000\001\000\005\000\002\000\000\000(Rows matched: 5  Changed: 5  Warnings: 0"
    },
    {'>', 27, "\027\000\000\000\003SELECT COUNT(*) FROM t"
    },
    {'<', 65, "\002\000\000\001\001\001\037\000\000\002\003def\000\000\000\010COUNT(*)\000\000\014\077\000"
              "\025\000\000\000\010\201\000\000\000\000\005\000\000\003\376\000\000\042\000\002\000\000\004"
              "\0016\005\000\000\005\376\000\000\042\000"
    },
    {'>', 13, "\011\000\000\000\003CALL p()"
    },
    {'<', 58, "\002\000\000\001\001\001\030\000\000\002\003def\000\000\000\001x\000\000\014\077\000\001\000"
              "\000\000\003\201\000\000\000\000\005\000\000\003\376\000\000\012\000\002\000\000\004\0011\005"
              "\000\000\005\376\000\000\012\000"
    },
    {'<', 88, "\002\000\000\006\002\001\030\000\000\007\003def\000\000\000\001y\000\000\014\077\000\001\000"
              "\000\000\003\201\000\000\000\000\030\000\000\010\003def\000\000\000\001w\000\000\014!\000\003"
              "\000\000\000\375\001\000'\000\000\005\000\000\011\376\000\000\012\000\004\000\000\012\0012"
              "\001z\005\000\000\013\376\000\000\012\000"
    },
    {'<', 11, "\007\000\000\014\000\000\000\002\000\000\000"
    },
    {'>', 34, "\036\000\000\000\003PREPARE s FROM 'SELECT \077 + 1'"
    },
    {'<', 30, "\032\000\000\001\000\000\000\002\000\000\000\022Statement prepared"
    },
    {'>', 16, "\014\000\000\000\003SET @v = 41"
    },
    {'<', 11, "\007\000\000\001\000\000\000\002\000\000\000"
    },
    {'>', 23, "\023\000\000\000\003EXECUTE s USING @v"
    },
    {'<', 63, "\002\000\000\001\001\001\034\000\000\002\003def\000\000\000\005\077 + 1\000\000\014\077\000"
              "\025\000\000\000\010\200\000\000\000\000\005\000\000\003\376\000\000\002\000\003\000\000\004"
              "\00242\005\000\000\005\376\000\000\002\000"
    },
    {'>', 25, "\025\000\000\000\003DEALLOCATE PREPARE s"
    },
    {'<', 11, "\007\000\000\001\000\000\000\002\000\000\000"
    },
    {'>', 69, "A\000\000\000\003LOAD DATA LOCAL INFILE '/tmp/cap/infile.tsv' INTO TABLE t (a, b)"
    },
    {'<', 24, "\024\000\000\001\373/tmp/cap/infile.tsv"
    },
    {'>', 25, "\021\000\000\00210\011ten\01211\011eleven\012\000\000\000\003"
    },
    {'<', 29, "\031\000\000\004\377\377\377\001\002\002\000\000\000\017End bulk insert"
    },
    {'<', 59, "7\000\000\005\000\002\000\002\000\000\000/Records: 2  Deleted: 0  Skipped: 0  Warnings: 0"
    },
    {'>', 5, "\001\000\000\000\001"
    },
};
/* The raw client's last commands, the same in every raw capture: a
 * prepare that fails with a syntax error, PING, INIT_DB and FIELD_LIST. */
#define RAW_TAIL                                                                                            \
    {'>', 12, "\010\000\000\000\026SELEC 1"                                                                 \
    },                                                                                                      \
    {'<', 168, "\244\000\000\001\377(\004#42000You have an error in your SQL syntax; check the manual that" \
              " corresponds to your MariaDB server version for the right syntax to use near 'SELEC 1' at "  \
              "line 1"                                                                                      \
    },                                                                                                      \
    {'>', 5, "\001\000\000\000\016"                                                                         \
    },                                                                                                      \
    {'<', 11, "\007\000\000\001\000\000\000\002\000\000\000"                                                \
    },                                                                                                      \
    {'>', 8, "\004\000\000\000\002app"                                                                      \
    },                                                                                                      \
    {'<', 11, "\007\000\000\001\000\000\000\002\000\000\000"                                                \
    },                                                                                                      \
    {'>', 7, "\003\000\000\000\004t\000"                                                                    \
    }

static const struct seg my_raw_eof[] = {
    {'<', 104, "d\000\000\000\0125.5.5-10.11.19-MariaDB-0+deb12u1\000\010\000\000\000IfGoz8D0\000\376\367\010"
              "\002\000\377\201\025\000\000\000\000\000\000\035\000\000\000`r@'\077F&(7|+^\000mysql_nativ"
              "e_password\000"
    },
    {'>', 68, "@\000\000\001\215\242\017\000\000\000\000\001!\000\000\000\000\000\000\000\000\000\000\000"
              "\000\000\000\000\000\000\000\000\000\000\000\000nopw\000\000app\000mysql_native_password\000"
    },
    {'<', 11, "\007\000\000\002\000\000\000\002\000\000\000"
    },
    {'>', 13, "\011\000\000\000\003SELECT 1"
    },
    {'<', 56, "\001\000\000\001\001\027\000\000\002\003def\000\000\000\0011\000\014\077\000\001\000\000\000"
              "\003\201\000\000\000\000\005\000\000\003\376\000\000\002\000\002\000\000\004\0011\005\000\000"
              "\005\376\000\000\002\000"
    },
    {'>', 78, "J\000\000\000\003SELECT a, b FROM t WHERE a < 3 ORDER BY a; SELECT * FROM nosuch; SELECT 2"
    },
    {'<', 105, "\001\000\000\001\002\035\000\000\002\003def\003app\001t\001t\001a\001a\014\077\000\013\000"
              "\000\000\003\003B\000\000\000\035\000\000\003\003def\003app\001t\001t\001b\001b\014!\000<\000"
              "\000\000\375\000\000\000\000\000\005\000\000\004\376\000\000\012\000\004\000\000\005\0011\001"
              "x\004\000\000\006\0012\001q\005\000\000\007\376\000\000\012\000"
    },
    {'<', 45, ")\000\000\010\377z\004#42S02Table 'app.nosuch' doesn't exist"
    },
    {'>', 13, "\011\000\000\000\003CALL p()"
    },
    {'<', 56, "\001\000\000\001\001\027\000\000\002\003def\000\000\000\001x\000\014\077\000\001\000\000\000"
              "\003\201\000\000\000\000\005\000\000\003\376\000\000\012\000\002\000\000\004\0011\005\000\000"
              "\005\376\000\000\012\000"
    },
    {'<', 85, "\001\000\000\006\002\027\000\000\007\003def\000\000\000\001y\000\014\077\000\001\000\000\000"
              "\003\201\000\000\000\000\027\000\000\010\003def\000\000\000\001w\000\014!\000\003\000\000\000"
              "\375\001\000'\000\000\005\000\000\011\376\000\000\012\000\004\000\000\012\0012\001z\005\000"
              "\000\013\376\000\000\012\000"
    },
    {'<', 11, "\007\000\000\014\000\000\000\002\000\000\000"
    },
    {'>', 48, ",\000\000\000\026  SELECT a, b FROM t WHERE a > \077 ORDER BY a"
    },
    {'<', 127, "\014\000\000\001\000\002\000\000\000\002\000\001\000\000\000\000\027\000\000\002\003def\000"
              "\000\000\001\077\000\014\077\000\000\000\000\000\006\200\000\000\000\000\005\000\000\003\376"
              "\000\000\002\000\035\000\000\004\003def\003app\001t\001t\001a\001a\014\077\000\013\000\000"
              "\000\003\003B\000\000\000\035\000\000\005\003def\003app\001t\001t\001b\001b\014!\000<\000\000"
              "\000\375\000\000\000\000\000\005\000\000\006\376\000\000\002\000"
    },
    {'>', 35, "\037\000\000\000\026UPDATE t SET b = \077 WHERE a = \077"
    },
    {'<', 79, "\014\000\000\001\000\003\000\000\000\000\000\002\000\000\000\000\027\000\000\002\003def\000"
              "\000\000\001\077\000\014\077\000\000\000\000\000\006\200\000\000\000\000\027\000\000\003\003"
              "def\000\000\000\001\077\000\014\077\000\000\000\000\000\006\200\000\000\000\000\005\000\000"
              "\004\376\000\000\002\000"
    },
    {'>', 22, "\022\000\000\000\027\002\000\000\000\000\001\000\000\000\000\001\003\000\001\000\000\000"
    },
    {'<', 180, "\001\000\000\001\002\035\000\000\002\003def\003app\001t\001t\001a\001a\014\077\000\013\000"
              "\000\000\003\003B\000\000\000\035\000\000\003\003def\003app\001t\001t\001b\001b\014!\000<\000"
              "\000\000\375\000\000\000\000\000\005\000\000\004\376\000\000\002\000\010\000\000\005\000\000"
              "\002\000\000\000\001q\010\000\000\006\000\000\003\000\000\000\001q\010\000\000\007\000\000"
              "\004\000\000\000\001q\010\000\000\010\000\000\005\000\000\000\001q\010\000\000\011\000\000"
              "\006\000\000\000\001q\012\000\000\012\000\000\012\000\000\000\003ten\015\000\000\013\000\000"
              "\013\000\000\000\006eleven\005\000\000\014\376\000\000\002\000"
    },
    {'>', 28, "\030\000\000\000\027\003\000\000\000\000\001\000\000\000\000\001\375\000\003\000\003abc\002"
              "\000\000\000"
    },
    {'<', 52, "0\000\000\001\000\001\000\002\000\000\000(Rows matched: 1  Changed: 1  Warnings: 0"
    },
    {'>', 9, "\005\000\000\000\032\002\000\000\000"
    },
    {'<', 11, "\007\000\000\001\000\000\000\002\000\000\000"
    },
    {'>', 9, "\005\000\000\000\031\003\000\000\000"
    },
    {'>', 14, "\012\000\000\000\027\003\000\000\000\000\001\000\000\000"
    },
    {'<', 80, "L\000\000\001\377\333\004#HY000Unknown prepared statement handler (3) given to mysqld_stmt"
              "_execute"
    },
    RAW_TAIL,
    {'<', 78, "\037\000\000\001\003def\003app\001t\001t\001a\001a\014\077\000\013\000\000\000\003\003B\000"
              "\000\000\0010\036\000\000\002\003def\003app\001t\001t\001b\001b\014!\000<\000\000\000\375\000"
              "\000\000\000\000\373\005\000\000\003\376\000\000\002\000"
    },
    {'>', 5, "\001\000\000\000\011"
    },
    {'<', 117, "q\000\000\001Uptime: 27  Threads: 1  Questions: 49  Slow queries: 0  Opens: 22  Open table"
              "s: 15  Queries per second avg: 1.814"
    },
    {'>', 5, "\001\000\000\000\001"
    },
};
static const struct seg my_raw_deprecate[] = {
    {'<', 104, "d\000\000\000\0125.5.5-10.11.19-MariaDB-0+deb12u1\000\011\000\000\000}PWE1e+D\000\376\367\010"
              "\002\000\377\201\025\000\000\000\000\000\000\035\000\000\000ST.)\042l}PVB$,\000mysql_nativ"
              "e_password\000"
    },
    {'>', 68, "@\000\000\001\215\242\017\001\000\000\000\001!\000\000\000\000\000\000\000\000\000\000\000"
              "\000\000\000\000\000\000\000\000\000\000\000\000nopw\000\000app\000mysql_native_password\000"
    },
    {'<', 11, "\007\000\000\002\000\000\000\002\000\000\000"
    },
    {'>', 13, "\011\000\000\000\003SELECT 1"
    },
    {'<', 49, "\001\000\000\001\001\027\000\000\002\003def\000\000\000\0011\000\014\077\000\001\000\000\000"
              "\003\201\000\000\000\000\002\000\000\003\0011\007\000\000\004\376\000\000\002\000\000\000"
    },
    {'>', 78, "J\000\000\000\003SELECT a, b FROM t WHERE a < 3 ORDER BY a; SELECT * FROM nosuch; SELECT 2"
    },
    {'<', 145, "\001\000\000\001\002\035\000\000\002\003def\003app\001t\001t\001a\001a\014\077\000\013\000"
              "\000\000\003\003B\000\000\000\035\000\000\003\003def\003app\001t\001t\001b\001b\014!\000<\000"
              "\000\000\375\000\000\000\000\000\004\000\000\004\0011\001x\006\000\000\005\0012\003abc\007"
              "\000\000\006\376\000\000\012\000\000\000)\000\000\007\377z\004#42S02Table 'app.nosuch' doe"
              "sn't exist"
    },
    {'>', 13, "\011\000\000\000\003CALL p()"
    },
    {'<', 138, "\001\000\000\001\001\027\000\000\002\003def\000\000\000\001x\000\014\077\000\001\000\000\000"
              "\003\201\000\000\000\000\002\000\000\003\0011\007\000\000\004\376\000\000\012\000\000\000\001"
              "\000\000\005\002\027\000\000\006\003def\000\000\000\001y\000\014\077\000\001\000\000\000\003"
              "\201\000\000\000\000\027\000\000\007\003def\000\000\000\001w\000\014!\000\003\000\000\000\375"
              "\001\000'\000\000\004\000\000\010\0012\001z\007\000\000\011\376\000\000\012\000\000\000\007"
              "\000\000\012\000\000\000\002\000\000\000"
    },
    {'>', 48, ",\000\000\000\026  SELECT a, b FROM t WHERE a > \077 ORDER BY a"
    },
    {'<', 109, "\014\000\000\001\000\005\000\000\000\002\000\001\000\000\000\000\027\000\000\002\003def\000"
              "\000\000\001\077\000\014\077\000\000\000\000\000\006\200\000\000\000\000\035\000\000\003\003"
              "def\003app\001t\001t\001a\001a\014\077\000\013\000\000\000\003\003B\000\000\000\035\000\000"
              "\004\003def\003app\001t\001t\001b\001b\014!\000<\000\000\000\375\000\000\000\000\000"
    },
    {'>', 35, "\037\000\000\000\026UPDATE t SET b = \077 WHERE a = \077"
    },
    {'<', 70, "\014\000\000\001\000\006\000\000\000\000\000\002\000\000\000\000\027\000\000\002\003def\000"
              "\000\000\001\077\000\014\077\000\000\000\000\000\006\200\000\000\000\000\027\000\000\003\003"
              "def\000\000\000\001\077\000\014\077\000\000\000\000\000\006\200\000\000\000\000"
    },
    {'>', 22, "\022\000\000\000\027\005\000\000\000\000\001\000\000\000\000\001\003\000\001\000\000\000"
    },
    {'<', 175, "\001\000\000\001\002\035\000\000\002\003def\003app\001t\001t\001a\001a\014\077\000\013\000"
              "\000\000\003\003B\000\000\000\035\000\000\003\003def\003app\001t\001t\001b\001b\014!\000<\000"
              "\000\000\375\000\000\000\000\000\012\000\000\004\000\000\002\000\000\000\003abc\010\000\000"
              "\005\000\000\003\000\000\000\001q\010\000\000\006\000\000\004\000\000\000\001q\010\000\000"
              "\007\000\000\005\000\000\000\001q\010\000\000\010\000\000\006\000\000\000\001q\012\000\000"
              "\011\000\000\012\000\000\000\003ten\015\000\000\012\000\000\013\000\000\000\006eleven\007\000"
              "\000\013\376\000\000\002\000\000\000"
    },
    {'>', 28, "\030\000\000\000\027\006\000\000\000\000\001\000\000\000\000\001\375\000\003\000\003abc\002"
              "\000\000\000"
    },
    {'<', 52, "0\000\000\001\000\000\000\002\000\000\000(Rows matched: 1  Changed: 0  Warnings: 0"
    },
    {'>', 9, "\005\000\000\000\032\005\000\000\000"
    },
    {'<', 11, "\007\000\000\001\000\000\000\002\000\000\000"
    },
    {'>', 9, "\005\000\000\000\031\006\000\000\000"
    },
    {'>', 14, "\012\000\000\000\027\006\000\000\000\000\001\000\000\000"
    },
    {'<', 80, "L\000\000\001\377\333\004#HY000Unknown prepared statement handler (6) given to mysqld_stmt"
              "_execute"
    },
    RAW_TAIL,
    {'<', 80, "\037\000\000\001\003def\003app\001t\001t\001a\001a\014\077\000\013\000\000\000\003\003B\000"
              "\000\000\0010\036\000\000\002\003def\003app\001t\001t\001b\001b\014!\000<\000\000\000\375\000"
              "\000\000\000\000\373\007\000\000\003\376\000\000\002\000\000\000"
    },
    {'>', 5, "\001\000\000\000\011"
    },
    {'<', 117, "q\000\000\001Uptime: 31  Threads: 1  Questions: 66  Slow queries: 0  Opens: 22  Open table"
              "s: 15  Queries per second avg: 2.129"
    },
    {'>', 5, "\001\000\000\000\001"
    },
};
static const struct seg my_switch[] = {
    {'<', 104, "d\000\000\000\0125.5.5-10.11.19-MariaDB-0+deb12u1\000\012\000\000\000y|&AUj5h\000\376\367\010"
              "\002\000\377\201\025\000\000\000\000\000\000\035\000\000\000-CJ,;%Gt5IM(\000mysql_native_p"
              "assword\000"
    },
    {'>', 99, "_\000\000\001\215\242\017\001\000\000\000\001!\000\000\000\000\000\000\000\000\000\000\000"
              "\000\000\000\000\000\000\000\000\000\000\000\000app\000 \001\001\001\001\001\001\001\001\001"
              "\001\001\001\001\001\001\001\001\001\001\001\001\001\001\001\001\001\001\001\001\001\001\001"
              "app\000caching_sha2_password\000"
    },
    {'<', 48, ",\000\000\002\376mysql_native_password\000y|&AUj5h-CJ,;%Gt5IM(\000"
    },
    {'>', 24, "\024\000\000\003\343\362W\216v4\346\220\256IZb\022\231\310\241Y;\077\262"
    },
    {'<', 11, "\007\000\000\004\000\000\000\002\000\000\000"
    },
    {'>', 13, "\011\000\000\000\003SELECT 1"
    },
    {'<', 49, "\001\000\000\001\001\027\000\000\002\003def\000\000\000\0011\000\014\077\000\001\000\000\000"
              "\003\201\000\000\000\000\002\000\000\003\0011\007\000\000\004\376\000\000\002\000\000\000"
    },
    {'>', 78, "J\000\000\000\003SELECT a, b FROM t WHERE a < 3 ORDER BY a; SELECT * FROM nosuch; SELECT 2"
    },
    {'<', 100, "\001\000\000\001\002\035\000\000\002\003def\003app\001t\001t\001a\001a\014\077\000\013\000"
              "\000\000\003\003B\000\000\000\035\000\000\003\003def\003app\001t\001t\001b\001b\014!\000<\000"
              "\000\000\375\000\000\000\000\000\004\000\000\004\0011\001x\006\000\000\005\0012\003abc\007"
              "\000\000\006\376\000\000\012\000\000\000"
    },
    {'<', 45, ")\000\000\007\377z\004#42S02Table 'app.nosuch' doesn't exist"
    },
    {'>', 13, "\011\000\000\000\003CALL p()"
    },
    {'<', 49, "\001\000\000\001\001\027\000\000\002\003def\000\000\000\001x\000\014\077\000\001\000\000\000"
              "\003\201\000\000\000\000\002\000\000\003\0011\007\000\000\004\376\000\000\012\000\000\000"
    },
    {'<', 78, "\001\000\000\005\002\027\000\000\006\003def\000\000\000\001y\000\014\077\000\001\000\000\000"
              "\003\201\000\000\000\000\027\000\000\007\003def\000\000\000\001w\000\014!\000\003\000\000\000"
              "\375\001\000'\000\000\004\000\000\010\0012\001z\007\000\000\011\376\000\000\012\000\000\000"
    },
    {'<', 11, "\007\000\000\012\000\000\000\002\000\000\000"
    },
    {'>', 48, ",\000\000\000\026  SELECT a, b FROM t WHERE a > \077 ORDER BY a"
    },
    {'<', 109, "\014\000\000\001\000\010\000\000\000\002\000\001\000\000\000\000\027\000\000\002\003def\000"
              "\000\000\001\077\000\014\077\000\000\000\000\000\006\200\000\000\000\000\035\000\000\003\003"
              "def\003app\001t\001t\001a\001a\014\077\000\013\000\000\000\003\003B\000\000\000\035\000\000"
              "\004\003def\003app\001t\001t\001b\001b\014!\000<\000\000\000\375\000\000\000\000\000"
    },
    {'>', 35, "\037\000\000\000\026UPDATE t SET b = \077 WHERE a = \077"
    },
    {'<', 70, "\014\000\000\001\000\011\000\000\000\000\000\002\000\000\000\000\027\000\000\002\003def\000"
              "\000\000\001\077\000\014\077\000\000\000\000\000\006\200\000\000\000\000\027\000\000\003\003"
              "def\000\000\000\001\077\000\014\077\000\000\000\000\000\006\200\000\000\000\000"
    },
    {'>', 22, "\022\000\000\000\027\010\000\000\000\000\001\000\000\000\000\001\003\000\001\000\000\000"
    },
    {'<', 175, "\001\000\000\001\002\035\000\000\002\003def\003app\001t\001t\001a\001a\014\077\000\013\000"
              "\000\000\003\003B\000\000\000\035\000\000\003\003def\003app\001t\001t\001b\001b\014!\000<\000"
              "\000\000\375\000\000\000\000\000\012\000\000\004\000\000\002\000\000\000\003abc\010\000\000"
              "\005\000\000\003\000\000\000\001q\010\000\000\006\000\000\004\000\000\000\001q\010\000\000"
              "\007\000\000\005\000\000\000\001q\010\000\000\010\000\000\006\000\000\000\001q\012\000\000"
              "\011\000\000\012\000\000\000\003ten\015\000\000\012\000\000\013\000\000\000\006eleven\007\000"
              "\000\013\376\000\000\002\000\000\000"
    },
    {'>', 28, "\030\000\000\000\027\011\000\000\000\000\001\000\000\000\000\001\375\000\003\000\003abc\002"
              "\000\000\000"
    },
    {'<', 52, "0\000\000\001\000\000\000\002\000\000\000(Rows matched: 1  Changed: 0  Warnings: 0"
    },
    {'>', 9, "\005\000\000\000\032\010\000\000\000"
    },
    {'<', 11, "\007\000\000\001\000\000\000\002\000\000\000"
    },
    {'>', 9, "\005\000\000\000\031\011\000\000\000"
    },
    {'>', 14, "\012\000\000\000\027\011\000\000\000\000\001\000\000\000"
    },
    {'<', 80, "L\000\000\001\377\333\004#HY000Unknown prepared statement handler (9) given to mysqld_stmt"
              "_execute"
    },
    RAW_TAIL,
    {'<', 80, "\037\000\000\001\003def\003app\001t\001t\001a\001a\014\077\000\013\000\000\000\003\003B\000"
              "\000\000\0010\036\000\000\002\003def\003app\001t\001t\001b\001b\014!\000<\000\000\000\375\000"
              "\000\000\000\000\373\007\000\000\003\376\000\000\002\000\000\000"
    },
    {'>', 5, "\001\000\000\000\011"
    },
    {'<', 117, "q\000\000\001Uptime: 36  Threads: 1  Questions: 83  Slow queries: 0  Opens: 22  Open table"
              "s: 15  Queries per second avg: 2.305"
    },
    {'>', 5, "\001\000\000\000\001"
    },
};
static const struct seg my_badpw[] = {
    {'<', 104, "d\000\000\000\0125.5.5-10.11.19-MariaDB-0+deb12u1\000\013\000\000\000fDb@Y},]\000\376\367\010"
              "\002\000\377\201\025\000\000\000\000\000\000\035\000\000\000rFDbBdN:t]Sj\000mysql_native_p"
              "assword\000"
    },
    {'>', 87, "S\000\000\001\215\242\017\000\000\000\000\001!\000\000\000\000\000\000\000\000\000\000\000"
              "\000\000\000\000\000\000\000\000\000\000\000\000app\000\024\315'\037\005Y5=\003\2511\306\303"
              "\370Fk,\237\270=\010app\000mysql_native_password\000"
    },
    {'<', 75, "G\000\000\002\377\025\004#28000Access denied for user 'app'@'localhost' (using password: Y"
              "ES)"
    },
};

/* ---------------------------------------------------------------- expected */

/* the CLI sends each statement on its own; LOAD is not a keyword of the
 * list (OTHER); its file contents and closing empty packet are not commands */
#define WANT_CLI_FE                                                            \
    "HS QUERY:SELECT QUERY:INSERT QUERY:SELECT QUERY:SELECT QUERY:UPDATE "     \
    "QUERY:SELECT QUERY:CALL QUERY:PREPARE QUERY:SET QUERY:EXECUTE "           \
    "QUERY:DEALLOCATE QUERY QUIT*"
/* CALL: two result sets and the procedure's OK; LOAD DATA LOCAL: the
 * request for the file, a progress report (skipped), the OK */
#define WANT_CLI_BE                                                            \
    "GREET CONNECT[n1] QUERY:SELECT[r1,n1] QUERY:INSERT[a3,n1] "               \
    "QUERY:SELECT[r6,n1] QUERY:SELECT!1146:42S02 QUERY:UPDATE[a5,n1] "         \
    "QUERY:SELECT[r1,n1] QUERY:CALL[r2,n3] QUERY:PREPARE[n1] QUERY:SET[n1] "   \
    "QUERY:EXECUTE[r1,n1] QUERY:DEALLOCATE[n1] QUERY[a2,n1]L"
/* the raw client: statement ids differ per session, so the frontend
 * expectations are given per capture below */
#define RAW_FE(a, b)                                                           \
    "HS QUERY:SELECT QUERY:SELECT QUERY:CALL STMT_PREPARE:SELECT "             \
    "STMT_PREPARE:UPDATE STMT_EXECUTE#" a " STMT_EXECUTE#" b " STMT_RESET#" a  \
    " STMT_CLOSE#" b "* STMT_EXECUTE#" b " STMT_PREPARE PING INIT_DB "         \
    "FIELD_LIST STATISTICS QUIT*"
/* the multi-statement query fails in its second statement: one answer,
 * the first result's rows, then the error; EXECUTE recalls the prepared
 * statement's op by id; the closed statement's EXECUTE fails (op unknown) */
#define RAW_BE(a, b, aff)                                                      \
    "GREET CONNECT[n1] QUERY:SELECT[r1,n1] QUERY:SELECT!1146:42S02[r2,n1] "    \
    "QUERY:CALL[r2,n3] STMT_PREPARE:SELECT[n1,i" a "] STMT_PREPARE:UPDATE[n1,i" \
    b "] STMT_EXECUTE:SELECT[r7,n1,i" a "] STMT_EXECUTE:UPDATE[" aff "n1,i" b  \
    "] STMT_RESET:SELECT[n1,i" a "] STMT_EXECUTE!1243:HY000[i" b "] "          \
    "STMT_PREPARE!1064:42000 PING[n1] INIT_DB[n1] FIELD_LIST STATISTICS"
#define WANT_RAW_EOF_FE RAW_FE("2", "3")
#define WANT_RAW_EOF_BE RAW_BE("2", "3", "a1,")
#define WANT_RAW_DEP_FE RAW_FE("5", "6")
#define WANT_RAW_DEP_BE RAW_BE("5", "6", "")
#define WANT_SWITCH_FE RAW_FE("8", "9")
#define WANT_SWITCH_BE RAW_BE("8", "9", "")

/* ---------------------------------------------------------------- traces */

#define DB(x) shim_mysql_##x
#define DB_RC(x) SHIM_MYSQL_##x
#define DB_STATE struct shim_mysql
#include "trace_db.h"

/* same_event: every byte (the events are filled from one 0xA5 pattern). */
static int same_event(const struct shim_mysql_event *x, const struct shim_mysql_event *y)
{
    return memcmp(x, y, sizeof(*x)) == 0;
}

static void check_event(const struct shim_mysql_event *e)
{
    CHECK(e->sqlstate[5] == 0);
    CHECK(e->op < SHIM_SQL_OP_COUNT);
}

/* ---------------------------------------------------------------- rendering */

/* short_cmd: the command's name without "COM_". */
static const char *short_cmd(int cmd)
{
    const char *n = shim_mysql_cmd_name(cmd);
    return strncmp(n, "COM_", 4) == 0 ? n + 4 : n;
}

/*
 * render_event: the token of one event (render, trace_db.h, puts them
 * one per record, space separated):
 *   frontend: HS (HandshakeResponse; ":SSL" / ":ZIP" when TLS or
 *             compression follows), CMD[:op][#stmt_id] for a command ("*"
 *             when the server does not answer it)
 *   backend:  GREET, then CMD[:op] for an answer with "!code:sqlstate" on
 *             error and [r<rows>,a<affected>,n<results>,i<stmt id>] (the
 *             nonzero ones), C cursor, L LOAD DATA LOCAL, # desync, @ resync
 *   (BAD / ENCRYPTED when the stream stops: render's).
 */
static void render_event(const struct shim_mysql_event *e, char *out, size_t cap, size_t *n)
{
    const char *sep = "[";
#define PUT(...) appendf(out, cap, n, __VA_ARGS__)
    switch (e->type) {
    case SHIM_MYSQL_EV_GREETING: PUT("GREET"); break;
    case SHIM_MYSQL_EV_HANDSHAKE:
        PUT("HS%s%s", (e->flags & SHIM_MYSQL_F_SSL) ? ":SSL" : "",
            (e->flags & SHIM_MYSQL_F_COMPRESS) ? ":ZIP" : "");
        break;
    case SHIM_MYSQL_EV_REQ:
        PUT("%s", short_cmd(e->cmd));
        if (e->op)
            PUT(":%s", shim_sql_op_name(e->op));
        if (e->stmt_id)
            PUT("#%u", (unsigned)e->stmt_id);
        if (e->flags & SHIM_MYSQL_F_NORESP)
            PUT("*");
        break;
    case SHIM_MYSQL_EV_RESP_DONE:
        PUT("%s", short_cmd(e->cmd));
        if (e->op)
            PUT(":%s", shim_sql_op_name(e->op));
        if (e->flags & SHIM_MYSQL_F_ERROR)
            PUT("!%u:%s", e->err_code, e->sqlstate);
#define FIELD(c, v) do { if (v) { PUT("%s%c%llu", sep, c, (unsigned long long)(v)); sep = ","; } } while (0)
        FIELD('r', e->rows);
        FIELD('a', e->affected);
        FIELD('n', e->results);
        FIELD('i', e->stmt_id);
#undef FIELD
        if (sep[0] == ',')
            PUT("]");
        if (e->flags & SHIM_MYSQL_F_CURSOR)
            PUT("C");
        if (e->flags & SHIM_MYSQL_F_INFILE)
            PUT("L");
        if (e->flags & SHIM_MYSQL_F_DESYNC)
            PUT("#");
        if (e->flags & SHIM_MYSQL_F_RESYNC)
            PUT("@");
        break;
    default: PUT("?%d", e->type); break;
    }
#undef PUT
}

/* ---------------------------------------------------------------- capture tests */

static void test_mariadb_cli(void)
{
    check_session("mariadb cli", my_cli, NSEG(my_cli), WANT_CLI_FE, WANT_CLI_BE);
}

static void test_raw_eof(void)
{
    check_session("raw, EOF packets", my_raw_eof, NSEG(my_raw_eof), WANT_RAW_EOF_FE, WANT_RAW_EOF_BE);
}

static void test_raw_deprecate_eof(void)
{
    check_session("raw, CLIENT_DEPRECATE_EOF", my_raw_deprecate, NSEG(my_raw_deprecate),
                  WANT_RAW_DEP_FE, WANT_RAW_DEP_BE);
}

static void test_auth_switch(void)
{
    check_session("auth switch", my_switch, NSEG(my_switch), WANT_SWITCH_FE, WANT_SWITCH_BE);
}

static void test_bad_password(void)
{
    check_session("bad password", my_badpw, NSEG(my_badpw), "HS", "GREET CONNECT!1045:28000");
}

/* ---------------------------------------------------------------- synthetic streams */

/* put_pkt: one packet: 3-byte length, sequence id, payload. */
static void put_pkt(struct buf *b, uint8_t seq, const void *p, size_t n)
{
    uint8_t h[4] = {(uint8_t)n, (uint8_t)(n >> 8), (uint8_t)(n >> 16), seq};
    put(b, h, 4);
    put(b, p, n);
}

/* PKT(b, seq, "literal"): a literal payload (embedded NULs kept). */
#define PKT(b, s, lit) put_pkt((b), (s), (lit), sizeof(lit) - 1)

/* A MariaDB 10.11 greeting (from the captures): capabilities 0x81fff7fe
 * plus MariaDB's extended ones. */
static const char greeting[] =
    "\012" "5.5.5-10.11.19-MariaDB-0+deb12u1\000" "\010\000\000\000" "IfGoz8D0" "\000"
    "\376\367" "\010" "\002\000" "\377\201" "\025" "\000\000\000\000\000\000" "\035\000\000\000"
    "`r@'?F&(7|+^\000" "mysql_native_password\000";

static void put_greeting(struct buf *b)
{
    put_pkt(b, 0, greeting, sizeof(greeting) - 1);
}

/* put_response: a HandshakeResponse41 with the given capabilities. */
static void put_response(struct buf *b, uint32_t caps)
{
    uint8_t p[64];
    size_t n = 0;
    memset(p, 0, sizeof(p));
    p[0] = (uint8_t)caps;
    p[1] = (uint8_t)(caps >> 8);
    p[2] = (uint8_t)(caps >> 16);
    p[3] = (uint8_t)(caps >> 24);
    p[7] = 1;  /* max packet 16M */
    p[8] = 33; /* charset */
    n = 32;
    memcpy(p + n, "nopw\0\0app\0", 10);
    n += 10;
    put_pkt(b, 1, p, n);
}

#define CAPS_BASE 0x000fa28du /* PROTOCOL_41, SECURE_CONNECTION, PLUGIN_AUTH, MULTI_* ... */

static const size_t GREET_LEN = sizeof(greeting) - 1 + 4;

/*
 * A synthetic session in the captures' form: packets appended in the order
 * they travel, consecutive ones of one direction joined into one segment,
 * so check_session gives each frontend event to the backend where it was
 * sent.
 */
struct script {
    struct seg segs[MAXSEG];
    size_t n;
    char bytes[16384];
    size_t used;
};

static struct script scr;

static void scr_reset(void)
{
    memset(&scr, 0, sizeof(scr));
}

static void scr_pkt(char dir, uint8_t seq, const void *p, size_t n)
{
    struct seg *s;
    if (scr.used + n + 4 > sizeof(scr.bytes) || scr.n >= MAXSEG) {
        fprintf(stderr, "script too big\n");
        exit(2);
    }
    if (scr.n == 0 || scr.segs[scr.n - 1].dir != dir) {
        s = &scr.segs[scr.n++];
        s->dir = dir;
        s->len = 0;
        s->b = scr.bytes + scr.used;
    }
    s = &scr.segs[scr.n - 1];
    scr.bytes[scr.used++] = (char)(uint8_t)n;
    scr.bytes[scr.used++] = (char)(uint8_t)(n >> 8);
    scr.bytes[scr.used++] = (char)(uint8_t)(n >> 16);
    scr.bytes[scr.used++] = (char)seq;
    memcpy(scr.bytes + scr.used, p, n);
    scr.used += n;
    s->len += (uint32_t)(n + 4);
}

#define FE(seq, lit) scr_pkt('>', (seq), (lit), sizeof(lit) - 1)
#define BE(seq, lit) scr_pkt('<', (seq), (lit), sizeof(lit) - 1)

/* scr_handshake: greeting, a response with caps, the OK. */
static void scr_handshake(uint32_t caps)
{
    struct buf b = {{0}, 0};
    scr_pkt('<', 0, greeting, sizeof(greeting) - 1);
    put_response(&b, caps);
    scr_pkt('>', 1, b.b + 4, b.n - 4);
    BE(2, "\0\0\0\2\0\0\0");
}


static void test_ssl_and_compression(void)
{
    struct buf fe = {{0}, 0}, be = {{0}, 0};
    uint8_t ssl[32];
    static const uint8_t tls[] = {0x16, 0x03, 0x01, 0x00, 0x05, 'h', 'e', 'l', 'l', 'o'};

    /* SSLRequest: the 32-byte head of a HandshakeResponse with CLIENT_SSL */
    memset(ssl, 0, sizeof(ssl));
    ssl[0] = 0x8d;
    ssl[1] = 0xaa; /* 0xa28d | CLIENT_SSL */
    ssl[2] = 0x0f;
    ssl[7] = 1;
    ssl[8] = 33;
    put_pkt(&fe, 1, ssl, sizeof(ssl));
    put(&fe, tls, sizeof(tls));
    check_stream_at("ssl fe", SHIM_MYSQL_FRONTEND, &fe, NULL, 0, "HS:SSL ENCRYPTED", -1);
    CHECK_EQ(tr_whole.r[1].off, 36);
    frontend_trace(&fe, &tr_syn);
    put_greeting(&be);
    put(&be, tls, sizeof(tls));
    check_stream_at("ssl be", SHIM_MYSQL_BACKEND, &be, &tr_syn, GREET_LEN, "GREET ENCRYPTED", -1);

    /* compression: the frontend stops after its response, the backend
     * after the handshake's OK */
    fe.n = 0;
    put_response(&fe, CAPS_BASE | SHIM_MYSQL_CLIENT_COMPRESS);
    put(&fe, "\x10\0\0\0\0\0\0", 7);
    check_stream_at("compress fe", SHIM_MYSQL_FRONTEND, &fe, NULL, 0, "HS:ZIP ENCRYPTED", -1);
    frontend_trace(&fe, &tr_syn);
    be.n = 0;
    put_greeting(&be);
    PKT(&be, 2, "\0\0\0\2\0\0\0");
    put(&be, "\x10\0\0\0\0\0\0", 7);
    check_stream_at("compress be", SHIM_MYSQL_BACKEND, &be, &tr_syn, GREET_LEN,
                 "GREET CONNECT[n1] ENCRYPTED", -1);
}

/* handshake: greeting + OK on the backend, response on the frontend; the
 * frontend trace is left in tr_syn. */
static void handshake(struct buf *fe, struct buf *be, uint32_t caps)
{
    put_response(fe, caps);
    put_greeting(be);
    PKT(be, 2, "\0\0\0\2\0\0\0");
}

static void test_bad_inputs(void)
{
    struct buf b = {{0}, 0};
    struct shim_mysql st;
    struct shim_mysql_event ev;
    size_t c;

    /* greetings */
    put_pkt(&b, 1, greeting, sizeof(greeting) - 1);
    check_stream_at("greeting seq 1", SHIM_MYSQL_BACKEND, &b, NULL, 0, "BAD", -1);
    b.n = 0;
    PKT(&b, 0, "\0114.0.1\0");
    check_stream_at("protocol 9", SHIM_MYSQL_BACKEND, &b, NULL, 0, "BAD", -1);
    CHECK_EQ(tr_whole.r[0].off, 4);
    b.n = 0;
    put(&b, "HTTP/1.1 200 OK\r\n\r\n", 19);
    check_stream_at("http on backend", SHIM_MYSQL_BACKEND, &b, NULL, 0, "BAD", -1);
    CHECK_EQ(tr_whole.r[0].off, 4);
    b.n = 0;
    PKT(&b, 0, "\377\020\004Too many connections");
    check_stream_at("greeting ERR", SHIM_MYSQL_BACKEND, &b, NULL, 0, "CONNECT!1040:", 1);
    b.n = 0;
    put_greeting(&b);
    PKT(&b, 2, "\x07junk");
    check_stream_at("bad auth answer", SHIM_MYSQL_BACKEND, &b, NULL, 0, "GREET BAD", -1);
    b.n = 0;
    put_greeting(&b);
    PKT(&b, 2, "");
    check_stream_at("empty server packet", SHIM_MYSQL_BACKEND, &b, NULL, 0, "GREET BAD", -1);

    /* commands */
    b.n = 0;
    put_response(&b, CAPS_BASE);
    PKT(&b, 0, "\x7fhello");
    check_stream_at("unknown command", SHIM_MYSQL_FRONTEND, &b, NULL, 0, "HS BAD", -1);
    CHECK_EQ(tr_whole.r[1].off, 46 + 4);
    b.n = 0;
    put_response(&b, CAPS_BASE);
    PKT(&b, 0, "");
    check_stream_at("empty command", SHIM_MYSQL_FRONTEND, &b, NULL, 0, "HS BAD", -1);
    b.n = 0;
    put(&b, "GET / HTTP/1.1\r\n\r\n", 18);
    check_stream_at("http on frontend", SHIM_MYSQL_FRONTEND, &b, NULL, 0, "", 0);

    /* answers whose structure lies */
    {
        struct buf fe = {{0}, 0}, be = {{0}, 0};
        handshake(&fe, &be, CAPS_BASE);
        PKT(&fe, 0, "\003SELECT 1");
        frontend_trace(&fe, &tr_syn);
        b = be;
        PKT(&b, 1, "\0"); /* an OK with nothing in it is still an OK */
        check_stream_at("short OK", SHIM_MYSQL_BACKEND, &b, &tr_syn, GREET_LEN, "GREET CONNECT[n1] QUERY:SELECT[n1]", 1);
        b = be;
        PKT(&b, 1, "\xfc\x01"); /* a column count cut short */
        check_stream_at("bad column count", SHIM_MYSQL_BACKEND, &b, &tr_syn, GREET_LEN, "GREET CONNECT[n1] BAD", -1);
        b = be;
        PKT(&b, 1, "\374\001\000\005"); /* 256 columns, then a "metadata follows" byte of 5 */
        check_stream_at("long column count", SHIM_MYSQL_BACKEND, &b, &tr_syn, GREET_LEN, "GREET CONNECT[n1] BAD", -1);
        b = be;
        PKT(&b, 1, "\x01");
        PKT(&b, 2, "\003abc\0\0\0");
        check_stream_at("column def", SHIM_MYSQL_BACKEND, &b, &tr_syn, GREET_LEN, "GREET CONNECT[n1] BAD", -1);
        b = be;
        PKT(&b, 1, "\x01");
        PKT(&b, 2, "\x03" "def\0\0\0\0");
        PKT(&b, 3, "\x01" "1");
        check_stream_at("missing EOF", SHIM_MYSQL_BACKEND, &b, &tr_syn, GREET_LEN, "GREET CONNECT[n1] BAD", -1);
        b = be;
        PKT(&b, 1, "\x01");
        PKT(&b, 2, "\x03" "def\0\0\0\0");
        check_stream_at("truncated result", SHIM_MYSQL_BACKEND, &b, &tr_syn, GREET_LEN, "GREET CONNECT[n1]", 0);
        b = be;
        put(&b, "\x01\0\0", 3);
        check_stream_at("truncated header", SHIM_MYSQL_BACKEND, &b, &tr_syn, GREET_LEN, "GREET CONNECT[n1]", 0);
        fe.n = 0;
        put_response(&fe, CAPS_BASE);
        PKT(&fe, 0, "\026SELECT 1");
        frontend_trace(&fe, &tr_syn);
        b = be;
        PKT(&b, 1, "\0\1\0\0");
        check_stream_at("short prepare OK", SHIM_MYSQL_BACKEND, &b, &tr_syn, GREET_LEN, "GREET CONNECT[n1] BAD", -1);
    }

    /* BAD is sticky; a zeroed state recovers; a corrupted one is BAD */
    b.n = 0;
    PKT(&b, 0, "\0114.0.1\0");
    shim_mysql_init(&st, SHIM_MYSQL_BACKEND);
    CHECK_EQ(shim_mysql_feed(&st, b.b, b.n, &ev, &c), SHIM_MYSQL_BAD);
    CHECK_EQ(shim_mysql_idle(&st), -1);
    b.n = 0;
    put_greeting(&b);
    CHECK_EQ(shim_mysql_feed(&st, b.b, b.n, &ev, &c), SHIM_MYSQL_BAD);
    CHECK_EQ(c, 0);
    memset(&st, 0, sizeof(st));
    st.mode = SHIM_MYSQL_BACKEND;
    CHECK_EQ(shim_mysql_feed(&st, b.b, b.n, &ev, &c), SHIM_MYSQL_EVENT);
    CHECK_EQ(c, b.n);
    CHECK_EQ(ev.type, SHIM_MYSQL_EV_GREETING);
    CHECK_EQ(ev.caps & 0xffffu, 0xf7feu);
    CHECK_EQ(ev.caps >> 16, 0x81ffu);
    CHECK_EQ(ev.proto, 10);
    memset(&st, 0x5a, sizeof(st));
    st.mode = SHIM_MYSQL_BACKEND;
    CHECK_EQ(shim_mysql_feed(&st, b.b, b.n, &ev, &c), SHIM_MYSQL_BAD);
}

static void test_pipeline_and_direct_execute(void)
{
    char wfe[2048], *f = wfe, *w = want;
    int k;

    /* ten pipelined queries: eight are tracked; the queue drains at the
     * eighth answer (resync: the caller flushes the other two) */
    scr_reset();
    scr_handshake(CAPS_BASE | SHIM_MYSQL_CLIENT_DEPRECATE_EOF);
    f += sprintf(f, "HS");
    w += sprintf(w, "GREET CONNECT[n1]");
    for (k = 0; k < 10; k++) {
        FE(0, "\003/* q */ INSERT INTO t VALUES (1)");
        f += sprintf(f, " QUERY:INSERT");
    }
    for (k = 0; k < 10; k++) {
        BE(1, "\0\1\0\2\0\0\0");
        if (k < 7)
            w += sprintf(w, " QUERY:INSERT[a1,n1]#");
        else if (k == 7)
            w += sprintf(w, " QUERY:INSERT[a1,n1]#@");
    }
    check_session("pipeline overflow", scr.segs, scr.n, wfe, want);

    /* MariaDB direct execution: PREPARE and EXECUTE(-1) sent together */
    scr_reset();
    scr_handshake(CAPS_BASE);
    FE(0, "\026SELECT ?");
    FE(0, "\027\377\377\377\377\0\1\0\0\0");
    BE(1, "\0\7\0\0\0\1\0\1\0\0\0\0");    /* stmt 7, 1 column, 1 param */
    BE(2, "\003def\0\0\0\1?\0\f?\0");     /* param */
    BE(3, "\376\0\0\2\0");                /* EOF */
    BE(4, "\003def\0\0\0\1?\0\f?\0");     /* column */
    BE(5, "\376\0\0\2\0");                /* EOF */
    BE(1, "\1");                          /* execute: 1 column */
    BE(2, "\003def\0\0\0\1?\0\f?\0");
    BE(3, "\376\0\0\2\0");
    BE(4, "\0\0\1\0\0\0");                /* binary rows start with 0x00 */
    BE(5, "\0\0\1\0\0\0");
    BE(6, "\376\0\0\2\0");
    check_session("direct execution", scr.segs, scr.n,
                  "HS STMT_PREPARE:SELECT STMT_EXECUTE#4294967295",
                  "GREET CONNECT[n1] STMT_PREPARE:SELECT[n1,i7] STMT_EXECUTE:SELECT[r2,n1,i4294967295]");

    /* a cursor: EXECUTE answers with the columns only; FETCH brings rows;
     * after STMT_CLOSE the statement is forgotten */
    scr_reset();
    scr_handshake(CAPS_BASE);
    FE(0, "\026select * from t");
    BE(1, "\0\3\0\0\0\1\0\0\0\0\0\0");
    BE(2, "\003def\0\0\0\1a\0\f?\0");
    BE(3, "\376\0\0\2\0");
    FE(0, "\027\3\0\0\0\1\1\0\0\0");
    BE(1, "\1");
    BE(2, "\003def\0\0\0\1a\0\f?\0");
    BE(3, "\376\0\0\102\0");              /* SERVER_STATUS_CURSOR_EXISTS */
    FE(0, "\034\3\0\0\0\2\0\0\0");
    BE(1, "\0\0\1\0\0\0");
    BE(2, "\0\0\2\0\0\0");
    BE(3, "\376\0\0\102\0");
    FE(0, "\031\3\0\0\0");
    FE(0, "\034\3\0\0\0\2\0\0\0");
    BE(1, "\377\363\004#HY000Unknown prepared statement");
    check_session("cursor", scr.segs, scr.n,
                  "HS STMT_PREPARE:SELECT STMT_EXECUTE#3 STMT_FETCH#3 STMT_CLOSE#3* STMT_FETCH#3",
                  "GREET CONNECT[n1] STMT_PREPARE:SELECT[n1,i3] STMT_EXECUTE:SELECT[i3]C "
                  "STMT_FETCH:SELECT[r2,n1,i3] STMT_FETCH!1267:HY000[i3]");
}

static void test_query_attributes_and_misc(void)
{
    struct buf fe = {{0}, 0}, be = {{0}, 0};

    /* MySQL 8 query attributes: counts before the text */
    put_response(&fe, CAPS_BASE | SHIM_MYSQL_CLIENT_QUERY_ATTRIBUTES);
    PKT(&fe, 0, "\003\0\1/*x*/UPDATE t SET a=1");
    PKT(&fe, 0, "\003\1\1\0\1\376\0\1a\001b SELECT 1"); /* one attribute: op unknown */
    PKT(&fe, 0, "\002app");
    PKT(&fe, 0, "\021user\0\0app\0");          /* CHANGE_USER */
    PKT(&fe, 3, "authdata");                   /* auth data: seq > 0, not a command */
    PKT(&fe, 0, "\016");
    PKT(&fe, 0, "\001");
    check_stream_at("query attributes fe", SHIM_MYSQL_FRONTEND, &fe, NULL, 0,
                 "HS QUERY:UPDATE QUERY INIT_DB CHANGE_USER PING QUIT*", 1);

    /* answers: CHANGE_USER through an auth switch; a ping's OK; then an
     * ERR nobody asked for (a server closing an idle connection) */
    frontend_trace(&fe, &tr_syn);
    put_greeting(&be);
    PKT(&be, 2, "\0\0\0\2\0\0\0");
    PKT(&be, 1, "\0\1\0\2\0\0\0");
    PKT(&be, 1, "\0\0\0\2\0\0\0");
    PKT(&be, 1, "\0\0\0\2\0\0\0");
    PKT(&be, 1, "\376mysql_native_password\0salt");
    PKT(&be, 3, "\0\0\0\2\0\0\0");
    PKT(&be, 1, "\0\0\0\2\0\0\0");
    PKT(&be, 0, "\0\0\0\2\0\0\0");             /* nothing pending: skipped */
    PKT(&be, 0, "\377\247\017#HY000The client was disconnected");
    check_stream_at("misc be", SHIM_MYSQL_BACKEND, &be, &tr_syn, GREET_LEN,
                 "GREET CONNECT[n1] QUERY:UPDATE[a1,n1] QUERY[n1] INIT_DB[n1] CHANGE_USER "
                 "PING[n1] SLEEP!4007:HY000", 1);
}

/* feed_big: feed a big stream in chunks of `step` (through the guard page
 * when they fit), recording the trace. */
static void feed_big(int mode, const uint8_t *in, size_t len, size_t step,
                     const struct shim_mysql_event *exp, int nexp, struct trace *t)
{
    struct shim_mysql st;
    struct shim_mysql_event ev;
    size_t a, off, c, n;
    int rc, k;
    memset(t, 0, sizeof(*t));
    shim_mysql_init(&st, (enum shim_mysql_mode)mode);
    for (k = 0; k < nexp; k++)
        shim_mysql_expect(&st, &exp[k]);
    for (a = 0; a < len; a += n) {
        const uint8_t *p;
        n = len - a < step ? len - a : step;
        p = n <= AREA ? at_guard(in + a, n) : in + a;
        off = 0;
        for (;;) {
            rc = shim_mysql_feed(&st, p + off, n - off, &ev, &c);
            if (rc != SHIM_MYSQL_EVENT)
                break;
            off += c;
            record(t, rc, &ev, a + off);
        }
        CHECK_EQ(rc, SHIM_MYSQL_NEED_MORE);
    }
    record(t, 100 + shim_mysql_idle(&st), NULL, len);
}

static void test_large_packets(void)
{
    size_t len = 2 * (4 + 0xffffff) + 4 + 40, k;
    uint8_t *big = malloc(len);
    static struct trace t2;
    struct shim_mysql_event exp[2];
    size_t at = 0;
    REQUIRE(big != NULL);

    /* a 32 MiB + 26 byte query: three fragments */
    memset(big, ' ', len);
    for (k = 0; k < 3; k++) {
        size_t n = k < 2 ? 0xffffff : 26;
        big[at] = (uint8_t)n;
        big[at + 1] = (uint8_t)(n >> 8);
        big[at + 2] = (uint8_t)(n >> 16);
        big[at + 3] = (uint8_t)k;
        at += 4 + n;
    }
    memcpy(big + 4, "\003  -- a comment\n  INSERT INTO t VALUES ", 39);
    memcpy(big + at - 5, "(1);", 4);
    feed_big(SHIM_MYSQL_FRONTEND, big, at, 65536, NULL, 0, &tr_whole);
    memset(exp, 0, sizeof(exp));
    exp[0].type = SHIM_MYSQL_EV_HANDSHAKE; /* a frontend already past its handshake */
    {
        /* the frontend needs its handshake first: prepend one */
        struct buf hs = {{0}, 0};
        uint8_t *all;
        put_response(&hs, CAPS_BASE);
        all = malloc(hs.n + at);
        REQUIRE(all != NULL);
        memcpy(all, hs.b, hs.n);
        memcpy(all + hs.n, big, at);
        feed_big(SHIM_MYSQL_FRONTEND, all, hs.n + at, 65536, NULL, 0, &tr_whole);
        feed_big(SHIM_MYSQL_FRONTEND, all, hs.n + at, 65521, NULL, 0, &t2);
        CHECK(same_trace(&tr_whole, &t2));
        render(&tr_whole, got, sizeof(got));
        CHECK_STREQ(got, "HS QUERY:INSERT");
        CHECK_EQ(tr_whole.r[1].off, hs.n + at);
        free(all);
    }

    /* a result whose row is 16 MiB + 1 byte and starts with 0xfe (an
     * 8-byte length): a row, not the EOF */
    {
        struct buf head = {{0}, 0}, tail = {{0}, 0};
        uint8_t *all;
        size_t n;
        put_greeting(&head);
        PKT(&head, 2, "\0\0\0\2\0\0\0");
        PKT(&head, 1, "\1");
        PKT(&head, 2, "\003def\0\0\0\1a\0\f?\0");
        PKT(&head, 3, "\376\0\0\2\0");
        PKT(&tail, 5, "\0");                      /* second fragment: 1 byte */
        PKT(&tail, 6, "\376\0\0\2\0");            /* the EOF */
        n = head.n + 4 + 0xffffff + tail.n;
        all = malloc(n);
        REQUIRE(all != NULL);
        memcpy(all, head.b, head.n);
        memset(all + head.n, 'x', 4 + 0xffffff);
        all[head.n] = 0xff;
        all[head.n + 1] = 0xff;
        all[head.n + 2] = 0xff;
        all[head.n + 3] = 4;
        all[head.n + 4] = 0xfe;
        memcpy(all + head.n + 4 + 0xffffff, tail.b, tail.n);
        memset(exp, 0, sizeof(exp));
        exp[0].type = SHIM_MYSQL_EV_HANDSHAKE;
        exp[0].caps = CAPS_BASE;
        exp[1].type = SHIM_MYSQL_EV_REQ;
        exp[1].cmd = SHIM_MYSQL_COM_QUERY;
        exp[1].op = SHIM_SQL_SELECT;
        feed_big(SHIM_MYSQL_BACKEND, all, n, 65536, exp, 2, &tr_whole);
        feed_big(SHIM_MYSQL_BACKEND, all, n, 4093, exp, 2, &t2);
        CHECK(same_trace(&tr_whole, &t2));
        render(&tr_whole, got, sizeof(got));
        CHECK_STREQ(got, "GREET CONNECT[n1] QUERY:SELECT[r1,n1]");
        free(all);
    }
    free(big);
}

static void test_statement_map(void)
{
    uint8_t p[16];
    char wfe[4096], *f = wfe, *w = want;
    int k;
    scr_reset();
    scr_handshake(CAPS_BASE | SHIM_MYSQL_CLIENT_DEPRECATE_EOF);
    f += sprintf(f, "HS");
    w += sprintf(w, "GREET CONNECT[n1]");
    /* 17 statements prepared (ids 1..17), then each executed: the first
     * was evicted by the 17th */
    for (k = 0; k < 17; k++) {
        FE(0, "\026DELETE FROM t");
        memset(p, 0, sizeof(p));
        p[1] = (uint8_t)(k + 1);
        scr_pkt('<', 1, p, 12);
        f += sprintf(f, " STMT_PREPARE:DELETE");
        w += sprintf(w, " STMT_PREPARE:DELETE[n1,i%d]", k + 1);
    }
    for (k = 0; k < 17; k++) {
        memcpy(p, "\027\0\0\0\0\0\1\0\0\0", 10);
        p[1] = (uint8_t)(k + 1);
        scr_pkt('>', 0, p, 10);
        BE(1, "\0\0\0\2\0\0\0");
        f += sprintf(f, " STMT_EXECUTE#%d", k + 1);
        w += sprintf(w, " STMT_EXECUTE%s[n1,i%d]", k == 0 ? "" : ":DELETE", k + 1);
    }
    check_session("statement map", scr.segs, scr.n, wfe, want);
}

static void test_detect(void)
{
    static const uint8_t err[] = {0x17, 0, 0, 0, 0xff, 0x10, 0x04, 'T', 'o', 'o'};
    struct buf g = {{0}, 0};
    size_t k;
    put_greeting(&g);
    for (k = 0; k < 6; k++) {
        CHECK_EQ(shim_mysql_detect(at_guard(g.b, k), k), -1);
        CHECK_EQ(shim_mysql_detect(at_guard(err, k), k), -1);
    }
    CHECK_EQ(shim_mysql_detect(at_guard(err, 6), 6), -1);
    for (k = 6; k <= g.n; k++)
        CHECK_EQ(shim_mysql_detect(at_guard(g.b, k), k), 1);
    CHECK_EQ(shim_mysql_detect(at_guard(err, 7), 7), 1);
    CHECK_EQ(shim_mysql_detect((const uint8_t *)"\112\0\0\0\012" "8.0.36", 11), 1);
    CHECK_EQ(shim_mysql_detect((const uint8_t *)"\112\0\0\1\012" "8.0.36", 11), 0); /* seq 1 */
    CHECK_EQ(shim_mysql_detect((const uint8_t *)"\112\0\0\0\011" "8.0.36", 11), 0); /* protocol 9 */
    CHECK_EQ(shim_mysql_detect((const uint8_t *)"\020\0\0\0\012" "8.0.36", 11), 0); /* too short */
    CHECK_EQ(shim_mysql_detect((const uint8_t *)"\112\0\0\0\012" "x.0.36", 11), 0);
    CHECK_EQ(shim_mysql_detect((const uint8_t *)"HTTP/1.1 200", 12), 0);
    CHECK_EQ(shim_mysql_detect((const uint8_t *)"+OK\r\n", 5), 0);
    CHECK_EQ(shim_mysql_detect((const uint8_t *)"\027\0\0\0\377\001\000", 7), 0); /* code 1 */
    CHECK_EQ(shim_mysql_detect(NULL, 0), -1);
    session_load(&sess, my_cli, NSEG(my_cli));
    CHECK_EQ(shim_mysql_detect(sess.server, sess.server_len), 1);
    CHECK_STREQ(shim_mysql_cmd_name(SHIM_MYSQL_COM_QUERY), "COM_QUERY");
    CHECK_STREQ(shim_mysql_cmd_name(SHIM_MYSQL_CMD_CONNECT), "CONNECT");
    CHECK_STREQ(shim_mysql_cmd_name(0x99), "COM_UNKNOWN");
}

int main(void)
{
    guard_init();
    UNIT_RUN(test_mariadb_cli);
    UNIT_RUN(test_raw_eof);
    UNIT_RUN(test_raw_deprecate_eof);
    UNIT_RUN(test_auth_switch);
    UNIT_RUN(test_bad_password);
    UNIT_RUN(test_ssl_and_compression);
    UNIT_RUN(test_bad_inputs);
    UNIT_RUN(test_pipeline_and_direct_execute);
    UNIT_RUN(test_query_attributes_and_misc);
    UNIT_RUN(test_large_packets);
    UNIT_RUN(test_statement_map);
    UNIT_RUN(test_detect);
    printf("sizeof(struct shim_mysql) = %zu, sizeof(struct shim_mysql_event) = %zu\n",
           sizeof(struct shim_mysql), sizeof(struct shim_mysql_event));
    return unit_summary();
}
