package queues

import (
	"net/http"

	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/api"
)

// Queues' error codes (the 11000s), as the Queues API and wrangler report them.
const (
	codeBadRequest     = 10001 // the API's generic invalid-request code
	codeQueueNotFound  = 11000 // workers.api.error.queue_not_found
	codeConsumerExists = 11004 // workers.api.error.consumer_exists: a queue has one consumer
	codeNotFound       = 11005 // consumer not found
	codeNameTaken      = 11009 // workers.api.error.queue_name_already_taken
	codeInvalidSetting = 11010 // a setting out of its range
)

func errQueueNotFound(id string) *api.Error {
	return api.Errorf(http.StatusNotFound, codeQueueNotFound, "Queue '%s' does not exist", id)
}

func errQueueNameNotFound(name string) *api.Error {
	return api.Errorf(http.StatusNotFound, codeQueueNotFound, "Queue '%s' does not exist: create it (POST /queues) first", name)
}

func errConsumerNotFound(id string) *api.Error {
	return api.Errorf(http.StatusNotFound, codeNotFound, "Consumer '%s' does not exist on this queue", id)
}

func errNameTaken(name string) *api.Error {
	return api.Errorf(http.StatusConflict, codeNameTaken, "A queue named '%s' already exists: queue names are unique within an account", name)
}

func errConsumerExists(queue, script string) *api.Error {
	return api.Errorf(http.StatusConflict, codeConsumerExists, "Queue '%s' already has a consumer (Worker '%s'): a queue has one consumer; delete it before adding another", queue, script)
}

func errBadRequest(format string, args ...any) *api.Error {
	return api.Errorf(http.StatusBadRequest, codeBadRequest, format, args...)
}

func errSetting(format string, args ...any) *api.Error {
	return api.Errorf(http.StatusBadRequest, codeInvalidSetting, format, args...)
}

func errBindingTarget(b api.Binding) *api.Error {
	return api.Errorf(http.StatusBadRequest, 10056, "Queue '%s' not found (binding '%s'): create the queue before binding a Worker to it", b.Str("queue_name"), b.Name())
}
