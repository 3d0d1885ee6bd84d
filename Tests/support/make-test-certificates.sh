#!/usr/bin/env bash
# Certificates for the TLS tests, made fresh with openssl each run: a CA, a server certificate for
# 127.0.0.1/localhost, one that names another host, a client certificate, its key encrypted with a
# password (in a file), a second CA that signed none of them, a server certificate that expired in 2020
# and one valid only from 2040 (openssl ca: OpenSSL 3.0's x509 cannot set the dates), and the client's
# certificate and key as PKCS#12 (password in client-key-password) and as a Java keystore (keytool, when
# a JRE is here).
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
# Dated certificates, signed by the same CA through `openssl ca` with explicit start and end dates.
mkdir -p ca-db
: >ca-db/index.txt
printf 'unique_subject = no\n' >ca-db/index.txt.attr
printf '1000\n' >ca-db/serial
cat >ca-db/ca.cnf <<CNF
[ ca ]
default_ca = test
[ test ]
database = ca-db/index.txt
serial = ca-db/serial
new_certs_dir = ca-db
certificate = ca.pem
private_key = ca.key
default_md = sha256
policy = anything
copy_extensions = none
x509_extensions = server
[ anything ]
commonName = supplied
[ server ]
subjectAltName = IP:127.0.0.1,DNS:localhost
CNF
dated() { # name start end
  q openssl req -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.csr" -subj "/CN=localhost"
  q openssl ca -batch -config ca-db/ca.cnf -in "$1.csr" -out "$1.pem" -startdate "$2" -enddate "$3" -notext
}
dated expired 20200101000000Z 20200201000000Z
dated future 20400101000000Z 20410101000000Z
q openssl pkcs12 -export -in client.pem -inkey client.key -out client.p12 -passout file:client-key-password -name client
if command -v keytool >/dev/null; then
  q keytool -importkeystore -srckeystore client.p12 -srcstoretype PKCS12 -srcstorepass "correct horse" -destkeystore client.jks \
    -deststoretype JKS -deststorepass "correct horse" -noprompt
fi
echo "certificates in $dir"
