package cloudflare

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptrace"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/cloudflare/cloudflare-go/v7/option"
	"github.com/hashicorp/terraform-plugin-log/tflog"
)

// retryPolicy is our retry loop. The SDK's own (which also retries 409 conflicts and honours
// Retry-After without a cap) is switched off; this one caps each wait and stops when the
// total budget is spent. What it repeats:
//
//   - any request the server answered with 429 or a 5xx;
//   - any request that provably never left this process (no request headers were written:
//     dial, DNS and TLS failures);
//   - an idempotent request (GET, HEAD, PUT, DELETE, OPTIONS, or one marked with
//     safeToRepeat) after any transport failure, including a response body cut short.
//
// A POST or PATCH that was sent but got no complete answer is not repeated: the API may have
// carried it out, and sending it again could create a duplicate. The call fails with an
// unknownOutcomeError (KindUnknownOutcome), and the caller finds out what happened, e.g. by
// looking the object up by its unique name.
type retryPolicy struct {
	maxRetries    int
	attemptTimout time.Duration
	budget        time.Duration
	baseDelay     time.Duration
	maxDelay      time.Duration
	sleep         func(ctx context.Context, d time.Duration) error
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// cancelOnClose releases an attempt's timeout when the caller is done with the body.
type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (c cancelOnClose) Close() error {
	err := c.ReadCloser.Close()
	c.cancel()
	return err
}

// delay is how long to wait before retry number n (0-based): the server's Retry-After when
// it sent one, else exponential backoff with jitter; both capped by maxDelay.
func (p retryPolicy) delay(n int, res *http.Response) time.Duration {
	if res != nil {
		if d, ok := retryAfter(res.Header); ok {
			return min(d, p.maxDelay)
		}
	}
	d := p.baseDelay << n
	if d > p.maxDelay || d <= 0 {
		d = p.maxDelay
	}
	return d - time.Duration(rand.Int64N(int64(d)/4+1))
}

// retryAfter reads Retry-After-Ms (milliseconds) or Retry-After (seconds or an HTTP date).
func retryAfter(h http.Header) (time.Duration, bool) {
	if v := h.Get("Retry-After-Ms"); v != "" {
		if ms, err := strconv.ParseFloat(v, 64); err == nil && ms >= 0 {
			return clampDuration(ms * float64(time.Millisecond)), true
		}
	}
	v := h.Get("Retry-After")
	if v == "" {
		return 0, false
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil && s >= 0 {
		return clampDuration(s * float64(time.Second)), true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(time.Until(t), 0), true
	}
	return 0, false
}

// clampDuration converts nanoseconds to a Duration without overflowing: a huge Retry-After
// would otherwise wrap to a negative wait and retry at once.
func clampDuration(ns float64) time.Duration {
	if ns >= math.MaxInt64 {
		return math.MaxInt64
	}
	return time.Duration(ns)
}

// maxBufferedBody bounds how much of a response the retry loop reads before handing it on, so
// that a body cut short can be retried. API answers are small and KV values are at most
// 25 MiB; anything larger streams through unbuffered, and a truncation then reaches the caller.
const maxBufferedBody = 32 << 20

// repeatableKey marks a context whose requests are safe to send twice whatever their method.
type repeatableKey struct{}

// safeToRepeat marks a POST or PATCH whose effect does not change when it is applied twice
// (a bulk delete, setting a value), so the retry loop may repeat it after a lost response.
func safeToRepeat(ctx context.Context) context.Context {
	return context.WithValue(ctx, repeatableKey{}, true)
}

// idempotent reports whether sending req twice has the same effect as sending it once.
func idempotent(req *http.Request) bool {
	switch req.Method {
	case http.MethodGet, http.MethodHead, http.MethodPut, http.MethodDelete, http.MethodOptions:
		return true
	}
	marked, _ := req.Context().Value(repeatableKey{}).(bool)
	return marked
}

// unknownOutcomeError is a non-idempotent request that was sent but got no complete answer.
type unknownOutcomeError struct {
	method, url string
	status      int // the status line received before the body was cut short; 0 if none
	err         error
}

func (e *unknownOutcomeError) Error() string {
	what := "the connection failed before an answer arrived"
	if e.status != 0 {
		what = fmt.Sprintf("the API answered HTTP %d but the response was cut short", e.status)
	}
	return fmt.Sprintf("%s %s: outcome unknown: the request was sent, then %s (%v). "+
		"It was not repeated, because repeating a %s could carry it out twice", e.method, e.url, what, e.err, e.method)
}

func (e *unknownOutcomeError) Unwrap() error { return e.err }

// exhaustedError is a call whose every allowed attempt failed: the last answer (status, with
// Cloudflare's code and message) or the last transport error, and how long it took.
type exhaustedError struct {
	method, url string
	attempts    int
	elapsed     time.Duration
	maxRetries  int
	// stoppedEarly is why fewer than max_retries retries were made ("" when all were).
	stoppedEarly string
	status       int
	code         int64
	message      string
	err          error
}

// summary says how hard the call tried, e.g. "giving up after 5 attempt(s) in 4.1s (max_retries = 4)".
func (e *exhaustedError) summary() string {
	s := fmt.Sprintf("giving up after %d attempt(s) in %s (max_retries = %d", e.attempts, e.elapsed.Round(time.Millisecond), e.maxRetries)
	if e.stoppedEarly != "" {
		s += "; " + e.stoppedEarly
	}
	return s + ")"
}

func (e *exhaustedError) Error() string {
	if e.err != nil {
		return fmt.Sprintf("%s: %v", e.summary(), e.err)
	}
	answer := fmt.Sprintf("HTTP %d %s", e.status, http.StatusText(e.status))
	if e.code != 0 {
		answer = fmt.Sprintf("HTTP %d, Cloudflare error %d: %s", e.status, e.code, e.message)
	}
	return fmt.Sprintf("%s %s answered %s; %s", e.method, e.url, answer, e.summary())
}

func (e *exhaustedError) Unwrap() error { return e.err }

// firstAPIError reads Cloudflare's first error item from an envelope.
func firstAPIError(body []byte) (int64, string) {
	var env struct {
		Errors []struct {
			Code    int64  `json:"code"`
			Message string `json:"message"`
		} `json:"errors"`
	}
	if json.Unmarshal(body, &env) != nil || len(env.Errors) == 0 {
		return 0, ""
	}
	return env.Errors[0].Code, env.Errors[0].Message
}

// bufferBody reads up to maxBufferedBody of res into memory and replaces res.Body with it,
// releasing the attempt (cancel). A longer body is handed on as a stream that releases the
// attempt when closed. A read failure (a body cut short, a timeout) is returned with res, whose
// status line did arrive.
func bufferBody(res *http.Response, cancel context.CancelFunc) (*http.Response, []byte, error) {
	head, err := io.ReadAll(io.LimitReader(res.Body, maxBufferedBody+1))
	if err != nil {
		_ = res.Body.Close()
		cancel()
		return res, nil, err
	}
	if len(head) > maxBufferedBody {
		res.Body = cancelOnClose{struct {
			io.Reader
			io.Closer
		}{io.MultiReader(bytes.NewReader(head), res.Body), res.Body}, cancel}
		return res, nil, nil
	}
	_ = res.Body.Close()
	cancel()
	res.Body = io.NopCloser(bytes.NewReader(head))
	return res, head, nil
}

func (p retryPolicy) middleware() option.Middleware {
	return func(req *http.Request, next option.MiddlewareNext) (*http.Response, error) {
		start := time.Now()
		parent := req.Context()
		repeatable := idempotent(req)
		// A body that cannot be produced again cannot be retried at all.
		replayable := req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
		for attempt := 0; ; attempt++ {
			if attempt > 0 && req.GetBody != nil {
				body, err := req.GetBody()
				if err != nil {
					return nil, err
				}
				req.Body = body
			}
			ctx, cancel := context.WithTimeout(parent, p.attemptTimout)
			var sent atomic.Bool
			ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{WroteHeaders: func() { sent.Store(true) }})
			res, err := next(req.WithContext(ctx))
			var body []byte
			if err == nil {
				res, body, err = bufferBody(res, cancel)
			} else {
				cancel()
			}
			if parent.Err() != nil {
				return nil, parent.Err()
			}
			if errors.Is(err, context.DeadlineExceeded) {
				err = fmt.Errorf("no response within request_timeout (%s)", p.attemptTimout)
			}
			var status int
			switch {
			case err != nil && res != nil:
				status = res.StatusCode
				err = fmt.Errorf("reading the response: %w", err)
			case err != nil:
			case res.StatusCode == http.StatusTooManyRequests || res.StatusCode >= 500:
				status = res.StatusCode
			default:
				return res, nil
			}
			// Here the attempt failed: a transport error (err) or a 429/5xx answer (status).
			if err != nil && !repeatable && sent.Load() && status < 500 && status != http.StatusTooManyRequests {
				return nil, &unknownOutcomeError{method: req.Method, url: req.URL.Redacted(), status: status, err: err}
			}
			wait := p.delay(attempt, res)
			stop := ""
			switch {
			case !replayable:
				stop = "the request body cannot be sent again"
			case attempt >= p.maxRetries:
			case time.Since(start)+wait > p.budget:
				stop = fmt.Sprintf("the next wait, %s, would pass the retry budget of %s = (max_retries + 1) × request_timeout",
					wait.Round(time.Millisecond), p.budget)
			}
			if stop != "" || attempt >= p.maxRetries {
				gaveUp := &exhaustedError{
					method: req.Method, url: req.URL.Redacted(), attempts: attempt + 1, elapsed: time.Since(start),
					maxRetries: p.maxRetries, stoppedEarly: stop, status: status, err: err,
				}
				if err != nil {
					gaveUp.err = fmt.Errorf("%s %s: %w", req.Method, req.URL.Redacted(), err)
				} else {
					gaveUp.code, gaveUp.message = firstAPIError(body)
				}
				return nil, gaveUp
			}
			tflog.Debug(parent, "retrying Cloudflare API request", map[string]any{
				"method": req.Method, "path": req.URL.Path, "attempt": attempt + 1, "status": status,
				"error": fmt.Sprint(err), "wait": wait.String(),
			})
			if err := p.sleep(parent, wait); err != nil {
				return nil, err
			}
		}
	}
}
