package localedge_test

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"runtime"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	cf "github.com/cloudflare/cloudflare-go/v7"
	cfkv "github.com/cloudflare/cloudflare-go/v7/kv"
	cfr2 "github.com/cloudflare/cloudflare-go/v7/r2"

	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/edgetest"
)

const bigBody = 200 << 20 // 200 MiB, over every limit but R2's

// streamBody produces a body of about size bytes, head + body repeated + tail, without
// holding it in memory, and counts how much of it the server read.
type streamBody struct {
	head, unit, sep, tail []byte
	size                  int64
	sent                  atomic.Int64
	buf                   bytes.Buffer
	units                 int64
	done                  bool
}

func newStreamBody(head, unit, sep, tail string, size int64) *streamBody {
	b := &streamBody{head: []byte(head), unit: []byte(unit), sep: []byte(sep), tail: []byte(tail), size: size}
	b.buf.Write(b.head)
	return b
}

func (b *streamBody) Read(p []byte) (int, error) {
	for b.buf.Len() < len(p) && !b.done {
		if b.units > 0 {
			b.buf.Write(b.sep)
		}
		b.buf.Write(b.unit)
		b.units++
		if int64(len(b.head))+b.units*int64(len(b.unit)+len(b.sep)) >= b.size {
			b.buf.Write(b.tail)
			b.done = true
		}
	}
	n, err := b.buf.Read(p)
	b.sent.Add(int64(n))
	if err == io.EOF && !b.done {
		err = nil
	}
	return n, err
}

// length is the body's exact size.
func (b *streamBody) length() int64 {
	units := (b.size - int64(len(b.head)) + int64(len(b.unit)+len(b.sep)) - 1) / int64(len(b.unit)+len(b.sep))
	return int64(len(b.head)) + units*int64(len(b.unit)) + (units-1)*int64(len(b.sep)) + int64(len(b.tail))
}

// send PUTs or POSTs the body (with its Content-Length, or chunked) and returns the status,
// the response body, how many bytes the client got to send, and how many bytes the process
// allocated meanwhile. A declared length goes with `Expect: 100-continue`, as curl sends large
// bodies, so a refusal is answered before the body is sent. A chunked body can only be refused
// once the server has read past the limit; the client is then still sending, and the server's
// close may reset the connection before the client reads the answer (on a loaded machine,
// sometimes): status 0 reports that, and the caller checks the server's side instead.
func send(t *testing.T, e *env, method, path, contentType string, body *streamBody, chunked bool) (int, string, int64, uint64) {
	t.Helper()
	var reader io.Reader = body
	req, err := http.NewRequest(method, e.BaseURL+path, reader)
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = body.length()
	if chunked {
		req.ContentLength = -1
	}
	req.Header.Set("Authorization", "Bearer "+edgetest.Token)
	req.Header.Set("Content-Type", contentType)
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true, ExpectContinueTimeout: time.Minute}}
	if !chunked {
		req.Header.Set("Expect", "100-continue")
	}
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	res, err := client.Do(req)
	if err != nil && chunked && errors.Is(err, syscall.ECONNRESET) {
		runtime.ReadMemStats(&after)
		return 0, "", body.sent.Load(), after.TotalAlloc - before.TotalAlloc
	}
	if err != nil {
		t.Fatalf("%s %s: %v (the server must answer, not just close)", method, path, err)
	}
	out, _ := io.ReadAll(res.Body)
	_ = res.Body.Close()
	runtime.ReadMemStats(&after)
	return res.StatusCode, string(out), body.sent.Load(), after.TotalAlloc - before.TotalAlloc
}

// Bodies over an endpoint's limit are refused with the API's error while streaming: a
// declared length over the limit before a byte is read, a chunked body as soon as it goes
// over. Memory stays bounded by the limit whatever the body's size, and an R2 object within
// its limit streams to disk. Not parallel: it measures the process's allocations.
func TestBoundedRequestBodies(t *testing.T) {
	e := newEnv(t)
	n := e.kv.MustCreateNamespace("bounded")
	if _, err := e.r2.Buckets.New(e.ctx, cfr2.BucketNewParams{AccountID: cf.F(edgetest.AccountID), Name: cf.F("bounded")}); err != nil {
		t.Fatal(err)
	}
	item := `{"key":"k","value":"` + strings.Repeat("v", 1<<20) + `"}`
	secretText := strings.Repeat("s", 1<<20)
	const mib = 1 << 20
	cases := []struct {
		name, method, path, contentType string
		body                            func() *streamBody
		chunked                         bool
		status                          int
		code                            string
		maxRead, maxAlloc               int64
	}{
		{"KV bulk write, declared length", "PUT", "/accounts/" + edgetest.AccountID + "/storage/kv/namespaces/" + n.ID + "/bulk", "application/json",
			func() *streamBody { return newStreamBody("[", item, ",", "]", bigBody) }, false, 413, `"code":10033`, 16 * mib, 16 * mib},
		{"KV bulk write, chunked", "PUT", "/accounts/" + edgetest.AccountID + "/storage/kv/namespaces/" + n.ID + "/bulk", "application/json",
			func() *streamBody { return newStreamBody("[", item, ",", "]", bigBody) }, true, 413, `"code":10033`, 116 * mib, 400 * mib},
		{"KV value, declared length", "PUT", "/accounts/" + edgetest.AccountID + "/storage/kv/namespaces/" + n.ID + "/values/big", "application/octet-stream",
			func() *streamBody { return newStreamBody("", strings.Repeat("x", mib), "", "", bigBody) }, false, 413, `"code":10033`, 16 * mib, 16 * mib},
		{"KV value, chunked", "PUT", "/accounts/" + edgetest.AccountID + "/storage/kv/namespaces/" + n.ID + "/values/big", "application/octet-stream",
			func() *streamBody { return newStreamBody("", strings.Repeat("x", mib), "", "", bigBody) }, true, 413, `"code":10033`, 41 * mib, 100 * mib},
		{"secret, declared length", "PUT", "/accounts/" + edgetest.AccountID + "/workers/scripts/any/secrets", "application/json",
			func() *streamBody {
				return newStreamBody(`{"name":"S","type":"secret_text","text":"`, secretText, "", `"}`, bigBody)
			}, false, 400, `"code":10054`, 16 * mib, 16 * mib},
		{"secret, chunked", "PUT", "/accounts/" + edgetest.AccountID + "/workers/scripts/any/secrets", "application/json",
			func() *streamBody {
				return newStreamBody(`{"name":"S","type":"secret_text","text":"`, secretText, "", `"}`, bigBody)
			}, true, 400, `"code":10054`, 16 * mib, 16 * mib},
		{"R2 object within its limit", "PUT", "/accounts/" + edgetest.AccountID + "/r2/buckets/bounded/objects/big.bin", "application/octet-stream",
			func() *streamBody { return newStreamBody("", strings.Repeat("r", mib), "", "", bigBody) }, false, 200, `"size":"209715200"`, bigBody, 32 * mib},
	}
	for _, c := range cases {
		status, out, read, alloc := send(t, e, c.method, c.path, c.contentType, c.body(), c.chunked)
		t.Logf("%s: %d, server read %.1f MiB of %d MiB, process allocated %.1f MiB", c.name, status, float64(read)/mib, bigBody/mib, float64(alloc)/mib)
		if status == 0 && c.status >= 400 {
			t.Logf("%s: the connection was reset after the refusal; the server's side is checked instead", c.name)
		} else if status != c.status || !strings.Contains(out, c.code) {
			t.Fatalf("%s: answered %d %.200s, want %d with %s", c.name, status, out, c.status, c.code)
		}
		if read > c.maxRead {
			t.Errorf("%s: the server read %d bytes, want at most %d", c.name, read, c.maxRead)
		}
		if alloc > uint64(c.maxAlloc) {
			t.Errorf("%s: the process allocated %d bytes, want at most %d", c.name, alloc, c.maxAlloc)
		}
	}
	// Nothing of the refused writes was stored; the R2 object was, whole.
	if keys := e.kv.Keys(n.ID, cfkv.NamespaceKeyListParams{}); len(keys) != 0 {
		t.Fatalf("refused KV writes stored %d keys", len(keys))
	}
	got, err := e.r2.Buckets.Objects.Get(e.ctx, "bounded", "big.bin", cfr2.BucketObjectGetParams{AccountID: cf.F(edgetest.AccountID)})
	if err != nil {
		t.Fatal(err)
	}
	size, _ := io.Copy(io.Discard, got.Body)
	_ = got.Body.Close()
	if size != bigBody {
		t.Fatalf("the R2 object has %d bytes, want %d", size, bigBody)
	}
}
