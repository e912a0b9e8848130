// Package notify posts what the deployer records (deploys, gate verdicts,
// promotions, switches, rollbacks, refusals) to webhooks, in the manner of
// flagger's pkg/notifier: a small interface, one file per receiver format,
// a factory from configuration, and a no-op when nothing is configured.
//
// How the parts fit:
//   - notifier.go: Event (what happened, one flat JSON object) and the
//     Notifier interface the deployer and the gates call; Nop.
//   - webhook.go: the generic JSON receiver (POST of Payload).
//   - slack.go: Slack's incoming-webhook format (text and one attachment).
//   - dispatch.go: Dispatcher, the asynchronous fan-out: one bounded queue
//     and one worker per receiver, a timeout per post, failures logged and
//     counted, never returned. Close drains the queues within a deadline.
//   - config.go: the notify: block of remla.yaml and New, the factory.
//     URLs come from a file or a Secret, never from a flag: a webhook URL
//     is a credential (Slack's carries its token).
//
// The package knows nothing of Kubernetes: the deployer passes a function
// that reads a Secret key, and turns its history records into Events.
package notify
