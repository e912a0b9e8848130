package model

import (
	"slices"
	"testing"
)

func TestCodeTokens(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"How to use node.js with ASP.NET MVC?", []string{"use", "node.js", "asp.net", "mvc"}},
		{"C# vs C++: which one (for .NET)?", []string{"c#", "vs", "c++", "one", ".net"}},
		{"Don't parse HTML with regex!", []string{"parse", "html", "regex"}},
		{"... !!!", nil},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := CodeTokens(nil, tt.in); !slices.Equal(got, tt.want) {
				t.Fatalf("CodeTokens(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
