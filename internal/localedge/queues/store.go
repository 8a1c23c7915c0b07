package queues

import (
	"fmt"
	"time"

	"github.com/dot-do/terraform-provider-servicesdo/internal/lazyregexp"
	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/api"
)

// Buckets of the store: queues by id, consumers by "<queue id>/<consumer id>", messages by
// "<queue id>/<sequence>" (so a scan yields a queue's messages oldest first).
const (
	bucketQueues    = "queues"
	bucketConsumers = "queue_consumers"
	bucketMessages  = "queue_messages"
	bucketSequence  = "queue_sequence"
)

// Limits of the platform (Cloudflare's Queues limits).
const (
	MaxNameLength            = 63
	MaxDelaySeconds          = 43200   // delivery_delay, retry_delay, delay_seconds: 12 hours
	MinRetentionSeconds      = 60      // message_retention_period
	MaxRetentionSeconds      = 1209600 // 14 days
	DefaultRetentionSeconds  = 345600  // 4 days
	MaxBatchSize             = 100
	DefaultBatchSize         = 10
	MaxRetries               = 100
	DefaultMaxRetries        = 3
	MaxWaitTimeMs            = 60000
	DefaultMaxWaitTimeMs     = 5000
	MaxConcurrency           = 250
	MaxMessageBytes          = 128 * 1024
	MaxMessagesPerBatchWrite = 100
)

var validName = lazyregexp.New(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?$`)

// queue is a stored queue.
type queue struct {
	ID         string        `json:"queue_id"`
	Name       string        `json:"queue_name"`
	CreatedOn  time.Time     `json:"created_on"`
	ModifiedOn time.Time     `json:"modified_on"`
	Settings   queueSettings `json:"settings"`
}

type queueSettings struct {
	DeliveryDelay          int64 `json:"delivery_delay"`
	DeliveryPaused         bool  `json:"delivery_paused"`
	MessageRetentionPeriod int64 `json:"message_retention_period"`
}

// consumer is a stored Worker consumer.
type consumer struct {
	ID              string           `json:"consumer_id"`
	QueueID         string           `json:"queue_id"`
	ScriptName      string           `json:"script_name"`
	DeadLetterQueue string           `json:"dead_letter_queue"`
	CreatedOn       time.Time        `json:"created_on"`
	Settings        consumerSettings `json:"settings"`
}

type consumerSettings struct {
	BatchSize      int64  `json:"batch_size"`
	MaxConcurrency *int64 `json:"max_concurrency,omitempty"`
	MaxRetries     int64  `json:"max_retries"`
	MaxWaitTimeMs  int64  `json:"max_wait_time_ms"`
	RetryDelay     int64  `json:"retry_delay"`
}

// message is a stored message, waiting for its consumer or for a retry.
type message struct {
	ID          string    `json:"id"`
	Key         string    `json:"key"`
	Body        []byte    `json:"body"`
	ContentType string    `json:"content_type"`
	SentAt      time.Time `json:"sent_at"`
	VisibleAt   time.Time `json:"visible_at"`
	// Attempts counts the deliveries so far.
	Attempts int `json:"attempts"`
}

func consumerKey(queueID, consumerID string) string { return queueID + "/" + consumerID }

func queueByID(tx *api.Tx, id string) (queue, error) {
	return api.Get[queue](tx, bucketQueues, id, errQueueNotFound(id))
}

func queueByName(tx *api.Tx, name string) (queue, bool, error) {
	all, err := api.All[queue](tx, bucketQueues, "")
	for _, q := range all {
		if q.Name == name {
			return q, true, err
		}
	}
	return queue{}, false, err
}

func consumersOf(tx *api.Tx, queueID string) ([]consumer, error) {
	return api.All[consumer](tx, bucketConsumers, queueID+"/")
}

// nextSequence numbers messages in the order they were sent, across restarts.
func nextSequence(tx *api.Tx) (string, error) {
	var n uint64
	if _, err := tx.Get(bucketSequence, "messages", &n); err != nil {
		return "", err
	}
	n++
	return fmt.Sprintf("%020d", n), tx.Put(bucketSequence, "messages", n)
}

// CheckBinding checks a Worker's queue binding (a producer): the queue must exist.
func CheckBinding(tx *api.Tx, b api.Binding) error {
	if _, ok, err := queueByName(tx, b.Str("queue_name")); err != nil || !ok {
		if err != nil {
			return err
		}
		return errBindingTarget(b)
	}
	return nil
}

func validateName(name string) error {
	if len(name) == 0 || len(name) > MaxNameLength || !validName.MatchString(name) {
		return errBadRequest("queue_name %q is invalid: use 1 to %d lowercase letters, digits and '-', starting and ending with a letter or digit", name, MaxNameLength)
	}
	return nil
}
