package provider

import (
	"context"
	"sync"

	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/dot-do/terraform-provider-servicesdo/internal/cloudflare"
)

// planLookups is what plan-time checks learn during one Terraform command (a provider
// configuration lives for one command): the objects planned so far in it, and what was
// looked up on the platform, so that a plan of many services asks each question once.
// Only answers that something exists are kept: an object missing earlier in an apply may
// have been created since, so a miss is asked again before it becomes an error.
type planLookups struct {
	mu       sync.Mutex
	services map[string][]serviceClaim
	buckets  map[string]bool // "jurisdiction/name" of servicesdo_r2_bucket planned in this command
	zones    map[string]string
	kv       cached[map[string]bool]
	r2       map[string]bool
	queues   queueLookups
}

// serviceClaim is one servicesdo_service plan that names a script.
type serviceClaim struct {
	config   tftypes.Value
	hadPrior bool
}

// claimService records that a servicesdo_service plans the script name, and reports whether
// another resource already claimed it in this command. Terraform plans a replacement twice
// (first against the prior state, then as a creation), with the same configuration: that
// second plan is the same resource, not a duplicate.
func (l *planLookups) claimService(name string, config tftypes.Value, hadPrior bool) (duplicate bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.services == nil {
		l.services = map[string][]serviceClaim{}
	}
	for _, c := range l.services[name] {
		if c.hadPrior && !hadPrior && c.config.Equal(config) {
			return false
		}
	}
	duplicate = len(l.services[name]) > 0
	l.services[name] = append(l.services[name], serviceClaim{config: config, hadPrior: hadPrior})
	return duplicate
}

// servicePlanned reports whether a servicesdo_service of this command plans the name.
func (l *planLookups) servicePlanned(name string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.services[name]) > 0
}

// bucketKey names a bucket in its jurisdiction; the bucket resource says "default" where a
// binding leaves the jurisdiction empty.
func bucketKey(name, jurisdiction string) string {
	if jurisdiction == "default" {
		jurisdiction = ""
	}
	return jurisdiction + "/" + name
}

// planBucket records an R2 bucket planned in this command.
func (l *planLookups) planBucket(name, jurisdiction string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.buckets == nil {
		l.buckets = map[string]bool{}
	}
	l.buckets[bucketKey(name, jurisdiction)] = true
}

// scriptExists reports whether a Worker of that name exists or is planned in this command.
func (d *providerData) scriptExists(ctx context.Context, name string) (bool, error) {
	if d.lookups.servicePlanned(name) {
		return true, nil
	}
	for attempt := 0; attempt < 2; attempt++ {
		if attempt > 0 {
			d.cache.invalidate()
		}
		scripts, err := d.listScripts(ctx)
		if err != nil {
			return false, err
		}
		for _, s := range scripts {
			if s.Name == name {
				return true, nil
			}
		}
	}
	return false, nil
}

// kvNamespaceExists reports whether the account has a KV namespace with that id.
func (d *providerData) kvNamespaceExists(ctx context.Context, id string) (bool, error) {
	for attempt := 0; attempt < 2; attempt++ {
		if attempt > 0 {
			d.lookups.kv.reset()
		}
		ids, err := d.lookups.kv.get(func() (map[string]bool, error) {
			all, err := d.client.ListKVNamespaces(ctx)
			out := make(map[string]bool, len(all))
			for _, ns := range all {
				out[ns.ID] = true
			}
			return out, err
		})
		if err != nil {
			return false, err
		}
		if ids[id] {
			return true, nil
		}
	}
	return false, nil
}

// r2BucketExists reports whether the bucket exists or is planned in this command.
func (d *providerData) r2BucketExists(ctx context.Context, name, jurisdiction string) (bool, error) {
	key := bucketKey(name, jurisdiction)
	d.lookups.mu.Lock()
	known := d.lookups.buckets[key] || d.lookups.r2[key]
	d.lookups.mu.Unlock()
	if known {
		return true, nil
	}
	_, err := d.client.GetR2Bucket(ctx, name, jurisdiction)
	if cloudflare.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	d.lookups.mu.Lock()
	defer d.lookups.mu.Unlock()
	if d.lookups.r2 == nil {
		d.lookups.r2 = map[string]bool{}
	}
	d.lookups.r2[key] = true
	return true, nil
}

// zoneName is the name of a zone of the account.
func (d *providerData) zoneName(ctx context.Context, zoneID string) (string, error) {
	d.lookups.mu.Lock()
	name, ok := d.lookups.zones[zoneID]
	d.lookups.mu.Unlock()
	if ok {
		return name, nil
	}
	z, err := d.client.GetZone(ctx, zoneID)
	if err != nil {
		return "", err
	}
	d.lookups.mu.Lock()
	defer d.lookups.mu.Unlock()
	if d.lookups.zones == nil {
		d.lookups.zones = map[string]string{}
	}
	d.lookups.zones[zoneID] = z.Name
	return z.Name, nil
}
