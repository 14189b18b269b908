#!/usr/bin/env bash
# Builds the test control plane from the Go module proxy into .cache/control-plane/bin:
# etcd v3.7.0, kube-apiserver, kube-controller-manager and kubectl v1.37.2 (this module), and
# the CloudNativePG operator v1.30.0 (cnpg/, a module of its own).
#
# Compiled packages stay in Go's default caches (`go env GOCACHE GOMODCACHE`): a cold build
# takes about a quarter of an hour on 2 cores and several GB; after that a fresh clone only
# relinks. A stamp of the inputs makes a warm run in the same clone return at once.
#
#   bash k8s/control-plane/build.sh      # prints the folder of the binaries on stdout
set -euo pipefail

KUBERNETES_VERSION=v1.37.2

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="$root/.cache/control-plane/bin"
binaries=(etcd kube-apiserver kube-controller-manager kubectl cnpg-manager)

go_bin="$(command -v go || echo /usr/local/go/bin/go)"
if [[ ! -x "$go_bin" ]]; then
  echo "control-plane: Go 1.21+ is required (Debian: apt-get install golang-go)" >&2
  exit 1
fi
export GOTOOLCHAIN="${GOTOOLCHAIN:-auto}" # go.mod asks for 1.26; an older go fetches it
export CGO_ENABLED=0
export GOFLAGS="-trimpath -buildvcs=false"

stamp_of_inputs() {
  cat "$here/go.mod" "$here/go.sum" "$here/etcd/main.go" "$here/cnpg/go.mod" "$here/cnpg/go.sum" \
    "${BASH_SOURCE[0]}" | sha256sum | cut -d' ' -f1
}
stamp="$(stamp_of_inputs)"
built=yes
for b in "${binaries[@]}"; do [[ -x "$out/$b" ]] || built=no; done
if [[ "$built" == yes && "$(cat "$out/.stamp" 2>/dev/null)" == "$stamp" ]]; then
  echo "control-plane: binaries up to date in $out" >&2
  echo "$out"
  exit 0
fi

mkdir -p "$out"
rm -f "$out/.stamp"
started=$SECONDS
# The version stamp is what `kubectl version` and Helm's kubeVersion check read; without it the
# server reports v0.0.0-master and the chart refuses to install.
version_flags=""
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  minor=${KUBERNETES_VERSION#v1.}
  minor=${minor%%.*}
  version_flags+=" -X $pkg.gitVersion=$KUBERNETES_VERSION -X $pkg.gitMajor=1"
  version_flags+=" -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
done
echo "control-plane: building etcd, kube-apiserver, kube-controller-manager, kubectl $KUBERNETES_VERSION" >&2
(cd "$here" && "$go_bin" build -ldflags "-s -w$version_flags" -o "$out/" \
  ./etcd \
  k8s.io/kubernetes/cmd/kube-apiserver \
  k8s.io/kubernetes/cmd/kube-controller-manager \
  k8s.io/kubernetes/cmd/kubectl)

echo "control-plane: building the CloudNativePG operator" >&2
# Not `go install ...@v1.30.0`: that asks the proxy for the module's version list, which the
# proxy here refuses; a module of ours with a go.sum asks for nothing.
(cd "$here/cnpg" && "$go_bin" build -ldflags "-s -w" -o "$out/cnpg-manager" \
  github.com/cloudnative-pg/cloudnative-pg/cmd/manager)

echo "$stamp" >"$out/.stamp"
echo "control-plane: built in $((SECONDS - started))s into $out" >&2
echo "$out"
