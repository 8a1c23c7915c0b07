package cloudflare

import (
	"context"
	"fmt"

	cf "github.com/cloudflare/cloudflare-go/v7"
	"github.com/cloudflare/cloudflare-go/v7/zones"
)

// Zone is a zone of the account: routes and custom domains live in one.
type Zone struct {
	ID     string
	Name   string
	Status string
}

// GetZone reads one zone, e.g. to check at plan time that a route's host is in it. An
// unknown id is a validation error (Cloudflare answers 7003, "Could not route to …").
func (c *Client) GetZone(ctx context.Context, zoneID string) (Zone, error) {
	z, err := c.zones.Get(ctx, zones.ZoneGetParams{ZoneID: cf.F(escape(zoneID))})
	if err != nil {
		return Zone{}, wrap(fmt.Sprintf("reading zone %s", zoneID), err)
	}
	return Zone{ID: z.ID, Name: z.Name, Status: string(z.Status)}, nil
}
