#!/usr/bin/env bash
# Browser tests: the example site's /app page (same-site SPA with session + CSRF) and the
# headless KQL front-end at /headless/ (examples/headless), in Debian's Chromium, driven by
# playwright-core (tests/browser/app.spec.mjs, headless.spec.mjs). Installs what is missing
# (the `chromium` package, the npm dependency), builds the folio binary, runs the spec and
# ends with `browser: N passed, M failed`. The screenshot is kept at target/browser/app.png.
set -uo pipefail
cd "$(dirname "$0")/.."

summary_fail() {
  echo "browser: 0 passed, 1 failed ($1)"
  exit 1
}

if [ ! -x /usr/bin/chromium ]; then
  echo "== installing chromium"
  SUDO=""
  if [ "$(id -u)" != "0" ] && command -v sudo >/dev/null; then SUDO="sudo"; fi
  $SUDO apt-get update && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y chromium \
    || summary_fail "could not install chromium"
fi
command -v node >/dev/null || summary_fail "node is not installed"

echo "== npm dependencies"
if [ ! -d tests/browser/node_modules/playwright-core ]; then
  if [ -f tests/browser/package-lock.json ]; then
    (cd tests/browser && npm ci --no-audit --no-fund) || summary_fail "npm ci failed"
  else
    (cd tests/browser && npm install --no-audit --no-fund) || summary_fail "npm install failed"
  fi
fi

if [ -z "${FOLIO_BIN:-}" ]; then
  echo "== building folio"
  cargo build -p folio --locked || summary_fail "cargo build failed"
  FOLIO_BIN="$PWD/target/debug/folio"
fi
export FOLIO_BIN

echo "== browser tests"
mkdir -p target/browser
status=0
total_passed=0
total_failed=0
for spec in app headless; do
  log=target/browser/$spec.log
  echo "== $spec.spec.mjs"
  node "tests/browser/$spec.spec.mjs" 2>&1 | tee "$log"
  code=${PIPESTATUS[0]}
  last=$(tail -n 1 "$log")
  if ! grep -q '^browser: [0-9]* passed, [0-9]* failed$' <<<"$last"; then
    echo "$spec: the spec did not finish (exit $code)"
    total_failed=$((total_failed + 1))
    status=1
    continue
  fi
  total_passed=$((total_passed + $(awk '{print $2}' <<<"$last")))
  total_failed=$((total_failed + $(awk '{print $4}' <<<"$last")))
  [ "$code" -eq 0 ] || status=1
done
echo "browser: $total_passed passed, $total_failed failed"
exit "$status"
