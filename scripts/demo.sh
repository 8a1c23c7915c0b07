#!/usr/bin/env bash
# `make demo`: on a fresh machine, set everything up and run the main job on the local edge —
# build the provider, start the local edge (API + Workers runtime) in the background, apply the
# quickstart stack through Terraform with dev_overrides, and send it requests. Safe to rerun.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
demo="$root/.demo"
api_listen="${SERVICESDO_API_LISTEN:-127.0.0.1:8788}"
edge_listen="${SERVICESDO_EDGE_LISTEN:-127.0.0.1:8787}"
base_url="http://$api_listen/client/v4"
edge_url="http://localhost:${edge_listen##*:}"
account_id=10ca1000000000000000000000000001
token=local-dev-token
mkdir -p "$demo/bin" "$demo/quickstart"

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
edge_up() { curl -sS -o /dev/null "http://$edge_listen/" >/dev/null 2>&1; }

step "Local edge (API on $api_listen, Workers on $edge_listen)"
if api_up && edge_up; then
  echo "already running"
else
  nohup "$demo/bin/terraform-provider-servicesdo" local --api-listen "$api_listen" --listen "$edge_listen" \
    --data-dir "$root/.servicesdo-local" --account-id "$account_id" --token "$token" \
    > "$demo/edge.log" 2>&1 &
  echo $! > "$demo/edge.pid"
  for _ in $(seq 1 300); do api_up && edge_up && break; sleep 0.1; done
  api_up && edge_up || { echo "the local edge did not start; its log:"; cat "$demo/edge.log"; exit 1; }
  cat "$demo/edge.log"
fi

step "terraform apply (examples/stacks/quickstart)"
cp examples/stacks/quickstart/main.tf "$demo/quickstart/"
"$tf" -chdir="$demo/quickstart" apply -auto-approve -input=false \
  -var "source_root=$root/examples/stacks/quickstart" -var "edge_url=$edge_url"

step "A second plan finds nothing to change"
"$tf" -chdir="$demo/quickstart" plan -input=false -detailed-exitcode \
  -var "source_root=$root/examples/stacks/quickstart" -var "edge_url=$edge_url" >/dev/null && echo "No changes."

front=$("$tf" -chdir="$demo/quickstart" output -raw front_url)
back=$("$tf" -chdir="$demo/quickstart" output -raw back_url)
kv=$("$tf" -chdir="$demo/quickstart" output -raw kv_namespace_id)
# Ask the edge by Host header, so no DNS setup is needed for *.localhost.
call() { local url=$1; shift; local host=${url#http://}; host=${host%%/*}; curl -sS -H "Host: ${host%%:*}" "$@" "http://$edge_listen${url#http://$host}"; echo; }

step "Requests through the edge"
echo "GET $front  (front → back through a service binding, Durable Object counter)"
for _ in 1 2; do call "$front/"; done
echo "PUT greeting through the API (KV written by Terraform's side, read by the Worker)"
curl -fsS -X PUT -H "Authorization: Bearer $token" -F "value=hello from the API" \
  "$base_url/accounts/$account_id/storage/kv/namespaces/$kv/values/greeting" >/dev/null
call "$front/"
echo "PUT a note into R2 through the back service, then list it"
call "$back/notes?name=todo.txt" -X PUT --data "buy milk"
call "$back/notes"

cat <<MSG

The local edge keeps running in the background (state in .servicesdo-local/).
  front: $front   back: $back   (curl -H "Host: <name>.localhost" http://$edge_listen/ works without DNS)
Use it from your own Terraform configurations:
  export TF_CLI_CONFIG_FILE=$demo/terraformrc
  export CLOUDFLARE_API_BASE_URL=$base_url CLOUDFLARE_ACCOUNT_ID=$account_id CLOUDFLARE_API_TOKEN=$token
Stop it with: make demo-stop
MSG
