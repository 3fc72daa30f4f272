/*
 * netaddr.c - formatting peer addresses and errno names without libc's
 * locale-, malloc- or lock-touching helpers. Pure functions.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "shim/netaddr.h"
#include "shim/shim.h"

/* append decimal v */
static size_t put_dec(char *b, size_t at, size_t size, unsigned v)
{
    char t[12];
    int n = 0;
    do {
        t[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n && at + 1 < size)
        b[at++] = t[--n];
    return at;
}

static size_t put_ipv4(char *b, size_t at, size_t size, const uint8_t *a)
{
    for (int i = 0; i < 4; i++) {
        if (i && at + 1 < size)
            b[at++] = '.';
        at = put_dec(b, at, size, a[i]);
    }
    return at;
}

size_t shim_addr_format(int family, const uint8_t *a, char *b, size_t size)
{
    size_t at = 0;
    if (!size)
        return 0;
    if (family == AF_INET) {
        at = put_ipv4(b, 0, size, a);
        b[at] = '\0';
        return at;
    }
    uint16_t w[8];
    for (int i = 0; i < 8; i++)
        w[i] = (uint16_t)(a[2 * i] << 8 | a[2 * i + 1]);
    /* IPv4-mapped: ::ffff:a.b.c.d */
    if (!w[0] && !w[1] && !w[2] && !w[3] && !w[4] && w[5] == 0xffff) {
        static const char pfx[] = "::ffff:";
        for (size_t i = 0; pfx[i] && at + 1 < size; i++)
            b[at++] = pfx[i];
        at = put_ipv4(b, at, size, a + 12);
        b[at] = '\0';
        return at;
    }
    /* RFC 5952: the longest run (>= 2) of zero words becomes "::", the first
     * such run on a tie; hex in lower case without leading zeros */
    int best = -1, bestlen = 0;
    for (int i = 0; i < 8;) {
        if (w[i]) {
            i++;
            continue;
        }
        int j = i;
        while (j < 8 && !w[j])
            j++;
        if (j - i > bestlen && j - i >= 2) {
            best = i;
            bestlen = j - i;
        }
        i = j;
    }
    for (int i = 0; i < 8; i++) {
        if (i == best) {
            if (at + 1 < size)
                b[at++] = ':';
            if (i + bestlen == 8 && at + 1 < size)
                b[at++] = ':';
            i += bestlen - 1;
            continue;
        }
        if (i && at + 1 < size)
            b[at++] = ':';
        char t[4];
        int n = 0;
        unsigned v = w[i];
        do {
            t[n++] = "0123456789abcdef"[v & 15];
            v >>= 4;
        } while (v);
        while (n && at + 1 < size)
            b[at++] = t[--n];
    }
    b[at] = '\0';
    return at;
}

#define E(x) [x] = #x
static const char *const names[] = {
    E(EPERM), E(ENOENT), E(EINTR), E(EIO), E(EBADF), E(EAGAIN), E(ENOMEM), E(EACCES), E(EFAULT),
    E(EBUSY), E(EINVAL), E(ENFILE), E(EMFILE), E(ENOSPC), E(EPIPE), E(ENOTSOCK), E(EDESTADDRREQ),
    E(EMSGSIZE), E(EPROTOTYPE), E(ENOPROTOOPT), E(EPROTONOSUPPORT), E(EOPNOTSUPP), E(EAFNOSUPPORT),
    E(EADDRINUSE), E(EADDRNOTAVAIL), E(ENETDOWN), E(ENETUNREACH), E(ENETRESET), E(ECONNABORTED),
    E(ECONNRESET), E(ENOBUFS), E(EISCONN), E(ENOTCONN), E(ESHUTDOWN), E(ETIMEDOUT), E(ECONNREFUSED),
    E(EHOSTDOWN), E(EHOSTUNREACH), E(EALREADY), E(EINPROGRESS), E(ENOSR), E(EPROTO), E(ELOOP),
};
#undef E

const char *shim_errno_name(int err, char *buf, size_t size)
{
    if (err > 0 && (size_t)err < SHIM_ARRAY_LEN(names) && names[err])
        return names[err];
    shim_snprintf(buf, size, "E%d", err);
    return buf;
}
