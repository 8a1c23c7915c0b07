package workers

import "github.com/dot-do/terraform-provider-servicesdo/internal/validation"

// maxCronTriggers bounds one Worker's cron triggers (Cloudflare's paid-plan account limit).
const maxCronTriggers = 250

// validateCron checks a five-field cron expression as Cloudflare's cron triggers accept it;
// the rule is the provider's own plan-time check, so both sides agree.
func validateCron(expr string) error { return validation.CheckCron(expr) }
