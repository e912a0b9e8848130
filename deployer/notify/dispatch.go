package notify

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults of the Dispatcher.
const (
	DefaultTimeout   = 5 * time.Second
	DefaultQueueSize = 64
)

// Counts are what one receiver's worker did, since the Dispatcher started.
type Counts struct {
	Sent    uint64 `json:"sent"`
	Failed  uint64 `json:"failed"`
	Dropped uint64 `json:"dropped"` // the queue was full, or the Dispatcher closed
}

// Dispatcher is the asynchronous Notifier: Notify puts the event on each
// interested receiver's bounded queue and returns at once; one worker per
// receiver posts with a deadline of Timeout. A receiver that is slow, down
// or answering errors fills only its own queue; what does not fit is
// dropped. Every failure and drop is logged and counted, never returned:
// the operation that produced the event has already happened. A nil
// *Dispatcher does nothing.
type Dispatcher struct {
	log     *slog.Logger
	timeout time.Duration
	workers []*worker
	closed  atomic.Bool
	wg      sync.WaitGroup
	// stop ends the workers' in-flight posts when Close runs out of time.
	stop   context.Context
	cancel context.CancelFunc
}

type worker struct {
	r                     Receiver
	q                     chan Event
	sent, failed, dropped atomic.Uint64
}

// NewDispatcher starts one worker per receiver. timeout bounds each post
// (0: DefaultTimeout); queue is each receiver's capacity (0: DefaultQueueSize).
func NewDispatcher(rs []Receiver, timeout time.Duration, queue int, log *slog.Logger) *Dispatcher {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	if queue <= 0 {
		queue = DefaultQueueSize
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	d := &Dispatcher{log: log, timeout: timeout}
	d.stop, d.cancel = context.WithCancel(context.Background())
	for _, r := range rs {
		w := &worker{r: r, q: make(chan Event, queue)}
		d.workers = append(d.workers, w)
		d.wg.Add(1)
		go d.run(w)
	}
	return d
}

// Notify queues e for every receiver that wants its kind, without waiting.
// The context is not used for delivery: a post outlives the operation's.
func (d *Dispatcher) Notify(_ context.Context, e Event) {
	if d == nil {
		return
	}
	for _, w := range d.workers {
		if !w.r.Wants(e.Kind) {
			continue
		}
		if d.closed.Load() {
			w.dropped.Add(1)
			d.log.Warn("notification dropped: the notifier is closed", "receiver", w.r.Name(), "kind", e.Kind)
			continue
		}
		select {
		case w.q <- e:
		default:
			w.dropped.Add(1)
			d.log.Warn("notification dropped: the receiver's queue is full (it is slow or down)",
				"receiver", w.r.Name(), "kind", e.Kind, "queue", cap(w.q))
		}
	}
}

func (d *Dispatcher) run(w *worker) {
	defer d.wg.Done()
	for e := range w.q {
		if d.stop.Err() != nil {
			w.dropped.Add(1) // Close ran out of time
			continue
		}
		ctx, cancel := context.WithTimeout(d.stop, d.timeout)
		err := w.r.Send(ctx, e)
		cancel()
		if err != nil {
			w.failed.Add(1)
			if errors.Is(err, context.DeadlineExceeded) {
				err = errors.Join(err, errors.New("no answer within "+d.timeout.String()))
			}
			d.log.Warn("notification failed (the operation itself is done)", "receiver", w.r.Name(), "kind", e.Kind,
				"color", e.Color, "version", e.Version, "err", err)
			continue
		}
		w.sent.Add(1)
		d.log.Debug("notification sent", "receiver", w.r.Name(), "kind", e.Kind)
	}
}

// Close stops taking events and waits until the queues are drained or ctx
// ends; then it abandons the posts in flight and counts what was left as
// dropped. It returns ctx's error in that case. A process calls it before
// it exits, so the events of its last operation are not lost.
func (d *Dispatcher) Close(ctx context.Context) error {
	if d == nil || d.closed.Swap(true) {
		return nil
	}
	for _, w := range d.workers {
		close(w.q)
	}
	done := make(chan struct{})
	go func() { d.wg.Wait(); close(done) }()
	select {
	case <-done:
		d.cancel()
		return nil
	case <-ctx.Done():
		d.cancel()
		<-done
		d.log.Warn("notifications left undelivered at exit", "err", ctx.Err())
		return ctx.Err()
	}
}

// Counts are the receivers' counts, by receiver name.
func (d *Dispatcher) Counts() map[string]Counts {
	if d == nil {
		return map[string]Counts{}
	}
	out := make(map[string]Counts, len(d.workers))
	for _, w := range d.workers {
		out[w.r.Name()] = Counts{Sent: w.sent.Load(), Failed: w.failed.Load(), Dropped: w.dropped.Load()}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }
