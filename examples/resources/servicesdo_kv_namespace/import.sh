# Import by namespace id.
terraform import servicesdo_kv_namespace.sessions 0f2ac74b498b48028cb68387c421e279
