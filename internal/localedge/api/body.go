package api

import (
	"context"
	"errors"
	"io"
	"net/http"
	"time"
)

// ErrBodyTooLarge is the answer to a request body over an endpoint's limit.
func ErrBodyTooLarge(limit int64) *Error {
	return Errorf(http.StatusRequestEntityTooLarge, 10026, "request body exceeds the limit of %d bytes", limit)
}

// LimitBody bounds r's body to limit bytes. A declared Content-Length over the limit is
// refused before a byte is read; a body without one (chunked) is cut at the limit, and the
// read that goes over returns an error that IsTooLarge recognises. Either way the server
// answers, then closes the connection instead of reading the rest, so memory stays bounded
// by the limit whatever the client sends.
func LimitBody(w http.ResponseWriter, r *http.Request, limit int64) (io.Reader, error) {
	if r.ContentLength > limit {
		refuse(r)
		return nil, ErrBodyTooLarge(limit)
	}
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	return &limitedBody{r: r}, nil
}

// limitedBody marks the request refused when its body goes over the limit.
type limitedBody struct{ r *http.Request }

func (b *limitedBody) Read(p []byte) (int, error) {
	n, err := b.r.Body.Read(p)
	if IsTooLarge(err) {
		refuse(b.r)
	}
	return n, err
}

// IsTooLarge reports whether err comes from reading past a LimitBody limit.
func IsTooLarge(err error) bool {
	var tooBig *http.MaxBytesError
	return errors.As(err, &tooBig)
}

// requestState is what a handler tells the server about its request.
type requestState struct{ refusedBody bool }

type requestStateKey struct{}

func withState(r *http.Request) (*http.Request, *requestState) {
	st := &requestState{}
	return r.WithContext(context.WithValue(r.Context(), requestStateKey{}, st)), st
}

func refuse(r *http.Request) {
	if st, ok := r.Context().Value(requestStateKey{}).(*requestState); ok {
		st.refusedBody = true
	}
}

// Bounds of the read that follows a refused body.
const (
	lingerBytes = 8 << 20
	lingerTime  = 2 * time.Second
)

// linger sends the answer to a refused body, then reads and drops a bounded part of what
// the client is still sending before the connection closes. Closing a socket with unread
// data resets the connection, and a client still writing its body would lose the answer
// it has not read yet.
func linger(w http.ResponseWriter, r *http.Request) {
	rc := http.NewResponseController(w)
	_ = rc.Flush()
	_ = rc.SetReadDeadline(time.Now().Add(lingerTime))
	_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, lingerBytes))
}
