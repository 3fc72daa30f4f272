/*
 * acl.h - the addresses allowed to scrape: IPv4 and IPv6 addresses and CIDR
 * ranges, parsed from observability.metrics.allow_metrics_ips. Plain data,
 * no allocation.
 */
#ifndef SHIM_ACL_H
#define SHIM_ACL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define SHIM_ACL_MAX 32

struct shim_acl_entry {
    uint8_t family; /* AF_INET, AF_INET6 */
    uint8_t prefix; /* bits that must match */
    uint8_t addr[16];
};

struct shim_acl {
    unsigned n;
    struct shim_acl_entry e[SHIM_ACL_MAX];
};

/* shim_acl_parse: replace *acl by the entries of spec (comma or space
 * separated "a.b.c.d", "a.b.c.d/n", "x::y", "x::y/n"). A bad entry is
 * skipped; *bad (if not NULL) gets the 1-based number of the first bad one,
 * or 0. Returns the number of entries kept. */
int shim_acl_parse(struct shim_acl *acl, const char *spec, int *bad);

/* shim_acl_allows: 1 when sa is in one of the ranges. An IPv4-mapped IPv6
 * address (::ffff:a.b.c.d) matches as the IPv4 address it carries. */
int shim_acl_allows(const struct shim_acl *acl, const struct sockaddr *sa, socklen_t len);

#endif
