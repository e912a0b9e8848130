#!/usr/bin/python3
"""The notebook's pipeline in scikit-learn, for `make parity` and `make bench-train`.

Reads data/train.tsv.gz and data/validation.tsv.gz exactly as the notebook does (tab-separated,
double-quote quoting), prepares the text with the reference text_prepare, builds the bag-of-words
(5,000 most frequent words) or TF-IDF (min_df=5, max_df=0.9, 1-2 grams, token_pattern (\\S+))
features, fits OneVsRestClassifier(LogisticRegression(solver='liblinear', random_state=0)) and
prints one JSON object per configuration with the validation metrics and the fitting time.

usage: sklearn_ref.py DATA_DIR CONFIG...   where CONFIG is bow-l1-1, tfidf-l2-10, ...
"""
import csv, gzip, io, json, re, sys, time, ast
from collections import Counter

import numpy as np
from scipy import sparse as sp_sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, average_precision_score, f1_score, roc_auc_score
from sklearn.multiclass import OneVsRestClassifier
from sklearn.preprocessing import MultiLabelBinarizer

# NLTK's English stopword list (nltk.corpus.stopwords.words('english'), 179 words).
STOPWORDS = set("""i me my myself we our ours ourselves you you're you've you'll you'd your yours yourself
yourselves he him his himself she she's her hers herself it it's its itself they them their theirs themselves
what which who whom this that that'll these those am is are was were be been being have has had having do does
did doing a an the and but if or because as until while of at by for with about against between into through
during before after above below to from up down in out on off over under again further then once here there when
where why how all any both each few more most other some such no nor not only own same so than too very s t can
will just don don't should should've now d ll m o re ve y ain aren aren't couldn couldn't didn didn't doesn
doesn't hadn hadn't hasn hasn't haven haven't isn isn't ma mightn mightn't mustn mustn't needn needn't shan
shan't shouldn shouldn't wasn wasn't weren weren't won won't wouldn wouldn't""".split())
assert len(STOPWORDS) == 179, len(STOPWORDS)
REPLACE_BY_SPACE_RE = re.compile(r'[/(){}\[\]\|@,;]')
BAD_SYMBOLS_RE = re.compile(r'[^0-9a-z #+_]')


def text_prepare(text):
    text = text.lower()
    text = REPLACE_BY_SPACE_RE.sub(' ', text)
    text = BAD_SYMBOLS_RE.sub('', text)
    return ' '.join(w for w in text.split() if w not in STOPWORDS)


def read(path):
    with gzip.open(path, 'rt', encoding='utf-8', newline='') as f:
        rows = list(csv.reader(f, delimiter='\t'))
    header, rows = rows[0], rows[1:]
    titles = [r[0] for r in rows]
    tags = [ast.literal_eval(r[1]) for r in rows] if len(header) > 1 else None
    return titles, tags


def bag_of_words(texts_train, texts):
    counts = Counter()
    for t in texts_train:
        counts.update(t.split())
    index_to_words = sorted(counts.keys(), key=lambda w: counts[w], reverse=True)[:5000]
    words_to_index = {w: i for i, w in enumerate(index_to_words)}

    def vec(t):
        v = np.zeros(len(index_to_words))
        for w in t.split(' '):
            if w in words_to_index:
                v[words_to_index[w]] += 1
        return sp_sparse.csr_matrix(v)
    return lambda ts: sp_sparse.vstack([vec(t) for t in ts])


def main():
    data, configs = sys.argv[1], sys.argv[2:]
    X_train, y_train = read(f'{data}/train.tsv.gz')
    X_val, y_val = read(f'{data}/validation.tsv.gz')
    X_train = [text_prepare(t) for t in X_train]
    X_val = [text_prepare(t) for t in X_val]
    tags_counts = Counter(t for ts in y_train for t in ts)
    mlb = MultiLabelBinarizer(classes=sorted(tags_counts.keys()))
    Y_train = mlb.fit_transform(y_train)
    Y_val = mlb.fit_transform(y_val)
    for config in configs:
        features, penalty, c = config.split('-')
        t0 = time.perf_counter()
        if features == 'bow':
            vec = bag_of_words(X_train, X_val)
            A_train, A_val = vec(X_train), vec(X_val)
        else:
            tv = TfidfVectorizer(min_df=5, max_df=0.9, ngram_range=(1, 2), token_pattern=r'(\S+)')
            A_train = tv.fit_transform(X_train)
            A_val = tv.transform(X_val)
        clf = OneVsRestClassifier(LogisticRegression(penalty=penalty, C=float(c), dual=False,
                                                     solver='liblinear', random_state=0))
        clf.fit(A_train, Y_train)
        fit_seconds = time.perf_counter() - t0
        pred = clf.predict(A_val)
        scores = clf.decision_function(A_val)
        keep = [j for j in range(Y_val.shape[1]) if 0 < Y_val[:, j].sum() < Y_val.shape[0]]
        print(json.dumps({
            'config': config, 'features': A_train.shape[1],
            'accuracy': accuracy_score(Y_val, pred),
            'f1_weighted': f1_score(Y_val, pred, average='weighted', zero_division=0),
            'f1_macro': f1_score(Y_val, pred, average='macro', zero_division=0),
            'f1_micro': f1_score(Y_val, pred, average='micro', zero_division=0),
            'average_precision_macro': average_precision_score(Y_val[:, keep], scores[:, keep], average='macro'),
            'roc_auc_macro': roc_auc_score(Y_val[:, keep], scores[:, keep], average='macro'),
            'fit_seconds': fit_seconds,
        }), flush=True)


if __name__ == '__main__':
    main()
