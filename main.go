// Command terraform-provider-servicesdo serves the servicesdo Terraform provider, and with
// the `local` subcommand runs the local edge (a local Cloudflare API).
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"syscall"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"

	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge"
	"github.com/dot-do/terraform-provider-servicesdo/internal/provider"
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
	err := providerserver.Serve(context.Background(), provider.New(version), providerserver.ServeOpts{
		Address: "registry.terraform.io/dot-do/servicesdo",
		Debug:   debug,
	})
	if err != nil {
		log.Fatal(err)
	}
}

func runLocal(args []string) error {
	fs := flag.NewFlagSet("local", flag.ContinueOnError)
	apiListen := fs.String("api-listen", localedge.DefaultAPIListen, "address of the local Cloudflare API")
	dataDir := fs.String("data-dir", localedge.DefaultDataDir, "directory that keeps the local edge's state across restarts")
	accountID := fs.String("account-id", localedge.DefaultAccountID, "the one account id the local API serves")
	token := fs.String("token", localedge.DefaultToken, "the one API token the local API accepts")
	zoneID := fs.String("zone-id", localedge.DefaultZoneID, "id of the local zone (for Worker routes)")
	zoneName := fs.String("zone-name", localedge.DefaultZoneName, "name of the local zone")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return localedge.Run(ctx, localedge.RunOptions{
		APIListen: *apiListen,
		Config: localedge.Config{
			AccountID: *accountID, Token: *token, DataDir: *dataDir,
			Zones: map[string]string{*zoneID: *zoneName},
		},
	}, os.Stdout)
}
