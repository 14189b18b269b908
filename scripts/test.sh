#!/usr/bin/env bash
# `deno task test`: every test, from a fresh clone. Checks the system prerequisites first (one
# line naming the Debian packages when something is missing), fetches the tools the tests run
# (helm, kubeconform) into .cache/ once, then runs `deno test -A` with the arguments given:
#
#   deno task test                  # everything
#   deno task test charts/          # one folder
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

bash scripts/prerequisites.sh
bash scripts/install-tools.sh >&2
exec deno test -A "$@"
