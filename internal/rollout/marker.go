package rollout

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// MaxMessageBytes is the platform's limit on a deployment's workers/message annotation.
const MaxMessageBytes = 100

// MarkerPrefix starts every deployment message this package writes.
const MarkerPrefix = "tfr:"

// maxMarkerStep bounds the step field to three digits (canary steps are 1–99, plus the
// promotion).
const maxMarkerStep = 999

// Marker is what a deployment written by a rollout records in its workers/message
// annotation, so that Read can tell where a rollout stands from the platform alone:
//
//	tfr:<pair>-<attempt>:<step>:<phase>[/<reason>][ <note>]
//
// pair is 10 hex digits of SHA-256(stable, candidate) and names the rollout; attempt is 6 hex
// digits of SHA-256(retry_token) and tells one try of the same rollout from the next; step is
// the step number (0 = before the first step or the blue/green preview; the promotion to
// 100 % is the step after the last); phase is previewing, progressing, promoted, aborted,
// stable or paused, with a reason after a slash only for paused. Anything after the first
// space is a note for humans reading `wrangler deployments list` and is not parsed. The whole
// message is at most MaxMessageBytes bytes: the marker itself takes at most 48.
type Marker struct {
	// ID is RolloutID(stable, candidate, retryToken).
	ID     string
	Step   int
	Phase  Phase
	Reason Reason
}

// RolloutID names a rollout of candidate over stable, for one retry_token. Two ids of the
// same rollout share their first part (see SameRollout).
func RolloutID(stable, candidate, retryToken string) string {
	pair := sha256.Sum256([]byte(stable + "\x00" + candidate))
	try := sha256.Sum256([]byte(retryToken))
	return hex.EncodeToString(pair[:5]) + "-" + hex.EncodeToString(try[:3])
}

// SameRollout reports whether two rollout ids name the same stable and candidate versions,
// whatever their retry tokens.
func SameRollout(a, b string) bool {
	pa, _, okA := strings.Cut(a, "-")
	pb, _, okB := strings.Cut(b, "-")
	return okA && okB && pa == pb
}

// String renders the marker without a note.
func (m Marker) String() string {
	s := MarkerPrefix + m.ID + ":" + strconv.Itoa(m.Step) + ":" + string(m.Phase)
	if m.Phase == PhasePaused {
		s += "/" + string(m.Reason)
	}
	return s
}

// Message renders the marker followed by note, cut on a character boundary so the whole fits
// MaxMessageBytes.
func (m Marker) Message(note string) string {
	s := m.String()
	note = strings.TrimSpace(note)
	if note == "" {
		return s
	}
	s += " " + note
	if len(s) <= MaxMessageBytes {
		return s
	}
	cut := MaxMessageBytes
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return strings.TrimRight(s[:cut], " ")
}

// ParseMarker reads the marker at the start of a deployment message. ok is false when the
// message is not one this package wrote (no MarkerPrefix); err is set when it starts with the
// prefix but is malformed.
func ParseMarker(message string) (m Marker, ok bool, err error) {
	if !strings.HasPrefix(message, MarkerPrefix) {
		return Marker{}, false, nil
	}
	token, _, _ := strings.Cut(message[len(MarkerPrefix):], " ")
	fields := strings.Split(token, ":")
	if len(fields) != 3 {
		return Marker{}, false, fmt.Errorf("deployment message %q: want tfr:<id>:<step>:<phase>", message)
	}
	if !validID(fields[0]) {
		return Marker{}, false, fmt.Errorf("deployment message %q: rollout id %q is not <10 hex>-<6 hex>", message, fields[0])
	}
	step, convErr := strconv.Atoi(fields[1])
	if convErr != nil || step < 0 || step > maxMarkerStep || strconv.Itoa(step) != fields[1] {
		return Marker{}, false, fmt.Errorf("deployment message %q: step %q is not a number from 0 to %d", message, fields[1], maxMarkerStep)
	}
	phase, reason, hasReason := strings.Cut(fields[2], "/")
	m = Marker{ID: fields[0], Step: step, Phase: Phase(phase), Reason: Reason(reason)}
	switch {
	case !m.Phase.valid():
		return Marker{}, false, fmt.Errorf("deployment message %q: unknown phase %q", message, phase)
	case m.Phase == PhasePaused && (!hasReason || !m.Reason.valid()):
		return Marker{}, false, fmt.Errorf("deployment message %q: a paused marker needs a reason (%s)", message, joinQuoted(reasons))
	case m.Phase != PhasePaused && hasReason:
		return Marker{}, false, fmt.Errorf("deployment message %q: only a paused marker has a reason", message)
	}
	return m, true, nil
}

func validID(id string) bool {
	pair, try, ok := strings.Cut(id, "-")
	return ok && len(pair) == 10 && len(try) == 6 && isLowerHex(pair) && isLowerHex(try)
}

func isLowerHex(s string) bool {
	for _, c := range s {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
