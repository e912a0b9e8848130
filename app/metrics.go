package app

import (
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// The metrics below are a contract with the alert rules and the dashboard;
// docs/metrics.md lists them. None has a color label except model_info:
// Prometheus adds color from the scrape target.
var (
	descNumPred = prometheus.NewDesc("num_pred",
		"Predictions made since the server started (page and API).", nil, nil)
	descEmpty = prometheus.NewDesc("predictions_empty_total",
		"Predictions that returned no tag at all.", nil, nil)
	descPercentageEmpty = prometheus.NewDesc("percentage_empty",
		"Share (0..1) of predictions since start that returned no tag: predictions_empty_total / num_pred; 0 before the first prediction.", nil, nil)
	descFeedback = prometheus.NewDesc("feedback_total",
		`Answers to "Are you happy with these tags?" by verdict (happy or unhappy).`, []string{"verdict"}, nil)
	descSatisfaction = prometheus.NewDesc("user_satisfaction",
		"happy / (happy + unhappy) answers since start, 0..1; absent until the first answer.", nil, nil)
	descFeedbackOther = prometheus.NewDesc("feedback_other_release_total",
		"Answers this server stored about predictions another release (color or model version) made; they are not in feedback_total, so they never judge this release.", []string{"verdict"}, nil)
)

// metrics counts what the server does and exposes it on its own registry.
type metrics struct {
	reg                      *prometheus.Registry
	preds, empty             atomic.Uint64
	happy, unhappy           atomic.Uint64
	otherHappy, otherUnhappy atomic.Uint64
	latency                  prometheus.Histogram
	requests                 *prometheus.CounterVec
	requestsMu               sync.RWMutex
	requestsByKey            map[requestKey]prometheus.Counter
	rateLimited              *prometheus.CounterVec
	crossSiteRefused         prometheus.Counter
}

func newMetrics(modelVersion, color string, health *storeHealth) *metrics {
	m := &metrics{reg: prometheus.NewRegistry(), requestsByKey: map[requestKey]prometheus.Counter{}}
	m.rateLimited = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "rate_limited_total",
		Help: "Requests refused with 429 because one client sent too many, by what they asked for (predictions or answers).",
	}, []string{"what"})
	m.crossSiteRefused = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "cross_site_refused_total",
		Help: "Posts refused with 403 because a browser sent them from another site's page.",
	})
	storeUp := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "feedback_store_up",
		Help: "1 when the feedback store answered its last check or save, 0 when it did not (checked at most every 5 s; a down store never makes the server unready).",
	}, health.up)
	m.latency = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "predict_latency_seconds",
		Help:    "Time the model takes to predict the tags of one title, in seconds.",
		Buckets: []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1},
	})
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "http_requests_total",
		Help: "HTTP requests answered, by method, route pattern (unmatched for unknown paths) and status code.",
	}, []string{"method", "route", "code"})
	info := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "model_info",
		Help:        "Always 1; its labels name the loaded model's version and the color this server runs as.",
		ConstLabels: prometheus.Labels{"version": modelVersion, "color": color},
	})
	info.Set(1)
	m.reg.MustRegister(
		m, m.latency, m.requests, m.rateLimited, m.crossSiteRefused, storeUp, info,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return m
}

// Describe implements prometheus.Collector for the counters kept in atomics.
func (m *metrics) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descNumPred, descEmpty, descPercentageEmpty, descFeedback, descSatisfaction, descFeedbackOther} {
		ch <- d
	}
}

// Collect implements prometheus.Collector. It reads the numerators before
// the denominators they are incremented after, so a scrape never sees a
// share above 1.
func (m *metrics) Collect(ch chan<- prometheus.Metric) {
	empty := float64(m.empty.Load())
	preds := float64(m.preds.Load())
	ch <- prometheus.MustNewConstMetric(descNumPred, prometheus.CounterValue, preds)
	ch <- prometheus.MustNewConstMetric(descEmpty, prometheus.CounterValue, empty)
	share := 0.0
	if preds > 0 {
		share = empty / preds
	}
	ch <- prometheus.MustNewConstMetric(descPercentageEmpty, prometheus.GaugeValue, share)

	happy, unhappy := float64(m.happy.Load()), float64(m.unhappy.Load())
	ch <- prometheus.MustNewConstMetric(descFeedback, prometheus.CounterValue, happy, "happy")
	ch <- prometheus.MustNewConstMetric(descFeedback, prometheus.CounterValue, unhappy, "unhappy")
	if happy+unhappy > 0 {
		ch <- prometheus.MustNewConstMetric(descSatisfaction, prometheus.GaugeValue, happy/(happy+unhappy))
	}
	ch <- prometheus.MustNewConstMetric(descFeedbackOther, prometheus.CounterValue, float64(m.otherHappy.Load()), "happy")
	ch <- prometheus.MustNewConstMetric(descFeedbackOther, prometheus.CounterValue, float64(m.otherUnhappy.Load()), "unhappy")
}

func (m *metrics) observePrediction(d time.Duration, numTags int) {
	m.latency.Observe(d.Seconds())
	m.preds.Add(1)
	if numTags == 0 {
		m.empty.Add(1)
	}
}

// observeFeedback counts one stored answer; own says whether this
// release (color and model version) made the prediction. After a switch,
// answers to the old color's predictions reach the new one; they must not
// move the new release's user_satisfaction.
func (m *metrics) observeFeedback(happy, own bool) {
	switch {
	case own && happy:
		m.happy.Add(1)
	case own:
		m.unhappy.Add(1)
	case happy:
		m.otherHappy.Add(1)
	default:
		m.otherUnhappy.Add(1)
	}
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// countRequests is the middleware behind http_requests_total. Unknown
// methods are folded into "other" so a client cannot grow the label set.
func (m *metrics) countRequests(c *gin.Context) {
	c.Next()
	route := c.FullPath()
	if route == "" {
		route = "unmatched"
	}
	method := c.Request.Method
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions:
	default:
		method = "other"
	}
	m.requestCounter(method, route, c.Writer.Status()).Inc()
}

// requestKey names one child of http_requests_total.
type requestKey struct {
	method, route string
	code          int
}

// requestCounter returns the http_requests_total child for the labels,
// curried once and kept: a request then costs one map lookup under a read
// lock, not the label hashing and code formatting of WithLabelValues. The
// set is as bounded as the labels are (methods folded, route patterns,
// status codes).
func (m *metrics) requestCounter(method, route string, code int) prometheus.Counter {
	k := requestKey{method, route, code}
	m.requestsMu.RLock()
	c, ok := m.requestsByKey[k]
	m.requestsMu.RUnlock()
	if ok {
		return c
	}
	c = m.requests.WithLabelValues(method, route, strconv.Itoa(code))
	m.requestsMu.Lock()
	m.requestsByKey[k] = c
	m.requestsMu.Unlock()
	return c
}
