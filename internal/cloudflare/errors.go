package cloudflare

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	cf "github.com/cloudflare/cloudflare-go/v7"
)

// Kind classifies API failures so callers branch on meaning, not on status codes.
type Kind int

const (
	// KindUnknown is any failure not classified below.
	KindUnknown Kind = iota
	// KindNotFound is a 404: the object does not exist.
	KindNotFound
	// KindConflict is a 409, or a 400 that Cloudflare uses for "already exists".
	KindConflict
	// KindAuth is a 401/403: the token is wrong or lacks access.
	KindAuth
	// KindRateLimited is a 429 that outlasted the retry budget.
	KindRateLimited
	// KindValidation is a 4xx rejecting the request's content.
	KindValidation
	// KindUnavailable is a 5xx or a transport failure that outlasted the retry budget.
	KindUnavailable
	// KindUnknownOutcome is a POST or PATCH that was sent but got no complete answer (the
	// connection dropped, the body was cut short, the attempt timed out). The API may or may
	// not have carried it out; it was not repeated, so the caller must find out, e.g. by
	// looking the object up by its unique name.
	KindUnknownOutcome
)

// Sentinels for errors.Is.
var (
	ErrNotFound       = &Error{Kind: KindNotFound}
	ErrConflict       = &Error{Kind: KindConflict}
	ErrAuth           = &Error{Kind: KindAuth}
	ErrRateLimited    = &Error{Kind: KindRateLimited}
	ErrValidation     = &Error{Kind: KindValidation}
	ErrUnavailable    = &Error{Kind: KindUnavailable}
	ErrUnknownOutcome = &Error{Kind: KindUnknownOutcome}
)

// Error is a failed API call: what we tried, what Cloudflare answered.
type Error struct {
	Kind Kind
	// Op says what was attempted, e.g. `creating KV namespace "sessions"`.
	Op string
	// Status is the HTTP status, 0 for transport failures.
	Status int
	// Code and Message are Cloudflare's first error item.
	Code    int64
	Message string
	// Err is the underlying error.
	Err error
	// Attempts and Elapsed say how hard the retry loop tried before giving up (0 when the
	// first answer was final).
	Attempts int
	Elapsed  time.Duration
	// gaveUp is the retry loop's summary, e.g. "giving up after 5 attempt(s) in 4.1s (max_retries = 4)".
	gaveUp string
}

func (e *Error) Error() string {
	var msg string
	switch {
	case e.Kind == KindAuth:
		msg = fmt.Sprintf("%s: authentication failed: check api_token (CLOUDFLARE_API_TOKEN) and that it can access the account (Cloudflare said: %d %s)", e.Op, e.Code, e.Message)
	case e.Status == 0 && e.Err != nil:
		// A transport failure: the retry summary is already part of Err.
		return fmt.Sprintf("%s: %v", e.Op, e.Err)
	case e.Code != 0:
		msg = fmt.Sprintf("%s: Cloudflare API error %d (HTTP %d): %s", e.Op, e.Code, e.Status, e.Message)
	case e.Message != "":
		// GraphQL errors carry a message and no numeric code.
		msg = fmt.Sprintf("%s: %s", e.Op, e.Message)
	default:
		msg = fmt.Sprintf("%s: Cloudflare API returned HTTP %d %s", e.Op, e.Status, http.StatusText(e.Status))
	}
	if e.gaveUp != "" {
		msg += "; " + e.gaveUp
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

// Is matches the sentinels by kind.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Op == "" && t.Err == nil && t.Kind == e.Kind
}

// IsNotFound reports whether err means the object does not exist.
func IsNotFound(err error) bool { return errors.Is(err, ErrNotFound) }

// IsUnknownOutcome reports whether err is a write that may or may not have been carried out.
func IsUnknownOutcome(err error) bool { return errors.Is(err, ErrUnknownOutcome) }

// wrap turns an SDK error into an *Error describing op.
func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	var mine *Error
	if errors.As(err, &mine) {
		return err
	}
	e := &Error{Op: op, Err: err}
	var apiErr *cf.Error
	var status *statusError
	var exhausted *exhaustedError
	var unknown *unknownOutcomeError
	switch {
	case errors.As(err, &unknown):
		e.Kind = KindUnknownOutcome
	case errors.As(err, &exhausted):
		e.Attempts, e.Elapsed = exhausted.attempts, exhausted.elapsed
		if exhausted.err != nil {
			e.Kind, e.Err = KindUnavailable, exhausted
			break
		}
		e.Status, e.Code, e.Message, e.gaveUp = exhausted.status, exhausted.code, exhausted.message, exhausted.summary()
		e.Kind = kindOf(e.Status, e.Code)
	case errors.As(err, &apiErr):
		e.Status = apiErr.StatusCode
		if len(apiErr.Errors) > 0 {
			e.Code, e.Message = apiErr.Errors[0].Code, apiErr.Errors[0].Message
		}
		e.Kind = kindOf(e.Status, e.Code)
	case errors.As(err, &status):
		e.Status, e.Code, e.Message = status.status, status.code, status.message
		e.Kind = kindOf(e.Status, e.Code)
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		e.Kind = KindUnavailable
	default:
		e.Kind = KindUnavailable
	}
	return e
}

// Cloudflare reports some conflicts as 400s with these codes.
var conflictCodes = map[int64]bool{
	10014: true, // KV namespace title exists
	10004: true, // R2 bucket exists
	10008: true, // R2 bucket not empty
	10020: true, // route pattern exists
	10035: true, // concurrent modification
}

func kindOf(status int, code int64) Kind {
	switch {
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return KindAuth
	case status == http.StatusNotFound:
		return KindNotFound
	case status == http.StatusConflict || conflictCodes[code]:
		return KindConflict
	case status == http.StatusTooManyRequests:
		return KindRateLimited
	case status >= 500:
		return KindUnavailable
	case status >= 400:
		return KindValidation
	}
	return KindUnknown
}
