/*
 * harness.h - what the protocol parser harnesses share: a run's trace (an
 * FNV-1a hash over its records, and their count), exact-size heap copies
 * (ASan sees any read past the end), abort() with a message, one stream
 * replayed every way (whole, split in two, in small chunks, byte by byte)
 * with every run's trace compared with the whole one's, and a detector
 * checked over growing prefixes. Header-only, one harness per translation
 * unit (static inline: a harness need not use everything); define HARNESS
 * (its name, "fuzz_x": the messages' prefix) before including it.
 */
#ifndef TESTS_FUZZ_HARNESS_H
#define TESTS_FUZZ_HARNESS_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FNV_OFFSET 14695981039346656037ull
#define FNV_PRIME 1099511628211ull

/* What one run saw: a hash over the ordered records and their count. */
struct trace {
    uint64_t hash;
    unsigned n;
};

/* trace_init: an empty trace. */
static inline void trace_init(struct trace *t)
{
    t->hash = FNV_OFFSET;
    t->n = 0;
}

/* mix: fold len bytes into the FNV-1a hash. */
static inline void mix(struct trace *t, const void *p, size_t len)
{
    const uint8_t *b = p;
    size_t i;
    for (i = 0; i < len; i++) {
        t->hash ^= b[i];
        t->hash *= FNV_PRIME;
    }
}

/* fail: report a broken invariant and abort (the fuzzer keeps the input). */
static inline void fail(const char *what, unsigned long a, unsigned long b)
{
    fprintf(stderr, HARNESS ": %s (%lu, %lu)\n", what, a, b);
    abort();
}

/* mix_stop: fold the record of a stop (BAD) at stream offset `at`: size
 * bytes (at most 64) of 0xEE, `at` in the first 8. */
static inline void mix_stop(struct trace *t, uint64_t at, size_t size)
{
    uint8_t rec[64];
    memset(rec, 0xEE, sizeof(rec));
    memcpy(rec, &at, 8);
    mix(t, rec, size < sizeof(rec) ? size : sizeof(rec));
}

/* copy_of: p[0..n) in a heap block of exactly n bytes (free it). */
static inline uint8_t *copy_of(const uint8_t *p, size_t n)
{
    uint8_t *copy = malloc(n ? n : 1);
    if (!copy)
        abort();
    memcpy(copy, p, n);
    return copy;
}

/* ---------------------------------------------------------------- replay */

/* The ways one stream is fed; all must give the whole run's trace. */
enum { WAY_WHOLE, WAY_SPLIT, WAY_CHUNKS, WAY_BYTES, WAY_COUNT };

static const char *const way_name[WAY_COUNT] = {"whole", "split in two", "small chunks", "byte by byte"};

/* Small chunks: sizes 1..13 from the data (1 + byte % 13), or 1..16 from
 * an FNV hash of the whole stream stepped by an LCG. */
enum { CHUNKS_FROM_DATA, CHUNKS_HASHED };

/* How a harness plays the caller. A run is the harness's own struct,
 * whose first member is its struct trace. */
struct replay {
    void (*start)(void *run, int way); /* a fresh parser and trace */
    void (*feed)(void *run, const uint8_t *p, size_t n);
    void (*finish)(void *run);         /* the end of the stream */
    int chunks;                        /* CHUNKS_FROM_DATA or CHUNKS_HASHED */
    size_t bytewise_max;               /* byte by byte when len <= this */
};

/* feed_way: one run over data[0..len) fed the given way. */
static inline void feed_way(const struct replay *how, void *run, int way, const uint8_t *data, size_t len, size_t split)
{
    uint64_t seed = FNV_OFFSET;
    size_t i, n;

    how->start(run, way);
    switch (way) {
    case WAY_WHOLE:
        how->feed(run, data, len);
        break;
    case WAY_SPLIT:
        how->feed(run, data, split);
        how->feed(run, data + split, len - split);
        break;
    case WAY_CHUNKS:
        if (how->chunks == CHUNKS_HASHED)
            for (i = 0; i < len; i++)
                seed = (seed ^ data[i]) * FNV_PRIME;
        for (i = 0; i < len; i += n) {
            if (how->chunks == CHUNKS_HASHED) {
                seed = seed * 6364136223846793005ull + 1442695040888963407ull;
                n = 1 + (size_t)(seed >> 60);
            } else {
                n = 1 + (data[i] % 13);
            }
            if (n > len - i)
                n = len - i;
            how->feed(run, data + i, n);
        }
        break;
    default:
        for (i = 0; i < len; i++)
            how->feed(run, data + i, 1);
        break;
    }
    how->finish(run);
}

/* replay: data[0..len) fed whole into `whole`, then every other way into
 * `other` (split in two at `split`); abort unless all traces agree. */
static inline void replay(const struct replay *how, void *whole, void *other, const uint8_t *data, size_t len, size_t split)
{
    const struct trace *w = whole, *o = other;
    int way;

    feed_way(how, whole, WAY_WHOLE, data, len, split);
    for (way = WAY_SPLIT; way < WAY_COUNT; way++) {
        if (way == WAY_BYTES && len > how->bytewise_max)
            break;
        feed_way(how, other, way, data, len, split);
        if (w->hash != o->hash || w->n != o->n) {
            fprintf(stderr, HARNESS ": trace of %s differs from whole (%u vs %u records)\n", way_name[way], o->n,
                    w->n);
            abort();
        }
    }
}

/* ---------------------------------------------------------------- detectors */

/* check_detect: detect over growing prefixes of data (exact-size copies,
 * up to `most` bytes) answers -1 (need more) or 0..max, and once decided
 * the same for every longer prefix; returns the decision (-1: none). */
static inline int check_detect(const uint8_t *data, size_t len, size_t most, int max,
                        int (*detect)(const uint8_t *, size_t))
{
    size_t n, end = len < most ? len : most;
    int decided = -1;
    for (n = 0; n <= end; n++) {
        uint8_t *copy = copy_of(data, n);
        int d = detect(copy, n);
        free(copy);
        if (d < -1 || d > max)
            fail("detector result", (unsigned long)d, n);
        if (decided >= 0 && d != decided)
            fail("detector changed its mind", (unsigned long)decided, (unsigned long)d);
        if (d >= 0)
            decided = d;
    }
    return decided;
}

#endif
