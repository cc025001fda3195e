#!/usr/bin/env bash
# KQL benchmark (issue 13): one command from a clean clone.
#
#   bash scripts/bench-kql.sh [--duration 8]
#
# Builds the release binaries, generates the 10,000-page benchmark site (scripts/gen_site.py,
# seed 42) and a copy with a cover image in each article of section-45, starts Folio and the
# bare-axum baseline on loopback, and measures with wrk:
#   * a typical headless query: one section's listed articles, newest first, limit 20, with
#     title, URL, formatted date, image URL and a text excerpt, against the baseline's req/s;
#   * a `site.index` filter over all 10k pages, one client, p50/p99.
# Folio's response cache does not serve POST /api/query: every request is evaluated.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=8
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) DURATION="$2"; shift 2 ;;
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

SITE=target/bench-kql-site
if [ ! -f "$SITE/.generated" ]; then
  echo "== generating the site"
  python3 scripts/gen_site.py "$SITE" --sections 90 --archive 1000 --seed 42
  # a small PNG in each article of section-45, as the cover the headless query shows
  python3 - "$SITE" <<'PY'
import base64, glob, os, sys
png = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAIAAAABCAYAAAD0In+KAAAAEUlEQVR4nGP4z8DwnwEIGGAMACnEA/2X/FpgAAAAAElFTkSuQmCC")
for d in glob.glob(os.path.join(sys.argv[1], "content", "45_section-45", "*_article-*")):
    open(os.path.join(d, "cover.png"), "wb").write(png)
PY
  touch "$SITE/.generated"
fi
rm -rf "$SITE/site/sessions" "$SITE/site/accounts/.logins"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
FP=$(free_port); BP=$(free_port)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
wait_port() { for _ in $(seq 1 400); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.025; done; return 1; }

FOLIO_LOG=warn "$FOLIO" serve "$SITE" --listen "127.0.0.1:$FP" --set folio.kql=true & PIDS+=($!)
wait_port "$FP"
"$BASE" "127.0.0.1:$BP" 2>/dev/null & PIDS+=($!)
wait_port "$BP"
F="http://127.0.0.1:$FP"; BL="http://127.0.0.1:$BP"
BASIC="Authorization: Basic $(printf 'admin@example.com:admin-secret-1' | base64)"

LUA=$(mktemp -d)
HEADLESS='{"query":"page(\"section-45\").children.listed.sortBy(\"date\",\"desc\")","select":{"title":true,"url":true,"date":"page.date.toDate(\"Y-m-d\")","image":"page.image.url","excerpt":"page.text.excerpt(160)"},"pagination":{"limit":20}}'
INDEX='{"query":"site.index.filterBy(\"category\",\"guide\").filterBy(\"featured\",\"true\").count"}'
for name in headless index; do
  body=$HEADLESS; [ "$name" = index ] && body=$INDEX
  python3 - "$LUA/$name.lua" "$body" <<'PY'
import sys
body = sys.argv[2].replace("\\", "\\\\").replace('"', '\\"')
open(sys.argv[1], "w").write(
    'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
    f'wrk.body = "{body}"\n')
PY
done

echo "== checking the answers"
curl -s -H "$BASIC" -H 'Content-Type: application/json' -d "$HEADLESS" "$F/api/query" | python3 -c '
import json, sys
r = json.load(sys.stdin)["result"]
assert len(r["data"]) == 20 and r["pagination"]["total"] == 100, r
first = r["data"][0]
assert first["image"].endswith("cover.png") and first["excerpt"] and first["date"], first
print("headless query: 20 of", r["pagination"]["total"], "articles, first:", first["title"], first["date"])'
curl -s -H "$BASIC" -H 'Content-Type: application/json' -d "$INDEX" "$F/api/query" | python3 -c '
import json, sys; print("index filter: count =", json.load(sys.stdin)["result"])'

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
printf '\n%-52s %10s %9s %9s %10s %7s %5s\n' "request (wrk -t2 -c16)" "folio r/s" "p50" "p99" "base r/s" "ratio" "err"
for round in 1 2 3; do
  f=$(run "$F/api/query" "${LOAD[@]}" -s "$LUA/headless.lua" -H "$BASIC")
  b=$(run "$BL/api/query" "${LOAD[@]}" -s "$LUA/headless.lua")
  read -r fr fp50 fp99 fbad <<<"$f"; read -r br _ _ _ <<<"$b"
  printf '%-52s %10.0f %9s %9s %10.0f %6.0f%% %5s\n' "POST /api/query headless list (round $round)" "$fr" "$fp50" "$fp99" "$br" \
    "$(python3 -c "print($fr/$br*100)")" "$fbad"
done
echo
I=$(run "$F/api/query" -t1 -c1 -d"${DURATION}s" -s "$LUA/index.lua" -H "$BASIC")
read -r ir ip50 ip99 ibad <<<"$I"
printf 'site.index filter over all pages, 1 client: p50 %s  p99 %s  (%s req/s, %s non-2xx)\n' "$ip50" "$ip99" "$ir" "$ibad"
rm -rf "$LUA"
