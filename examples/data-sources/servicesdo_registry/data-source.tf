# Every core service, sorted by name, newest version first.
data "servicesdo_registry" "core" {
  tag = "core"
}

output "core_services" {
  value = [for e in data.servicesdo_registry.core.entries : "${e.name}@${e.version} ${e.endpoint}"]
}
