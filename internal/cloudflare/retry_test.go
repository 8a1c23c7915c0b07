package cloudflare

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"strings"
	"sync"
	"testing"
	"time"
)

// rtRecordingSleep records the waits of a retry policy without waiting.
type rtRecordingSleep struct {
	mu    sync.Mutex
	waits []time.Duration
}

func (r *rtRecordingSleep) sleep(ctx context.Context, d time.Duration) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.waits = append(r.waits, d)
	return ctx.Err()
}

func rtPolicy(maxRetries int, rec *rtRecordingSleep) retryPolicy {
	return retryPolicy{
		maxRetries:    maxRetries,
		attemptTimout: time.Minute,
		budget:        time.Hour,
		baseDelay:     baseRetryDelay,
		maxDelay:      maxRetryDelay,
		sleep:         rec.sleep,
	}
}

func rtResponse(status int, header http.Header) *http.Response {
	if header == nil {
		header = http.Header{}
	}
	return &http.Response{StatusCode: status, Header: header, Body: io.NopCloser(strings.NewReader(`{}`))}
}

func TestRetryDelayRetryAfter(t *testing.T) {
	t.Parallel()
	p := retryPolicy{baseDelay: baseRetryDelay, maxDelay: maxRetryDelay}
	cases := []struct {
		header http.Header
		want   time.Duration
	}{
		{http.Header{"Retry-After": {"0"}}, 0},
		{http.Header{"Retry-After": {"3"}}, 3 * time.Second},
		{http.Header{"Retry-After": {"0.5"}}, 500 * time.Millisecond},
		{http.Header{"Retry-After": {"100000"}}, maxRetryDelay},
		// So large that seconds->nanoseconds overflows int64.
		{http.Header{"Retry-After": {"99999999999"}}, maxRetryDelay},
		{http.Header{"Retry-After": {"1e300"}}, maxRetryDelay},
		{http.Header{"Retry-After-Ms": {"1e300"}}, maxRetryDelay},
		{http.Header{"Retry-After-Ms": {"1500"}}, 1500 * time.Millisecond},
		{http.Header{"Retry-After-Ms": {"0"}}, 0},
		{http.Header{"Retry-After-Ms": {"99999999"}}, maxRetryDelay},
		// Retry-After-Ms is preferred.
		{http.Header{"Retry-After-Ms": {"10"}, "Retry-After": {"5"}}, 10 * time.Millisecond},
		{http.Header{"Retry-After": {time.Now().Add(-time.Hour).UTC().Format(http.TimeFormat)}}, 0},
		{http.Header{"Retry-After": {time.Now().Add(24 * time.Hour).UTC().Format(http.TimeFormat)}}, maxRetryDelay},
	}
	for _, c := range cases {
		if got := p.delay(0, rtResponse(http.StatusTooManyRequests, c.header)); got != c.want {
			t.Errorf("delay with %v = %s, want %s", c.header, got, c.want)
		}
		if got := p.delay(7, rtResponse(http.StatusTooManyRequests, c.header)); got != c.want {
			t.Errorf("delay of retry 7 with %v = %s, want %s (Retry-After does not depend on the attempt)", c.header, got, c.want)
		}
	}

	// An HTTP date a few seconds ahead: positive and at most that far.
	h := http.Header{"Retry-After": {time.Now().Add(10 * time.Second).UTC().Format(http.TimeFormat)}}
	if got := p.delay(0, rtResponse(http.StatusTooManyRequests, h)); got <= 0 || got > 10*time.Second {
		t.Errorf("delay with a date 10s ahead = %s", got)
	}

	// Unparsable or negative values fall back to backoff.
	for _, v := range []string{"soon", "-1", ""} {
		got := p.delay(0, rtResponse(http.StatusTooManyRequests, http.Header{"Retry-After": {v}, "Retry-After-Ms": {v}}))
		if got < baseRetryDelay-baseRetryDelay/4 || got > baseRetryDelay {
			t.Errorf("delay with unusable Retry-After %q = %s, want backoff", v, got)
		}
	}
}

func TestRetryDelayBackoffBounds(t *testing.T) {
	t.Parallel()
	p := retryPolicy{baseDelay: baseRetryDelay, maxDelay: maxRetryDelay}
	for _, n := range []int{0, 1, 2, 3, 4, 5, 6, 7, 10, 30, 62, 63, 64, 100} {
		want := maxRetryDelay
		if n < 20 && baseRetryDelay<<n < maxRetryDelay {
			want = baseRetryDelay << n
		}
		for range 200 {
			for _, res := range []*http.Response{nil, rtResponse(http.StatusServiceUnavailable, nil)} {
				got := p.delay(n, res)
				if got > want || got < want-want/4 {
					t.Fatalf("delay(%d) = %s, want within [%s, %s]", n, got, want-want/4, want)
				}
			}
		}
	}
	// The sequence grows: 250ms, 500ms, 1s, ... before the jitter.
	if d := p.delay(2, nil); d < 750*time.Millisecond {
		t.Fatalf("delay(2) = %s", d)
	}
}

// rtFakeNext serves a scripted sequence of answers and counts the attempts.
type rtFakeNext struct {
	mu       sync.Mutex
	attempts int
	bodies   []string
	closed   int
	answer   func(attempt int, req *http.Request) (*http.Response, error)
}

type rtCloseCounter struct {
	io.Reader
	f *rtFakeNext
}

func (c rtCloseCounter) Close() error {
	c.f.mu.Lock()
	c.f.closed++
	c.f.mu.Unlock()
	return nil
}

func (f *rtFakeNext) next(req *http.Request) (*http.Response, error) {
	f.mu.Lock()
	n := f.attempts
	f.attempts++
	if req.Body != nil {
		b, _ := io.ReadAll(req.Body)
		f.bodies = append(f.bodies, string(b))
	}
	f.mu.Unlock()
	res, err := f.answer(n, req)
	if res != nil {
		res.Body = rtCloseCounter{res.Body, f}
	}
	return res, err
}

func rtNewRequest(t *testing.T, ctx context.Context, body string) *http.Request {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = bytes.NewReader([]byte(body))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://cf.invalid/client/v4/accounts/a/x", r)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func rtRunMiddleware(p retryPolicy, req *http.Request, f *rtFakeNext) (*http.Response, error) {
	return p.middleware()(req, f.next)
}

func TestRetryMiddlewareRetriesRateLimitWithRetryAfter(t *testing.T) {
	t.Parallel()
	rec := &rtRecordingSleep{}
	f := &rtFakeNext{answer: func(n int, _ *http.Request) (*http.Response, error) {
		if n < 2 {
			return rtResponse(http.StatusTooManyRequests, http.Header{"Retry-After": {"2"}}), nil
		}
		return rtResponse(http.StatusOK, nil), nil
	}}
	res, err := rtRunMiddleware(rtPolicy(4, rec), rtNewRequest(t, context.Background(), `{"title":"x"}`), f)
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("= %v, %v", res, err)
	}
	if f.attempts != 3 {
		t.Fatalf("attempts = %d, want 3", f.attempts)
	}
	if len(rec.waits) != 2 || rec.waits[0] != 2*time.Second || rec.waits[1] != 2*time.Second {
		t.Fatalf("waits = %v, want the server's 2s twice", rec.waits)
	}
	// The body is sent again on every attempt, and the retried responses were drained and closed.
	for i, b := range f.bodies {
		if b != `{"title":"x"}` {
			t.Fatalf("attempt %d body = %q", i, b)
		}
	}
	// Every response body was read and closed by the loop (the caller gets a buffered copy).
	if f.closed != 3 {
		t.Fatalf("closed %d responses, want 3", f.closed)
	}
	if b, _ := io.ReadAll(res.Body); string(b) != `{}` {
		t.Fatalf("body = %q", b)
	}
	_ = res.Body.Close()
}

func TestRetryMiddlewareServerErrorsUseBackoff(t *testing.T) {
	t.Parallel()
	rec := &rtRecordingSleep{}
	f := &rtFakeNext{answer: func(int, *http.Request) (*http.Response, error) {
		return rtResponse(http.StatusBadGateway, nil), nil
	}}
	_, err := rtRunMiddleware(rtPolicy(3, rec), rtNewRequest(t, context.Background(), ""), f)
	var gaveUp *exhaustedError
	if !errors.As(err, &gaveUp) || gaveUp.status != http.StatusBadGateway || gaveUp.attempts != 4 {
		t.Fatalf("after the retries the last answer is reported with the attempts: %v", err)
	}
	if !strings.Contains(err.Error(), "answered HTTP 502 Bad Gateway; giving up after 4 attempt(s) in") || !strings.Contains(err.Error(), "(max_retries = 3)") {
		t.Fatalf("error = %v", err)
	}
	if f.attempts != 4 || len(rec.waits) != 3 {
		t.Fatalf("attempts %d waits %v", f.attempts, rec.waits)
	}
	for i, w := range rec.waits {
		d := baseRetryDelay << i
		if w > d || w < d-d/4 {
			t.Fatalf("wait %d = %s, want within [%s, %s]", i, w, d-d/4, d)
		}
	}
}

func TestRetryMiddlewareTransportErrors(t *testing.T) {
	t.Parallel()
	rec := &rtRecordingSleep{}
	boom := errors.New("connection reset by peer")
	f := &rtFakeNext{answer: func(int, *http.Request) (*http.Response, error) { return nil, boom }}
	_, err := rtRunMiddleware(rtPolicy(2, rec), rtNewRequest(t, context.Background(), ""), f)
	if !errors.Is(err, boom) {
		t.Fatalf("the transport error must be wrapped: %v", err)
	}
	if !strings.Contains(err.Error(), "giving up after 3 attempt(s)") || !strings.Contains(err.Error(), "max_retries = 2") {
		t.Fatalf("error = %v", err)
	}
	if f.attempts != 3 || len(rec.waits) != 2 {
		t.Fatalf("attempts %d waits %v", f.attempts, rec.waits)
	}
}

func TestRetryMiddlewareNoRetry(t *testing.T) {
	t.Parallel()
	for _, status := range []int{200, 201, 204, 304, 400, 401, 403, 404, 409, 412, 413, 414, 422} {
		rec := &rtRecordingSleep{}
		f := &rtFakeNext{answer: func(int, *http.Request) (*http.Response, error) {
			return rtResponse(status, http.Header{"Retry-After": {"0"}}), nil
		}}
		res, err := rtRunMiddleware(rtPolicy(5, rec), rtNewRequest(t, context.Background(), ""), f)
		if err != nil || res == nil || res.StatusCode != status || f.attempts != 1 || len(rec.waits) != 0 {
			t.Fatalf("status %d: attempts %d, waits %v, %v", status, f.attempts, rec.waits, err)
		}
		if b, _ := io.ReadAll(res.Body); string(b) != `{}` {
			t.Fatalf("status %d: the body must be readable, got %q", status, b)
		}
		_ = res.Body.Close()
	}
}

func TestRetryMiddlewareMaxRetriesZero(t *testing.T) {
	t.Parallel()
	rec := &rtRecordingSleep{}
	f := &rtFakeNext{answer: func(int, *http.Request) (*http.Response, error) {
		return rtResponse(http.StatusServiceUnavailable, nil), nil
	}}
	_, err := rtRunMiddleware(rtPolicy(0, rec), rtNewRequest(t, context.Background(), ""), f)
	if !strings.Contains(fmt.Sprint(err), "giving up after 1 attempt(s)") || f.attempts != 1 || len(rec.waits) != 0 {
		t.Fatalf("attempts %d, waits %v, %v", f.attempts, rec.waits, err)
	}
}

func TestRetryMiddlewareBudget(t *testing.T) {
	t.Parallel()
	rec := &rtRecordingSleep{}
	p := rtPolicy(10, rec)
	p.budget = 5 * time.Second
	f := &rtFakeNext{answer: func(int, *http.Request) (*http.Response, error) {
		return rtResponse(http.StatusTooManyRequests, http.Header{"Retry-After": {"30"}}), nil
	}}
	_, err := rtRunMiddleware(p, rtNewRequest(t, context.Background(), ""), f)
	// The capped 20 s wait does not fit in a 5 s budget: no retry at all, and the error says why.
	if f.attempts != 1 || len(rec.waits) != 0 {
		t.Fatalf("attempts %d, waits %v, %v", f.attempts, rec.waits, err)
	}
	if !strings.Contains(fmt.Sprint(err), "giving up after 1 attempt(s) in") ||
		!strings.Contains(fmt.Sprint(err), "max_retries = 10; the next wait, 20s, would pass the retry budget of 5s") {
		t.Fatalf("error = %v", err)
	}

	// Waits that fit are taken until the budget is spent.
	rec = &rtRecordingSleep{}
	p = rtPolicy(10, rec)
	p.budget = 50 * time.Millisecond
	p.sleep = func(ctx context.Context, d time.Duration) error {
		_ = rec.sleep(ctx, d)
		return sleepCtx(ctx, d)
	}
	f = &rtFakeNext{answer: func(int, *http.Request) (*http.Response, error) {
		return rtResponse(http.StatusServiceUnavailable, http.Header{"Retry-After-Ms": {"20"}}), nil
	}}
	start := time.Now()
	_, err = rtRunMiddleware(p, rtNewRequest(t, context.Background(), ""), f)
	if !strings.Contains(fmt.Sprint(err), "answered HTTP 503") {
		t.Fatalf("error = %v", err)
	}
	if f.attempts < 2 || f.attempts > 3 || time.Since(start) > 5*time.Second {
		t.Fatalf("a 50ms budget with 20ms waits made %d attempts in %s", f.attempts, time.Since(start))
	}
}

func TestRetryMiddlewareParentCancelled(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	p := rtPolicy(5, &rtRecordingSleep{})
	p.sleep = func(ctx context.Context, d time.Duration) error {
		cancel()
		return sleepCtx(ctx, time.Hour)
	}
	f := &rtFakeNext{answer: func(int, *http.Request) (*http.Response, error) {
		return rtResponse(http.StatusServiceUnavailable, nil), nil
	}}
	_, err := rtRunMiddleware(p, rtNewRequest(t, ctx, ""), f)
	if !errors.Is(err, context.Canceled) || f.attempts != 1 {
		t.Fatalf("attempts %d, %v", f.attempts, err)
	}

	// A parent cancelled during an attempt ends the call with the parent's error.
	ctx2, cancel2 := context.WithCancel(context.Background())
	f = &rtFakeNext{answer: func(_ int, req *http.Request) (*http.Response, error) {
		cancel2()
		<-req.Context().Done()
		return nil, req.Context().Err()
	}}
	_, err = rtRunMiddleware(rtPolicy(5, &rtRecordingSleep{}), rtNewRequest(t, ctx2, ""), f)
	if !errors.Is(err, context.Canceled) || f.attempts != 1 {
		t.Fatalf("attempts %d, %v", f.attempts, err)
	}
}

func TestRetryMiddlewareAttemptTimeout(t *testing.T) {
	t.Parallel()
	rec := &rtRecordingSleep{}
	p := rtPolicy(1, rec)
	p.attemptTimout = 20 * time.Millisecond
	f := &rtFakeNext{answer: func(_ int, req *http.Request) (*http.Response, error) {
		<-req.Context().Done()
		return nil, req.Context().Err()
	}}
	start := time.Now()
	_, err := rtRunMiddleware(p, rtNewRequest(t, context.Background(), ""), f)
	if err == nil || !strings.Contains(err.Error(), "no response within request_timeout (20ms)") || !strings.Contains(err.Error(), "giving up after 2 attempt(s)") {
		t.Fatalf("error = %v", err)
	}
	if !strings.Contains(err.Error(), "POST http://cf.invalid/client/v4/accounts/a/x") {
		t.Fatalf("the error must name the request: %v", err)
	}
	if f.attempts != 2 || time.Since(start) > 5*time.Second {
		t.Fatalf("attempts %d in %s", f.attempts, time.Since(start))
	}
}

func TestSleepCtx(t *testing.T) {
	t.Parallel()
	if err := sleepCtx(context.Background(), 0); err != nil {
		t.Fatal(err)
	}
	if err := sleepCtx(context.Background(), time.Millisecond); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := sleepCtx(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled sleep = %v", err)
	}
	if err := sleepCtx(ctx, 0); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled zero sleep = %v", err)
	}
}

// TestRetryMiddlewareHugeRetryAfter: a Retry-After too large to represent must still be
// capped at maxDelay (and so exceed a small budget), not wrap around to an immediate retry.
func TestRetryMiddlewareHugeRetryAfter(t *testing.T) {
	t.Parallel()
	rec := &rtRecordingSleep{}
	p := rtPolicy(5, rec)
	p.budget = 5 * time.Second
	f := &rtFakeNext{answer: func(int, *http.Request) (*http.Response, error) {
		return rtResponse(http.StatusTooManyRequests, http.Header{"Retry-After": {"99999999999"}}), nil
	}}
	_, err := rtRunMiddleware(p, rtNewRequest(t, context.Background(), ""), f)
	if !strings.Contains(fmt.Sprint(err), "answered HTTP 429") {
		t.Fatalf("error = %v", err)
	}
	if f.attempts != 1 || len(rec.waits) != 0 {
		t.Fatalf("attempts %d, waits %v: want 1 attempt and no wait", f.attempts, rec.waits)
	}
}

// rtSent tells the retry loop's trace that the request headers went out, as the transport does.
func rtSent(req *http.Request) {
	if tr := httptrace.ContextClientTrace(req.Context()); tr != nil && tr.WroteHeaders != nil {
		tr.WroteHeaders()
	}
}

// rtTruncated is a response whose body breaks off as a connection closed mid-body does.
func rtTruncated(status int) *http.Response {
	return &http.Response{StatusCode: status, Header: http.Header{}, Body: io.NopCloser(io.MultiReader(strings.NewReader(`{"resu`), rtErrReader{io.ErrUnexpectedEOF}))}
}

type rtErrReader struct{ err error }

func (r rtErrReader) Read([]byte) (int, error) { return 0, r.err }

func rtRequest(t *testing.T, ctx context.Context, method string) *http.Request {
	t.Helper()
	req := rtNewRequest(t, ctx, `{"title":"x"}`)
	req.Method = method
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(`{"title":"x"}`)), nil }
	return req
}

// Idempotent requests are repeated after a body cut short and after a connection lost once
// the request was sent.
func TestRetryMiddlewareIdempotentAfterSending(t *testing.T) {
	t.Parallel()
	for _, method := range []string{http.MethodGet, http.MethodHead, http.MethodPut, http.MethodDelete, http.MethodOptions} {
		for name, fail := range map[string]func() (*http.Response, error){
			"truncated body": func() (*http.Response, error) { return rtTruncated(http.StatusOK), nil },
			"dropped":        func() (*http.Response, error) { return nil, io.EOF },
		} {
			rec := &rtRecordingSleep{}
			f := &rtFakeNext{answer: func(n int, req *http.Request) (*http.Response, error) {
				rtSent(req)
				if n == 0 {
					return fail()
				}
				return rtResponse(http.StatusOK, nil), nil
			}}
			res, err := rtRunMiddleware(rtPolicy(2, rec), rtRequest(t, context.Background(), method), f)
			if err != nil || f.attempts != 2 || len(rec.waits) != 1 {
				t.Fatalf("%s %s: attempts %d, waits %v, %v", method, name, f.attempts, rec.waits, err)
			}
			if b, _ := io.ReadAll(res.Body); string(b) != `{}` {
				t.Fatalf("%s %s: body %q", method, name, b)
			}
		}
	}
}

// A POST or PATCH that was sent and got no complete answer is not repeated: the error says the
// outcome is unknown.
func TestRetryMiddlewareUnknownOutcome(t *testing.T) {
	t.Parallel()
	for _, method := range []string{http.MethodPost, http.MethodPatch} {
		cases := map[string]struct {
			answer     func(*http.Request) (*http.Response, error)
			wantStatus int
			wantText   string
		}{
			"truncated body": {func(*http.Request) (*http.Response, error) { return rtTruncated(http.StatusOK), nil }, http.StatusOK,
				"the API answered HTTP 200 but the response was cut short (reading the response: unexpected EOF)"},
			"dropped": {func(*http.Request) (*http.Response, error) { return nil, io.EOF }, 0,
				"the connection failed before an answer arrived (EOF)"},
			"timed out": {func(req *http.Request) (*http.Response, error) {
				<-req.Context().Done()
				return nil, req.Context().Err()
			}, 0, "no response within request_timeout (20ms)"},
		}
		for name, tc := range cases {
			rec := &rtRecordingSleep{}
			f := &rtFakeNext{answer: func(_ int, req *http.Request) (*http.Response, error) {
				rtSent(req)
				return tc.answer(req)
			}}
			p := rtPolicy(4, rec)
			p.attemptTimout = 20 * time.Millisecond
			_, err := rtRunMiddleware(p, rtRequest(t, context.Background(), method), f)
			var unknown *unknownOutcomeError
			if !errors.As(err, &unknown) || unknown.status != tc.wantStatus {
				t.Fatalf("%s %s: want an unknown outcome with status %d, got %v", method, name, tc.wantStatus, err)
			}
			if f.attempts != 1 || len(rec.waits) != 0 {
				t.Fatalf("%s %s: a request with an unknown outcome was repeated (%d attempts)", method, name, f.attempts)
			}
			for _, want := range []string{method + " http://cf.invalid/client/v4/accounts/a/x: outcome unknown", tc.wantText, "It was not repeated"} {
				if !strings.Contains(err.Error(), want) {
					t.Fatalf("%s %s: error %q lacks %q", method, name, err, want)
				}
			}
			if !IsUnknownOutcome(wrap("creating thing", err)) {
				t.Fatalf("%s %s: wrap must classify it as KindUnknownOutcome", method, name)
			}
		}
	}
}

// A POST is repeated when it provably never left (no headers written: dial, DNS, TLS), when
// the server answered 429 or 5xx (even with the body cut short), and when it is marked safe.
func TestRetryMiddlewarePostRetriedWhenSafe(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		ctx    func(context.Context) context.Context
		answer func(*http.Request) (*http.Response, error)
	}{
		"not sent": {nil, func(*http.Request) (*http.Response, error) {
			return nil, errors.New("dial tcp 127.0.0.1:1: connect: connection refused")
		}},
		"503": {nil, func(req *http.Request) (*http.Response, error) {
			rtSent(req)
			return rtResponse(http.StatusServiceUnavailable, nil), nil
		}},
		"503 cut short": {nil, func(req *http.Request) (*http.Response, error) {
			rtSent(req)
			return rtTruncated(http.StatusServiceUnavailable), nil
		}},
		"marked safe to repeat": {safeToRepeat, func(req *http.Request) (*http.Response, error) { rtSent(req); return rtTruncated(http.StatusOK), nil }},
	}
	for name, tc := range cases {
		ctx := context.Background()
		if tc.ctx != nil {
			ctx = tc.ctx(ctx)
		}
		rec := &rtRecordingSleep{}
		f := &rtFakeNext{answer: func(n int, req *http.Request) (*http.Response, error) {
			if n == 0 {
				return tc.answer(req)
			}
			return rtResponse(http.StatusCreated, nil), nil
		}}
		res, err := rtRunMiddleware(rtPolicy(2, rec), rtRequest(t, ctx, http.MethodPost), f)
		if err != nil || res.StatusCode != http.StatusCreated || f.attempts != 2 {
			t.Fatalf("%s: attempts %d, %v", name, f.attempts, err)
		}
		if f.bodies[1] != `{"title":"x"}` {
			t.Fatalf("%s: the retry sent body %q", name, f.bodies[1])
		}
	}
}

// When retries run out the error says how many attempts were made over how long, for a body
// cut short as for any other failure, and carries the last answer's code.
func TestRetryMiddlewareExhaustedSaysHowHardItTried(t *testing.T) {
	t.Parallel()
	rec := &rtRecordingSleep{}
	f := &rtFakeNext{answer: func(_ int, req *http.Request) (*http.Response, error) {
		rtSent(req)
		return rtTruncated(http.StatusOK), nil
	}}
	_, err := rtRunMiddleware(rtPolicy(3, rec), rtRequest(t, context.Background(), http.MethodGet), f)
	want := "giving up after 4 attempt(s) in "
	if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "(max_retries = 3): GET http://cf.invalid/client/v4/accounts/a/x: reading the response: unexpected EOF") {
		t.Fatalf("error = %v", err)
	}
	wrapped := clAsError(t, wrap("reading thing", err))
	if wrapped.Kind != KindUnavailable || wrapped.Attempts != 4 || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("wrapped = %+v", wrapped)
	}

	f = &rtFakeNext{answer: func(int, *http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: http.StatusServiceUnavailable, Header: http.Header{},
			Body: io.NopCloser(strings.NewReader(`{"success":false,"errors":[{"code":10013,"message":"An unknown error has occurred"}]}`))}, nil
	}}
	_, err = rtRunMiddleware(rtPolicy(2, &rtRecordingSleep{}), rtRequest(t, context.Background(), http.MethodPost), f)
	e := clAsError(t, wrap(`creating KV namespace "x"`, err))
	if e.Kind != KindUnavailable || e.Status != 503 || e.Code != 10013 || e.Attempts != 3 {
		t.Fatalf("wrapped = %+v", e)
	}
	if msg := e.Error(); !strings.HasPrefix(msg, `creating KV namespace "x": Cloudflare API error 10013 (HTTP 503): An unknown error has occurred; giving up after 3 attempt(s) in `) ||
		!strings.HasSuffix(msg, "(max_retries = 2)") {
		t.Fatalf("message = %s", msg)
	}
}

// A body larger than the buffer streams through whole.
func TestRetryMiddlewareLargeBodyStreams(t *testing.T) {
	t.Parallel()
	big := bytes.Repeat([]byte("k"), maxBufferedBody+10)
	f := &rtFakeNext{answer: func(int, *http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: http.StatusOK, Header: http.Header{}, Body: io.NopCloser(bytes.NewReader(big))}, nil
	}}
	res, err := rtRunMiddleware(rtPolicy(2, &rtRecordingSleep{}), rtRequest(t, context.Background(), http.MethodGet), f)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(res.Body)
	if err != nil || !bytes.Equal(got, big) {
		t.Fatalf("read %d bytes of %d: %v", len(got), len(big), err)
	}
	if f.closed != 0 {
		t.Fatal("the streamed body was closed before the caller read it")
	}
	_ = res.Body.Close()
	if f.closed != 1 {
		t.Fatal("closing the streamed body must close the response")
	}
}
