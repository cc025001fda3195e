#!/usr/bin/env bash
# README test: clones this repository's committed HEAD into a temporary folder, runs the
# first command of README.md's first code block there exactly as written, and checks that
# the server it starts answers `GET /api/site` with Kirby's 401 envelope. A README whose
# first command fails on a fresh clone can therefore never land.
#
# The clone builds into target/readme-clone (so a second local run is incremental); on CI
# that folder is empty, which is the fresh-machine case. Ends with `readme: ok` or
# `readme: FAILED (...)`.
set -uo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo"

fail() {
  echo "readme: FAILED ($1)"
  [ -n "${log:-}" ] && [ -f "$log" ] && { echo "--- command output (last 40 lines)"; tail -n 40 "$log"; }
  exit 1
}

# The first command of the first fenced code block.
cmd="$(awk '/^```/{ if (inblock) exit; inblock=1; next } inblock && NF { print; exit }' README.md)"
[ -n "$cmd" ] || fail "README.md has no code block"
echo "== README's first command: $cmd"

# Where the command listens: its --listen value, else the server's default.
listen="$(printf '%s\n' "$cmd" | sed -n 's/.*--listen[ =]\([^ ]*\).*/\1/p')"
listen="${listen:-127.0.0.1:8080}"
if (exec 3<>"/dev/tcp/${listen%:*}/${listen##*:}") 2>/dev/null; then
  fail "something already listens on $listen; stop it first"
fi

work="$(mktemp -d)"
log="$work/command.log"
pid=""
cleanup() {
  if [ -n "$pid" ]; then
    kill -TERM -- "-$pid" 2>/dev/null
    sleep 1
    kill -KILL -- "-$pid" 2>/dev/null
  fi
  rm -rf "$work"
}
trap cleanup EXIT

git clone --quiet "$repo" "$work/folio" || fail "git clone failed"
(cd "$work/folio" && git log -1 --format='== clone at %h %s')

export CARGO_TARGET_DIR="$repo/target/readme-clone"
cd "$work/folio"
# A new process group, so the server started by `cargo run` is stopped with it.
setsid bash -c "$cmd" >"$log" 2>&1 &
pid=$!

# Building from scratch takes minutes on 2 cores.
deadline=$((SECONDS + 1500))
body="$work/body.json"
status=""
while [ $SECONDS -lt $deadline ]; do
  if ! kill -0 "$pid" 2>/dev/null; then
    fail "the command exited before the server answered"
  fi
  status="$(curl -s -o "$body" -w '%{http_code}' "http://$listen/api/site" 2>/dev/null || true)"
  [ -n "$status" ] && [ "$status" != "000" ] && break
  sleep 2
done
[ "$status" = "401" ] || fail "GET /api/site answered '$status', expected 401"

python3 - "$body" <<'EOF' || fail "the 401 body is not Kirby's envelope"
import json, sys
body = json.load(open(sys.argv[1]))
expected = {"status": "error", "message": "Unauthenticated", "code": 401, "key": "error.auth", "details": []}
if body != expected:
    print("got:", json.dumps(body))
    sys.exit(1)
EOF
echo "readme: ok (GET /api/site -> 401 error.auth from a fresh clone)"
