#!/usr/bin/env bash
# Fuzzes every reader: builds the `fuzz` preset (clang++-14, libFuzzer, ASan, UBSan) in build/fuzz,
# writes the seed corpora (fuzz/make_corpus.py), then runs each harness in turn and fails if any reports
# a crash, a sanitizer error, a leak, a hang (-timeout=10) or an allocation past 2 GiB
# (-rss_limit_mb=2048). docs/reliability.md has the harnesses and what they found.
#
#   scripts/fuzz.sh --runs N [--seed S]  # CI: N inputs per harness from fresh seed corpora, libFuzzer
#                                        # seed S (default 1): the same inputs every run
#   scripts/fuzz.sh [SECONDS_PER_HARNESS] # a campaign (default 20 s per harness) on growing corpora
#   PGG_FUZZ_ONLY="fuzz_npy fuzz_idx" scripts/fuzz.sh 600   # a subset, e.g. a long campaign
#   PGG_FUZZ_JOBS=1                                         # build jobs (default 2)
#   PGG_FUZZ_SKIP_BUILD=1                                   # run what build/fuzz already has
#
# Logs: build/fuzz/logs/<harness>.log; findings: build/fuzz/findings/<harness>/{crash,leak,timeout,oom}-*;
# a campaign's corpora grow in build/fuzz/corpus/<harness>/ from run to run (never committed); --runs
# uses build/fuzz/ci-corpus/<harness>/, made afresh each time.
# Reproduce a finding: UBSAN_OPTIONS=suppressions=fuzz/ubsan.supp build/fuzz/fuzz/<harness> <finding file>
set -uo pipefail

usage() { echo "usage: $0 [SECONDS_PER_HARNESS] | --runs N [--seed S]" >&2; exit 2; }
seconds=20 runs='' seed=1
while (($#)); do
  case $1 in
    --runs) runs=${2:-}; [[ $runs =~ ^[0-9]+$ && $runs -gt 0 ]] || usage; shift 2 ;;
    --seed) seed=${2:-}; [[ $seed =~ ^[0-9]+$ && $seed -gt 0 ]] || usage; shift 2 ;;
    *) seconds=$1; [[ $seconds =~ ^[0-9]+$ && $seconds -gt 0 ]] || usage; shift ;;
  esac
done
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=$root/build/fuzz
cd "$root"
corpora=$build/corpus
if [[ -n $runs ]]; then # reproducible: fixed inputs to start from, a fixed seed, a fixed count
  corpora=$build/ci-corpus
  rm -rf "$corpora"
fi

if [[ -z ${PGG_FUZZ_SKIP_BUILD:-} ]]; then
  cmake --preset fuzz >/dev/null || { echo "fuzz: configuring the fuzz preset failed" >&2; exit 1; }
  cmake --build --preset fuzz --parallel "${PGG_FUZZ_JOBS:-2}" || { echo "fuzz: the build failed" >&2; exit 1; }
fi
/usr/bin/python3 fuzz/make_corpus.py "$corpora" || { echo "fuzz: making the seed corpora failed" >&2; exit 1; }

harnesses=${PGG_FUZZ_ONLY:-$(cat "$build/fuzzers.txt")}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:detect_stack_use_after_return=1:check_initialization_order=1:strict_string_checks=1}
# fuzz/ubsan.supp: stb arithmetic the readers cannot prevent (docs/reliability.md)
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:suppressions=$root/fuzz/ubsan.supp}
mkdir -p "$build/logs"
failed=()
printf '%-18s %10s %7s %6s %6s %14s %7s  %s\n' harness executions exec/s cov ft corpus rss_mb result
for h in $harnesses; do
  bin=$build/fuzz/$h
  [[ -x $bin ]] || { echo "fuzz: $bin is missing (not built?)" >&2; failed+=("$h: not built"); continue; }
  findings=$build/findings/$h
  mkdir -p "$findings" "$corpora/$h"
  # Reproducible runs also need the corpus not reread on a timer (-reload=0) and the same addresses
  # (setarch -R: libFuzzer keys its table of recent comparisons partly by code address).
  launch=()
  if [[ -n $runs ]]; then
    args=(-runs="$runs" -seed="$seed" -reload=0)
    if setarch "$(uname -m)" -R true 2>/dev/null; then launch=(setarch "$(uname -m)" -R)
    else echo "fuzz: setarch -R is not allowed here: $h runs with address randomisation (not reproducible)" >&2; fi
  else
    args=(-max_total_time="$seconds")
  fi
  args+=(-timeout=10 -rss_limit_mb=2048 -detect_leaks=1 -print_final_stats=1
        -artifact_prefix="$findings/" -close_fd_mask=0)
  [[ -f fuzz/dicts/$h.dict ]] && args+=(-dict="fuzz/dicts/$h.dict")
  [[ $h == fuzz_npy ]] && args+=(-max_len=70000) # .npy headers run to 65535 bytes
  log=$build/logs/$h.log
  list_findings() { find "$findings" -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) | sort; }
  before=$(list_findings)
  "${launch[@]}" "$bin" "${args[@]}" "$corpora/$h" >"$log" 2>&1
  rc=$?
  new=$(comm -13 <(echo "$before") <(list_findings) | grep . || true)
  done_line=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -1)
  [[ -z $done_line ]] && done_line=$(grep -E '^#[0-9]+[[:space:]]+(pulse|NEW|REDUCE|INITED)' "$log" | tail -1)
  execs=$(grep -oE 'stat::number_of_executed_units:[[:space:]]+[0-9]+' "$log" | grep -oE '[0-9]+$')
  rate=$(grep -oE 'stat::average_exec_per_sec:[[:space:]]+[0-9]+' "$log" | grep -oE '[0-9]+$')
  cov=$(grep -oE 'cov: [0-9]+' <<<"$done_line" | grep -oE '[0-9]+')
  ft=$(grep -oE 'ft: [0-9]+' <<<"$done_line" | grep -oE '[0-9]+')
  corp=$(grep -oE 'corp: [0-9]+/[0-9]+[a-zA-Z]*' <<<"$done_line" | cut -d' ' -f2)
  if [[ $rc -eq 0 && -z $new ]]; then
    result=ok
  else
    result="FAILED (exit $rc)"
    failed+=("$h")
  fi
  rss=$(grep -oE "stat::peak_rss_mb:[[:space:]]+[0-9]+" "$log" | grep -oE "[0-9]+$")
  printf '%-18s %10s %7s %6s %6s %14s %7s  %s\n' "$h" "${execs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}" "${rss:-?}" "$result"
  if [[ $result != ok ]]; then
    echo "---- $h: $(grep -m1 -E 'ERROR: |runtime error:|terminate called|SUMMARY: ' "$log")"
    for f in $new; do echo "---- $h: finding $f  (reproduce: $bin $f)"; done
    echo "---- $h: log $log (last lines):"
    tail -n 25 "$log" | sed 's/^/     /'
  fi
done

if ((${#failed[@]})); then
  echo "fuzz: FAILED: ${failed[*]}" >&2
  exit 1
fi
if [[ -n $runs ]]; then echo "fuzz: every harness ran $runs inputs (seed $seed) without a finding"
else echo "fuzz: every harness ran ${seconds}s without a finding"; fi
