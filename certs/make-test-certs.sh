#!/usr/bin/env bash
# Makes throwaway fixture certificates for tests and docs (NEVER keys the daemon uses; the daemon
# generates its own tls.cert/tls.key, see Transport.TLSCredentials).
#
#   certs/make-test-certs.sh OUTDIR
#
# OUTDIR/tls.cert, OUTDIR/tls.key: ECDSA P-256 self-signed, like LND's (SANs localhost, 127.0.0.1,
# ::1; O="paytrack test cert"); OUTDIR/other.cert/.key: a second, unrelated pair (for pinning tests).
set -euo pipefail
out=${1:?usage: make-test-certs.sh OUTDIR}
mkdir -p "$out"
mk() {
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 \
    -subj "/O=paytrack test cert/CN=localhost" \
    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:0:0:0:0:0:0:0:1" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,digitalSignature,keyEncipherment,keyCertSign" \
    -addext "extendedKeyUsage=serverAuth" \
    -keyout "$out/$1.key" -out "$out/$1.cert" 2>/dev/null
  chmod 600 "$out/$1.key"
}
mk tls
mk other
echo "$out"
