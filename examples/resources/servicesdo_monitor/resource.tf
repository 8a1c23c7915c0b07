# A monitor probing two services every minute, recording their health in the registry so that
# discovery with healthy = true skips unhealthy versions, and alerting on the orders service's
# error rate. The tokens come from ephemeral values and are never stored in state (Terraform 1.11+).
variable "analytics_token" {
  description = "An API token with Account Analytics Read."
  type        = string
  sensitive   = true
  ephemeral   = true
}

variable "slack_webhook_url" {
  description = "A Slack incoming-webhook URL: it embeds a token, so it is write-only."
  type        = string
  sensitive   = true
  ephemeral   = true
}

variable "monitor_token" {
  description = "The bearer token for GET /status and POST /__run."
  type        = string
  sensitive   = true
  ephemeral   = true
}

resource "servicesdo_monitor" "platform" {
  name        = "platform-monitor"
  workers_dev = true

  services = {
    (servicesdo_service.orders.name) = {
      path            = "/health"
      timeout         = "5s"
      checks          = 3 # consecutive failures before unhealthy
      recovery_checks = 2 # consecutive passes before it counts as recovered
      registry = [{
        name    = servicesdo_registry_entry.orders.name
        version = servicesdo_registry_entry.orders.version
      }]
    }
    (servicesdo_service.payments.name) = {
      path     = "/healthz"
      interval = "5m"
    }
  }

  alerts = {
    "orders-errors" = {
      service      = servicesdo_service.orders.name
      condition    = "error_rate > 0.05"
      for          = "5m"
      min_requests = 20
      webhook_url  = "https://hooks.example.com/alerts"
    }
    "orders-latency" = {
      service        = servicesdo_service.orders.name
      condition      = "p99_latency_ms >= 800"
      for            = "10m"
      webhook_url_wo = var.slack_webhook_url # never in state, plans or the configuration
    }
  }
  webhook_urls_wo_version = 1 # bump to send changed write-only webhook URLs

  analytics_token_wo         = var.analytics_token
  analytics_token_wo_version = 1 # bump to send a new token
  status_token_wo            = var.monitor_token
  status_token_wo_version    = 1
}

# The newest 1.x of OrderService that its monitor has not found unhealthy.
data "servicesdo_service_discovery" "orders" {
  name    = "OrderService"
  version = "^1"
  healthy = true
}
