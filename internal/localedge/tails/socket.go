package tails

import (
	"bufio"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// The tail WebSocket is served by hand, not by a WebSocket library: wrangler sends its
// first message unmasked (ws's send with mask: false), which Cloudflare's tail server
// tolerates and RFC 6455 server libraries refuse as a protocol error. The server side needs
// little: the handshake, text frames out, and reading frames only to see the client close.

const websocketGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// socket is an accepted tail WebSocket.
type socket struct {
	conn    net.Conn
	writeMu sync.Mutex    // frames out come from the event loop and from pongs
	closed  chan struct{} // closed when the client closes or goes away
}

// acceptSocket completes the handshake for protocol, or answers an HTTP error.
func acceptSocket(w http.ResponseWriter, r *http.Request, protocol string) (*socket, error) {
	if !headerHas(r.Header, "Connection", "upgrade") || !headerHas(r.Header, "Upgrade", "websocket") {
		http.Error(w, "a tail is a WebSocket: send Upgrade: websocket", http.StatusUpgradeRequired)
		return nil, errors.New("not a WebSocket request")
	}
	key := r.Header.Get("Sec-WebSocket-Key")
	if key == "" || r.Header.Get("Sec-WebSocket-Version") != "13" {
		http.Error(w, "WebSocket version 13 with a Sec-WebSocket-Key is required", http.StatusBadRequest)
		return nil, errors.New("bad WebSocket handshake")
	}
	if !headerHas(r.Header, "Sec-WebSocket-Protocol", protocol) {
		http.Error(w, "the tail protocol is "+protocol, http.StatusBadRequest)
		return nil, errors.New("wrong subprotocol")
	}
	hj, ok := w.(http.Hijacker)
	if !ok {
		http.Error(w, "cannot upgrade this connection", http.StatusInternalServerError)
		return nil, errors.New("not hijackable")
	}
	conn, rw, err := hj.Hijack()
	if err != nil {
		return nil, err
	}
	sum := sha1.Sum([]byte(key + websocketGUID))
	_, err = io.WriteString(conn, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Accept: "+base64.StdEncoding.EncodeToString(sum[:])+"\r\nSec-WebSocket-Protocol: "+protocol+"\r\n\r\n")
	if err != nil {
		_ = conn.Close()
		return nil, err
	}
	s := &socket{conn: conn, closed: make(chan struct{})}
	go s.readUntilClose(rw.Reader)
	return s, nil
}

func headerHas(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for _, item := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(item), token) {
				return true
			}
		}
	}
	return false
}

// maxControlPayload is the largest payload of a control frame (RFC 6455 §5.5).
const maxControlPayload = 125

// readUntilClose reads the client's frames (masked or not) until a close frame or EOF: it
// answers pings (wrangler exits when its ping every 10 s goes unanswered) and discards the rest.
func (s *socket) readUntilClose(r *bufio.Reader) {
	defer close(s.closed)
	var head [2]byte
	for {
		if _, err := io.ReadFull(r, head[:]); err != nil {
			return
		}
		opcode, masked := head[0]&0x0f, head[1]&0x80 != 0
		n := uint64(head[1] & 0x7f)
		switch n {
		case 126:
			var ext [2]byte
			if _, err := io.ReadFull(r, ext[:]); err != nil {
				return
			}
			n = uint64(binary.BigEndian.Uint16(ext[:]))
		case 127:
			var ext [8]byte
			if _, err := io.ReadFull(r, ext[:]); err != nil {
				return
			}
			n = binary.BigEndian.Uint64(ext[:])
		}
		var mask [4]byte
		if masked {
			if _, err := io.ReadFull(r, mask[:]); err != nil {
				return
			}
		}
		if opcode == 0x9 && n <= maxControlPayload {
			payload := make([]byte, n)
			if _, err := io.ReadFull(r, payload); err != nil {
				return
			}
			if masked {
				for i := range payload {
					payload[i] ^= mask[i%4]
				}
			}
			if s.writeFrame(0xA, payload) != nil {
				return
			}
			continue
		}
		if _, err := io.CopyN(io.Discard, r, int64(n)); err != nil {
			return
		}
		if opcode == 0x8 {
			return
		}
	}
}

// writeText sends one text frame.
func (s *socket) writeText(msg []byte) error { return s.writeFrame(0x1, msg) }

// writeFrame sends one final frame with the opcode (servers never mask).
func (s *socket) writeFrame(opcode byte, msg []byte) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	header := []byte{0x80 | opcode}
	switch n := len(msg); {
	case n < 126:
		header = append(header, byte(n))
	case n <= 0xffff:
		header = append(header, 126, byte(n>>8), byte(n))
	default:
		header = append(header, 127)
		header = binary.BigEndian.AppendUint64(header, uint64(n))
	}
	_ = s.conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if _, err := s.conn.Write(header); err != nil {
		return err
	}
	_, err := s.conn.Write(msg)
	return err
}

// close sends a normal close frame and closes the connection.
func (s *socket) close(reason string) {
	_ = s.writeFrame(0x8, append([]byte{0x03, 0xe8}, reason...)) // 1000: normal closure
	_ = s.conn.Close()
}
