package kv

import (
	"net/http"

	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/api"
)

func errNamespaceNotFound() *api.Error {
	return api.Errorf(http.StatusNotFound, 10013, "get namespace: 'namespace not found'")
}

func errTitleExists() *api.Error {
	return api.Errorf(http.StatusBadRequest, 10014, "A namespace with this account ID and title already exists")
}

func errKeyNotFound() *api.Error {
	return api.Errorf(http.StatusNotFound, 10009, "get: 'key not found'")
}

func errValueTooLarge(n int64) *api.Error {
	return api.Errorf(http.StatusRequestEntityTooLarge, 10033, "Value length of %d exceeds limit of %d bytes", n, MaxValueBytes)
}

func errBulkTooLarge() *api.Error {
	return api.Errorf(http.StatusRequestEntityTooLarge, 10033, "A bulk request must be at most %d bytes", MaxBulkBodyBytes)
}

func errTooManyPairs(n int) *api.Error {
	return api.Errorf(http.StatusRequestEntityTooLarge, 10001, "a bulk write or delete takes at most %d keys, got more than %d", MaxBulkItems, n)
}

func errBindingTarget(b api.Binding) *api.Error {
	return api.Errorf(http.StatusBadRequest, 10056, "KV namespace '%s' not found (binding '%s')", b.Str("namespace_id"), b.Name())
}
