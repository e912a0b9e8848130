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
//   - predictions.go remembers recent predictions so feedback can refer to
//     them by id.
//   - metrics.go defines every metric documented in docs/metrics.md.
//   - openapi.json describes the API; it is served at /api/openapi.json.
//   - serve.go runs the server on a listener and shuts it down gracefully;
//     main.go is the whole remla-app program (flags, environment, model,
//     store), so cmd/remla-app stays a few lines long.
//
// The page itself (templates, CSS, script) lives in package web.
package app
