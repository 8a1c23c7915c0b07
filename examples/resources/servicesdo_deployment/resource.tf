resource "servicesdo_service" "orders" {
  name               = "orders"
  main_module        = "index.js"
  source_dir         = "${path.module}/orders"
  compatibility_date = "2025-01-01"
  workers_dev        = true
  health             = { path = "/health" }

  # Upload new versions without moving traffic: the deployment moves it.
  rollout = "managed"
}

# A canary: 5 % for two minutes, then 25 % once approved, then 50 %, then 100 %.
resource "servicesdo_deployment" "orders" {
  service    = servicesdo_service.orders.name
  version_id = servicesdo_service.orders.latest_version_id
  strategy   = "canary"
  steps = [
    { percent = 5, hold = "2m" },
    { percent = 25, hold = "5m", gate = "manual" },
    { percent = 50, hold = "5m" },
  ]
  # Approve the gate of step 2 in a reviewed change.
  approved_through_step = 0

  analysis = {
    interval      = "1m"
    failure_limit = 2
    metric = {
      error_rate     = { max = 0.01, min_requests = 100 }
      p99_latency_ms = { max = 800, min_requests = 100 }
    }
    # The service's health endpoint, probed on the new version alone.
    probe = {
      url  = servicesdo_service.orders.url
      path = servicesdo_service.orders.health.path
    }
  }

  # Long rollouts continue over several applies.
  max_apply_duration = "15m"

  notify = {
    webhook_url = "https://hooks.example.com/rollouts"
    secret      = var.rollout_webhook_secret
  }
}

variable "rollout_webhook_secret" {
  type      = string
  sensitive = true
}
