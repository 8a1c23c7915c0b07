terraform {
  required_providers {
    servicesdo = {
      source = "dot-do/servicesdo"
    }
  }
}

# Credentials come from CLOUDFLARE_ACCOUNT_ID and CLOUDFLARE_API_TOKEN when not set here.
# Against the local edge, export what `terraform-provider-servicesdo local` prints.
provider "servicesdo" {
  zone_id         = var.zone_id
  max_retries     = 4
  request_timeout = "30s"
}

variable "zone_id" {
  type        = string
  description = "Default zone for Worker routes."
  default     = null
}
