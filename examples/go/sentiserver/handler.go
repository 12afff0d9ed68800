// SPDX-License-Identifier: MIT OR Apache-2.0

package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"unicode/utf8"

	senti "github.com/libsenti/senti/bindings/go"
)

const (
	maxBodyBytes  = 1 << 20 // request bodies above this are 413
	maxBatchTexts = 1000    // texts per batch request
	// maxExplainBytes bounds the text of one explanation (413 above it): the answer holds a
	// JSON object per token, about 120 bytes each, so a full-size body of one-letter words
	// would answer with some 60 MB. IMDB's longest review is about 14 KB.
	maxExplainBytes = 64 << 10
)

// Request and response bodies. Pointers tell a missing (or null) field from an empty one.
type (
	textRequest struct {
		Text *string `json:"text"`
	}
	batchRequest struct {
		Texts []*string `json:"texts"`
	}
	// explainRequest is the body of /v1/explain: the text, and optionally the label to
	// explain (absent or null: the predicted one) and the integration steps (absent or 0: 8).
	explainRequest struct {
		Text  *string `json:"text"`
		Label *string `json:"label"`
		Steps *int    `json:"steps"`
	}
	// classification is the answer of /v1/classify for a model with any number of labels.
	classification struct {
		Label  string             `json:"label"`  // the most likely label
		Score  float32            `json:"score"`  // its probability
		Scores map[string]float32 `json:"scores"` // every label's probability; they sum to 1
	}
	classifyBatchResponse struct {
		Results []classification `json:"results"`
	}
	// sentiment is the answer of /v1/sentiment, for two-label models only.
	sentiment struct {
		Positive float32            `json:"positive"` // probability of the second label ("positive" for IMDB models)
		Label    string             `json:"label"`    // the second label when Positive > 0.5, else the first
		Scores   map[string]float32 `json:"scores"`   // both labels' probabilities
	}
	batchResponse struct {
		Results []sentiment `json:"results"`
	}
	labelsResponse struct {
		Labels []string `json:"labels"` // the model's labels in index order
	}
	healthResponse struct {
		Status  string `json:"status"`
		Version string `json:"version"`
	}
	readyResponse struct {
		Status string `json:"status"`
	}
	errorResponse struct {
		Error string `json:"error"`
	}
)

// httpError is a failure to answer with its status code and a JSON {"error": ...} body;
// retryAfter, when positive, is sent as a Retry-After header (seconds).
type httpError struct {
	status     int
	message    string
	retryAfter int
}

func (e *httpError) Error() string { return e.message }

func badRequest(format string, args ...any) *httpError {
	return &httpError{status: http.StatusBadRequest, message: fmt.Sprintf(format, args...)}
}

// handler serves the classification API with model, with the default options (see newAPI and
// the route table in server.go):
//
//	POST /v1/classify         {"text": "..."}          -> {"label": "...", "score": p, "scores": {"<label>": p, ...}}
//	POST /v1/classify/batch   {"texts": ["...", ...]}  -> {"results": [{"label": ..., "score": ..., "scores": ...}, ...]}
//	GET  /v1/labels                                    -> {"labels": ["...", ...]}
//	POST /v1/sentiment        {"text": "..."}          -> {"positive": p, "label": "positive"|"negative", "scores": {...}}
//	POST /v1/sentiment/batch  {"texts": ["...", ...]}  -> {"results": [{"positive": p, "label": ..., "scores": ...}, ...]}
//	POST /v1/explain          {"text": "...", "label": "...", "steps": n}
//	                                                   -> {"class", "label", "score", "logit", "reference", "unexplained",
//	                                                       "method", "steps", "tokens": [{"token", "start", "end",
//	                                                       "contribution", "network", "wide", "read_by_network"}, ...]}
//	GET  /healthz                                      -> {"status": "ok", "version": "..."}
//	GET  /readyz                                       -> {"status": "ready"}, 503 while shutting down
//	GET  /metrics                                      -> Prometheus text exposition
//	GET  /openapi.json                                 -> the OpenAPI 3 description of these routes
//
// /v1/classify serves a model with any number of labels: "label" is the most likely one and
// "score" its probability. /v1/sentiment serves two-label models ("positive" is the probability
// of the second label, "label" the second label above 0.5, else the first); for a model with
// more labels it answers 422 with an error pointing to /v1/classify.
//
// /v1/explain says why the text got its score: each token with its byte range in the text as
// sent ("start", "end": UTF-8 byte offsets) and its signed contribution to the logit of the
// label named by "label" (optional; the predicted label without it), in the field names of
// senti_explanation_json. "reference" + the contributions + "unexplained" = "logit". "steps"
// (optional, 1 to 256; absent or 0: 8) are the integration steps of the network's part; an
// explanation costs about "steps" forward and backward passes, and takes a prediction slot like
// the other prediction routes. An unknown label or steps out of range is a 400.
//
// Bodies are one JSON object of at most 1 MiB (413 beyond), valid UTF-8, without unknown
// fields. "text" is required but may be empty (the model then answers its prior for a text
// without words); "texts" must hold 1 to 1000 strings. Every error is a 4xx or 5xx with a JSON
// body {"error": "..."}; 429 (too many predictions in flight) and 503 (shutting down) carry a
// Retry-After header.
func handler(model *senti.Model) http.Handler {
	info, _ := describeModel(model) // a closed model has no info; it answers 503 anyway
	a := newAPI(model, info, options{})
	a.setReady()
	return a
}

// predictor is what the handlers need of a model; *senti.Model is one, and tests wrap it.
type predictor interface {
	Labels() ([]string, error)
	Scores(text string) ([]float32, error)
	ScoresBatch(texts []string) ([][]float32, error)
	Explain(text string, opts ...senti.ExplainOption) (*senti.Explanation, error)
}

// readText decodes a {"text": ...} request.
func readText(w http.ResponseWriter, r *http.Request) (string, error) {
	var req textRequest
	if err := decode(w, r, &req); err != nil {
		return "", err
	}
	if req.Text == nil {
		return "", badRequest(`missing field "text"`)
	}
	return *req.Text, nil
}

// readTexts decodes a {"texts": [...]} request of 1 to maxBatchTexts strings.
func readTexts(w http.ResponseWriter, r *http.Request) ([]string, error) {
	var req batchRequest
	if err := decode(w, r, &req); err != nil {
		return nil, err
	}
	switch {
	case req.Texts == nil:
		return nil, badRequest(`missing field "texts"`)
	case len(req.Texts) == 0:
		return nil, badRequest(`"texts" is empty`)
	case len(req.Texts) > maxBatchTexts:
		return nil, badRequest(`"texts" holds %d texts; the limit is %d`, len(req.Texts), maxBatchTexts)
	}
	texts := make([]string, len(req.Texts))
	for i, t := range req.Texts {
		if t == nil {
			return nil, badRequest(`texts[%d] is null`, i)
		}
		texts[i] = *t
	}
	return texts, nil
}

func (a *api) classify(w http.ResponseWriter, r *http.Request) error {
	text, err := readText(w, r)
	if err != nil {
		return err
	}
	labels, err := a.model.Labels()
	if err != nil {
		return modelError(err)
	}
	release, err := a.acquire()
	if err != nil {
		return err
	}
	defer release()
	scores, err := a.model.Scores(text)
	if err != nil {
		return modelError(err)
	}
	writeJSON(w, http.StatusOK, classify(labels, scores))
	return nil
}

func (a *api) classifyBatch(w http.ResponseWriter, r *http.Request) error {
	texts, err := readTexts(w, r)
	if err != nil {
		return err
	}
	labels, err := a.model.Labels()
	if err != nil {
		return modelError(err)
	}
	release, err := a.acquire()
	if err != nil {
		return err
	}
	defer release()
	rows, err := a.model.ScoresBatch(texts)
	if err != nil {
		return modelError(err)
	}
	resp := classifyBatchResponse{Results: make([]classification, len(rows))}
	for i, scores := range rows {
		resp.Results[i] = classify(labels, scores)
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}

func (a *api) labels(w http.ResponseWriter, _ *http.Request) error {
	labels, err := a.model.Labels()
	if err != nil {
		return modelError(err)
	}
	writeJSON(w, http.StatusOK, labelsResponse{Labels: labels})
	return nil
}

// twoLabels returns the model's labels, or a 422 when it has more than two.
func (a *api) twoLabels() ([]string, error) {
	labels, err := a.model.Labels()
	if err != nil {
		return nil, modelError(err)
	}
	if len(labels) != 2 {
		return nil, &httpError{status: http.StatusUnprocessableEntity, message: fmt.Sprintf(
			"/v1/sentiment serves two-label models; this model has %d labels (%s): use /v1/classify",
			len(labels), strings.Join(labels, ", "))}
	}
	return labels, nil
}

func (a *api) sentiment(w http.ResponseWriter, r *http.Request) error {
	text, err := readText(w, r)
	if err != nil {
		return err
	}
	labels, err := a.twoLabels()
	if err != nil {
		return err
	}
	release, err := a.acquire()
	if err != nil {
		return err
	}
	defer release()
	scores, err := a.model.Scores(text)
	if err != nil {
		return modelError(err)
	}
	writeJSON(w, http.StatusOK, sentimentResult(labels, scores))
	return nil
}

func (a *api) sentimentBatch(w http.ResponseWriter, r *http.Request) error {
	texts, err := readTexts(w, r)
	if err != nil {
		return err
	}
	labels, err := a.twoLabels()
	if err != nil {
		return err
	}
	release, err := a.acquire()
	if err != nil {
		return err
	}
	defer release()
	rows, err := a.model.ScoresBatch(texts)
	if err != nil {
		return modelError(err)
	}
	resp := batchResponse{Results: make([]sentiment, len(rows))}
	for i, scores := range rows {
		resp.Results[i] = sentimentResult(labels, scores)
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}

func (a *api) explain(w http.ResponseWriter, r *http.Request) error {
	var req explainRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	if req.Text == nil {
		return badRequest(`missing field "text"`)
	}
	if len(*req.Text) > maxExplainBytes {
		return &httpError{status: http.StatusRequestEntityTooLarge,
			message: fmt.Sprintf(`"text" is %d bytes; /v1/explain takes at most %d`, len(*req.Text), maxExplainBytes)}
	}
	var opts []senti.ExplainOption
	if req.Steps != nil {
		if *req.Steps < 0 || *req.Steps > senti.MaxExplainSteps {
			return badRequest(`"steps" must be between 1 and %d (0 or absent: %d), not %d`,
				senti.MaxExplainSteps, senti.DefaultExplainSteps, *req.Steps)
		}
		opts = append(opts, senti.ExplainSteps(*req.Steps))
	}
	if req.Label != nil {
		labels, err := a.model.Labels()
		if err != nil {
			return modelError(err)
		}
		i := slices.Index(labels, *req.Label)
		if i < 0 {
			return badRequest(`unknown label %q: the model's labels are %s`, *req.Label, strings.Join(labels, ", "))
		}
		opts = append(opts, senti.ExplainClass(i))
	}
	release, err := a.acquire()
	if err != nil {
		return err
	}
	defer release()
	e, err := a.model.Explain(*req.Text, opts...)
	if err != nil {
		return modelError(err)
	}
	writeJSON(w, http.StatusOK, e) // senti.Explanation's JSON fields are the library's
	return nil
}

// classify names the most likely label (the first of equal scores) and every label's score.
func classify(labels []string, scores []float32) classification {
	best := 0
	for i, s := range scores {
		if s > scores[best] {
			best = i
		}
	}
	return classification{Label: labels[best], Score: scores[best], Scores: scoreMap(labels, scores)}
}

// sentimentResult is the two-label answer: the second label's probability and the label it
// implies at the 0.5 threshold.
func sentimentResult(labels []string, scores []float32) sentiment {
	p := scores[1]
	label := labels[0]
	if p > 0.5 {
		label = labels[1]
	}
	return sentiment{Positive: p, Label: label, Scores: scoreMap(labels, scores)}
}

func scoreMap(labels []string, scores []float32) map[string]float32 {
	m := make(map[string]float32, len(labels))
	for i, l := range labels {
		m[l] = scores[i]
	}
	return m
}

// decode reads one JSON object from the body into dst.
func decode(w http.ResponseWriter, r *http.Request, dst any) error {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return &httpError{status: http.StatusRequestEntityTooLarge,
				message: fmt.Sprintf("request body exceeds %d bytes", tooBig.Limit)}
		}
		return badRequest("reading the request body: %v", err)
	}
	// encoding/json would silently replace invalid UTF-8 with U+FFFD.
	if !utf8.Valid(body) {
		return badRequest("request body is not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return badRequest("%s", describeJSONError(err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return badRequest("request body holds more than one JSON value")
	}
	return nil
}

func describeJSONError(err error) string {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.Is(err, io.EOF):
		return "request body is empty; want a JSON object"
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "malformed JSON: unexpected end of input"
	case errors.As(err, &syntax):
		return fmt.Sprintf("malformed JSON at byte %d: %v", syntax.Offset, err)
	case errors.As(err, &typ):
		if typ.Field == "" {
			return fmt.Sprintf("request body is a JSON %s; want an object", typ.Value)
		}
		if want := jsonKind(typ.Type); want != "" {
			return fmt.Sprintf("field %q must be %s, not a JSON %s", typ.Field, want, typ.Value)
		}
		return fmt.Sprintf("field %q must not be a JSON %s", typ.Field, typ.Value)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return "unknown field " + strings.TrimPrefix(err.Error(), "json: unknown field ")
	}
	return "malformed JSON: " + err.Error()
}

// jsonKind names the JSON value a request field of type t takes ("" when unsure).
func jsonKind(t reflect.Type) string {
	if t == nil {
		return ""
	}
	switch t.Kind() {
	case reflect.Pointer:
		return jsonKind(t.Elem())
	case reflect.String:
		return "a string"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Slice, reflect.Array:
		return "an array"
	}
	return ""
}

// modelError maps a library failure to an HTTP answer.
func modelError(err error) error {
	var e *senti.Error
	if errors.As(err, &e) {
		switch e.Code {
		case senti.ErrInvalidUTF8, senti.ErrInvalidArgument:
			return badRequest("%s", e.Message)
		case senti.ErrInvalidHandle: // closed while shutting down
			return &httpError{status: http.StatusServiceUnavailable, message: "the model is not available"}
		}
	}
	return fmt.Errorf("predicting: %w", err)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v) // a client gone away; the access log has the bytes written
}
