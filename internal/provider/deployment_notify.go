package provider

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/dot-do/terraform-provider-servicesdo/internal/rollout"
)

// Headers of a rollout event.
const (
	eventHeader     = "X-Servicesdo-Event"
	signatureHeader = "X-Servicesdo-Signature-256"
)

const (
	notifyTimeout  = 5 * time.Second
	notifyAttempts = 2
)

// rolloutEvent is the JSON body of a notification.
type rolloutEvent struct {
	Event              string         `json:"event"`
	Service            string         `json:"service"`
	RolloutID          string         `json:"rollout_id"`
	StableVersionID    string         `json:"stable_version_id"`
	CandidateVersionID string         `json:"candidate_version_id"`
	Step               int            `json:"step"`
	Steps              int            `json:"steps"`
	Traffic            []eventTraffic `json:"traffic"`
	Phase              string         `json:"phase"`
	Reason             string         `json:"reason,omitempty"`
	Detail             string         `json:"detail,omitempty"`
	Analysis           string         `json:"analysis,omitempty"`
	At                 time.Time      `json:"at"`
}

type eventTraffic struct {
	VersionID string  `json:"version_id"`
	Percent   float64 `json:"percent"`
}

// notifier POSTs rollout events to notify.webhook_url, one at a time and in order. A failed
// delivery never fails the rollout: it is reported as a warning when the apply ends.
type notifier struct {
	url      string
	secret   []byte
	client   *http.Client
	failures []string
}

// newNotifier reads the webhook and its write-only secret (only the configuration has it).
func newNotifier(url string, config *deploymentModel) *notifier {
	n := &notifier{url: url, client: &http.Client{Timeout: notifyTimeout}}
	if config != nil && config.Notify != nil && !config.Notify.Secret.IsNull() && !config.Notify.Secret.IsUnknown() {
		n.secret = []byte(config.Notify.Secret.ValueString())
	}
	return n
}

func (n *notifier) send(ctx context.Context, service string, e rollout.Event) {
	if n.url == "" {
		return
	}
	body := rolloutEvent{
		Event: string(e.Kind), Service: service, RolloutID: e.RolloutID, StableVersionID: e.Stable, CandidateVersionID: e.Candidate,
		Step: e.Step, Steps: e.Steps, Phase: string(e.Phase), Reason: string(e.Reason), Detail: e.Detail, Analysis: e.Analysis, At: e.At.UTC(),
		Traffic: []eventTraffic{},
	}
	for _, sh := range e.Traffic {
		body.Traffic = append(body.Traffic, eventTraffic{VersionID: sh.VersionID, Percent: sh.Percent})
	}
	raw, err := json.Marshal(body)
	if err != nil {
		n.failures = append(n.failures, err.Error())
		return
	}
	// Delivered even when the apply is being cancelled: the "paused" event says so.
	ctx = context.WithoutCancel(ctx)
	var last error
	for attempt := 0; attempt < notifyAttempts; attempt++ {
		if last = n.post(ctx, string(e.Kind), raw); last == nil {
			return
		}
	}
	n.failures = append(n.failures, fmt.Sprintf("The %q event (step %d) was not delivered to %s: %v. Rollout events are best effort: the rollout itself is not affected.",
		e.Kind, e.Step, n.url, last))
}

func (n *notifier) post(ctx context.Context, kind string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, n.url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "terraform-provider-servicesdo (rollout events)")
	req.Header.Set(eventHeader, kind)
	if len(n.secret) > 0 {
		req.Header.Set(signatureHeader, "sha256="+signature(n.secret, body))
	}
	res, err := n.client.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 1<<16))
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return fmt.Errorf("the webhook answered %s", res.Status)
	}
	return nil
}

// signature is the hex HMAC-SHA256 of body with secret.
func signature(secret, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	return hex.EncodeToString(mac.Sum(nil))
}
