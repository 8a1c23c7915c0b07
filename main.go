// Command terraform-provider-servicesdo serves the servicesdo Terraform provider, and with
// the `local` subcommand runs the local edge (a local Cloudflare API).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"

	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge"
	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/api"
	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/standalone"
	"github.com/dot-do/terraform-provider-servicesdo/internal/memlimit"
	"github.com/dot-do/terraform-provider-servicesdo/internal/provider"
	"github.com/dot-do/terraform-provider-servicesdo/internal/selfprofile"
)

// version is set by goreleaser.
var version = "dev"

func main() {
	if len(os.Args) > 1 && os.Args[1] == "local" {
		if err := runLocal(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "error:", err)
			os.Exit(1)
		}
		return
	}

	var debug bool
	flag.BoolVar(&debug, "debug", false, "run the provider with support for debuggers like delve")
	flag.Parse()
	quietSDKLogs()
	memlimit.Start() // for the life of the process
	stopProfile := selfprofile.Start()
	err := providerserver.Serve(context.Background(), provider.New(version), providerserver.ServeOpts{
		Address: "registry.terraform.io/dot-do/servicesdo",
		Debug:   debug,
	})
	stopProfile()
	if err != nil {
		log.Fatal(err)
	}
}

// sdkLogLevels are the plugin SDK's loggers: the root one, the framework's and the protocol's.
var sdkLogLevels = []string{"TF_LOG_SDK", "TF_LOG_SDK_FRAMEWORK", "TF_LOG_SDK_PROTO"}

// quietSDKLogs turns the plugin SDK's loggers off when the user asked for no logs at all.
// Terraform hands the provider its environment, and without any TF_LOG* the SDK would still
// format every trace line (tens of thousands per plan of many resources) for Terraform to
// parse and discard. Any TF_LOG, TF_LOG_PROVIDER* or TF_LOG_SDK* leaves logging as the SDK
// sets it, so TF_LOG=trace shows everything exactly as before.
func quietSDKLogs() {
	for _, kv := range os.Environ() {
		name, value, _ := strings.Cut(kv, "=")
		if value != "" && (name == "TF_LOG" || strings.HasPrefix(name, "TF_LOG_PROVIDER") || strings.HasPrefix(name, "TF_LOG_SDK")) {
			return
		}
	}
	for _, name := range sdkLogLevels {
		_ = os.Setenv(name, "off")
	}
}

func runLocal(args []string) error {
	fs := flag.NewFlagSet("local", flag.ContinueOnError)
	apiListen := fs.String("api-listen", standalone.DefaultAPIListen, "address of the local Cloudflare API")
	listen := fs.String("listen", standalone.DefaultEdgeListen, "address where deployed Workers serve HTTP")
	apiOnly := fs.Bool("api-only", false, "run the API without the Workers runtime (no Node.js needed)")
	dataDir := fs.String("data-dir", standalone.DefaultDataDir, "directory that keeps the local edge's state across restarts")
	accountID := fs.String("account-id", standalone.DefaultAccountID, "the one account id the local API serves")
	token := fs.String("token", standalone.DefaultToken, "the one API token the local API accepts")
	zoneID := fs.String("zone-id", standalone.DefaultZoneID, "id of the local zone (for Worker routes)")
	zoneName := fs.String("zone-name", standalone.DefaultZoneName, "name of the local zone")
	runtimeDir := fs.String("runtime-dir", "", "directory of the Workers runtime (its Node program and node_modules); default: found from the working directory")
	subdomain := fs.String("workers-subdomain", localedge.DefaultWorkersSubdomain, "workers.dev subdomain a fresh data directory starts with (<script>.<subdomain>.workers.dev reaches a Worker with workers.dev on)")
	faultSpec := fs.String("faults", "", "inject faults into API requests to test clients against a misbehaving API: "+api.FaultSpecHelp)
	faultSeed := fs.Uint64("fault-seed", 1, "seed of the random choice of the requests --faults hits (the same seed hits the same requests)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	faults, err := api.ParseFaults(*faultSpec)
	if err != nil {
		return fmt.Errorf("--faults: %w", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	edgeListen := *listen
	if *apiOnly {
		edgeListen = ""
	}
	return standalone.Run(ctx, standalone.Options{
		APIListen:  *apiListen,
		EdgeListen: edgeListen,
		RuntimeDir: *runtimeDir,
		Faults:     faults,
		Config: localedge.Config{
			AccountID: *accountID, Token: *token, DataDir: *dataDir,
			Zones: map[string]string{*zoneID: *zoneName}, FaultSeed: *faultSeed,
			WorkersSubdomain: *subdomain, NoWorkersSubdomain: *subdomain == "", Log: os.Stderr,
		},
	}, os.Stdout)
}
