package deployer

import (
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

var t0 = time.Date(2026, 11, 26, 1, 0, 0, 0, time.UTC)

// unitDeployer is a Deployer for decisions on hand-made views; it never
// talks to a cluster.
func unitDeployer() *Deployer {
	return &Deployer{cfg: DefaultConfig(), ns: "ns", log: slog.New(slog.NewTextHandler(io.Discard, nil)), identity: "operator:test"}
}

// deployment is a color's Deployment running version with ready replicas;
// extra pod labels change its template.
func deployment(c Color, version string, ready int32, extra ...string) *appsv1.Deployment {
	two := int32(2)
	labels := map[string]string{"app": "remla", "color": string(c), "version": version}
	for i := 0; i+1 < len(extra); i += 2 {
		labels[extra[i]] = extra[i+1]
	}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "remla-" + string(c), Namespace: "ns"},
		Spec: appsv1.DeploymentSpec{Replicas: &two, Template: corev1.PodTemplateSpec{
			ObjectMeta: metav1.ObjectMeta{Labels: labels},
			Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "ghcr.io/remla/tagger:" + version}}},
		}},
		Status: appsv1.DeploymentStatus{ReadyReplicas: ready},
	}
}

func tpl(dep *appsv1.Deployment) string { return templateHash(&dep.Spec.Template) }

// at is a Standing at what dep runs.
func at(p Phase, dep *appsv1.Deployment) Standing {
	return Standing{Phase: p, Version: dep.Spec.Template.Labels["version"], Template: tpl(dep), Since: t0, Reason: "test"}
}

func newView(active Color, now time.Time, standing map[Color]Standing, deps ...*appsv1.Deployment) *view {
	v := &view{svc: &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "remla", Namespace: "ns"}},
		st: stored{Active: active, Standing: standing}, deps: map[Color]*appsv1.Deployment{}, now: now}
	if v.st.Standing == nil {
		v.st.Standing = map[Color]Standing{}
	}
	for _, d := range deps {
		v.deps[Color(d.Spec.Template.Labels["color"])] = d
	}
	return v
}

func TestTemplateHash(t *testing.T) {
	a := deployment(Blue, "1.0.0", 2)
	if tpl(a) != tpl(deployment(Blue, "1.0.0", 0)) {
		t.Error("readiness is not part of the template")
	}
	if tpl(a) == tpl(deployment(Blue, "1.0.1", 2)) {
		t.Error("another version must be another template")
	}
	if tpl(a) == tpl(deployment(Blue, "1.0.0", 2, "remla.test/x", "y")) {
		t.Error("the same version with another pod label must be another template")
	}
	restarted := deployment(Blue, "1.0.0", 2)
	restarted.Spec.Template.Annotations = map[string]string{restartedAtAnnotation: "2026-11-26T01:00:00Z"}
	if tpl(a) != tpl(restarted) {
		t.Error("kubectl rollout restart makes new pods of the same template")
	}
	if len(tpl(a)) != 12 {
		t.Errorf("template id %q: want 12 hex digits", tpl(a))
	}
}

// TestStandingOf covers what every reader derives from the stored standing,
// the live Deployment and the clock.
func TestStandingOf(t *testing.T) {
	d := unitDeployer()
	blue1, green2 := deployment(Blue, "1.0.0", 2), deployment(Green, "2.0.0", 2)
	baking := Standing{Phase: Baking, Version: "2.0.0", Template: tpl(green2), Since: t0, Until: t0.Add(10 * time.Minute), By: "operator:ana"}
	cases := []struct {
		name   string
		v      *view
		c      Color
		want   Phase
		reason string
	}{
		{"not deployed", newView(Blue, t0, nil, blue1), Green, Unproven, "not deployed"},
		{"nothing recorded", newView(Blue, t0, nil, blue1, green2), Green, Unproven, "no standing recorded"},
		{"stable at its template", newView(Blue, t0, map[Color]Standing{Blue: at(Stable, blue1)}, blue1), Blue, Stable, "test"},
		{"stable, then redeployed at another version", newView(Green, t0, map[Color]Standing{Blue: at(Stable, blue1)}, deployment(Blue, "3.0.0", 2)), Blue, Unproven,
			"since it was stable at 1.0.0"},
		{"stable, then the same version with another template", newView(Green, t0, map[Color]Standing{Blue: at(Stable, blue1)}, deployment(Blue, "1.0.0", 2, "team", "ml")), Blue, Unproven,
			"pod template changed"},
		{"baking inside its window", newView(Green, t0.Add(9*time.Minute), map[Color]Standing{Green: baking}, blue1, green2), Green, Baking, ""},
		{"baking past its window, still active: stable", newView(Green, t0.Add(10*time.Minute), map[Color]Standing{Green: baking}, blue1, green2), Green, Stable,
			"stayed active through its 10m0s bake window"},
		{"baking but traffic moved by hand", newView(Blue, t0.Add(time.Minute), map[Color]Standing{Green: baking}, blue1, green2), Green, Failed, "traffic left it"},
		{"failed stays failed", newView(Blue, t0, map[Color]Standing{Green: at(Failed, green2)}, blue1, green2), Green, Failed, "test"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := d.standingOf(c.v, c.c)
			if got.Phase != c.want || !strings.Contains(got.Reason, c.reason) {
				t.Fatalf("got %+v, want %s with a reason containing %q", got, c.want, c.reason)
			}
		})
	}
	// The promotion a reader sees is what a writer persists.
	v := newView(Green, t0.Add(11*time.Minute), map[Color]Standing{Green: baking}, blue1, green2)
	next := v.st.clone()
	recs := d.promotions(v, &next)
	if len(recs) != 1 || recs[0].Event != EventPromoted || recs[0].Color != Green || !recs[0].Time.Equal(baking.Until) ||
		next.Standing[Green] != d.standingOf(v, Green) || v.st.Standing[Green].Phase != Baking {
		t.Fatalf("promotions: %+v, next %+v; want one Promoted at the window's end, without touching the view", recs, next.Standing)
	}
	if s := next.Standing[Green]; s.Phase != Stable || !s.Since.Equal(baking.Until) || s.Version != "2.0.0" {
		t.Errorf("persisted standing %+v", s)
	}
}

// TestSwitchStandings: what a deliberate switch does to both colors.
func TestSwitchStandings(t *testing.T) {
	d := unitDeployer()
	blue1, green2 := deployment(Blue, "1.0.0", 2), deployment(Green, "2.0.0", 2)
	bakingGreen := Standing{Phase: Baking, Version: "2.0.0", Template: tpl(green2), Since: t0, Until: t0.Add(10 * time.Minute)}
	cases := []struct {
		name             string
		v                *view
		to               Color
		wantFrom, wantTo Phase
		wantRecords      []EventReason
	}{
		{"to an unproven color: it bakes, the stable one stays stable",
			newView(Blue, t0, map[Color]Standing{Blue: at(Stable, blue1)}, blue1, green2), Green, Stable, Baking, []EventReason{EventSwitched}},
		{"away from a baking color: it is failed",
			newView(Green, t0.Add(time.Minute), map[Color]Standing{Blue: at(Stable, blue1), Green: bakingGreen}, blue1, green2), Blue, Failed, Stable,
			[]EventReason{EventMarkedFailed, EventSwitched}},
		{"away from a color past its window: it stays stable",
			newView(Green, t0.Add(11*time.Minute), map[Color]Standing{Blue: at(Stable, blue1), Green: bakingGreen}, blue1, green2), Blue, Stable, Stable,
			[]EventReason{EventSwitched}},
		{"to a failed color: it bakes again",
			newView(Blue, t0, map[Color]Standing{Blue: at(Stable, blue1), Green: at(Failed, green2)}, blue1, green2), Green, Stable, Baking, []EventReason{EventSwitched}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			next := c.v.st.clone()
			recs := d.promotions(c.v, &next)
			recs = append(recs, d.switchTo(c.v, &next, c.to, SwitchOptions{Reason: "test", By: "operator:ana", Bake: 5 * time.Minute})...)
			from := c.v.st.Active
			nv := &view{st: next, deps: c.v.deps, now: c.v.now}
			if got := d.standingOf(nv, from).Phase; got != c.wantFrom {
				t.Errorf("%s (left) is %s, want %s", from, got, c.wantFrom)
			}
			if got := d.standingOf(nv, c.to); got.Phase != c.wantTo || (c.wantTo == Baking && !got.Until.Equal(c.v.now.Add(5*time.Minute))) {
				t.Errorf("%s (target) is %+v, want %s", c.to, got, c.wantTo)
			}
			var kinds []EventReason
			for _, r := range recs {
				if r.Event != EventPromoted {
					kinds = append(kinds, r.Event)
				}
			}
			if strings.Join(reasons(kinds), ",") != strings.Join(reasons(c.wantRecords), ",") || next.Active != c.to {
				t.Errorf("records %v, active %s; want %v and %s", kinds, next.Active, c.wantRecords, c.to)
			}
		})
	}
}

func reasons(rs []EventReason) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = string(r)
	}
	return out
}
