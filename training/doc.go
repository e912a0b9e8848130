// Package training makes tag models and judges them.
//
// data.go loads the TSV files (titles and Python-list tags, .tsv or .tsv.gz) and refuses a
// malformed row with file:line. features.go fits the vocabulary (bag of words or TF-IDF, word
// n-grams and character n-grams) and builds the sparse CSR matrix. logreg.go is one tag's
// logistic regression with liblinear's solvers (trust-region Newton for L2, newGLMNET for L1);
// ovr.go fits every tag in parallel, deterministically. rule.go tunes the decision rule on rows
// held out of the training file. metrics.go is the evaluation (scikit-learn's definitions),
// report.go writes it as JSON, Markdown and a picture drawn with gonum/plot, and train.go ties
// them together into Train, with the named configurations in Presets: "default" and the
// notebook's reference ones. What a trained model is, and how it predicts, is package model.
package training
