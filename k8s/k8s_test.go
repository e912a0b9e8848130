// Package k8s_test checks the monitoring files in k8s/ with the tools that
// will read them in production: promtool runs the rule unit tests under
// tests/, amtool checks the Alertmanager configuration, and the Prometheus
// PromQL parser reads every expression of the rules and the dashboard. The
// end-to-end test in test/e2e runs the same files against a real Prometheus
// and Alertmanager.
package k8s_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/prometheus/promql/parser"
	"sigs.k8s.io/yaml"

	"github.com/remla/tagger/test/testenv"
)

// promQL parses with the default options: the functions Prometheus 2.42 and
// Grafana's Prometheus data source both understand.
var promQL = parser.NewParser(parser.Options{})

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

func TestPromtoolCheckRules(t *testing.T) {
	promtool := testenv.Tool(t, "promtool", "prometheus")
	out := run(t, promtool, "check", "rules", "alert-rules.yml")
	if !strings.Contains(out, "SUCCESS: 3 rules found") {
		t.Errorf("promtool check rules: want 3 rules, got:\n%s", out)
	}
}

func TestPromtoolRuleUnitTests(t *testing.T) {
	promtool := testenv.Tool(t, "promtool", "prometheus")
	files, err := filepath.Glob("tests/*.yml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no rule tests under k8s/tests (err %v)", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			out := run(t, promtool, "test", "rules", f)
			if !strings.Contains(out, "SUCCESS") {
				t.Errorf("promtool test rules %s:\n%s", f, out)
			}
		})
	}
}

func TestAmtoolCheckConfig(t *testing.T) {
	amtool := testenv.Tool(t, "amtool", "prometheus-alertmanager")
	run(t, amtool, "check-config", "alertmanager.yml")
}

type ruleFile struct {
	Groups []struct {
		Name  string `json:"name"`
		Rules []struct {
			Alert       string            `json:"alert"`
			Expr        string            `json:"expr"`
			For         string            `json:"for"`
			Labels      map[string]string `json:"labels"`
			Annotations map[string]string `json:"annotations"`
		} `json:"rules"`
	} `json:"groups"`
}

// TestAlertRulesContract checks what the alert actor relies on: every rule
// parses, carries rollback="true", has a short for:, and keeps the
// namespace, app and color labels in every aggregation, so the actor can
// tell which release is bad and two releases never share a series.
func TestAlertRulesContract(t *testing.T) {
	b, err := os.ReadFile("alert-rules.yml")
	if err != nil {
		t.Fatal(err)
	}
	var rf ruleFile
	if err := yaml.UnmarshalStrict(b, &rf); err != nil {
		t.Fatalf("alert-rules.yml: %v", err)
	}
	var names []string
	for _, g := range rf.Groups {
		for _, r := range g.Rules {
			names = append(names, r.Alert)
			t.Run(r.Alert, func(t *testing.T) {
				if r.Labels["rollback"] != "true" {
					t.Errorf("label rollback = %q, want \"true\"", r.Labels["rollback"])
				}
				if r.For == "" {
					t.Error("no for: set one (short) so a single evaluation cannot fire")
				}
				if r.Annotations["summary"] == "" || r.Annotations["description"] == "" {
					t.Error("summary and description annotations are required")
				}
				expr, err := promQL.ParseExpr(r.Expr)
				if err != nil {
					t.Fatalf("expr does not parse: %v", err)
				}
				aggs := 0
				parser.Inspect(expr, func(n parser.Node, _ []parser.Node) error {
					if a, ok := n.(*parser.AggregateExpr); ok {
						aggs++
						for _, l := range []string{"namespace", "app", "color"} {
							if a.Without || !slices.Contains(a.Grouping, l) {
								t.Errorf("aggregation %s drops the %s label: use `by (namespace, app, color, ...)`", a, l)
							}
						}
					}
					return nil
				})
				if aggs == 0 {
					t.Error("no `sum by (namespace, app, color)`: the alert would carry one series per pod")
				}
			})
		}
	}
	for _, want := range []string{"UsersUnsatisfied", "TooManyEmptyPredictions", "ResponseTimeTooLarge"} {
		if !slices.Contains(names, want) {
			t.Errorf("alert %s missing (have %v)", want, names)
		}
	}
}

// amConfig is the part of the Alertmanager configuration the actor needs.
type amConfig struct {
	Route struct {
		Receiver string `json:"receiver"`
		Routes   []struct {
			Receiver string   `json:"receiver"`
			Matchers []string `json:"matchers"`
		} `json:"routes"`
	} `json:"route"`
	Receivers []struct {
		Name           string `json:"name"`
		WebhookConfigs []struct {
			URL          string `json:"url"`
			SendResolved bool   `json:"send_resolved"`
			HTTPConfig   struct {
				Authorization struct {
					Type            string `json:"type"`
					CredentialsFile string `json:"credentials_file"`
				} `json:"authorization"`
			} `json:"http_config"`
		} `json:"webhook_configs"`
	} `json:"receivers"`
}

func TestAlertmanagerRoutesRollbackToActor(t *testing.T) {
	b, err := os.ReadFile("alertmanager.yml")
	if err != nil {
		t.Fatal(err)
	}
	var c amConfig
	if err := yaml.Unmarshal(b, &c); err != nil {
		t.Fatalf("alertmanager.yml: %v", err)
	}
	receiver := ""
	for _, r := range c.Route.Routes {
		if slices.Contains(r.Matchers, `rollback="true"`) {
			receiver = r.Receiver
		}
	}
	if receiver == "" {
		t.Fatal(`no route matches rollback="true"`)
	}
	for _, r := range c.Receivers {
		if r.Name != receiver {
			continue
		}
		if len(r.WebhookConfigs) != 1 {
			t.Fatalf("receiver %s: want one webhook, got %d", receiver, len(r.WebhookConfigs))
		}
		w := r.WebhookConfigs[0]
		if !strings.HasSuffix(w.URL, ":8081/webhook") {
			t.Errorf("webhook url %q: want the actor's default :8081/webhook", w.URL)
		}
		if !w.SendResolved {
			t.Error("send_resolved must be true")
		}
		if w.HTTPConfig.Authorization.Type != "Bearer" || w.HTTPConfig.Authorization.CredentialsFile == "" {
			t.Errorf("want bearer auth from a credentials file, got %+v", w.HTTPConfig.Authorization)
		}
		return
	}
	t.Fatalf("receiver %s is not defined", receiver)
}

// TestDashboardExpressionsParse reads every PromQL expression of the
// dashboard with the Prometheus parser (Grafana cannot run here; the e2e test
// runs each one against a real Prometheus) and checks the panels exist.
func TestDashboardExpressionsParse(t *testing.T) {
	d := testenv.ReadDashboard(t, "grafana-dashboards/metrics_dashboard.json")
	var all []string
	for _, p := range d.Panels {
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, tg := range p.Targets {
			all = append(all, tg.Expr)
			if _, err := promQL.ParseExpr(tg.Expr); err != nil {
				t.Errorf("panel %q: %q does not parse: %v", p.Title, tg.Expr, err)
			}
		}
	}
	joined := strings.Join(all, "\n")
	for _, want := range []string{
		"rate(num_pred",                  // predictions per second
		"feedback_total",                 // satisfaction over a window
		"user_satisfaction",              // satisfaction since start
		"predictions_empty_total",        // share of empty predictions
		"predict_latency_seconds_bucket", // latency percentiles
		"remla_active_color",             // the active color
	} {
		if !strings.Contains(joined, want) {
			t.Errorf("no dashboard expression uses %s", want)
		}
	}
	if !strings.Contains(joined, "by (namespace, color") {
		t.Error("no expression is split by namespace and color (an actor may guard several namespaces)")
	}
}

// TestStackValuesMatchAlertmanagerConfig: the kube-prometheus-stack values
// mount the token Secret where k8s/alertmanager.yml reads it, and scrape the
// actor on the port its webhook URL names.
func TestStackValuesMatchAlertmanagerConfig(t *testing.T) {
	b, err := os.ReadFile("kube-prometheus-stack-values.yml")
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		Alertmanager struct {
			AlertmanagerSpec struct {
				UseExistingSecret bool     `json:"useExistingSecret"`
				ConfigSecret      string   `json:"configSecret"`
				Secrets           []string `json:"secrets"`
			} `json:"alertmanagerSpec"`
		} `json:"alertmanager"`
		Prometheus struct {
			PrometheusSpec struct {
				AdditionalScrapeConfigs []struct {
					JobName       string `json:"job_name"`
					StaticConfigs []struct {
						Targets []string `json:"targets"`
					} `json:"static_configs"`
				} `json:"additionalScrapeConfigs"`
			} `json:"prometheusSpec"`
		} `json:"prometheus"`
	}
	if err := yaml.Unmarshal(b, &v); err != nil {
		t.Fatalf("kube-prometheus-stack-values.yml: %v", err)
	}
	var c amConfig
	ab, _ := os.ReadFile("alertmanager.yml")
	if err := yaml.Unmarshal(ab, &c); err != nil {
		t.Fatal(err)
	}
	var webhook string
	var credFile string
	for _, r := range c.Receivers {
		for _, w := range r.WebhookConfigs {
			webhook, credFile = w.URL, w.HTTPConfig.Authorization.CredentialsFile
		}
	}
	spec := v.Alertmanager.AlertmanagerSpec
	if !spec.UseExistingSecret || spec.ConfigSecret == "" {
		t.Error("alertmanagerSpec must use the existing Secret holding k8s/alertmanager.yml")
	}
	mounted := false
	for _, s := range spec.Secrets {
		if strings.HasPrefix(credFile, "/etc/alertmanager/secrets/"+s+"/") {
			mounted = true
		}
	}
	if !mounted {
		t.Errorf("credentials_file %s is not under a mounted Secret %v", credFile, spec.Secrets)
	}
	host := strings.TrimPrefix(strings.TrimSuffix(webhook, "/webhook"), "http://")
	scraped := false
	for _, sc := range v.Prometheus.PrometheusSpec.AdditionalScrapeConfigs {
		for _, st := range sc.StaticConfigs {
			scraped = scraped || slices.Contains(st.Targets, host)
		}
	}
	if !scraped {
		t.Errorf("the actor at %s is not scraped (the dashboard's active color needs it)", host)
	}
}
