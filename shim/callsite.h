/*
 * callsite.h - the module and function that opened a connection.
 */
#ifndef SHIM_CALLSITE_H
#define SHIM_CALLSITE_H

#include <stddef.h>

/* shim_callsite: name the first frame outside libc, the threading library,
 * the loader and promshim, starting from ret (the return address of the
 * connect() call). Always fills module and function ("unknown" when it
 * cannot be named). Connect time only: it may take the loader's lock. */
void shim_callsite(void *ret, char *module, size_t ms, char *function, size_t fs);

#endif
