# The hooks image: this kit's hook libraries built against the exact Kea of
# the image they will be copied into, in /hooks as docker-kea's kea-hooks
# image holds ISC's.
#
#   podman build -f docker/hooks.Dockerfile \
#       --build-arg KEA_IMAGE=jonasal/kea-dhcp4:3.2.0 -t kea-rust-hooks:3.2.0 .
#
# KEA_IMAGE: the image whose Kea the hooks are for: one of our slim server
# images (docker/server.Dockerfile: Debian's Kea 2.6 or 3.0) or a docker-kea
# image (Kea built into /usr/local, headers in /usr/local/include/kea).
# The builder stage is that image plus a compiler, Rust and the headers
# Kea's need, from the same Debian release (Debian's rustc is 1.85 on
# trixie, the kit's minimum). The build context is the repository; with
# a `vendor/` directory in it (`cargo vendor`), it builds offline.
#
# Every library that goes into /hooks is checked by kea-hooks-check
# --library against the builder's Kea (it must open with that Kea's
# libraries and its version() must be that Kea's KEA_HOOKS_VERSION), so a
# library for another release fails the build. Libraries built elsewhere
# can be added from `prebuilt/` in the context; they are checked the same
# way. PACKAGES names the workspace packages to build (default: every hook).
ARG KEA_IMAGE=localhost/kea-hooks/kea-dhcp4:trixie
FROM ${KEA_IMAGE} AS builder
RUN set -eu; \
    export DEBIAN_FRONTEND=noninteractive; \
    apt-get update -qq; \
    pkgs="g++ pkg-config libboost-dev liblog4cplus-dev libssl-dev rustc cargo"; \
    # Debian's Kea keeps its headers in kea-dev; docker-kea's image has them.
    if [ ! -d /usr/local/include/kea ]; then pkgs="$pkgs kea-dev"; fi; \
    apt-get install -y -qq --no-install-recommends $pkgs >/dev/null
WORKDIR /src
COPY . /src
ARG PACKAGES="kea-hook-run-script kea-hook-lease-stats kea-hook-mac-acl kea-hook-class-policy kea-hook-lease-notifier"
RUN set -eu; \
    if [ -d /usr/local/include/kea ]; then export KEA_PREFIX=/usr/local; fi; \
    offline=""; \
    if [ -d vendor ]; then \
        mkdir -p .cargo; \
        printf '[source.crates-io]\nreplace-with = "vendored"\n[source.vendored]\ndirectory = "vendor"\n' > .cargo/config.toml; \
        offline=--offline; \
    fi; \
    set -- ; for p in $PACKAGES kea-hooks-check; do set -- "$@" -p "$p"; done; \
    # No debug information in an image (the workspace keeps some for profiling).
    CARGO_PROFILE_RELEASE_DEBUG=0 CARGO_PROFILE_RELEASE_STRIP=debuginfo \
        cargo build --release --locked $offline "$@"; \
    mkdir -p /out; \
    if ls target/release/libdhcp_*.so >/dev/null 2>&1; then cp target/release/libdhcp_*.so /out/; fi; \
    cp target/release/kea-hooks-check /usr/local/bin/; \
    if ls prebuilt/*.so >/dev/null 2>&1; then cp prebuilt/*.so /out/; fi; \
    set -- ; for lib in /out/*.so; do set -- "$@" --library "$lib"; done; \
    kea-hooks-check "$@"; \
    rm -rf target
FROM ${KEA_IMAGE} AS hooks
COPY --from=builder /out/ /hooks/
CMD ["ls", "-l", "/hooks"]
