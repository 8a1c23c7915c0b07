package api

import "net/http"

// HandlerFunc is an API handler; a returned error is written as Cloudflare's error envelope.
type HandlerFunc func(w http.ResponseWriter, r *http.Request) error

// Route is one endpoint of a product.
type Route struct {
	// Pattern is the method and path under APIPrefix, e.g.
	// "GET /accounts/{account_id}/storage/kv/namespaces/{namespace_id}". Path parameters
	// named account_id and zone_id are checked by the server before Handle runs.
	Pattern string
	Handle  HandlerFunc
	// Deploys marks a write that changes what the edge runs (code, bindings, routing,
	// Durable Object classes, triggers): after it succeeds, the server holds the answer until
	// the Workers runtime serves the change, so the next request sees it.
	Deploys bool
}

// Handler adapts an http.Handler that writes its own responses (the GraphQL endpoint).
func Handler(h http.Handler) HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		h.ServeHTTP(w, r)
		return nil
	}
}
