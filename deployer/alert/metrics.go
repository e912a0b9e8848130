package alert

import (
	"context"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/remla/tagger/deployer"
)

// stateTimeout bounds the cluster read behind remla_active_color, so a slow
// API server makes a scrape report remla_alert_actor_state_up 0, not hang.
const stateTimeout = 3 * time.Second

// metrics are the actor's own; each Server has its registry, so tests can
// make many servers.
type metrics struct {
	reg          *prometheus.Registry
	webhooks     *prometheus.CounterVec
	rollbacks    *prometheus.CounterVec
	lastRollback prometheus.Gauge
	duration     prometheus.Histogram
	ignoredAl    *prometheus.CounterVec
	promotions   prometheus.Counter
}

func newMetrics(targets []*deployer.Deployer) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		webhooks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "remla_alert_actor_webhooks_total",
			Help: "Webhook notifications received, by what the actor did with them.",
		}, []string{"result"}),
		rollbacks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "remla_alert_actor_rollbacks_total",
			Help: "Rollbacks asked of the deployer, by result (switched, not_ready, refused, failed, dry_run).",
		}, []string{"result"}),
		ignoredAl: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "remla_alert_actor_alerts_ignored_total",
			Help: "Alerts not acted on, by reason: malformed (skipped), unscoped (no namespace or app label), out_of_scope (another namespace or app).",
		}, []string{"reason"}),
		promotions: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "remla_alert_actor_promotions_total",
			Help: "Colors this actor recorded as stable when their bake window passed.",
		}),
		lastRollback: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "remla_alert_actor_last_rollback_timestamp_seconds",
			Help: "Unix time of the last rollback this actor made; 0 before the first.",
		}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "remla_alert_actor_webhook_duration_seconds",
			Help:    "Time to handle one webhook notification, cluster calls included.",
			Buckets: []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10},
		}),
	}
	// Every result exists from start, so rates and dashboards see zeros.
	for _, r := range []Result{ResultSwitched, ResultDryRun, ResultRefused, ResultNoop, ResultDuplicate, ResultNotReady, ResultError,
		ResultUnauthorized, ResultMalformed, ResultTooLarge, ResultBadMethod} {
		m.webhooks.WithLabelValues(string(r))
	}
	for _, r := range []Result{ResultSwitched, ResultNotReady, ResultRefused, "failed", ResultDryRun} {
		m.rollbacks.WithLabelValues(string(r))
	}
	for _, r := range []string{"malformed", "unscoped", "out_of_scope"} {
		m.ignoredAl.WithLabelValues(r)
	}
	m.reg.MustRegister(m.webhooks, m.rollbacks, m.lastRollback, m.duration, m.ignoredAl, m.promotions, stateCollector{targets}, notifyCollector{targets},
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

func (m *metrics) observe(r Result, d time.Duration) {
	m.webhooks.WithLabelValues(string(r)).Inc()
	m.duration.Observe(d.Seconds())
}

func (m *metrics) rollback(r Result) { m.rollbacks.WithLabelValues(string(r)).Inc() }

func (m *metrics) ignored(reason string) { m.ignoredAl.WithLabelValues(reason).Inc() }

func (m *metrics) rolledBackAt(t time.Time) {
	m.lastRollback.Set(float64(t.UnixNano()) / 1e9)
}

// stateCollector reads each guarded namespace's state at scrape time, so
// the dashboard shows the active color and the standings as the cluster
// records them, whoever changed them (an operator or this actor).
type stateCollector struct{ targets []*deployer.Deployer }

var (
	activeDesc = prometheus.NewDesc("remla_active_color",
		"1 for the color the active Service selects, 0 for the other.", []string{"namespace", "color"}, nil)
	standingDesc = prometheus.NewDesc("remla_color_standing",
		"1 for each color's current standing (stable, baking, failed, unproven), 0 for the others.", []string{"namespace", "color", "standing"}, nil)
	stateUpDesc = prometheus.NewDesc("remla_alert_actor_state_up",
		"1 when the actor could read the namespace's deployer state from the cluster at this scrape.", []string{"namespace"}, nil)
)

func (c stateCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- activeDesc
	ch <- standingDesc
	ch <- stateUpDesc
}

func (c stateCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), stateTimeout)
	defer cancel()
	for _, d := range c.targets {
		ns := d.Namespace()
		st, err := d.Status(ctx)
		if err != nil {
			ch <- prometheus.MustNewConstMetric(stateUpDesc, prometheus.GaugeValue, 0, ns)
			continue
		}
		ch <- prometheus.MustNewConstMetric(stateUpDesc, prometheus.GaugeValue, 1, ns)
		if st.Active == "" {
			continue
		}
		for _, col := range deployer.Colors {
			ch <- prometheus.MustNewConstMetric(activeDesc, prometheus.GaugeValue, bool01(st.Active == col), ns, string(col))
			for _, p := range []deployer.Phase{deployer.Stable, deployer.Baking, deployer.Failed, deployer.Unproven} {
				ch <- prometheus.MustNewConstMetric(standingDesc, prometheus.GaugeValue, bool01(st.Colors[col].Standing.Phase == p), ns, string(col), string(p))
			}
		}
	}
}

// notifyCollector exports what each namespace's notifier did (deploys,
// rollbacks and refusals posted to the receivers of remla.yaml's notify:),
// so a receiver that is down shows as a rising failed or dropped count.
type notifyCollector struct{ targets []*deployer.Deployer }

var notifyDesc = prometheus.NewDesc("remla_notifications_total",
	"Notifications of deployer events, by receiver and result: sent, failed (error or timeout), dropped (queue full or closed).",
	[]string{"namespace", "receiver", "result"}, nil)

func (c notifyCollector) Describe(ch chan<- *prometheus.Desc) { ch <- notifyDesc }

func (c notifyCollector) Collect(ch chan<- prometheus.Metric) {
	for _, d := range c.targets {
		for name, n := range d.NotificationCounts() {
			for result, v := range map[string]uint64{"sent": n.Sent, "failed": n.Failed, "dropped": n.Dropped} {
				ch <- prometheus.MustNewConstMetric(notifyDesc, prometheus.CounterValue, float64(v), d.Namespace(), name, result)
			}
		}
	}
}

func bool01(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
