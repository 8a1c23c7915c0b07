// Package cloudflare is the provider's one boundary with the Cloudflare API: a narrow
// interface with exactly the operations the provider needs, implemented over
// cloudflare-go/v7, with typed errors and our own bounded retry policy.
package cloudflare

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/cloudflare/cloudflare-go/v7/durable_objects"
	"github.com/cloudflare/cloudflare-go/v7/kv"
	"github.com/cloudflare/cloudflare-go/v7/option"
	"github.com/cloudflare/cloudflare-go/v7/queues"
	"github.com/cloudflare/cloudflare-go/v7/r2"
	"github.com/cloudflare/cloudflare-go/v7/user"
	"github.com/cloudflare/cloudflare-go/v7/workers"
	"github.com/cloudflare/cloudflare-go/v7/workflows"
	"github.com/cloudflare/cloudflare-go/v7/zones"
)

// DefaultBaseURL is Cloudflare's API v4.
const DefaultBaseURL = "https://api.cloudflare.com/client/v4"

// Defaults of the retry policy.
const (
	DefaultMaxRetries     = 4
	DefaultRequestTimeout = 60 * time.Second
	maxRetryDelay         = 20 * time.Second
	baseRetryDelay        = 250 * time.Millisecond
)

// Config is everything the client needs; nothing is read from the environment here.
type Config struct {
	AccountID string
	APIToken  string
	// BaseURL defaults to DefaultBaseURL.
	BaseURL string
	// MaxRetries bounds the retries of one call (429, 5xx, transport failures).
	MaxRetries int
	// RequestTimeout bounds each attempt; the whole call gets (MaxRetries+1) of them.
	RequestTimeout time.Duration
	// HTTPClient replaces http.DefaultClient's transport, for tests.
	HTTPClient *http.Client
	// UserAgent identifies the provider and its version.
	UserAgent string
}

// API is every Cloudflare operation the provider performs.
type API interface {
	AccountID() string
	VerifyToken(ctx context.Context) error

	CreateKVNamespace(ctx context.Context, title string) (KVNamespace, error)
	GetKVNamespace(ctx context.Context, id string) (KVNamespace, error)
	ListKVNamespaces(ctx context.Context) ([]KVNamespace, error)
	RenameKVNamespace(ctx context.Context, id, title string) (KVNamespace, error)
	DeleteKVNamespace(ctx context.Context, id string) error
	ListKVKeys(ctx context.Context, namespaceID, prefix string) ([]KVKey, error)
	PutKVValue(ctx context.Context, namespaceID, key string, value []byte, metadata json.RawMessage) error
	GetKVValue(ctx context.Context, namespaceID, key string) ([]byte, error)
	DeleteKVKeys(ctx context.Context, namespaceID string, keys []string) error

	CreateR2Bucket(ctx context.Context, spec R2BucketSpec) (R2Bucket, error)
	GetR2Bucket(ctx context.Context, name, jurisdiction string) (R2Bucket, error)
	SetR2StorageClass(ctx context.Context, name, jurisdiction, storageClass string) (R2Bucket, error)
	DeleteR2Bucket(ctx context.Context, name, jurisdiction string) error
	ListR2ObjectKeys(ctx context.Context, bucket, jurisdiction string) ([]string, error)
	PutR2Object(ctx context.Context, bucket, jurisdiction, key string, body []byte) error
	DeleteR2Object(ctx context.Context, bucket, jurisdiction, key string) error

	GetZone(ctx context.Context, zoneID string) (Zone, error)

	WorkersAPI
	WorkflowsAPI
	QueuesAPI
	AnalyticsAPI
}

// Client implements API over cloudflare-go/v7.
type Client struct {
	accountID      string
	baseURL        string
	kv             *kv.KVService
	r2             *r2.R2Service
	user           *user.UserService
	workers        *workers.WorkerService
	durableObjects *durable_objects.DurableObjectService
	zones          *zones.ZoneService
	workflows      *workflows.WorkflowService
	queues         *queues.QueueService
	// raw sends requests outside the SDK's services (GraphQL) with the same options.
	raw rawClient
}

var _ API = (*Client)(nil)

// ValidateBaseURL checks that u is an absolute http(s) URL.
func ValidateBaseURL(u string) error {
	parsed, err := url.Parse(u)
	if err != nil {
		return err
	}
	if parsed.Scheme != "http" && parsed.Scheme != "https" {
		return fmt.Errorf("the scheme must be http or https, got %q", parsed.Scheme)
	}
	if parsed.Host == "" {
		return fmt.Errorf("the URL has no host")
	}
	return nil
}

// New builds a client. The SDK's services are built directly with explicit options instead
// of through cloudflare.NewClient, which would silently add credentials and a base URL from
// CLOUDFLARE_* environment variables.
func New(cfg Config) (*Client, error) {
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultBaseURL
	}
	if err := ValidateBaseURL(cfg.BaseURL); err != nil {
		return nil, fmt.Errorf("invalid base URL %q: %w", cfg.BaseURL, err)
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = DefaultRequestTimeout
	}
	if cfg.MaxRetries < 0 {
		cfg.MaxRetries = 0
	}
	httpClient := cfg.HTTPClient
	if httpClient == nil {
		httpClient = &http.Client{Transport: &http.Transport{
			Proxy:               http.ProxyFromEnvironment,
			ForceAttemptHTTP2:   true,
			MaxIdleConnsPerHost: 16,
			IdleConnTimeout:     90 * time.Second,
			TLSHandshakeTimeout: 10 * time.Second,
		}}
	}
	policy := retryPolicy{
		maxRetries:    cfg.MaxRetries,
		attemptTimout: cfg.RequestTimeout,
		budget:        time.Duration(cfg.MaxRetries+1) * cfg.RequestTimeout,
		baseDelay:     baseRetryDelay,
		maxDelay:      maxRetryDelay,
		sleep:         sleepCtx,
	}
	baseURL := strings.TrimSuffix(cfg.BaseURL, "/") + "/"
	retry := policy.middleware()
	opts := []option.RequestOption{
		option.WithHTTPClient(httpClient),
		option.WithBaseURL(baseURL),
		option.WithAPIToken(cfg.APIToken),
		option.WithMaxRetries(0),
		option.WithMiddleware(retry),
	}
	if cfg.UserAgent != "" {
		opts = append(opts, option.WithHeader("User-Agent", cfg.UserAgent))
	}
	return &Client{
		accountID:      cfg.AccountID,
		baseURL:        cfg.BaseURL,
		kv:             kv.NewKVService(opts...),
		r2:             r2.NewR2Service(opts...),
		user:           user.NewUserService(opts...),
		workers:        workers.NewWorkerService(opts...),
		durableObjects: durable_objects.NewDurableObjectService(opts...),
		zones:          zones.NewZoneService(opts...),
		workflows:      workflows.NewWorkflowService(opts...),
		queues:         queues.NewQueueService(opts...),
		raw:            rawClient{http: httpClient, baseURL: baseURL, token: cfg.APIToken, userAgent: cfg.UserAgent, retry: retry},
	}, nil
}

// AccountID is the account every account-scoped call uses.
func (c *Client) AccountID() string { return c.accountID }

// VerifyToken checks the token against the API.
func (c *Client) VerifyToken(ctx context.Context) error {
	_, err := c.user.Tokens.Verify(ctx)
	return wrap("verifying api_token at "+c.baseURL, err)
}

// escape makes a path parameter one segment: the SDK inserts parameters unescaped.
func escape(s string) string { return url.PathEscape(s) }
