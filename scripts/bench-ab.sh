#!/usr/bin/env bash
# A/B benchmark of two Folio builds on the read requests of scripts/bench.sh, in one run on
# the same machine: both servers and the bare-axum baseline serve the same 10,000-page site,
# and every request is measured A, B, baseline in turn, ROUNDS times. Prints the median
# req/s of each, the ratio of each to the baseline, and B/A.
#
#   bash scripts/bench-ab.sh OLD_FOLIO_BINARY NEW_FOLIO_BINARY [ROUNDS] [SECONDS]
#
# Build the old binary from another checkout, e.g.
#   git worktree add /tmp/before <commit> && (cd /tmp/before && cargo build --release -p folio)
set -euo pipefail
cd "$(dirname "$0")/.."
A="$1"; B="$2"; ROUNDS="${3:-3}"; DURATION="${4:-6}"

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
cargo build --release --locked -p folio-baseline 2>&1 | tail -1
BASE=target/release/folio-baseline
SITE=target/bench-site
if [ ! -f "$SITE/.generated-1" ]; then
  python3 scripts/gen_site.py "$SITE" --sections 90 --archive 1000 --seed 42
  touch "$SITE/.generated-1"
fi
rm -rf "$SITE/site/sessions" "$SITE/site/accounts/.logins"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 1 2400); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.025; done; return 1; }
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
AP=$(free_port); BP=$(free_port); LP=$(free_port)
FOLIO_LOG=warn "$A" serve "$SITE" --listen "127.0.0.1:$AP" & PIDS+=($!)
FOLIO_LOG=warn "$B" serve "$SITE" --listen "127.0.0.1:$BP" & PIDS+=($!)
"$BASE" "127.0.0.1:$LP" 2>/dev/null & PIDS+=($!)
wait_port "$AP"; wait_port "$BP"; wait_port "$LP"

BASIC="Authorization: Basic $(printf 'admin@example.com:admin-secret-1' | base64)"
session() { # port -> "cookie csrf"
  local jar csrf
  jar=$(mktemp)
  csrf=$(curl -s -c "$jar" -b "$jar" "http://127.0.0.1:$1/csrf" | python3 -c 'import json,sys; print(json.load(sys.stdin)["csrf"])')
  curl -s -c "$jar" -b "$jar" -H "X-CSRF: $csrf" -H 'Content-Type: application/json' \
    -d '{"email":"admin@example.com","password":"admin-secret-1","long":false}' "http://127.0.0.1:$1/api/auth/login" >/dev/null
  echo "kirby_session=$(awk '$6=="kirby_session"{print $7}' "$jar") $csrf"
  rm -f "$jar"
}
read -r ACOOKIE ACSRF <<<"$(session "$AP")"
read -r BCOOKIE BCSRF <<<"$(session "$BP")"

rps() { wrk -t2 -c16 -d"${DURATION}s" "${@:2}" "$1" 2>&1 | awk '/Requests\/sec/{print $2}'; }
median() { python3 -c "import statistics,sys; print(statistics.median(float(x) for x in sys.argv[1:]))" "$@"; }

printf '%-40s %10s %10s %10s %8s %8s %8s\n' "request (wrk -t2 -c16, median of $ROUNDS)" "A r/s" "B r/s" "base r/s" "A/base" "B/base" "B/A"
row() {
  local name="$1" path="$2" kind="$3"
  local as=() bs=() ls=()
  for _ in $(seq 1 "$ROUNDS"); do
    if [ "$kind" = session ]; then
      as+=("$(rps "http://127.0.0.1:$AP$path" -H "Cookie: $ACOOKIE" -H "X-CSRF: $ACSRF")")
      bs+=("$(rps "http://127.0.0.1:$BP$path" -H "Cookie: $BCOOKIE" -H "X-CSRF: $BCSRF")")
    else
      as+=("$(rps "http://127.0.0.1:$AP$path" -H "$BASIC")")
      bs+=("$(rps "http://127.0.0.1:$BP$path" -H "$BASIC")")
    fi
    ls+=("$(rps "http://127.0.0.1:$LP/x")")
  done
  local a b l
  a=$(median "${as[@]}"); b=$(median "${bs[@]}"); l=$(median "${ls[@]}")
  printf '%-40s %10.0f %10.0f %10.0f %7.0f%% %7.0f%% %7.1f%%\n' "$name" "$a" "$b" "$l" \
    "$(python3 -c "print($a/$l*100)")" "$(python3 -c "print($b/$l*100)")" "$(python3 -c "print($b/$a*100)")"
}
DEEP="/api/pages/section-45+article-050"
row "GET deep page, session cookie + X-CSRF" "$DEEP" session
row "GET deep page, Basic auth" "$DEEP" basic
row "GET archive/children?limit=20&page=50" "/api/pages/archive/children?limit=20&page=50" basic
row "GET /api/site?select=title" "/api/site?select=title" basic
