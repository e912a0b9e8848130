package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"syscall"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/remla/tagger/deployer"
)

// explain turns an error into the one line an operator reads and the exit
// code a script branches on.
func explain(err error) (string, int) {
	var u usageError
	switch {
	case errors.As(err, &u):
		return err.Error(), ExitUsage
	case errors.Is(err, deployer.ErrAnalysisFailed):
		return err.Error(), ExitAnalysis
	case errors.Is(err, deployer.ErrTimeout), errors.Is(err, deployer.ErrNotReady):
		return err.Error(), ExitNotReady
	case errors.Is(err, deployer.ErrConflict), errors.Is(err, deployer.ErrLocked), errors.Is(err, deployer.ErrIncidentSeen):
		return err.Error(), ExitConflict
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Sprintf("%v: gave up at the --timeout deadline; raise --timeout or check the cluster", err), ExitNotReady
	case apierrors.IsForbidden(err):
		return fmt.Sprintf("permission denied: %s: ask a cluster admin for an RBAC Role granting it in this namespace", apiMessage(err)), ExitError
	case apierrors.IsUnauthorized(err):
		return "the cluster rejected the credentials (401): refresh them in your kubeconfig or pick another --context", ExitError
	case unreachable(err):
		return fmt.Sprintf("cannot reach the Kubernetes API server (%s): is the cluster running (minikube status)? check --kubeconfig and --context", rootCause(err)), ExitError
	}
	return err.Error(), ExitError
}

// apiMessage is the API server's message, which already names the verb,
// resource, namespace and user.
func apiMessage(err error) string {
	var se apierrors.APIStatus
	if errors.As(err, &se) {
		return se.Status().Message
	}
	return err.Error()
}

func unreachable(err error) bool {
	var ne net.Error
	var ue *url.Error
	var oe *net.OpError
	var de *net.DNSError
	return errors.Is(err, syscall.ECONNREFUSED) || errors.As(err, &oe) || errors.As(err, &de) ||
		errors.As(err, &ue) || (errors.As(err, &ne) && ne.Timeout()) ||
		strings.Contains(err.Error(), "connection refused") || strings.Contains(err.Error(), "no such host")
}

func rootCause(err error) string {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err.Error()
		}
		err = next
	}
}
