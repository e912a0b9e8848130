package main

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/remla/tagger/deployer"
)

func TestExplain(t *testing.T) {
	forbidden := apierrors.NewForbidden(schema.GroupResource{Resource: "services"}, "remla", errors.New(`User "bob" cannot update resource "services"`))
	refused := &url.Error{Op: "Get", URL: "https://127.0.0.1:6443/api", Err: &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connect: connection refused")}}
	tests := []struct {
		name string
		err  error
		code int
		line string
	}{
		{"bad color", usageError{fmt.Errorf("unknown color %q: use blue or green", "red")}, ExitUsage, "use blue or green"},
		{"rollout timeout", fmt.Errorf("deploy: %w", &deployer.RolloutError{Color: deployer.Green, Version: "2"}), ExitNotReady, "green 2 not ready"},
		{"not ready", deployer.ErrNotReady, ExitNotReady, "not ready"},
		{"conflict", fmt.Errorf("%w: x", deployer.ErrConflict), ExitConflict, "concurrently"},
		{"locked", fmt.Errorf("%w: held by x", deployer.ErrLocked), ExitConflict, "held by x"},
		{"forbidden", fmt.Errorf("update Service: %w", forbidden), ExitError, "permission denied"},
		{"unreachable", fmt.Errorf("read: %w", refused), ExitError, "cannot reach the Kubernetes API server"},
		{"other", errors.New("boom"), ExitError, "boom"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			line, code := explain(tc.err)
			if code != tc.code || !strings.Contains(line, tc.line) || strings.Contains(line, "\n") {
				t.Errorf("got %d %q, want %d and one line containing %q", code, line, tc.code, tc.line)
			}
		})
	}
}

func TestUsageExitCodes(t *testing.T) {
	for _, args := range [][]string{{"switch", "purple"}, {"deploy", "green"}, {"status", "-o", "xml"}, {"deploy", "green", "bad/version"}, {"switch", "--nope"}} {
		var out, errb strings.Builder
		if code := execute(t.Context(), args, &out, &errb); code != ExitUsage || strings.Count(errb.String(), "\n") != 1 {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 and one line", args, code, errb.String())
		}
	}
}

// TestFreshTreePerRun: flags set in one run do not leak into the next,
// because every run builds its own command tree.
func TestFreshTreePerRun(t *testing.T) {
	a := newRoot()
	if err := a.PersistentFlags().Set("namespace", "staging"); err != nil {
		t.Fatal(err)
	}
	b := newRoot()
	if got, _ := b.PersistentFlags().GetString("namespace"); got != "" {
		t.Errorf("a second tree sees -n %q from the first", got)
	}
	names := map[string]bool{}
	for _, c := range b.Commands() {
		names[c.Name()] = true
	}
	for _, want := range []string{"init", "deploy", "switch", "undeploy", "status", "history", "alert-actor"} {
		if !names[want] {
			t.Errorf("command %q missing from the tree", want)
		}
	}
}
