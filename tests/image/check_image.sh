#!/usr/bin/env bash
# Checks the built image foreman-dispatch-bridge:VERSION for real, in the docker daemon:
#   - `--version` in the image prints this tree's version;
#   - the image runs as user 65532 (its config and a process in it);
#   - ldd finds every runtime library of the binary;
#   - it runs the bridge against kube-sim on the host (--network host, the kubeconfig
#     mounted read-only), and /readyz answers 200 (caches synced) within READY_WAIT s.
# Exit 0: all good; 1: the image is broken (each failure says what); 77 (CTest's skip):
# no docker daemon answers, or the image is not built — one line says which. With
# FDB_IMAGE_REQUIRED=1 (the image stage of scripts/dev test) those are failures too.
# Usage: check_image.sh KUBE_SIM VERSION_FILE
set -euo pipefail

sim="$1"
version="$(cat "$2")"
image="${IMAGE:-foreman-dispatch-bridge:${version}}"  # IMAGE: another image to check (tests)
docker="${DOCKER:-/usr/bin/docker}"
ready_wait="${READY_WAIT:-60}"

skip() {
  if [ -n "${FDB_IMAGE_REQUIRED:-}" ]; then
    echo "image check FAILED: $*" >&2
    exit 1
  fi
  echo "image check skipped: $*"
  exit 77
}
# HTTP with python3 (in scripts/dev's packages; curl need not be on the machine).
http_status() {  # URL: prints the status code, or 000 when nothing answered
  python3 -c 'import sys, urllib.request, urllib.error
try:
    print(urllib.request.urlopen(sys.argv[1], timeout=2).status)
except urllib.error.HTTPError as e:
    print(e.code)
except Exception:
    print("000")' "$1"
}
http_body() {  # URL: prints the body of a 200 answer
  python3 -c 'import sys, urllib.request
sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode())' "$1"
}
failures=0
check() {  # check WHAT CONDITION-RESULT(0/1) DETAIL
  if [ "$2" -eq 0 ]; then
    echo "ok   $1"
  else
    echo "FAIL $1: $3" >&2
    failures=$(( failures + 1 ))
  fi
}

[ -x "$docker" ] || skip "no docker client at $docker (scripts/dev image installs Debian's docker.io)"
"$docker" info >/dev/null 2>&1 || skip "no docker daemon answers (scripts/dev image starts one)"
"$docker" image inspect "$image" >/dev/null 2>&1 || skip "${image} is not built (scripts/dev image)"

work="$(mktemp -d)"
name="fdb-image-check-$$"
sim_pid=""
cleanup() {
  "$docker" rm -f "$name" >/dev/null 2>&1 || true
  [ -n "$sim_pid" ] && kill "$sim_pid" 2>/dev/null && wait "$sim_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# --version, with no network at all.
out="$("$docker" run --rm --network none "$image" --version 2>&1)" && rc=0 || rc=$?
[ "$rc" -eq 0 ] && [ "$out" = "foreman-dispatch-bridge ${version}" ] && ok=0 || ok=1
check "--version prints 'foreman-dispatch-bridge ${version}'" $ok "exit ${rc}, printed: ${out}"

# The user: the image's config, and who a process in it is.
user="$("$docker" image inspect -f '{{.Config.User}}' "$image")"
[ "$user" = "65532:65532" ] && ok=0 || ok=1
check "image user is 65532:65532" $ok "Config.User is '${user}'"
ids="$("$docker" run --rm --network none --entrypoint id "$image" -u 2>&1)::$("$docker" run --rm --network none --entrypoint id "$image" -g 2>&1)" || true
[ "$ids" = "65532::65532" ] && ok=0 || ok=1
check "a process in the image runs as uid 65532, gid 65532" $ok "id -u::id -g printed '${ids}'"

# Runtime libraries.
libs="$("$docker" run --rm --network none --entrypoint ldd "$image" /usr/local/bin/foreman-dispatch-bridge 2>&1)" && rc=0 || rc=$?
[ "$rc" -eq 0 ] && ! grep -q 'not found' <<<"$libs" && ok=0 || ok=1
check "ldd finds every library" $ok "exit ${rc}: $(grep 'not found' <<<"$libs" | tr -s ' \t\n' ' ')"

# The bridge from the image against kube-sim on the host's loopback.
"$sim" --listen 127.0.0.1:0 --dispatch-listen 127.0.0.1:0 --kubeconfig-out "$work/kubeconfig" \
  --seed-issues 2 >"$work/sim.out" 2>"$work/sim.log" &
sim_pid=$!
dispatch=""
for _ in $(seq 1 100); do
  dispatch="$(sed -n 's/^dispatch listening on //p' "$work/sim.out" | head -1)"
  [ -n "$dispatch" ] && [ -s "$work/kubeconfig" ] && break
  kill -0 "$sim_pid" 2>/dev/null || { cat "$work/sim.log" >&2; echo "image check: kube-sim exited" >&2; exit 1; }
  sleep 0.1
done
[ -n "$dispatch" ] || { echo "image check: kube-sim did not start within 10 s" >&2; exit 1; }
# The container's user is not root: it must be able to read the mounted file.
chmod 755 "$work" && chmod 644 "$work/kubeconfig"

"$docker" run -d --name "$name" --network host \
  -v "$work/kubeconfig:/etc/foreman-dispatch-bridge/kubeconfig:ro" \
  -e KUBECONFIG=/etc/foreman-dispatch-bridge/kubeconfig \
  -e DISPATCH_URL="$dispatch" -e DISPATCH_AGENT_TOKEN="image-check" \
  -e LEADER_ELECT=false -e METRICS_ADDR=127.0.0.1:0 -e HEALTH_ADDR=127.0.0.1:0 \
  "$image" --run-for $(( ready_wait + 30 )) >/dev/null

# One server for metrics and health (the two addresses are the same): its port is in the
# "serving" log line.
addr="" code=""
for (( i = 0; i < ready_wait * 5; i++ )); do
  running="$("$docker" inspect -f '{{.State.Running}}' "$name" 2>/dev/null || echo false)"
  [ "$running" = true ] || break
  [ -n "$addr" ] || addr="$("$docker" logs "$name" 2>&1 | grep -m1 '"serving"' \
                            | sed -n 's/.*"address":"\([^"]*\)".*/\1/p' || true)"
  if [ -n "$addr" ]; then
    code="$(http_status "http://${addr}/readyz")"
    [ "$code" = 200 ] && break
  fi
  sleep 0.2
done
[ "$code" = 200 ] && ok=0 || ok=1
check "the bridge in the image reaches /readyz 200 against kube-sim (--network host, kubeconfig read-only)" $ok \
  "running=${running:-?} address='${addr}' last /readyz status '${code}'; the container's log:
$("$docker" logs "$name" 2>&1 | tail -n 20)"
if [ "$ok" -eq 0 ]; then
  metrics="$(http_body "http://${addr}/metrics" 2>&1 || true)"
  grep -q '^foreman_bridge_' <<<"$metrics" && ok=0 || ok=1
  check "/metrics answers with the bridge's metrics" $ok "no foreman_bridge_ line in: $(head -c 300 <<<"$metrics")"
fi

if [ "$failures" -ne 0 ]; then
  echo "image check: ${failures} check(s) failed for ${image}" >&2
  exit 1
fi
echo "image check: ${image} passed"
