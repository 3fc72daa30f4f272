/*
 * page.c - the status page at / (placeholder: a short index).
 */
#include "exporter/exporter.h"

void shim_page_render(struct shim_buf *b)
{
    shim_buf_puts(b, "<!doctype html><html><head><meta charset=\"utf-8\"><title>promshim</title></head><body>"
                     "<p><a href=\"/metrics\">/metrics</a> <a href=\"/healthz\">/healthz</a></p></body></html>\n");
}

void shim_history_tick(uint64_t now_ns)
{
    (void)now_ns;
}
