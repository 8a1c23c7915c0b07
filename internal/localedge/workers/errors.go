package workers

import (
	"net/http"

	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/api"
)

func errScriptNotFound() *api.Error {
	return api.Errorf(http.StatusNotFound, 10007, "This Worker does not exist on your account.")
}

func errVersionNotFound(id string) *api.Error {
	return api.Errorf(http.StatusNotFound, 10007, "Version '%s' not found.", id)
}

func errRouteNotFound() *api.Error {
	return api.Errorf(http.StatusNotFound, 10007, "Route not found.")
}

func errNoSubdomain() *api.Error {
	return api.Errorf(http.StatusNotFound, 10007, "You haven't registered a workers.dev subdomain for this account.")
}

func errSecretNotFound(name string) *api.Error {
	return api.Errorf(http.StatusNotFound, 10056, "Secret '%s' not found", name)
}

func errSecretBodyTooLarge() *api.Error {
	return api.Errorf(http.StatusBadRequest, 10054, "A secret request is at most %d bytes, and a secret's text at most %d bytes", maxSecretBodyBytes, maxSecretBytes)
}

func errSecretTooLarge(name string, n int) *api.Error {
	return api.Errorf(http.StatusBadRequest, 10054, "Secret '%s' is %d bytes; a secret is at most %d bytes", name, n, maxSecretBytes)
}

// errValidation is an upload the runtime could not load (Cloudflare's 10021 with the script
// error).
func errValidation(msg string) *api.Error {
	return api.Errorf(http.StatusBadRequest, 10021, "%s", msg)
}
