# Import by queue id, or by queue name.
terraform import servicesdo_queue.orders 023e105f4ecef8ad9ca31a8372d0c353
terraform import servicesdo_queue.orders orders
