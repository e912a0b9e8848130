package training

import (
	"math"
	"slices"
	"testing"

	"github.com/remla/tagger/model"
)

func TestFitBagOfWordsOrder(t *testing.T) {
	docs := [][]string{{"b", "a"}, {"c", "a"}, {"b", "d"}, {"a"}}
	// counts: a 3, b 2, c 1, d 1; ties keep first appearance (c before d), as sorted(Counter).
	v, err := FitVectorizer(FeatureConfig{VectorizerConfig: model.VectorizerConfig{Kind: model.BagOfWords, MaxN: 1}, MaxFeatures: 3}, docs)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"a", "b", "c"}; !slices.Equal(v.Terms(), want) {
		t.Fatalf("vocabulary %v, want %v", v.Terms(), want)
	}
}

func TestFitTFIDF(t *testing.T) {
	docs := [][]string{
		{"go", "web"},
		{"go", "web", "go"},
		{"go", "db"},
		{"python", "web"},
		{"go", "python"},
	}
	cfg := FeatureConfig{VectorizerConfig: model.VectorizerConfig{Kind: model.TFIDF, MaxN: 2, Normalize: true}, MinDF: 2, MaxDF: 0.9}
	v, err := FitVectorizer(cfg, docs)
	if err != nil {
		t.Fatal(err)
	}
	// df: go 4, web 3, python 2, db 1, "go web" 2, "web go" 1, ...; max_df 0.9×5=4.5 keeps go.
	if want := []string{"go", "go web", "python", "web"}; !slices.Equal(v.Terms(), want) {
		t.Fatalf("vocabulary %v, want %v", v.Terms(), want)
	}
	idf := func(df float64) float64 { return math.Log(6/(1+df)) + 1 }
	for i, df := range []float64{4, 2, 2, 3} {
		if math.Abs(v.IDF()[i]-idf(df)) > 1e-12 {
			t.Fatalf("idf[%d] = %v, want %v", i, v.IDF()[i], idf(df))
		}
	}
	X := Vectorize(v, docs)
	if X.Rows != 5 || X.Cols != 4 || X.RowPtr[5] != len(X.Col) {
		t.Fatalf("matrix shape %+v", X)
	}
	// Row 1: go ×2, "go web" ×1, web ×1, then L2 normalised.
	row := X.Row(1)
	raw := []float64{2 * idf(4), idf(2), idf(3)}
	n := math.Sqrt(raw[0]*raw[0] + raw[1]*raw[1] + raw[2]*raw[2])
	if !slices.Equal(row.Idx, []int32{0, 1, 3}) {
		t.Fatalf("row 1 indices %v", row.Idx)
	}
	for k := range raw {
		if math.Abs(row.Val[k]-raw[k]/n) > 1e-12 {
			t.Fatalf("row 1 values %v, want %v", row.Val, []float64{raw[0] / n, raw[1] / n, raw[2] / n})
		}
	}
	// The transpose holds the same entries.
	c := X.Transpose()
	for j := 0; j < c.Cols; j++ {
		for k := c.ColPtr[j]; k < c.ColPtr[j+1]; k++ {
			r := X.Row(int(c.Row[k]))
			p := slices.Index(r.Idx, int32(j))
			if p < 0 || r.Val[p] != c.Val[k] {
				t.Fatalf("transpose entry (%d,%d) does not match", c.Row[k], j)
			}
		}
	}
	if c.ColPtr[c.Cols] != len(X.Col) {
		t.Fatal("transpose lost entries")
	}
}
