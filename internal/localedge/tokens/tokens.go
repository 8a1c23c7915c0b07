package tokens

import (
	"net/http"

	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/api"
)

// ID is the one token's id, as the verify endpoints describe it.
const ID = "5e2a7d6c3b1f4e8a9d0c7b6a5f4e3d2c"

func verify(w http.ResponseWriter, _ *http.Request) error {
	api.WriteJSON(w, http.StatusOK, api.Envelope{
		Success: true, Errors: []api.Message{},
		Messages: []any{api.Message{Code: 10000, Message: "This API Token is valid and active"}},
		Result:   map[string]any{"id": ID, "status": "active"},
	})
	return nil
}
