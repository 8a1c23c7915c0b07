package workflows

import (
	"net/http"

	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/api"
)

// Workflows' error codes (10500s), as Miniflare's own emulation of the API uses them.
const (
	codeBadRequest = 10001
	codeNotFound   = 10501
)

func errWorkflowNotFound(name string) *api.Error {
	return api.Errorf(http.StatusNotFound, codeNotFound, "Workflow '%s' not found.", name)
}

func errInstanceNotFound(id string) *api.Error {
	return api.Errorf(http.StatusNotFound, codeNotFound, "Workflow instance '%s' not found.", id)
}

func errInstanceExists(id string) *api.Error {
	return api.Errorf(http.StatusConflict, 10502, "Workflow instance '%s' already exists: instance ids are unique within a Workflow", id)
}

func errVersionNotFound(id string) *api.Error {
	return api.Errorf(http.StatusNotFound, codeNotFound, "Workflow version '%s' not found.", id)
}

func errBadRequest(format string, args ...any) *api.Error {
	return api.Errorf(http.StatusBadRequest, codeBadRequest, format, args...)
}

func errNoRuntime() *api.Error {
	return api.Errorf(http.StatusServiceUnavailable, 10503, "Workflow instances run in the Workers runtime, which this local edge has not started: run the edge with its runtime (terraform-provider-servicesdo local)")
}

func errBindingTarget(b api.Binding) *api.Error {
	return api.Errorf(http.StatusBadRequest, 10056, "Workflow '%s' not found (binding '%s'): create it (PUT /workflows/%s) or name the class_name that implements it", b.Str("workflow_name"), b.Name(), b.Str("workflow_name"))
}

func errBindingMismatch(b api.Binding, field, want string) *api.Error {
	return api.Errorf(http.StatusBadRequest, 10021, "Binding '%s' names %s '%s', but Workflow '%s' runs %s '%s'", b.Name(), field, b.Str(field), b.Str("workflow_name"), field, want)
}
