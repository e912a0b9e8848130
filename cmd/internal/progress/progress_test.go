package progress

import (
	"bytes"
	"testing"
)

func TestLine(t *testing.T) {
	for _, tc := range []struct {
		name string
		live bool
		want string
	}{
		{name: "terminal: redrawn in place, ended once", live: true, want: "\r\033[Kstep 1\r\033[Kstep 2\n"},
		{name: "off a terminal: nothing drawn", live: false, want: ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			l := &Line{w: &b, live: tc.live}
			l.End() // nothing open yet
			l.Draw("step %d", 1)
			l.Draw("step %d", 2)
			l.End()
			l.End()
			if got := b.String(); got != tc.want {
				t.Errorf("wrote %q, want %q", got, tc.want)
			}
		})
	}
}

// TestNewOffTerminal: a buffer is not a terminal, so its line is not live.
func TestNewOffTerminal(t *testing.T) {
	if New(&bytes.Buffer{}).Live() {
		t.Error("a buffer is taken for a terminal")
	}
}
