/*
 * config.c - the settings table, defaults and the environment. Pure string
 * handling over fixed buffers: no malloc, no stdio (it runs in the
 * constructor, possibly before libc's own is ready for us).
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "shim/config.h"
#include "shim/shim.h"

struct shim_config shim_cfg;

#define OFF(f) offsetof(struct shim_config, f)
#define SZ(f) sizeof(((struct shim_config *)0)->f)

const struct shim_key shim_keys[] = {
    {"observability.enabled", "PROMSHIM_ENABLED", SHIM_KBOOL, OFF(enabled), 0, 0, 1, "true",
     "master switch: false makes every hook pass straight through"},
    {"observability.exporter_enabled", "PROMSHIM_EXPORTER_ENABLED", SHIM_KBOOL, OFF(exporter_enabled), 0, 0, 1,
     "true", "serve /metrics over HTTP"},
    {"observability.exporter_port", "PROMSHIM_EXPORTER_PORT", SHIM_KINT, OFF(exporter_port), 0, 1, 65535, "9100",
     "first port the exporter tries"},
    {"observability.exporter_port_range", "PROMSHIM_EXPORTER_PORT_RANGE", SHIM_KINT, OFF(exporter_port_range), 0,
     1, 1000, "10", "how many ports from exporter_port to try when it is taken"},
    {"observability.bind_address", "PROMSHIM_BIND_ADDRESS", SHIM_KSTR, OFF(bind_address), SZ(bind_address), 0, 0,
     "0.0.0.0", "address the exporter listens on (IPv4 or IPv6 literal)"},
    {"observability.textfile_path", "PROMSHIM_TEXTFILE_PATH", SHIM_KSTR, OFF(textfile_path), SZ(textfile_path), 0,
     0, "", "write the final metrics of the process tree to this file at exit"},
    {"observability.log_level", "PROMSHIM_LOG_LEVEL", SHIM_KSTR, OFF(log_level), SZ(log_level), 0, 0, "warn",
     "error, warn, info or debug"},
    {"observability.metrics.enabled", "PROMSHIM_METRICS_ENABLED", SHIM_KBOOL, OFF(metrics_enabled), 0, 0, 1, "true",
     "collect metrics (false: pass through, like enabled = false)"},
    {"observability.metrics.collection_interval_seconds", "PROMSHIM_METRICS_COLLECTION_INTERVAL_SECONDS", SHIM_KINT,
     OFF(collection_interval_seconds), 0, 1, 86400, "15", "how often the scheduler runs probes"},
    {"observability.metrics.metrics_protection_enabled", "PROMSHIM_METRICS_METRICS_PROTECTION_ENABLED", SHIM_KBOOL,
     OFF(metrics_protection_enabled), 0, 0, 1, "false", "only allow_metrics_ips may scrape"},
    {"observability.metrics.allow_metrics_ips", "PROMSHIM_METRICS_ALLOW_METRICS_IPS", SHIM_KSTR,
     OFF(allow_metrics_ips), SZ(allow_metrics_ips), 0, 0, "", "comma-separated addresses or CIDR ranges"},
    {"observability.metrics.series_cap", "PROMSHIM_METRICS_SERIES_CAP", SHIM_KINT, OFF(series_cap), 0, 10, 1000000,
     "2000", "series per metric family; more land in one overflow series"},
    {"observability.metrics.registry_size_mb", "PROMSHIM_METRICS_REGISTRY_SIZE_MB", SHIM_KINT, OFF(registry_size_mb),
     0, 4, 65536, "256", "address space reserved for the shared registry (touched only as it fills)"},
    {"observability.metrics.series_ttl_seconds", "PROMSHIM_METRICS_SERIES_TTL_SECONDS", SHIM_KINT,
     OFF(series_ttl_seconds), 0, 0, 31536000, "300", "series untouched this long leave the output (0: never)"},
    {"observability.metrics.max_parsed_connections", "PROMSHIM_METRICS_MAX_PARSED_CONNECTIONS", SHIM_KINT,
     OFF(max_sessions), 0, 16, 1048576, "16384",
     "connections parsed at once per process (HTTP...); more are only counted"},
    {"observability.http.routes", "PROMSHIM_HTTP_ROUTES", SHIM_KSTR, OFF(http_routes), SZ(http_routes), 0, 0, "",
     "comma-separated route patterns such as /users/{id},/orders/{id}/items"},
};
const size_t shim_nkeys = SHIM_ARRAY_LEN(shim_keys);

/* Variables that are not keys but are ours. */
static const char *const other_env[] = {"PROMSHIM_CONFIG", "PROMSHIM_ENV", "PROMSHIM_LIBRARY", NULL};

/* ascii case-insensitive equality of value[0..n) and the NUL-terminated s */
static int eq_nocase(const char *value, size_t n, const char *s)
{
    size_t i;
    for (i = 0; i < n && s[i]; i++) {
        char a = value[i], b = s[i];
        if (a >= 'A' && a <= 'Z')
            a = (char)(a - 'A' + 'a');
        if (a != b)
            return 0;
    }
    return i == n && s[i] == '\0';
}

/* parse a decimal integer with optional sign; -EINVAL or -ERANGE */
static int parse_long(const char *s, size_t n, long *out)
{
    size_t i = 0;
    int neg = 0;
    unsigned long v = 0;
    while (i < n && (s[i] == ' ' || s[i] == '\t'))
        i++;
    while (n > i && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    if (i < n && (s[i] == '-' || s[i] == '+'))
        neg = s[i++] == '-';
    if (i == n)
        return -EINVAL;
    for (; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -EINVAL;
        if (v > (unsigned long)(__LONG_MAX__ - 9) / 10)
            return -ERANGE;
        v = v * 10 + (unsigned long)(s[i] - '0');
    }
    *out = neg ? -(long)v : (long)v;
    return 0;
}

void shim_config_defaults(struct shim_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    for (size_t i = 0; i < shim_nkeys; i++) {
        int rc = shim_config_set(cfg, &shim_keys[i], shim_keys[i].def, strlen(shim_keys[i].def));
        (void)NEVER(rc != 0);
    }
}

int shim_config_set(struct shim_config *cfg, const struct shim_key *k, const char *value, size_t n)
{
    char *field = (char *)cfg + k->off;
    switch (k->type) {
    case SHIM_KBOOL:
        if (eq_nocase(value, n, "1") || eq_nocase(value, n, "true") || eq_nocase(value, n, "yes") ||
            eq_nocase(value, n, "on"))
            *(int *)field = 1;
        else if (eq_nocase(value, n, "0") || eq_nocase(value, n, "false") || eq_nocase(value, n, "no") ||
                 eq_nocase(value, n, "off"))
            *(int *)field = 0;
        else
            return -EINVAL;
        return 0;
    case SHIM_KINT: {
        long v;
        int rc = parse_long(value, n, &v);
        if (rc)
            return rc;
        if (v < k->min || v > k->max)
            return -ERANGE;
        *(int *)field = (int)v;
        return 0;
    }
    case SHIM_KSTR:
        if (n >= k->size || memchr(value, '\0', n))
            return -ERANGE;
        memcpy(field, value, n);
        field[n] = '\0';
        return 0;
    }
    return -EINVAL;
}

const struct shim_key *shim_config_key_by_env(const char *name, size_t n)
{
    for (size_t i = 0; i < shim_nkeys; i++)
        if (strlen(shim_keys[i].env) == n && memcmp(shim_keys[i].env, name, n) == 0)
            return &shim_keys[i];
    return NULL;
}

int shim_config_from_env(struct shim_config *cfg, char *const *envp)
{
    int problems = 0;
    for (; envp && *envp; envp++) {
        const char *e = *envp;
        if (strncmp(e, "PROMSHIM_", 9) != 0)
            continue;
        const char *eq = strchr(e, '=');
        if (!eq)
            continue;
        size_t nlen = (size_t)(eq - e);
        const struct shim_key *k = shim_config_key_by_env(e, nlen);
        if (!k) {
            int known = 0;
            for (int i = 0; other_env[i]; i++)
                if (strlen(other_env[i]) == nlen && memcmp(other_env[i], e, nlen) == 0)
                    known = 1;
            if (!known) {
                LOG_WARN("unknown variable %.*s ignored (see the README for the list)", (int)nlen, e);
                problems++;
            }
            continue;
        }
        const char *v = eq + 1;
        int rc = shim_config_set(cfg, k, v, strlen(v));
        if (rc) {
            LOG_ERROR("%s=\"%.*s\" is %s; using %s", k->env, 64, v,
                      rc == -ERANGE ? (k->type == SHIM_KINT ? "out of range" : "too long")
                                    : (k->type == SHIM_KBOOL ? "not a boolean" : "not an integer"),
                      k->def[0] ? k->def : "(empty)");
            problems++;
        }
    }
    return problems;
}
