#!/usr/bin/env bash
# `make demo`: on a fresh machine, set everything up and run the main job on the local edge —
# build the provider, start the local edge in the background, apply the storage stack through
# Terraform with dev_overrides, and show what the API now holds. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
demo="$root/.demo"
api_listen="${SERVICESDO_API_LISTEN:-127.0.0.1:8788}"
base_url="http://$api_listen/client/v4"
account_id=10ca1000000000000000000000000001
token=local-dev-token
mkdir -p "$demo/bin" "$demo/storage"

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "Go modules and Terraform"
go mod download
tf=$(scripts/terraform.sh)

step "Building the provider"
go build -o "$demo/bin/terraform-provider-servicesdo" .

cat > "$demo/terraformrc" <<RC
provider_installation {
  dev_overrides {
    "dot-do/servicesdo" = "$demo/bin"
  }
  direct {}
}
RC
export TF_CLI_CONFIG_FILE="$demo/terraformrc" CHECKPOINT_DISABLE=1 TF_IN_AUTOMATION=1
export CLOUDFLARE_API_BASE_URL="$base_url" CLOUDFLARE_ACCOUNT_ID="$account_id" CLOUDFLARE_API_TOKEN="$token"

api_up() { curl -fsS -H "Authorization: Bearer $token" "$base_url/user/tokens/verify" >/dev/null 2>&1; }

step "Local edge"
if api_up; then
  echo "already running at $base_url"
else
  nohup "$demo/bin/terraform-provider-servicesdo" local --api-listen "$api_listen" \
    --data-dir "$root/.servicesdo-local" --account-id "$account_id" --token "$token" \
    > "$demo/edge.log" 2>&1 &
  echo $! > "$demo/edge.pid"
  for _ in $(seq 1 100); do api_up && break; sleep 0.1; done
  api_up || { echo "the local edge did not start; its log:"; cat "$demo/edge.log"; exit 1; }
  cat "$demo/edge.log"
fi

step "terraform apply (examples/stacks/storage)"
cp examples/stacks/storage/*.tf "$demo/storage/"
"$tf" -chdir="$demo/storage" apply -auto-approve -input=false

step "A second plan finds nothing to change"
"$tf" -chdir="$demo/storage" plan -input=false -detailed-exitcode >/dev/null && echo "No changes."

step "What the local Cloudflare API now holds"
echo "KV namespaces:"
curl -fsS -H "Authorization: Bearer $token" "$base_url/accounts/$account_id/storage/kv/namespaces?per_page=100" \
  | python3 -c 'import json,sys; [print("  %s  %s" % (n["id"], n["title"])) for n in json.load(sys.stdin)["result"]]'
echo "R2 buckets:"
for j in default eu; do
  curl -fsS -H "Authorization: Bearer $token" -H "cf-r2-jurisdiction: $j" "$base_url/accounts/$account_id/r2/buckets" \
    | python3 -c 'import json,sys; [print("  %-8s %-16s %s %s" % (b["jurisdiction"], b["name"], b["location"], b["storage_class"])) for b in json.load(sys.stdin)["result"]["buckets"]]'
done

cat <<MSG

The local edge keeps running in the background (state in .servicesdo-local/).
Use it from your own Terraform configurations:
  export TF_CLI_CONFIG_FILE=$demo/terraformrc
  export CLOUDFLARE_API_BASE_URL=$base_url CLOUDFLARE_ACCOUNT_ID=$account_id CLOUDFLARE_API_TOKEN=$token
Stop it with: make demo-stop
MSG
