#!/usr/bin/env bash
# The system programs the tests and the local stack need, and the Debian package of each.
#
#   bash scripts/prerequisites.sh     # prints one line naming what is missing; exit 1 if anything is
#   source scripts/prerequisites.sh   # defines missing_prerequisites, for .ci/run
#
# Kept to what the project cannot fetch itself: Deno, npm packages, Kafka's jars, helm and
# kubeconform are fetched into .cache/ by the project's own scripts.

# Prints the missing prerequisites, one per line, as "<what>\t<Debian package>".
missing_prerequisites() {
  local version dir
  version=$(java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -1)
  if [[ -z "$version" || "$version" -lt 17 ]]; then
    # Kafka 4 needs 17+. Debian 13 no longer ships 17; its default JRE is newer.
    if apt-cache show openjdk-17-jre-headless >/dev/null 2>&1; then
      printf 'a JDK 17+ (Kafka)\topenjdk-17-jre-headless\n'
    else
      printf 'a JDK 17+ (Kafka)\tdefault-jre-headless\n'
    fi
  fi
  command -v mvn >/dev/null || printf 'Maven (fetches Kafka from Maven Central)\tmaven\n'
  local pg=""
  for dir in /usr/lib/postgresql/*/bin/pg_ctl; do
    [[ -x "$dir" ]] || continue
    dir=${dir#/usr/lib/postgresql/}
    [[ "${dir%%/*}" -ge 15 ]] && pg=yes
  done
  [[ -n "$pg" ]] || printf 'PostgreSQL 15+ server binaries\tpostgresql\n'
  command -v setsid >/dev/null && command -v runuser >/dev/null && command -v unshare >/dev/null ||
    printf 'setsid, runuser, unshare (process groups, initdb as a non-root user, a private network)\tutil-linux\n'
  [[ -x "$(command -v ip || echo /usr/sbin/ip)" ]] ||
    printf 'ip (brings loopback up in the test control plane'"'"'s network namespace)\tiproute2\n'
  command -v openssl >/dev/null || printf 'openssl (the test control plane'"'"'s certificates)\topenssl\n'
  # At this path, the one the browser fixture (testing/browser.ts) launches: Playwright's own
  # browser download is not used, so the tests fetch nothing at run time.
  [[ -x /usr/bin/chromium ]] ||
    printf 'chromium at /usr/bin/chromium (the dashboard'"'"'s browser test, driven by playwright-core)\tchromium\n'
  [[ -s /etc/ssl/certs/ca-certificates.crt ]] || printf 'CA certificates (downloads)\tca-certificates\n'
  # Debian 12's golang-go is 1.19, too old to fetch a newer toolchain: there, take Go from go.dev.
  go_ok || printf 'Go 1.21+ (builds helm and kubeconform; on Debian 12: https://go.dev/dl/)\tgolang-go\n'
}

# Whether a Go that can fetch newer toolchains (1.21+) is on PATH or in /usr/local/go.
go_ok() {
  local go_bin minor
  go_bin=$(command -v go || echo /usr/local/go/bin/go)
  [[ -x "$go_bin" ]] || return 1
  minor=$(GOTOOLCHAIN=local "$go_bin" env GOVERSION 2>/dev/null | sed -n 's/^go1\.\([0-9]*\).*/\1/p')
  [[ -n "$minor" && "$minor" -ge 21 ]]
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  missing=$(missing_prerequisites)
  if [[ -n "$missing" ]]; then
    what=$(cut -f1 <<<"$missing" | paste -sd ';' | sed 's/;/; /g')
    pkgs=$(cut -f2 <<<"$missing" | paste -sd ' ')
    echo "missing: $what. Debian: apt-get install $pkgs" >&2
    exit 1
  fi
fi
