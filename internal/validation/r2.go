// Package validation holds the platform's naming and value rules, shared by plan-time
// validators and tests, with no Terraform or API dependency.
package validation

import (
	"context"
	"fmt"
	"slices"

	"github.com/hashicorp/terraform-plugin-framework/schema/validator"

	"github.com/dot-do/terraform-provider-servicesdo/internal/lazyregexp"
)

// R2BucketNameRule describes the R2 naming rule in words, for docs and diagnostics.
const R2BucketNameRule = "3–63 characters of lower-case letters, digits and hyphens, starting and ending with a letter or digit"

var r2BucketName = lazyregexp.New(`^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$`)

// R2LocationHints are the accepted location hints.
var R2LocationHints = []string{"apac", "eeur", "enam", "oc", "weur", "wnam"}

// R2DefaultJurisdiction is the jurisdiction of a bucket created without one; the API sends no
// cf-r2-jurisdiction header for it.
const R2DefaultJurisdiction = "default"

// R2Jurisdictions are the data jurisdictions a bucket can be created in, the default first.
var R2Jurisdictions = []string{R2DefaultJurisdiction, "eu", "fedramp"}

// IsR2Jurisdiction reports whether j is one of R2Jurisdictions.
func IsR2Jurisdiction(j string) bool { return slices.Contains(R2Jurisdictions, j) }

// CheckR2BucketName returns an error saying what is wrong with name.
func CheckR2BucketName(name string) error {
	if !r2BucketName.MatchString(name) {
		return fmt.Errorf("%q is not a valid R2 bucket name: use %s", name, R2BucketNameRule)
	}
	return nil
}

type r2BucketNameValidator struct{}

// R2BucketName validates R2 bucket names at plan time.
func R2BucketName() validator.String { return r2BucketNameValidator{} }

func (r2BucketNameValidator) Description(context.Context) string {
	return "must be " + R2BucketNameRule
}

func (v r2BucketNameValidator) MarkdownDescription(ctx context.Context) string {
	return v.Description(ctx)
}

func (r2BucketNameValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if err := CheckR2BucketName(req.ConfigValue.ValueString()); err != nil {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid R2 bucket name", err.Error()+".")
	}
}
