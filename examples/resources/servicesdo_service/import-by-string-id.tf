import {
  to = servicesdo_service.cart
  id = "cart"
}
