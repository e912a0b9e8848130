// Package logging builds the slog logger of every REMLA binary, so that
// remla-app, remla-train and remlactl log alike: text on a terminal, JSON
// otherwise (a pod, a CI job, a pipe), at the level asked for.
package logging

import (
	"fmt"
	"io"
	"log/slog"
	"os"

	"golang.org/x/term"
)

// Formats accepted by New.
const (
	FormatAuto = "auto"
	FormatText = "text"
	FormatJSON = "json"
)

// New returns a logger writing to w. level is debug, info, warn or error;
// format is auto (text when w is a terminal, JSON otherwise), text or json.
// Its errors name the flag (--log-level, --log-format), the bad value and the accepted ones.
func New(w io.Writer, level, format string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: use debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case FormatAuto:
		if IsTerminal(w) {
			return slog.New(slog.NewTextHandler(w, opts)), nil
		}
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	case FormatText:
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case FormatJSON:
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format %q: use text, json or auto", format)
}

// IsTerminal tells whether w is a terminal: live progress lines and text
// logs are for people, JSON and one line per change for machines.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
