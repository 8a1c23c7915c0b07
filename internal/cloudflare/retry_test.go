package cloudflare

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
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
	if f.closed != 2 {
		t.Fatalf("closed %d retried responses, want 2", f.closed)
	}
	_ = res.Body.Close()
}

func TestRetryMiddlewareServerErrorsUseBackoff(t *testing.T) {
	t.Parallel()
	rec := &rtRecordingSleep{}
	f := &rtFakeNext{answer: func(int, *http.Request) (*http.Response, error) {
		return rtResponse(http.StatusBadGateway, nil), nil
	}}
	res, err := rtRunMiddleware(rtPolicy(3, rec), rtNewRequest(t, context.Background(), ""), f)
	if err != nil || res.StatusCode != http.StatusBadGateway {
		t.Fatalf("after the retries the last response is returned: %v, %v", res, err)
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
		if err != nil || res.StatusCode != status || f.attempts != 1 || len(rec.waits) != 0 {
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
	res, err := rtRunMiddleware(rtPolicy(0, rec), rtNewRequest(t, context.Background(), ""), f)
	if err != nil || res.StatusCode != http.StatusServiceUnavailable || f.attempts != 1 || len(rec.waits) != 0 {
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
	res, err := rtRunMiddleware(p, rtNewRequest(t, context.Background(), ""), f)
	// The capped 20 s wait does not fit in a 5 s budget: no retry at all.
	if err != nil || res.StatusCode != http.StatusTooManyRequests || f.attempts != 1 || len(rec.waits) != 0 {
		t.Fatalf("attempts %d, waits %v, %v", f.attempts, rec.waits, err)
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
	res, err = rtRunMiddleware(p, rtNewRequest(t, context.Background(), ""), f)
	if err != nil || res.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("= %v, %v", res, err)
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
	res, err := rtRunMiddleware(p, rtNewRequest(t, context.Background(), ""), f)
	if err != nil || res.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("= %v, %v", res, err)
	}
	if f.attempts != 1 || len(rec.waits) != 0 {
		t.Fatalf("attempts %d, waits %v: want 1 attempt and no wait", f.attempts, rec.waits)
	}
}
