// Package model is what a trained StackOverflow tagger is and how it turns a title into tags.
//
// A title goes through three steps, all in this package so that training and serving agree:
// text preparation (text.go: the notebook's text_prepare), vectorising (vectorizer.go: bag of
// words or TF-IDF into a sparse vector, terms looked up in vocab.go's compact tables) and
// scoring (model.go: one sparse vector × the feature-major weight matrix, a sigmoid per tag,
// then the decision Rule picks the tags).
// file.go is the versioned, checksummed model file that Load refuses when it is damaged.
// Models are made by package training.
package model
