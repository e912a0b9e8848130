package model

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"time"
)

// The model file is one self-contained binary file:
//
//	offset 0   magic "REMLATAG"
//	offset 8   format version, uint32 little-endian
//	offset 12  body length n, uint64 little-endian
//	offset 20  body (n bytes)
//	20+n       sha256 of every byte before it (32 bytes)
//
// The body is a length-prefixed JSON header (meta, vectorizer settings, tags, decision rule)
// followed by the vocabulary (length-prefixed strings), the idf (float64), the weights (float32,
// or int8 bytes then one float32 scale per feature, as the header says) and the bias (float64),
// each a counted little-endian array. Counts and lengths are uvarints.
const (
	magic = "REMLATAG"
	// FormatVersion is the version of the file layout this code reads and writes. A change to the
	// layout bumps it; Load refuses other versions.
	FormatVersion = 3
	prefixLen     = 8 + 4 + 8
)

type header struct {
	Meta Meta `json:"meta"`
	// Weights is how the weights are stored: "float32" or "int8" (quantised, with per-feature scales).
	Weights    string           `json:"weights"`
	Vectorizer VectorizerConfig `json:"vectorizer"`
	Tags       []string         `json:"tags"`
	Rule       Rule             `json:"rule"`
}

// Save writes the model to path atomically (a temporary file renamed into place).
func (m *Model) Save(path string) error {
	data, err := encode(&m.spec)
	if err != nil {
		return fmt.Errorf("encode model for %s: %w", path, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".model-*")
	if err != nil {
		return fmt.Errorf("save model: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("save model to %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("save model to %s: %w", path, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("save model to %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("save model to %s: %w", path, err)
	}
	return nil
}

// Encode returns the bytes of the model file.
func (m *Model) Encode() ([]byte, error) { return encode(&m.spec) }

// StampVersion sets s.Meta.Version to the creation time and the first 7 hex digits of a digest
// of everything in the model except its version and creation time, so two models that predict
// alike share the digest.
func StampVersion(s *Spec) error {
	c := *s
	c.Meta.Version, c.Meta.Created = "", time.Time{}
	data, err := encode(&c)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(data)
	s.Meta.Version = s.Meta.Created.UTC().Format("20060102T1504Z") + "-" + hex.EncodeToString(sum[:])[:7]
	return nil
}

func encode(s *Spec) ([]byte, error) {
	kind := "float32"
	if s.Int8 != nil {
		kind = "int8"
	}
	h, err := json.Marshal(header{Meta: s.Meta, Weights: kind, Vectorizer: s.Vectorizer.VectorizerConfig, Tags: s.Tags, Rule: s.Rule})
	if err != nil {
		return nil, err
	}
	var body []byte
	body = binary.AppendUvarint(body, uint64(len(h)))
	body = append(body, h...)
	terms := s.Vectorizer.Terms()
	body = binary.AppendUvarint(body, uint64(len(terms)))
	for _, t := range terms {
		body = binary.AppendUvarint(body, uint64(len(t)))
		body = append(body, t...)
	}
	body = appendFloats(body, s.Vectorizer.IDF())
	if s.Int8 != nil {
		body = binary.AppendUvarint(body, uint64(len(s.Int8.Q)))
		for _, q := range s.Int8.Q {
			body = append(body, byte(q))
		}
		body = appendFloat32s(body, s.Int8.Scale)
	} else {
		body = appendFloat32s(body, s.Weights)
	}
	body = appendFloats(body, s.Bias)

	out := make([]byte, 0, prefixLen+len(body)+sha256.Size)
	out = append(out, magic...)
	out = binary.LittleEndian.AppendUint32(out, FormatVersion)
	out = binary.LittleEndian.AppendUint64(out, uint64(len(body)))
	out = append(out, body...)
	sum := sha256.Sum256(out)
	return append(out, sum[:]...), nil
}

func appendFloat32s(b []byte, xs []float32) []byte {
	b = binary.AppendUvarint(b, uint64(len(xs)))
	for _, x := range xs {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(x))
	}
	return b
}

func appendFloats(b []byte, xs []float64) []byte {
	b = binary.AppendUvarint(b, uint64(len(xs)))
	for _, x := range xs {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(x))
	}
	return b
}

// Load reads a model file. A file that is not a model, was written by an incompatible version,
// is truncated or corrupt is refused with an error naming the file and the problem.
func Load(path string) (*Model, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load model: %w (train one with `make train`)", err)
	}
	m, err := Decode(data)
	if err != nil {
		return nil, fmt.Errorf("load model %s: %w", path, err)
	}
	return m, nil
}

// ErrCorrupt is wrapped by the errors Decode returns for damaged files.
var ErrCorrupt = errors.New("the model file is corrupt")

// Decode parses the bytes of a model file.
func Decode(data []byte) (*Model, error) {
	if len(data) < len(magic) || !bytes.Equal(data[:len(magic)], []byte(magic)) {
		return nil, fmt.Errorf("not a REMLA tagger model file (no %q header); pass the .model file that `remla-train train` wrote", magic)
	}
	if len(data) < prefixLen {
		return nil, fmt.Errorf("%w: truncated to %d bytes, shorter than the file header; train or copy it again", ErrCorrupt, len(data))
	}
	if v := binary.LittleEndian.Uint32(data[8:]); v != FormatVersion {
		return nil, fmt.Errorf("incompatible model file: format version %d, this program reads version %d; retrain with this remla-train (`make train`)", v, FormatVersion)
	}
	n := binary.LittleEndian.Uint64(data[12:])
	if want := uint64(prefixLen) + n + sha256.Size; uint64(len(data)) != want {
		return nil, fmt.Errorf("%w: %d bytes long but its header says %d (truncated or appended to); train or copy it again", ErrCorrupt, len(data), want)
	}
	end := prefixLen + int(n)
	sum := sha256.Sum256(data[:end])
	if !bytes.Equal(sum[:], data[end:]) {
		return nil, fmt.Errorf("%w: checksum mismatch (sha256 %x, stored %x); train or copy it again", ErrCorrupt, sum[:8], data[end:end+8])
	}
	r := reader{b: data[prefixLen:end]}
	var h header
	if err := json.Unmarshal(r.bytes(), &h); r.err == nil && err != nil {
		return nil, fmt.Errorf("%w: header: %v", ErrCorrupt, err)
	}
	// All terms share one string: one allocation instead of one per term. A first pass over a
	// copy of the reader sizes it.
	nTerms := r.count(1)
	probe, size := r, 0
	for i := 0; i < nTerms && probe.err == nil; i++ {
		size += len(probe.bytes())
	}
	if size > math.MaxUint32 {
		return nil, fmt.Errorf("incompatible model file: vocabulary of %d bytes is too large", size)
	}
	blob := make([]byte, 0, size)
	ends := make([]uint32, 0, nTerms)
	for i := 0; i < nTerms && r.err == nil; i++ {
		blob = append(blob, r.bytes()...)
		ends = append(ends, uint32(len(blob)))
	}
	idf := r.floats()
	var weights []float32
	var q8 *Int8Weights
	switch h.Weights {
	case "float32":
		weights = r.float32s()
	case "int8":
		raw := r.bytes()
		q8 = &Int8Weights{Q: make([]int8, len(raw))}
		for i, b := range raw {
			q8.Q[i] = int8(b)
		}
		q8.Scale = r.float32s()
	default:
		if r.err == nil {
			return nil, fmt.Errorf("incompatible model file: weights stored as %q; retrain with this remla-train (`make train`)", h.Weights)
		}
	}
	bias := r.floats()
	if r.err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, r.err)
	}
	if len(r.b) != 0 {
		return nil, fmt.Errorf("%w: %d unexpected bytes after the weights", ErrCorrupt, len(r.b))
	}
	if h.Vectorizer.Kind == BagOfWords && len(idf) == 0 {
		idf = nil
	}
	vec, err := newVectorizer(h.Vectorizer, string(blob), ends, idf)
	if err != nil {
		return nil, fmt.Errorf("incompatible model file: %w", err)
	}
	m, err := New(Spec{Meta: h.Meta, Vectorizer: vec, Tags: h.Tags, Weights: weights, Int8: q8, Bias: bias, Rule: h.Rule})
	if err != nil {
		return nil, fmt.Errorf("incompatible model file: %w", err)
	}
	return m, nil
}

// reader decodes the body; the first error sticks and later reads return zero values.
type reader struct {
	b   []byte
	err error
}

func (r *reader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = errors.New("bad length field")
		return 0
	}
	r.b = r.b[n:]
	return v
}

// count reads a count of items that take at least size bytes each and checks it against what is left.
func (r *reader) count(size int) int {
	v := r.uvarint()
	if r.err == nil && v > uint64(len(r.b)/size) {
		r.err = fmt.Errorf("count %d exceeds the %d bytes left", v, len(r.b))
		return 0
	}
	return int(v)
}

func (r *reader) bytes() []byte {
	n := r.count(1)
	if r.err != nil {
		return nil
	}
	out := r.b[:n]
	r.b = r.b[n:]
	return out
}

func (r *reader) float32s() []float32 {
	n := r.count(4)
	if r.err != nil {
		return nil
	}
	out := make([]float32, n)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(r.b[4*i:]))
	}
	r.b = r.b[4*n:]
	return out
}

func (r *reader) floats() []float64 {
	n := r.count(8)
	if r.err != nil {
		return nil
	}
	out := make([]float64, n)
	for i := range out {
		out[i] = math.Float64frombits(binary.LittleEndian.Uint64(r.b[8*i:]))
	}
	r.b = r.b[8*n:]
	return out
}
