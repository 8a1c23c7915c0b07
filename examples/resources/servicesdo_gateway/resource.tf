# An API gateway in front of two services: the seed's
#   gateway({ routes: { '/users/*': $.UserService, '/orders/*': $.OrderService },
#             middleware: [cors, auth, rateLimit, logging],
#             policies: { authentication: 'required', rateLimit: { requests: 100, window: 60000 } } })
# The keys come from an ephemeral value and are never stored in state (Terraform 1.11+).
variable "gateway_api_keys" {
  type      = map(string)
  sensitive = true
  ephemeral = true
}

resource "servicesdo_gateway" "api" {
  name           = "api-gateway"
  custom_domains = ["api.example.com"]

  routes = [
    { path = "/users/*", service = servicesdo_service.users.name, strip_prefix = "/users" },
    { path = "/orders/:id", service = servicesdo_service.orders.name, methods = ["GET"], timeout = "5s", retries = 2 },
    { path = "/orders/*", service = servicesdo_service.orders.name, methods = ["GET", "POST"] },
    # The seed's version routing: /v1/* stays on one version of the orders service.
    { path = "/v1/orders/*", service = servicesdo_service.orders.name, strip_prefix = "/v1", version_id = var.orders_v1_version_id },
    { path = "/health", service = servicesdo_service.orders.name, methods = ["GET"] },
  ]

  cors = {
    allowed_origins   = ["https://shop.example.com"]
    allow_credentials = true
    max_age           = 600
  }

  auth = {
    mode            = "required"
    api_keys_wo     = var.gateway_api_keys # client id => key
    secrets_version = 1                    # bump to rotate the keys
    jwt = {
      issuer    = "https://auth.example.com/"
      audiences = ["https://api.example.com"]
      jwks_url  = "https://auth.example.com/.well-known/jwks.json"
    }
    public_paths = ["/health"]
  }

  rate_limit = { requests = 100, period = 60, key = "api_key" }
  logging    = { sample_rate = 0.1 }
}

variable "orders_v1_version_id" {
  type = string
}
