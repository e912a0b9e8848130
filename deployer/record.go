package deployer

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// EventReason names what happened: it is the event of a history record and
// the reason of the Kubernetes Event recorded with it on the active Service.
// Gates and watchers add their own reasons here.
type EventReason string

// The events the deployer records.
const (
	EventDeployed        EventReason = "Deployed"        // a color's rollout completed at a version
	EventDeployFailed    EventReason = "DeployFailed"    // a color's rollout failed or was interrupted
	EventPromoted        EventReason = "Promoted"        // a color became stable
	EventSwitched        EventReason = "Switched"        // traffic moved by a deliberate switch
	EventRolledBack      EventReason = "RolledBack"      // traffic moved back to a stable color
	EventRollbackRefused EventReason = "RollbackRefused" // a rollback was asked for and refused
	EventMarkedFailed    EventReason = "MarkedFailed"    // a color was marked failed at a version
	EventUndeployed      EventReason = "Undeployed"      // a color's release was removed
	EventScaledDown      EventReason = "ScaledDown"      // the standby color was scaled down by the standby policy
	EventScaledUp        EventReason = "ScaledUp"        // a cold standby was scaled back up for a rollback
)

// warning says which events are Kubernetes Events of type Warning: those
// an operator should look at.
var warning = map[EventReason]bool{
	EventDeployFailed: true, EventRolledBack: true, EventRollbackRefused: true, EventMarkedFailed: true,
	EventAnalysisFailed: true, EventAnalysisSkipped: true,
}

// Record is one entry of the history: a move of traffic, a change of a
// color's standing, or a refused rollback.
type Record struct {
	Time time.Time `json:"time"`
	// Event is what happened; records written before standings existed have
	// none and were switches.
	Event EventReason `json:"event,omitempty"`
	// Color is the color the record is about (the target of a switch, the
	// color promoted, marked failed or deployed), at Version.
	Color   Color  `json:"color,omitempty"`
	Version string `json:"version,omitempty"`
	// Standing is Color's phase after this event, when the event set it.
	Standing Phase `json:"standing,omitempty"`
	// From and To are set when traffic moved (or a rollback was refused).
	From   Color  `json:"from,omitempty"`
	To     Color  `json:"to,omitempty"`
	Reason string `json:"reason"`
	// By is who acted: "operator:<user>@<host>", "alert:<alertname>",
	// "alert-actor:<user>@<host>".
	By string `json:"by"`
	// Incident identifies the alert (fingerprint@startsAt) of a rollback
	// or a refused one; one incident causes at most one rollback.
	Incident string `json:"incident,omitempty"`
	// Override: a rollback to a color that was not stable (rollback --to).
	Override bool `json:"override,omitempty"`
}

// Kind is the record's event, with records from before standings read as
// switches.
func (r Record) Kind() EventReason {
	if r.Event == "" {
		return EventSwitched
	}
	return r.Event
}

// Limits on what a record may hold, so that no input (an alert's labels, a
// --reason) can grow the history annotation past what the API server
// accepts: 256 KiB for all annotations of an object together.
const (
	maxReason   = 256
	maxBy       = 128
	maxIncident = 128
	// maxHistoryBytes bounds the encoded history; the oldest records go
	// first. With every field at its limit, about 100 records fit.
	maxHistoryBytes = 96 << 10
)

// capped returns r with every free-text field cut to its limit.
func (r Record) capped() Record {
	r.Reason = Truncate(r.Reason, maxReason)
	r.By = Truncate(r.By, maxBy)
	r.Incident = Truncate(r.Incident, maxIncident)
	r.Version = Truncate(r.Version, 63)
	return r
}

// Truncate cuts s to at most n bytes on a UTF-8 boundary, marking the cut
// with "…" (3 bytes, included in n).
func Truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const mark = "…"
	cut := max(n-len(mark), 0)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + mark
}

// message is the Event's message: what happened, why, and who did it.
func (r Record) message() string {
	var b strings.Builder
	switch r.Kind() {
	case EventSwitched, EventRolledBack:
		fmt.Fprintf(&b, "traffic moved from %s to %s", orDash(string(r.From)), r.To)
		if r.Version != "" {
			fmt.Fprintf(&b, " (%s)", r.Version)
		}
	case EventRollbackRefused:
		fmt.Fprintf(&b, "rollback from %s refused", orDash(string(r.From)))
	case EventScaledDown, EventScaledUp:
		fmt.Fprintf(&b, "%s %s scaled %s", r.Color, orDash(r.Version), map[bool]string{true: "down", false: "up"}[r.Kind() == EventScaledDown])
	default:
		fmt.Fprintf(&b, "%s %s", r.Color, orDash(r.Version))
		if r.Standing != "" {
			fmt.Fprintf(&b, " is %s", r.Standing)
		}
	}
	if r.Override {
		b.WriteString(" (override: the target was not stable)")
	}
	fmt.Fprintf(&b, ": %s; by %s", r.Reason, r.By)
	if r.Incident != "" {
		fmt.Fprintf(&b, "; incident %s", r.Incident)
	}
	return Truncate(b.String(), 1024)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// eventTimeout bounds the Events of one write: they are best effort, the
// history on the Service is the record of truth.
const eventTimeout = 5 * time.Second

// emit records each record as a Kubernetes Event on the active Service,
// concurrently. A failure (a Role without events: create) is logged, never
// returned: the state change it describes has already been written.
func (d *Deployer) emit(svc *corev1.Service, recs []Record) {
	if len(recs) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), eventTimeout)
	defer cancel()
	ref := corev1.ObjectReference{Kind: "Service", APIVersion: "v1", Namespace: svc.Namespace, Name: svc.Name,
		UID: svc.UID, ResourceVersion: svc.ResourceVersion}
	var wg sync.WaitGroup
	for i, r := range recs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := metav1.NewTime(r.Time)
			typ := corev1.EventTypeNormal
			if warning[r.Kind()] {
				typ = corev1.EventTypeWarning
			}
			ev := &corev1.Event{
				ObjectMeta: metav1.ObjectMeta{
					// The name scheme of client-go's recorder, with the
					// index so one write's events never collide.
					Name:        fmt.Sprintf("%s.%x%02x", svc.Name, time.Now().UnixNano(), i),
					Namespace:   svc.Namespace,
					Annotations: map[string]string{annoPrefix + "by": r.By},
				},
				InvolvedObject: ref,
				Reason:         string(r.Kind()),
				Message:        r.message(),
				Type:           typ,
				Source:         corev1.EventSource{Component: eventSource, Host: d.hostname},
				FirstTimestamp: t,
				LastTimestamp:  t,
				Count:          1,
			}
			if _, err := d.client.CoreV1().Events(svc.Namespace).Create(ctx, ev, metav1.CreateOptions{}); err != nil {
				d.log.Warn("could not record the Kubernetes Event (the history on the Service has it)",
					"reason", ev.Reason, "service", svc.Name, "err", err)
			}
		}()
	}
	wg.Wait()
}

// eventSource is the component Events name as their source.
const eventSource = "remlactl"
