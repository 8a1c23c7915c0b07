package tails_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	cf "github.com/cloudflare/cloudflare-go/v7"
	cfworkers "github.com/cloudflare/cloudflare-go/v7/workers"

	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/edgetest"
	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/tails"
)

func upload(t *testing.T, e *edgetest.Env, name string) {
	t.Helper()
	_, err := cfworkers.NewWorkerService(e.SDK(edgetest.Token)...).Scripts.Update(context.Background(), name, cfworkers.ScriptUpdateParams{
		AccountID: cf.F(edgetest.AccountID),
		Metadata:  cf.F(cfworkers.ScriptUpdateParamsMetadata{MainModule: cf.F("index.js")}),
		Files:     cf.F([]io.Reader{cf.FileParam(strings.NewReader("export default { fetch() { return new Response('x') } }"), "index.js", "application/javascript+module").Value}),
	})
	if err != nil {
		t.Fatal(err)
	}
}

// dial opens the tail's WebSocket as wrangler does (trace-v1) and sends an unmasked first
// message, as wrangler does; it returns the connection and a reader of its frames.
func dial(t *testing.T, url string) (net.Conn, *bufio.Reader) {
	t.Helper()
	addr := strings.TrimPrefix(url, "ws://")
	host, path, _ := strings.Cut(addr, "/")
	conn, err := net.Dial("tcp", host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	key := make([]byte, 16)
	_, _ = rand.Read(key)
	_, _ = io.WriteString(conn, "GET /"+path+" HTTP/1.1\r\nHost: "+host+"\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"+
		"Sec-WebSocket-Key: "+base64.StdEncoding.EncodeToString(key)+"\r\nSec-WebSocket-Protocol: trace-v1\r\n\r\n")
	r := bufio.NewReader(conn)
	res, err := http.ReadResponse(r, nil)
	if err != nil || res.StatusCode != http.StatusSwitchingProtocols || res.Header.Get("Sec-WebSocket-Protocol") != "trace-v1" {
		t.Fatalf("handshake: %v %v", res, err)
	}
	msg := []byte(`{"debug":false}`)
	_, _ = conn.Write(append([]byte{0x81, byte(len(msg))}, msg...))
	return conn, r
}

// readFrame reads one server frame: opcode and payload.
func readFrame(t *testing.T, conn net.Conn, r *bufio.Reader) (byte, []byte) {
	t.Helper()
	_ = conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	var head [2]byte
	if _, err := io.ReadFull(r, head[:]); err != nil {
		t.Fatal(err)
	}
	n := uint64(head[1] & 0x7f)
	switch n {
	case 126:
		var ext [2]byte
		_, _ = io.ReadFull(r, ext[:])
		n = uint64(binary.BigEndian.Uint16(ext[:]))
	case 127:
		var ext [8]byte
		_, _ = io.ReadFull(r, ext[:])
		n = binary.BigEndian.Uint64(ext[:])
	}
	payload := make([]byte, n)
	if _, err := io.ReadFull(r, payload); err != nil {
		t.Fatal(err)
	}
	return head[0] & 0x0f, payload
}

func TestTailSessions(t *testing.T) {
	t.Parallel()
	e := edgetest.Start(t)
	upload(t, e, "w")
	svc := cfworkers.NewWorkerService(e.SDK(edgetest.Token)...)
	ctx := context.Background()
	acct := cf.F(edgetest.AccountID)

	_, err := svc.Scripts.Tail.New(ctx, "missing", cfworkers.ScriptTailNewParams{AccountID: acct, Body: map[string]any{"filters": []any{}}})
	edgetest.WantAPIError(t, err, http.StatusNotFound, 10007)
	_, err = svc.Scripts.Tail.Get(ctx, "w", cfworkers.ScriptTailGetParams{AccountID: acct})
	edgetest.WantAPIError(t, err, http.StatusNotFound, 10007)

	tail, err := svc.Scripts.Tail.New(ctx, "w", cfworkers.ScriptTailNewParams{AccountID: acct, Body: map[string]any{"filters": []any{map[string]any{"method": []string{"POST"}}}}})
	if err != nil {
		t.Fatal(err)
	}
	if tail.ID == "" || !strings.HasPrefix(tail.URL, "ws://") || !strings.HasSuffix(tail.URL, tails.PathPrefix+tail.ID) || tail.ExpiresAt == "" {
		t.Fatalf("tail = %s", tail.JSON.RawJSON())
	}
	got, err := svc.Scripts.Tail.Get(ctx, "w", cfworkers.ScriptTailGetParams{AccountID: acct})
	if err != nil || got.ID != tail.ID {
		t.Fatalf("get = %v, %v", got, err)
	}

	conn, r := dial(t, tail.URL)
	deadline := time.Now().Add(30 * time.Second)
	for !e.Server.Tails().Listening("w") {
		if time.Now().After(deadline) {
			t.Fatal("the socket never counted as listening")
		}
		time.Sleep(10 * time.Millisecond)
	}
	// The filter keeps only POSTs.
	e.Server.Tails().Publish(tails.Event{Outcome: "ok", ScriptName: "w", Event: tails.RequestEvent{Request: tails.Request{Method: "GET", URL: "http://w/"}}})
	e.Server.Tails().Publish(tails.Event{Outcome: "ok", ScriptName: "other", Event: tails.RequestEvent{Request: tails.Request{Method: "POST", URL: "http://other/"}}})
	e.Server.Tails().Publish(tails.Event{Outcome: "ok", ScriptName: "w", Event: tails.RequestEvent{Request: tails.Request{Method: "POST", URL: "http://w/post"}}})
	op, payload := readFrame(t, conn, r)
	var ev struct {
		ScriptName string `json:"scriptName"`
		Event      struct {
			Request struct{ URL, Method string } `json:"request"`
		} `json:"event"`
	}
	if err := json.Unmarshal(payload, &ev); err != nil || op != 0x1 || ev.ScriptName != "w" || ev.Event.Request.URL != "http://w/post" {
		t.Fatalf("first event: op %d %s", op, payload)
	}

	if _, err := svc.Scripts.Tail.Delete(ctx, "w", tail.ID, cfworkers.ScriptTailDeleteParams{AccountID: acct}); err != nil {
		t.Fatal(err)
	}
	if op, _ := readFrame(t, conn, r); op != 0x8 {
		t.Fatalf("after DELETE the socket got opcode %d, want close", op)
	}
	_, err = svc.Scripts.Tail.Delete(ctx, "w", tail.ID, cfworkers.ScriptTailDeleteParams{AccountID: acct})
	edgetest.WantAPIError(t, err, http.StatusNotFound, 10007)
	res, err := http.Get(strings.Replace(tail.URL, "ws://", "http://", 1))
	if err != nil {
		t.Fatal(err)
	}
	_ = res.Body.Close()
	if res.StatusCode != http.StatusNotFound {
		t.Fatalf("a deleted tail's URL answers %d", res.StatusCode)
	}
}

// Pings are answered, and a client that closes its socket stops counting as a listener.
func TestTailClientClose(t *testing.T) {
	t.Parallel()
	e := edgetest.Start(t)
	upload(t, e, "w")
	tail, err := cfworkers.NewWorkerService(e.SDK(edgetest.Token)...).Scripts.Tail.New(context.Background(), "w", cfworkers.ScriptTailNewParams{AccountID: cf.F(edgetest.AccountID), Body: map[string]any{}})
	if err != nil {
		t.Fatal(err)
	}
	conn, r := dial(t, tail.URL)
	for deadline := time.Now().Add(30 * time.Second); !e.Server.Tails().Listening("w"); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("never listening")
		}
	}
	// A ping (masked, as clients send) is answered with a pong carrying its payload.
	payload := []byte("wrangler tail ping")
	mask := []byte{9, 8, 7, 6}
	frame := append([]byte{0x89, 0x80 | byte(len(payload))}, mask...)
	for i, b := range payload {
		frame = append(frame, b^mask[i%4])
	}
	_, _ = conn.Write(frame)
	if op, got := readFrame(t, conn, r); op != 0xA || string(got) != string(payload) {
		t.Fatalf("ping answered with opcode %d %q, want a pong with its payload", op, got)
	}
	_, _ = conn.Write([]byte{0x88, 0x80, 1, 2, 3, 4}) // masked close, empty payload
	for deadline := time.Now().Add(30 * time.Second); e.Server.Tails().Listening("w"); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("still listening after the client closed")
		}
	}
}

func TestTailsByConsumer(t *testing.T) {
	t.Parallel()
	e := edgetest.Start(t)
	upload(t, e, "consumer")
	upload(t, e, "producer")
	status, _, body := e.Raw(http.MethodGet, "/accounts/"+edgetest.AccountID+"/workers/tails/by-consumer/consumer", nil, nil)
	if status != http.StatusOK || !strings.Contains(string(body), `"result":[]`) {
		t.Fatalf("no producers yet: %d %s", status, body)
	}
	patch := `{"tail_consumers":[{"service":"consumer"}]}`
	status, _, body = e.Raw(http.MethodPatch, "/accounts/"+edgetest.AccountID+"/workers/scripts/producer/script-settings", http.Header{"Content-Type": {"application/json"}}, strings.NewReader(patch))
	if status != http.StatusOK {
		t.Fatalf("setting tail consumers: %d %s", status, body)
	}
	status, _, body = e.Raw(http.MethodGet, "/accounts/"+edgetest.AccountID+"/workers/tails/by-consumer/consumer", nil, nil)
	if status != http.StatusOK || !strings.Contains(string(body), `"producer":{"script":"producer"}`) {
		t.Fatalf("producers: %d %s", status, body)
	}
	status, _, _ = e.Raw(http.MethodGet, "/accounts/"+edgetest.AccountID+"/workers/tails/by-consumer/missing", nil, nil)
	if status != http.StatusNotFound {
		t.Fatalf("a missing consumer answers %d", status)
	}
}
