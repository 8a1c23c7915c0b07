package api

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
)

// NewHexID returns a 32-hex-character identifier, the shape of Cloudflare's resource ids.
func NewHexID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// NewUUID returns a random RFC 4122 version 4 UUID, the shape of version and deployment ids.
func NewUUID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
