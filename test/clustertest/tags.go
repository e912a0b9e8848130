package clustertest

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// claimTags records, on the node, that refs carry variant v, and fails the
// test when another test (of this or another package's process) has
// already imported one of them as another variant. Tags are shared by every
// test on the node, and the packages' tests run side by side: a tag taken
// twice would make one test's pods run the other's model, and fail by
// chance of order.
func claimTags(t testing.TB, node Node, v AppVariant, refs []string) {
	t.Helper()
	if err := recordTags(filepath.Join(filepath.Dir(node.ContainerdSocket), "remla-test-tags"), v, refs); err != nil {
		t.Fatal(err)
	}
}

// recordTags adds refs as variant v to the record at path, under a lock,
// and refuses a ref the record gives another variant.
func recordTags(path string, v AppVariant, refs []string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("open the node's tag record: %w", err)
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		return fmt.Errorf("lock %s: %w", path, err)
	}
	taken := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if ref, variant, ok := strings.Cut(sc.Text(), " "); ok {
			taken[ref] = variant
		}
	}
	var add strings.Builder
	for _, ref := range refs {
		switch was, ok := taken[ref]; {
		case !ok:
			fmt.Fprintf(&add, "%s %s\n", ref, v)
			taken[ref] = string(v)
		case was != string(v):
			return fmt.Errorf("image %s is imported as variant %q by another test, and this test wants it as %q: "+
				"tags are shared by every test on the node; give one of them a tag of its own", ref, was, v)
		}
	}
	if _, err := f.WriteString(add.String()); err != nil { // O_RDWR after reading to the end: appends
		return fmt.Errorf("record tags in %s: %w", path, err)
	}
	return nil
}
