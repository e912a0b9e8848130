package app

import (
	"fmt"
	"hash/maphash"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"golang.org/x/time/rate"
)

// Limit is one token bucket per client: Rate requests a second on
// average, Burst at once. A zero Rate means no limit.
type Limit struct {
	Rate  float64
	Burst int
}

// RateLimit caps what one client (one IPv4 address, one IPv6 /64) may ask
// of a server. The zero value limits nothing.
type RateLimit struct {
	Predict  Limit // POST /, POST /predict, POST /api/v1/predict
	Feedback Limit // POST /feedback, POST /api/v1/feedback
	// Loopback also limits clients on 127.0.0.0/8 and ::1, which are
	// otherwise exempt (make run, the load tests, a sidecar).
	Loopback bool
}

// DefaultRateLimit is what remla-app applies unless told otherwise: far
// above what a person at the page does, far below a flood. One client's
// answers are capped harder, since each one moves user_satisfaction.
var DefaultRateLimit = RateLimit{
	Predict:  Limit{Rate: 20, Burst: 100},
	Feedback: Limit{Rate: 0.5, Burst: 20},
}

// limiter holds the buckets of one Limit, in shards so that concurrent
// clients rarely share a lock.
type limiter struct {
	what   string // "predictions", "answers": for the error message
	limit  Limit
	seed   maphash.Seed
	shards [64]limiterShard
}

type limiterShard struct {
	mu      sync.Mutex
	buckets map[netip.Addr]*rate.Limiter
	sweepAt int // size at which the next sweep runs
}

// A shard drops its full (idle) buckets when it reaches sweepAt entries: a
// full bucket is the state a new client gets anyway, so nothing is lost.
// The next sweep waits until the shard has doubled, so sweeping costs O(1)
// per new client even when every client is busy. Past maxPerShard (an
// attack from very many addresses) arbitrary buckets are dropped too: those
// clients get a fresh burst, and memory stays bounded (64 shards × 16,384
// buckets, about 100 MB at most).
const (
	sweepAt     = 4096
	maxPerShard = 16384
)

func newLimiter(what string, l Limit) *limiter {
	if l.Rate <= 0 {
		return nil
	}
	if l.Burst < 1 {
		l.Burst = 1
	}
	lm := &limiter{what: what, limit: l, seed: maphash.MakeSeed()}
	for i := range lm.shards {
		lm.shards[i].buckets = map[netip.Addr]*rate.Limiter{}
		lm.shards[i].sweepAt = sweepAt
	}
	return lm
}

// take spends one token of client's bucket, or returns how long until
// there is one.
func (lm *limiter) take(client netip.Addr, now time.Time) (time.Duration, bool) {
	sh := &lm.shards[maphash.Comparable(lm.seed, client)%uint64(len(lm.shards))]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	b, ok := sh.buckets[client]
	if !ok {
		if len(sh.buckets) >= sh.sweepAt {
			lm.sweep(sh, now)
		}
		b = rate.NewLimiter(rate.Limit(lm.limit.Rate), lm.limit.Burst)
		sh.buckets[client] = b
	}
	if b.AllowN(now, 1) {
		return 0, true
	}
	wait := time.Duration((1 - b.TokensAt(now)) / lm.limit.Rate * float64(time.Second))
	return wait, false
}

func (lm *limiter) sweep(sh *limiterShard, now time.Time) {
	for a, b := range sh.buckets {
		if b.TokensAt(now) >= float64(lm.limit.Burst) {
			delete(sh.buckets, a)
		}
	}
	for a := range sh.buckets { // map order is random enough
		if len(sh.buckets) < maxPerShard*3/4 {
			break
		}
		delete(sh.buckets, a)
	}
	sh.sweepAt = min(maxPerShard, max(sweepAt, 2*len(sh.buckets)))
}

// rateLimit is the middleware of one route group. It answers 429 with
// Retry-After, as JSON on the API and as the page on the HTML routes.
func (s *Server) rateLimit(lm *limiter) gin.HandlerFunc {
	return func(c *gin.Context) {
		if lm == nil {
			return
		}
		client, ok := s.client(c)
		if !ok {
			return
		}
		wait, ok := lm.take(client, time.Now())
		if ok {
			return
		}
		s.metrics.rateLimited.WithLabelValues(lm.what).Inc()
		e := newError(http.StatusTooManyRequests, "",
			"too many %s from your address: at most %s a second, in bursts of %d; try again in %s",
			lm.what, formatRate(lm.limit.Rate), lm.limit.Burst, max(wait, time.Second).Round(time.Second).String())
		e.retryAfter = wait
		if isAPI(c.Request.URL.Path) || c.Request.URL.Path == "/predict" {
			abortJSON(c, e)
			return
		}
		setRetryAfter(c.Writer.Header(), wait)
		v := s.view()
		v.Notice = e.Message
		s.render(c, e.Status, v)
		c.Abort()
	}
}

// client is the address a request is limited by: the peer, or, when the
// peer is a trusted proxy, the client it names in X-Forwarded-For. ok is
// false for an exempt loopback client.
func (s *Server) client(c *gin.Context) (netip.Addr, bool) {
	peer, err := netip.ParseAddrPort(c.Request.RemoteAddr)
	if err != nil {
		return netip.Addr{}, false // not TCP (tests with a custom RemoteAddr)
	}
	addr := peer.Addr().Unmap()
	if len(s.cfg.TrustedProxies) > 0 {
		if a, err := netip.ParseAddr(c.ClientIP()); err == nil {
			addr = a.Unmap()
		}
	}
	if addr.IsLoopback() && !s.cfg.RateLimit.Loopback {
		return netip.Addr{}, false
	}
	if addr.Is6() {
		// One host usually holds a whole /64.
		p, _ := addr.Prefix(64)
		addr = p.Addr()
	}
	return addr, true
}

func formatRate(r float64) string {
	if r == float64(int(r)) {
		return fmt.Sprint(int(r))
	}
	return fmt.Sprintf("%.2g", r)
}
