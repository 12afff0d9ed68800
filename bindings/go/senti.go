// SPDX-License-Identifier: MIT OR Apache-2.0

package senti

/*
#cgo pkg-config: senti
#include <stdint.h>
#include <stdlib.h>
#include "senti.h"

// Exported from callback.go.
extern int32_t sentiGoProgress(senti_progress *progress, uintptr_t handle);

static int32_t senti_go_progress(const senti_progress *progress, void *user_data) {
	return sentiGoProgress((senti_progress *)progress, (uintptr_t)user_data);
}

// Go passes the cgo.Handle as an integer; the conversion to a pointer happens here, in C.
static senti_status senti_go_train(const char *params, uintptr_t handle, senti_model **model_out,
                                   senti_error **error_out) {
	return senti_train(params, handle != 0 ? senti_go_progress : NULL, (void *)handle, model_out,
	                   error_out);
}
*/
import "C"

import (
	"fmt"
	"runtime"
	"runtime/cgo"
	"strings"
	"sync"
	"sync/atomic"
	"unsafe"
)

// Version returns the version of the linked library, e.g. "0.1.0".
func Version() string {
	return C.GoString(C.senti_version())
}

// SimdLevel returns the instruction set the library's kernels chose for this CPU: "avx512",
// "avx2" or "baseline" (portable code), at most the one SENTI_MAX_SIMD names if it is set before
// the library's first call. Speed figures hold for the level they were measured at.
func SimdLevel() string {
	return C.GoString(C.senti_simd_level())
}

// Phase tells which kind of progress report a Progress is.
type Phase int32

const (
	PhaseBatch Phase = C.SENTI_PHASE_BATCH // after each training batch
	PhaseEpoch Phase = C.SENTI_PHASE_EPOCH // after each epoch's validation
	// while word vectors are learned before the first epoch (embedding_pretrain_epochs);
	// Epoch counts their passes, Batch chunks of reviews, and the figures are NaN
	PhasePretrain Phase = C.SENTI_PHASE_PRETRAIN
)

// ProgressFunc receives the progress reports of a training run (Train, TrainWithParams,
// TrainExamples) on the goroutine that started it; returning false cancels the run.
type ProgressFunc func(Progress) bool

// Progress mirrors senti_progress: one report passed to a ProgressFunc.
type Progress struct {
	Phase          Phase
	Epoch, Epochs  int // 1-based epoch and total epochs
	Batch, Batches int // 1-based batch within the epoch and batches per epoch
	// Running mean training loss and accuracy of the current epoch.
	Loss, Accuracy float64
	// Validation loss and accuracy after the epoch; NaN in batch reports and without validation.
	ValLoss, ValAccuracy float64
}

// Evaluation mirrors senti_evaluation: the result of Evaluate and EvaluateTexts.
type Evaluation struct {
	Count                        int // labeled reviews evaluated
	TruePositive, TrueNegative   int
	FalsePositive, FalseNegative int
	Loss                         float64 // mean binary cross-entropy
	Accuracy                     float64 // fraction classified correctly (probability > 0.5 is positive)
}

// Model is a trained classifier owned by Go. It is safe for concurrent use by many
// goroutines; see the package documentation for Close and finalization.
type Model struct {
	// mu guards h: calls that use the model hold it for reading, Close for writing. The
	// library itself copes with a free racing a call; the lock makes Close wait for calls in
	// flight so that none of them fails half-way.
	mu sync.RWMutex
	h  *C.senti_model // an opaque token, never dereferenced; nil once closed

	// labels caches the model's class names (fixed for its lifetime), read on first use.
	labelsMu sync.Mutex
	labels   []string
}

// finalizedModels counts models released by the finalizer (read by the tests).
var finalizedModels atomic.Int64

func newModel(h *C.senti_model) *Model {
	m := &Model{h: h}
	runtime.SetFinalizer(m, (*Model).finalize)
	return m
}

func (m *Model) finalize() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.h != nil {
		C.senti_free(m.h)
		m.h = nil
		finalizedModels.Add(1)
	}
}

// Close releases the model. It waits for calls in flight on other goroutines; later calls
// return an *Error with Code ErrInvalidHandle. Closing a closed model returns nil.
func (m *Model) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.h != nil {
		C.senti_free(m.h)
		m.h = nil
		runtime.SetFinalizer(m, nil)
	}
	return nil
}

// cString copies s for a NUL-terminated parameter (path or JSON); the caller frees the
// result. A NUL byte inside s would silently cut it short, so it is an error.
func cString(what, s string) (*C.char, error) {
	if strings.IndexByte(s, 0) >= 0 {
		return nil, newError(ErrInvalidArgument, what+" contains a NUL byte")
	}
	return C.CString(s), nil
}

// Train trains a model. paramsJSON is a JSON object of training parameters ("" or "{}" for
// all defaults); an unknown field, a wrong type or an out-of-range value is ErrConfig.
//
// progress, if not nil, is called on the calling goroutine after every batch and every epoch;
// returning false cancels training, and Train then returns an *Error with Code ErrCancelled.
// If progress panics, training is cancelled and Train panics with the same value once the
// library has returned (a Go panic must not unwind through C). progress must not call
// runtime.Goexit (and so not t.FailNow or t.Fatal).
func Train(paramsJSON string, progress ProgressFunc) (*Model, error) {
	params, err := cString("training parameters", paramsJSON)
	if err != nil {
		return nil, err
	}
	defer C.free(unsafe.Pointer(params))
	return train(progress, func(handle C.uintptr_t, h **C.senti_model, cerr **C.senti_error) C.senti_status {
		return C.senti_go_train(params, handle, h, cerr)
	})
}

// train runs one training call with progress behind a cgo.Handle, and turns its result into
// a Model, an error or the progress function's panic, re-raised once the library returned.
func train(progress ProgressFunc, run func(C.uintptr_t, **C.senti_model, **C.senti_error) C.senti_status) (*Model, error) {
	var call *trainCall
	var handle C.uintptr_t
	if progress != nil {
		call = &trainCall{fn: progress}
		h := cgo.NewHandle(call)
		defer h.Delete()
		handle = C.uintptr_t(h)
	}
	var h *C.senti_model
	var cerr *C.senti_error
	status := run(handle, &h, &cerr)
	err := takeError(status, cerr)
	if call != nil && call.panicked {
		if err == nil && h != nil {
			// The library finished although the callback asked it to stop.
			C.senti_free(h)
		}
		panic(call.panicVal)
	}
	if err != nil {
		return nil, err
	}
	return newModel(h), nil
}

// Load reads a model file written by Save. A missing file is ErrIO; a damaged, truncated or
// foreign file is ErrModelFile.
func Load(path string) (*Model, error) {
	cpath, err := cString("path", path)
	if err != nil {
		return nil, err
	}
	defer C.free(unsafe.Pointer(cpath))
	var h *C.senti_model
	var cerr *C.senti_error
	if err := takeError(C.senti_load(cpath, &h, &cerr), cerr); err != nil {
		return nil, err
	}
	return newModel(h), nil
}

// Save writes the model to path as one .safetensors file, atomically (a temporary file
// renamed over path). It may run while other goroutines predict.
func (m *Model) Save(path string) error {
	cpath, err := cString("path", path)
	if err != nil {
		return err
	}
	defer C.free(unsafe.Pointer(cpath))
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.h == nil {
		return errClosed()
	}
	var cerr *C.senti_error
	status := C.senti_save(m.h, cpath, &cerr)
	runtime.KeepAlive(m)
	return takeError(status, cerr)
}

// Predict returns the probability in [0, 1] of a two-label model's second label (for IMDB
// models: that text is a positive review). text must be valid UTF-8 (else ErrInvalidUTF8); it
// may be empty and may contain NUL bytes, which separate words. A model with more than two
// labels is ErrInvalidArgument: use Scores or PredictLabel.
func (m *Model) Predict(text string) (float32, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.h == nil {
		return 0, errClosed()
	}
	p, err := predict(m.h, text)
	runtime.KeepAlive(m)
	return p, err
}

// predict passes the string's own bytes: Go memory without Go pointers may be lent to C for
// the duration of a call, and the library only reads it.
func predict(h *C.senti_model, text string) (float32, error) {
	var p C.float
	var cerr *C.senti_error
	status := C.senti_predict(h, textPtr(text), C.size_t(len(text)), &p, &cerr)
	if err := takeError(status, cerr); err != nil {
		return 0, err
	}
	return float32(p), nil
}

// textPtr lends text's bytes to C for one call; NULL (with length 0) is the empty text.
func textPtr(text string) *C.char {
	if len(text) == 0 {
		return nil
	}
	return (*C.char)(unsafe.Pointer(unsafe.StringData(text)))
}

// cTexts is a batch of texts copied into C memory: one block holding the array of pointers,
// the array of lengths and the bytes. (Go memory may not hold the pointer array, because it
// would contain Go pointers, and C memory may not hold pointers into Go memory.)
type cTexts struct {
	block unsafe.Pointer
	ptrs  **C.char
	lens  *C.size_t
}

func newCTexts(texts []string) cTexts {
	n := len(texts)
	ptrSize := int(unsafe.Sizeof((*C.char)(nil)))
	lenSize := int(unsafe.Sizeof(C.size_t(0)))
	total := n * (ptrSize + lenSize)
	for _, t := range texts {
		total += len(t)
	}
	block := C.malloc(C.size_t(total + 1))
	if block == nil {
		panic("senti: out of C memory for a batch of texts")
	}
	ptrs := unsafe.Slice((**C.char)(block), n)
	lens := unsafe.Slice((*C.size_t)(unsafe.Add(block, n*ptrSize)), n)
	data := unsafe.Slice((*byte)(unsafe.Add(block, n*(ptrSize+lenSize))), total-n*(ptrSize+lenSize)+1)
	off := 0
	for i, t := range texts {
		copy(data[off:], t)
		ptrs[i] = (*C.char)(unsafe.Pointer(&data[off]))
		lens[i] = C.size_t(len(t))
		off += len(t)
	}
	return cTexts{block: block, ptrs: (**C.char)(block), lens: (*C.size_t)(unsafe.Add(block, n*ptrSize))}
}

func (c cTexts) free() { C.free(c.block) }

// PredictBatch returns the probability of each text, in input order; faster than one Predict
// per text. An empty batch is ErrInvalidArgument, as in the C API, and so is a model with more
// than two labels (use ScoresBatch).
func (m *Model) PredictBatch(texts []string) ([]float32, error) {
	if len(texts) == 0 {
		return nil, newError(ErrInvalidArgument, "PredictBatch needs at least one text")
	}
	ct := newCTexts(texts)
	defer ct.free()
	out := make([]float32, len(texts))
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.h == nil {
		return nil, errClosed()
	}
	var cerr *C.senti_error
	status := C.senti_predict_batch(m.h, ct.ptrs, ct.lens, C.size_t(len(texts)),
		(*C.float)(unsafe.Pointer(&out[0])), &cerr)
	runtime.KeepAlive(m)
	if err := takeError(status, cerr); err != nil {
		return nil, err
	}
	return out, nil
}

func evaluationFromC(e *C.senti_evaluation) Evaluation {
	return Evaluation{
		Count:         int(e.count),
		TruePositive:  int(e.true_positive),
		TrueNegative:  int(e.true_negative),
		FalsePositive: int(e.false_positive),
		FalseNegative: int(e.false_negative),
		Loss:          float64(e.loss),
		Accuracy:      float64(e.accuracy),
	}
}

// Evaluate measures the model on labeled data described by dataJSON:
// {"path": "...", "format": "auto|imdb-json|aclimdb|jsonl|csv", "split": "test|train",
// "limit": N, "part": "model|recurrent|wide"}. Only "path" is required; "part" scores the
// whole model (default) or one part of a model with a wide n-gram path.
// Count, Loss and Accuracy hold for any number of labels; the confusion counts are for
// two-label models (zero beyond). EvaluateReport returns the K-class report.
func (m *Model) Evaluate(dataJSON string) (Evaluation, error) {
	spec, err := cString("data specification", dataJSON)
	if err != nil {
		return Evaluation{}, err
	}
	defer C.free(unsafe.Pointer(spec))
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.h == nil {
		return Evaluation{}, errClosed()
	}
	var res C.senti_evaluation
	var cerr *C.senti_error
	status := C.senti_evaluate(m.h, spec, &res, &cerr)
	runtime.KeepAlive(m)
	if err := takeError(status, cerr); err != nil {
		return Evaluation{}, err
	}
	return evaluationFromC(&res), nil
}

// EvaluateTexts measures a two-label model on texts with their label indices (0 negative, 1
// positive for IMDB models). EvaluateExamples takes labels by name, for any number of labels.
func (m *Model) EvaluateTexts(texts []string, labels []uint8) (Evaluation, error) {
	if len(texts) != len(labels) {
		return Evaluation{}, newError(ErrInvalidArgument, "texts and labels differ in length")
	}
	if len(texts) == 0 {
		return Evaluation{}, newError(ErrInvalidArgument, "EvaluateTexts needs at least one text")
	}
	ct := newCTexts(texts)
	defer ct.free()
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.h == nil {
		return Evaluation{}, errClosed()
	}
	var res C.senti_evaluation
	var cerr *C.senti_error
	status := C.senti_evaluate_texts(m.h, ct.ptrs, ct.lens, (*C.uint8_t)(unsafe.Pointer(&labels[0])),
		C.size_t(len(texts)), &res, &cerr)
	runtime.KeepAlive(m)
	if err := takeError(status, cerr); err != nil {
		return Evaluation{}, err
	}
	return evaluationFromC(&res), nil
}

// Info describes the model as JSON: library version, model and text configuration,
// vocabulary size, class labels and the training record.
func (m *Model) Info() (string, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.h == nil {
		return "", errClosed()
	}
	info, err := readBuffer(func(buf *C.char, capacity C.size_t, need *C.size_t, cerr **C.senti_error) C.senti_status {
		return C.senti_model_info(m.h, buf, capacity, need, cerr)
	})
	runtime.KeepAlive(m)
	return info, err
}

// SetPredictionThreads sets between how many threads each later prediction and evaluation with
// the model splits its reviews: 0 (the default) is one per available core, at most SENTI_MAX_THREADS (1024). A
// service whose handlers predict concurrently usually serves more requests with 1. Scores do
// not depend on it.
func (m *Model) SetPredictionThreads(threads int) error {
	if threads < 0 {
		return &Error{Code: ErrInvalidArgument, Message: fmt.Sprintf("prediction threads must be between 0 and %d, got %d", C.SENTI_MAX_THREADS, threads)}
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.h == nil {
		return errClosed()
	}
	var cerr *C.senti_error
	status := C.senti_set_prediction_threads(m.h, C.size_t(threads), &cerr)
	runtime.KeepAlive(m)
	return takeError(status, cerr)
}

// SetPredictionPrecision sets the precision at which each later prediction and evaluation with
// the model stores the network's weights: "f32" (the default after Load: the weights as
// trained), "f16" (half floats, widened to f32 as they are read) or "i16" (the recurrent
// matrices as 16-bit integers and the input table as bytes, each with a scale per row: the
// fastest single review where the CPU has AVX2 but not AVX-512, and the least memory), which lower a single review's latency while scores move by about
// 1e-4. Arithmetic stays f32 and the wide path is
// unaffected; explanations integrate at f32 (the rounding shows in their unexplained part). It
// may run while other goroutines predict. Any other value is
// ErrInvalidArgument and changes nothing.
func (m *Model) SetPredictionPrecision(precision string) error {
	cprecision, err := cString("precision", precision)
	if err != nil {
		return err
	}
	defer C.free(unsafe.Pointer(cprecision))
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.h == nil {
		return errClosed()
	}
	var cerr *C.senti_error
	status := C.senti_set_prediction_precision(m.h, cprecision, &cerr)
	runtime.KeepAlive(m)
	return takeError(status, cerr)
}

// readBuffer runs a call of the library's capacity protocol (a buffer, its capacity and the
// length needed, SENTI_ERR_BUFFER_TOO_SMALL when short) until the text fits, and returns it.
func readBuffer(call func(buf *C.char, capacity C.size_t, need *C.size_t, cerr **C.senti_error) C.senti_status) (string, error) {
	var need C.size_t
	buf := make([]byte, 256)
	for {
		var cerr *C.senti_error
		status := call((*C.char)(unsafe.Pointer(&buf[0])), C.size_t(len(buf)), &need, &cerr)
		if status == C.SENTI_ERR_BUFFER_TOO_SMALL && int(need) >= len(buf) {
			takeError(status, cerr) // frees the error object
			buf = make([]byte, int(need)+1)
			continue
		}
		if err := takeError(status, cerr); err != nil {
			return "", err
		}
		return string(buf[:need]), nil
	}
}
