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
	// Active is the color the active Service selects; empty before init.
	Active Color `json:"active"`
	// LastGood is the color traffic returns to on a rollback. After an
	// operator moves traffic from A to B it is A; after a rollback to A it
	// stays A, so a repeated alert changes nothing.
	LastGood Color `json:"lastGood"`
	// Colors holds what each color runs.
	Colors map[Color]ColorStatus `json:"colors"`
	// History holds every switch, newest first.
	History []SwitchRecord `json:"history"`
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
	// ActiveSince and ActiveReason tell when and why it last became active.
	ActiveSince  time.Time `json:"activeSince,omitempty"`
	ActiveReason string    `json:"activeReason,omitempty"`
}

// SwitchRecord is one move of traffic.
type SwitchRecord struct {
	Time   time.Time `json:"time"`
	From   Color     `json:"from"`
	To     Color     `json:"to"`
	Reason string    `json:"reason"`
	// By is who moved traffic: "operator:<name>" or "alert:<alertname>".
	By string `json:"by"`
	// Incident identifies the alert that caused a rollback (fingerprint and
	// startsAt); one incident causes at most one switch.
	Incident string `json:"incident,omitempty"`
	Rollback bool   `json:"rollback,omitempty"`
}

// SwitchOptions say how and why to move traffic.
type SwitchOptions struct {
	// Force switches even to a color with no ready replica.
	Force    bool
	Reason   string
	By       string
	Incident string
	Rollback bool
}

// Errors a caller can branch on.
var (
	// ErrNotReady: the target color is absent or has no ready replica.
	ErrNotReady = errors.New("target color is not ready")
	// ErrConflict: another switch changed the state first.
	ErrConflict = errors.New("state changed concurrently")
	// ErrIncidentSeen: this incident already caused a switch.
	ErrIncidentSeen = errors.New("incident already handled")
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
