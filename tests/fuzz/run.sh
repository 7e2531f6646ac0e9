#!/usr/bin/env bash
# Builds the fuzz preset (clang, libFuzzer, ASan + UBSan) and runs each fuzzer for a
# bounded time, starting from its seed corpus (tests/fuzz/corpus/<name>). Fails when a
# fuzzer finds a crash, a leak, undefined behaviour, a timeout or a violated property; the
# input is saved in build/fuzz/artifacts/ (replay: build/fuzz/tests/fuzz/fuzz_<name> <file>).
#
#   tests/fuzz/run.sh                 every fuzzer, FUZZ_SECONDS each
#   tests/fuzz/run.sh selector log    only these
# Environment:
#   FUZZ_SECONDS   seconds per fuzzer (default 20)
#   FUZZ_NO_BUILD  set to 1 to skip the build (the binaries must exist)
# Inputs that found new coverage are kept in build/fuzz/corpus/<name> for the next run
# (not in the repository: add one to tests/fuzz/corpus/<name> by hand when it is worth it).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
seconds="${FUZZ_SECONDS:-20}"
all=(event_stream status kubeconfig dispatch_items selector log)
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=("${all[@]}")

if [ "${FUZZ_NO_BUILD:-0}" != 1 ]; then
  echo "==> building the fuzzers (preset fuzz)"
  start=$(date +%s)
  cmake --preset fuzz >/dev/null
  cmake --build --preset fuzz
  echo "==> built in $(( $(date +%s) - start )) s"
fi

bin="$root/build/fuzz/tests/fuzz"
artifacts="$root/build/fuzz/artifacts"
mkdir -p "$artifacts"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:allocator_may_return_null=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

failed=()
summary=()
for t in "${targets[@]}"; do
  exe="$bin/fuzz_$t"
  [ -x "$exe" ] || { echo "no fuzzer $exe (targets: ${all[*]})" >&2; exit 2; }
  work="$root/build/fuzz/corpus/$t"
  mkdir -p "$work"
  dict=()
  [ -f "$root/tests/fuzz/dict/$t.dict" ] && dict=(-dict="$root/tests/fuzz/dict/$t.dict")
  log="$artifacts/$t.log"
  echo "==> fuzz_$t for ${seconds} s"
  rc=0
  "$exe" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$artifacts/$t-" "${dict[@]}" "$work" "$root/tests/fuzz/corpus/$t" >"$log" 2>&1 || rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1 || true)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1 || true)
  cov=$( (grep -o 'cov: [0-9]*' "$log" || true) | tail -1 | cut -d' ' -f2)
  line=$(printf '%-16s %10s execs %8s/s  cov %6s' "$t" "${execs:-?}" "${rate:-?}" "${cov:-?}")
  if [ "$rc" -ne 0 ]; then
    line+="  FAILED (exit $rc, log $log)"
    failed+=("$t")
    echo "---- last lines of $log"
    tail -n 40 "$log"
    echo "----"
  fi
  summary+=("$line")
  echo "$line"
done

echo "==> summary"
printf '%s\n' "${summary[@]}"
if [ ${#failed[@]} -ne 0 ]; then
  echo "FAILED: ${failed[*]} (inputs in $artifacts)" >&2
  exit 1
fi
echo "all fuzzers passed"
