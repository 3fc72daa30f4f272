/*
 * config.h - promshim's settings: one table of keys, each with its TOML path,
 * its environment variable (mapped mechanically from the path), its type,
 * default and bounds. Read once in the constructor into the process-private
 * `shim_cfg`; nothing reads the environment after that (some servers replace
 * environ in their workers).
 */
#ifndef SHIM_CONFIG_H
#define SHIM_CONFIG_H

#include <stddef.h>

struct shim_config {
    int enabled;          /* observability.enabled */
    int exporter_enabled; /* observability.exporter_enabled */
    int exporter_port;    /* observability.exporter_port */
    int exporter_port_range; /* observability.exporter_port_range */
    char bind_address[64];   /* observability.bind_address */
    char textfile_path[512]; /* observability.textfile_path */
    char log_level[16];      /* observability.log_level */
    int metrics_enabled;     /* observability.metrics.enabled */
    int collection_interval_seconds;
    int metrics_protection_enabled;
    char allow_metrics_ips[1024];
    char basic_auth_user[128];          /* observability.metrics.basic_auth_user */
    char basic_auth_password_file[512]; /* observability.metrics.basic_auth_password_file */
    int series_cap;          /* observability.metrics.series_cap */
    int registry_size_mb;    /* observability.metrics.registry_size_mb */
    int series_ttl_seconds;  /* observability.metrics.series_ttl_seconds */
    char http_routes[2048];  /* observability.http.routes */
    char dlq_patterns[512];  /* observability.kafka.dead_letter_patterns */
    int max_sessions;        /* observability.metrics.max_parsed_connections */
    char plugins[1024];      /* observability.plugins */
    int callsite_enabled;    /* observability.callsite_enabled */
    char discovery_dir[512]; /* observability.discovery_dir */
    char discovery_host[128];
    char job[128];
    int start_delay_ms;      /* observability.exporter_start_delay_ms */
    int follow_children;     /* observability.follow_children */
    char programs[512];      /* observability.programs */
    char pushgateway_url[512];
    int pushgateway_timeout_ms;
};

extern struct shim_config shim_cfg;

enum shim_ktype { SHIM_KBOOL, SHIM_KINT, SHIM_KSTR };

struct shim_key {
    const char *path; /* TOML path under the environment table */
    const char *env;  /* PROMSHIM_... */
    enum shim_ktype type;
    size_t off;       /* offset in struct shim_config */
    size_t size;      /* for strings: buffer size */
    long min, max;    /* for ints */
    const char *def;  /* default, as text */
    const char *doc;  /* one line for the README and --check-config */
};

extern const struct shim_key shim_keys[];
extern const size_t shim_nkeys;

/* shim_config_defaults: fill cfg with every key's default. */
void shim_config_defaults(struct shim_config *cfg);

/* shim_config_set: parse `value` for key k into cfg. Returns 0, or -EINVAL
 * (not of the key's type) / -ERANGE (out of bounds); cfg is unchanged then.
 * `n` is the value's length (it need not be NUL-terminated). */
int shim_config_set(struct shim_config *cfg, const struct shim_key *k, const char *value, size_t n);

/* shim_config_from_env: apply every PROMSHIM_* variable of envp to cfg;
 * bad values are reported once on stderr (variable, value, the default
 * kept) and unknown PROMSHIM_* names get a warning. Returns the number of
 * problems reported. */
int shim_config_from_env(struct shim_config *cfg, char *const *envp);

/* shim_config_from_file: apply the TOML settings file at path: the keys of
 * [observability], then [default.observability], then [ENV.observability]
 * (env from PROMSHIM_ENV). Unknown keys get a warning with their line, a
 * value of the wrong type or out of range an error with its line (the key
 * keeps its earlier value), an unreadable or invalid file one error with
 * file:line:column. Returns the number of problems reported. */
int shim_config_from_file(struct shim_config *cfg, const char *path, const char *env);

/* shim_config_env: the value of variable name in envp, or NULL */
const char *shim_config_env(char *const *envp, const char *name);

/* shim_config_print: the effective settings, one line per key, to fd */
void shim_config_print(const struct shim_config *cfg, int fd);

/* shim_config_key_by_env: the key whose variable is name[0..n), or NULL. */
const struct shim_key *shim_config_key_by_env(const char *name, size_t n);

#endif
