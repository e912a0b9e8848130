package deployer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The state lives in annotations of the active Service, so the selector and
// the record of why it changed move in one atomic update.
const (
	annoPrefix   = "remla.io/"
	annoActive   = annoPrefix + "active"
	annoStanding = annoPrefix + "standing"
	annoHistory  = annoPrefix + "history"
	// annoStandby holds the standby colors scaled down by the standby
	// policy (standby.go).
	annoStandby = annoPrefix + "standby"
	// annoLastGood is the color-only "last good" of earlier versions; it is
	// removed at the next write and never trusted.
	annoLastGood = annoPrefix + "last-good"
)

// stored is the part of State kept in the Service; what each color runs is
// read from the Deployments.
type stored struct {
	Active   Color
	Standing map[Color]Standing
	History  []Record
	// Cold are the colors scaled down by the standby policy.
	Cold map[Color]Cold
}

func readStored(svc *corev1.Service, colorLabel string) (stored, error) {
	s := stored{Standing: map[Color]Standing{}}
	a := svc.Annotations
	s.Active = Color(a[annoActive])
	if s.Active == "" {
		// A Service created by the chart before the first switch: its
		// selector is the truth.
		s.Active = Color(svc.Spec.Selector[colorLabel])
	}
	if v := a[annoStanding]; v != "" {
		if err := json.Unmarshal([]byte(v), &s.Standing); err != nil {
			return s, fmt.Errorf("read the colors' standing from Service %s annotation %s: %w (fix or remove the annotation; every color then reads as unproven)", svc.Name, annoStanding, err)
		}
	}
	if v := a[annoStandby]; v != "" {
		if err := json.Unmarshal([]byte(v), &s.Cold); err != nil {
			return s, fmt.Errorf("read the cold standbys from Service %s annotation %s: %w (fix or remove the annotation)", svc.Name, annoStandby, err)
		}
	}
	if h := a[annoHistory]; h != "" {
		if err := json.Unmarshal([]byte(h), &s.History); err != nil {
			return s, fmt.Errorf("read the history from Service %s annotation %s: %w (fix or remove the annotation)", svc.Name, annoHistory, err)
		}
	}
	return s, nil
}

// writeStored puts the state into svc (annotations and selector); the caller
// sends the update. The history keeps the newest limit records that fit in
// maxHistoryBytes.
func writeStored(svc *corev1.Service, s stored, colorLabel string, limit int) error {
	h := s.History[:min(len(s.History), limit)]
	var hb []byte
	for {
		var err error
		if hb, err = json.Marshal(h); err != nil {
			return fmt.Errorf("encode the history: %w", err)
		}
		if len(hb) <= maxHistoryBytes || len(h) <= 1 {
			break
		}
		h = h[:len(h)-max(1, len(h)/10)]
	}
	standing := make(map[Color]Standing, len(s.Standing))
	for c, st := range s.Standing {
		st.Reason, st.By, st.Version = Truncate(st.Reason, maxReason), Truncate(st.By, maxBy), Truncate(st.Version, 63)
		standing[c] = st
	}
	sb, err := json.Marshal(standing)
	if err != nil {
		return fmt.Errorf("encode the standing: %w", err)
	}
	if svc.Annotations == nil {
		svc.Annotations = map[string]string{}
	}
	svc.Annotations[annoActive] = string(s.Active)
	svc.Annotations[annoStanding] = string(sb)
	svc.Annotations[annoHistory] = string(hb)
	delete(svc.Annotations, annoStandby)
	if len(s.Cold) > 0 {
		cb, err := json.Marshal(s.Cold)
		if err != nil {
			return fmt.Errorf("encode the cold standbys: %w", err)
		}
		svc.Annotations[annoStandby] = string(cb)
	}
	delete(svc.Annotations, annoLastGood)
	if svc.Spec.Selector == nil {
		svc.Spec.Selector = map[string]string{}
	}
	svc.Spec.Selector[colorLabel] = string(s.Active)
	return nil
}

// clone is a copy of s the caller may change without touching s.
func (s stored) clone() stored {
	c := stored{Active: s.Active, Standing: make(map[Color]Standing, len(s.Standing)), History: s.History}
	for k, v := range s.Standing {
		c.Standing[k] = v
	}
	c.Cold = maps.Clone(s.Cold)
	if c.Cold == nil {
		c.Cold = map[Color]Cold{}
	}
	return c
}

// seen: the incident already moved traffic.
func (s stored) seen(incident string) bool {
	return incident != "" && slices.ContainsFunc(s.History, func(r Record) bool {
		return r.Incident == incident && (r.Kind() == EventRolledBack || r.Kind() == EventSwitched)
	})
}

// refused: this incident's rollback was refused before for this reason, so
// Alertmanager's retries do not fill the history with the same refusal.
func (s stored) refused(incident, reason string) bool {
	return incident != "" && slices.ContainsFunc(s.History, func(r Record) bool {
		return r.Incident == incident && r.Kind() == EventRollbackRefused && r.Reason == Truncate(reason, maxReason)
	})
}

// view is what one decision reads: the active Service once, and each color's
// Deployment by name, at one instant.
type view struct {
	svc  *corev1.Service // nil before init
	st   stored
	deps map[Color]*appsv1.Deployment
	now  time.Time
	tpl  map[Color]string // template ids, see view.template
}

// read takes a view of the cluster. Before init (no active Service) the
// view has no Service and no error.
func (d *Deployer) read(ctx context.Context) (*view, error) {
	if err := d.checkNamespace(ctx); err != nil {
		return nil, err
	}
	v := &view{st: stored{Standing: map[Color]Standing{}}}
	svc, err := d.client.CoreV1().Services(d.ns).Get(ctx, d.cfg.ActiveService, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
	case err != nil:
		return nil, fmt.Errorf("read active Service %s/%s: %w", d.ns, d.cfg.ActiveService, err)
	default:
		v.svc = svc
		if v.st, err = readStored(svc, d.cfg.Labels.Color); err != nil {
			return nil, err
		}
	}
	if v.deps, err = d.deployments(ctx); err != nil {
		return nil, err
	}
	v.now = d.now()
	return v, nil
}

// initialized is the error of an operation that needs the active Service.
func (d *Deployer) initialized(v *view) error {
	if v.svc == nil {
		return fmt.Errorf("%w: Service %s/%s does not exist: run remlactl init <version> first", ErrNotInitialized, d.ns, d.cfg.ActiveService)
	}
	return nil
}

// commit writes next to the Service read in v, in one update carrying the
// resourceVersion it was read at, with recs (oldest first) put on top of the
// history, then records recs as Kubernetes Events. A lost race is
// ErrConflict and writes nothing. It is the one place that writes the state.
func (d *Deployer) commit(ctx context.Context, v *view, next stored, recs []Record) error {
	svc := v.svc.DeepCopy()
	capped := make([]Record, len(recs))
	for i, r := range recs {
		capped[i] = r.capped()
	}
	newest := slices.Clone(capped)
	slices.Reverse(newest)
	next.History = append(newest, v.st.History...)
	if err := writeStored(svc, next, d.cfg.Labels.Color, d.cfg.HistoryLimit); err != nil {
		return err
	}
	// svc still carries the resourceVersion read: the API server refuses
	// the update if anyone changed the Service since.
	out, err := d.client.CoreV1().Services(d.ns).Update(ctx, svc, metav1.UpdateOptions{})
	if apierrors.IsConflict(err) {
		return fmt.Errorf("%w: the active Service changed meanwhile; run remlactl status and retry", ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("update active Service %s/%s: %w", d.ns, d.cfg.ActiveService, err)
	}
	for _, r := range capped {
		d.log.Debug("recorded", "event", r.Kind(), "color", r.Color, "version", r.Version, "standing", r.Standing,
			"from", r.From, "to", r.To, "reason", r.Reason, "by", r.By, "incident", r.Incident)
	}
	d.emit(out, capped)
	d.announce(capped)
	return nil
}

// update reads a view, lets decide compute the next state and its records,
// and commits them; when another writer won the race it reads and decides
// again, up to conflictRetries times. decide returning no records means
// nothing to write.
func (d *Deployer) update(ctx context.Context, decide func(v *view) (stored, []Record, error)) error {
	for attempt := 1; ; attempt++ {
		v, err := d.read(ctx)
		if err != nil {
			return err
		}
		next, recs, err := decide(v)
		if err != nil || len(recs) == 0 {
			return err
		}
		err = d.commit(ctx, v, next, recs)
		if err == nil || !errors.Is(err, ErrConflict) || attempt >= conflictRetries {
			return err
		}
		d.log.Debug("the active Service changed while deciding; deciding again", "attempt", attempt)
	}
}

// conflictRetries bounds how often a write that lost a race is decided again.
const conflictRetries = 5
