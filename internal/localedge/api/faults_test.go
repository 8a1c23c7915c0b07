package api_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/api"
)

func TestParseFaults(t *testing.T) {
	t.Parallel()
	got, err := api.ParseFaults(" 429=0.1, 5xx=0.2,drop=0.05,drop-after-commit=0.01,truncate=0.05,latency=50ms,")
	if err != nil {
		t.Fatal(err)
	}
	want := []api.Fault{
		{Kind: api.FaultRateLimit, Rate: 0.1, RetryAfter: "1"},
		{Kind: api.FaultServerError, Rate: 0.2},
		{Kind: api.FaultDrop, Rate: 0.05},
		{Kind: api.FaultDropAfterCommit, Rate: 0.01},
		{Kind: api.FaultTruncate, Rate: 0.05},
		{Kind: api.FaultLatency, Latency: 50 * time.Millisecond},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("ParseFaults = %+v\nwant %+v", got, want)
	}
	if none, err := api.ParseFaults(""); err != nil || len(none) != 0 {
		t.Fatalf("empty spec = %v, %v", none, err)
	}
	for spec, want := range map[string]string{
		"429":          "want KIND=VALUE",
		"429=2":        "at most 1",
		"5xx=0":        "greater than 0",
		"5xx=often":    "must be a number",
		"latency=fast": "positive duration",
		"latency=-1s":  "positive duration",
		"teapot=0.5":   `unknown kind "teapot"`,
	} {
		if _, err := api.ParseFaults(spec); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseFaults(%q) = %v, want an error containing %q", spec, err, want)
		}
	}
}
