package rollout

import (
	"strconv"
	"strings"
	"time"
)

// Strategy is how a new version reaches 100 % of the traffic.
type Strategy string

// Strategies.
const (
	// StrategyImmediate moves all traffic at once, in one step; the only strategy a version
	// with a Durable Object migration can use.
	StrategyImmediate Strategy = "immediate"
	// StrategyRolling moves traffic in equal batches of Rolling.BatchPercent.
	StrategyRolling Strategy = "rolling"
	// StrategyCanary walks the configured Steps.
	StrategyCanary Strategy = "canary"
	// StrategyBlueGreen deploys the candidate at 0 % (reachable only with the version-override
	// header), checks it, then switches all traffic at once.
	StrategyBlueGreen Strategy = "blue_green"
)

// Strategies lists the valid strategies, in documentation order.
var Strategies = []Strategy{StrategyImmediate, StrategyRolling, StrategyCanary, StrategyBlueGreen}

// GateManual is the value of Step.Gate that makes entering the step wait for approval.
const GateManual = "manual"

// InconclusivePolicy says what a step whose checks never gathered enough data does when its
// hold ends.
type InconclusivePolicy string

// Inconclusive policies.
const (
	// InconclusivePause pauses the rollout (traffic stays); the next apply checks again.
	InconclusivePause InconclusivePolicy = "pause"
	// InconclusiveFail treats the step as failed: the rollout aborts (or pauses, per OnFailure).
	InconclusiveFail InconclusivePolicy = "fail"
	// InconclusivePass moves on as if the checks had passed.
	InconclusivePass InconclusivePolicy = "pass"
)

// OnFailure says what a failed analysis does.
type OnFailure string

// Failure actions.
const (
	// OnFailureRollback returns all traffic to the stable version (the default).
	OnFailureRollback OnFailure = "rollback"
	// OnFailurePause leaves the traffic where it is and pauses, for someone to look.
	OnFailurePause OnFailure = "pause"
)

// Step is one configured canary step.
type Step struct {
	// Percent is the candidate's share during the step, 1–99.
	Percent int
	// Hold is how long the step lasts, analysing, before the next one.
	Hold time.Duration
	// Gate is GateManual when entering the step needs approved_through_step ≥ its number.
	Gate string
}

// Rolling configures StrategyRolling.
type Rolling struct {
	// BatchPercent is the share each batch adds, 1–99: 25 gives steps of 25, 50 and 75 %.
	BatchPercent int
	// Hold is how long each batch lasts.
	Hold time.Duration
}

// BlueGreen configures StrategyBlueGreen.
type BlueGreen struct {
	// AutoPromote switches traffic once the preview has held for AutoPromoteAfter with its
	// checks passing. Without it the switch is a manual gate: approved_through_step = 1.
	AutoPromote      bool
	AutoPromoteAfter time.Duration
}

// Metric is a threshold on one per-version metric of the candidate.
type Metric struct {
	// Max is the largest passing value (an error rate is a fraction, 0–1).
	Max float64
	// MinRequests is how many candidate requests the window needs for a verdict; with fewer,
	// the metric is inconclusive.
	MinRequests int64
}

// Probe is a health request sent to the candidate through the version-override header.
type Probe struct {
	Path         string
	ExpectStatus int // 0 means 200
	Timeout      time.Duration
}

// DefaultInterval is the time between checks when Analysis.Interval is zero.
const DefaultInterval = time.Minute

// Analysis configures the checks that run during holds.
type Analysis struct {
	// Interval is the time between checks during a hold; a check also runs when a hold ends
	// (0 means DefaultInterval).
	Interval time.Duration
	// FailureLimit is how many failed checks abort the rollout, counted over the whole
	// rollout attempt (a passing check does not reset the count); 0 means 1.
	FailureLimit int
	// Inconclusive is what a hold that ends without enough data does ("" means pause).
	Inconclusive InconclusivePolicy
	// Probe, when set, is sent to the candidate at every check.
	Probe *Probe
	// ErrorRate and P99LatencyMs, when set, are checked on the candidate's analytics.
	ErrorRate    *Metric
	P99LatencyMs *Metric
	// Delay is how far behind real time the analytics are: a check at time t reads the window
	// that ends at t − Delay (zero on the local edge; a few minutes on Cloudflare).
	Delay time.Duration
}

// Config is a servicesdo_deployment's configuration, in the package's terms.
type Config struct {
	// Target is version_id. "" means not known until apply: a version still to be uploaded,
	// which is neither the stable nor the candidate version.
	Target    string
	Strategy  Strategy
	Steps     []Step
	Rolling   *Rolling
	BlueGreen *BlueGreen
	Analysis  *Analysis
	// ApprovedThroughStep approves the manual gates of steps 1..ApprovedThroughStep.
	ApprovedThroughStep int
	// RetryToken: changing it retries an aborted (or failed and paused) rollout.
	RetryToken string
	// MaxApplyDuration bounds the holds one apply walks; 0 means no bound.
	MaxApplyDuration time.Duration
	// OnFailure is what a failed analysis does ("" means rollback).
	OnFailure OnFailure
}

func (c Config) withDefaults() Config {
	if c.OnFailure == "" {
		c.OnFailure = OnFailureRollback
	}
	if c.Analysis != nil {
		a := *c.Analysis
		if a.Interval <= 0 {
			a.Interval = DefaultInterval
		}
		if a.FailureLimit <= 0 {
			a.FailureLimit = 1
		}
		if a.Inconclusive == "" {
			a.Inconclusive = InconclusivePause
		}
		if a.Probe != nil && a.Probe.ExpectStatus == 0 {
			p := *a.Probe
			p.ExpectStatus = 200
			a.Probe = &p
		}
		c.Analysis = &a
	}
	return c
}

// Stage is one split of a rollout's path, as the configuration defines it.
type Stage struct {
	// Step numbers stages: 0 is the blue/green preview, 1..N the steps (canary steps, rolling
	// batches), N+1 the promotion to 100 % (for immediate, the promotion is step 1; for
	// blue/green, the switch is step 1).
	Step int
	// Percent is the candidate's share.
	Percent int
	// Hold is how long the stage lasts before the next.
	Hold time.Duration
	// Gate makes entering the stage wait for approved_through_step ≥ Step.
	Gate bool
}

// Promotion reports whether the stage moves the candidate to 100 %.
func (s Stage) Promotion() bool { return s.Percent >= 100 }

// Stages expands a configuration into the splits of its rollout, in order; the last one is
// always the promotion to 100 %.
func Stages(cfg Config) []Stage {
	var out []Stage
	switch cfg.Strategy {
	case StrategyCanary:
		for i, s := range cfg.Steps {
			out = append(out, Stage{Step: i + 1, Percent: s.Percent, Hold: s.Hold, Gate: s.Gate == GateManual})
		}
	case StrategyRolling:
		if r := cfg.Rolling; r != nil && r.BatchPercent > 0 && r.BatchPercent < 100 {
			for p, i := r.BatchPercent, 1; p < 100; p, i = p+r.BatchPercent, i+1 {
				out = append(out, Stage{Step: i, Percent: p, Hold: r.Hold})
			}
		}
	case StrategyBlueGreen:
		bg := BlueGreen{}
		if cfg.BlueGreen != nil {
			bg = *cfg.BlueGreen
		}
		hold := time.Duration(0)
		if bg.AutoPromote {
			hold = bg.AutoPromoteAfter
		}
		return []Stage{{Step: 0, Percent: 0, Hold: hold}, {Step: 1, Percent: 100, Gate: !bg.AutoPromote}}
	}
	return append(out, Stage{Step: len(out) + 1, Percent: 100})
}

// GateableSteps is the highest step number approved_through_step can meaningfully name.
func GateableSteps(cfg Config) int {
	switch cfg.Strategy {
	case StrategyBlueGreen:
		return 1
	case StrategyImmediate:
		return 0
	}
	return len(Stages(cfg)) - 1
}

func joinQuoted[T ~string](vs []T) string {
	q := make([]string, len(vs))
	for i, v := range vs {
		q[i] = strconv.Quote(string(v))
	}
	return strings.Join(q, ", ")
}
