resource "servicesdo_kv_namespace" "sessions" {
  title = "cart-sessions"
}

# ephemeral: the value never reaches a saved plan file or state (Terraform 1.10+); it can
# only feed write-only arguments such as secrets.
variable "stripe_key" {
  type      = string
  sensitive = true
  ephemeral = true
}

resource "servicesdo_service" "cart" {
  name        = "cart"
  description = "Shopping cart API"
  version     = "1.4.0"
  domain      = "commerce"

  main_module        = "index.js"
  source_dir         = "${path.module}/cart/dist"
  compatibility_date = "2025-06-01"
  compatibility_flags = [
    "nodejs_compat",
  ]
  limits = {
    cpu_ms = 50
  }

  vars      = { LOG_LEVEL = "info" }
  json_vars = { FEATURES = jsonencode({ coupons = true }) }
  secrets   = { STRIPE_KEY = var.stripe_key } # write-only: needs Terraform 1.11
  # Bump to write the secrets again after rotating a value (a value change alone plans nothing).
  secrets_version = 1

  kv_namespaces = { SESSIONS = servicesdo_kv_namespace.sessions.id }
  services      = { USERS = { service = "users" } }
  durable_objects = {
    CART = { class_name = "Cart" } # implemented here: the migration is generated
  }

  routes         = [{ pattern = "shop.example.com/api/cart/*" }]
  custom_domains = ["cart.example.com"]
  crons          = ["*/15 * * * *"]

  health        = { path = "/health", expect_status = 200, timeout = "5s" }
  observability = { enabled = true, head_sampling_rate = 0.1 }
}
