package workflows

import (
	"fmt"
	"net/http"
	"time"

	"github.com/dot-do/terraform-provider-servicesdo/internal/lazyregexp"
	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/api"
	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/deploy"
)

// Buckets of the store: Workflows by name, their versions by "<workflow id>/<sequence>" (so a
// scan lists them oldest first).
const (
	bucketWorkflows = "workflows"
	bucketVersions  = "workflow_versions"
)

// workflow is a stored Workflow.
type workflow struct {
	ID          string     `json:"id"`
	Name        string     `json:"name"`
	ClassName   string     `json:"class_name"`
	ScriptName  string     `json:"script_name"`
	CreatedOn   time.Time  `json:"created_on"`
	ModifiedOn  time.Time  `json:"modified_on"`
	TriggeredOn *time.Time `json:"triggered_on"`
	VersionID   string     `json:"version_id"`
	Limits      *limits    `json:"limits,omitempty"`
}

type limits struct {
	Steps int64 `json:"steps,omitempty"`
}

// version is one configuration of a Workflow: a PUT that changes the class, script or limits
// records a new one.
type version struct {
	ID         string    `json:"id"`
	WorkflowID string    `json:"workflow_id"`
	ClassName  string    `json:"class_name"`
	CreatedOn  time.Time `json:"created_on"`
	ModifiedOn time.Time `json:"modified_on"`
	HasDag     bool      `json:"has_dag"`
	Language   string    `json:"language"`
	Limits     *limits   `json:"limits,omitempty"`
}

// Limits of the platform.
const (
	MaxNameLength       = 64
	MaxInstanceIDLength = 100
	MaxBatch            = 100
	MaxParamsBytes      = 1 << 20
)

var (
	validName       = lazyregexp.New(`^[a-zA-Z0-9_][a-zA-Z0-9_-]*$`)
	validInstanceID = lazyregexp.New(`^[a-zA-Z0-9_][a-zA-Z0-9_-]*$`)
	reservedID      = lazyregexp.New(`^cf_[0-9a-f]{64}$`)
)

func versionKey(workflowID string, seq int) string { return fmt.Sprintf("%s/%08d", workflowID, seq) }

func workflowByName(tx *api.Tx, name string) (workflow, error) {
	return api.Get[workflow](tx, bucketWorkflows, name, errWorkflowNotFound(name))
}

// Deployed lists the Workflows the edge runs, sorted by name: the snapshot's Workflows.
func Deployed(tx *api.Tx) ([]deploy.Workflow, error) {
	all, err := api.All[workflow](tx, bucketWorkflows, "")
	out := make([]deploy.Workflow, 0, len(all))
	for _, w := range all {
		out = append(out, deploy.Workflow{Name: w.Name, ClassName: w.ClassName, ScriptName: w.ScriptName})
	}
	return out, err
}

// CheckBinding checks a Worker's workflow binding: it names a Workflow that exists (and then
// class_name and script_name, when given, must be the Workflow's), or it names the class_name
// that implements the Workflow, which the deploy creates after the upload (wrangler's order).
func CheckBinding(tx *api.Tx, b api.Binding) error {
	w, err := workflowByName(tx, b.Str("workflow_name"))
	if err != nil {
		if b.Str("class_name") == "" {
			return errBindingTarget(b)
		}
		return nil
	}
	if c := b.Str("class_name"); c != "" && c != w.ClassName {
		return errBindingMismatch(b, "class_name", w.ClassName)
	}
	if sn := b.Str("script_name"); sn != "" && sn != w.ScriptName {
		return errBindingMismatch(b, "script_name", w.ScriptName)
	}
	return nil
}

func validateWorkflowName(name string) error {
	if len(name) > MaxNameLength || !validName.MatchString(name) {
		return api.Errorf(http.StatusBadRequest, codeBadRequest, "Workflow name %q is invalid: use 1 to %d letters, digits, '_' or '-', not starting with '-'", name, MaxNameLength)
	}
	return nil
}

func validateInstanceID(id string) error {
	if len(id) > MaxInstanceIDLength || !validInstanceID.MatchString(id) {
		return errBadRequest("instance_id %q is invalid: use 1 to %d letters, digits, '_' or '-', not starting with '-'", id, MaxInstanceIDLength)
	}
	if reservedID.MatchString(id) {
		return errBadRequest("instance_id %q is reserved for system-generated instances", id)
	}
	return nil
}
