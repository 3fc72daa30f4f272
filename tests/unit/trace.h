/*
 * trace.h - recorded sessions and the stream cutting shared by the parser
 * tests (MySQL, PostgreSQL, Kafka): a capture's segments joined into its
 * two directions, and a stream fed again byte by byte, split in two at
 * every offset and in pseudo-random partitions, each run compared with the
 * whole one. Header-only, one test program per translation unit; include
 * unit.h first. May be defined before including it:
 *   STREAM_CAP  the longest stream, each direction of a session (16384)
 *   MAXSEG      segments of a capture (128)
 *
 *   session_load(&sess, capture, NSEG(capture));
 *   run whole; split_all(name, &stream, &plan, seed, again);
 */
#ifndef TESTS_UNIT_TRACE_H
#define TESTS_UNIT_TRACE_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef STREAM_CAP
#define STREAM_CAP 16384
#endif
#ifndef MAXSEG
#define MAXSEG 128
#endif

#define NSEG(a) (sizeof(a) / sizeof((a)[0]))

/* One syscall of a capture: '>' client->server, '<' server->client. */
struct seg {
    char dir;
    uint32_t len;
    const char *b;
};

/* A capture split into its two directions. client_at[k] / server_at[k]:
 * where segment k starts in its direction's stream. */
struct session {
    uint8_t client[STREAM_CAP], server[STREAM_CAP];
    size_t client_len, server_len;
    size_t nseg;
    char dir[MAXSEG];
    size_t client_at[MAXSEG], server_at[MAXSEG];
};

/* session_load: concatenate the segments of a capture (exits when it does
 * not fit). */
static void session_load(struct session *s, const struct seg *segs, size_t n)
{
    size_t k;
    if (n > MAXSEG) {
        fprintf(stderr, "too many segments\n");
        exit(2);
    }
    s->client_len = s->server_len = 0;
    for (k = 0; k < n; k++) {
        int out = segs[k].dir == '>';
        uint8_t *to = out ? s->client : s->server;
        size_t *len = out ? &s->client_len : &s->server_len;
        s->dir[k] = segs[k].dir;
        s->client_at[k] = s->client_len;
        s->server_at[k] = s->server_len;
        if (segs[k].len > STREAM_CAP - *len) {
            fprintf(stderr, "capture too big\n");
            exit(2);
        }
        memcpy(to + *len, segs[k].b, segs[k].len);
        *len += segs[k].len;
    }
    s->nseg = n;
}

/* send_point: the server stream's offset at which the client byte at
 * offset client_end - 1 had been sent (the server bytes read before it). */
static size_t send_point(const struct session *s, size_t client_end)
{
    size_t k, at = 0;
    for (k = 0; k < s->nseg; k++)
        if (s->dir[k] == '>' && s->client_at[k] < client_end)
            at = s->server_at[k];
    return at;
}

/* next_cut: the end of the chunk that starts at a: the first of the
 * ascending cuts[*ci..ncuts) past a (*ci moved on to it), else len. */
static size_t next_cut(const size_t *cuts, size_t ncuts, size_t *ci, size_t a, size_t len)
{
    while (*ci < ncuts && cuts[*ci] <= a)
        (*ci)++;
    return *ci < ncuts && cuts[*ci] < len ? cuts[*ci] : len;
}

/* appendf: printf-style text appended at out + *n (cap bytes in all),
 * *n moved on; nothing more once out is full. */
static void appendf(char *out, size_t cap, size_t *n, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void appendf(char *out, size_t cap, size_t *n, const char *fmt, ...)
{
    va_list ap;
    if (*n >= cap)
        return;
    va_start(ap, fmt);
    *n += (size_t)vsnprintf(out + *n, cap - *n, fmt, ap);
    va_end(ap);
}

/* ---------------------------------------------------------------- splits */

/* How split_all cuts a stream of len bytes. */
struct split_plan {
    size_t bytewise_max;        /* byte by byte when len <= this */
    size_t every_max;           /* split in two at every offset when len <= this, else at ~1000 */
    int partitions;             /* random partitions: */
    int small;                  /*   the first `small` in chunks of 1..7 bytes, */
    size_t chunk;               /*   the others in chunks of 1..chunk bytes */
    size_t big_chunk;           /*   (1..big_chunk when len > 64 KB) */
    unsigned long max_failures; /* the splits in two stop once more checks failed */
};

/* A stream to cut: the parser's mode, the bytes, and what the parser is
 * told besides them (the test's own). */
struct split_ctx {
    int mode;
    const uint8_t *in;
    size_t len;
    const void *told;
};

/* split_fn: run the parser again over the stream cut at the ascending
 * offsets cuts[0..ncuts); returns 1 when the trace is the whole run's. */
typedef int (*split_fn)(const struct split_ctx *s, const size_t *cuts, size_t ncuts);

static uint64_t rng_state;

/* rnd: a pseudo-random number in 0..n-1 (the partitions' generator). */
static size_t rnd(size_t n)
{
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return (size_t)(rng_state >> 33) % n;
}

static size_t split_cuts[STREAM_CAP];

/*
 * split_all: after the whole run (the caller's), the stream again byte by
 * byte, split in two and in random partitions from `seed`, as plan says;
 * each run is one check that again() gives the whole run's trace.
 */
static void split_all(const char *name, const struct split_ctx *s, const struct split_plan *plan, uint64_t seed,
                      split_fn again)
{
    size_t *cuts = split_cuts, len = s->len;
    size_t k, n, step = len <= plan->every_max ? 1 : len / 997;
    int r;

    if (len <= plan->bytewise_max) {
        for (k = 0; k + 1 < len; k++)
            cuts[k] = k + 1;
        unit_set_context("%s: byte by byte", name);
        CHECK(again(s, cuts, len ? len - 1 : 0));
    }
    for (k = 1; k < len; k += step) {
        cuts[0] = k;
        unit_set_context("%s: split at %zu", name, k);
        CHECK(again(s, cuts, 1));
        if (unit_failures > plan->max_failures)
            break;
    }
    rng_state = seed;
    for (r = 0; r < plan->partitions; r++) {
        size_t at = 0, most = r < plan->small ? 7 : len > 65536 ? plan->big_chunk : plan->chunk;
        n = 0;
        while (1) {
            at += 1 + rnd(most);
            if (at >= len)
                break;
            cuts[n++] = at;
        }
        unit_set_context("%s: random partition %d", name, r);
        CHECK(again(s, cuts, n));
    }
    unit_context[0] = 0;
}

#endif
