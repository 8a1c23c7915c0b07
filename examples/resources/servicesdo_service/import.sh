# Import by script name.
terraform import servicesdo_service.cart cart
