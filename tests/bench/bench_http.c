/*
 * bench_http - what promshim spends per HTTP request on parsing and
 * recording, without any I/O: an nginx-like request and response (headers
 * parsed, a 612-byte body skipped) through the parsers, then the request's
 * histogram observation. Prints ns per request (best of 5 runs).
 *
 *   bench_http [ITERATIONS]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "shim/config.h"
#include "shim/metrics.h"
#include "shim/proto/http1.h"
#include "shim/registry.h"
#include "shim/route.h"
#include "shim/shim.h"

static const char req[] = "GET /index.html HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: wrk\r\n\r\n";
static const char resp[] = "HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Wed, 25 Nov 2026 16:30:00 GMT\r\n"
                           "Content-Type: text/html\r\nContent-Length: 612\r\n"
                           "Last-Modified: Wed, 25 Nov 2026 15:00:00 GMT\r\nConnection: keep-alive\r\n"
                           "ETag: \"6745-264\"\r\nAccept-Ranges: bytes\r\n\r\n";

/* feed: run buf through the parser to NEED_MORE; returns events seen */
static int feed(struct shim_h1 *st, const uint8_t *b, size_t n, struct shim_h1_event *last)
{
    int events = 0;
    for (;;) {
        size_t used = 0;
        int rc = shim_h1_feed(st, b, n, last, &used);
        if (rc != SHIM_H1_EVENT)
            return rc == SHIM_H1_NEED_MORE ? events : -1;
        events++;
        b += used;
        n -= used;
    }
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 1000000;
    static uint8_t body[612];
    shim_config_defaults(&shim_cfg);
    shim_pid = 1;
    if (shim_registry_init(64 << 20, 2000) != 0 || shim_metrics_init() != 0) {
        fprintf(stderr, "bench_http: registry init failed\n");
        return 1;
    }
    struct shim_h1 rq, rs;
    shim_h1_init(&rq, SHIM_H1_REQUEST);
    shim_h1_init(&rs, SHIM_H1_RESPONSE);
    struct shim_m_cache cache;
    memset(&cache, 0, sizeof(cache));
    double best = 1e30;
    for (int rep = 0; rep < 5; rep++) {
        double t0 = now();
        for (long i = 0; i < n; i++) {
            struct shim_h1_event ev;
            char route[SHIM_ROUTE_CAP];
            if (feed(&rq, (const uint8_t *)req, sizeof(req) - 1, &ev) != 3)
                return 1;
            size_t rl = shim_route(NULL, ev.path, ev.path_len, route, sizeof(route));
            uint64_t start = shim_now_ns();
            shim_h1_expect(&rs, SHIM_HTTP_GET);
            if (feed(&rs, (const uint8_t *)resp, sizeof(resp) - 1, &ev) != 2 || feed(&rs, body, sizeof(body), &ev) != 1)
                return 1;
            shim_m_http_server(&cache, SHIM_HTTP_GET, route, rl, ev.status, 8080, "", shim_now_ns() - start, 0,
                               ev.body_bytes, 1);
        }
        double dt = (now() - t0) / (double)n;
        if (dt < best)
            best = dt;
    }
    printf("http_request_parse_and_record %.1f ns (request %zu + response head %zu bytes, 612-byte body skipped)\n",
           best, sizeof(req) - 1, sizeof(resp) - 1);
    return 0;
}
