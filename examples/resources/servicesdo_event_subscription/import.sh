# Import by <topic>/<subscription name>.
terraform import servicesdo_event_subscription.billing orders/billing
