# Import by <registry_id>/<name>/<version>.
terraform import servicesdo_registry_entry.users 0f2ac74b498b48028cb68387c421e279/UserService/1.2.0
