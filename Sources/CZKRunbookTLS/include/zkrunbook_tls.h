#ifndef ZKRUNBOOK_TLS_H
#define ZKRUNBOOK_TLS_H

#include <stddef.h>

/// TLS client connections through the system's OpenSSL 3 (libssl.so.3), loaded at run time with dlopen:
/// the binary starts, and does all its plaintext work, where libssl is absent; only a TLS request then
/// fails, saying what to install.

/// 1 when libssl.so.3 and libcrypto.so.3 were loaded with every function used here; else 0 and why in `why`.
int zkrunbook_tls_available(char *why, size_t why_length);

/// A client context: the CA file to verify servers with (NULL: the system's default paths), the client
/// certificate chain and key (PEM; NULL: none), the key's password (NULL: none). NULL on failure, with the
/// reason in `error`.
void *zkrunbook_tls_context_new(const char *ca_file, const char *certificate_file, const char *key_file, const char *key_password,
                                char *error, size_t error_length);
void zkrunbook_tls_context_free(void *context);

/// Takes the client certificate and key from a PKCS#12 file (what a Java keystore converts to) into
/// `context`: 1 done; 0 and why in `error` (not PKCS#12, a wrong password, no key in it).
int zkrunbook_tls_context_use_pkcs12(void *context, const char *path, const char *password, char *error, size_t error_length);

/// Outcomes of a handshake, so the caller can name the failure and its fix.
enum {
    ZKRUNBOOK_TLS_OK = 0,
    ZKRUNBOOK_TLS_TIMEOUT = 1,
    /// The server's certificate did not verify (detail: OpenSSL's verify error, and its number in *verify_code).
    ZKRUNBOOK_TLS_VERIFY_FAILED = 2,
    /// The server sent an alert (detail names it; 42/116: it wanted a client certificate).
    ZKRUNBOOK_TLS_ALERT = 3,
    /// The peer does not speak TLS (a plaintext port), or closed during the handshake.
    ZKRUNBOOK_TLS_NOT_TLS = 4,
    ZKRUNBOOK_TLS_FAILED = 5,
};

/// Runs a client handshake on the connected non-blocking socket `fd` within `timeout_ms`. `host` is sent as
/// SNI (when a name) and checked against the certificate (name or IP address) when `verify_host` is 1.
/// On ZKRUNBOOK_TLS_OK *session is the connection (free it with zkrunbook_tls_close); otherwise `error` says
/// what happened and *verify_code holds OpenSSL's verify result (0 when none).
int zkrunbook_tls_handshake(void *context, int fd, const char *host, int verify_host, int timeout_ms, void **session, long *verify_code,
                            char *error, size_t error_length);

/// Sends all `length` bytes by `timeout_ms`: 0 done, -1 timed out, -2 failed (`error` says why).
int zkrunbook_tls_send(void *session, const void *bytes, size_t length, int timeout_ms, char *error, size_t error_length);

/// Receives up to `length` bytes within `timeout_ms`: the count, 0 when the peer closed, -1 timed out,
/// -2 failed (`error` says why).
long zkrunbook_tls_receive(void *session, void *buffer, size_t length, int timeout_ms, char *error, size_t error_length);

/// The peer certificate's notAfter as seconds since 1970 (0 when unknown), and its serial in hex.
long long zkrunbook_tls_peer_not_after(void *session);
int zkrunbook_tls_peer_serial(void *session, char *serial, size_t serial_length);

/// Sends close_notify (best effort) and frees the session; the socket stays the caller's to close.
void zkrunbook_tls_close(void *session);

#endif
