# After a CI smoke test started an execution with idempotency key "smoke-${var.run_id}"
# (POST /executions on the saga's API), check that it completed.
variable "run_id" {
  type = string
}

data "servicesdo_saga_execution" "smoke" {
  saga            = servicesdo_saga.checkout.name
  idempotency_key = "smoke-${var.run_id}"

  lifecycle {
    postcondition {
      condition     = self.status == "completed"
      error_message = "the smoke execution ended ${self.status} (failed step: ${self.failed_step})"
    }
  }
}
