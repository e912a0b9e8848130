// Package analysis judges a candidate color before traffic moves to it and
// while it bakes, in the manner of Argo Rollouts' AnalysisRun: each check
// returns measurements, and one place (assessment.go) turns them into a
// phase: Successful, Failed, Inconclusive or Error.
//
// The parts:
//   - assessment.go: Phase, Measurement, Result, and Assess, the one verdict
//     rule (count, failureLimit, inconclusiveLimit, consecutiveErrorLimit).
//   - target.go: Target, how a check reaches a color's preview Service:
//     through the API server's service proxy (ServiceProxy; RBAC
//     services/proxy get and create), or a plain URL (HTTPTarget).
//   - smoke.go: N prediction requests; every answer 2xx, a share of
//     non-empty predictions, a p95 latency.
//   - quality.go: replay a labelled file to the candidate and the stable
//     color, score both with training.Evaluate, refuse a candidate worse by
//     more than a margin of F1 weighted; Table prints both sides.
//   - prometheus.go: PromQL checks templated with namespace, app, color and
//     version, a success condition, interval, count and failure limit.
//
// The package knows nothing of Helm or the deployer's state: the deployer
// (deployer/gate.go) runs the checks and records their verdicts.
package analysis
