# The hooks image: this kit's hook libraries built against the exact Kea of
# the image they will be copied into, in /hooks, as docker-kea's
# jonasal/kea-hooks image holds ISC's: a place to `COPY --from`, not a
# server. It holds /hooks and a static `ls` (Debian's busybox-static,
# installed as /bin/ls; its command is `ls -l /hooks`), nothing else: no
# Kea, no shell, no libc (a few MB).
#
#   podman build -f docker/hooks.Dockerfile \
#       --build-arg KEA_IMAGE=jonasal/kea-dhcp4-slim:3.2.0 -t kea-rust-hooks:3.2.0 .
#
# KEA_IMAGE: the image whose Kea the hooks are for: one of our server
# images (docker/server.Dockerfile: Debian's Kea 2.6 or 3.0) or a docker-kea
# image (Kea built into /usr/local, headers in /usr/local/include/kea);
# the slim or the full one, dhcp4 or dhcp6: all of a release share one Kea.
# The builder stage is that image plus a compiler, Rust and the headers
# Kea's need, from the same Debian release (Debian's rustc is 1.85 on
# trixie, the kit's minimum). The build context is the repository; with
# a `vendor/` directory in it (`cargo vendor`), it builds offline.
#
# The builder's Kea is the image's own: Debian's kea-dev is installed at
# exactly the version of the image's kea-common (an unpinned install would
# take the archive's newest, bringing its own libraries with it, and the
# hooks would be built and checked against a Kea the image does not have);
# when the archive no longer has that version, or apt would change any
# Kea package of the image, the build fails and says so. docker-kea's
# images carry their own headers, and apt installs no Kea there.
#
# Every library that goes into /hooks is checked twice: in the builder by
# kea-hooks-check --library (it must open with that Kea's libraries and
# its version() must be that Kea's KEA_HOOKS_VERSION), and in the `check`
# stage, KEA_IMAGE itself with the libraries, by its own Kea (`kea-dhcp4
# -t` opens each library and refuses one whose version() is not its own),
# so a library for another release fails the build; the final image takes
# /hooks from that stage. Libraries built elsewhere can be added from
# `prebuilt/` in the context; they are checked the same way. PACKAGES
# names the workspace packages to build (default: every hook).
ARG KEA_IMAGE=localhost/kea-hooks/kea-dhcp4-slim:2.6
FROM ${KEA_IMAGE} AS builder
RUN set -eu; \
    export DEBIAN_FRONTEND=noninteractive; \
    apt-get update -qq; \
    # busybox-static: the final image's `ls` (static: that image has no libc).
    pkgs="g++ pkg-config libboost-dev liblog4cplus-dev libssl-dev rustc cargo busybox-static"; \
    # The image's Kea packages (Debian's; none in docker-kea's images).
    kea_pkgs() { dpkg-query -W -f='${db:Status-Status} ${Package} ${Version}\n' | awk '$1 == "installed" && $2 ~ /^kea/ { print $2, $3 }' | sort; }; \
    before=$(kea_pkgs); \
    # Debian's Kea keeps its headers in kea-dev, pinned to the image's Kea;
    # docker-kea's image has them.
    kea=""; \
    if [ ! -d /usr/local/include/kea ]; then \
        kea=$(dpkg-query -W -f='${Version}' kea-common 2>/dev/null) || { echo "hooks image: the image has no Debian kea-common and no /usr/local/include/kea: which Kea is it?" >&2; exit 1; }; \
        pkgs="$pkgs kea-dev=$kea"; \
    fi; \
    apt-get install -y -qq --no-install-recommends $pkgs >/dev/null || { \
        echo "hooks image: cannot install $pkgs: the image's Kea is $kea; the archive offers kea-dev $(apt-cache policy kea-dev | awk '/Candidate/ { print $2 }'): build against an archive that still has the image's Kea, or an image with the archive's" >&2; exit 1; }; \
    # Every Kea package the image had is still there at its version, and
    # any added (kea-dev) is of that same version.
    after=$(kea_pkgs); \
    changed=$(printf '%s\n' "$before" | while read -r p v; do \
            [ -n "$p" ] || continue; \
            now=$(printf '%s\n' "$after" | awk -v p="$p" '$1 == p { print $2 }'); \
            [ "$now" = "$v" ] || echo "$p $v -> ${now:-removed}"; \
        done; \
        [ -z "$kea" ] || printf '%s\n' "$after" | awk -v v="$kea" 'NF && $2 != v { print $1 " " $2 " (not " v ")" }'); \
    if [ -n "$changed" ]; then echo "hooks image: installing the build tools changed the image's Kea packages, so the hooks would not be for the image's Kea:" >&2; echo "$changed" >&2; exit 1; fi
WORKDIR /src
COPY . /src
ARG PACKAGES="kea-hook-run-script kea-hook-lease-stats kea-hook-mac-acl kea-hook-class-policy kea-hook-lease-notifier kea-hook-kea-metrics"
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
    rm -rf target; \
    mkdir -p /bin-static; \
    cp "$(command -v busybox)" /bin-static/ls
# The very Kea the hooks ship into checks them: `-t` opens every library
# listed (with this image's Kea libraries) and refuses one whose version()
# is not this Kea's. (It calls no hook's load(): parameters were checked
# by kea-hooks-check.)
FROM ${KEA_IMAGE} AS check
COPY --from=builder /out/ /hooks/
RUN set -eu; \
    ls /hooks/*.so >/dev/null 2>&1 || exit 0; \
    if command -v kea-dhcp4 >/dev/null; then daemon=kea-dhcp4 map=Dhcp4; else daemon=kea-dhcp6 map=Dhcp6; fi; \
    conf=$(mktemp); \
    { printf '{ "%s": { "hooks-libraries": [' "$map"; sep=""; \
      for lib in /hooks/*.so; do printf '%s { "library": "%s" }' "$sep" "$lib"; sep=","; done; \
      printf ' ] } }\n'; } >"$conf"; \
    if ! out=$(KEA_HOOKS_PATH=/hooks "$daemon" -t "$conf" 2>&1); then \
        echo "$out" >&2; \
        echo "hooks image: this image's Kea ($("$daemon" -v)) refuses the hook libraries built for it" >&2; \
        rm -f "$conf"; exit 1; \
    fi; \
    rm -f "$conf"
# The image: /hooks, as checked above, and `ls`.
FROM scratch AS hooks
COPY --from=builder /bin-static/ls /bin/ls
COPY --from=check /hooks/ /hooks/
ENV PATH=/bin
CMD ["ls", "-l", "/hooks"]
