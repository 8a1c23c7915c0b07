import {
  to = servicesdo_event_subscription.billing
  id = "orders/billing"
}
