package rollout

import (
	"strings"
	"testing"
	"time"
)

func TestTwoWay(t *testing.T) {
	t.Parallel()
	cases := []struct {
		percent float64
		want    Split
	}{
		{0, Split{{vA, 100}, {vB, 0}}}, // a preview keeps the candidate reachable
		{5, Split{{vA, 95}, {vB, 5}}},
		{99, Split{{vA, 1}, {vB, 99}}},
		{100, Only(vB)},
	}
	for _, tc := range cases {
		got := TwoWay(vA, vB, tc.percent)
		if !got.Equal(tc.want) {
			t.Errorf("TwoWay(%v) = %s, want %s", tc.percent, got, tc.want)
		}
		if err := got.Validate(); err != nil {
			t.Errorf("TwoWay(%v) is invalid: %v", tc.percent, err)
		}
	}
}

func TestSplitValidate(t *testing.T) {
	t.Parallel()
	cases := []struct {
		split   Split
		wantErr string
	}{
		{Split{}, "a deployment needs at least one version"},
		{Split{{vA, 50}, {vB, 30}, {vC, 20}}, "a deployment holds at most 2 versions, this one has 3"},
		{Split{{"", 100}}, "version 1 of the deployment has no id"},
		{Split{{vA, 110}, {vB, -10}}, "has 110 %: a share is 0–100 %"},
		{Split{{vA, 50}, {vA, 50}}, "is listed twice"},
		{Split{{vA, 60}, {vB, 30}}, "the shares sum to 90 %, not 100 %"},
		{Split{{vA, 87.5}, {vB, 12.5}}, ""},
	}
	for _, tc := range cases {
		err := tc.split.Validate()
		switch {
		case tc.wantErr == "" && err != nil:
			t.Errorf("%s: %v", tc.split, err)
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("%s: error %v, want %q", tc.split, err, tc.wantErr)
		}
	}
}

func TestSplitEqualIsOrderSensitive(t *testing.T) {
	t.Parallel()
	a, b := TwoWay(vA, vB, 25), Split{{vB, 25}, {vA, 75}}
	if a.Equal(b) {
		t.Fatal("the same shares in another order are another deployment (Durable Objects move)")
	}
	if !a.Equal(Split{{vA, 75 + 1e-12}, {vB, 25}}) {
		t.Fatal("float noise from the API must not count as a change")
	}
	if a.Percent(vB) != 25 || a.Percent(vC) != 0 || !a.Has(vA) || a.Has(vC) {
		t.Fatal("Percent/Has")
	}
	if got := a.Short(); got != "75 % aaaaaaaa, 25 % bbbbbbbb" {
		t.Fatalf("Short = %q", got)
	}
}

func TestFormatDuration(t *testing.T) {
	t.Parallel()
	for d, want := range map[time.Duration]string{
		0: "0s", 90 * time.Second: "1m30s", 5 * time.Minute: "5m", 2 * time.Hour: "2h",
		time.Hour + 30*time.Minute: "1h30m", 4*time.Minute + 10*time.Second + 400*time.Millisecond: "4m10s",
		250 * time.Millisecond: "250ms",
	} {
		if got := formatDuration(d); got != want {
			t.Errorf("formatDuration(%v) = %q, want %q", d, got, want)
		}
	}
}
