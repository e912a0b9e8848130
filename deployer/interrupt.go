package deployer

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// interrupted is how an operation stopped by its caller (Ctrl-C, SIGTERM)
// before it moved traffic reports itself, whichever step it was in: the
// Lease, the reads, Helm, the rollout wait or the gates. An error that is
// not the caller's cancellation (a deadline, a refusal, a failed rollout)
// is returned as it is, and so is one that already says it was interrupted.
func interrupted(ctx context.Context, op string, err error) error {
	if err == nil || ctx.Err() == nil || errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return err
	}
	if strings.Contains(err.Error(), "interrupted, traffic unchanged") {
		return err
	}
	return fmt.Errorf("%s interrupted, traffic unchanged: %w", op, context.Cause(ctx))
}
