#!/usr/bin/env bash
# Prints the path of the Terraform binary that tests, docs and demos use, and says on stderr
# which one and which version. In order: $TF_ACC_TERRAFORM_PATH; a terraform >= 1.5 on PATH;
# v1.8.5 built from the Go module proxy into a cache outside the clone (built once, reused).
set -euo pipefail

min_version=1.5.0
build_version=1.8.5
cache_dir="${SERVICESDO_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/servicesdo}"

version_of() {
  "$1" version -json 2>/dev/null | sed -n 's/.*"terraform_version": *"\([^"]*\)".*/\1/p' | head -n 1
}

# new_enough VERSION: true when VERSION (a prerelease such as 1.8.5-dev counts as 1.8.5) >= min.
new_enough() {
  [ -n "$1" ] && printf '%s\n%s\n' "$min_version" "${1%%-*}" | sort -V -C
}

use() {
  echo "terraform: using $1 (v$2)" >&2
  echo "$1"
  exit 0
}

if [ -n "${TF_ACC_TERRAFORM_PATH:-}" ]; then
  v=$(version_of "$TF_ACC_TERRAFORM_PATH")
  new_enough "$v" || { echo "terraform: TF_ACC_TERRAFORM_PATH=$TF_ACC_TERRAFORM_PATH is not a Terraform >= $min_version (version: ${v:-unknown})" >&2; exit 1; }
  use "$TF_ACC_TERRAFORM_PATH" "$v"
fi

if on_path=$(command -v terraform 2>/dev/null); then
  v=$(version_of "$on_path")
  if new_enough "$v"; then use "$on_path" "$v"; fi
  echo "terraform: ignoring $on_path (v${v:-unknown} < $min_version)" >&2
fi

cached="$cache_dir/terraform-$build_version/terraform"
if [ ! -x "$cached" ]; then
  echo "terraform: building v$build_version from the Go module proxy into $(dirname "$cached") (a few minutes, once)" >&2
  mkdir -p "$(dirname "$cached")"
  GOBIN="$(dirname "$cached")" GOFLAGS=-buildvcs=false go install \
    -ldflags "-X github.com/hashicorp/terraform/version.dev=no" \
    "github.com/hashicorp/terraform@v$build_version" >&2
fi
use "$cached" "$(version_of "$cached")"
