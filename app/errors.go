package app

import (
	"fmt"
	"net/http"
)

// apiError is a problem to report to the client: an HTTP status, a message
// that says what to do, and the request field at fault, if any.
type apiError struct {
	Status  int    `json:"status"`
	Message string `json:"error"`
	Field   string `json:"field,omitempty"`
}

func (e *apiError) Error() string { return e.Message }

func badRequest(field, format string, args ...any) *apiError {
	return &apiError{Status: http.StatusBadRequest, Field: field, Message: fmt.Sprintf(format, args...)}
}

func newError(status int, field, format string, args ...any) *apiError {
	return &apiError{Status: status, Field: field, Message: fmt.Sprintf(format, args...)}
}
