# The newest 1.x UserService.
data "servicesdo_service_discovery" "users" {
  name    = "UserService"
  version = "^1.2"
}

output "users_endpoint" {
  value = data.servicesdo_service_discovery.users.endpoint
}
