package r2

import (
	"net/http"

	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/api"
)

func errBucketNotFound() *api.Error {
	return api.Errorf(http.StatusNotFound, 10006, "The specified bucket does not exist.")
}

func errBucketExists() *api.Error {
	return api.Errorf(http.StatusConflict, 10004, "The bucket you tried to create already exists, and you own it.")
}

func errBucketNotEmpty() *api.Error {
	return api.Errorf(http.StatusConflict, 10008, "The bucket you tried to delete is not empty.")
}

func errInvalidBucketName() *api.Error {
	return api.Errorf(http.StatusBadRequest, 10005, "The specified bucket name is not valid.")
}

func errMalformedJSON() *api.Error {
	return api.Errorf(http.StatusBadRequest, 10040, "The JSON you provided was not well formed.")
}

func errStorageClass(class string) *api.Error {
	return api.Errorf(http.StatusBadRequest, 10062, "The storage class %q is not valid: use Standard or InfrequentAccess.", class)
}

func errKeyNotFound() *api.Error {
	return api.Errorf(http.StatusNotFound, 10007, "The specified key does not exist.")
}

func errInvalidKey(key string) *api.Error {
	return api.Errorf(http.StatusBadRequest, 10020, "The specified object name is not valid: an object key is 1 to %d bytes, got %d.", maxKeyBytes, len(key))
}

func errEntityTooLarge() *api.Error {
	return api.Errorf(http.StatusRequestEntityTooLarge, 100100, "Your proposed upload exceeds the maximum allowed object size (%d bytes in one PUT).", maxPutBytes)
}

func errBindingTarget(b api.Binding, jurisdiction string) *api.Error {
	return api.Errorf(http.StatusBadRequest, 10056, "R2 bucket '%s' not found in jurisdiction '%s' (binding '%s')", b.Str("bucket_name"), jurisdiction, b.Name())
}
