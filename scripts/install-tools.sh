#!/usr/bin/env bash
# Installs the Kubernetes tooling the chart tests and the kind path need, from the Go module proxy,
# into .cache/tools/bin (git-ignored; CI caches .cache/). Idempotent: a tool already at the pinned
# version is left alone.
#
#   scripts/install-tools.sh            # helm + kubeconform (what `deno task test` needs)
#   scripts/install-tools.sh --kind     # also kind (only for `deno task kind:up`)
#
# Needs Go (>= 1.26 for helm v4) and access to the Go module proxy. No Docker, no cluster.
set -euo pipefail

HELM_VERSION="v4.3.1"          # helm.sh/helm/v4, current stable line
KUBECONFORM_VERSION="v0.8.0"   # github.com/yannh/kubeconform
KIND_VERSION="v0.33.0"         # sigs.k8s.io/kind (node image: Kubernetes v1.37.0)
# client-go of Kubernetes 1.37 (the one helm v4.3.1 builds with): it embeds the structured schema
# of every built-in kind that server-side apply uses; the chart tests read it to reject unknown
# fields, which the npm package kubernetes-models lets through.
CLIENT_GO_VERSION="v0.37.1"

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="$root/.cache/tools/bin"
export GOBIN="$bin"
export GOPATH="$root/.cache/go"
export GOMODCACHE="$root/.cache/go/mod"
export GOCACHE="$root/.cache/go/build"
export GOFLAGS="-buildvcs=false -trimpath"
export CGO_ENABLED=0
# helm v4 needs Go 1.26: an older go (1.21+) fetches that toolchain from the module proxy.
export GOTOOLCHAIN="${GOTOOLCHAIN:-auto}"
mkdir -p "$bin"

go_bin="$(command -v go || true)"
if [[ -z "$go_bin" && -x /usr/local/go/bin/go ]]; then go_bin=/usr/local/go/bin/go; fi
if [[ -z "$go_bin" ]]; then
  echo "install-tools: Go is required (https://go.dev/dl/) to install helm/kubeconform/kind" >&2
  exit 1
fi

# stamp file per tool records the installed version: cheap, and works for binaries without --version.
install() { # name module version ldflags
  local name="$1" module="$2" version="$3" ldflags="${4:-}"
  local stamp="$bin/.$name.version"
  if [[ -x "$bin/$name" && -f "$stamp" && "$(cat "$stamp")" == "$version" ]]; then
    echo "install-tools: $name $version already installed"
    return
  fi
  echo "install-tools: installing $name $version ($module)"
  "$go_bin" install -ldflags "-s -w $ldflags" "$module@$version"
  echo "$version" >"$stamp"
}

install helm helm.sh/helm/v4/cmd/helm "$HELM_VERSION" \
  "-X helm.sh/helm/v4/internal/version.version=$HELM_VERSION"
install kubeconform github.com/yannh/kubeconform/cmd/kubeconform "$KUBECONFORM_VERSION"
if [[ "${1:-}" == "--kind" ]]; then
  install kind sigs.k8s.io/kind "$KIND_VERSION"
fi

types="$root/.cache/tools/share/kubernetes-types-$CLIENT_GO_VERSION.yaml"
if [[ -s "$types" ]]; then
  echo "install-tools: $(basename "$types") already extracted"
else
  echo "install-tools: extracting built-in Kubernetes types from k8s.io/client-go@$CLIENT_GO_VERSION"
  dir="$("$go_bin" mod download -json "k8s.io/client-go@$CLIENT_GO_VERSION" |
    sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
  mkdir -p "$(dirname "$types")"
  # The YAML between `schemaYAML = typed.YAMLObject(` + backquote and the closing backquote.
  sed -n '/^var schemaYAML = typed.YAMLObject(`/,/^`)$/p' \
    "$dir/applyconfigurations/internal/internal.go" | sed '1s/^.*`//; $d' >"$types.tmp"
  grep -q '^- name: io.k8s.api.apps.v1.Deployment$' "$types.tmp" || {
    echo "install-tools: could not extract the types from client-go" >&2
    exit 1
  }
  mv "$types.tmp" "$types"
fi

echo "install-tools: add $bin to PATH (the chart tests and kind tasks find it there themselves)"
