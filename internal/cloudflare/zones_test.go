package cloudflare

import (
	"strings"
	"testing"
)

func TestGetZone(t *testing.T) {
	e := newWKEnv(t)
	z, err := e.c.GetZone(e.ctx, wkZone)
	if err != nil || z.ID != wkZone || z.Name != wkZoneName || z.Status != "active" {
		t.Fatalf("GetZone = %+v, %v", z, err)
	}
	_, err = e.c.GetZone(e.ctx, "cccccccccccccccccccccccccccccccc")
	wantKind(t, err, ErrValidation, 7003)
	if !strings.Contains(err.Error(), "reading zone cccccccccccccccccccccccccccccccc") {
		t.Errorf("error %q does not say what was attempted", err)
	}
}
