/* fedproxy: a tampering HTTP proxy for the federation tests. A thread on 127.0.0.1 forwards each
 * request to an upstream port (one request per connection: it asks upstream to close and drops
 * Accept-Encoding so bodies arrive as plain text) and, in every response, replaces each
 * occurrence of find by repl (same length, so framing and Content-Length stay right). */
#ifndef CTIX_ITEST_FEDPROXY_H
#define CTIX_ITEST_FEDPROXY_H

#include <stdbool.h>
#include <stddef.h>

struct fedproxy;

/* Starts the proxy to 127.0.0.1:upstream_port. find and repl are borrowed, same length. */
bool fedproxy_start(struct fedproxy **out, int upstream_port, const char *find, const char *repl);
int fedproxy_port(const struct fedproxy *p);
/* Replacements made so far. */
size_t fedproxy_flips(const struct fedproxy *p);
/* Stops the thread and frees; NULL does nothing. */
void fedproxy_stop(struct fedproxy *p);

#endif
