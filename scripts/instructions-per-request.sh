#!/usr/bin/env bash
# Instructions per request, counted by valgrind's callgrind: repeatable on a noisy machine
# (the same binary, site and requests give the same count whatever else runs), so a small
# cost difference between two builds shows where wrk's ±10% hides it.
#
#   bash scripts/instructions-per-request.sh BINARY [REQUESTS]
#
# Serves the conformance fixture site under callgrind, warms up, zeroes the counters, sends
# REQUESTS (default 400) keep-alive requests of each kind, and prints the instructions per
# request of each kind (the server process's whole count: runtime, hyper, routing, auth,
# cache and JSON). With KEEP=<dir>, the callgrind files are copied there for
# callgrind_annotate.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="$1"; N="${2:-400}"
command -v valgrind >/dev/null || { apt-get update -qq && apt-get install -y -qq valgrind >/dev/null; }
WORK=$(mktemp -d)
trap 'kill $PID 2>/dev/null || true; rm -rf "$WORK"' EXIT
cp -r tests/fixtures/kirby/root "$WORK/site"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
ADDR="127.0.0.1:$PORT"
FOLIO_LOG=error valgrind --tool=callgrind --callgrind-out-file="$WORK/cg.%p" \
  "$BIN" serve "$WORK/site" --listen "$ADDR" 2>"$WORK/vg.log" &
PID=$!
for _ in $(seq 1 600); do (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; sleep 0.1; done
python3 - "$ADDR" "$N" "$PID" <<'EOF'
import base64, http.client, json, subprocess, sys
host, port = sys.argv[1].split(":")
n, pid = int(sys.argv[2]), sys.argv[3]
basic = "Basic " + base64.b64encode(b"admin@example.com:admin-secret-1").decode()
c = http.client.HTTPConnection(host, int(port))
def req(method, path, headers=None, body=None):
    c.request(method, path, body=body, headers=headers or {})
    r = c.getresponse(); data = r.read()
    return r, data
r, data = req("GET", "/csrf")
csrf = json.loads(data)["csrf"]
cookie = r.getheader("set-cookie").split(";")[0]
r, _ = req("POST", "/api/auth/login", {"Cookie": cookie, "X-CSRF": csrf, "Content-Type": "application/json"},
           json.dumps({"email": "admin@example.com", "password": "admin-secret-1", "long": False}))
cookie = r.getheader("set-cookie").split(";")[0]
kinds = [
    ("deep page, session", "/api/pages/blog+first-light", {"Cookie": cookie, "X-CSRF": csrf}),
    ("deep page, Basic", "/api/pages/blog+first-light", {"Authorization": basic}),
    ("children?limit=2&page=2", "/api/pages/blog/children?limit=2&page=2", {"Authorization": basic}),
    ("site?select=title", "/api/site?select=title", {"Authorization": basic}),
]
for name, path, headers in kinds:
    for _ in range(50):  # warm up: caches, allocator
        r, _ = req("GET", path, headers); assert r.status == 200, r.status
    subprocess.run(["callgrind_control", "--zero", pid], check=True, capture_output=True)
    for _ in range(n):
        req("GET", path, headers)
    subprocess.run(["callgrind_control", "--dump=" + name, pid], check=True, capture_output=True)
EOF
kill -TERM $PID; wait $PID 2>/dev/null || true
if [ -n "${KEEP:-}" ]; then mkdir -p "$KEEP" && cp "$WORK"/cg.* "$KEEP"/; fi
for f in "$WORK"/cg.*; do
  desc=$(grep -m1 '^desc: Trigger' "$f" | sed -n 's/.*dump *//p')
  total=$(grep -m1 '^summary:' "$f" | awk '{print $2}')
  [ -n "$desc" ] && [ -n "$total" ] && printf '%-28s %10.0f instructions/request\n' "$desc" "$(python3 -c "print($total/$N)")"
done
