package deployer

import (
	"context"
	"errors"
)

// interrupted is how an operation stopped by its caller (Ctrl-C, SIGTERM)
// before it moved traffic reports itself, whichever step it was in: the
// Lease, the reads, Helm, the rollout wait or the gates. An error that is
// not the caller's cancellation (a deadline, a refusal, a failed rollout)
// is returned as it is, and so is one a deeper step already reported as
// interrupted.
func interrupted(ctx context.Context, op string, err error) error {
	if err == nil || ctx.Err() == nil || errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return err
	}
	if _, said := errors.AsType[*interruptError](err); said {
		return err
	}
	return &interruptError{op: op, cause: context.Cause(ctx)}
}

// interruptError is an operation stopped by its caller before traffic moved.
type interruptError struct {
	op    string
	cause error
}

func (e *interruptError) Error() string {
	return e.op + " interrupted, traffic unchanged: " + e.cause.Error()
}

func (e *interruptError) Unwrap() error { return e.cause }
