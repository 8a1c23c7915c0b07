#!/usr/bin/env bash
# Prints the path of a Terraform binary for tests, docs and demos, and says on stderr which one
# and which version. Builds come from the Go module proxy into a cache outside the clone
# (built once, a few minutes each, then reused).
#
#   scripts/terraform.sh            the one tests use: $TF_ACC_TERRAFORM_PATH; else a terraform
#                                   >= 1.5 on PATH; else v1.11.4 built from the module proxy
#   scripts/terraform.sh --oldest   the oldest supported release, v1.5.7, always built (CI runs
#                                   the provider's acceptance tests with it: make testacc-oldest)
#   scripts/terraform.sh --newest   a terraform >= 1.11 (write-only attributes) on PATH; else
#                                   v1.11.4 built from the module proxy
set -euo pipefail

min_version=1.5.0        # what the provider supports
oldest_version=1.5.7     # the oldest release CI proves it with
newest_min=1.11.0        # write-only attributes need it
build_version=1.11.4     # built when no suitable terraform is on PATH
cache_dir="${SERVICESDO_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/servicesdo}"

version_of() {
  "$1" version -json 2>/dev/null | sed -n 's/.*"terraform_version": *"\([^"]*\)".*/\1/p' | head -n 1
}

# at_least MIN VERSION: true when VERSION (a prerelease such as 1.8.5-dev counts as 1.8.5) >= MIN.
at_least() {
  [ -n "$2" ] && printf '%s\n%s\n' "$1" "${2%%-*}" | sort -V -C
}

use() {
  echo "terraform: using $1 (v$2)" >&2
  echo "$1"
  exit 0
}

# build VERSION OUT: builds Terraform VERSION from its source on the Go module proxy. Releases
# since 1.9 keep some packages in nested modules that their go.mod replaces with local paths, so
# `go install terraform@vX` refuses them; they are built as the main module instead, with each
# nested module fetched from the proxy at the release's commit.
build() {
  local info dir commit work m mdir
  info=$(go mod download -json "github.com/hashicorp/terraform@v$1")
  dir=$(printf '%s\n' "$info" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
  commit=$(printf '%s\n' "$info" | sed -n 's/^\t\t"Hash": "\(.*\)",$/\1/p')
  work=$(mktemp -d)
  cp -r "$dir/." "$work/" && chmod -R u+w "$work"
  local status=0
  (
    cd "$work"
    # Go 1.26 no longer knows some godebug settings of older releases (tlskyber).
    sed -i '/^godebug /d' go.mod
    for m in $(sed -n 's/^replace \([^ ]*\) => \.\/.*/\1/p' go.mod); do
      mdir=$(go mod download -json "$m@$commit" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
      go mod edit -replace "$m=$mdir"
    done
    GOFLAGS=-mod=mod go build -buildvcs=false -ldflags "-X github.com/hashicorp/terraform/version.dev=no" -o "$2" .
  ) >&2 || status=$?
  rm -rf "$work"
  return $status
}

# built VERSION: the cached build of VERSION, building it first when missing.
built() {
  local cached="$cache_dir/terraform-$1/terraform"
  if [ ! -x "$cached" ]; then
    echo "terraform: building v$1 from the Go module proxy into $(dirname "$cached") (several minutes, once)" >&2
    mkdir -p "$(dirname "$cached")"
    build "$1" "$cached.tmp" && mv "$cached.tmp" "$cached"
  fi
  use "$cached" "$(version_of "$cached")"
}

# from_path MIN: use the terraform on PATH when it is at least MIN.
from_path() {
  local on_path v
  if on_path=$(command -v terraform 2>/dev/null); then
    v=$(version_of "$on_path")
    if at_least "$1" "$v"; then use "$on_path" "$v"; fi
    echo "terraform: ignoring $on_path (v${v:-unknown} < $1)" >&2
  fi
}

case "${1:-}" in
  --oldest)
    built "$oldest_version" ;;
  --newest)
    from_path "$newest_min"
    built "$build_version" ;;
  "")
    if [ -n "${TF_ACC_TERRAFORM_PATH:-}" ]; then
      v=$(version_of "$TF_ACC_TERRAFORM_PATH")
      at_least "$min_version" "$v" || { echo "terraform: TF_ACC_TERRAFORM_PATH=$TF_ACC_TERRAFORM_PATH is not a Terraform >= $min_version (version: ${v:-unknown})" >&2; exit 1; }
      use "$TF_ACC_TERRAFORM_PATH" "$v"
    fi
    from_path "$min_version"
    built "$build_version" ;;
  *)
    echo "usage: scripts/terraform.sh [--oldest|--newest]" >&2
    exit 2 ;;
esac
