/*
 * log.c - promshim's one way to say something: an async-signal-safe
 * formatter and a write(2) to stderr through the real write. Nothing here
 * allocates, locks or uses stdio, and errno is left as it was.
 */
#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "shim/shim.h"

int shim_log_level = SHIM_LOG_WARN;
unsigned long shim_surprises;

/* put one char into buf if room; always count it */
static void put(char *buf, size_t size, size_t *at, char c)
{
    if (*at + 1 < size)
        buf[*at] = c;
    (*at)++;
}

/* format an unsigned number in base 10 or 16 */
static void put_num(char *buf, size_t size, size_t *at, unsigned long long v, int base, int neg)
{
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = "0123456789abcdef"[v % (unsigned)base];
        v /= (unsigned)base;
    } while (v && n < (int)sizeof(tmp));
    if (neg)
        put(buf, size, at, '-');
    while (n)
        put(buf, size, at, tmp[--n]);
}

/*
 * shim_vsnprintf: a small printf: %s %.*s %c %d %i %u %x %ld %lu %lx %lld
 * %llu %zu %zd %%. Unknown conversions are copied as they are. Returns the
 * length it would have written; NUL-terminates when size > 0.
 */
int shim_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
    size_t at = 0;
    for (const char *p = fmt; *p; p++) {
        if (*p != '%') {
            put(buf, size, &at, *p);
            continue;
        }
        p++;
        int prec = -1, lng = 0, sz = 0;
        if (p[0] == '.' && p[1] == '*') {
            prec = va_arg(ap, int);
            p += 2;
        }
        while (*p == 'l') {
            lng++;
            p++;
        }
        if (*p == 'z') {
            sz = 1;
            p++;
        }
        switch (*p) {
        case 's': {
            const char *s = va_arg(ap, const char *);
            if (!s)
                s = "(null)";
            for (int i = 0; s[i] && (prec < 0 || i < prec); i++)
                put(buf, size, &at, s[i]);
            break;
        }
        case 'c':
            put(buf, size, &at, (char)va_arg(ap, int));
            break;
        case 'd':
        case 'i': {
            long long v = sz ? (long long)va_arg(ap, ssize_t)
                          : lng ? (lng > 1 ? va_arg(ap, long long) : va_arg(ap, long))
                                : va_arg(ap, int);
            put_num(buf, size, &at, v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v, 10, v < 0);
            break;
        }
        case 'u':
        case 'x': {
            unsigned long long v = sz ? va_arg(ap, size_t)
                                   : lng ? (lng > 1 ? va_arg(ap, unsigned long long) : va_arg(ap, unsigned long))
                                         : va_arg(ap, unsigned);
            put_num(buf, size, &at, v, *p == 'x' ? 16 : 10, 0);
            break;
        }
        case '%':
            put(buf, size, &at, '%');
            break;
        case '\0':
            p--;
            break;
        default:
            put(buf, size, &at, '%');
            put(buf, size, &at, *p);
        }
    }
    if (size)
        buf[at < size ? at : size - 1] = '\0';
    return (int)at;
}

int shim_snprintf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = shim_vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}

/*
 * shim_log_write: "promshim: <level>: <message>\n" to fd 2 with a raw
 * write syscall (never the hooked write), at most 512 bytes.
 */
void shim_log_write(int level, const char *fmt, ...)
{
    static const char *const names[] = {"error: ", "warning: ", "", "debug: "};
    char buf[512];
    int saved = errno;
    size_t at = (size_t)shim_snprintf(buf, sizeof(buf), "promshim: %s",
                                      names[level >= 0 && level <= 3 ? level : 0]);
    va_list ap;
    va_start(ap, fmt);
    if (at < sizeof(buf))
        at += (size_t)shim_vsnprintf(buf + at, sizeof(buf) - at, fmt, ap);
    va_end(ap);
    if (at > sizeof(buf) - 2)
        at = sizeof(buf) - 2;
    buf[at++] = '\n';
    for (size_t off = 0; off < at;) {
        long n = syscall(SYS_write, 2, buf + off, at - off);
        if (n <= 0)
            break;
        off += (size_t)n;
    }
    errno = saved;
}
