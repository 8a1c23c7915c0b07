# The quickstart: two services — front calls back through a service binding — with a KV
# namespace, an R2 bucket and a Durable Object counter. `make demo` applies it to the local
# edge and sends it requests.
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
  default     = "quickstart"
}

variable "source_root" {
  type        = string
  description = "Directory holding src/ (defaults to this module's)."
  default     = null
}

variable "edge_url" {
  type        = string
  description = "Where the local edge serves Workers, for the URL outputs."
  default     = "http://localhost:8787"
}

locals {
  src = "${coalesce(var.source_root, path.module)}/src"
}

resource "servicesdo_kv_namespace" "settings" {
  title         = "${var.prefix}-settings"
  force_destroy = true
}

resource "servicesdo_r2_bucket" "notes" {
  name          = "${var.prefix}-notes"
  force_destroy = true
}

resource "servicesdo_service" "back" {
  name               = "${var.prefix}-back"
  description        = "Greeting, visit counter and notes"
  version            = "1.0.0"
  main_module        = "index.js"
  source_dir         = "${local.src}/back"
  compatibility_date = "2025-06-01"
  workers_dev        = true

  kv_namespaces   = { SETTINGS = servicesdo_kv_namespace.settings.id }
  r2_buckets      = { NOTES = { bucket_name = servicesdo_r2_bucket.notes.name } }
  durable_objects = { COUNTER = { class_name = "Counter" } }
  allow_delete    = true # the counter's data is disposable
}

resource "servicesdo_service" "front" {
  name               = "${var.prefix}-front"
  description        = "Public entry point"
  version            = "1.0.0"
  main_module        = "index.js"
  source_dir         = "${local.src}/front"
  compatibility_date = "2025-06-01"
  workers_dev        = true

  vars     = { VERSION = "1.0.0" }
  services = { BACK = { service = servicesdo_service.back.name } }
}

output "front_url" {
  description = "The front service on the local edge (workers.dev address)."
  value       = replace(var.edge_url, "://", "://${servicesdo_service.front.name}.")
}

output "back_url" {
  description = "The back service on the local edge (workers.dev address)."
  value       = replace(var.edge_url, "://", "://${servicesdo_service.back.name}.")
}

output "kv_namespace_id" {
  description = "The settings namespace (its greeting key is what back answers)."
  value       = servicesdo_kv_namespace.settings.id
}
