// SPDX-License-Identifier: MIT OR Apache-2.0

package senti

/*
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include "senti.h"
*/
import "C"

import (
	"fmt"
	"reflect"
	"strings"
	"unsafe"
)

// Params are typed training parameters, one field per parameter of the library (the
// "Training parameters" table of the README; the tag names the library's field).
//
// The zero value of every field means "the library's default": a zero int, float or empty
// string is not sent. Fields whose zero is a meaningful value different from the default are
// pointers, nil meaning the default; set them with Bool, Int and Float:
//
//	senti.Params{Cell: "gru", Epochs: 2, Bidirectional: senti.Bool(false), WideNgrams: senti.Int(0)}
//
// Values are checked by the library when training starts (TrainWithParams, TrainExamples,
// Params.JSON): an out-of-range or unknown value is an *Error with Code ErrConfig whose message
// names the field.
type Params struct {
	// Data (TrainWithParams only; TrainExamples ignores DataPath and DataFormat).
	DataPath   string `senti:"data_path"`   // training data; default "data/imdb/reviews.json"
	DataFormat string `senti:"data_format"` // "auto" (default), "imdb-json", "aclimdb", "jsonl", "csv", "folders"
	// A seeded, class-balanced sample of this many training examples; nil: all of them.
	TrainLimit *int `senti:"train_limit"`
	// Share of the training examples held out for validation, in [0, 0.9); default 0.1.
	ValidationFraction *float64 `senti:"validation_fraction"`

	// Network.
	Cell         string `senti:"cell"`          // "lstm" (default), "gru" or "transformer"
	EmbeddingDim int    `senti:"embedding_dim"` // default 128
	HiddenSize   int    `senti:"hidden_size"`   // state width per direction (a transformer's width); default 128
	// Stacked recurrent or transformer layers; default 1; Int(0): no network, the model is its
	// wide path alone (the fast recipe; needs the wide path).
	Layers        *int     `senti:"layers"`
	Bidirectional *bool    `senti:"bidirectional"` // default true; a transformer ignores it
	Heads         int      `senti:"heads"`         // transformer only: attention heads, dividing HiddenSize; default 4
	FFSize        int      `senti:"ff_size"`       // transformer only: feed-forward width; default 256
	Pooling       string   `senti:"pooling"`       // "last", "max", "mean", "max_mean" (default) or "attention"
	Dropout       *float64 `senti:"dropout"`       // default 0.3
	// Share of a batch's distinct words whose embedding is dropped whole; default 0.1.
	EmbeddingDropout *float64 `senti:"embedding_dropout"`
	// Passes of skip-gram word vectors that start the embedding; nil: automatic (5 for large
	// training sets, else none); Int(0): none.
	EmbeddingPretrainEpochs *int `senti:"embedding_pretrain_epochs"`

	// Text.
	VocabSize  int    `senti:"vocab_size"` // vocabulary entries, padding and unknown included; default 30000
	MaxLen     int    `senti:"max_len"`    // tokens kept per text; default 800
	Truncation string `senti:"truncation"` // "keep_end" (default) or "keep_start"

	// Optimisation.
	Epochs       int      `senti:"epochs"`        // default 3
	BatchSize    int      `senti:"batch_size"`    // default 64
	Optimizer    string   `senti:"optimizer"`     // "adam" (default) or "adamw"
	LearningRate float64  `senti:"learning_rate"` // default 0.002
	LRSchedule   string   `senti:"lr_schedule"`   // "constant", "linear" or "cosine" (default)
	WeightDecay  float64  `senti:"weight_decay"`  // decoupled weight decay (adamw); default 0
	ClipNorm     *float64 `senti:"clip_norm"`     // global gradient-norm clip, Float(0) disables; default 1.0
	// Keep the weights of the epoch with the best validation accuracy; default true.
	RestoreBest *bool `senti:"restore_best"`
	Seed        *int  `senti:"seed"`    // default 42
	Threads     int   `senti:"threads"` // worker threads; default 0, one per available core

	// The wide n-gram path.
	WideNgrams       *int     `senti:"wide_ngrams"`        // longest n-gram (1-3); Int(0): a pure recurrent model; default 2
	WideBuckets      int      `senti:"wide_buckets"`       // hash slots; default 0, automatic
	WideEpochs       int      `senti:"wide_epochs"`        // default 3
	WideLearningRate float64  `senti:"wide_learning_rate"` // default 0.03
	WideL2           *float64 `senti:"wide_l2"`            // L2 penalty, Float(0) for none; default 1e-6
}

// Bool returns a pointer to v, for the optional fields of Params.
func Bool(v bool) *bool { return &v }

// Int returns a pointer to v, for the optional fields of Params.
func Int(v int) *int { return &v }

// Float returns a pointer to v, for the optional fields of Params.
func Float(v float64) *float64 { return &v }

// cParams is a senti_params object built from Params; free it with free.
type cParams struct{ p *C.senti_params }

func (c cParams) free() { C.senti_params_free(c.p) }

// toC builds the library's parameter object: senti_params_new (all defaults), then one typed
// setter per field that is set. This is the one place that maps Params to the library.
func (p *Params) toC() (cParams, error) {
	var cp *C.senti_params
	var cerr *C.senti_error
	if err := takeError(C.senti_params_new(&cp, &cerr), cerr); err != nil {
		return cParams{}, err
	}
	v := reflect.ValueOf(p).Elem()
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		name := t.Field(i).Tag.Get("senti")
		f := v.Field(i)
		if f.Kind() == reflect.Pointer {
			if f.IsNil() {
				continue
			}
			f = f.Elem()
		} else if f.IsZero() {
			continue
		}
		if err := setParam(cp, name, f); err != nil {
			C.senti_params_free(cp)
			return cParams{}, err
		}
	}
	return cParams{cp}, nil
}

// setParam calls the setter for f's kind and makes sure that an error names the field.
func setParam(cp *C.senti_params, name string, f reflect.Value) error {
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	var status C.senti_status
	var cerr *C.senti_error
	switch f.Kind() {
	case reflect.String:
		value, err := cString("field "+name, f.String())
		if err != nil {
			return err
		}
		defer C.free(unsafe.Pointer(value))
		status = C.senti_params_set_string(cp, cname, value, &cerr)
	case reflect.Int:
		status = C.senti_params_set_int(cp, cname, C.int64_t(f.Int()), &cerr)
	case reflect.Float64:
		status = C.senti_params_set_float(cp, cname, C.double(f.Float()), &cerr)
	case reflect.Bool:
		status = C.senti_params_set_bool(cp, cname, C.bool(f.Bool()), &cerr)
	default:
		panic(fmt.Sprintf("senti: Params field %s has unsupported kind %s", name, f.Kind()))
	}
	err := takeError(status, cerr)
	if e, ok := err.(*Error); ok && !strings.Contains(e.Message, name) {
		e.Message = name + ": " + e.Message
	}
	return err
}

// JSON returns the complete parameters as the library sees them (defaults filled in), as a
// JSON object: the form Train takes. An invalid value is an *Error naming the field.
func (p Params) JSON() (string, error) {
	cp, err := p.toC()
	if err != nil {
		return "", err
	}
	defer cp.free()
	return readBuffer(func(buf *C.char, capacity C.size_t, need *C.size_t, cerr **C.senti_error) C.senti_status {
		return C.senti_params_to_json(cp.p, buf, capacity, need, cerr)
	})
}
