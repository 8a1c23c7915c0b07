# Import by saga name (the name of its Worker and of its Workflow).
terraform import servicesdo_saga.checkout checkout
