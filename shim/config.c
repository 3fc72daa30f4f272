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
    {"observability.metrics.basic_auth_user", "PROMSHIM_METRICS_BASIC_AUTH_USER", SHIM_KSTR, OFF(basic_auth_user),
     SZ(basic_auth_user), 0, 0, "", "HTTP basic auth user for /metrics (with basic_auth_password_file)"},
    {"observability.metrics.basic_auth_password_file", "PROMSHIM_METRICS_BASIC_AUTH_PASSWORD_FILE", SHIM_KSTR,
     OFF(basic_auth_password_file), SZ(basic_auth_password_file), 0, 0, "",
     "file holding the basic auth password (never the password itself)"},
    {"observability.metrics.series_cap", "PROMSHIM_METRICS_SERIES_CAP", SHIM_KINT, OFF(series_cap), 0, 10, 1000000,
     "2000", "series per metric family; more land in one overflow series"},
    {"observability.metrics.registry_size_mb", "PROMSHIM_METRICS_REGISTRY_SIZE_MB", SHIM_KINT, OFF(registry_size_mb),
     0, 4, 65536, "256", "address space reserved for the shared registry (touched only as it fills)"},
    {"observability.metrics.series_ttl_seconds", "PROMSHIM_METRICS_SERIES_TTL_SECONDS", SHIM_KINT,
     OFF(series_ttl_seconds), 0, 0, 31536000, "300", "series untouched this long leave the output (0: never)"},
    {"observability.metrics.max_parsed_connections", "PROMSHIM_METRICS_MAX_PARSED_CONNECTIONS", SHIM_KINT,
     OFF(max_sessions), 0, 16, 1048576, "16384",
     "connections parsed at once per process (HTTP...); more are only counted"},
    {"observability.discovery_dir", "PROMSHIM_DISCOVERY_DIR", SHIM_KSTR, OFF(discovery_dir), SZ(discovery_dir), 0, 0,
     "", "write a Prometheus file_sd target file for the endpoint into this folder"},
    {"observability.discovery_host", "PROMSHIM_DISCOVERY_HOST", SHIM_KSTR, OFF(discovery_host), SZ(discovery_host), 0,
     0, "", "host name in the target file (default: the bind address, 127.0.0.1 for a wildcard)"},
    {"observability.job", "PROMSHIM_JOB", SHIM_KSTR, OFF(job), SZ(job), 0, 0, "",
     "job label of the target file and the pushgateway group (default: the program's name)"},
    {"observability.exporter_start_delay_ms", "PROMSHIM_EXPORTER_START_DELAY_MS", SHIM_KINT, OFF(start_delay_ms), 0, 0,
     3600000, "0", "also start the exporter once a process has lived this long without a socket (0: only on a socket)"},
    {"observability.follow_children", "PROMSHIM_FOLLOW_CHILDREN", SHIM_KBOOL, OFF(follow_children), 0, 0, 1, "true",
     "keep promshim in LD_PRELOAD for the programs this one executes"},
    {"observability.programs", "PROMSHIM_PROGRAMS", SHIM_KSTR, OFF(programs), SZ(programs), 0, 0, "",
     "instrument only programs with these names (comma-separated); others pass through"},
    {"observability.pushgateway_url", "PROMSHIM_PUSHGATEWAY_URL", SHIM_KSTR, OFF(pushgateway_url),
     SZ(pushgateway_url), 0, 0, "", "push the final metrics at exit to this Pushgateway (http://IP:PORT)"},
    {"observability.pushgateway_timeout_ms", "PROMSHIM_PUSHGATEWAY_TIMEOUT_MS", SHIM_KINT, OFF(pushgateway_timeout_ms),
     0, 10, 60000, "2000", "the longest the push may delay the program's exit"},
    {"observability.callsite_enabled", "PROMSHIM_CALLSITE_ENABLED", SHIM_KBOOL, OFF(callsite_enabled), 0, 0, 1,
     "true", "name the module and function that made each outgoing connection (dladdr, at connect time)"},
    {"observability.plugins", "PROMSHIM_PLUGINS", SHIM_KSTR, OFF(plugins), SZ(plugins), 0, 0, "",
     "shared objects whose promshim_plugin_init registers probes (colon-separated paths)"},
    {"observability.kafka.dead_letter_patterns", "PROMSHIM_KAFKA_DEAD_LETTER_PATTERNS", SHIM_KSTR, OFF(dlq_patterns),
     SZ(dlq_patterns), 0, 0, "*.dlq,*-dlq,*.DLT,dlq.*,*.dead-letter",
     "topic names counted as dead-letter topics (a * at either end)"},
    {"observability.http.routes", "PROMSHIM_HTTP_ROUTES", SHIM_KSTR, OFF(http_routes), SZ(http_routes), 0, 0, "",
     "comma-separated route patterns such as /users/{id},/orders/{id}/items"},
};
const size_t shim_nkeys = SHIM_ARRAY_LEN(shim_keys);

/* Variables that are not keys but are ours. */
static const char *const other_env[] = {"PROMSHIM_CONFIG", "PROMSHIM_ENV", "PROMSHIM_LIBRARY", "PROMSHIM_CHECK_CONFIG",
                                         NULL};

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

/* ---- the settings file ---- */

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "shim/toml.h"

#define FILE_MAX (1u << 20)

/* key_by_path: the key whose TOML path is p[0..n), or NULL */
static const struct shim_key *key_by_path(const char *p, size_t n)
{
    for (size_t i = 0; i < shim_nkeys; i++)
        if (strlen(shim_keys[i].path) == n && memcmp(shim_keys[i].path, p, n) == 0)
            return &shim_keys[i];
    return NULL;
}

/* apply_leaf: one value of the file to cfg; 1 when it was a problem */
static int apply_leaf(struct shim_config *cfg, const struct shim_toml_doc *doc, const struct shim_toml_node *n,
                      const char *file, const char *full)
{
    const struct shim_key *k = key_by_path(full, strlen(full));
    if (!k) {
        LOG_WARN("%s:%u: unknown key %s ignored", file, n->line, full);
        return 1;
    }
    char text[1024];
    size_t len = 0;
    const char *want = "a string";
    int ok = 0;
    switch (k->type) {
    case SHIM_KBOOL:
        want = "true or false";
        if (n->type == SHIM_TOML_BOOL) {
            len = (size_t)shim_snprintf(text, sizeof(text), "%s", n->v.b ? "true" : "false");
            ok = 1;
        }
        break;
    case SHIM_KINT:
        want = "an integer";
        if (n->type == SHIM_TOML_INTEGER) {
            len = (size_t)shim_snprintf(text, sizeof(text), "%lld", (long long)n->v.i);
            ok = 1;
        }
        break;
    case SHIM_KSTR:
        want = "a string or an array of strings";
        if (n->type == SHIM_TOML_STRING) {
            const char *s = shim_toml_str(doc, n, &len);
            if (len < sizeof(text)) {
                memcpy(text, s, len);
                ok = 1;
            }
        } else if (n->type == SHIM_TOML_ARRAY) { /* joined with commas */
            ok = 1;
            for (const struct shim_toml_node *e = shim_toml_first(doc, n); e && ok; e = shim_toml_next(doc, e)) {
                size_t el;
                const char *s = e->type == SHIM_TOML_STRING ? shim_toml_str(doc, e, &el) : NULL;
                if (!s || len + el + 1 >= sizeof(text)) {
                    ok = 0;
                    break;
                }
                if (len)
                    text[len++] = ',';
                memcpy(text + len, s, el);
                len += el;
            }
        }
        break;
    }
    if (!ok) {
        LOG_ERROR("%s:%u: %s must be %s; using %s", file, n->line, full, want, k->def[0] ? k->def : "(empty)");
        return 1;
    }
    int rc = shim_config_set(cfg, k, text, len);
    if (rc) {
        LOG_ERROR("%s:%u: %s = %.*s is %s; using %s", file, n->line, full, 64, text,
                  rc == -ERANGE ? (k->type == SHIM_KINT ? "out of range" : "too long") : "not valid",
                  k->def[0] ? k->def : "(empty)");
        return 1;
    }
    return 0;
}

/* apply_table: every leaf under the observability table t */
static int apply_table(struct shim_config *cfg, const struct shim_toml_doc *doc, const struct shim_toml_node *t,
                       const char *file)
{
    int problems = 0;
    char rel[256], full[300];
    for (const struct shim_toml_node *l = shim_toml_next_leaf(doc, t, NULL); l; l = shim_toml_next_leaf(doc, t, l)) {
        if (shim_toml_path(doc, l, t, rel, sizeof(rel)) < 0)
            continue;
        shim_snprintf(full, sizeof(full), "observability.%s", rel);
        problems += apply_leaf(cfg, doc, l, file, full);
    }
    return problems;
}

int shim_config_from_file(struct shim_config *cfg, const char *path, const char *env)
{
    int problems = 0, fd = -1;
    void *src = MAP_FAILED, *arena = MAP_FAILED;
    size_t len = 0, asize = 0;
    fd = (int)syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        LOG_ERROR("%s: cannot open the settings file (errno %d); using the defaults", path, errno);
        problems = 1;
        goto out;
    }
    struct stat st;
    if (syscall(SYS_fstat, fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > FILE_MAX) {
        LOG_ERROR("%s: not a regular file of at most 1 MiB; using the defaults", path);
        problems = 1;
        goto out;
    }
    len = (size_t)st.st_size;
    src = mmap(NULL, len ? len : 1, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    asize = SHIM_TOML_ARENA_MAX(len);
    arena = mmap(NULL, asize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (src == MAP_FAILED || arena == MAP_FAILED) {
        problems = 1;
        goto out;
    }
    for (size_t off = 0; off < len;) {
        long n = syscall(SYS_read, fd, (char *)src + off, len - off);
        if (n <= 0) {
            len = off;
            break;
        }
        off += (size_t)n;
    }
    struct shim_toml_doc doc;
    if (shim_toml_parse(&doc, arena, asize, src, len) != 0) {
        LOG_ERROR("%s:%u:%u: %s; the settings file is ignored", path, doc.err.line, doc.err.col,
                  doc.err.msg ? doc.err.msg : "not valid TOML");
        problems = 1;
        goto out;
    }
    /* [observability], then [default.observability], then [ENV.observability] */
    char name[128];
    const struct shim_toml_node *t = shim_toml_get(&doc, NULL, "observability");
    if (t && t->type == SHIM_TOML_TABLE)
        problems += apply_table(cfg, &doc, t, path);
    t = shim_toml_get(&doc, NULL, "default.observability");
    if (t && t->type == SHIM_TOML_TABLE)
        problems += apply_table(cfg, &doc, t, path);
    if (env && env[0] && strcmp(env, "default") != 0 &&
        shim_snprintf(name, sizeof(name), "%s.observability", env) < (int)sizeof(name)) {
        const struct shim_toml_node *et = shim_toml_child(&doc, shim_toml_root(&doc), env, strlen(env));
        t = et ? shim_toml_child(&doc, et, "observability", 13) : NULL;
        if (t && t->type == SHIM_TOML_TABLE)
            problems += apply_table(cfg, &doc, t, path);
        else
            LOG_WARN("%s: PROMSHIM_ENV=%s but the file has no [%s.observability] table", path, env, env);
    }
out:
    if (fd >= 0)
        syscall(SYS_close, fd);
    if (src != MAP_FAILED)
        munmap(src, len ? len : 1);
    if (arena != MAP_FAILED)
        munmap(arena, asize);
    return problems;
}

/* shim_config_env: the value of variable name in envp, or NULL */
const char *shim_config_env(char *const *envp, const char *name)
{
    size_t n = strlen(name);
    for (; envp && *envp; envp++)
        if (strncmp(*envp, name, n) == 0 && (*envp)[n] == '=')
            return *envp + n + 1;
    return NULL;
}

/* shim_config_print: the effective settings, one "key = value  # VARIABLE"
 * line each, to fd (promshim --check-config) */
void shim_config_print(const struct shim_config *cfg, int fd)
{
    char line[1400];
    for (size_t i = 0; i < shim_nkeys; i++) {
        const struct shim_key *k = &shim_keys[i];
        const char *field = (const char *)cfg + k->off;
        int n;
        if (k->type == SHIM_KSTR)
            n = shim_snprintf(line, sizeof(line), "%s = \"%s\"    # %s\n", k->path, field, k->env);
        else if (k->type == SHIM_KBOOL)
            n = shim_snprintf(line, sizeof(line), "%s = %s    # %s\n", k->path, *(const int *)field ? "true" : "false",
                              k->env);
        else
            n = shim_snprintf(line, sizeof(line), "%s = %d    # %s\n", k->path, *(const int *)field, k->env);
        if (n > (int)sizeof(line) - 1)
            n = (int)sizeof(line) - 1;
        for (int off = 0; off < n;) {
            long w = syscall(SYS_write, fd, line + off, (size_t)(n - off));
            if (w <= 0)
                break;
            off += (int)w;
        }
    }
}
