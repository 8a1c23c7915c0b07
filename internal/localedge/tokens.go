package localedge

import "net/http"

// The one token of the local edge, as the verify endpoints describe it.
var tokenID = "5e2a7d6c3b1f4e8a9d0c7b6a5f4e3d2c"

func (s *Server) registerTokenRoutes() {
	verify := func(w http.ResponseWriter, _ *http.Request) error {
		writeJSON(w, http.StatusOK, envelope{
			Success: true, Errors: []apiMessage{},
			Messages: []any{apiMessage{Code: 10000, Message: "This API Token is valid and active"}},
			Result:   map[string]any{"id": tokenID, "status": "active"},
		})
		return nil
	}
	s.handle("GET /user/tokens/verify", verify)
	s.handle("GET /accounts/{account_id}/tokens/verify", verify)
}
