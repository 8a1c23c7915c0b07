// Package standalone runs the local edge as a program: the Cloudflare API on one address and,
// unless disabled, the deployed Workers on another.
package standalone

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"time"

	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge"
	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/edge"
	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/runtime"
)

// Defaults of the standalone local edge.
const (
	DefaultAPIListen  = "127.0.0.1:8788"
	DefaultEdgeListen = "127.0.0.1:8787"
	DefaultDataDir    = ".servicesdo-local"
	DefaultAccountID  = "10ca1000000000000000000000000001"
	DefaultToken      = "local-dev-token"
	DefaultZoneID     = "10ca1000000000000000000000000002"
	DefaultZoneName   = "localhost"
)

// Options configures the standalone local edge.
type Options struct {
	APIListen string
	// EdgeListen is where Workers serve; empty runs the API only.
	EdgeListen string
	Config     localedge.Config
	// RuntimeDir holds the Node program (see runtime.NodeDir).
	RuntimeDir string
	// Faults are injected into every matching API request (the --faults flag).
	Faults []localedge.Fault
}

// Run serves until ctx is cancelled, then shuts down gracefully. It prints the environment a
// Terraform user exports to point the provider at it.
func Run(ctx context.Context, opts Options, out io.Writer) error {
	srv, err := localedge.New(opts.Config)
	if err != nil {
		return err
	}
	defer srv.Close()
	for _, f := range opts.Faults {
		srv.InjectFault(f)
	}
	apiLn, err := net.Listen("tcp", opts.APIListen)
	if err != nil {
		return fmt.Errorf("cannot listen on %s for the API (is another local edge running? choose another address with --api-listen): %w", opts.APIListen, err)
	}
	servers := []*http.Server{{Handler: srv, ReadHeaderTimeout: 10 * time.Second}}
	listeners := []net.Listener{apiLn}

	var workers *edge.Edge
	if opts.EdgeListen != "" {
		edgeLn, err := net.Listen("tcp", opts.EdgeListen)
		if err != nil {
			_ = apiLn.Close()
			return fmt.Errorf("cannot listen on %s for Workers (is another local edge running? choose another address with --listen): %w", opts.EdgeListen, err)
		}
		// The API must answer before the runtime starts: Workers' KV and R2 bindings call it. A
		// deploy made before the edge follows the API is in the snapshot it starts from.
		go func() { _ = servers[0].Serve(apiLn) }()
		workers, err = edge.Start(ctx, edge.Config{
			API: srv,
			Runtime: runtime.Options{
				NodeDir: opts.RuntimeDir, PersistDir: filepath.Join(opts.Config.DataDir, "runtime"),
				APIAddress: apiLn.Addr().String(), APIToken: opts.Config.Token, AccountID: opts.Config.AccountID, Log: out,
			},
			Log: out,
		})
		if err != nil {
			_ = servers[0].Close()
			_ = edgeLn.Close()
			return err
		}
		defer workers.Close()
		servers = append(servers, &http.Server{Handler: workers, ReadHeaderTimeout: 10 * time.Second})
		listeners = append(listeners, edgeLn)
	}

	baseURL := "http://" + apiLn.Addr().String() + localedge.APIPrefix
	fmt.Fprintf(out, "servicesdo local edge: API on %s (data in %s)\n", baseURL, opts.Config.DataDir)
	if workers != nil {
		port := portOf(listeners[1].Addr())
		fmt.Fprintf(out, "servicesdo local edge: Workers on http://%s (workers.dev: http://<script>%s:%s/", listeners[1].Addr(), edge.WorkersDevSuffix, port)
		if snap, err := srv.Snapshot(); err == nil && snap.WorkersSubdomain != "" {
			fmt.Fprintf(out, ", or Host <script>.%s.workers.dev", snap.WorkersSubdomain)
		}
		fmt.Fprintf(out, "; fire a cron trigger now: http://<script>%s:%s/__scheduled?cron=<expression>)\n", edge.WorkersDevSuffix, port)
	}
	if len(opts.Faults) > 0 {
		fmt.Fprintf(out, "servicesdo local edge: injecting %d kinds of faults into API requests\n", len(opts.Faults))
	}
	fmt.Fprintf(out, "export CLOUDFLARE_API_BASE_URL=%s\n", baseURL)
	fmt.Fprintf(out, "export CLOUDFLARE_ACCOUNT_ID=%s\n", opts.Config.AccountID)
	fmt.Fprintf(out, "export CLOUDFLARE_API_TOKEN=%s\n", opts.Config.Token)
	for id := range opts.Config.Zones {
		fmt.Fprintf(out, "export CLOUDFLARE_ZONE_ID=%s\n", id)
		break
	}

	serveErr := make(chan error, len(servers))
	for i, s := range servers {
		if i == 0 && workers != nil {
			continue // already serving
		}
		go func(s *http.Server, ln net.Listener) { serveErr <- s.Serve(ln) }(s, listeners[i])
	}
	select {
	case err := <-serveErr:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for i := len(servers) - 1; i >= 0; i-- {
		if err := servers[i].Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
			return err
		}
	}
	fmt.Fprintln(out, "servicesdo local edge: stopped")
	return nil
}

func portOf(addr net.Addr) string {
	_, port, _ := net.SplitHostPort(addr.String())
	return port
}
