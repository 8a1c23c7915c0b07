# A checkout saga over three services. The key the saga's API accepts comes from an
# ephemeral value and is never stored in state (Terraform 1.11+).
variable "saga_api_key" {
  type      = string
  sensitive = true
  ephemeral = true
}

resource "servicesdo_saga" "checkout" {
  name        = "checkout"
  workers_dev = true

  api_key_wo         = var.saga_api_key
  api_key_wo_version = "1" # change to rotate the key

  steps = [
    {
      name       = "create_order"
      service    = servicesdo_service.orders.name
      action     = { method = "POST", path = "/orders", body = jsonencode({ id = "{{input.order_id}}", lines = "{{input.lines}}" }) }
      compensate = { method = "DELETE", path = "/orders/{{input.order_id}}" }
      timeout    = "5s"
      retry      = { attempts = 3, backoff = "exponential", delay = "1s", max_delay = "30s", jitter = 0.2 }
    },
    {
      name       = "charge_payment"
      service    = servicesdo_service.payments.name
      action     = { method = "POST", path = "/charges", body = jsonencode({ order = "{{steps.create_order.output.id}}", key = "{{execution.id}}" }) }
      compensate = { method = "POST", path = "/refunds", body = jsonencode({ charge = "{{steps.charge_payment.output.id}}" }), retry = { attempts = 10, max_delay = "1m" } }
      retry      = { attempts = 3, non_retryable_statuses = [400, 402, 409, 422] }
    },
    {
      name    = "ship"
      service = servicesdo_service.shipping.name
      action  = { method = "POST", path = "/shipments/{{input.order_id}}" }
    },
  ]
  pivot_step = "charge_payment"
  retention  = "7d"
  on_destroy = "block_if_running"
}
