import {
  to = servicesdo_queue.orders
  id = "orders"
}
