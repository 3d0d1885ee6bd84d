// TLS client connections through the system's OpenSSL 3, loaded at run time.
//
// Why dlopen and not a link-time dependency: one binary runs on every node, and a node without libssl must
// still run every plaintext runbook; a binary linked against libssl.so.3 would not even start there. The
// OpenSSL 3 ABI is stable across 3.x, so the handful of functions below are declared here with opaque types
// and looked up by name; no OpenSSL header is needed to build.

#define _GNU_SOURCE
#include "zkrunbook_tls.h"

#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct ssl_ctx_st SSL_CTX;
typedef struct ssl_st SSL;
typedef struct ssl_method_st SSL_METHOD;
typedef struct x509_st X509;
typedef struct asn1_string_st ASN1_TIME;
typedef struct asn1_string_st ASN1_INTEGER;
typedef struct bignum_st BIGNUM;
typedef struct X509_VERIFY_PARAM_st X509_VERIFY_PARAM;
typedef struct x509_store_ctx_st X509_STORE_CTX;
typedef struct bio_st BIO;
typedef struct PKCS12_st PKCS12;
typedef struct evp_pkey_st EVP_PKEY;
typedef struct stack_st OPENSSL_STACK;
typedef int pem_password_cb(char *buffer, int size, int rwflag, void *userdata);

enum { SSL_FILETYPE_PEM = 1, SSL_VERIFY_PEER = 1, SSL_CTRL_SET_TLSEXT_HOSTNAME = 55, TLSEXT_NAMETYPE_host_name = 0 };
enum { SSL_ERROR_SSL = 1, SSL_ERROR_WANT_READ = 2, SSL_ERROR_WANT_WRITE = 3, SSL_ERROR_SYSCALL = 5, SSL_ERROR_ZERO_RETURN = 6 };

static struct {
    int (*OPENSSL_init_ssl)(uint64_t, const void *);
    const SSL_METHOD *(*TLS_client_method)(void);
    SSL_CTX *(*SSL_CTX_new)(const SSL_METHOD *);
    void (*SSL_CTX_free)(SSL_CTX *);
    int (*SSL_CTX_load_verify_locations)(SSL_CTX *, const char *, const char *);
    int (*SSL_CTX_set_default_verify_paths)(SSL_CTX *);
    int (*SSL_CTX_use_certificate_chain_file)(SSL_CTX *, const char *);
    int (*SSL_CTX_use_PrivateKey_file)(SSL_CTX *, const char *, int);
    int (*SSL_CTX_check_private_key)(const SSL_CTX *);
    void (*SSL_CTX_set_default_passwd_cb)(SSL_CTX *, pem_password_cb *);
    void (*SSL_CTX_set_default_passwd_cb_userdata)(SSL_CTX *, void *);
    void (*SSL_CTX_set_verify)(SSL_CTX *, int, void *);
    SSL *(*SSL_new)(SSL_CTX *);
    void (*SSL_free)(SSL *);
    int (*SSL_set_fd)(SSL *, int);
    long (*SSL_ctrl)(SSL *, int, long, void *);
    int (*SSL_set1_host)(SSL *, const char *);
    X509_VERIFY_PARAM *(*SSL_get0_param)(SSL *);
    int (*SSL_connect)(SSL *);
    int (*SSL_get_error)(const SSL *, int);
    int (*SSL_read)(SSL *, void *, int);
    int (*SSL_write)(SSL *, const void *, int);
    int (*SSL_pending)(const SSL *);
    int (*SSL_shutdown)(SSL *);
    long (*SSL_get_verify_result)(const SSL *);
    X509 *(*SSL_get1_peer_certificate)(const SSL *);
    int (*X509_VERIFY_PARAM_set1_ip_asc)(X509_VERIFY_PARAM *, const char *);
    const char *(*X509_verify_cert_error_string)(long);
    unsigned long (*ERR_get_error)(void);
    void (*ERR_error_string_n)(unsigned long, char *, size_t);
    void (*ERR_clear_error)(void);
    const ASN1_TIME *(*X509_get0_notAfter)(const X509 *);
    const ASN1_TIME *(*X509_get0_notBefore)(const X509 *);
    X509 *(*X509_STORE_CTX_get_current_cert)(const X509_STORE_CTX *);
    int (*ASN1_TIME_to_tm)(const ASN1_TIME *, struct tm *);
    ASN1_INTEGER *(*X509_get_serialNumber)(X509 *);
    BIGNUM *(*ASN1_INTEGER_to_BN)(const ASN1_INTEGER *, BIGNUM *);
    char *(*BN_bn2hex)(const BIGNUM *);
    void (*BN_free)(BIGNUM *);
    void (*CRYPTO_free)(void *, const char *, int);
    void (*X509_free)(X509 *);
    BIO *(*BIO_new_file)(const char *, const char *);
    int (*BIO_free)(BIO *);
    PKCS12 *(*d2i_PKCS12_bio)(BIO *, PKCS12 **);
    int (*PKCS12_parse)(PKCS12 *, const char *, EVP_PKEY **, X509 **, OPENSSL_STACK **);
    void (*PKCS12_free)(PKCS12 *);
    void (*EVP_PKEY_free)(EVP_PKEY *);
    int (*SSL_CTX_use_certificate)(SSL_CTX *, X509 *);
    int (*SSL_CTX_use_PrivateKey)(SSL_CTX *, EVP_PKEY *);
    void (*OPENSSL_sk_pop_free)(OPENSSL_STACK *, void (*)(void *));
} ossl;

static int remember_validity(int preverify_ok, X509_STORE_CTX *store);

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static char load_problem[512];

#define LOOK(handle, name)                                                                                   \
    do {                                                                                                     \
        *(void **)(&ossl.name) = dlsym(handle, #name);                                                       \
        if (!ossl.name) {                                                                                    \
            snprintf(load_problem, sizeof load_problem, "the system's OpenSSL lacks %s (OpenSSL 3 is needed)", #name); \
            return;                                                                                          \
        }                                                                                                    \
    } while (0)

static void load(void) {
    void *crypto = dlopen("libcrypto.so.3", RTLD_NOW | RTLD_GLOBAL);
    void *ssl = crypto ? dlopen("libssl.so.3", RTLD_NOW | RTLD_GLOBAL) : NULL;
    if (!crypto || !ssl) {
        snprintf(load_problem, sizeof load_problem,
                 "TLS needs OpenSSL 3's libssl.so.3, which is not on this machine (%s): install it (Debian/Ubuntu: apt-get install libssl3; "
                 "RHEL/Rocky 9: dnf install openssl-libs)",
                 dlerror());
        return;
    }
    LOOK(ssl, OPENSSL_init_ssl);
    LOOK(ssl, TLS_client_method);
    LOOK(ssl, SSL_CTX_new);
    LOOK(ssl, SSL_CTX_free);
    LOOK(ssl, SSL_CTX_load_verify_locations);
    LOOK(ssl, SSL_CTX_set_default_verify_paths);
    LOOK(ssl, SSL_CTX_use_certificate_chain_file);
    LOOK(ssl, SSL_CTX_use_PrivateKey_file);
    LOOK(ssl, SSL_CTX_check_private_key);
    LOOK(ssl, SSL_CTX_set_default_passwd_cb);
    LOOK(ssl, SSL_CTX_set_default_passwd_cb_userdata);
    LOOK(ssl, SSL_CTX_set_verify);
    LOOK(ssl, SSL_new);
    LOOK(ssl, SSL_free);
    LOOK(ssl, SSL_set_fd);
    LOOK(ssl, SSL_ctrl);
    LOOK(ssl, SSL_set1_host);
    LOOK(ssl, SSL_get0_param);
    LOOK(ssl, SSL_connect);
    LOOK(ssl, SSL_get_error);
    LOOK(ssl, SSL_read);
    LOOK(ssl, SSL_write);
    LOOK(ssl, SSL_pending);
    LOOK(ssl, SSL_shutdown);
    LOOK(ssl, SSL_get_verify_result);
    LOOK(ssl, SSL_get1_peer_certificate);
    LOOK(crypto, X509_VERIFY_PARAM_set1_ip_asc);
    LOOK(crypto, X509_verify_cert_error_string);
    LOOK(crypto, ERR_get_error);
    LOOK(crypto, ERR_error_string_n);
    LOOK(crypto, ERR_clear_error);
    LOOK(crypto, X509_get0_notAfter);
    LOOK(crypto, X509_get0_notBefore);
    LOOK(crypto, X509_STORE_CTX_get_current_cert);
    LOOK(crypto, ASN1_TIME_to_tm);
    LOOK(crypto, X509_get_serialNumber);
    LOOK(crypto, ASN1_INTEGER_to_BN);
    LOOK(crypto, BN_bn2hex);
    LOOK(crypto, BN_free);
    LOOK(crypto, CRYPTO_free);
    LOOK(crypto, X509_free);
    LOOK(crypto, BIO_new_file);
    LOOK(crypto, BIO_free);
    LOOK(crypto, d2i_PKCS12_bio);
    LOOK(crypto, PKCS12_parse);
    LOOK(crypto, PKCS12_free);
    LOOK(crypto, EVP_PKEY_free);
    LOOK(ssl, SSL_CTX_use_certificate);
    LOOK(ssl, SSL_CTX_use_PrivateKey);
    LOOK(crypto, OPENSSL_sk_pop_free);
    ossl.OPENSSL_init_ssl(0, NULL);
}

int zkrunbook_tls_available(char *why, size_t why_length) {
    pthread_once(&load_once, load);
    if (load_problem[0]) {
        if (why && why_length) snprintf(why, why_length, "%s", load_problem);
        return 0;
    }
    return 1;
}

/// OpenSSL's queued errors, oldest first, joined; the queue is left empty.
static void openssl_errors(char *out, size_t length) {
    size_t used = strlen(out);
    unsigned long code;
    while ((code = ossl.ERR_get_error()) != 0) {
        char text[256];
        ossl.ERR_error_string_n(code, text, sizeof text);
        if (used + 3 < length) used += (size_t)snprintf(out + used, length - used, "%s%s", used ? "; " : "", text);
    }
}

typedef struct {
    SSL_CTX *context;
    char password[512];
} context_box;

static int password_callback(char *buffer, int size, int rwflag, void *userdata) {
    (void)rwflag;
    const context_box *box = userdata;
    int length = (int)strlen(box->password);
    if (length >= size) return 0;
    memcpy(buffer, box->password, (size_t)length);
    return length;
}

void *zkrunbook_tls_context_new(const char *ca_file, const char *certificate_file, const char *key_file, const char *key_password, char *error,
                                size_t error_length) {
    error[0] = 0;
    if (!zkrunbook_tls_available(error, error_length)) return NULL;
    ossl.ERR_clear_error();
    context_box *box = calloc(1, sizeof *box);
    if (!box) return NULL;
    box->context = ossl.SSL_CTX_new(ossl.TLS_client_method());
    if (!box->context) {
        snprintf(error, error_length, "cannot make a TLS context: ");
        openssl_errors(error, error_length);
        free(box);
        return NULL;
    }
    ossl.SSL_CTX_set_verify(box->context, SSL_VERIFY_PEER, (void *)remember_validity);
    int ok = ca_file ? ossl.SSL_CTX_load_verify_locations(box->context, ca_file, NULL) : ossl.SSL_CTX_set_default_verify_paths(box->context);
    if (ok != 1) {
        snprintf(error, error_length, "the CA file %s cannot be used: ", ca_file ? ca_file : "(system default)");
        openssl_errors(error, error_length);
        zkrunbook_tls_context_free(box);
        return NULL;
    }
    if (key_password) {
        snprintf(box->password, sizeof box->password, "%s", key_password);
        ossl.SSL_CTX_set_default_passwd_cb(box->context, password_callback);
        ossl.SSL_CTX_set_default_passwd_cb_userdata(box->context, box);
    }
    if (certificate_file && ossl.SSL_CTX_use_certificate_chain_file(box->context, certificate_file) != 1) {
        snprintf(error, error_length, "the client certificate %s cannot be used (PEM expected): ", certificate_file);
        openssl_errors(error, error_length);
        zkrunbook_tls_context_free(box);
        return NULL;
    }
    if (key_file && (ossl.SSL_CTX_use_PrivateKey_file(box->context, key_file, SSL_FILETYPE_PEM) != 1 || ossl.SSL_CTX_check_private_key(box->context) != 1)) {
        snprintf(error, error_length, "the client key %s cannot be used (a PEM key matching the certificate, and its password if it has one): ", key_file);
        openssl_errors(error, error_length);
        zkrunbook_tls_context_free(box);
        return NULL;
    }
    return box;
}

int zkrunbook_tls_context_use_pkcs12(void *context, const char *path, const char *password, char *error, size_t error_length) {
    context_box *box = context;
    error[0] = 0;
    ossl.ERR_clear_error();
    BIO *file = ossl.BIO_new_file(path, "rb");
    PKCS12 *bundle = file ? ossl.d2i_PKCS12_bio(file, NULL) : NULL;
    if (file) ossl.BIO_free(file);
    if (!bundle) {
        snprintf(error, error_length, "%s is not a readable PKCS#12 file: ", path);
        openssl_errors(error, error_length);
        return 0;
    }
    EVP_PKEY *key = NULL;
    X509 *certificate = NULL;
    OPENSSL_STACK *chain = NULL;
    int ok = ossl.PKCS12_parse(bundle, password ? password : "", &key, &certificate, &chain) == 1;
    ossl.PKCS12_free(bundle);
    if (!ok || !key || !certificate) {
        snprintf(error, error_length, "%s: %s: ", path, ok ? "holds no certificate with its key" : "cannot be opened (wrong password?)");
        openssl_errors(error, error_length);
    } else if (ossl.SSL_CTX_use_certificate(box->context, certificate) != 1 || ossl.SSL_CTX_use_PrivateKey(box->context, key) != 1 ||
               ossl.SSL_CTX_check_private_key(box->context) != 1) {
        snprintf(error, error_length, "%s: its certificate and key cannot be used: ", path);
        openssl_errors(error, error_length);
        ok = 0;
    }
    if (key) ossl.EVP_PKEY_free(key);
    if (certificate) ossl.X509_free(certificate);
    if (chain) ossl.OPENSSL_sk_pop_free(chain, (void (*)(void *))ossl.X509_free);
    return ok && !error[0];
}

void zkrunbook_tls_context_free(void *context) {
    context_box *box = context;
    if (!box) return;
    if (box->context) ossl.SSL_CTX_free(box->context);
    memset(box->password, 0, sizeof box->password);
    free(box);
}

/// The validity dates of the certificate that failed verification on this thread's handshake, as
/// " (it is valid from … UTC until … UTC)": kept by the verify callback, since a failed handshake keeps
/// no peer certificate to ask afterwards.
static __thread char failed_validity[96];

static int remember_validity(int preverify_ok, X509_STORE_CTX *store) {
    if (preverify_ok || failed_validity[0]) return preverify_ok;
    X509 *certificate = ossl.X509_STORE_CTX_get_current_cert(store);
    struct tm from, until;
    memset(&from, 0, sizeof from);
    memset(&until, 0, sizeof until);
    if (certificate && ossl.ASN1_TIME_to_tm(ossl.X509_get0_notBefore(certificate), &from) == 1 &&
        ossl.ASN1_TIME_to_tm(ossl.X509_get0_notAfter(certificate), &until) == 1) {
        char first[32], last[32];
        strftime(first, sizeof first, "%Y-%m-%d %H:%M:%S", &from);
        strftime(last, sizeof last, "%Y-%m-%d %H:%M:%S", &until);
        snprintf(failed_validity, sizeof failed_validity, " (it is valid from %s UTC until %s UTC)", first, last);
    }
    return preverify_ok;
}

static void append_validity(SSL *ssl, char *error, size_t error_length) {
    (void)ssl;
    size_t used = strlen(error);
    if (failed_validity[0] && used < error_length) snprintf(error + used, error_length - used, "%s", failed_validity);
}

static long long now_ms(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (long long)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

/// Waits for `events` on `fd` until `deadline` (ms, monotonic); 1 ready, 0 timed out.
static int wait_for(int fd, short events, long long deadline) {
    for (;;) {
        long long left = deadline - now_ms();
        if (left <= 0) return 0;
        struct pollfd entry = {.fd = fd, .events = events};
        int ready = poll(&entry, 1, (int)(left > 1000 ? 1000 : left));
        if (ready > 0) return 1;
        if (ready < 0 && errno != EINTR) return 1;
    }
}

typedef struct {
    SSL *ssl;
    int fd;
} session_box;

int zkrunbook_tls_handshake(void *context, int fd, const char *host, int verify_host, int timeout_ms, void **session, long *verify_code, char *error,
                            size_t error_length) {
    failed_validity[0] = 0;
    error[0] = 0;
    *session = NULL;
    *verify_code = 0;
    context_box *box = context;
    ossl.ERR_clear_error();
    SSL *ssl = ossl.SSL_new(box->context);
    if (!ssl || ossl.SSL_set_fd(ssl, fd) != 1) {
        snprintf(error, error_length, "cannot start a TLS session: ");
        openssl_errors(error, error_length);
        if (ssl) ossl.SSL_free(ssl);
        return ZKRUNBOOK_TLS_FAILED;
    }
    unsigned char scratch[16];
    int is_ip = inet_pton(AF_INET, host, scratch) == 1 || inet_pton(AF_INET6, host, scratch) == 1;
    if (!is_ip) ossl.SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name, (void *)host);
    if (verify_host) {
        int set = is_ip ? ossl.X509_VERIFY_PARAM_set1_ip_asc(ossl.SSL_get0_param(ssl), host) : ossl.SSL_set1_host(ssl, host);
        if (set != 1) {
            snprintf(error, error_length, "cannot check the certificate against %s", host);
            ossl.SSL_free(ssl);
            return ZKRUNBOOK_TLS_FAILED;
        }
    }
    long long deadline = now_ms() + timeout_ms;
    for (;;) {
        errno = 0;
        int result = ossl.SSL_connect(ssl);
        if (result == 1) break;
        int reason = ossl.SSL_get_error(ssl, result);
        if (reason == SSL_ERROR_WANT_READ || reason == SSL_ERROR_WANT_WRITE) {
            if (!wait_for(fd, reason == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline)) {
                snprintf(error, error_length, "the TLS handshake did not finish within %d ms", timeout_ms);
                ossl.SSL_free(ssl);
                return ZKRUNBOOK_TLS_TIMEOUT;
            }
            continue;
        }
        long verify = ossl.SSL_get_verify_result(ssl);
        *verify_code = verify;
        int outcome = ZKRUNBOOK_TLS_FAILED;
        if (verify != 0) {
            snprintf(error, error_length, "%s", ossl.X509_verify_cert_error_string(verify));
            append_validity(ssl, error, error_length);
            outcome = ZKRUNBOOK_TLS_VERIFY_FAILED;
        } else if (reason == SSL_ERROR_SYSCALL && ossl.ERR_get_error() == 0) {
            snprintf(error, error_length, "the server closed the connection during the TLS handshake%s%s", errno ? ": " : "", errno ? strerror(errno) : "");
            outcome = ZKRUNBOOK_TLS_NOT_TLS;
        } else {
            openssl_errors(error, error_length);
            if (strstr(error, "alert")) outcome = ZKRUNBOOK_TLS_ALERT;
            if (strstr(error, "wrong version number") || strstr(error, "packet length too long") || strstr(error, "unexpected eof"))
                outcome = ZKRUNBOOK_TLS_NOT_TLS;
        }
        ossl.SSL_free(ssl);
        return outcome;
    }
    session_box *made = calloc(1, sizeof *made);
    if (!made) {
        ossl.SSL_free(ssl);
        return ZKRUNBOOK_TLS_FAILED;
    }
    made->ssl = ssl;
    made->fd = fd;
    *session = made;
    return ZKRUNBOOK_TLS_OK;
}

int zkrunbook_tls_send(void *session, const void *bytes, size_t length, int timeout_ms, char *error, size_t error_length) {
    session_box *box = session;
    long long deadline = now_ms() + timeout_ms;
    size_t sent = 0;
    error[0] = 0;
    while (sent < length) {
        size_t chunk = length - sent > (1u << 30) ? (1u << 30) : length - sent;
        ossl.ERR_clear_error();
        int written = ossl.SSL_write(box->ssl, (const char *)bytes + sent, (int)chunk);
        if (written > 0) {
            sent += (size_t)written;
            continue;
        }
        int reason = ossl.SSL_get_error(box->ssl, written);
        if (reason == SSL_ERROR_WANT_READ || reason == SSL_ERROR_WANT_WRITE) {
            if (!wait_for(box->fd, reason == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline)) return -1;
            continue;
        }
        snprintf(error, error_length, "TLS send failed: ");
        openssl_errors(error, error_length);
        if (reason == SSL_ERROR_SYSCALL && errno) snprintf(error + strlen(error), error_length - strlen(error), "%s", strerror(errno));
        return -2;
    }
    return 0;
}

long zkrunbook_tls_receive(void *session, void *buffer, size_t length, int timeout_ms, char *error, size_t error_length) {
    session_box *box = session;
    long long deadline = now_ms() + timeout_ms;
    error[0] = 0;
    for (;;) {
        ossl.ERR_clear_error();
        errno = 0;
        int count = ossl.SSL_read(box->ssl, buffer, (int)(length > (1u << 30) ? (1u << 30) : length));
        if (count > 0) return count;
        int reason = ossl.SSL_get_error(box->ssl, count);
        if (reason == SSL_ERROR_ZERO_RETURN) return 0;
        if (reason == SSL_ERROR_WANT_READ || reason == SSL_ERROR_WANT_WRITE) {
            if (!wait_for(box->fd, reason == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline)) return -1;
            continue;
        }
        // A server that closes without close_notify (ZooKeeper after a four-letter word's answer) has ended.
        if (reason == SSL_ERROR_SYSCALL && errno == 0) return 0;
        openssl_errors(error, error_length);
        if (strstr(error, "unexpected eof")) return 0;
        if (!error[0]) snprintf(error, error_length, "TLS read failed%s%s", errno ? ": " : "", errno ? strerror(errno) : "");
        return -2;
    }
}

long long zkrunbook_tls_peer_not_after(void *session) {
    session_box *box = session;
    X509 *certificate = ossl.SSL_get1_peer_certificate(box->ssl);
    if (!certificate) return 0;
    struct tm when;
    memset(&when, 0, sizeof when);
    long long seconds = ossl.ASN1_TIME_to_tm(ossl.X509_get0_notAfter(certificate), &when) == 1 ? (long long)timegm(&when) : 0;
    ossl.X509_free(certificate);
    return seconds;
}

int zkrunbook_tls_peer_serial(void *session, char *serial, size_t serial_length) {
    session_box *box = session;
    serial[0] = 0;
    X509 *certificate = ossl.SSL_get1_peer_certificate(box->ssl);
    if (!certificate) return 0;
    BIGNUM *number = ossl.ASN1_INTEGER_to_BN(ossl.X509_get_serialNumber(certificate), NULL);
    char *hex = number ? ossl.BN_bn2hex(number) : NULL;
    if (hex) snprintf(serial, serial_length, "%s", hex);
    if (hex) ossl.CRYPTO_free(hex, __FILE__, __LINE__);
    if (number) ossl.BN_free(number);
    ossl.X509_free(certificate);
    return serial[0] != 0;
}

void zkrunbook_tls_close(void *session) {
    session_box *box = session;
    if (!box) return;
    ossl.SSL_shutdown(box->ssl);
    ossl.SSL_free(box->ssl);
    free(box);
}
