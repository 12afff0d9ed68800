// SPDX-License-Identifier: MIT OR Apache-2.0

package senti

/*
#include <stdint.h>
#include <stdlib.h>
#include "senti.h"

// Exported from callback.go.
extern int32_t sentiGoProgress(senti_progress *progress, uintptr_t handle);

static int32_t senti_go_progress_typed(const senti_progress *progress, void *user_data) {
	return sentiGoProgress((senti_progress *)progress, (uintptr_t)user_data);
}

static senti_status senti_go_train_params(const senti_params *params, uintptr_t handle,
                                          senti_model **model_out, senti_error **error_out) {
	return senti_train_params(params, handle != 0 ? senti_go_progress_typed : NULL,
	                          (void *)handle, model_out, error_out);
}

static senti_status senti_go_train_dataset(const senti_params *params, const senti_dataset *train,
                                           const senti_dataset *validation, uintptr_t handle,
                                           senti_model **model_out, senti_error **error_out) {
	return senti_train_dataset(params, train, validation,
	                           handle != 0 ? senti_go_progress_typed : NULL, (void *)handle,
	                           model_out, error_out);
}
*/
import "C"

import (
	"fmt"
	"strings"
)

// TrainWithParams trains a model on the data file p.DataPath (format p.DataFormat) with typed
// parameters. progress behaves as in Train: called on the calling goroutine, false cancels
// (ErrCancelled), and a panic in it cancels training and is re-raised by TrainWithParams.
func TrainWithParams(p Params, progress ProgressFunc) (*Model, error) {
	cp, err := p.toC()
	if err != nil {
		return nil, err
	}
	defer cp.free()
	return train(progress, func(handle C.uintptr_t, h **C.senti_model, cerr **C.senti_error) C.senti_status {
		return C.senti_go_train_params(cp.p, handle, h, cerr)
	})
}

// Example is one labeled text for training or evaluation from memory. Label is the class
// name (e.g. "sports", or "1" for a numbered class).
type Example struct {
	Text, Label string
}

// TrainExamples trains a model on examples in memory; nothing is read from disk, and
// p.DataPath, p.DataFormat are ignored. validation, if not nil, is the validation set; nil holds
// out p.ValidationFraction of train (0.1 by default) instead.
//
// The labels are the distinct Label values of train, ordered numerically when every name is
// a number ("1" < "2" < "10"), else by bytes ("negative" < "neutral" < "positive"); use
// TrainExamplesWithLabels to choose the order. A single class is ErrData, as is a validation
// label that train lacks. progress behaves as in Train.
func TrainExamples(p Params, train, validation []Example, progress ProgressFunc) (*Model, error) {
	return trainExamples(p, nil, train, validation, progress)
}

// TrainExamplesWithLabels is TrainExamples with the class names given in index order: the
// model's Labels, and the order of its Scores. Every example's Label must be one of them
// (else ErrInvalidArgument or ErrData from the library); a label may have no examples.
func TrainExamplesWithLabels(p Params, labels []string, train, validation []Example, progress ProgressFunc) (*Model, error) {
	if len(labels) == 0 {
		return nil, newError(ErrInvalidArgument, "TrainExamplesWithLabels needs the label names")
	}
	return trainExamples(p, labels, train, validation, progress)
}

func trainExamples(p Params, labels []string, trainSet, validation []Example, progress ProgressFunc) (*Model, error) {
	cp, err := p.toC()
	if err != nil {
		return nil, err
	}
	defer cp.free()
	tr, err := newDataset("train", labels, trainSet)
	if err != nil {
		return nil, err
	}
	defer tr.free()
	var va dataset
	if validation != nil {
		if va, err = newDataset("validation", nil, validation); err != nil {
			return nil, err
		}
		defer va.free()
	}
	return train(progress, func(handle C.uintptr_t, h **C.senti_model, cerr **C.senti_error) C.senti_status {
		return C.senti_go_train_dataset(cp.p, tr.d, va.d, handle, h, cerr)
	})
}

// dataset is a senti_dataset filled from Go; d is nil for none.
type dataset struct{ d *C.senti_dataset }

func (ds dataset) free() {
	if ds.d != nil {
		C.senti_dataset_free(ds.d)
	}
}

// newDataset copies examples into a new senti_dataset, after setting its label names if
// labels is not nil. what names the set in the binding's own errors ("train[3].Label ...").
func newDataset(what string, labels []string, examples []Example) (dataset, error) {
	var d *C.senti_dataset
	var cerr *C.senti_error
	if err := takeError(C.senti_dataset_new(&d, &cerr), cerr); err != nil {
		return dataset{}, err
	}
	ds := dataset{d}
	if labels != nil {
		names, err := newCStrings("labels", labels)
		if err != nil {
			ds.free()
			return dataset{}, err
		}
		status := C.senti_dataset_set_labels(d, names.ptrs, C.size_t(len(labels)), &cerr)
		names.free()
		if err := takeError(status, cerr); err != nil {
			ds.free()
			return dataset{}, err
		}
	}
	if len(examples) == 0 {
		return ds, nil // the library reports an empty training set when it trains
	}
	texts := make([]string, len(examples))
	names := make([]string, len(examples))
	for i, e := range examples {
		texts[i], names[i] = e.Text, e.Label
		if strings.IndexByte(e.Label, 0) >= 0 {
			ds.free()
			return dataset{}, newError(ErrInvalidArgument, fmt.Sprintf("%s[%d].Label contains a NUL byte", what, i))
		}
	}
	ct := newCTexts(texts)
	defer ct.free()
	cl, _ := newCStrings("labels", names) // checked above
	defer cl.free()
	status := C.senti_dataset_add_batch(d, ct.ptrs, ct.lens, cl.ptrs, C.size_t(len(examples)), &cerr)
	if err := takeError(status, cerr); err != nil {
		ds.free()
		// The library counts in its arrays (texts[i], labels[i]): element i of the examples.
		if e, ok := err.(*Error); ok {
			e.Message = what + " examples: " + e.Message
		}
		return dataset{}, err
	}
	return ds, nil
}

// newCStrings copies ss into C memory as NUL-terminated strings (one block, like cTexts).
// A NUL byte inside a string is ErrInvalidArgument naming what[i].
func newCStrings(what string, ss []string) (cTexts, error) {
	withNul := make([]string, len(ss))
	for i, s := range ss {
		if strings.IndexByte(s, 0) >= 0 {
			return cTexts{}, newError(ErrInvalidArgument, fmt.Sprintf("%s[%d] contains a NUL byte", what, i))
		}
		withNul[i] = s + "\x00"
	}
	return newCTexts(withNul), nil
}
