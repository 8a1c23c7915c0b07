package cloudflare

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"github.com/cloudflare/cloudflare-go/v7/option"
)

// rawClient sends the requests the SDK has no service for (GraphQL analytics) with the same
// HTTP client, credentials and retry policy as the SDK's services. The SDK's own
// cloudflare.Client could send them, but it holds every service of the SDK, and linking it
// keeps all their code: it doubled the provider binary and added 10 MB to the memory of
// every provider process Terraform starts.
type rawClient struct {
	http      *http.Client
	baseURL   string // ends with "/"
	token     string
	userAgent string
	retry     option.Middleware
}

// post sends in as JSON to path and decodes the answer into out.
func (c rawClient) post(ctx context.Context, path string, in, out any) error {
	payload, err := json.Marshal(in)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.baseURL+path, bytes.NewReader(payload))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if c.userAgent != "" {
		req.Header.Set("User-Agent", c.userAgent)
	}
	res, err := c.retry(req, c.http.Do)
	if err != nil {
		return err
	}
	defer func() { _ = res.Body.Close() }()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return fmt.Errorf("reading the response: %w", err)
	}
	if res.StatusCode >= http.StatusBadRequest {
		code, message := firstAPIError(body)
		return &statusError{status: res.StatusCode, code: code, message: message, method: req.Method, url: req.URL.Redacted()}
	}
	return json.Unmarshal(body, out)
}

// statusError is an API answer with an error status to a request sent by rawClient.
type statusError struct {
	status  int
	code    int64
	message string
	method  string
	url     string
}

func (e *statusError) Error() string {
	if e.message == "" {
		return fmt.Sprintf("%s %s: HTTP %d", e.method, e.url, e.status)
	}
	return fmt.Sprintf("%s %s: HTTP %d: %d %s", e.method, e.url, e.status, e.code, e.message)
}
