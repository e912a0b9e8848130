package notify

import (
	"context"
	"time"
)

// Event is one thing the deployer did or decided, as receivers get it. Kind
// is the reason of the Kubernetes Event recorded with it (Deployed,
// DeployFailed, Promoted, Switched, RolledBack, RollbackRefused,
// MarkedFailed, Undeployed, ScaledDown, ScaledUp, and the gates' verdicts).
type Event struct {
	Kind string `json:"kind"`
	// Severity is "warning" for what an operator should look at (a failed
	// deploy or gate, a rollback, a refusal), else "info".
	Severity  string    `json:"severity"`
	Time      time.Time `json:"time"`
	Namespace string    `json:"namespace"`
	App       string    `json:"app"`
	// Color is the color the event is about, at Version, with its Standing
	// after the event when the event set one.
	Color    string `json:"color,omitempty"`
	Version  string `json:"version,omitempty"`
	Standing string `json:"standing,omitempty"`
	// From and To are set when traffic moved, or would have.
	From string `json:"from,omitempty"`
	To   string `json:"to,omitempty"`
	// Reason says why; By who acted; Incident names the alert occurrence.
	Reason   string `json:"reason,omitempty"`
	By       string `json:"by,omitempty"`
	Incident string `json:"incident,omitempty"`
	Override bool   `json:"override,omitempty"`
	// Message is the one line a person reads (the Kubernetes Event's message).
	Message string `json:"message"`
	// Details carry a gate's measurements ("f1Weighted": "0.412 < 0.431").
	Details map[string]string `json:"details,omitempty"`
}

// Warning is the Severity of events an operator should look at.
const (
	SeverityInfo    = "info"
	SeverityWarning = "warning"
)

// Notifier takes events to post. Notify never blocks on a receiver and
// never fails the operation: delivery is asynchronous and best effort.
type Notifier interface {
	Notify(ctx context.Context, e Event)
}

// Nop is the Notifier when no receiver is configured.
type Nop struct{}

// Notify does nothing.
func (Nop) Notify(context.Context, Event) {}

// Receiver posts one event to one endpoint, synchronously; the Dispatcher
// calls it from its worker with a deadline.
type Receiver interface {
	// Name identifies the receiver in logs and metrics.
	Name() string
	// Wants says whether the receiver takes events of this kind.
	Wants(kind string) bool
	Send(ctx context.Context, e Event) error
}
