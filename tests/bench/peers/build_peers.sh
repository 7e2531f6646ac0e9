# Sourced by compare_watch.sh: builds (or installs) each wanted peer once into $peer_dir,
# and sets have_<peer>=1 for each peer ready to run. A peer whose toolchain is missing or
# whose build fails is skipped with one line on stderr; our own run never fails for it.
# Uses: $here, $peer_dir, wants, $GO, $CARGO, $NPM, $PYTHON.

# True when $1 is missing or older than any file under the folders that follow.
stale() {
  local out="$1"; shift
  [ ! -e "$out" ] && return 0
  [ -n "$(find "$@" -type f -newer "$out" -print -quit)" ]
}

skip() { echo "compare_watch: $1; skipping $2" >&2; }

build_go_peers() {
  wants client-go || wants controller-runtime || return 0
  if ! command -v "$GO" >/dev/null; then skip "no Go toolchain ($GO)" "client-go and controller-runtime"; return 0; fi
  local out="$peer_dir/go"
  mkdir -p "$out"
  if stale "$out/ctrlruntime" "$here/peers/go" || stale "$out/clientgo" "$here/peers/go"; then
    echo "compare_watch: building the Go peers (client-go, controller-runtime; pinned in go.sum) into $out" >&2
    if ! (cd "$here/peers/go" && GOFLAGS=-mod=readonly "$GO" build -trimpath -o "$out/" ./clientgo ./ctrlruntime) >"$out/build.log" 2>&1; then
      skip "the Go peers did not build (see $out/build.log)" "client-go and controller-runtime"
      rm -f "$out/clientgo" "$out/ctrlruntime"
      return 0
    fi
  fi
  wants client-go && have_client_go=1
  wants controller-runtime && have_controller_runtime=1
  return 0
}

build_rust_peer() {
  wants kube-rs || return 0
  if ! command -v "$CARGO" >/dev/null; then skip "no Rust toolchain ($CARGO)" "kube-rs"; return 0; fi
  local out="$peer_dir/kube-rs"
  mkdir -p "$out"
  if stale "$out/release/informer-kube-rs" "$here/peers/kube-rs/src" "$here/peers/kube-rs/Cargo.toml" "$here/peers/kube-rs/Cargo.lock"; then
    echo "compare_watch: building the kube-rs peer (release; pinned in Cargo.lock) into $out" >&2
    # With TLS (rustls), so that the same binary talks to kube-sim (http) and a real API server.
    if ! "$CARGO" build --release --locked --features tls --manifest-path "$here/peers/kube-rs/Cargo.toml" \
        --target-dir "$out" >"$out/build.log" 2>&1; then
      skip "the kube-rs peer did not build (see $out/build.log)" "kube-rs"
      return 0
    fi
    touch "$out/release/informer-kube-rs"
  fi
  have_kube_rs=1
}

build_node_peer() {
  wants client-node || return 0
  if ! command -v "$NPM" >/dev/null || ! command -v node >/dev/null; then skip "no Node toolchain ($NPM, node)" "client-node"; return 0; fi
  local out="$peer_dir/node"
  mkdir -p "$out"
  cp "$here/peers/node/package.json" "$here/peers/node/package-lock.json" "$here/peers/informer_node.mjs" "$out/"
  if [ ! -d "$out/node_modules/@kubernetes/client-node" ] || stale "$out/node_modules/.package-lock.json" "$here/peers/node"; then
    echo "compare_watch: installing @kubernetes/client-node (pinned in package-lock.json) into $out" >&2
    if ! (cd "$out" && "$NPM" ci --silent --no-audit --no-fund) >"$out/build.log" 2>&1; then
      skip "cannot install @kubernetes/client-node (see $out/build.log)" "client-node"
      return 0
    fi
  fi
  have_client_node=1
}

check_python_peer() {
  wants python || return 0
  if ! "$PYTHON" -c 'import kubernetes' 2>/dev/null; then
    skip "no python3-kubernetes for $PYTHON (apt-get install python3-kubernetes)" "python"
    return 0
  fi
  have_python=1
}

build_peers() {
  have_client_go=0 have_controller_runtime=0 have_kube_rs=0 have_client_node=0 have_python=0
  [ -n "$peers" ] || return 0
  build_go_peers
  build_rust_peer
  build_node_peer
  check_python_peer
}
