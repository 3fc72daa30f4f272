/*
 * test_config.c - settings from the environment: the mechanical names,
 * booleans and integers in their accepted spellings, bounds, and bad values
 * keeping the default.
 */
#include <errno.h>
#include <string.h>

#include "shim/config.h"
#include "shim/netaddr.h"
#include "shim/shim.h"
#include "unit.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <sys/socket.h>

static void test_defaults(void)
{
    struct shim_config c;
    shim_config_defaults(&c);
    CHECK_EQ(c.enabled, 1);
    CHECK_EQ(c.exporter_enabled, 1);
    CHECK_EQ(c.exporter_port, 9100);
    CHECK_EQ(c.exporter_port_range, 10);
    CHECK_STREQ(c.bind_address, "0.0.0.0");
    CHECK_STREQ(c.textfile_path, "");
    CHECK_EQ(c.series_cap, 2000);
    CHECK_EQ(c.metrics_protection_enabled, 0);
}

static void test_env(void)
{
    struct shim_config c;
    shim_config_defaults(&c);
    char *env[] = {"PATH=/bin",
                   "PROMSHIM_EXPORTER_PORT=9200",
                   "PROMSHIM_EXPORTER_ENABLED=false",
                   "PROMSHIM_METRICS_METRICS_PROTECTION_ENABLED=Yes",
                   "PROMSHIM_TEXTFILE_PATH=/tmp/x.prom",
                   "PROMSHIM_METRICS_SERIES_CAP= 500 ",
                   "PROMSHIM_CONFIG=/etc/whatever.toml",
                   NULL};
    CHECK_EQ(shim_config_from_env(&c, env), 0);
    CHECK_EQ(c.exporter_port, 9200);
    CHECK_EQ(c.exporter_enabled, 0);
    CHECK_EQ(c.metrics_protection_enabled, 1);
    CHECK_STREQ(c.textfile_path, "/tmp/x.prom");
    CHECK_EQ(c.series_cap, 500);
}

static void test_bad(void)
{
    struct shim_config c;
    shim_config_defaults(&c);
    shim_log_level = -1; /* keep the test's stderr quiet */
    char *env[] = {"PROMSHIM_EXPORTER_PORT=abc", "PROMSHIM_EXPORTER_PORT_RANGE=70000", "PROMSHIM_ENABLED=maybe",
                   "PROMSHIM_EXPORTR_PORT=1", "PROMSHIM_METRICS_SERIES_CAP=99999999999999999999", NULL};
    CHECK_EQ(shim_config_from_env(&c, env), 5);
    CHECK_EQ(c.exporter_port, 9100);
    CHECK_EQ(c.exporter_port_range, 10);
    CHECK_EQ(c.enabled, 1);
    CHECK_EQ(c.series_cap, 2000);
    const struct shim_key *k = shim_config_key_by_env("PROMSHIM_EXPORTER_PORT", 22);
    REQUIRE(k != NULL);
    CHECK_EQ(shim_config_set(&c, k, "0", 1), -ERANGE);
    CHECK_EQ(shim_config_set(&c, k, "65536", 5), -ERANGE);
    CHECK_EQ(shim_config_set(&c, k, "-1", 2), -ERANGE);
    CHECK_EQ(shim_config_set(&c, k, "", 0), -EINVAL);
    CHECK_EQ(shim_config_set(&c, k, "12x", 3), -EINVAL);
    CHECK_EQ(shim_config_set(&c, k, "65535", 5), 0);
    CHECK_EQ(c.exporter_port, 65535);
    /* a string longer than its buffer is refused, not cut */
    const struct shim_key *b = shim_config_key_by_env("PROMSHIM_BIND_ADDRESS", 21);
    char big[200];
    memset(big, 'a', sizeof(big));
    CHECK_EQ(shim_config_set(&c, b, big, sizeof(big)), -ERANGE);
    CHECK_STREQ(c.bind_address, "0.0.0.0");
}

/* every key's variable is the mechanical mapping of its path */
static void test_mapping(void)
{
    for (size_t i = 0; i < shim_nkeys; i++) {
        const char *p = shim_keys[i].path;
        char want[128] = "PROMSHIM_";
        size_t at = strlen(want);
        if (strncmp(p, "observability.", 14) == 0)
            p += 14;
        for (; *p && at + 1 < sizeof(want); p++)
            want[at++] = *p == '.' ? '_' : (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
        want[at] = '\0';
        CHECK_STREQ(shim_keys[i].env, want);
    }
}

/* the async-signal-safe address formatter agrees with inet_ntop */
static void test_addr(void)
{
    uint8_t a[16];
    char mine[64], libc[64];
    unsigned seed = 1;
    for (int i = 0; i < 20000; i++) {
        for (int j = 0; j < 16; j++) {
            seed = seed * 1103515245u + 12345u;
            /* many zero words, to exercise the :: rules */
            a[j] = (seed >> 16) % 3 ? 0 : (uint8_t)(seed >> 8);
        }
        if (i % 5 == 0) {
            memset(a, 0, 10);
            a[10] = a[11] = 0xff; /* IPv4-mapped */
        }
        shim_addr_format(AF_INET6, a, mine, sizeof(mine));
        inet_ntop(AF_INET6, a, libc, sizeof(libc));
        /* glibc writes deprecated IPv4-compatible addresses (::a.b.c.d)
         * dotted; RFC 5952 does not ask for that, so those are skipped */
        static const uint8_t zero12[12];
        if (memcmp(a, zero12, 12) != 0)
            CHECK_STREQ(mine, libc);
        shim_addr_format(AF_INET, a + 12, mine, sizeof(mine));
        inet_ntop(AF_INET, a + 12, libc, sizeof(libc));
        CHECK_STREQ(mine, libc);
    }
    char e[16];
    CHECK_STREQ(shim_errno_name(ECONNREFUSED, e, sizeof(e)), "ECONNREFUSED");
    CHECK_STREQ(shim_errno_name(ETIMEDOUT, e, sizeof(e)), "ETIMEDOUT");
    CHECK_STREQ(shim_errno_name(9999, e, sizeof(e)), "E9999");
}

static void test_snprintf(void)
{
    char b[64];
    CHECK_EQ(shim_snprintf(b, sizeof(b), "%s=%d/%u/%x/%zu/%ld/%.*s%%", "k", -42, 7u, 255u, (size_t)9, -1L, 2, "abc"),
             (int)strlen("k=-42/7/ff/9/-1/ab%"));
    CHECK_STREQ(b, "k=-42/7/ff/9/-1/ab%");
    CHECK_EQ(shim_snprintf(b, 4, "%s", "abcdef"), 6);
    CHECK_STREQ(b, "abc");
}

int main(void)
{
    UNIT_RUN(test_defaults);
    UNIT_RUN(test_env);
    UNIT_RUN(test_bad);
    UNIT_RUN(test_mapping);
    UNIT_RUN(test_addr);
    UNIT_RUN(test_snprintf);
    return unit_summary();
}
