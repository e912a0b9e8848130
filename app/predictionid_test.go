package app

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/remla/tagger/model"
)

var (
	keyA = []byte("key A: thirty-two bytes or longer, random in real life")
	keyB = []byte("key B: thirty-two bytes or longer, random in real life")
)

func mustIDs(t testing.TB, keys [][]byte, color string) *predictionIDs {
	t.Helper()
	ids, err := newPredictionIDs(keys, 30*24*time.Hour, "model-7", color)
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

func TestPredictionIDRoundTrip(t *testing.T) {
	ids := mustIDs(t, [][]byte{keyA}, "blue")
	at := time.Date(2026, 11, 26, 10, 0, 0, 123_456_789, time.UTC)
	tags := []model.TagScore{{Tag: "c#", Score: 0.75}, {Tag: ".net", Score: 0.5}}
	title := `Ünïcode “title” with a tab	and 'quotes' 😀`
	id := ids.issue(title, tags, at)
	if strings.ContainsAny(id, "+/=?&# ") {
		t.Fatalf("id %q is not URL-safe", id)
	}
	// Another replica, another color, same key: it reads what blue issued.
	green := mustIDs(t, [][]byte{keyA}, "green")
	p, err := green.open(id, at.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if p.ID != id || p.Title != title || p.ModelVersion != "model-7" || p.Color != "blue" || !p.At.Equal(at.Truncate(time.Millisecond)) ||
		len(p.Tags) != 2 || p.Tags[0] != tags[0] || p.Tags[1] != tags[1] || len(p.Key) != 22 {
		t.Fatalf("opened %+v", p)
	}
	// The same title twice makes two predictions, with two keys.
	id2 := ids.issue(title, tags, at)
	p2, _ := ids.open(id2, at)
	if id2 == id || p2.Key == p.Key {
		t.Fatal("two predictions of one title share an id")
	}
	// No tags at all is a prediction too.
	if p, err := ids.open(ids.issue("x", nil, at), at); err != nil || len(p.Tags) != 0 {
		t.Fatalf("empty prediction: %+v %v", p, err)
	}
}

func TestPredictionIDRefused(t *testing.T) {
	at := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	ids := mustIDs(t, [][]byte{keyA}, "blue")
	id := ids.issue("How to parse JSON in Go", []model.TagScore{{Tag: "go", Score: 0.9}}, at)
	raw, _ := base64.RawURLEncoding.DecodeString(id)

	// Every single-bit change anywhere is caught.
	for i := range raw {
		altered := append([]byte(nil), raw...)
		altered[i] ^= 0x01
		if _, err := ids.open(base64.RawURLEncoding.EncodeToString(altered), at); !errors.Is(err, errIDInvalid) {
			t.Fatalf("byte %d altered: %v, want errIDInvalid", i, err)
		}
	}
	other := mustIDs(t, [][]byte{keyB}, "blue")
	for name, bad := range map[string]string{
		"empty":            "",
		"not base64":       "!!!",
		"cut short":        id[:len(id)-3],
		"one byte":         "AQ",
		"padded":           id + "==",
		"extra byte":       base64.RawURLEncoding.EncodeToString(append(raw, 0)),
		"huge":             strings.Repeat("A", idMaxLen+1),
		"another key":      other.issue("How to parse JSON in Go", nil, at),
		"from the future":  ids.issue("t", nil, at.Add(time.Hour)),
		"unknown format":   base64.RawURLEncoding.EncodeToString(append([]byte{9}, raw[1:]...)),
		"old random style": "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
	} {
		if _, err := ids.open(bad, at); !errors.Is(err, errIDInvalid) {
			t.Errorf("%s: %v, want errIDInvalid", name, err)
		}
	}
	old := ids.issue("t", nil, at.Add(-31*24*time.Hour))
	if _, err := ids.open(old, at); !errors.Is(err, errIDExpired) {
		t.Fatalf("31 days old: %v, want errIDExpired", err)
	}
	if _, err := ids.open(ids.issue("t", nil, at.Add(-29*24*time.Hour)), at); err != nil {
		t.Fatalf("29 days old: %v, want it accepted", err)
	}
}

// TestPredictionIDKeyRotation: a new key is added in front (it signs),
// the old one kept behind it (it still verifies), then dropped.
func TestPredictionIDKeyRotation(t *testing.T) {
	at := time.Now()
	before := mustIDs(t, [][]byte{keyA}, "blue")
	during := mustIDs(t, [][]byte{keyB, keyA}, "blue")
	after := mustIDs(t, [][]byte{keyB}, "blue")
	oldID, newID := before.issue("t", nil, at), during.issue("t", nil, at)
	if _, err := during.open(oldID, at); err != nil {
		t.Fatalf("an id signed before the rotation is refused during it: %v", err)
	}
	if _, err := before.open(newID, at); err == nil {
		t.Fatal("an id signed with the new key passed a replica that does not have it")
	}
	if _, err := after.open(newID, at); err != nil {
		t.Fatal(err)
	}
	if _, err := after.open(oldID, at); !errors.Is(err, errIDInvalid) {
		t.Fatalf("an id signed with a retired key: %v, want errIDInvalid", err)
	}
}

func TestPredictionIDKeys(t *testing.T) {
	if _, err := newPredictionIDs(nil, time.Hour, "m", "blue"); err == nil {
		t.Fatal("no key accepted")
	}
	if _, err := newPredictionIDs([][]byte{[]byte("short")}, time.Hour, "m", "blue"); err == nil || !strings.Contains(err.Error(), "at least 32") {
		t.Fatalf("short key: %v", err)
	}
}

func FuzzPredictionIDOpen(f *testing.F) {
	ids := mustIDs(f, [][]byte{keyA}, "blue")
	at := time.Now()
	f.Add(ids.issue("How to parse JSON", []model.TagScore{{Tag: "json", Score: 0.7}}, at))
	f.Add("AQ")
	f.Fuzz(func(t *testing.T, id string) {
		ids.open(id, at) // must not panic
	})
}

// BenchmarkPredictionIDIssue is the cost the id adds to every prediction.
func BenchmarkPredictionIDIssue(b *testing.B) {
	ids := mustIDs(b, [][]byte{keyA}, "blue")
	tags := []model.TagScore{{Tag: "c++", Score: 0.91}, {Tag: "vector", Score: 0.52}}
	at := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		ids.issue("Segmentation fault when using std::vector in C++", tags, at)
	}
}

func BenchmarkPredictionIDOpen(b *testing.B) {
	ids := mustIDs(b, [][]byte{keyA}, "blue")
	at := time.Now()
	id := ids.issue("Segmentation fault when using std::vector in C++", []model.TagScore{{Tag: "c++", Score: 0.91}}, at)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ids.open(id, at); err != nil {
			b.Fatal(err)
		}
	}
}
