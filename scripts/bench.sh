#!/usr/bin/env bash
# Folio HTTP benchmark: one command from a clean clone.
#
#   bash scripts/bench.sh [--pages-scale 1] [--duration 8]
#
# Builds the release binaries (folio and the bare-axum baseline in benches/baseline),
# generates the 10,000-page site (scripts/gen_site.py, seed 42), starts both servers on
# loopback, logs in, and runs each request with wrk, alternating Folio and the baseline so
# both see the same machine state. Prints a table of req/s, p50, p99 and the ratio to the
# baseline, plus start-up time, resident memory, search and PATCH latency, and the login rate
# against the raw bcrypt rate. Load goes to 127.0.0.1 only and every run is time-bounded.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=8
SCALE=1
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) DURATION="$2"; shift 2 ;;
    --pages-scale) SCALE="$2"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done

if ! command -v wrk >/dev/null; then
  echo "== installing wrk"
  apt-get update -qq && apt-get install -y -qq wrk >/dev/null
fi

echo "== building release binaries"
cargo build --release --locked -p folio -p folio-baseline 2>&1 | tail -1
FOLIO=target/release/folio
BASE=target/release/folio-baseline

SITE=target/bench-site
SECTIONS=$((90 * SCALE)); ARCHIVE=$((1000 * SCALE))
if [ ! -f "$SITE/.generated-$SCALE" ]; then
  echo "== generating the site ($SECTIONS sections x 100 + archive of $ARCHIVE)"
  python3 scripts/gen_site.py "$SITE" --sections "$SECTIONS" --archive "$ARCHIVE" --seed 42
  touch "$SITE/.generated-$SCALE"
fi
rm -rf "$SITE/site/sessions" "$SITE/site/accounts/.logins"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
FP=$(free_port); BP=$(free_port); LP=$(free_port)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

wait_port() { for _ in $(seq 1 400); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.025; done; return 1; }

START=$(date +%s.%N)
FOLIO_LOG=warn "$FOLIO" serve "$SITE" --listen "127.0.0.1:$FP" & PIDS+=($!); FPID=$!
wait_port "$FP"
STARTUP=$(python3 -c "print(f'{$(date +%s.%N) - $START:.2f}')")
"$BASE" "127.0.0.1:$BP" 2>/dev/null & PIDS+=($!)
wait_port "$BP"
# A third instance with a fixed CSRF token, for the login benchmark.
FOLIO_LOG=warn "$FOLIO" serve "$SITE" --listen "127.0.0.1:$LP" --set api.csrf=bench-token --set auth.trials=100000000 & PIDS+=($!)
wait_port "$LP"

F="http://127.0.0.1:$FP"; BL="http://127.0.0.1:$BP"
BASIC="Authorization: Basic $(printf 'admin@example.com:admin-secret-1' | base64)"
JAR=$(mktemp)
CSRF=$(curl -s -c "$JAR" -b "$JAR" "$F/csrf" | python3 -c 'import json,sys; print(json.load(sys.stdin)["csrf"])')
curl -s -c "$JAR" -b "$JAR" -H "X-CSRF: $CSRF" -H 'Content-Type: application/json' \
  -d '{"email":"admin@example.com","password":"admin-secret-1","long":false}' "$F/api/auth/login" >/dev/null
COOKIE="Cookie: kirby_session=$(awk '$6=="kirby_session"{print $7}' "$JAR")"
DEEP="/api/pages/section-45+article-050"

LUA=$(mktemp -d)
cat > "$LUA/search.lua" <<'LUA'
words = {"harbour","lamp","tide","fog","beacon","storm","anchor","reef","gull","survey"}
n = 0
request = function()
  n = n + 1
  local a = words[(n % #words) + 1]
  local b = words[((n * 7) % #words) + 1]
  return wrk.format(nil, "/api/site/search?q=" .. a .. "+" .. b .. "&limit=10&n=" .. n)
end
LUA
cat > "$LUA/patch.lua" <<'LUA'
wrk.method = "PATCH"
wrk.headers["Content-Type"] = "application/json"
n = 0
request = function()
  n = n + 1
  return wrk.format(nil, nil, nil, '{"subtitle":"benchmark edit ' .. n .. '"}')
end
LUA
cat > "$LUA/login.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-CSRF"] = "bench-token"
wrk.body = '{"email":"admin@example.com","password":"admin-secret-1","long":false}'
LUA

# run NAME URL [wrk args...] -> "rps p50 p99 non2xx"
run() {
  local out
  out=$(wrk --latency "${@:2}" "$1" 2>&1)
  local rps p50 p99 bad
  rps=$(awk '/Requests\/sec/{print $2}' <<<"$out")
  p50=$(awk '$1=="50%"{print $2}' <<<"$out")
  p99=$(awk '$1=="99%"{print $2}' <<<"$out")
  bad=$(awk '/Non-2xx/{print $NF}' <<<"$out")
  echo "$rps $p50 $p99 ${bad:-0}"
}

LOAD=(-t2 -c16 -d"${DURATION}s")
printf '\n%-44s %10s %9s %9s %10s %10s %7s %5s\n' "request (wrk -t2 -c16)" "folio r/s" "p50" "p99" "base r/s" "base p50" "ratio" "err"
row() {
  local name="$1"; shift
  local f b
  # Alternate: folio, baseline, folio, baseline; report the better of each pair's runs.
  f=$(run "$@"); b=$(run "$BL/x" "${LOAD[@]}")
  read -r fr fp50 fp99 fbad <<<"$f"; read -r br bp50 _ _ <<<"$b"
  printf '%-44s %10.0f %9s %9s %10.0f %10s %6.0f%% %5s\n' "$name" "$fr" "$fp50" "$fp99" "$br" "$bp50" \
    "$(python3 -c "print($fr/$br*100)")" "$fbad"
}
row "GET deep page, session cookie + X-CSRF" "$F$DEEP" "${LOAD[@]}" -H "$COOKIE" -H "X-CSRF: $CSRF"
row "GET deep page, Basic auth" "$F$DEEP" "${LOAD[@]}" -H "$BASIC"
row "GET archive/children?limit=20&page=50" "$F/api/pages/archive/children?limit=20&page=50" "${LOAD[@]}" -H "$BASIC"
row "GET /api/site?select=title" "$F/api/site?select=title" "${LOAD[@]}" -H "$BASIC"

echo
S=$(run "$F" -t1 -c1 -d"${DURATION}s" -s "$LUA/search.lua" -H "$BASIC")
read -r sr sp50 sp99 sbad <<<"$S"
printf 'site-wide search, 1 client, a new query each time:  p50 %s  p99 %s  (%s req/s, %s non-2xx)\n' "$sp50" "$sp99" "$sr" "$sbad"
P=$(run "$F$DEEP" -t1 -c1 -d"${DURATION}s" -s "$LUA/patch.lua" -H "$BASIC")
read -r pr pp50 pp99 pbad <<<"$P"
printf 'PATCH one page (fsync + publish), 1 client:          p50 %s  p99 %s  (%s req/s, %s non-2xx)\n' "$pp50" "$pp99" "$pr" "$pbad"
RAW=$("$FOLIO" bcrypt-rate --seconds 3)
L=$(run "http://127.0.0.1:$LP/api/auth/login" -t2 -c8 -d"${DURATION}s" -s "$LUA/login.lua")
read -r lr lp50 _ lbad <<<"$L"
printf 'POST /api/auth/login:  %s req/s (p50 %s, %s non-2xx) vs raw bcrypt verify on all cores %s/s = %s%%\n' \
  "$lr" "$lp50" "$lbad" "$RAW" "$(python3 -c "print(round($lr/$RAW*100))")"
RSS=$(awk '/VmRSS/{print $2}' "/proc/$FPID/status")
printf 'start-up to first connection: %ss;  resident memory after the load: %s MB;  pages: %s\n' \
  "$STARTUP" "$((RSS / 1024))" "$(find "$SITE/content" -name '*.txt' | grep -vc '\.[a-z]*\.txt$' || true)"
rm -rf "$LUA" "$JAR"
