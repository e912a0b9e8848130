package clustertest

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestRecordTags(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tags")
	if err := recordTags(path, Good, []string{"repo:1", "repo:2"}); err != nil {
		t.Fatal(err)
	}
	// The same variant again, and a new tag beside it: fine.
	if err := recordTags(path, Good, []string{"repo:2", "repo:3"}); err != nil {
		t.Fatalf("the same variant again: %v", err)
	}
	if err := recordTags(path, NoTags, []string{"repo:4"}); err != nil {
		t.Fatal(err)
	}
	err := recordTags(path, NoTags, []string{"repo:3"})
	if err == nil || !strings.Contains(err.Error(), `repo:3 is imported as variant "good"`) {
		t.Fatalf("a tag taken by another variant: %v", err)
	}
	if err := recordTags(path, Good, []string{"repo:4"}); err == nil {
		t.Fatal("repo:4, recorded as no-tags, was taken as good")
	}
}
