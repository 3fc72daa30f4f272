/*
 * db.c - database and cache sessions (placeholder: passes through).
 */
#include <errno.h>

#include "shim/db.h"

int shim_db_metrics_init(void)
{
    return 0;
}

int shim_db_start(struct shim_fd *e, struct shim_db_sess *s, enum shim_proto proto)
{
    s->proto = (uint8_t)proto;
    return 0;
}

int shim_db_data(struct shim_fd *e, struct shim_db_sess *s, enum shim_dir dir, const uint8_t *buf, size_t n)
{
    return -ENOTCONN;
}

void shim_db_end(struct shim_fd *e, struct shim_db_sess *s, int dir, int err)
{
}
