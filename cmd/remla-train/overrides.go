package main

import (
	"fmt"

	"github.com/spf13/pflag"

	"github.com/remla/tagger/training"
)

// bindOverrides declares the flags that override fields of the preset
// picked by --config, each bound to its field of c, with the field's value
// as the default since declaring a flag sets its variable to the default.
// It is the one list of them: train binds it to a zero Config for parsing,
// and applyOverrides binds it again to the preset to copy over only the
// flags that were set. The order is that of the suffixes of the model's name.
func bindOverrides(fs *pflag.FlagSet, c *training.Config) {
	f := &c.Features
	fs.BoolVar(&c.Int8, "int8", c.Int8, "override: store the weights quantised to 8 bits (--int8=false for float64)")
	fs.StringVar((*string)(&c.Tokenizer), "tokenizer", string(c.Tokenizer), "override: reference (the notebook's text_prepare) or code (prose, keeps c#, .net, node.js)")
	fs.StringVar((*string)(&f.Kind), "features", string(f.Kind), "override: bow or tfidf")
	fs.IntVar(&f.MaxN, "ngrams", f.MaxN, "override: longest word n-gram, 1 or 2")
	fs.BoolVar(&f.Sublinear, "sublinear", f.Sublinear, "override: replace tf by 1+ln(tf) (--sublinear=false for raw counts)")
	fs.IntVar(&f.CharMin, "char-min", f.CharMin, "override: shortest character n-gram (with --char-max)")
	fs.IntVar(&f.CharMax, "char-max", f.CharMax, "override: longest character n-gram, 0 for none (at most 7)")
	fs.IntVar(&f.MinDF, "min-df", f.MinDF, "override: TF-IDF minimum document frequency")
	fs.IntVar(&f.MinDFWord, "min-df-word", f.MinDFWord, "override: minimum document frequency of single words (0: as --min-df)")
	fs.Float64Var(&f.MaxDF, "max-df", f.MaxDF, "override: TF-IDF maximum document frequency (fraction)")
	fs.IntVar(&f.MaxFeatures, "max-features", f.MaxFeatures, "override: vocabulary size limit (0: none)")
	fs.StringVar(&c.Solver.Penalty, "penalty", c.Solver.Penalty, "override: l1 or l2")
	fs.Float64VarP(&c.Solver.C, "C", "C", c.Solver.C, "override: inverse regularisation strength")
	fs.Float64Var(&c.Solver.Tol, "tol", c.Solver.Tol, "override: solver tolerance (liblinear's eps)")
	fs.StringVar(&c.Rule.Kind, "rule", c.Rule.Kind, "override: fixed (p ≥ 0.5) or tuned (on a held-out slice of train)")
	fs.Float64Var(&c.Rule.Holdout, "holdout", c.Rule.Holdout, "override: fraction of train held out to tune the rule")
	fs.IntVar(&c.Rule.Folds, "tune-folds", c.Rule.Folds, "override: how many 1/holdout folds are held out in turn to tune the rule")
	fs.Float64Var(&c.Rule.AccuracyMargin, "accuracy-margin", c.Rule.AccuracyMargin, "override: the tuned rule keeps held-out subset accuracy ≥ the 0.5 rule's + this")
	fs.Uint64Var(&c.Seed, "seed", c.Seed, "override: seed for the held-out split and the L1 coordinate order")
}

// applyOverrides sets the fields of cfg whose flags were given in set, in
// the order bindOverrides declares them, and names each in cfg.Name
// ("default+C+tol"), so that a report tells a tuned run from the preset.
func applyOverrides(set *pflag.FlagSet, cfg *training.Config) error {
	dst := pflag.NewFlagSet("overrides", pflag.ContinueOnError)
	dst.SortFlags = false
	bindOverrides(dst, cfg)
	var err error
	dst.VisitAll(func(d *pflag.Flag) {
		f := set.Lookup(d.Name)
		if err != nil || f == nil || !f.Changed {
			return
		}
		// The value parsed once already: its String form parses back to it.
		if e := d.Value.Set(f.Value.String()); e != nil {
			err = fmt.Errorf("--%s: %w", d.Name, e)
			return
		}
		cfg.Name += "+" + d.Name
	})
	return err
}
