package localedge

import (
	"bytes"
	"context"
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"regexp"
	"strings"
	"testing"

	cloudflare "github.com/cloudflare/cloudflare-go/v7"
	"github.com/cloudflare/cloudflare-go/v7/option"
	"github.com/cloudflare/cloudflare-go/v7/workers"
)

const (
	wAccount  = "0123456789abcdef0123456789abcdef"
	wToken    = "workers-test-token"
	wZone     = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	wZoneName = "example.com"
	wCode     = "export default { async fetch(request, env) { return new Response('hi') } }"
)

var wHex32 = regexp.MustCompile(`^[0-9a-f]{32}$`)

// workersEnv is one test's local edge and SDK client.
type workersEnv struct {
	t      *testing.T
	srv    *Server
	ts     *httptest.Server
	client *cloudflare.Client
	ctx    context.Context
}

// newWorkersEnv starts a fresh local edge. NewClient reads CLOUDFLARE_* variables first, so
// they are blanked (which rules out t.Parallel).
func newWorkersEnv(t *testing.T) *workersEnv {
	t.Helper()
	for _, k := range []string{"CLOUDFLARE_API_TOKEN", "CLOUDFLARE_BASE_URL", "CLOUDFLARE_API_KEY", "CLOUDFLARE_EMAIL", "CLOUDFLARE_API_USER_SERVICE_KEY"} {
		t.Setenv(k, "")
	}
	srv, err := New(Config{AccountID: wAccount, Token: wToken, Zones: map[string]string{wZone: wZoneName, "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb": "shop.example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(func() {
		ts.Close()
		_ = srv.Close()
	})
	client := cloudflare.NewClient(option.WithBaseURL(ts.URL+"/client/v4"), option.WithAPIToken(wToken), option.WithMaxRetries(0))
	return &workersEnv{t: t, srv: srv, ts: ts, client: client, ctx: context.Background()}
}

func wModule(name, code string) io.Reader {
	return cloudflare.FileParam(strings.NewReader(code), name, "application/javascript+module").Value
}

// upload PUTs a script through the SDK with index.js as main module unless md names another.
func (e *workersEnv) upload(name string, md workers.ScriptUpdateParamsMetadata, files ...io.Reader) (*workers.ScriptUpdateResponse, error) {
	if !md.MainModule.Present {
		md.MainModule = cloudflare.F("index.js")
	}
	if len(files) == 0 {
		files = []io.Reader{wModule("index.js", wCode)}
	}
	return e.client.Workers.Scripts.Update(e.ctx, name, workers.ScriptUpdateParams{
		AccountID: cloudflare.F(wAccount), Metadata: cloudflare.F(md), Files: cloudflare.F(files),
	})
}

func (e *workersEnv) mustUpload(name string, md workers.ScriptUpdateParamsMetadata, files ...io.Reader) *workers.ScriptUpdateResponse {
	e.t.Helper()
	res, err := e.upload(name, md, files...)
	if err != nil {
		e.t.Fatalf("upload %s: %v", name, err)
	}
	return res
}

// wBind builds an upload binding of any type.
func wBind(typ, name string, fields func(b *workers.ScriptUpdateParamsMetadataBinding)) workers.ScriptUpdateParamsMetadataBindingUnion {
	b := workers.ScriptUpdateParamsMetadataBinding{Name: cloudflare.F(name), Type: cloudflare.F(workers.ScriptUpdateParamsMetadataBindingsType(typ))}
	if fields != nil {
		fields(&b)
	}
	return b
}

// wWithBindings sets the upload's bindings.
func wWithBindings(md workers.ScriptUpdateParamsMetadata, bs ...workers.ScriptUpdateParamsMetadataBindingUnion) workers.ScriptUpdateParamsMetadata {
	md.Bindings = cloudflare.F(bs)
	return md
}

// wantAPIError asserts err is a *cloudflare.Error with the status and first error code.
func wantAPIError(t *testing.T, err error, status int, code int64) *cloudflare.Error {
	t.Helper()
	var cfErr *cloudflare.Error
	if !errors.As(err, &cfErr) {
		t.Fatalf("want *cloudflare.Error %d/%d, got %v", status, code, err)
	}
	if cfErr.StatusCode != status {
		t.Fatalf("want status %d, got %d: %v", status, cfErr.StatusCode, err)
	}
	if len(cfErr.Errors) == 0 || cfErr.Errors[0].Code != code {
		t.Fatalf("want code %d, got %v", code, cfErr.Errors)
	}
	return cfErr
}

// wRawPart is one part of a hand-built multipart body.
type wRawPart struct {
	name, filename, contentType, body string
}

// rawRequest sends a request with the test token and returns the status, headers and body.
func (e *workersEnv) rawRequest(method, path, contentType string, body []byte) (int, http.Header, []byte) {
	e.t.Helper()
	req, err := http.NewRequest(method, e.ts.URL+APIPrefix+path, bytes.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+wToken)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	res, err := e.ts.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	out, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return res.StatusCode, res.Header, out
}

// rawMultipart sends hand-built parts (e.g. wrangler's JSON metadata part).
func (e *workersEnv) rawMultipart(method, path string, parts ...wRawPart) (int, []byte) {
	e.t.Helper()
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
			e.t.Fatal(err)
		}
		_, _ = w.Write([]byte(p.body))
	}
	_ = mw.Close()
	status, _, body := e.rawRequest(method, path, mw.FormDataContentType(), buf.Bytes())
	return status, body
}

func wScriptPath(name string) string { return "/accounts/" + wAccount + "/workers/scripts/" + name }
