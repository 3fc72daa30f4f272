/*
 * guard.h - inputs placed so that they end right at a PROT_NONE page: a
 * parser that reads one byte past what it was given crashes the test.
 * Define AREA (the largest input) before including it; header-only, one
 * test program per translation unit.
 *
 *   guard_init();                      once, at start
 *   const uint8_t *p = at_guard(s, n); a copy of s[0..n) ending at the page
 */
#ifndef TESTS_UNIT_GUARD_H
#define TESTS_UNIT_GUARD_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static uint8_t *guard_end; /* first byte of the PROT_NONE page */

/* guard_init: map AREA bytes followed by an inaccessible page. */
static void guard_init(void)
{
    size_t pg = (size_t)sysconf(_SC_PAGESIZE);
    uint8_t *base = mmap(NULL, (size_t)AREA + pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base == MAP_FAILED || mprotect(base + AREA, pg, PROT_NONE) != 0) {
        perror("mmap/mprotect");
        exit(2);
    }
    guard_end = base + AREA;
}

/* at_guard: copy src[0..n) so that it ends at the guard page; returns the copy. */
static const uint8_t *at_guard(const void *src, size_t n)
{
    if (n > (size_t)AREA) {
        fprintf(stderr, "input too big for the guard area\n");
        exit(2);
    }
    memmove(guard_end - n, src, n);
    return guard_end - n;
}

#endif
