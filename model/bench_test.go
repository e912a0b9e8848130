package model_test

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/remla/tagger/model"
	"github.com/remla/tagger/training"
)

// testModelPath is the model the benchmarks and the model-wide tests use: $REMLA_TEST_MODEL,
// else models/latest.model.
func testModelPath() string {
	if path := os.Getenv("REMLA_TEST_MODEL"); path != "" {
		return path
	}
	return filepath.Join("..", "models", "latest.model")
}

// benchModel loads testModelPath, or skips the benchmark.
func benchModel(b *testing.B) (string, *model.Model) {
	b.Helper()
	path := testModelPath()
	m, err := model.Load(path)
	if err != nil {
		b.Skipf("no model to benchmark (%v); run `make train` or set REMLA_TEST_MODEL", err)
	}
	return path, m
}

func benchTitles(b *testing.B) []string {
	b.Helper()
	d, err := training.LoadDataset(filepath.Join("..", "data", "validation.tsv.gz"))
	if err != nil {
		b.Fatal(err)
	}
	return d.Titles[:1000]
}

func BenchmarkPrepareText(b *testing.B) {
	titles := benchTitles(b)
	var toks []string
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		toks = model.Tokens(toks[:0], titles[i%len(titles)])
	}
}

func BenchmarkVectorize(b *testing.B) {
	_, m := benchModel(b)
	titles := benchTitles(b)
	toks := make([][]string, len(titles))
	for i, t := range titles {
		toks[i] = model.Tokens(nil, t)
	}
	v := m.Spec().Vectorizer
	var x model.Sparse
	var key []byte
	var dd model.Dedup
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		// The path Predict takes (training uses the sorted Transform).
		key = v.TransformUnsorted(&x, toks[i%len(toks)], key, &dd)
	}
}

// BenchmarkPredict is one title end to end: prepare, vectorise, score every tag, apply the rule.
// It also reports the median and 99th percentile of single calls.
func BenchmarkPredict(b *testing.B) { benchPredict(b, nil) }

// BenchmarkPredictCold is BenchmarkPredict with the caches flushed before each call, as in the
// server, where the network stack and the handler chain run between two predictions and the
// model's rows are no longer in cache. It writes over 4 MB (more than L2, an eighth of this
// machine's L3) between calls, outside the timed part, and reports the median and 99th
// percentile of the calls alone; ns/op includes the flushing and is not the figure to read.
func BenchmarkPredictCold(b *testing.B) {
	flush := make([]byte, 4<<20)
	benchPredict(b, func() {
		for k := 0; k < len(flush); k += 64 {
			flush[k]++
		}
	})
}

// benchPredict times single Predict calls over the benchmark titles, running between (if not
// nil) before each call, outside the timed part.
func benchPredict(b *testing.B, between func()) {
	_, m := benchModel(b)
	titles := benchTitles(b)
	durs := make([]time.Duration, 0, min(b.N, 1<<20))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if between != nil {
			between()
		}
		start := time.Now()
		m.Predict(titles[i%len(titles)])
		if len(durs) < cap(durs) {
			durs = append(durs, time.Since(start))
		}
	}
	b.StopTimer()
	slices.Sort(durs)
	b.ReportMetric(float64(durs[len(durs)/2].Nanoseconds()), "median-ns")
	b.ReportMetric(float64(durs[len(durs)*99/100].Nanoseconds()), "p99-ns")
}

func BenchmarkLoad(b *testing.B) {
	path, m := benchModel(b)
	if fi, err := os.Stat(path); err == nil {
		b.SetBytes(fi.Size())
	}
	b.ReportMetric(float64(m.Spec().Vectorizer.Len()), "features")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := model.Load(path); err != nil {
			b.Fatal(err)
		}
	}
}
