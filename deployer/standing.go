package deployer

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
)

// Phase is how far a color has proven itself at the version and pod template
// it runs.
type Phase string

// The phases of a color's standing. A color becomes Stable only by staying
// active through its bake window (or by init, which has nothing to compare
// it with); a rollback returns traffic only to a Stable color.
const (
	// Unproven: deployed (or redeployed) and never active through a bake
	// window at this version and template.
	Unproven Phase = "unproven"
	// Baking: active since Standing.Since; stable at Standing.Until unless
	// traffic leaves it or a rollback alert fires for it first.
	Baking Phase = "baking"
	// Stable: proven at Standing.Version and Standing.Template.
	Stable Phase = "stable"
	// Failed: rolled back from, switched away from while baking, hit by a
	// rollback alert while baking, or its deploy failed; at that version.
	Failed Phase = "failed"
)

// Standing is one color's phase at a version and pod template, with when,
// why and by whom it was reached. It is stored on the active Service; the
// phase a reader sees is derived from it and the color's live Deployment
// (see standingOf), so a stored "baking until T" reads as stable after T
// even if nothing ran at T.
type Standing struct {
	Phase Phase `json:"phase"`
	// Version is the version label of the pod template the phase was reached at.
	Version string `json:"version,omitempty"`
	// Template identifies the pod template (templateHash): the same version
	// with other settings is another template, and loses a stable mark.
	Template string    `json:"template,omitempty"`
	Since    time.Time `json:"since,omitzero"`
	// Until is when a baking color's bake window ends.
	Until  time.Time `json:"until,omitzero"`
	Reason string    `json:"reason,omitempty"`
	By     string    `json:"by,omitempty"`
}

// Describe is the standing as status shows it at instant at: "stable",
// "baking (4m10s left)", "failed", "unproven".
func (s Standing) Describe(at time.Time) string {
	if s.Phase == Baking {
		left := s.Until.Sub(at).Round(time.Second)
		return fmt.Sprintf("baking (%s left)", max(left, 0))
	}
	if s.Phase == "" {
		return string(Unproven)
	}
	return string(s.Phase)
}

// restartedAtAnnotation is what `kubectl rollout restart` puts in the pod
// template: new pods of the same template, not a new template.
const restartedAtAnnotation = "kubectl.kubernetes.io/restartedAt"

// templateHash identifies a pod template by a hash of its canonical JSON as
// the API server stores it (defaults applied), less the restart annotation.
// It is computed from the Deployment's spec alone, so every reader gets it
// from one GET and a template change counts from the moment it is applied,
// before the Deployment controller acts on it.
func templateHash(t *corev1.PodTemplateSpec) string {
	c := t.DeepCopy()
	delete(c.Annotations, restartedAtAnnotation)
	b, err := json.Marshal(c)
	if err != nil {
		// A PodTemplateSpec always encodes; a hash of nothing would make
		// every template equal, so refuse loudly.
		panic(fmt.Sprintf("encode pod template: %v", err))
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:6])
}

// standingOf is the standing a reader sees for color c: the stored one,
// checked against what the color's Deployment runs now and the clock.
//   - no Deployment: unproven ("not deployed");
//   - another pod template than the stored standing's: unproven, whatever
//     the stored phase (a redeploy, or a change made outside remlactl);
//   - baking past Until while still active: stable since Until;
//   - baking while not active: failed (the selector was moved by hand).
func (d *Deployer) standingOf(v *view, c Color) Standing {
	dep := v.deps[c]
	if dep == nil {
		return Standing{Phase: Unproven, Reason: "not deployed"}
	}
	ver, tpl := d.versionOf(dep), v.template(c)
	s, ok := v.st.Standing[c]
	switch {
	case !ok || s.Phase == "":
		return Standing{Phase: Unproven, Version: ver, Template: tpl, Reason: "no standing recorded yet"}
	case s.Template != tpl:
		return Standing{Phase: Unproven, Version: ver, Template: tpl,
			Reason: fmt.Sprintf("its pod template changed (now %s, template %s) since it was %s at %s (template %s)", ver, tpl, s.Phase, s.Version, s.Template)}
	case s.Phase == Baking && v.st.Active != c:
		return Standing{Phase: Failed, Version: ver, Template: tpl, Since: s.Since,
			Reason: "traffic left it before its bake window ended"}
	case s.Phase == Baking && !v.now.Before(s.Until):
		return Standing{Phase: Stable, Version: ver, Template: tpl, Since: s.Until, By: s.By,
			Reason: fmt.Sprintf("stayed active through its %s bake window without a rollback", s.Until.Sub(s.Since).Round(time.Second))}
	}
	return s
}

// promotions are the colors a reader sees as stable whose stored standing
// still says baking: every writer persists them first, with a Promoted record.
func (d *Deployer) promotions(v *view, next *stored) []Record {
	var recs []Record
	for _, c := range Colors {
		s, ok := v.st.Standing[c]
		eff := d.standingOf(v, c)
		if !ok || s.Phase != Baking || eff.Phase != Stable {
			continue
		}
		next.Standing[c] = eff
		recs = append(recs, Record{Time: eff.Since, Event: EventPromoted, Color: c, Version: eff.Version,
			Standing: Stable, Reason: eff.Reason, By: d.identity})
	}
	return recs
}

// baking is the standing of color c, which takes traffic without being
// stable, from the view's instant for window.
func (d *Deployer) baking(v *view, c Color, window time.Duration, reason, by string) Standing {
	return Standing{Phase: Baking, Version: d.versionOf(v.deps[c]), Template: v.template(c),
		Since: v.now, Until: v.now.Add(window), Reason: reason, By: by}
}

// failed is the standing of color c marked failed at what it runs now.
func (d *Deployer) failed(v *view, c Color, reason, by string) Standing {
	s := Standing{Phase: Failed, Since: v.now, Reason: reason, By: by}
	if dep := v.deps[c]; dep != nil {
		s.Version, s.Template = d.versionOf(dep), v.template(c)
	}
	return s
}

// template is the pod template id of color c's Deployment, hashed once per view.
func (v *view) template(c Color) string {
	if t, ok := v.tpl[c]; ok {
		return t
	}
	dep := v.deps[c]
	if dep == nil {
		return ""
	}
	if v.tpl == nil {
		v.tpl = map[Color]string{}
	}
	v.tpl[c] = templateHash(&dep.Spec.Template)
	return v.tpl[c]
}

func (d *Deployer) versionOf(dep *appsv1.Deployment) string {
	return dep.Spec.Template.Labels[d.cfg.Labels.Version]
}
