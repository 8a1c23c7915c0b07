package rollout

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestMarkerRoundTrip(t *testing.T) {
	t.Parallel()
	id := RolloutID(vA, vB, "")
	var markers []Marker
	for _, p := range phases {
		if p == PhasePaused {
			for _, r := range reasons {
				markers = append(markers, Marker{ID: id, Step: 3, Phase: p, Reason: r})
			}
			continue
		}
		for _, step := range []int{0, 1, 42, maxMarkerStep} {
			markers = append(markers, Marker{ID: id, Step: step, Phase: p})
		}
	}
	for _, m := range markers {
		for _, note := range []string{"", "servicesdo canary: step 2/4, 25 % to bbbbbbbb", strings.Repeat("é", 80)} {
			msg := m.Message(note)
			if len(msg) > MaxMessageBytes {
				t.Fatalf("%+v with a %d-byte note renders %d bytes", m, len(note), len(msg))
			}
			if !utf8.ValidString(msg) {
				t.Fatalf("%q is not valid UTF-8 after truncation", msg)
			}
			got, ok, err := ParseMarker(msg)
			if err != nil || !ok || got != m {
				t.Fatalf("ParseMarker(%q) = %+v, %v, %v; want %+v", msg, got, ok, err, m)
			}
		}
	}
}

func TestMarkerLongestFitsWithRoomForANote(t *testing.T) {
	t.Parallel()
	longest := Marker{ID: RolloutID(vA, vB, "x"), Step: maxMarkerStep, Phase: PhasePaused, Reason: ReasonExternalChange}.String()
	if len(longest) != 48 {
		t.Fatalf("the longest marker %q is %d bytes; update the package documentation", longest, len(longest))
	}
	if MaxMessageBytes-len(longest) < 50 {
		t.Fatalf("only %d bytes are left for the note", MaxMessageBytes-len(longest))
	}
}

func TestMarkerMessageTruncatesOnACharacterBoundary(t *testing.T) {
	t.Parallel()
	m := Marker{ID: RolloutID(vA, vB, ""), Step: 2, Phase: PhaseProgressing}
	prefix := m.String() + " "
	// Fill the message so that the 100th byte falls inside a two-byte character.
	note := strings.Repeat("a", MaxMessageBytes-len(prefix)-1) + "éé"
	msg := m.Message(note)
	if want := prefix + strings.Repeat("a", MaxMessageBytes-len(prefix)-1); msg != want {
		t.Fatalf("Message = %q (%d bytes), want %q", msg, len(msg), want)
	}
	if got := m.Message("   "); got != m.String() {
		t.Fatalf("a blank note renders %q", got)
	}
}

func TestParseMarkerForeignAndMalformed(t *testing.T) {
	t.Parallel()
	id := RolloutID(vA, vB, "")
	cases := []struct {
		message string
		wantErr string // "" = not ours, no error
	}{
		{message: ""},
		{message: "Rollback to aaaaaaaa"},
		{message: "tfr"},
		{message: "TFR:" + id + ":1:progressing"},
		{message: "tfr:" + id + ":1", wantErr: "want tfr:<id>:<step>:<phase>"},
		{message: "tfr:" + id + ":1:progressing:extra", wantErr: "want tfr:<id>:<step>:<phase>"},
		{message: "tfr:0123456789:1:progressing", wantErr: `rollout id "0123456789" is not <10 hex>-<6 hex>`},
		{message: "tfr:0123456789-ABCDEF:1:progressing", wantErr: "is not <10 hex>-<6 hex>"},
		{message: "tfr:" + id + ":-1:progressing", wantErr: `step "-1" is not a number from 0 to 999`},
		{message: "tfr:" + id + ":01:progressing", wantErr: `step "01" is not a number`},
		{message: "tfr:" + id + ":1000:progressing", wantErr: `step "1000" is not a number`},
		{message: "tfr:" + id + ":1:done", wantErr: `unknown phase "done"`},
		{message: "tfr:" + id + ":1:paused", wantErr: "a paused marker needs a reason"},
		{message: "tfr:" + id + ":1:paused/bored", wantErr: "a paused marker needs a reason"},
		{message: "tfr:" + id + ":1:progressing/gate", wantErr: "only a paused marker has a reason"},
	}
	for _, tc := range cases {
		m, ok, err := ParseMarker(tc.message)
		if tc.wantErr == "" {
			if ok || err != nil {
				t.Errorf("ParseMarker(%q) = %+v, %v, %v; want not ours", tc.message, m, ok, err)
			}
			continue
		}
		if ok || err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("ParseMarker(%q) = %v, %v; want error %q", tc.message, ok, err, tc.wantErr)
		}
	}
}

func TestRolloutID(t *testing.T) {
	t.Parallel()
	ab, abRetry, ba := RolloutID(vA, vB, ""), RolloutID(vA, vB, "2"), RolloutID(vB, vA, "")
	if ab != RolloutID(vA, vB, "") {
		t.Fatal("RolloutID is not deterministic")
	}
	if !validID(ab) || !validID(abRetry) {
		t.Fatalf("ids %q, %q do not parse", ab, abRetry)
	}
	if ab == abRetry || !SameRollout(ab, abRetry) {
		t.Fatalf("a new retry_token must give a new attempt of the same rollout: %q, %q", ab, abRetry)
	}
	if SameRollout(ab, ba) {
		t.Fatal("swapping stable and candidate must name another rollout")
	}
	if SameRollout(ab, "") || SameRollout("", "") {
		t.Fatal("an empty id names no rollout")
	}
	// The separator keeps ("ab", "c") and ("a", "bc") apart.
	if SameRollout(RolloutID("ab", "c", ""), RolloutID("a", "bc", "")) {
		t.Fatal("version ids are not separated in the hash")
	}
}
