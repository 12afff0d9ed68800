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
	"fmt"
	"math"
	"runtime"
	"slices"
	"strings"
)

// Integration steps of Explain (senti_explain): ExplainSteps(0) or no ExplainSteps option picks
// DefaultExplainSteps; more than MaxExplainSteps is ErrInvalidArgument.
const (
	DefaultExplainSteps = C.SENTI_EXPLAIN_DEFAULT_STEPS
	MaxExplainSteps     = C.SENTI_EXPLAIN_MAX_STEPS
)

// Explanation says why a model gave a text its score (Explain, senti_explain): every token of
// the text with its byte range in the text and its signed contribution to one class's logit,
// decoded from the library's explanation JSON. A plain value: it holds no library resources.
//
// Reference + the sum of the tokens' Contribution + Unexplained equals Logit. For a two-label
// model the first label's logit is the second's, negated, and so are the contributions; with
// more labels Logit is the class's own logit, before the softmax.
type Explanation struct {
	Class       int     `json:"class"`       // the explained class: its index in Labels
	Label       string  `json:"label"`       // its name
	Score       float32 `json:"score"`       // the model's probability for it, as Scores gives it
	Logit       float32 `json:"logit"`       // its logit
	Reference   float32 `json:"reference"`   // the logit of a text without words
	Unexplained float32 `json:"unexplained"` // what the contributions leave out (the integration's error)
	Method      string  `json:"method"`      // how the network's part was computed: "integrated_gradients"; "wide_path" for a model without a network
	Steps       int     `json:"steps"`       // integration steps used
	// Tokens in text order; empty for a text without words.
	Tokens []TokenContribution `json:"tokens"`
}

// TokenContribution is one token of an Explanation.
type TokenContribution struct {
	Token string `json:"token"` // the token as the model saw it (lowercased)
	// Its byte range in the text given to Explain: text[Start:End].
	Start int `json:"start"`
	End   int `json:"end"`
	// Network + Wide: how far the token moved the class's logit (positive: towards the class).
	Contribution float32 `json:"contribution"`
	Network      float32 `json:"network"` // the recurrent network's part (0 when not read by it)
	Wide         float32 `json:"wide"`    // the wide n-gram path's part (0 without a wide path)
	// Whether the network read the token: false past the model's max_len, where only the wide
	// path credits it.
	ReadByNetwork bool `json:"read_by_network"`
}

// ExplainOption chooses what Explain explains and how: ExplainClass, ExplainLabel, ExplainSteps.
type ExplainOption func(*explainConfig)

type explainConfig struct {
	by    int // explainPredicted, explainIndex or explainName
	class int
	label string
	steps int
}

const (
	explainPredicted = iota
	explainIndex
	explainName
)

// ExplainClass explains the class with this index in Labels instead of the predicted class.
// An index that is negative or past the last class is ErrInvalidArgument.
func ExplainClass(index int) ExplainOption {
	return func(c *explainConfig) { c.by, c.class = explainIndex, index }
}

// ExplainLabel explains the class with this name instead of the predicted class; a name that
// is not one of the model's Labels is ErrInvalidArgument.
func ExplainLabel(name string) ExplainOption {
	return func(c *explainConfig) { c.by, c.label = explainName, name }
}

// ExplainSteps sets the integration steps of the network's part, 1 to MaxExplainSteps; 0 is
// the default, DefaultExplainSteps. More steps leave less Unexplained and cost proportionally
// more: an explanation costs about as much as a forward and a backward pass over steps copies
// of the text.
func ExplainSteps(steps int) ExplainOption {
	return func(c *explainConfig) { c.steps = steps }
}

// Explain explains the score text gets for the predicted class, or for the class an
// ExplainClass or ExplainLabel option names (the last such option wins). text must be valid
// UTF-8 (else ErrInvalidUTF8); the token byte ranges index into it. Safe for concurrent use,
// like Scores.
func (m *Model) Explain(text string, opts ...ExplainOption) (*Explanation, error) {
	var cfg explainConfig
	for _, opt := range opts {
		opt(&cfg)
	}
	// The library checks the upper bound; these would not survive the conversions to C.
	if cfg.steps < 0 || uint64(cfg.steps) > math.MaxUint32 {
		return nil, newError(ErrInvalidArgument, fmt.Sprintf("integration steps must be between 0 (the default) and %d, got %d", MaxExplainSteps, cfg.steps))
	}
	if cfg.by == explainIndex && cfg.class < 0 {
		return nil, newError(ErrInvalidArgument, fmt.Sprintf("class %d: a class index is at least 0", cfg.class))
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.h == nil {
		return nil, errClosed()
	}
	class := C.size_t(C.SENTI_PREDICTED_CLASS)
	switch cfg.by {
	case explainIndex:
		class = C.size_t(cfg.class)
	case explainName:
		labels, err := m.labelNames()
		if err != nil {
			return nil, err
		}
		i := slices.Index(labels, cfg.label)
		if i < 0 {
			return nil, newError(ErrInvalidArgument, fmt.Sprintf("unknown label %q: the model's labels are %s", cfg.label, strings.Join(labels, ", ")))
		}
		class = C.size_t(i)
	}
	var e *C.senti_explanation
	var cerr *C.senti_error
	status := C.senti_explain(m.h, textPtr(text), C.size_t(len(text)), class, C.uint32_t(cfg.steps), &e, &cerr)
	runtime.KeepAlive(m)
	if err := takeError(status, cerr); err != nil {
		return nil, err
	}
	return takeExplanation(e)
}

// takeExplanation decodes an explanation's JSON and frees the explanation: the Go value is a
// copy, so no handle outlives the call.
func takeExplanation(e *C.senti_explanation) (*Explanation, error) {
	defer C.senti_explanation_free(e)
	js := C.senti_explanation_json(e)
	if js == nil {
		return nil, newError(ErrInternal, "the library returned an explanation without JSON")
	}
	var out Explanation
	if err := json.Unmarshal([]byte(C.GoString(js)), &out); err != nil {
		return nil, newError(ErrInternal, "decoding the library's explanation: "+err.Error())
	}
	if out.Tokens == nil {
		out.Tokens = []TokenContribution{}
	}
	return &out, nil
}
