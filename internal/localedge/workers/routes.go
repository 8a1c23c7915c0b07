// Package workers emulates the Workers API: scripts and their uploads, versions and
// deployments, settings and secrets, cron triggers, workers.dev, zone routes, custom domains
// and Durable Object namespaces (created by migrations). It builds the deploy.Snapshot that
// the edge and the Workers runtime serve.
package workers

import (
	"context"
	"io"
	"sync"
	"time"

	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/api"
	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/deploy"
)

// Targets checks the bindings to other products: binding type → a check that the target
// exists in the same transaction (the KV namespace, the R2 bucket, …), returning the API's
// error when it does not. The edge wires each product's CheckBinding in, so that workers
// imports none of them. A type with no entry (and not handled here) has no target to check.
type Targets map[string]func(tx *api.Tx, b api.Binding) error

// Validator loads a candidate version in the Workers runtime before an upload is
// acknowledged, as Cloudflare does: a module that does not parse, throws at startup, or lacks
// a Durable Object class it is bound to fails with a *deploy.ScriptError carrying the
// runtime's own text. Any other error means the runtime could not judge the candidate; the
// upload then goes ahead unvalidated, as it does without a runtime.
type Validator func(ctx context.Context, candidate deploy.Script) error

// Config configures the workers product.
type Config struct {
	Store *api.Store
	// Now is the clock of timestamps.
	Now func() time.Time
	// Zones maps zone ids to names (routes and custom domains must be in one).
	Zones   map[string]string
	Targets Targets
	// AuthorEmail is the account user's email: the author of every version and deployment.
	AuthorEmail string
}

// Workers is the Workers product of the local edge.
type Workers struct {
	store   *api.Store
	clock   func() time.Time
	zones   map[string]string
	targets Targets
	author  string

	validatorMu  sync.Mutex
	validator    Validator
	validatorGen int
	log          io.Writer
}

// New returns the workers product.
func New(cfg Config) *Workers {
	return &Workers{store: cfg.Store, clock: cfg.Now, zones: cfg.Zones, targets: cfg.Targets, author: cfg.AuthorEmail}
}

func (s *Workers) now() time.Time { return s.clock().UTC() }

// Routes is the Workers API. Deploys marks every write that changes what the edge runs.
func (s *Workers) Routes() []api.Route {
	const (
		scripts   = "/accounts/{account_id}/workers/scripts"
		script    = scripts + "/{script_name}"
		secrets   = script + "/secrets"
		routes    = "/zones/{zone_id}/workers/routes"
		domains   = "/accounts/{account_id}/workers/domains"
		subdomain = "/accounts/{account_id}/workers/subdomain"
		durable   = "/accounts/{account_id}/workers/durable_objects/namespaces"
		service   = "/accounts/{account_id}/workers/services/{service_name}"
	)
	return []api.Route{
		{Pattern: "GET " + scripts, Handle: s.listScripts},
		{Pattern: "PUT " + script, Handle: s.putScript, Deploys: true},
		{Pattern: "GET " + script, Handle: s.downloadScript},
		{Pattern: "DELETE " + script, Handle: s.deleteScript, Deploys: true},
		{Pattern: "GET " + script + "/content/v2", Handle: s.getScriptContent},
		{Pattern: "PUT " + script + "/content", Handle: s.putScriptContent, Deploys: true},
		{Pattern: "GET " + script + "/settings", Handle: s.getSettings},
		{Pattern: "PATCH " + script + "/settings", Handle: s.patchSettings, Deploys: true},
		{Pattern: "GET " + script + "/script-settings", Handle: s.getScriptSettings},
		{Pattern: "PATCH " + script + "/script-settings", Handle: s.patchScriptSettings},
		{Pattern: "GET " + script + "/subdomain", Handle: s.getScriptSubdomain},
		{Pattern: "POST " + script + "/subdomain", Handle: s.postScriptSubdomain, Deploys: true},
		{Pattern: "DELETE " + script + "/subdomain", Handle: s.deleteScriptSubdomain, Deploys: true},
		{Pattern: "GET " + script + "/schedules", Handle: s.getSchedules},
		{Pattern: "PUT " + script + "/schedules", Handle: s.putSchedules, Deploys: true},

		{Pattern: "POST " + script + "/versions", Handle: s.postVersion},
		{Pattern: "GET " + script + "/versions", Handle: s.listVersionsHandler},
		{Pattern: "GET " + script + "/versions/{version_id}", Handle: s.getVersion},
		{Pattern: "POST " + script + "/deployments", Handle: s.postDeployment, Deploys: true},
		{Pattern: "GET " + script + "/deployments", Handle: s.listDeploymentsHandler},
		{Pattern: "GET " + script + "/deployments/{deployment_id}", Handle: s.getDeployment},
		{Pattern: "DELETE " + script + "/deployments/{deployment_id}", Handle: s.deleteDeployment},

		{Pattern: "PUT " + secrets, Handle: s.putSecret, Deploys: true},
		{Pattern: "GET " + secrets, Handle: s.listSecrets},
		{Pattern: "GET " + secrets + "/{secret_name}", Handle: s.getSecret},
		{Pattern: "DELETE " + secrets + "/{secret_name}", Handle: s.deleteSecret, Deploys: true},

		{Pattern: "POST " + routes, Handle: s.createRoute, Deploys: true},
		{Pattern: "GET " + routes, Handle: s.listRoutes},
		{Pattern: "GET " + routes + "/{route_id}", Handle: s.getRoute},
		{Pattern: "PUT " + routes + "/{route_id}", Handle: s.updateRoute, Deploys: true},
		{Pattern: "DELETE " + routes + "/{route_id}", Handle: s.deleteRoute, Deploys: true},

		{Pattern: "PUT " + domains, Handle: s.putDomain, Deploys: true},
		{Pattern: "GET " + domains, Handle: s.listDomains},
		{Pattern: "GET " + domains + "/{domain_id}", Handle: s.getDomain},
		{Pattern: "DELETE " + domains + "/{domain_id}", Handle: s.deleteDomain, Deploys: true},

		{Pattern: "GET " + subdomain, Handle: s.getAccountSubdomain},
		{Pattern: "PUT " + subdomain, Handle: s.putAccountSubdomain, Deploys: true},
		{Pattern: "DELETE " + subdomain, Handle: s.deleteAccountSubdomain, Deploys: true},

		{Pattern: "GET " + service, Handle: s.getService},
		{Pattern: "DELETE " + service, Handle: s.deleteService, Deploys: true},
		{Pattern: "PUT " + script + "/routes", Handle: s.putScriptRoutes, Deploys: true},
		{Pattern: "GET " + script + "/routes", Handle: s.getScriptRoutes},
		{Pattern: "GET " + script + "/references", Handle: s.getReferences},
		{Pattern: "GET /accounts/{account_id}/workers/subdomains/{subdomain_name}", Handle: s.getSubdomainAvailability},

		{Pattern: "GET " + durable, Handle: s.listDONamespaces},
		{Pattern: "GET " + durable + "/{namespace_id}/objects", Handle: s.listDOObjects},
	}
}
