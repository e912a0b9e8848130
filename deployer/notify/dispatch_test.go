package notify

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

// recv is a receiver that blocks until released (a slow one) or fails.
type recv struct {
	name    string
	release chan struct{}
	started chan struct{} // closed when the first post begins
	fail    bool
	got     atomic.Int32
}

func (r *recv) Name() string      { return r.name }
func (r *recv) Wants(string) bool { return true }
func (r *recv) Send(ctx context.Context, e Event) error {
	if r.started != nil {
		select {
		case <-r.started:
		default:
			close(r.started)
		}
	}
	if r.release != nil {
		select {
		case <-r.release:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if r.fail {
		return errors.New("receiver down")
	}
	r.got.Add(1)
	return nil
}

// TestDispatcherNeverBlocks: Notify returns while a receiver holds its
// post; events beyond its queue are dropped and counted; the healthy
// receiver beside it gets every event.
func TestDispatcherNeverBlocks(t *testing.T) {
	slow := &recv{name: "slow", release: make(chan struct{}), started: make(chan struct{})}
	ok := &recv{name: "ok"}
	d := NewDispatcher([]Receiver{slow, ok}, time.Minute, 2, nil)
	for i := range 5 { // slow: 1 in flight, 2 queued, 2 dropped
		d.Notify(context.Background(), sample)
		if i == 0 {
			<-slow.started
		}
		for ok.got.Load() != int32(i+1) {
			time.Sleep(time.Millisecond)
		}
	}
	c := d.Counts()
	if c["slow"].Dropped != 2 {
		t.Errorf("slow receiver: %+v, want 2 dropped", c["slow"])
	}
	close(slow.release)
	if err := d.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	c = d.Counts()
	if c["slow"].Sent != 3 || c["ok"].Sent != 5 || ok.got.Load() != 5 {
		t.Errorf("after close: %+v", c)
	}
	d.Notify(context.Background(), sample)
	if d.Counts()["ok"].Dropped != 1 {
		t.Error("an event after Close must be dropped and counted")
	}
}

// TestDispatcherTimeoutAndFailure: a post past the timeout, and one
// refused, are counted failed; Close with an expired deadline gives up.
func TestDispatcherTimeoutAndFailure(t *testing.T) {
	hang := &recv{name: "hang", release: make(chan struct{})} // never released
	down := &recv{name: "down", fail: true}
	d := NewDispatcher([]Receiver{hang, down}, 50*time.Millisecond, 8, nil)
	d.Notify(context.Background(), sample)
	if err := d.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	c := d.Counts()
	if c["hang"].Failed != 1 || c["down"].Failed != 1 || c["hang"].Sent+c["down"].Sent != 0 {
		t.Errorf("counts %+v", c)
	}

	stuck := &recv{name: "stuck", release: make(chan struct{})}
	d = NewDispatcher([]Receiver{stuck}, time.Hour, 8, nil)
	d.Notify(context.Background(), sample)
	d.Notify(context.Background(), sample)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := d.Close(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("close past its deadline: %v", err)
	}
	if c := d.Counts()["stuck"]; c.Failed != 1 || c.Dropped != 1 {
		t.Errorf("abandoned at close: %+v, want the one in flight failed and the queued one dropped", c)
	}
}

// TestDispatcherOverHTTP: the real receivers through the Dispatcher, to a
// local server.
func TestDispatcherOverHTTP(t *testing.T) {
	got := make(chan string, 4)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got <- r.URL.Path }))
	defer srv.Close()
	d := NewDispatcher([]Receiver{
		NewWebhook("generic", static(srv.URL+"/generic"), nil, nil, "t"),
		NewSlack("slack", static(srv.URL+"/slack"), []string{"Promoted"}, nil),
	}, time.Second, 4, nil)
	d.Notify(context.Background(), sample) // RolledBack: generic only
	p := sample
	p.Kind = "Promoted"
	d.Notify(context.Background(), p)
	if err := d.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	close(got)
	n := map[string]int{}
	for p := range got {
		n[p]++
	}
	if n["/generic"] != 2 || n["/slack"] != 1 {
		t.Errorf("posts by path %v", n)
	}
}
