/*
 * db.h - sessions of the database and cache protocols: Redis, memcached,
 * PostgreSQL and MySQL. The events of each protocol's two parsers
 * (shim/proto/) become db_client_operation_duration_seconds (or the server
 * side's db_server_...) and db_client_cache_lookups_total.
 */
#ifndef SHIM_DB_H
#define SHIM_DB_H

#include <stddef.h>
#include <stdint.h>

#include "shim/conn.h"

struct shim_db_sess {
    uint8_t proto; /* enum shim_proto */
};

/* shim_db_metrics_init: create the db families (called by shim_metrics_init
 * once per registry). 0 or -ENOMEM. */
int shim_db_metrics_init(void);

int shim_db_start(struct shim_fd *e, struct shim_db_sess *s, enum shim_proto proto);
/* returns 0, -EPROTO (not this protocol after all: pass through, counted as
 * a parse error) or -ENOTCONN (stop parsing: TLS follows) */
int shim_db_data(struct shim_fd *e, struct shim_db_sess *s, enum shim_dir dir, const uint8_t *buf, size_t n);
/* dir DIR_RX: the peer closed (err 0) or reset (err); -1: the program closed
 * the connection; -2: parsing stops, in-flight operations are not recorded */
void shim_db_end(struct shim_fd *e, struct shim_db_sess *s, int dir, int err);

#endif
