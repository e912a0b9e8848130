package app

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"
)

// apiError is a problem to report to the client: an HTTP status, a message
// that says what to do, and the request field at fault, if any.
type apiError struct {
	Status  int    `json:"status"`
	Message string `json:"error"`
	Field   string `json:"field,omitempty"`
	// retryAfter, when set, is sent as the Retry-After header (429, 503).
	retryAfter time.Duration
}

// setRetryAfter sets the Retry-After header in whole seconds, at least 1.
func setRetryAfter(h http.Header, d time.Duration) {
	if d <= 0 {
		return
	}
	h.Set("Retry-After", strconv.Itoa(int(math.Ceil(d.Seconds()))))
}

func (e *apiError) Error() string { return e.Message }

func badRequest(field, format string, args ...any) *apiError {
	return &apiError{Status: http.StatusBadRequest, Field: field, Message: fmt.Sprintf(format, args...)}
}

func newError(status int, field, format string, args ...any) *apiError {
	return &apiError{Status: status, Field: field, Message: fmt.Sprintf(format, args...)}
}
