// SPDX-License-Identifier: MIT OR Apache-2.0

package senti

/*
#cgo pkg-config: senti
#include "senti.h"
*/
import "C"

// Status is a libsenti status code (senti_status). The numeric values are stable.
//
// The nonzero codes are named Err*; Status implements error so that errors.Is(err, ErrIO)
// tests whether err is an *Error with that code.
type Status int32

// The status codes of senti.h.
const (
	StatusOK           Status = C.SENTI_OK                   // success
	ErrInvalidArgument Status = C.SENTI_ERR_INVALID_ARGUMENT // unusable argument (empty batch, bad label, ...)
	ErrNullPointer     Status = C.SENTI_ERR_NULL_POINTER     // a required pointer was NULL
	ErrInvalidHandle   Status = C.SENTI_ERR_INVALID_HANDLE   // freed, never issued or wrong-kind handle; a closed Model
	ErrInvalidUTF8     Status = C.SENTI_ERR_INVALID_UTF8     // text that is not valid UTF-8
	ErrConfig          Status = C.SENTI_ERR_CONFIG           // malformed JSON, unknown field, wrong type or out-of-range value
	ErrIO              Status = C.SENTI_ERR_IO               // the operating system refused a read or a write
	ErrData            Status = C.SENTI_ERR_DATA             // a malformed data file
	ErrModelFile       Status = C.SENTI_ERR_MODEL_FILE       // a damaged, truncated, foreign or unsupported model file
	ErrCancelled       Status = C.SENTI_ERR_CANCELLED        // the progress function asked to stop
	ErrDiverged        Status = C.SENTI_ERR_DIVERGED         // the training loss became NaN or infinite
	ErrResourceLimit   Status = C.SENTI_ERR_RESOURCE_LIMIT   // more memory than the library allows itself
	ErrBufferTooSmall  Status = C.SENTI_ERR_BUFFER_TOO_SMALL // a buffer was too small (handled inside the binding)
	ErrInternal        Status = C.SENTI_ERR_INTERNAL         // a bug in the library
)

// String returns the library's name for the code, e.g. "SENTI_ERR_IO", or
// "SENTI_UNKNOWN_STATUS" for a code this library version does not define.
func (s Status) String() string {
	return C.GoString(C.senti_status_name(C.int32_t(s)))
}

// Error returns the code's name, so that a Status can serve as an errors.Is target.
func (s Status) Error() string { return s.String() }

// Error is a failure reported by libsenti (or by this binding's own argument checks): the
// stable status code and the full message.
type Error struct {
	Code    Status
	Message string
}

// Error returns "SENTI_ERR_X: message".
func (e *Error) Error() string {
	if e.Message == "" {
		return e.Code.String()
	}
	return e.Code.String() + ": " + e.Message
}

// Is reports whether target is the Status e.Code, so errors.Is(err, senti.ErrIO) works.
func (e *Error) Is(target error) bool {
	s, ok := target.(Status)
	return ok && s == e.Code
}

// newError builds a binding-side error with the library's codes.
func newError(code Status, message string) *Error {
	return &Error{Code: code, Message: message}
}

// errClosed is what every call on a closed Model returns.
func errClosed() error {
	return newError(ErrInvalidHandle, "the model is closed")
}

// takeError turns a call's status and error object into a Go error, and frees the object.
// The status the call returned is authoritative; the object supplies the message.
func takeError(status C.senti_status, cerr *C.senti_error) error {
	if cerr != nil {
		defer C.senti_error_free(cerr)
	}
	if status == C.SENTI_OK {
		return nil
	}
	e := &Error{Code: Status(status)}
	if cerr != nil {
		if msg := C.senti_error_message(cerr); msg != nil {
			e.Message = C.GoString(msg)
		}
	}
	return e
}
