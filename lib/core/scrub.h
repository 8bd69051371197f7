/*
 * The one scrubbing mechanism of libneonflow: every string that leaves the
 * library (error fields, report, events, log and trace lines) passes through
 * it with the client's API key, before any truncation.
 *
 * The rule ("the key, whole or in part"): any run of at least
 * NEONFLOW__SCRUB_MIN_RUN (12) consecutive characters of the key (the whole
 * key when it is shorter), written literally, percent-encoded (%XX, as in a
 * URL path, query or userinfo) or JSON-escaped (\uXXXX, \/, \\, \"), is
 * replaced by "***". Why 12: a fragment that long is never a coincidence
 * for a random key (62 bits of a base-36 Neon key), while shorter runs of
 * word-like keys ("emulator-key", "ci-test-key-1") occur in ordinary text
 * (host names, messages) and would be blanked for nothing; a shorter
 * fragment leaves 50+ random characters unknown. Everything is scrubbed
 * before it is cut, so a cut never leaves an unmatched piece behind.
 */
#ifndef NEONFLOW_CORE_SCRUB_H
#define NEONFLOW_CORE_SCRUB_H

#include <stddef.h>

#include "neonflow/errors.h"

#define NEONFLOW__SCRUB_MIN_RUN 12
/* Error messages are cut to this many bytes (after scrubbing). */
#define NEONFLOW__MESSAGE_MAX 4096

struct neonflow_client;

/* Scrubs data[0..len) in place and returns the new length. The result is
 * never longer: a match of fewer than 3 bytes (keys of 1-2 characters)
 * becomes as many '*'. Binary-safe; NULL or "" secret changes nothing. */
size_t neonflow__scrub_mem(char *data, size_t len, const char *secret);

/* Same for a NUL-terminated string (NULL is accepted). */
void neonflow__scrub(char *s, const char *secret);

/* A scrubbed copy of the start of s[0..n) long enough to give `keep` bytes
 * of output: s is read up to a window past `keep` that holds any key run
 * crossing the cut, so the cut never splits an unscrubbed key. Returns a
 * neonflow__malloc'd, NUL-terminated string (*out_len bytes, not yet cut to
 * keep) or NULL when out of memory. */
char *neonflow__scrub_prefix(const char *s, size_t n, size_t keep, const char *secret, size_t *out_len);

/* 1 when data[0..len) holds the secret by the rule above. */
int neonflow__scrub_found(const char *data, size_t len, const char *secret);

/* Scrubs every string field of *e in place, then escapes control characters
 * in the message and cuts it to NEONFLOW__MESSAGE_MAX bytes at a UTF-8
 * boundary. NULL-safe. */
void neonflow__error_scrub(neonflow_error *e, const char *secret);

/* The library boundary for errors: scrubs *err with the client's key when err
 * and *err are set; returns rc. Every public call taking a client returns
 * through this. */
int neonflow__client_errors(const struct neonflow_client *c, int rc, neonflow_error **err);

/* The key of the client (NULL when c is NULL). */
const char *neonflow__client_secret(const struct neonflow_client *c);

#endif
