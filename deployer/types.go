package deployer

import (
	"errors"
	"fmt"
	"time"
)

// Color names one of the two releases of the application.
type Color string

// The two colors of a blue-green deployment.
const (
	Blue  Color = "blue"
	Green Color = "green"
)

// Colors lists the valid colors in a stable order.
var Colors = []Color{Blue, Green}

// ParseColor turns user input into a Color, or says which colors exist.
func ParseColor(s string) (Color, error) {
	for _, c := range Colors {
		if string(c) == s {
			return c, nil
		}
	}
	return "", fmt.Errorf("unknown color %q: use blue or green", s)
}

// State is what the cluster records about the blue-green pair: it is read by
// the operator's CLI and by the alert actor alike, so both see one truth.
type State struct {
	// Namespace is where the pair runs.
	Namespace string `json:"namespace"`
	// Active is the color the active Service selects; empty before init.
	Active Color `json:"active"`
	// Colors holds what each color runs and its standing.
	Colors map[Color]ColorStatus `json:"colors"`
	// Rollback is what `remlactl rollback` (and the alert actor) would do now.
	Rollback RollbackPlan `json:"rollback"`
	// History holds every switch and change of standing, newest first.
	History []Record `json:"history"`
}

// RollbackPlan is the answer of the rollback decision on the current state:
// the color traffic would return to, or why it would be refused.
type RollbackPlan struct {
	To      Color  `json:"to,omitempty"`
	Version string `json:"version,omitempty"`
	// Refused says why there is no target ("" when To is set).
	Refused string `json:"refused,omitempty"`
	// ScaleUp is set when the target is a cold standby: the replicas it is
	// scaled up to, and waited for, before traffic moves.
	ScaleUp int32 `json:"scaleUp,omitempty"`
}

// ColorStatus is one color's release as seen in the cluster.
type ColorStatus struct {
	Deployed bool   `json:"deployed"`
	Version  string `json:"version,omitempty"`
	Image    string `json:"image,omitempty"`
	Ready    int32  `json:"ready"`
	Desired  int32  `json:"desired"`
	// Updated counts the replicas running Version; below Desired, a rollout
	// is under way or stuck, and Ready may count pods of the old version.
	Updated int32 `json:"updated"`
	// Rollout is "complete", or what the rollout still waits for, by the
	// test of kubectl rollout status ("1 old replicas are pending termination").
	Rollout string `json:"rollout,omitempty"`
	// Template identifies the pod template the Deployment runs.
	Template string `json:"template,omitempty"`
	// Standing is what the color has proven at that version and template.
	Standing Standing `json:"standing"`
	// ActiveSince and ActiveReason tell when and why it last became active.
	ActiveSince  time.Time `json:"activeSince,omitzero"`
	ActiveReason string    `json:"activeReason,omitempty"`
	// Standby is how the color without traffic is kept (warm or cold, and
	// when the standby policy scales it down); nil for the active color.
	Standby *StandbyStatus `json:"standby,omitempty"`
}

// Stable returns the colors that are stable now, in Colors order.
func (s *State) Stable() []Color {
	var out []Color
	for _, c := range Colors {
		if s.Colors[c].Standing.Phase == Stable {
			out = append(out, c)
		}
	}
	return out
}

// SwitchOptions say how and why to move traffic.
type SwitchOptions struct {
	// Force switches even to a color with no ready replica.
	Force  bool
	Reason string
	// By names who switches; empty means the Deployer's identity.
	By string
	// Bake is the bake window of a target that is not stable; zero means
	// the config's bakeWindow.
	Bake time.Duration
}

// Errors a caller can branch on.
var (
	// ErrNotReady: the target color is absent or has no ready replica.
	ErrNotReady = errors.New("target color is not ready")
	// ErrConflict: another switch changed the state first.
	ErrConflict = errors.New("state changed concurrently")
	// ErrIncidentSeen: this incident already caused a rollback.
	ErrIncidentSeen = errors.New("incident already handled")
	// ErrNoStable: a rollback found no stable color to return to, or the
	// stable color no longer runs the version it proved itself at.
	ErrNoStable = errors.New("no stable color to roll back to")
	// ErrActiveColor: the operation would remove the color serving traffic.
	ErrActiveColor = errors.New("color is active")
	// ErrTimeout: a rollout did not become ready before its deadline.
	ErrTimeout = errors.New("rollout not ready in time")
	// ErrImagePull: the image of the version being deployed cannot be
	// pulled (an unknown version or an unreachable registry).
	ErrImagePull = errors.New("image cannot be pulled")
	// ErrLocked: another operator holds the deployer's Lease.
	ErrLocked = errors.New("another operation holds the lock")
	// ErrNotInitialized: the active Service does not exist yet.
	ErrNotInitialized = errors.New("not initialized")
	// ErrNamespace: the namespace does not exist.
	ErrNamespace = errors.New("namespace not found")
)
