package edge

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// syncs collapses the API's deploys into runtime applies: each deploy asks for a generation,
// each apply serves every generation asked for before it read the snapshot, and a deploy is
// acknowledged once a generation at least its own is served. Deploys that arrive while an
// apply runs share the next one, so ten parallel uploads cost two applies, not ten.
type syncs struct {
	mu        sync.Mutex
	requested uint64        // latest generation asked for
	applied   uint64        // latest generation served
	err       error         // the error of the apply that served applied, if it failed
	changed   chan struct{} // closed when applied moves
	wake      chan struct{} // a generation is waiting for an apply
}

func (s *syncs) init() {
	s.changed = make(chan struct{})
	s.wake = make(chan struct{}, 1)
}

// ask records a deploy and returns its generation.
func (s *syncs) ask() uint64 {
	s.mu.Lock()
	s.requested++
	g := s.requested
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
	return g
}

// pending returns the generation an apply starting now serves, and whether one is needed.
func (s *syncs) pending() (uint64, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requested, s.requested > s.applied
}

// served records that generation g is served (or failed with err).
func (s *syncs) served(g uint64, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if g > s.applied {
		s.applied, s.err = g, err
		close(s.changed)
		s.changed = make(chan struct{})
	}
}

// wait returns once generation g is served, with the error of the apply that served it.
func (s *syncs) wait(ctx context.Context, g uint64) error {
	for {
		s.mu.Lock()
		applied, err, changed := s.applied, s.err, s.changed
		s.mu.Unlock()
		if applied >= g {
			return err
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return fmt.Errorf("the Workers runtime did not apply the change in time: %w", ctx.Err())
		}
	}
}

// follow is the API's DeployFollower: it returns once the runtime serves the write just made.
func (e *Edge) follow(ctx context.Context) error {
	return e.syncs.wait(ctx, e.syncs.ask())
}

// syncNow applies the current snapshot and serves every generation asked for so far.
func (e *Edge) syncNow(ctx context.Context) error {
	e.applyMu.Lock()
	defer e.applyMu.Unlock()
	g, _ := e.syncs.pending()
	err := e.apply(ctx)
	e.syncs.served(g, err)
	return err
}

// syncLoop applies whenever a deploy waits.
func (e *Edge) syncLoop() {
	defer e.wg.Done()
	for {
		if _, ok := e.syncs.pending(); !ok {
			select {
			case <-e.done:
				return
			case <-e.syncs.wake:
				continue
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		if err := e.syncNow(ctx); err != nil {
			fmt.Fprintf(e.cfg.Log, "servicesdo local edge: cannot apply the latest deployments: %v\n", err)
		}
		cancel()
	}
}
