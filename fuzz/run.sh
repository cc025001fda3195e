#!/usr/bin/env bash
# Runs every fuzz target for SECONDS seconds each (default 4; `bash fuzz/run.sh 600` for the
# ten-minute runs) on its corpus in fuzz/corpus/<target>, with cargo-fuzz on the nightly
# toolchain (installed when missing). New inputs that reach new code are added to the
# corpus; a failing input is saved under fuzz/artifacts/<target>/ and the script exits 1.
# JOBS targets run at once (default 1).
set -uo pipefail
cd "$(dirname "$0")"
SECONDS_EACH="${1:-4}"
JOBS="${JOBS:-1}"
TARGETS=(txt yaml php_array multipart query credentials kirbytext)

if ! command -v cargo-fuzz >/dev/null; then
  echo "== installing cargo-fuzz"
  cargo install cargo-fuzz --locked --quiet || { echo "fuzz: cannot install cargo-fuzz"; exit 1; }
fi
echo "== building the fuzz targets (nightly, no sanitizer: safe Rust panics are what we look for)"
cargo +nightly fuzz build -s none >/dev/null 2>&1 || { cargo +nightly fuzz build -s none; exit 1; }

run_one() {
  local t="$1"
  mkdir -p "corpus/$t"
  local log dirs
  log="$(mktemp)"
  # Short runs (CI) read the committed corpus and write what they find elsewhere, so the
  # checkout stays clean; long runs grow the committed corpus.
  if [ "$SECONDS_EACH" -lt 60 ]; then
    local scratch
    scratch="$(mktemp -d)"
    dirs=("$scratch" "corpus/$t")
  else
    dirs=("corpus/$t")
  fi
  if cargo +nightly fuzz run -s none "$t" "${dirs[@]}" -- -max_total_time="$SECONDS_EACH" -rss_limit_mb=2048 >"$log" 2>&1; then
    echo "fuzz $t: ok ($(grep -a -o 'Done [0-9]* runs' "$log" | tail -1) in ${SECONDS_EACH}s, corpus $(ls "corpus/$t" | wc -l))"
    rm -f "$log"
  else
    echo "fuzz $t: FAILED"
    grep -a -E "panicked|SUMMARY|Test unit written" "$log" | head -5
    rm -f "$log"
    return 1
  fi
}

failed=0
running=0
pids=()
for t in "${TARGETS[@]}"; do
  run_one "$t" &
  pids+=($!)
  running=$((running + 1))
  if [ "$running" -ge "$JOBS" ]; then
    wait -n || failed=1
    running=$((running - 1))
  fi
done
while [ "$running" -gt 0 ]; do
  wait -n || failed=1
  running=$((running - 1))
done
if [ "$failed" -ne 0 ]; then
  echo "fuzz: FAILED"
  exit 1
fi
echo "fuzz: ${#TARGETS[@]} targets ok"
