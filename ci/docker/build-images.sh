#!/usr/bin/env bash
# Builds the local images the docker backend and the multi-host tests use, from
# Debian's packages only (no registry is needed or asked):
#
#   harness-base:bookworm  a minimal Debian root filesystem (debootstrap
#                          --variant=minbase, then `docker import`)
#   harness-pg:15          PostgreSQL 15 from Debian, with an entry point that
#                          initializes and starts the server like the official image
#   harness-worker:latest  the release `harness` binary and definitions/
#
# An image whose tag exists is reused: FORCE=1 rebuilds harness-pg and
# harness-worker (docker's build cache keeps that quick), FORCE=2 also runs
# debootstrap again. The root filesystem
# tarball is cached in ${HARNESS_CACHE:-~/.cache/harness}/docker/. The harness
# binary links glibc dynamically: bookworm's matches the build host's (Debian 12).
#
# Usage: ci/docker/build-images.sh [base|pg|worker|all]...   (default: all)
# Environment: SUITE (bookworm), MIRROR, PG_MAJOR (15), HARNESS_BIN (a harness
# binary to put in the worker image; default: cargo build --release).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"

SUITE="${SUITE:-bookworm}"
MIRROR="${MIRROR:-http://deb.debian.org/debian}"
PG_MAJOR="${PG_MAJOR:-15}"
FORCE="${FORCE:-0}"
cache="${HARNESS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/harness}/docker"
base_tag="harness-base:$SUITE"
pg_tag="harness-pg:$PG_MAJOR"
worker_tag="harness-worker:latest"

say() { echo "build-images: $*" >&2; }

# Temporary directories, removed however the script ends.
scratch=()
trap 'rm -rf "${scratch[@]}"' EXIT

image_id() { docker image inspect -f '{{.Id}}' "$1" 2>/dev/null || true; }

# `docker build` quietly (the legacy builder's deprecation notice is noise here);
# the image a rebuilt tag replaces is removed, not left dangling.
build() { # TAG DOCKER-BUILD-ARGS...
    local tag="$1" old
    shift
    old="$(image_id "$tag")"
    docker build -q -t "$tag" "$@" 2> >(grep -v -e DEPRECATED -e buildx -e 'docs.docker.com/go/buildx' -e '^ *$' >&2) >/dev/null
    if [ -n "$old" ] && [ "$old" != "$(image_id "$tag")" ]; then
        docker rmi "$old" >/dev/null 2>&1 || true
    fi
}

have_image() { # TAG FORCE-LEVEL-THAT-REBUILDS-IT
    [ "$FORCE" -lt "$2" ] && docker image inspect "$1" >/dev/null 2>&1
}

build_base() {
    if have_image "$base_tag" 2; then
        say "$base_tag exists"
        return
    fi
    mkdir -p "$cache"
    local tarball="$cache/$SUITE-minbase.tar"
    if [ ! -s "$tarball" ] || [ "$FORCE" -ge 2 ]; then
        command -v debootstrap >/dev/null || {
            say "debootstrap is missing (apt-get install debootstrap)"
            exit 1
        }
        [ "$(id -u)" = 0 ] || { say "debootstrap needs root"; exit 1; }
        local rootfs
        rootfs="$(mktemp -d "$cache/rootfs.XXXXXX")"
        scratch+=("$rootfs")
        say "debootstrap --variant=minbase $SUITE (a few minutes, once)"
        debootstrap --variant=minbase "$SUITE" "$rootfs" "$MIRROR" >"$cache/debootstrap.log" 2>&1 || {
            tail -20 "$cache/debootstrap.log" >&2
            exit 1
        }
        # Like Debian's official images: sources for apt, no docs, no caches.
        printf 'deb %s %s main\ndeb %s %s-updates main\ndeb http://deb.debian.org/debian-security %s-security main\n' \
            "$MIRROR" "$SUITE" "$MIRROR" "$SUITE" "$SUITE" >"$rootfs/etc/apt/sources.list"
        printf 'path-exclude /usr/share/doc/*\npath-exclude /usr/share/man/*\npath-exclude /usr/share/locale/*\npath-include /usr/share/doc/*/copyright\n' \
            >"$rootfs/etc/dpkg/dpkg.cfg.d/docker-excludes"
        printf 'APT::Install-Recommends "false";\nAPT::Install-Suggests "false";\n' \
            >"$rootfs/etc/apt/apt.conf.d/docker-no-recommends"
        rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin \
            "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/usr/share/doc/* \
            "$rootfs"/usr/share/man/* "$rootfs"/usr/share/locale/*
        tar --numeric-owner -C "$rootfs" -cf "$tarball.tmp" .
        mv "$tarball.tmp" "$tarball"
        rm -rf "$rootfs"
    fi
    say "docker import $tarball -> $base_tag"
    docker import --change 'CMD ["/bin/bash"]' --change 'ENV LANG=C.UTF-8' \
        "$tarball" "$base_tag" >/dev/null
}

build_pg() {
    if have_image "$pg_tag" 1; then
        say "$pg_tag exists"
        return
    fi
    build_base
    say "building $pg_tag (postgresql-$PG_MAJOR from Debian)"
    # Host networking: apt reaches the mirror the way the host does.
    build "$pg_tag" --network host -f "$here/Dockerfile.pg" \
        --build-arg "BASE=$base_tag" --build-arg "PG_MAJOR=$PG_MAJOR" "$here"
}

build_worker() {
    # The binary changes with every commit: rebuild unless it is the same binary.
    local bin="${HARNESS_BIN:-}"
    if [ -z "$bin" ]; then
        say "cargo build --release"
        (cd "$root" && cargo build --release --quiet)
        bin="${CARGO_TARGET_DIR:-$root/target}/release/harness"
    fi
    local sum
    sum="$(sha256sum "$bin" | cut -c1-16)"
    if [ "$FORCE" -lt 1 ] && [ "$(docker image inspect -f '{{ index .Config.Labels "harness.binary" }}' "$worker_tag" 2>/dev/null)" = "$sum" ]; then
        say "$worker_tag exists (same binary)"
        return
    fi
    build_base
    local stage
    stage="$(mktemp -d)"
    scratch+=("$stage")
    cp "$here/Dockerfile.worker" "$stage/Dockerfile"
    cp "$bin" "$stage/harness"
    cp -r "$root/definitions" "$stage/definitions"
    say "building $worker_tag"
    build "$worker_tag" --label "harness.binary=$sum" --build-arg "BASE=$base_tag" "$stage"
}

docker info >/dev/null 2>&1 || { say "no Docker daemon answers"; exit 1; }
[ "$#" -gt 0 ] || set -- all
for what in "$@"; do
    case "$what" in
        base) build_base ;;
        pg) build_pg ;;
        worker) build_worker ;;
        all) build_pg; build_worker ;;
        *) say "unknown image: $what (base, pg, worker, all)"; exit 2 ;;
    esac
done
