/*
 * acl.c - allow lists of addresses and CIDR ranges for the exporter.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "shim/acl.h"

/* parse_entry: one "addr[/prefix]" of s[0..n) into *out; 0 or -1 */
static int parse_entry(const char *s, size_t n, struct shim_acl_entry *out)
{
    char buf[64];
    if (n == 0 || n >= sizeof(buf))
        return -1;
    memcpy(buf, s, n);
    buf[n] = '\0';
    char *slash = strchr(buf, '/');
    int prefix = -1;
    if (slash) {
        *slash = '\0';
        const char *p = slash + 1;
        if (!*p)
            return -1;
        prefix = 0;
        for (; *p; p++) {
            if (*p < '0' || *p > '9' || prefix > 128)
                return -1;
            prefix = prefix * 10 + (*p - '0');
        }
    }
    memset(out, 0, sizeof(*out));
    if (inet_pton(AF_INET, buf, out->addr) == 1) {
        out->family = AF_INET;
        if (prefix > 32)
            return -1;
        out->prefix = (uint8_t)(prefix < 0 ? 32 : prefix);
    } else if (inet_pton(AF_INET6, buf, out->addr) == 1) {
        out->family = AF_INET6;
        if (prefix > 128)
            return -1;
        out->prefix = (uint8_t)(prefix < 0 ? 128 : prefix);
    } else {
        return -1;
    }
    return 0;
}

int shim_acl_parse(struct shim_acl *acl, const char *spec, int *bad)
{
    int idx = 0;
    memset(acl, 0, sizeof(*acl));
    if (bad)
        *bad = 0;
    for (const char *p = spec ? spec : ""; *p;) {
        while (*p == ',' || *p == ' ' || *p == '\t')
            p++;
        if (!*p)
            break;
        const char *q = p;
        while (*q && *q != ',' && *q != ' ' && *q != '\t')
            q++;
        idx++;
        struct shim_acl_entry e;
        if (parse_entry(p, (size_t)(q - p), &e) == 0 && acl->n < SHIM_ACL_MAX)
            acl->e[acl->n++] = e;
        else if (bad && !*bad)
            *bad = idx;
        p = q;
    }
    return (int)acl->n;
}

/* prefix_match: the first bits of a and b are equal */
static int prefix_match(const uint8_t *a, const uint8_t *b, unsigned bits)
{
    unsigned full = bits / 8, rest = bits % 8;
    if (memcmp(a, b, full) != 0)
        return 0;
    if (!rest)
        return 1;
    uint8_t mask = (uint8_t)(0xff << (8 - rest));
    return (a[full] & mask) == (b[full] & mask);
}

int shim_acl_allows(const struct shim_acl *acl, const struct sockaddr *sa, socklen_t len)
{
    uint8_t a4[4], a6[16];
    int has4 = 0, has6 = 0;
    if (sa && sa->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
        memcpy(a4, &((const struct sockaddr_in *)sa)->sin_addr, 4);
        has4 = 1;
    } else if (sa && sa->sa_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
        memcpy(a6, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
        has6 = 1;
        static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (memcmp(a6, mapped, 12) == 0) {
            memcpy(a4, a6 + 12, 4);
            has4 = 1;
        }
    }
    for (unsigned i = 0; i < acl->n; i++) {
        const struct shim_acl_entry *e = &acl->e[i];
        if (e->family == AF_INET && has4 && prefix_match(e->addr, a4, e->prefix))
            return 1;
        if (e->family == AF_INET6 && has6 && prefix_match(e->addr, a6, e->prefix))
            return 1;
    }
    return 0;
}
