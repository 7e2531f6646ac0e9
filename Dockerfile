# foreman-dispatch-bridge: build on Debian 12 with the packages scripts/dev installs, run on
# debian:12-slim with only the binary and its runtime libraries, as user 65532.
#   scripts/dev image        (makes the base images when missing, builds, tags; see docs/operations.md)
#   DOCKER_BUILDKIT=1 docker build --network host -t foreman-dispatch-bridge:$(cat VERSION) .
# BuildKit is required (cache mounts). No `# syntax=` line: that would make BuildKit fetch a
# Dockerfile frontend image from a registry; the daemon's built-in frontend is used instead.

FROM debian:12 AS build
ARG DEBIAN_FRONTEND=noninteractive
# The build packages of scripts/dev (keep the two lists in step). apt's lists and downloaded
# packages live in cache mounts, so a rebuild of this layer does not download them again
# (the base image's docker-clean hook, which deletes them, is removed for that).
RUN --mount=type=cache,id=fdb-apt-cache,target=/var/cache/apt,sharing=locked \
    --mount=type=cache,id=fdb-apt-lists,target=/var/lib/apt/lists,sharing=locked \
    rm -f /etc/apt/apt.conf.d/docker-clean \
 && apt-get update \
 && apt-get install -y --no-install-recommends \
      g++ cmake ninja-build ccache pkg-config git \
      libboost1.81-dev libboost-json1.81-dev libboost-test1.81-dev libboost-url1.81-dev \
      libboost-program-options1.81-dev libfmt-dev libyaml-cpp-dev libssl-dev zlib1g-dev libsimdjson-dev \
      openssl python3 python3-kubernetes ca-certificates
WORKDIR /src
COPY . .
# A fresh build folder: whatever build/ the context might carry is ignored (.dockerignore).
# ccache's store is a cache mount: after a source change only the changed files compile.
RUN --mount=type=cache,id=fdb-ccache,target=/ccache \
    export CCACHE_DIR=/ccache \
 && rm -rf build \
 && cmake --preset default \
 && cmake --build --preset default --target foreman-dispatch-bridge \
 && strip --strip-debug -o /foreman-dispatch-bridge build/default/operator/foreman-dispatch-bridge \
 && /foreman-dispatch-bridge --version \
 && { ccache --show-stats | grep -Ei 'hits|misses' || true; }

FROM debian:12-slim
ARG DEBIAN_FRONTEND=noninteractive
# Runtime libraries only (what `ldd` of the binary names beyond libc and libstdc++).
RUN --mount=type=cache,id=fdb-apt-lists-slim,target=/var/lib/apt/lists,sharing=locked \
    apt-get update \
 && apt-get install -y --no-install-recommends \
      libboost-json1.81.0 libboost-url1.81.0 libboost-program-options1.81.0 \
      libfmt9 libyaml-cpp0.7 libssl3 libsimdjson14 ca-certificates \
 && rm -rf /var/cache/apt/archives/* /var/log/*
COPY --from=build /foreman-dispatch-bridge /usr/local/bin/foreman-dispatch-bridge
# Fails the image build if a runtime library is missing.
RUN /usr/local/bin/foreman-dispatch-bridge --version
USER 65532:65532
# METRICS_ADDR and HEALTH_ADDR defaults.
EXPOSE 8080 8081
ENTRYPOINT ["/usr/local/bin/foreman-dispatch-bridge"]
