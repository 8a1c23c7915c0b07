import {
  to = servicesdo_deployment.orders
  id = "orders"
}
