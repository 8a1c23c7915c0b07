package queues

import (
	"encoding/json"
	"net/http"

	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/api"
)

// settingsBody is a queue's settings as requests give them; a nil field is left as it was
// (PATCH) or set to its default (POST, PUT).
type settingsBody struct {
	DeliveryDelay          *int64 `json:"delivery_delay"`
	DeliveryPaused         *bool  `json:"delivery_paused"`
	MessageRetentionPeriod *int64 `json:"message_retention_period"`
}

type queueBody struct {
	QueueName *string       `json:"queue_name"`
	Settings  *settingsBody `json:"settings"`
}

// apply writes the given settings over s and checks the ranges.
func (b *settingsBody) apply(s *queueSettings) error {
	if b == nil {
		return nil
	}
	if b.DeliveryDelay != nil {
		s.DeliveryDelay = *b.DeliveryDelay
	}
	if b.DeliveryPaused != nil {
		s.DeliveryPaused = *b.DeliveryPaused
	}
	if b.MessageRetentionPeriod != nil {
		s.MessageRetentionPeriod = *b.MessageRetentionPeriod
	}
	switch {
	case s.DeliveryDelay < 0 || s.DeliveryDelay > MaxDelaySeconds:
		return errSetting("settings.delivery_delay must be between 0 and %d seconds, got %d", MaxDelaySeconds, s.DeliveryDelay)
	case s.MessageRetentionPeriod < MinRetentionSeconds || s.MessageRetentionPeriod > MaxRetentionSeconds:
		return errSetting("settings.message_retention_period must be between %d and %d seconds, got %d", MinRetentionSeconds, MaxRetentionSeconds, s.MessageRetentionPeriod)
	}
	return nil
}

func defaultSettings() queueSettings {
	return queueSettings{MessageRetentionPeriod: DefaultRetentionSeconds}
}

// described is a queue as the API answers it, with its consumers.
func described(tx *api.Tx, q queue) (map[string]any, error) {
	cs, err := consumersOf(tx, q.ID)
	out := make([]map[string]any, 0, len(cs))
	for _, c := range cs {
		out = append(out, describedConsumer(q, c))
	}
	return map[string]any{
		"queue_id": q.ID, "queue_name": q.Name, "created_on": q.CreatedOn, "modified_on": q.ModifiedOn,
		"settings": q.Settings, "consumers": out, "consumers_total_count": len(out),
		"producers": []any{}, "producers_total_count": 0,
	}, err
}

func (s *Queues) createQueue(w http.ResponseWriter, r *http.Request) error {
	var body queueBody
	if err := api.DecodeJSON(w, r, &body); err != nil {
		return err
	}
	if body.QueueName == nil {
		return errBadRequest("queue_name is required")
	}
	if err := validateName(*body.QueueName); err != nil {
		return err
	}
	settings := defaultSettings()
	if err := body.Settings.apply(&settings); err != nil {
		return err
	}
	now := s.now()
	return api.Update(w, s.cfg.Store, func(tx *api.Tx) (map[string]any, error) {
		if _, taken, err := queueByName(tx, *body.QueueName); err != nil || taken {
			if err == nil {
				err = errNameTaken(*body.QueueName)
			}
			return nil, err
		}
		q := queue{ID: api.NewHexID(), Name: *body.QueueName, CreatedOn: now, ModifiedOn: now, Settings: settings}
		if err := tx.Put(bucketQueues, q.ID, q); err != nil {
			return nil, err
		}
		return described(tx, q)
	})
}

func (s *Queues) listQueues(w http.ResponseWriter, r *http.Request) error {
	page, perPage, err := api.PageParams(r, 100, 1000)
	if err != nil {
		return err
	}
	var out []map[string]any
	if err := s.cfg.Store.View(func(tx *api.Tx) error {
		all, err := api.All[queue](tx, bucketQueues, "")
		for _, q := range all {
			d, derr := described(tx, q)
			if derr != nil {
				return derr
			}
			out = append(out, d)
		}
		return err
	}); err != nil {
		return err
	}
	api.WritePaged(w, out, page, perPage)
	return nil
}

func (s *Queues) getQueue(w http.ResponseWriter, r *http.Request) error {
	return api.View(w, s.cfg.Store, func(tx *api.Tx) (map[string]any, error) {
		q, err := queueByID(tx, r.PathValue("queue_id"))
		if err != nil {
			return nil, err
		}
		return described(tx, q)
	})
}

// updateQueue (PUT) replaces the queue's configuration: settings left out return to their
// defaults, as Cloudflare documents ("does not support partial updates").
func (s *Queues) updateQueue(w http.ResponseWriter, r *http.Request) error {
	return s.writeQueue(w, r, true)
}

// editQueue (PATCH) changes the settings it names and keeps the others.
func (s *Queues) editQueue(w http.ResponseWriter, r *http.Request) error {
	return s.writeQueue(w, r, false)
}

func (s *Queues) writeQueue(w http.ResponseWriter, r *http.Request, replace bool) error {
	var body queueBody
	if err := api.DecodeJSON(w, r, &body); err != nil {
		return err
	}
	if body.QueueName != nil {
		if err := validateName(*body.QueueName); err != nil {
			return err
		}
	}
	now := s.now()
	return api.Update(w, s.cfg.Store, func(tx *api.Tx) (map[string]any, error) {
		q, err := queueByID(tx, r.PathValue("queue_id"))
		if err != nil {
			return nil, err
		}
		if body.QueueName != nil && *body.QueueName != q.Name {
			if _, taken, err := queueByName(tx, *body.QueueName); err != nil || taken {
				if err == nil {
					err = errNameTaken(*body.QueueName)
				}
				return nil, err
			}
			q.Name = *body.QueueName
		}
		if replace {
			q.Settings = defaultSettings()
		}
		if err := body.Settings.apply(&q.Settings); err != nil {
			return nil, err
		}
		q.ModifiedOn = now
		if err := tx.Put(bucketQueues, q.ID, q); err != nil {
			return nil, err
		}
		return described(tx, q)
	})
}

// deleteQueue deletes the queue with its consumer and its undelivered messages.
func (s *Queues) deleteQueue(w http.ResponseWriter, r *http.Request) error {
	err := s.cfg.Store.Update(func(tx *api.Tx) error {
		q, err := queueByID(tx, r.PathValue("queue_id"))
		if err != nil {
			return err
		}
		if _, err := tx.DeletePrefix(bucketConsumers, q.ID+"/"); err != nil {
			return err
		}
		if _, err := tx.DeletePrefix(bucketMessages, q.ID+"/"); err != nil {
			return err
		}
		return tx.Delete(bucketQueues, q.ID)
	})
	if err != nil {
		return err
	}
	api.WriteResult(w, nil)
	return nil
}

// consumerBody is a consumer as POST and PUT take it.
type consumerBody struct {
	Type            string          `json:"type"`
	ScriptName      string          `json:"script_name"`
	DeadLetterQueue string          `json:"dead_letter_queue"`
	Settings        json.RawMessage `json:"settings"`
}

type consumerSettingsBody struct {
	BatchSize      *int64 `json:"batch_size"`
	MaxConcurrency *int64 `json:"max_concurrency"`
	MaxRetries     *int64 `json:"max_retries"`
	MaxWaitTimeMs  *int64 `json:"max_wait_time_ms"`
	RetryDelay     *int64 `json:"retry_delay"`
}

// settings reads the body's settings over the defaults and checks the ranges.
func (b consumerBody) settings() (consumerSettings, error) {
	out := consumerSettings{BatchSize: DefaultBatchSize, MaxRetries: DefaultMaxRetries, MaxWaitTimeMs: DefaultMaxWaitTimeMs}
	var in consumerSettingsBody
	if len(b.Settings) > 0 && string(b.Settings) != "null" {
		if err := json.Unmarshal(b.Settings, &in); err != nil {
			return out, errBadRequest("settings: %v", err)
		}
	}
	set := func(dst *int64, v *int64) {
		if v != nil {
			*dst = *v
		}
	}
	set(&out.BatchSize, in.BatchSize)
	set(&out.MaxRetries, in.MaxRetries)
	set(&out.MaxWaitTimeMs, in.MaxWaitTimeMs)
	set(&out.RetryDelay, in.RetryDelay)
	out.MaxConcurrency = in.MaxConcurrency
	switch {
	case out.BatchSize < 1 || out.BatchSize > MaxBatchSize:
		return out, errSetting("settings.batch_size must be between 1 and %d, got %d", MaxBatchSize, out.BatchSize)
	case out.MaxRetries < 0 || out.MaxRetries > MaxRetries:
		return out, errSetting("settings.max_retries must be between 0 and %d, got %d", MaxRetries, out.MaxRetries)
	case out.MaxWaitTimeMs < 0 || out.MaxWaitTimeMs > MaxWaitTimeMs:
		return out, errSetting("settings.max_wait_time_ms must be between 0 and %d, got %d", MaxWaitTimeMs, out.MaxWaitTimeMs)
	case out.RetryDelay < 0 || out.RetryDelay > MaxDelaySeconds:
		return out, errSetting("settings.retry_delay must be between 0 and %d seconds, got %d", MaxDelaySeconds, out.RetryDelay)
	case out.MaxConcurrency != nil && (*out.MaxConcurrency < 1 || *out.MaxConcurrency > MaxConcurrency):
		return out, errSetting("settings.max_concurrency must be between 1 and %d, got %d", MaxConcurrency, *out.MaxConcurrency)
	}
	return out, nil
}

func describedConsumer(q queue, c consumer) map[string]any {
	return map[string]any{
		"consumer_id": c.ID, "created_on": c.CreatedOn, "dead_letter_queue": c.DeadLetterQueue,
		"queue_name": q.Name, "script_name": c.ScriptName, "settings": c.Settings, "type": "worker",
	}
}

// checkConsumer validates a consumer body against the queue it is for.
func (s *Queues) checkConsumer(tx *api.Tx, q queue, b consumerBody) error {
	switch {
	case b.Type == "http_pull":
		return errBadRequest("type http_pull is not supported by the local edge: use a worker consumer")
	case b.Type != "worker":
		return errBadRequest("type must be worker or http_pull, got %q", b.Type)
	case b.ScriptName == "":
		return errBadRequest("script_name is required for a worker consumer")
	case s.cfg.ScriptExists != nil && !s.cfg.ScriptExists(b.ScriptName):
		return api.Errorf(http.StatusBadRequest, 10007, "Worker '%s' not found: upload it before making it a queue consumer", b.ScriptName)
	case b.DeadLetterQueue == q.Name:
		return errBadRequest("dead_letter_queue cannot be the queue itself ('%s')", q.Name)
	}
	if b.DeadLetterQueue != "" {
		if _, ok, err := queueByName(tx, b.DeadLetterQueue); err != nil || !ok {
			if err == nil {
				err = errQueueNameNotFound(b.DeadLetterQueue)
			}
			return err
		}
	}
	return nil
}

func (s *Queues) createConsumer(w http.ResponseWriter, r *http.Request) error {
	var body consumerBody
	if err := api.DecodeJSON(w, r, &body); err != nil {
		return err
	}
	settings, err := body.settings()
	if err != nil {
		return err
	}
	now := s.now()
	defer s.poke()
	return api.Update(w, s.cfg.Store, func(tx *api.Tx) (map[string]any, error) {
		q, err := queueByID(tx, r.PathValue("queue_id"))
		if err != nil {
			return nil, err
		}
		if err := s.checkConsumer(tx, q, body); err != nil {
			return nil, err
		}
		existing, err := consumersOf(tx, q.ID)
		if err != nil {
			return nil, err
		}
		if len(existing) > 0 {
			return nil, errConsumerExists(q.Name, existing[0].ScriptName)
		}
		c := consumer{ID: api.NewHexID(), QueueID: q.ID, ScriptName: body.ScriptName, DeadLetterQueue: body.DeadLetterQueue, CreatedOn: now, Settings: settings}
		return describedConsumer(q, c), tx.Put(bucketConsumers, consumerKey(q.ID, c.ID), c)
	})
}

func (s *Queues) listConsumers(w http.ResponseWriter, r *http.Request) error {
	page, perPage, err := api.PageParams(r, 100, 1000)
	if err != nil {
		return err
	}
	var out []map[string]any
	if err := s.cfg.Store.View(func(tx *api.Tx) error {
		q, err := queueByID(tx, r.PathValue("queue_id"))
		if err != nil {
			return err
		}
		cs, err := consumersOf(tx, q.ID)
		for _, c := range cs {
			out = append(out, describedConsumer(q, c))
		}
		return err
	}); err != nil {
		return err
	}
	api.WritePaged(w, out, page, perPage)
	return nil
}

func consumerOf(tx *api.Tx, r *http.Request) (queue, consumer, error) {
	q, err := queueByID(tx, r.PathValue("queue_id"))
	if err != nil {
		return q, consumer{}, err
	}
	id := r.PathValue("consumer_id")
	c, err := api.Get[consumer](tx, bucketConsumers, consumerKey(q.ID, id), errConsumerNotFound(id))
	return q, c, err
}

func (s *Queues) getConsumer(w http.ResponseWriter, r *http.Request) error {
	return api.View(w, s.cfg.Store, func(tx *api.Tx) (map[string]any, error) {
		q, c, err := consumerOf(tx, r)
		if err != nil {
			return nil, err
		}
		return describedConsumer(q, c), nil
	})
}

// updateConsumer (PUT) replaces the consumer's script, dead-letter queue and settings.
func (s *Queues) updateConsumer(w http.ResponseWriter, r *http.Request) error {
	var body consumerBody
	if err := api.DecodeJSON(w, r, &body); err != nil {
		return err
	}
	settings, err := body.settings()
	if err != nil {
		return err
	}
	defer s.poke()
	return api.Update(w, s.cfg.Store, func(tx *api.Tx) (map[string]any, error) {
		q, c, err := consumerOf(tx, r)
		if err != nil {
			return nil, err
		}
		if err := s.checkConsumer(tx, q, body); err != nil {
			return nil, err
		}
		c.ScriptName, c.DeadLetterQueue, c.Settings = body.ScriptName, body.DeadLetterQueue, settings
		return describedConsumer(q, c), tx.Put(bucketConsumers, consumerKey(q.ID, c.ID), c)
	})
}

func (s *Queues) deleteConsumer(w http.ResponseWriter, r *http.Request) error {
	err := s.cfg.Store.Update(func(tx *api.Tx) error {
		q, c, err := consumerOf(tx, r)
		if err != nil {
			return err
		}
		return tx.Delete(bucketConsumers, consumerKey(q.ID, c.ID))
	})
	if err != nil {
		return err
	}
	api.WriteResult(w, nil)
	return nil
}
