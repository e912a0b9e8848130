package app

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/remla/tagger/model"
)

// A prediction id is the prediction itself, signed: the release that made
// it (model version, color), when, the title and the tags with their
// scores, then an HMAC-SHA256 tag over all of that with a key every replica
// of every color shares. Any replica can therefore take the answer to any
// prediction, after restarts and whatever else it predicted meanwhile,
// without remembering anything; an id that was altered or made up fails
// the check. The store keeps one answer per prediction under the MAC (the
// record's key), so replaying an id gets 409.
//
// Layout, then unpadded base64url (safe in a URL or a form field):
//
//	1                       format
//	uvarint len, bytes      model version
//	uvarint len, bytes      color
//	8 bytes                 process nonce, random at start
//	uvarint                 counter within the process
//	uvarint                 issue time, Unix milliseconds
//	uvarint len, bytes      title
//	uvarint n, n × (uvarint len, bytes, float32 big-endian)   tags, scores
//	16 bytes                HMAC-SHA256(key, everything above), truncated
//
// The nonce and counter make two predictions of the same title distinct.

// prediction is one answered title, as its id carries it.
type prediction struct {
	ID           string // the signed id handed to the client
	Key          string // the id's MAC, base64url: the store's key for its answer
	Title        string
	Tags         []model.TagScore
	ModelVersion string
	Color        string
	At           time.Time
}

// TagNames returns the predicted tags without scores.
func (p *prediction) TagNames() []string {
	out := make([]string, len(p.Tags))
	for i, t := range p.Tags {
		out[i] = t.Tag
	}
	return out
}

const (
	idFormat = 1
	idMACLen = 16
	// idMaxLen bounds what is decoded: a 1,000-character title in 4-byte
	// runes and 100 long tags stay far below it.
	idMaxLen = 16 << 10
	// idClockSkew is how far in the future another replica's clock may
	// put an id before it is refused.
	idClockSkew = 5 * time.Minute
)

var (
	errIDInvalid = errors.New("prediction id invalid")
	errIDExpired = errors.New("prediction id expired")
)

// predictionIDs issues and checks prediction ids for one server.
type predictionIDs struct {
	keys      [][]byte // keys[0] signs; every key verifies (rotation)
	retention time.Duration
	prefix    []byte // format, model version, color, process nonce
	counter   atomic.Uint64
	scratch   sync.Pool // *idScratch
}

type idScratch struct {
	mac hash.Hash
	buf []byte
	enc []byte
}

// MinSigningKeyLen is the shortest signing key accepted, in bytes.
const MinSigningKeyLen = 32

func newPredictionIDs(keys [][]byte, retention time.Duration, modelVersion, color string) (*predictionIDs, error) {
	if len(keys) == 0 {
		return nil, errors.New("app: no signing key given for prediction ids; every replica needs the same one")
	}
	for i, k := range keys {
		if len(k) < MinSigningKeyLen {
			return nil, fmt.Errorf("app: signing key %d is %d bytes long; use at least %d random bytes", i+1, len(k), MinSigningKeyLen)
		}
	}
	ids := &predictionIDs{keys: keys, retention: retention}
	p := []byte{idFormat}
	p = appendString(p, modelVersion)
	p = appendString(p, color)
	var nonce [8]byte
	rand.Read(nonce[:])
	ids.prefix = append(p, nonce[:]...)
	ids.scratch.New = func() any { return &idScratch{mac: hmac.New(sha256.New, keys[0])} }
	return ids, nil
}

// issue returns the id of a prediction of title with tags made at at.
func (ids *predictionIDs) issue(title string, tags []model.TagScore, at time.Time) string {
	sc := ids.scratch.Get().(*idScratch)
	b := append(sc.buf[:0], ids.prefix...)
	b = binary.AppendUvarint(b, ids.counter.Add(1))
	b = binary.AppendUvarint(b, uint64(at.UnixMilli()))
	b = appendString(b, title)
	b = binary.AppendUvarint(b, uint64(len(tags)))
	for _, t := range tags {
		b = appendString(b, t.Tag)
		b = binary.BigEndian.AppendUint32(b, math.Float32bits(float32(t.Score)))
	}
	sc.mac.Reset()
	sc.mac.Write(b)
	n := len(b)
	b = sc.mac.Sum(b)[:n+idMACLen]
	enc := sc.enc[:0]
	if l := base64.RawURLEncoding.EncodedLen(len(b)); cap(enc) < l {
		enc = make([]byte, l)
	} else {
		enc = enc[:l]
	}
	base64.RawURLEncoding.Encode(enc, b)
	id := string(enc)
	sc.buf, sc.enc = b, enc
	ids.scratch.Put(sc)
	return id
}

// open checks id and returns the prediction it carries. It fails with
// errIDInvalid for anything this deployment did not sign (garbled, altered,
// forged, signed with a retired key) and errIDExpired past the retention.
func (ids *predictionIDs) open(id string, now time.Time) (*prediction, error) {
	if len(id) > idMaxLen {
		return nil, errIDInvalid
	}
	raw, err := base64.RawURLEncoding.DecodeString(id)
	if err != nil || len(raw) < 1+idMACLen || raw[0] != idFormat {
		return nil, errIDInvalid
	}
	body, tag := raw[:len(raw)-idMACLen], raw[len(raw)-idMACLen:]
	if !ids.verify(body, tag) {
		return nil, errIDInvalid
	}
	p, ok := parseID(body[1:])
	if !ok { // signed by us, yet unreadable: only a bug gets here
		return nil, errIDInvalid
	}
	p.ID = id
	p.Key = base64.RawURLEncoding.EncodeToString(tag)
	switch {
	case p.At.After(now.Add(idClockSkew)):
		return nil, errIDInvalid
	case now.Sub(p.At) > ids.retention:
		return nil, errIDExpired
	}
	return p, nil
}

func (ids *predictionIDs) verify(body, tag []byte) bool {
	for _, k := range ids.keys {
		m := hmac.New(sha256.New, k)
		m.Write(body)
		if hmac.Equal(m.Sum(nil)[:idMACLen], tag) {
			return true
		}
	}
	return false
}

func parseID(b []byte) (*prediction, bool) {
	r := idReader{b: b}
	p := &prediction{}
	p.ModelVersion = r.string()
	p.Color = r.string()
	r.skip(8)
	r.uvarint() // counter
	p.At = time.UnixMilli(int64(r.uvarint()))
	p.Title = r.string()
	n := r.uvarint()
	if n > uint64(len(r.b)) { // each tag takes at least 5 bytes
		return nil, false
	}
	p.Tags = make([]model.TagScore, 0, n)
	for range n {
		tag := r.string()
		score := math.Float32frombits(r.uint32())
		p.Tags = append(p.Tags, model.TagScore{Tag: tag, Score: float64(score)})
	}
	return p, !r.bad && len(r.b) == 0
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// idReader reads the fields of an id, remembering the first short read.
type idReader struct {
	b   []byte
	bad bool
}

func (r *idReader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.bad, r.b = true, nil
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *idReader) skip(n int) []byte {
	if len(r.b) < n {
		r.bad, r.b = true, nil
		return nil
	}
	s := r.b[:n]
	r.b = r.b[n:]
	return s
}

func (r *idReader) string() string {
	n := r.uvarint()
	if n > uint64(len(r.b)) {
		r.bad, r.b = true, nil
		return ""
	}
	return string(r.skip(int(n)))
}

func (r *idReader) uint32() uint32 {
	s := r.skip(4)
	if s == nil {
		return 0
	}
	return binary.BigEndian.Uint32(s)
}
