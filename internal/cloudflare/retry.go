package cloudflare

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"

	"github.com/cloudflare/cloudflare-go/v7/option"
	"github.com/hashicorp/terraform-plugin-log/tflog"
)

// retryPolicy is our retry loop. The SDK's own (which also retries 409 conflicts and honours
// Retry-After without a cap) is switched off; this one retries transport failures, 429 and
// 5xx only, caps each wait, and stops when the total budget is spent.
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

func retryable(res *http.Response, err error) bool {
	if err != nil {
		return true
	}
	return res.StatusCode == http.StatusTooManyRequests || res.StatusCode >= 500
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

func (p retryPolicy) middleware() option.Middleware {
	return func(req *http.Request, next option.MiddlewareNext) (*http.Response, error) {
		start := time.Now()
		parent := req.Context()
		for attempt := 0; ; attempt++ {
			if attempt > 0 && req.GetBody != nil {
				body, err := req.GetBody()
				if err != nil {
					return nil, err
				}
				req.Body = body
			}
			ctx, cancel := context.WithTimeout(parent, p.attemptTimout)
			res, err := next(req.WithContext(ctx))
			if parent.Err() != nil {
				cancel()
				return nil, parent.Err()
			}
			if errors.Is(err, context.DeadlineExceeded) {
				err = fmt.Errorf("%s %s: no response within request_timeout (%s)", req.Method, req.URL.Redacted(), p.attemptTimout)
			}
			if !retryable(res, err) {
				res.Body = cancelOnClose{res.Body, cancel}
				return res, nil
			}
			wait := p.delay(attempt, res)
			if attempt >= p.maxRetries || time.Since(start)+wait > p.budget {
				if err != nil {
					cancel()
					return nil, fmt.Errorf("giving up after %d attempt(s) in %s (max_retries = %d): %w",
						attempt+1, time.Since(start).Round(time.Millisecond), p.maxRetries, err)
				}
				res.Body = cancelOnClose{res.Body, cancel}
				return res, nil
			}
			status := 0
			if res != nil {
				status = res.StatusCode
				_, _ = io.Copy(io.Discard, res.Body)
				_ = res.Body.Close()
			}
			cancel()
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
