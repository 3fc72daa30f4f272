/*
 * callsite.h - the module and function that opened a connection.
 */
#ifndef SHIM_CALLSITE_H
#define SHIM_CALLSITE_H

#include <stddef.h>

/* shim_callsite: name the caller of connect() from ret, connect's return
 * address: its module and function (a connect made inside libc is libc's).
 * Always fills module and function ("unknown" when it cannot be named).
 * Connect time only: the first time for a call site it takes the loader's
 * lock (dladdr). */
void shim_callsite(void *ret, char *module, size_t ms, char *function, size_t fs);

#endif
