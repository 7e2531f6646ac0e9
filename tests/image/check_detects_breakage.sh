#!/usr/bin/env bash
# The image check must fail on a broken image: two images made from the built one, each
# broken in one way a rollout would meet, are each checked with check_image.sh, which must
# exit 1 and name the failure:
#   - a runtime library removed (libfmt)  -> "FAIL ldd finds every library", and no /readyz;
#   - the user switched back to root       -> "FAIL image user is 65532:65532".
# Skipped (77) like check_image.sh when there is no daemon or no image.
# Usage: check_detects_breakage.sh KUBE_SIM VERSION_FILE
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
sim="$1"
version_file="$2"
image="foreman-dispatch-bridge:$(cat "$version_file")"
docker="${DOCKER:-/usr/bin/docker}"

[ -x "$docker" ] || { echo "breakage check skipped: no docker client at $docker"; exit 77; }
"$docker" info >/dev/null 2>&1 || { echo "breakage check skipped: no docker daemon answers (scripts/dev image starts one)"; exit 77; }
"$docker" image inspect "$image" >/dev/null 2>&1 || { echo "breakage check skipped: ${image} is not built (scripts/dev image)"; exit 77; }

tag="fdb-image-broken-$$"
cleanup() { "$docker" image rm -f "${tag}:nolib" "${tag}:root" >/dev/null 2>&1 || true; }
trap cleanup EXIT

derive() {  # derive TAG DOCKERFILE-LINES: an image FROM the built one, no build context
  DOCKER_BUILDKIT=1 "$docker" build -q -t "$1" - >/dev/null <<<"FROM ${image}
$2"
}
derive "${tag}:nolib" "USER root
RUN rm -f /usr/lib/x86_64-linux-gnu/libfmt.so.*
USER 65532:65532"
derive "${tag}:root" "USER root"

failures=0
expect_failure() {  # expect_failure TAG TEXT: the check of TAG must exit 1 and print TEXT
  local out rc
  out="$(IMAGE="$1" READY_WAIT=15 bash "$here/check_image.sh" "$sim" "$version_file" 2>&1)" && rc=0 || rc=$?
  if [ "$rc" -eq 1 ] && grep -qF "$2" <<<"$out"; then
    echo "ok   the check fails on ${1#"$tag":}: $2"
  else
    echo "FAIL the check of ${1#"$tag":} exited ${rc} without '$2'; it printed:" >&2
    echo "$out" >&2
    failures=$(( failures + 1 ))
  fi
}
expect_failure "${tag}:nolib" "FAIL ldd finds every library"
expect_failure "${tag}:nolib" "FAIL the bridge in the image reaches /readyz 200"
expect_failure "${tag}:root" "FAIL image user is 65532:65532"
expect_failure "${tag}:root" "FAIL a process in the image runs as uid 65532, gid 65532"

[ "$failures" -eq 0 ] || { echo "breakage check: ${failures} expectation(s) not met" >&2; exit 1; }
echo "breakage check: the image check caught both broken images"
