# The storage a shop's services bind: sessions and a catalogue cache in Workers KV, product
# images and an EU archive in R2. `make demo` applies it against the local edge.
terraform {
  required_providers {
    servicesdo = {
      source = "dot-do/servicesdo"
    }
  }
}

provider "servicesdo" {}

variable "prefix" {
  type        = string
  description = "Prefix of every name, so several copies of the stack can share an account."
  default     = "shop"
}

resource "servicesdo_kv_namespace" "sessions" {
  title = "${var.prefix}-sessions"
}

resource "servicesdo_kv_namespace" "catalogue_cache" {
  title         = "${var.prefix}-catalogue-cache"
  force_destroy = true
}

resource "servicesdo_r2_bucket" "images" {
  name          = "${var.prefix}-images"
  location_hint = "weur"
}

resource "servicesdo_r2_bucket" "archive" {
  name          = "${var.prefix}-archive"
  jurisdiction  = "eu"
  storage_class = "InfrequentAccess"
}

output "kv_namespaces" {
  description = "Namespace ids by title."
  value = {
    (servicesdo_kv_namespace.sessions.title)        = servicesdo_kv_namespace.sessions.id
    (servicesdo_kv_namespace.catalogue_cache.title) = servicesdo_kv_namespace.catalogue_cache.id
  }
}

output "r2_buckets" {
  description = "Bucket locations by id."
  value = {
    (servicesdo_r2_bucket.images.id)  = servicesdo_r2_bucket.images.location
    (servicesdo_r2_bucket.archive.id) = servicesdo_r2_bucket.archive.location
  }
}
