package queues_test

import (
	"context"
	"io"
	"strings"
	"testing"

	cloudflare "github.com/cloudflare/cloudflare-go/v7"
	cfqueues "github.com/cloudflare/cloudflare-go/v7/queues"
	cfworkers "github.com/cloudflare/cloudflare-go/v7/workers"

	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/edgetest"
)

// env is one test's local edge with cloudflare-go's Queues and Workers services.
type env struct {
	*edgetest.Env
	ctx     context.Context
	queues  *cfqueues.QueueService
	workers *cfworkers.WorkerService
}

func newEnv(t testing.TB, opts ...edgetest.Option) *env {
	t.Helper()
	e := edgetest.Start(t, opts...)
	sdk := e.SDK(edgetest.Token)
	return &env{Env: e, ctx: context.Background(), queues: cfqueues.NewQueueService(sdk...), workers: cfworkers.NewWorkerService(sdk...)}
}

var account = cloudflare.F(edgetest.AccountID)

func (e *env) create(name string) (*cfqueues.Queue, error) {
	return e.queues.New(e.ctx, cfqueues.QueueNewParams{AccountID: account, QueueName: cloudflare.F(name)})
}

func (e *env) edit(id string, s cfqueues.QueueSettingsParam) (*cfqueues.Queue, error) {
	return e.queues.Edit(e.ctx, id, cfqueues.QueueEditParams{AccountID: account, Queue: cfqueues.QueueParam{Settings: cloudflare.F(s)}})
}

func (e *env) mustCreate(name string) *cfqueues.Queue {
	e.T.Helper()
	q, err := e.create(name)
	if err != nil {
		e.T.Fatalf("create queue %s: %v", name, err)
	}
	return q
}

// upload uploads a Worker with the code and bindings.
func (e *env) upload(script, code string, bindings ...cfworkers.ScriptUpdateParamsMetadataBindingUnion) error {
	_, err := e.workers.Scripts.Update(e.ctx, script, cfworkers.ScriptUpdateParams{
		AccountID: account,
		Metadata: cloudflare.F(cfworkers.ScriptUpdateParamsMetadata{
			MainModule: cloudflare.F("index.js"), CompatibilityDate: cloudflare.F("2025-01-01"),
			Bindings: cloudflare.F(bindings),
		}),
		Files: cloudflare.F([]io.Reader{cloudflare.FileParam(strings.NewReader(code), "index.js", "application/javascript+module").Value}),
	})
	return err
}

func (e *env) mustUpload(script, code string, bindings ...cfworkers.ScriptUpdateParamsMetadataBindingUnion) {
	e.T.Helper()
	if err := e.upload(script, code, bindings...); err != nil {
		e.T.Fatalf("upload %s: %v", script, err)
	}
}

func queueBinding(name, queue string) cfworkers.ScriptUpdateParamsMetadataBindingUnion {
	return cfworkers.ScriptUpdateParamsMetadataBindingsWorkersBindingKindQueue{
		Name: cloudflare.F(name), Type: cloudflare.F(cfworkers.ScriptUpdateParamsMetadataBindingsWorkersBindingKindQueueTypeQueue),
		QueueName: cloudflare.F(queue),
	}
}

// consumer is a worker consumer request.
func consumer(script, dlq string, s cfqueues.ConsumerNewParamsBodyMqWorkerConsumerRequestSettings) cfqueues.ConsumerNewParamsBodyMqWorkerConsumerRequest {
	c := cfqueues.ConsumerNewParamsBodyMqWorkerConsumerRequest{
		ScriptName: cloudflare.F(script), Type: cloudflare.F(cfqueues.ConsumerNewParamsBodyMqWorkerConsumerRequestTypeWorker),
		Settings: cloudflare.F(s),
	}
	if dlq != "" {
		c.DeadLetterQueue = cloudflare.F(dlq)
	}
	return c
}

func (e *env) addConsumer(queueID string, c cfqueues.ConsumerNewParamsBodyMqWorkerConsumerRequest) (*cfqueues.Consumer, error) {
	return e.queues.Consumers.New(e.ctx, queueID, cfqueues.ConsumerNewParams{AccountID: account, Body: c})
}

func must[T any](_ T, err error) error { return err }
