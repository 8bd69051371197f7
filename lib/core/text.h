/*
 * Text helpers for strings that echo input (names, IDs, URLs, server
 * messages) into messages: control characters escaped, cuts at a UTF-8
 * boundary, formatting without a fixed-size buffer.
 */
#ifndef NEONFLOW_CORE_TEXT_H
#define NEONFLOW_CORE_TEXT_H

#include <stdarg.h>
#include <stddef.h>

/* Length of the longest prefix of s[0..len) of at most max bytes that does
 * not end inside a UTF-8 sequence. */
size_t neonflow__utf8_cut(const char *s, size_t len, size_t max);

/*
 * Writes s[0..len) to dst (dstsize > 0, always NUL-terminated) as one
 * printable line: C0 controls, DEL and bytes that are not valid UTF-8 become
 * \xNN (\n, \r, \t as such), C1 controls and bidi overrides \uNNNN. When it
 * does not fit it is cut at a character boundary and ends in "...".
 * Returns dst.
 */
const char *neonflow__echo_mem(char *dst, size_t dstsize, const char *s, size_t len);
/* The same for a NUL-terminated string; NULL prints "(null)". */
const char *neonflow__echo(char *dst, size_t dstsize, const char *s);

/* A URL for a message: scheme, host and path only — any userinfo becomes
 * "***@", a query or fragment "?***" — then escaped as by neonflow__echo. */
const char *neonflow__echo_url(char *dst, size_t dstsize, const char *url);

/* In place: escapes controls (as neonflow__echo) and cuts to at most max bytes
 * at a character boundary. Returns a new neonflow__malloc'd string (s is
 * freed) or s itself when nothing changed; NULL when out of memory (s freed). */
char *neonflow__text_clean(char *s, size_t max);

/* vsnprintf into a new neonflow__malloc'd string of the exact size (NULL on
 * ENOMEM or a format error). */
char *neonflow__vformat(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));
char *neonflow__format(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
