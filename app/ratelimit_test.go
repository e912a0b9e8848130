package app

import (
	"hash/maphash"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/remla/tagger/test/testenv"
)

func limitedServer(t *testing.T, rl RateLimit, proxies []string) *httptest.Server {
	t.Helper()
	_, hs := serveWith(t, Config{RateLimit: rl, TrustedProxies: proxies})
	return hs
}

func postJSON(t *testing.T, target, body string, header map[string]string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, target, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res
}

func TestRateLimit(t *testing.T) {
	hs := limitedServer(t, RateLimit{Predict: Limit{Rate: 0.5, Burst: 3}, Feedback: Limit{Rate: 0.2, Burst: 1}, Loopback: true}, nil)
	for i := range 3 {
		if res := postJSON(t, hs.URL+"/api/v1/predict", `{"title": "php sql"}`, nil); res.StatusCode != http.StatusOK {
			t.Fatalf("prediction %d within the burst: %d", i+1, res.StatusCode)
		}
	}
	code, body := do(t, http.MethodPost, hs.URL+"/api/v1/predict", "application/json", `{"title": "php sql"}`)
	if code != http.StatusTooManyRequests || !strings.Contains(body, "too many predictions") || !strings.Contains(body, "bursts of 3") {
		t.Fatalf("past the burst: %d %s; want 429 saying the limit", code, body)
	}
	res := postJSON(t, hs.URL+"/predict", `{"title": "php sql"}`, nil)
	if ra, _ := strconv.Atoi(res.Header.Get("Retry-After")); res.StatusCode != http.StatusTooManyRequests || ra < 1 || ra > 2 {
		t.Fatalf("seed route past the burst: %d Retry-After %q; want 429 with 1-2 s", res.StatusCode, res.Header.Get("Retry-After"))
	}
	// The page's form shares the predict bucket and says it on the page.
	code, page := do(t, http.MethodPost, hs.URL+"/", "application/x-www-form-urlencoded", "title=php+sql")
	if code != http.StatusTooManyRequests || !strings.Contains(page, "<!doctype html>") || !strings.Contains(page, "too many predictions") {
		t.Fatalf("page form past the burst: %d", code)
	}
	// Answers have their own bucket: the first passes, the second waits.
	id := predictIDOn(t, limitedServer(t, RateLimit{}, nil).URL) // another server, same keys
	if code, body := answerJSON(t, hs.URL, id, true); code != http.StatusCreated {
		t.Fatalf("first answer: %d %s", code, body)
	}
	if code, body := answerJSON(t, hs.URL, id, true); code != http.StatusTooManyRequests || !strings.Contains(body, "too many answers") {
		t.Fatalf("second answer at once: %d %s; want 429", code, body)
	}
	if v, _ := testenv.MustScrape(t, hs.URL+"/metrics").Value("rate_limited_total", "what", "predictions"); v != 3 {
		t.Fatalf("rate_limited_total{what=predictions} = %v, want 3", v)
	}
}

func predictIDOn(t *testing.T, base string) string { t.Helper(); return predictID(t, base, "php sql") }

// TestRateLimitClients: loopback is exempt unless asked; X-Forwarded-For
// counts only from a trusted proxy, and then each client has its own
// bucket.
func TestRateLimitClients(t *testing.T) {
	tight := RateLimit{Predict: Limit{Rate: 0.1, Burst: 1}}
	exempt := limitedServer(t, tight, nil)
	for i := range 5 {
		if res := postJSON(t, exempt.URL+"/api/v1/predict", `{"title": "x"}`, nil); res.StatusCode != http.StatusOK {
			t.Fatalf("loopback prediction %d: %d; loopback is exempt by default", i+1, res.StatusCode)
		}
	}
	tight.Loopback = true
	direct := limitedServer(t, tight, nil)
	postJSON(t, direct.URL+"/api/v1/predict", `{"title": "x"}`, map[string]string{"X-Forwarded-For": "203.0.113.1"})
	if res := postJSON(t, direct.URL+"/api/v1/predict", `{"title": "x"}`, map[string]string{"X-Forwarded-For": "203.0.113.2"}); res.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("a client naming another address in X-Forwarded-For got %d; without trusted proxies the header must not count", res.StatusCode)
	}
	proxied := limitedServer(t, tight, []string{"127.0.0.1/32", "::1/128"})
	for _, client := range []string{"203.0.113.1", "203.0.113.2", "2001:db8::1"} {
		if res := postJSON(t, proxied.URL+"/api/v1/predict", `{"title": "x"}`, map[string]string{"X-Forwarded-For": client}); res.StatusCode != http.StatusOK {
			t.Fatalf("first prediction of %s behind a trusted proxy: %d", client, res.StatusCode)
		}
	}
	for _, client := range []string{"203.0.113.1", "2001:db8::2"} { // the same /64
		if res := postJSON(t, proxied.URL+"/api/v1/predict", `{"title": "x"}`, map[string]string{"X-Forwarded-For": client}); res.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("second prediction of %s behind a trusted proxy: %d, want 429", client, res.StatusCode)
		}
	}
}

// TestLimiterMemory: idle clients are forgotten, a client over its limit
// is not, and many busy clients cost bounded memory and linear time.
func TestLimiterMemory(t *testing.T) {
	lm := newLimiter("predictions", Limit{Rate: 1, Burst: 1})
	t0 := time.Now()
	busy := netip.MustParseAddr("198.51.100.1")
	addr := func(i int) netip.Addr { return netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}) }
	for i := range 64 * sweepAt {
		lm.take(addr(i), t0)
	}
	later := t0.Add(time.Hour) // every bucket is full again
	lm.take(busy, later)
	for i := range 64 * sweepAt {
		lm.take(addr(1<<22+i), later)
	}
	old := 0
	for i := range 64 * sweepAt {
		sh := &lm.shards[maphash.Comparable(lm.seed, addr(i))%uint64(len(lm.shards))]
		if _, ok := sh.buckets[addr(i)]; ok {
			old++
		}
	}
	if old > 64*sweepAt/2 {
		t.Fatalf("%d of %d idle buckets kept; the sweeps should have dropped them", old, 64*sweepAt)
	}
	if _, ok := lm.take(busy, later); ok {
		t.Fatal("a client over its limit was forgotten by the sweep")
	}
	// A million busy addresses at once: bounded, and done in linear time
	// (a sweep per insert would not finish).
	for i := range 1 << 20 {
		lm.take(addr(i), later)
	}
	if n := lm.size(); n > 64*maxPerShard {
		t.Fatalf("%d buckets kept, more than %d", n, 64*maxPerShard)
	}
	if newLimiter("x", Limit{}) != nil {
		t.Fatal("a zero limit should limit nothing")
	}
}

func (lm *limiter) size() int {
	n := 0
	for i := range lm.shards {
		n += len(lm.shards[i].buckets)
	}
	return n
}
