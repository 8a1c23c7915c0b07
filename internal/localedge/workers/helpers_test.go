package workers_test

import (
	"bytes"
	"context"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"regexp"
	"strings"
	"testing"

	cloudflare "github.com/cloudflare/cloudflare-go/v7"
	cfdurable "github.com/cloudflare/cloudflare-go/v7/durable_objects"
	cfkv "github.com/cloudflare/cloudflare-go/v7/kv"
	cfr2 "github.com/cloudflare/cloudflare-go/v7/r2"
	cfworkers "github.com/cloudflare/cloudflare-go/v7/workers"

	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge"
	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/edgetest"
)

// A second zone of the test edges, for routes and custom domains in another zone.
const (
	shopZone     = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	shopZoneName = "shop.example.com"
	wCode        = "export default { async fetch(request, env) { return new Response('hi') } }"
)

var hexID = regexp.MustCompile(`^[0-9a-f]{32}$`)

// env is one test's local edge with cloudflare-go's Workers services.
type env struct {
	*edgetest.Env
	ctx     context.Context
	workers *cfworkers.WorkerService
	durable *cfdurable.DurableObjectService
	kv      *cfkv.KVService
	r2      *cfr2.R2Service
}

func newEnv(t *testing.T, opts ...edgetest.Option) *env {
	t.Helper()
	opts = append([]edgetest.Option{edgetest.WithConfig(func(c *localedge.Config) { c.Zones[shopZone] = shopZoneName })}, opts...)
	e := edgetest.Start(t, opts...)
	sdk := e.SDK(edgetest.Token)
	return &env{
		Env: e, ctx: context.Background(), workers: cfworkers.NewWorkerService(sdk...),
		durable: cfdurable.NewDurableObjectService(sdk...), kv: cfkv.NewKVService(sdk...), r2: cfr2.NewR2Service(sdk...),
	}
}

func wModule(name, code string) io.Reader {
	return cloudflare.FileParam(strings.NewReader(code), name, "application/javascript+module").Value
}

// upload PUTs a script through the SDK with index.js as main module unless md names another.
func (e *env) upload(name string, md cfworkers.ScriptUpdateParamsMetadata, files ...io.Reader) (*cfworkers.ScriptUpdateResponse, error) {
	if !md.MainModule.Present {
		md.MainModule = cloudflare.F("index.js")
	}
	if len(files) == 0 {
		files = []io.Reader{wModule("index.js", wCode)}
	}
	return e.workers.Scripts.Update(e.ctx, name, cfworkers.ScriptUpdateParams{
		AccountID: cloudflare.F(edgetest.AccountID), Metadata: cloudflare.F(md), Files: cloudflare.F(files),
	})
}

func (e *env) mustUpload(name string, md cfworkers.ScriptUpdateParamsMetadata, files ...io.Reader) *cfworkers.ScriptUpdateResponse {
	e.T.Helper()
	res, err := e.upload(name, md, files...)
	if err != nil {
		e.T.Fatalf("upload %s: %v", name, err)
	}
	return res
}

// wBind builds an upload binding of any type.
func wBind(typ, name string, fields func(b *cfworkers.ScriptUpdateParamsMetadataBinding)) cfworkers.ScriptUpdateParamsMetadataBindingUnion {
	b := cfworkers.ScriptUpdateParamsMetadataBinding{Name: cloudflare.F(name), Type: cloudflare.F(cfworkers.ScriptUpdateParamsMetadataBindingsType(typ))}
	if fields != nil {
		fields(&b)
	}
	return b
}

// wWithBindings sets the upload's bindings.
func wWithBindings(md cfworkers.ScriptUpdateParamsMetadata, bs ...cfworkers.ScriptUpdateParamsMetadataBindingUnion) cfworkers.ScriptUpdateParamsMetadata {
	md.Bindings = cloudflare.F(bs)
	return md
}

// wRawPart is one part of a hand-built multipart body.
type wRawPart struct {
	name, filename, contentType, body string
}

// rawRequest sends a request with the test token and returns the status, headers and body.
func (e *env) rawRequest(method, path, contentType string, body []byte) (int, http.Header, []byte) {
	e.T.Helper()
	header := http.Header{}
	if contentType != "" {
		header.Set("Content-Type", contentType)
	}
	return e.Raw(method, path, header, bytes.NewReader(body))
}

// rawMultipart sends hand-built parts (e.g. wrangler's JSON metadata part).
func (e *env) rawMultipart(method, path string, parts ...wRawPart) (int, []byte) {
	e.T.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, p := range parts {
		h := textproto.MIMEHeader{}
		disp := `form-data; name="` + p.name + `"`
		if p.filename != "" {
			disp += `; filename="` + p.filename + `"`
		}
		h.Set("Content-Disposition", disp)
		if p.contentType != "" {
			h.Set("Content-Type", p.contentType)
		}
		w, err := mw.CreatePart(h)
		if err != nil {
			e.T.Fatal(err)
		}
		_, _ = w.Write([]byte(p.body))
	}
	_ = mw.Close()
	status, _, body := e.rawRequest(method, path, mw.FormDataContentType(), buf.Bytes())
	return status, body
}

func wScriptPath(name string) string {
	return "/accounts/" + edgetest.AccountID + "/workers/scripts/" + name
}
