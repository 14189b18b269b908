#!/usr/bin/env bash
# `deno task test`: every test, from a fresh clone. Checks the system prerequisites first (one
# line naming the Debian packages when something is missing), fetches the tools the tests run
# into .cache/ once (helm and kubeconform; the test control plane, built from the Go module
# proxy: a quarter of an hour the first time, seconds after), then runs `deno test -A` with the
# arguments given:
#
#   deno task test                  # everything
#   deno task test charts/          # one folder
#
# (A bare `deno test` runs the unit tests only; see README, Quick start.)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

bash scripts/prerequisites.sh
bash scripts/install-tools.sh >&2
bash k8s/control-plane/build.sh >/dev/null
# "." overrides deno.json's unit-only test.include; --doc runs the JSDoc examples too.
exec deno test -A --doc "${@:-.}"
