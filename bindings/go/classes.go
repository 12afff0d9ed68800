// SPDX-License-Identifier: MIT OR Apache-2.0

package senti

/*
#include <stdint.h>
#include <stdlib.h>
#include "senti.h"
*/
import "C"

import (
	"encoding/json"
	"runtime"
	"unsafe"
)

// Prediction is the most likely class of a text: its index in Labels, its name and its score.
type Prediction struct {
	Index int
	Label string
	Score float32
}

// Report is a K-class evaluation (EvaluateReport, EvaluateExamples), decoded from the
// library's report JSON.
type Report struct {
	Count    int           `json:"count"`    // labeled texts evaluated
	Accuracy float64       `json:"accuracy"` // fraction whose most likely class is their label
	Loss     float64       `json:"loss"`     // mean cross-entropy
	MacroF1  float64       `json:"macro_f1"` // unweighted mean of the classes' F1
	Labels   []string      `json:"labels"`   // the model's class names, in index order
	PerClass []ClassScores `json:"per_class"`
	// Confusion[actual][predicted] counts texts, in label order.
	Confusion [][]uint64 `json:"confusion"`
}

// ClassScores are one class's figures in a Report.
type ClassScores struct {
	Label     string  `json:"label"`
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
	F1        float64 `json:"f1"`
	Support   int     `json:"support"` // texts whose label is this class
}

// Labels returns the model's class names in index order: the order of Scores. IMDB models
// have "negative", "positive".
func (m *Model) Labels() ([]string, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.h == nil {
		return nil, errClosed()
	}
	labels, err := m.labelNames()
	if err != nil {
		return nil, err
	}
	return append([]string(nil), labels...), nil
}

// labelNames returns the cached label names, reading them on first use. The caller holds
// m.mu for reading and has checked that the model is open.
func (m *Model) labelNames() ([]string, error) {
	m.labelsMu.Lock()
	defer m.labelsMu.Unlock()
	if m.labels != nil {
		return m.labels, nil
	}
	var count C.size_t
	var cerr *C.senti_error
	status := C.senti_label_count(m.h, &count, &cerr)
	runtime.KeepAlive(m)
	if err := takeError(status, cerr); err != nil {
		return nil, err
	}
	labels := make([]string, int(count))
	for i := range labels {
		name, err := readBuffer(func(buf *C.char, capacity C.size_t, need *C.size_t, cerr **C.senti_error) C.senti_status {
			return C.senti_label_name(m.h, C.size_t(i), buf, capacity, need, cerr)
		})
		runtime.KeepAlive(m)
		if err != nil {
			return nil, err
		}
		labels[i] = name
	}
	m.labels = labels
	return labels, nil
}

// Scores returns the probability of each class for text, in the order of Labels; they sum
// to 1. text must be valid UTF-8 (else ErrInvalidUTF8); it may be empty.
func (m *Model) Scores(text string) ([]float32, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.h == nil {
		return nil, errClosed()
	}
	labels, err := m.labelNames()
	if err != nil {
		return nil, err
	}
	out := make([]float32, len(labels))
	var cerr *C.senti_error
	status := C.senti_predict_scores(m.h, textPtr(text), C.size_t(len(text)),
		(*C.float)(unsafe.Pointer(&out[0])), C.size_t(len(out)), &cerr)
	runtime.KeepAlive(m)
	if err := takeError(status, cerr); err != nil {
		return nil, err
	}
	return out, nil
}

// ScoresBatch returns Scores for each text, in input order; faster than one Scores per text.
// An empty batch is ErrInvalidArgument.
func (m *Model) ScoresBatch(texts []string) ([][]float32, error) {
	if len(texts) == 0 {
		return nil, newError(ErrInvalidArgument, "ScoresBatch needs at least one text")
	}
	ct := newCTexts(texts)
	defer ct.free()
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.h == nil {
		return nil, errClosed()
	}
	labels, err := m.labelNames()
	if err != nil {
		return nil, err
	}
	k := len(labels)
	flat := make([]float32, len(texts)*k)
	var cerr *C.senti_error
	status := C.senti_predict_scores_batch(m.h, ct.ptrs, ct.lens, C.size_t(len(texts)),
		(*C.float)(unsafe.Pointer(&flat[0])), C.size_t(len(flat)), &cerr)
	runtime.KeepAlive(m)
	if err := takeError(status, cerr); err != nil {
		return nil, err
	}
	rows := make([][]float32, len(texts))
	for i := range rows {
		rows[i] = flat[i*k : (i+1)*k : (i+1)*k]
	}
	return rows, nil
}

// PredictLabel returns the most likely class of text and its probability.
func (m *Model) PredictLabel(text string) (Prediction, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.h == nil {
		return Prediction{}, errClosed()
	}
	labels, err := m.labelNames()
	if err != nil {
		return Prediction{}, err
	}
	var index C.size_t
	var score C.float
	var cerr *C.senti_error
	status := C.senti_predict_label(m.h, textPtr(text), C.size_t(len(text)), &index, &score, &cerr)
	runtime.KeepAlive(m)
	if err := takeError(status, cerr); err != nil {
		return Prediction{}, err
	}
	i := int(index)
	if i >= len(labels) {
		return Prediction{}, newError(ErrInternal, "the library predicted a label index beyond the model's labels")
	}
	return Prediction{Index: i, Label: labels[i], Score: float32(score)}, nil
}

// EvaluateReport measures the model on labeled data described by dataJSON, as Evaluate does
// ({"path", "format", "split", "limit", "part"}), and returns the K-class report.
func (m *Model) EvaluateReport(dataJSON string) (*Report, error) {
	spec, err := cString("data specification", dataJSON)
	if err != nil {
		return nil, err
	}
	defer C.free(unsafe.Pointer(spec))
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.h == nil {
		return nil, errClosed()
	}
	var r *C.senti_report
	var cerr *C.senti_error
	status := C.senti_evaluate_report(m.h, spec, &r, &cerr)
	runtime.KeepAlive(m)
	if err := takeError(status, cerr); err != nil {
		return nil, err
	}
	return takeReport(r)
}

// EvaluateExamples measures the model on labeled examples in memory. Every Label must be one
// of the model's Labels. An empty slice is ErrInvalidArgument.
func (m *Model) EvaluateExamples(examples []Example) (*Report, error) {
	if len(examples) == 0 {
		return nil, newError(ErrInvalidArgument, "EvaluateExamples needs at least one example")
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.h == nil {
		return nil, errClosed()
	}
	labels, err := m.labelNames()
	if err != nil {
		return nil, err
	}
	ds, err := newDataset("examples", labels, examples)
	if err != nil {
		return nil, err
	}
	defer ds.free()
	var r *C.senti_report
	var cerr *C.senti_error
	status := C.senti_evaluate_dataset(m.h, ds.d, &r, &cerr)
	runtime.KeepAlive(m)
	if err := takeError(status, cerr); err != nil {
		return nil, err
	}
	return takeReport(r)
}

// takeReport decodes a report's JSON and frees the report.
func takeReport(r *C.senti_report) (*Report, error) {
	defer C.senti_report_free(r)
	js := C.senti_report_json(r)
	if js == nil {
		return nil, newError(ErrInternal, "the library returned a report without JSON")
	}
	var rep Report
	if err := json.Unmarshal([]byte(C.GoString(js)), &rep); err != nil {
		return nil, newError(ErrInternal, "decoding the library's report: "+err.Error())
	}
	return &rep, nil
}
