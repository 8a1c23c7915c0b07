package provider

import (
	"context"
	"sync"

	"github.com/dot-do/terraform-provider-servicesdo/internal/cloudflare"
)

// queueLookups is what the plans of one command learn about queues: the servicesdo_queue
// names planned, which service of the command consumes which queue, and the account's
// queues as listed once.
type queueLookups struct {
	mu        sync.Mutex
	planned   map[string]bool
	consumers map[string]string // queue name → the service of this command that consumes it
	listing   cached[[]cloudflare.Queue]
}

// planQueue records a servicesdo_queue planned in this command.
func (l *planLookups) planQueue(name string) {
	l.queues.mu.Lock()
	defer l.queues.mu.Unlock()
	if l.queues.planned == nil {
		l.queues.planned = map[string]bool{}
	}
	l.queues.planned[name] = true
}

// forgetQueues drops the listing after a change to consumers.
func (l *planLookups) forgetQueues() { l.queues.listing.reset() }

func (d *providerData) listQueues(ctx context.Context) ([]cloudflare.Queue, error) {
	return d.lookups.queues.listing.get(func() ([]cloudflare.Queue, error) { return d.client.ListQueues(ctx) })
}

// queueExists reports whether the queue exists or is planned in this command. A miss is
// asked again: the queue may have been created since the listing.
func (d *providerData) queueExists(ctx context.Context, name string) (bool, error) {
	d.lookups.queues.mu.Lock()
	planned := d.lookups.queues.planned[name]
	d.lookups.queues.mu.Unlock()
	if planned {
		return true, nil
	}
	for attempt := 0; attempt < 2; attempt++ {
		if attempt > 0 {
			d.lookups.forgetQueues()
		}
		all, err := d.listQueues(ctx)
		if err != nil {
			return false, err
		}
		for _, q := range all {
			if q.Name == name {
				return true, nil
			}
		}
	}
	return false, nil
}

// queueConsumer claims the queue's consumer for service in this command and returns the
// other service that consumes it: one planned earlier in this command, or the queue's
// consumer on the platform. "" when there is none.
func (d *providerData) queueConsumer(ctx context.Context, queue, service string) (string, error) {
	l := &d.lookups.queues
	l.mu.Lock()
	if l.consumers == nil {
		l.consumers = map[string]string{}
	}
	if other, ok := l.consumers[queue]; ok && other != service {
		l.mu.Unlock()
		return other, nil
	}
	l.consumers[queue] = service
	l.mu.Unlock()
	all, err := d.listQueues(ctx)
	if err != nil {
		return "", err
	}
	for _, q := range all {
		if q.Name != queue {
			continue
		}
		for _, c := range q.Consumers {
			if c.ScriptName != service && !d.lookups.consumerMovesAway(c.ScriptName, queue) {
				return c.ScriptName, nil
			}
		}
	}
	return "", nil
}

// consumerMovesAway reports whether script is a service planned in this command that
// no longer claims queue (its consumer moves away in this apply).
func (l *planLookups) consumerMovesAway(script, queue string) bool {
	if !l.servicePlanned(script) {
		return false
	}
	l.queues.mu.Lock()
	defer l.queues.mu.Unlock()
	return l.queues.consumers[queue] != script
}
