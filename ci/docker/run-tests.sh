#!/usr/bin/env bash
# The docker part of ci/run: only where a Docker daemon answers. Builds the images
# (reused when present), runs the docker backend tests, the multi-host test and a
# transcript on the docker backend, then checks that no harness container is left.
set -euo pipefail
cd "$(dirname "$0")/../.."
if ! docker info >/dev/null 2>&1; then
  echo "SKIPPED: docker tests: no Docker daemon answers (docker info failed)"
  exit 0
fi
target="${CARGO_TARGET_DIR:-target}"
echo "== docker: lint and build with the docker feature"
cargo clippy --features docker --all-targets -- -D warnings
cargo build --release --features docker
echo "== docker: images"
HARNESS_BIN="$target/release/harness" bash ci/docker/build-images.sh
export HARNESS_DOCKER_IMAGE=harness-pg:15
echo "== docker: tests"
cargo test --features docker --lib pg::docker
cargo test --features docker --test docker_backend -- --nocapture
cargo test --features docker --test pg_backends docker -- --nocapture
cargo test --features docker --test docker_multihost
echo "== docker: harness run --backend docker --image harness-pg:15 transcripts/async.txt"
"$target/release/harness" run --backend docker --image harness-pg:15 transcripts/async.txt
left="$(docker ps -aq --filter label=harness.backend)"
if [ -n "$left" ]; then
  echo "docker: containers left behind:" >&2
  docker ps -a --filter label=harness.backend >&2
  exit 1
fi
echo "docker: no harness container left"
