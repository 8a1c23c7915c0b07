package localedge

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
)

// apiMessage is one item of the envelope's errors or messages arrays.
type apiMessage struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// envelope is Cloudflare's API v4 response wrapper.
type envelope struct {
	Success    bool         `json:"success"`
	Errors     []apiMessage `json:"errors"`
	Messages   []any        `json:"messages"`
	Result     any          `json:"result"`
	ResultInfo any          `json:"result_info,omitempty"`
}

// apiError is an error response: HTTP status plus Cloudflare's numeric code and message.
type apiError struct {
	Status  int
	Code    int
	Message string
}

func (e *apiError) Error() string { return fmt.Sprintf("%d %d %s", e.Status, e.Code, e.Message) }

func errorf(status, code int, format string, args ...any) *apiError {
	return &apiError{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeResult writes a successful envelope around result.
func writeResult(w http.ResponseWriter, result any) {
	writeJSON(w, http.StatusOK, envelope{Success: true, Errors: []apiMessage{}, Messages: []any{}, Result: result})
}

// writePage writes a successful envelope with result_info.
func writePage(w http.ResponseWriter, result, info any) {
	writeJSON(w, http.StatusOK, envelope{Success: true, Errors: []apiMessage{}, Messages: []any{}, Result: result, ResultInfo: info})
}

// writeError writes err as a failed envelope. Errors that are not *apiError become a
// Cloudflare-style 500 with code 10013 ("An unknown error has occurred").
func writeError(w http.ResponseWriter, err error) {
	ae, ok := err.(*apiError)
	if !ok {
		ae = errorf(http.StatusInternalServerError, 10013, "An unknown error has occurred: %v", err)
	}
	writeJSON(w, ae.Status, envelope{Success: false, Errors: []apiMessage{{Code: ae.Code, Message: ae.Message}}, Messages: []any{}, Result: nil})
}

// decodeJSON decodes a JSON request body; a malformed body is Cloudflare's 10026.
func decodeJSON(r *http.Request, v any) error {
	if err := json.NewDecoder(r.Body).Decode(v); err != nil {
		return errorf(http.StatusBadRequest, 10026, "could not parse request body: %v", err)
	}
	return nil
}

// newHexID returns a 32-hex-character identifier, the shape of Cloudflare's resource ids.
func newHexID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// newUUID returns a random RFC 4122 version 4 UUID, the shape of version and deployment ids.
func newUUID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
