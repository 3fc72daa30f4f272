/*
 * netaddr.h - address and errno formatting that is async-signal-safe
 * (glibc's inet_ntop and strerrorname_np are not promised to be).
 */
#ifndef SHIM_NETADDR_H
#define SHIM_NETADDR_H

#include <stddef.h>
#include <stdint.h>

/* shim_addr_format: IPv4 dotted quad or IPv6 in RFC 5952 form (IPv4-mapped
 * addresses as ::ffff:a.b.c.d) into buf (>= 46 bytes). Returns the length. */
size_t shim_addr_format(int family, const uint8_t *addr, char *buf, size_t size);

/* shim_errno_name: "ECONNREFUSED" etc., or "E<number>" written into buf. */
const char *shim_errno_name(int err, char *buf, size_t size);

#endif
