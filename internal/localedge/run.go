package localedge

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// Defaults of the standalone local edge.
const (
	DefaultAPIListen = "127.0.0.1:8788"
	DefaultDataDir   = ".servicesdo-local"
	DefaultAccountID = "10ca1000000000000000000000000001"
	DefaultToken     = "local-dev-token"
	DefaultZoneID    = "10ca1000000000000000000000000002"
	DefaultZoneName  = "localhost"
)

// RunOptions configures the standalone local edge.
type RunOptions struct {
	APIListen string
	Config    Config
}

// Run serves the API until ctx is cancelled, then shuts down gracefully. It prints the
// environment a Terraform user exports to point the provider at it.
func Run(ctx context.Context, opts RunOptions, out io.Writer) error {
	srv, err := New(opts.Config)
	if err != nil {
		return err
	}
	defer srv.Close()
	ln, err := net.Listen("tcp", opts.APIListen)
	if err != nil {
		return fmt.Errorf("cannot listen on %s for the API (is another local edge running? choose another address with --api-listen): %w", opts.APIListen, err)
	}
	httpSrv := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	baseURL := "http://" + ln.Addr().String() + APIPrefix
	fmt.Fprintf(out, "servicesdo local edge: API on %s (data in %s)\n", baseURL, opts.Config.DataDir)
	fmt.Fprintf(out, "export CLOUDFLARE_API_BASE_URL=%s\n", baseURL)
	fmt.Fprintf(out, "export CLOUDFLARE_ACCOUNT_ID=%s\n", opts.Config.AccountID)
	fmt.Fprintf(out, "export CLOUDFLARE_API_TOKEN=%s\n", opts.Config.Token)
	for id := range opts.Config.Zones {
		fmt.Fprintf(out, "export CLOUDFLARE_ZONE_ID=%s\n", id)
		break
	}

	serveErr := make(chan error, 1)
	go func() { serveErr <- httpSrv.Serve(ln) }()
	select {
	case err := <-serveErr:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := httpSrv.Shutdown(shutdownCtx); err != nil {
		return err
	}
	if err := <-serveErr; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	fmt.Fprintln(out, "servicesdo local edge: stopped")
	return nil
}
