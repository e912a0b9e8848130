package deployer

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestInterrupted(t *testing.T) {
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	expired, cancel2 := context.WithTimeout(context.Background(), 0)
	defer cancel2()
	<-expired.Done()
	readErr := fmt.Errorf("read Deployment remla-green: %w", context.Canceled)
	refused := errors.New("forbidden")
	for _, tc := range []struct {
		name string
		ctx  context.Context
		err  error
		want string // "" means the error is returned unchanged
	}{
		{"no error", canceled, nil, ""},
		{"running", context.Background(), refused, ""},
		{"a deadline is not an interrupt", expired, readErr, ""},
		{"a read cut by Ctrl-C", canceled, readErr, "deploy green 9 interrupted, traffic unchanged: context canceled"},
		{"a refusal after Ctrl-C", canceled, refused, "deploy green 9 interrupted, traffic unchanged: context canceled"},
		{"already said", canceled, fmt.Errorf("rollout: %w", interrupted(canceled, "waiting for remla-green", context.Canceled)), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := interrupted(tc.ctx, "deploy green 9", tc.err)
			if tc.want == "" {
				if got != tc.err {
					t.Fatalf("got %v, want %v unchanged", got, tc.err)
				}
				return
			}
			if got == nil || got.Error() != tc.want || !errors.Is(got, context.Canceled) {
				t.Fatalf("got %v, want %q wrapping context.Canceled", got, tc.want)
			}
			if strings.Count(got.Error(), "interrupted") != 1 {
				t.Fatalf("said twice: %v", got)
			}
		})
	}
}
