# syntax=docker/dockerfile:1
# foreman-dispatch-bridge: build on Debian 12 with the packages scripts/dev installs, run on
# debian:12-slim with only the binary and its runtime libraries, as user 65532.
#   docker build -t foreman-dispatch-bridge:$(cat VERSION) .

FROM debian:12 AS build
ARG DEBIAN_FRONTEND=noninteractive
# The build packages of scripts/dev (keep the two lists in step).
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      g++ cmake ninja-build ccache pkg-config git \
      libboost1.81-dev libboost-json1.81-dev libboost-test1.81-dev libboost-url1.81-dev \
      libboost-program-options1.81-dev libfmt-dev libyaml-cpp-dev libssl-dev zlib1g-dev \
      openssl python3 python3-kubernetes ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# A fresh build folder: whatever build/ the context might carry is ignored (.dockerignore).
RUN rm -rf build \
 && cmake --preset default \
 && cmake --build --preset default --target foreman-dispatch-bridge \
 && strip --strip-debug -o /foreman-dispatch-bridge build/default/operator/foreman-dispatch-bridge \
 && /foreman-dispatch-bridge --version

FROM debian:12-slim
ARG DEBIAN_FRONTEND=noninteractive
# Runtime libraries only (what `ldd` of the binary names beyond libc and libstdc++).
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      libboost-json1.81.0 libboost-url1.81.0 libboost-program-options1.81.0 \
      libfmt9 libyaml-cpp0.7 libssl3 ca-certificates \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/* /var/log/*
COPY --from=build /foreman-dispatch-bridge /usr/local/bin/foreman-dispatch-bridge
# Fails the image build if a runtime library is missing.
RUN /usr/local/bin/foreman-dispatch-bridge --version
USER 65532:65532
# METRICS_ADDR and HEALTH_ADDR defaults.
EXPOSE 8080 8081
ENTRYPOINT ["/usr/local/bin/foreman-dispatch-bridge"]
