#!/usr/bin/env bash
# Certificates for the TLS tests, made fresh with openssl each run: a CA, a server certificate for
# 127.0.0.1/localhost, one that names another host, a client certificate, its key encrypted with a
# password (in a file), and a second CA that signed none of them.
# Usage: make-test-certificates.sh DIR
set -euo pipefail
dir=$1
mkdir -p "$dir"
cd "$dir"
q() { "$@" >/dev/null 2>&1 || { echo "failed: $*" >&2; "$@"; exit 1; }; }
q openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj "/CN=zkrunbook test CA"
q openssl req -x509 -newkey rsa:2048 -nodes -keyout other-ca.key -out other-ca.pem -days 2 -subj "/CN=another CA"
sign() { # name subject san
  q openssl req -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.csr" -subj "$2"
  printf 'subjectAltName=%s\n' "$3" >"$1.ext"
  q openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -out "$1.pem" -days 2 -extfile "$1.ext"
}
sign server "/CN=localhost" "IP:127.0.0.1,DNS:localhost"
sign elsewhere "/CN=elsewhere.example" "DNS:elsewhere.example"
sign client "/CN=zkrunbook" "DNS:zkrunbook-client"
printf 'correct horse\n' >client-key-password
q openssl pkey -in client.key -aes256 -passout file:client-key-password -out client-encrypted.key
echo "certificates in $dir"
