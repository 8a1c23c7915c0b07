package api

import (
	"errors"
	"io"
	"net/http"
)

// ErrBodyTooLarge is the answer to a request body over an endpoint's limit.
func ErrBodyTooLarge(limit int64) *Error {
	return Errorf(http.StatusRequestEntityTooLarge, 10026, "request body exceeds the limit of %d bytes", limit)
}

// LimitBody bounds r's body to limit bytes. A declared Content-Length over the limit is
// refused before a byte is read; a body without one (chunked) is cut at the limit, and the
// read that goes over returns an error that IsTooLarge recognises. Either way the server then
// closes the connection instead of draining the rest, so memory stays bounded by the limit
// whatever the client sends.
func LimitBody(w http.ResponseWriter, r *http.Request, limit int64) (io.Reader, error) {
	if r.ContentLength > limit {
		w.Header().Set("Connection", "close")
		return nil, ErrBodyTooLarge(limit)
	}
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	return r.Body, nil
}

// IsTooLarge reports whether err comes from reading past a LimitBody limit.
func IsTooLarge(err error) bool {
	var tooBig *http.MaxBytesError
	return errors.As(err, &tooBig)
}
