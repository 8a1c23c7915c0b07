resource "servicesdo_kv_namespace" "sessions" {
  title = "sessions"
}

# A namespace whose keys are disposable: destroy deletes it even when it holds keys.
resource "servicesdo_kv_namespace" "cache" {
  title         = "edge-cache"
  force_destroy = true
}
