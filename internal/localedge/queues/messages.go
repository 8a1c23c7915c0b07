package queues

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/api"
)

// pushBody is one message as the push endpoints take it.
type pushBody struct {
	Body         json.RawMessage `json:"body"`
	ContentType  string          `json:"content_type"`
	DelaySeconds *int64          `json:"delay_seconds"`
}

type batchBody struct {
	Messages     []pushBody `json:"messages"`
	DelaySeconds *int64     `json:"delay_seconds"`
}

// contentTypes are the message formats a push takes. "json" and "text" bodies reach the
// consumer as the value and the string; "bytes" and "v8" (base64 in the REST API) as given.
var contentTypes = map[string]bool{"json": true, "text": true, "bytes": true, "v8": true}

func (b pushBody) check() error {
	if len(b.Body) == 0 {
		return errBadRequest("body is required")
	}
	if b.ContentType != "" && !contentTypes[b.ContentType] {
		return errBadRequest("content_type must be one of text, json, bytes, v8, got %q", b.ContentType)
	}
	if b.ContentType == "text" || b.ContentType == "bytes" || b.ContentType == "v8" {
		var s string
		if json.Unmarshal(b.Body, &s) != nil {
			return errBadRequest("a %s message's body must be a string", b.ContentType)
		}
	}
	if len(b.Body) > MaxMessageBytes {
		return api.Errorf(http.StatusRequestEntityTooLarge, codeBadRequest, "message body is %d bytes, over the limit of %d", len(b.Body), MaxMessageBytes)
	}
	return checkDelay(b.DelaySeconds)
}

func checkDelay(d *int64) error {
	if d != nil && (*d < 0 || *d > MaxDelaySeconds) {
		return errBadRequest("delay_seconds must be between 0 and %d, got %d", MaxDelaySeconds, *d)
	}
	return nil
}

func (s *Queues) pushMessage(w http.ResponseWriter, r *http.Request) error {
	var body pushBody
	if err := api.DecodeJSON(w, r, &body); err != nil {
		return err
	}
	if err := body.check(); err != nil {
		return err
	}
	return s.push(w, r.PathValue("queue_id"), []pushBody{body}, nil)
}

func (s *Queues) pushBatch(w http.ResponseWriter, r *http.Request) error {
	var body batchBody
	if err := api.DecodeJSON(w, r, &body); err != nil {
		return err
	}
	if len(body.Messages) == 0 || len(body.Messages) > MaxMessagesPerBatchWrite {
		return errBadRequest("messages must hold 1 to %d messages, got %d", MaxMessagesPerBatchWrite, len(body.Messages))
	}
	if err := checkDelay(body.DelaySeconds); err != nil {
		return err
	}
	for _, m := range body.Messages {
		if err := m.check(); err != nil {
			return err
		}
	}
	return s.push(w, r.PathValue("queue_id"), body.Messages, body.DelaySeconds)
}

// push stores messages in one transaction: all of them are accepted, or none.
func (s *Queues) push(w http.ResponseWriter, queueID string, msgs []pushBody, batchDelay *int64) error {
	now := s.now()
	err := s.cfg.Store.Update(func(tx *api.Tx) error {
		q, err := queueByID(tx, queueID)
		if err != nil {
			return err
		}
		for _, m := range msgs {
			delay := q.Settings.DeliveryDelay
			if batchDelay != nil {
				delay = *batchDelay
			}
			if m.DelaySeconds != nil {
				delay = *m.DelaySeconds
			}
			if err := enqueue(tx, q.ID, message{ID: api.NewHexID(), Body: m.Body, ContentType: contentTypeOr(m.ContentType), SentAt: now, VisibleAt: now.Add(time.Duration(delay) * time.Second)}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	s.poke()
	api.WriteResult(w, map[string]any{"metadata": map[string]any{"metrics": map[string]any{}}})
	return nil
}

func contentTypeOr(t string) string {
	if t == "" {
		return "json"
	}
	return t
}

// enqueue stores a message at the end of a queue.
func enqueue(tx *api.Tx, queueID string, m message) error {
	seq, err := nextSequence(tx)
	if err != nil {
		return err
	}
	m.Key = queueID + "/" + seq
	return tx.Put(bucketMessages, m.Key, m)
}

// Backlog counts the messages of a queue that no consumer has acknowledged yet (in flight,
// waiting or delayed), for tests and diagnostics.
func (s *Queues) Backlog(queueName string) (int, error) {
	n := 0
	err := s.cfg.Store.View(func(tx *api.Tx) error {
		q, ok, err := queueByName(tx, queueName)
		if err != nil || !ok {
			if err == nil {
				err = errQueueNameNotFound(queueName)
			}
			return err
		}
		all, err := api.All[message](tx, bucketMessages, q.ID+"/")
		n = len(all)
		return err
	})
	return n, err
}
