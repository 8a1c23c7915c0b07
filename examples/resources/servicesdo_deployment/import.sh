# Import by service (script) name: the state is rebuilt from the active deployment.
terraform import servicesdo_deployment.orders orders
