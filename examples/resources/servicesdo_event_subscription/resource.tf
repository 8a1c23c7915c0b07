# The topic: publishers send CloudEvents to it (queue_producers on the publishing service).
resource "servicesdo_queue" "orders" {
  name = "orders"
}

# Each subscriber has its own queue, which it consumes.
resource "servicesdo_queue" "orders_billing" {
  name = "orders-billing"
}

resource "servicesdo_service" "billing" {
  name               = "billing"
  main_module        = "index.js"
  modules            = { "index.js" = "${path.module}/billing/index.js" }
  compatibility_date = "2025-01-01"
  queue_consumers    = [{ queue = servicesdo_queue.orders_billing.name }]
}

# The topic's fan-out Worker (orders-fanout) forwards every Order.created to orders-billing.
resource "servicesdo_event_subscription" "billing" {
  topic      = servicesdo_queue.orders.name
  name       = "billing"
  subscriber = servicesdo_service.billing.name
  queue      = servicesdo_queue.orders_billing.name
  types      = ["Order.created"]
}
