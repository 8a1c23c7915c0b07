package tails

import (
	"net/http"
	"strings"
	"time"
)

// Event is one trace-v1 message: a Worker invocation as `wrangler tail` prints it.
type Event struct {
	Outcome        string         `json:"outcome"`
	ScriptName     string         `json:"scriptName"`
	ScriptVersion  *ScriptVersion `json:"scriptVersion,omitempty"`
	Exceptions     []Exception    `json:"exceptions"`
	Logs           []Log          `json:"logs"`
	EventTimestamp int64          `json:"eventTimestamp"`
	// Event is a RequestEvent or a ScheduledEvent.
	Event any `json:"event"`
}

// ScriptVersion names the version that served the invocation.
type ScriptVersion struct {
	ID string `json:"id"`
}

// Exception is an uncaught exception of the invocation.
type Exception struct {
	Name      string `json:"name"`
	Message   string `json:"message"`
	Timestamp int64  `json:"timestamp"`
}

// Log is one console call of the invocation.
type Log struct {
	Message   []any  `json:"message"`
	Level     string `json:"level"`
	Timestamp int64  `json:"timestamp"`
}

// RequestEvent is the event of a fetch invocation.
type RequestEvent struct {
	Request  Request   `json:"request"`
	Response *Response `json:"response,omitempty"`
}

// Request is the invoking request (sensitive headers redacted, as Cloudflare does).
type Request struct {
	URL     string            `json:"url"`
	Method  string            `json:"method"`
	Headers map[string]string `json:"headers"`
	CF      map[string]any    `json:"cf"`
}

// Response is the status the Worker answered with.
type Response struct {
	Status int `json:"status"`
}

// ScheduledEvent is the event of a cron trigger.
type ScheduledEvent struct {
	Cron          string `json:"cron"`
	ScheduledTime int64  `json:"scheduledTime"`
}

// redacted are the request headers whose values a tail never shows.
var redacted = map[string]bool{"authorization": true, "cookie": true, "x-auth-key": true, "x-auth-email": true}

// RequestFrom describes r (as the client sent it, with host) for a request event.
func RequestFrom(r *http.Request, skip func(header string) bool) Request {
	headers := map[string]string{}
	for name, values := range r.Header {
		lower := strings.ToLower(name)
		if skip != nil && skip(name) {
			continue
		}
		if redacted[lower] {
			headers[lower] = "REDACTED"
			continue
		}
		headers[lower] = strings.Join(values, ", ")
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return Request{URL: scheme + "://" + r.Host + r.URL.RequestURI(), Method: r.Method, Headers: headers, CF: map[string]any{}}
}

// Millis is t as trace-v1 timestamps are (Unix milliseconds).
func Millis(t time.Time) int64 { return t.UnixMilli() }
