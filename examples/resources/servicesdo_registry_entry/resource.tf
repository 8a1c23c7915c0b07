resource "servicesdo_kv_namespace" "registry" {
  title = "service-registry"
}

resource "servicesdo_registry_entry" "users" {
  registry_id  = servicesdo_kv_namespace.registry.id
  name         = "UserService"
  version      = "1.2.0"
  service      = "users"
  endpoint     = "https://users.example.com"
  schema       = "https://schema.org/Person"
  dependencies = ["AuthService"]
  health       = { path = "/health", expect_status = 200, timeout = "5s" }
  tags         = ["core", "identity"]
  metadata     = { team = "identity" }
  details      = { runbook = "https://wiki.example.com/users" }
  description  = "Accounts and profiles"
}
