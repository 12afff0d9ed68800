// SPDX-License-Identifier: MIT OR Apache-2.0

package senti

// This file holds only the exported progress trampoline: cgo copies the preamble of a file
// with //export into two C files, so it may declare but not define C functions. The C shim
// that adapts senti_progress_fn to it lives in senti.go.

/*
#include "senti.h"
*/
import "C"

import (
	"math"
	"runtime/cgo"
)

// trainCall is the state of one Train call shared with the trampoline through a cgo.Handle.
// The library calls the trampoline on the goroutine that called Train, one call at a time.
type trainCall struct {
	fn       ProgressFunc
	panicked bool
	panicVal any
}

// sentiGoProgress is the senti_progress_fn behind Train's progress function. It returns 1
// (cancel) when the function returns false or panics; a panic is recovered here, because it
// must not unwind through the library's frames, and Train panics again with the same value.
//
//export sentiGoProgress
func sentiGoProgress(p *C.senti_progress, handle C.uintptr_t) (cancel C.int32_t) {
	call, ok := cgo.Handle(handle).Value().(*trainCall)
	if !ok || call.panicked {
		return 1
	}
	defer func() {
		if r := recover(); r != nil {
			call.panicked, call.panicVal = true, r
			cancel = 1
		}
	}()
	if !call.fn(progressFromC(p)) {
		return 1
	}
	return 0
}

func progressFromC(p *C.senti_progress) Progress {
	if p == nil {
		nan := math.NaN()
		return Progress{Loss: nan, Accuracy: nan, ValLoss: nan, ValAccuracy: nan}
	}
	return Progress{
		Phase:       Phase(p.phase),
		Epoch:       int(p.epoch),
		Epochs:      int(p.epochs),
		Batch:       int(p.batch),
		Batches:     int(p.batches),
		Loss:        float64(p.loss),
		Accuracy:    float64(p.accuracy),
		ValLoss:     float64(p.val_loss),
		ValAccuracy: float64(p.val_accuracy),
	}
}
