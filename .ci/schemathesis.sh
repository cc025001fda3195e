#!/usr/bin/env bash
# Property-based API testing: schemathesis reads /api/openapi.json from Folio serving a copy
# of the fixture site and sends what the document allows, as the admin (HTTP Basic), for a
# bounded time. Any 5xx fails the run. Positive mode: the document marks the body fields
# whose absence Kirby answers with a PHP TypeError (a generic 500, kept for compatibility) as
# required, and schemathesis sends only documented input.
#   bash .ci/schemathesis.sh [SECONDS] [FOLIO_BINARY]
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-120}"
bin="${2:-target/debug/folio}"
version="4.32.5"

if ! st --version 2>/dev/null | grep -q "$version"; then
  echo "== installing schemathesis $version"
  python3 -m pip install -q "schemathesis==$version"
fi
[ -x "$bin" ] || cargo build -q -p folio

work="$(mktemp -d)"
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
cp -r tests/fixtures/kirby/root "$work/root"
FOLIO_LOG=warn "$bin" serve "$work/root" --listen 127.0.0.1:0 --ready-file "$work/ready" \
  2>"$work/server.log" &
pid=$!
for _ in $(seq 1 300); do [ -s "$work/ready" ] && break; sleep 0.1; done
addr="$(cat "$work/ready")"
echo "== schemathesis against http://$addr for ${secs}s"
status=0
st run "http://$addr/api/openapi.json" \
  --auth admin@example.com:admin-secret-1 \
  --checks not_a_server_error \
  --mode positive \
  --max-time "$secs" \
  --workers 2 \
  --seed "${SCHEMATHESIS_SEED:-1}" \
  --no-color || status=$?
if [ "$status" -ne 0 ]; then
  echo "== server log"
  tail -50 "$work/server.log"
fi
exit "$status"
