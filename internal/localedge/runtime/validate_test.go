package runtime_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/api"
	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/deploy"
)

// Validate starts a candidate alone and reports why it cannot run; candidates validated at
// the same time are judged together, each on its own.
func TestValidate(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	candidates := map[string]struct {
		script deploy.Script
		want   string // "" when the candidate runs
	}{
		"good":    {single("good", versioned(1)), ""},
		"syntax":  {single("syntax", esVersion(versionID(2), `export default { fetch( }`)), "SyntaxError"},
		"throws":  {single("throws", esVersion(versionID(3), `throw new Error("at startup"); export default {}`)), "at startup"},
		"binding": {single("binding", esVersion(versionID(4), helloJS, api.Binding{"type": "service", "name": "OTHER", "service": "not-deployed"})), ""},
		"class": {func() deploy.Script {
			s := single("class", esVersion(versionID(5), helloJS, api.Binding{"type": "durable_object_namespace", "name": "DO", "class_name": "Missing"}))
			s.Classes = []deploy.Class{{Class: "Missing", SQLite: true}}
			return s
		}(), `class "Missing" is not exported`},
	}
	var wg sync.WaitGroup
	results := sync.Map{}
	for name, c := range candidates {
		wg.Go(func() { results.Store(name, e.rt.Validate(ctx, c.script)) })
	}
	wg.Wait()
	for name, c := range candidates {
		v, _ := results.Load(name)
		err, _ := v.(error)
		var scriptErr *deploy.ScriptError
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v, want it to run", name, err)
		case c.want != "" && (!errors.As(err, &scriptErr) || !strings.Contains(scriptErr.Message, c.want)):
			t.Errorf("%s: %v, want a script error mentioning %q", name, err, c.want)
		}
	}
	// Validation leaves what is served alone.
	e.apply(deploy.Snapshot{Scripts: []deploy.Script{single("served", versioned(9))}})
	if err := e.rt.Validate(ctx, single("served", esVersion(versionID(10), `nope(`))); err == nil {
		t.Fatal("a broken candidate validated")
	}
	if got := e.getOK("served", "/"); !strings.Contains(got, fmt.Sprint(9)) {
		t.Fatalf("served after a validation: %q", got)
	}
}
