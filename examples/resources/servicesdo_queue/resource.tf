resource "servicesdo_queue" "orders" {
  name = "orders"
}

# Messages wait 30 seconds before delivery and are dropped after a day unconsumed.
resource "servicesdo_queue" "audit" {
  name              = "audit"
  delivery_delay    = 30
  message_retention = 86400
}

resource "servicesdo_queue" "orders_dlq" {
  name = "orders-dlq"
}

# One service sends to the queue, another consumes it (a queue has one consumer).
resource "servicesdo_service" "checkout" {
  name               = "checkout"
  main_module        = "index.js"
  modules            = { "index.js" = "${path.module}/checkout/index.js" }
  compatibility_date = "2025-01-01"
  queue_producers    = { ORDERS = servicesdo_queue.orders.name }
}

resource "servicesdo_service" "fulfilment" {
  name               = "fulfilment"
  main_module        = "index.js"
  modules            = { "index.js" = "${path.module}/fulfilment/index.js" }
  compatibility_date = "2025-01-01"
  queue_consumers = [{
    queue             = servicesdo_queue.orders.name
    max_batch_size    = 25
    max_batch_timeout = 2
    max_retries       = 5
    retry_delay       = 30
    dead_letter_queue = servicesdo_queue.orders_dlq.name
  }]
}
