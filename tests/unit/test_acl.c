/*
 * test_acl.c - allow lists: parsing, CIDR matching in both families,
 * IPv4-mapped addresses, bad entries skipped and named.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "shim/acl.h"
#include "unit.h"

static int allows4(const struct shim_acl *acl, const char *ip)
{
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    inet_pton(AF_INET, ip, &sin.sin_addr);
    return shim_acl_allows(acl, (struct sockaddr *)&sin, sizeof(sin));
}

static int allows6(const struct shim_acl *acl, const char *ip)
{
    struct sockaddr_in6 s6;
    memset(&s6, 0, sizeof(s6));
    s6.sin6_family = AF_INET6;
    inet_pton(AF_INET6, ip, &s6.sin6_addr);
    return shim_acl_allows(acl, (struct sockaddr *)&s6, sizeof(s6));
}

static void test_acl(void)
{
    struct shim_acl acl;
    int bad;
    CHECK_EQ(shim_acl_parse(&acl, "127.0.0.1, 10.0.0.0/8,::1/128 2001:db8::/32", &bad), 4);
    CHECK_EQ(bad, 0);
    CHECK(allows4(&acl, "127.0.0.1"));
    CHECK(!allows4(&acl, "127.0.0.2"));
    CHECK(allows4(&acl, "10.200.3.4"));
    CHECK(!allows4(&acl, "11.0.0.1"));
    CHECK(allows6(&acl, "::1"));
    CHECK(!allows6(&acl, "::2"));
    CHECK(allows6(&acl, "2001:db8:1::5"));
    CHECK(!allows6(&acl, "2001:db9::5"));
    CHECK(allows6(&acl, "::ffff:127.0.0.1")); /* mapped: matches as IPv4 */
    CHECK(!allows6(&acl, "::ffff:127.0.0.2"));
    CHECK_EQ(shim_acl_parse(&acl, "192.168.1.0/23,bogus,1.2.3.4/33,::1/129,/8,1.2.3.4/", &bad), 1);
    CHECK_EQ(bad, 2);
    CHECK(allows4(&acl, "192.168.0.255")); /* /23 of 192.168.1.0 is 192.168.0.0-1.255 */
    CHECK(!allows4(&acl, "192.168.2.0"));
    CHECK_EQ(shim_acl_parse(&acl, "", &bad), 0);
    CHECK(!allows4(&acl, "127.0.0.1"));
    CHECK_EQ(shim_acl_parse(&acl, "0.0.0.0/0", &bad), 1);
    CHECK(allows4(&acl, "8.8.8.8"));
    CHECK(!allows6(&acl, "2001:db8::1")); /* an IPv4 range never matches IPv6 */
}

int main(void)
{
    UNIT_RUN(test_acl);
    return unit_summary();
}
