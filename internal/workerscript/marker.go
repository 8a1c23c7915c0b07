package workerscript

import (
	"crypto/sha256"
	"encoding/hex"
	"sort"
	"strings"
)

// CreateMarkerPrefix starts the script tag that a create by this provider carries until it
// has finished (see CreateMarker).
const CreateMarkerPrefix = "servicesdo:creating:"

// CreateMarker is the tag a create uploads with and removes as its last step, so that only
// a create that was interrupted (a crash, a lost or truncated response) leaves it behind.
// Its fingerprint covers what the plan fixes about the code (script name, main module,
// module hashes) and nothing secret: a later apply of the same configuration computes the
// same tag and may adopt the Worker; any other configuration, or a finished create, cannot.
func CreateMarker(name, mainModule string, moduleHashes map[string]string) string {
	modules := make([]string, 0, len(moduleHashes))
	for m, h := range moduleHashes {
		modules = append(modules, m+"="+h)
	}
	sort.Strings(modules)
	sum := sha256.Sum256([]byte("servicesdo create\x00" + name + "\x00" + mainModule + "\x00" + strings.Join(modules, "\x00")))
	return CreateMarkerPrefix + hex.EncodeToString(sum[:8])
}

// CreateMarkers returns the create markers among tags.
func CreateMarkers(tags []string) []string {
	var out []string
	for _, t := range tags {
		if strings.HasPrefix(t, CreateMarkerPrefix) {
			out = append(out, t)
		}
	}
	return out
}
