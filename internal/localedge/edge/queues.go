package edge

import (
	"context"
	"fmt"

	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/queues"
	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/runtime"
)

// deliverQueue runs a consumer's queue handler in the runtime: the queues product's Deliverer.
// A consumer whose Worker failed to start gets an error (its messages wait, uncounted).
func (e *Edge) deliverQueue(ctx context.Context, script, queue string, batch []queues.Message) (queues.Result, error) {
	if msg, failed := e.state.Load().failures[script]; failed {
		return queues.Result{}, fmt.Errorf("worker %q failed to start: %s", script, msg)
	}
	in := make([]runtime.QueueMessage, len(batch))
	for i, m := range batch {
		in[i] = runtime.QueueMessage{ID: m.ID, Timestamp: m.Timestamp.UnixMilli(), ContentType: m.ContentType, Body: m.Body, Attempts: m.Attempts}
	}
	res, err := e.rt.Queue(ctx, script, queue, in)
	if err != nil {
		return queues.Result{}, err
	}
	out := queues.Result{Outcome: res.Outcome, AckAll: res.AckAll, RetryAll: res.RetryBatch.Retry, RetryAllDelay: res.RetryBatch.DelaySeconds, Acks: res.ExplicitAcks}
	if len(res.RetryMessages) > 0 {
		out.Retries = map[string]*int64{}
		for _, m := range res.RetryMessages {
			out.Retries[m.MsgID] = m.DelaySeconds
		}
	}
	return out, nil
}
