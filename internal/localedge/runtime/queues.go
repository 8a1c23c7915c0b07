package runtime

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
)

// QueueMessage is one message of a batch handed to a queue handler.
type QueueMessage struct {
	ID          string          `json:"id"`
	Timestamp   int64           `json:"timestamp"` // Unix ms
	ContentType string          `json:"contentType"`
	Body        json.RawMessage `json:"body"`
	Attempts    int             `json:"attempts"`
}

// QueueResult is workerd's account of a queue handler's run (FetcherQueueResult).
type QueueResult struct {
	Outcome    string `json:"outcome"`
	AckAll     bool   `json:"ackAll"`
	RetryBatch struct {
		Retry        bool   `json:"retry"`
		DelaySeconds *int64 `json:"delaySeconds"`
	} `json:"retryBatch"`
	ExplicitAcks  []string `json:"explicitAcks"`
	RetryMessages []struct {
		MsgID        string `json:"msgId"`
		DelaySeconds *int64 `json:"delaySeconds"`
	} `json:"retryMessages"`
	// Version is the id of the version that ran.
	Version string `json:"-"`
}

// Queue runs the queue handler of script's deployed version (picked by the deployment's
// percentages) on a batch of queue's messages, as a queue consumer does.
func (r *Runtime) Queue(ctx context.Context, script, queue string, batch []QueueMessage) (QueueResult, error) {
	payload, err := json.Marshal(map[string]any{"queue": queue, "messages": batch})
	if err != nil {
		return QueueResult{}, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+r.Address()+"/", bytes.NewReader(payload))
	if err != nil {
		return QueueResult{}, err
	}
	req.Header.Set(ScriptHeader, script)
	req.Header.Set(TriggerHeader, "queue")
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return QueueResult{}, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return QueueResult{}, err
	}
	var out QueueResult
	if res.StatusCode != http.StatusOK || json.Unmarshal(body, &out) != nil {
		return QueueResult{}, fmt.Errorf("running the queue handler of %q: HTTP %d %s", script, res.StatusCode, bytes.TrimSpace(body))
	}
	out.Version = res.Header.Get(VersionHeader)
	return out, nil
}
