// Package app is the tagger's HTTP server: the tagging page, the JSON API,
// the feedback routes, health and version endpoints, and /metrics.
//
// The parts:
//   - server.go builds the gin engine from a [Config]: a [Predictor] (the
//     model), a feedback.Store and the color this instance runs as.
//   - api.go holds the JSON routes (/api/v1/*, the seed's POST /predict),
//     page.go the HTML routes (GET and POST /, POST /feedback); both go
//     through the same checks in service.go, so the page shows the same
//     errors as the API.
//   - decode.go turns a request body into a struct or a JSON error that
//     names the problem; errors.go holds the error type.
//   - predictionid.go makes the prediction id: the prediction itself,
//     signed with a key every replica shares, so any replica of either
//     color takes its answer, after restarts, within the retention.
//   - storehealth.go keeps the feedback store's last known state for
//     /readyz and feedback_store_up, checked at most every few seconds and
//     never by writing.
//   - ratelimit.go is the per-client token bucket on predictions and
//     answers; crosssite.go keeps other sites' pages from posting through a
//     visitor's browser (JSON only on the API, same-origin forms).
//   - metrics.go defines every metric documented in docs/metrics.md.
//   - openapi.json describes the API; it is served at /api/openapi.json.
//   - serve.go runs the server on a listener and shuts it down gracefully.
//     The program around it (flags, environment, model, store, signing
//     key) is cmd/remla-app.
//
// The page itself (templates, CSS, script) lives in package web.
package app
