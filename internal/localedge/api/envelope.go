package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
)

// Message is one item of the envelope's errors or messages arrays.
type Message struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// Envelope is Cloudflare's API v4 response wrapper.
type Envelope struct {
	Success    bool      `json:"success"`
	Errors     []Message `json:"errors"`
	Messages   []any     `json:"messages"`
	Result     any       `json:"result"`
	ResultInfo any       `json:"result_info,omitempty"`
}

// Error is an error response: HTTP status plus Cloudflare's numeric code and message.
type Error struct {
	Status  int
	Code    int
	Message string
}

func (e *Error) Error() string { return fmt.Sprintf("%d %d %s", e.Status, e.Code, e.Message) }

// Errorf builds an error response.
func Errorf(status, code int, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// WriteJSON writes v as a JSON response with the status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// WriteResult writes a successful envelope around result.
func WriteResult(w http.ResponseWriter, result any) {
	WriteJSON(w, http.StatusOK, Envelope{Success: true, Errors: []Message{}, Messages: []any{}, Result: result})
}

// WritePage writes a successful envelope with result_info.
func WritePage(w http.ResponseWriter, result, info any) {
	WriteJSON(w, http.StatusOK, Envelope{Success: true, Errors: []Message{}, Messages: []any{}, Result: result, ResultInfo: info})
}

// WriteError writes err as a failed envelope. Errors that are not *Error become a
// Cloudflare-style 500 with code 10013 ("An unknown error has occurred").
func WriteError(w http.ResponseWriter, err error) {
	var ae *Error
	if !errors.As(err, &ae) {
		ae = Errorf(http.StatusInternalServerError, 10013, "An unknown error has occurred: %v", err)
	}
	WriteJSON(w, ae.Status, Envelope{Success: false, Errors: []Message{{Code: ae.Code, Message: ae.Message}}, Messages: []any{}, Result: nil})
}

// MaxJSONBody bounds the JSON body of an ordinary API call (names, settings, patterns);
// endpoints that take more (KV bulk writes) read their bodies with their own limit.
const MaxJSONBody = 1 << 20

// DecodeJSON decodes a JSON request body of at most MaxJSONBody bytes; a malformed body is
// Cloudflare's 10026.
func DecodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	body, err := LimitBody(w, r, MaxJSONBody)
	if err != nil {
		return err
	}
	if err := json.NewDecoder(body).Decode(v); err != nil {
		return BodyError(err, MaxJSONBody)
	}
	return nil
}

// BodyError turns a failure to read or decode a request body into Cloudflare's error: 413
// when the body went over limit, 10026 otherwise.
func BodyError(err error, limit int64) error {
	var ae *Error
	switch {
	case errors.As(err, &ae):
		return ae
	case IsTooLarge(err):
		return ErrBodyTooLarge(limit)
	case errors.Is(err, io.EOF):
		return Errorf(http.StatusBadRequest, 10026, "could not parse request body: the body is empty")
	}
	return Errorf(http.StatusBadRequest, 10026, "could not parse request body: %v", err)
}
