package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"strings"
	"unicode/utf8"

	senti "github.com/libsenti/senti/bindings/go"
)

const (
	maxBodyBytes  = 1 << 20 // request bodies above this are 413
	maxBatchTexts = 1000    // texts per batch request
)

// Request and response bodies. Pointers tell a missing (or null) field from an empty one.
type (
	sentimentRequest struct {
		Text *string `json:"text"`
	}
	batchRequest struct {
		Texts []*string `json:"texts"`
	}
	sentiment struct {
		Positive float32 `json:"positive"` // probability that the text is positive
		Label    string  `json:"label"`    // "positive" when Positive > 0.5, else "negative"
	}
	batchResponse struct {
		Results []sentiment `json:"results"`
	}
	healthResponse struct {
		Status  string `json:"status"`
		Version string `json:"version"`
	}
	errorResponse struct {
		Error string `json:"error"`
	}
)

// httpError is a failure to answer with its status code and a JSON {"error": ...} body.
type httpError struct {
	status  int
	message string
}

func (e *httpError) Error() string { return e.message }

func badRequest(format string, args ...any) *httpError {
	return &httpError{http.StatusBadRequest, fmt.Sprintf(format, args...)}
}

// handler serves the sentiment API with model:
//
//	POST /v1/sentiment        {"text": "..."}          -> {"positive": p, "label": "positive"|"negative"}
//	POST /v1/sentiment/batch  {"texts": ["...", ...]}  -> {"results": [{"positive": p, "label": ...}, ...]}
//	GET  /healthz                                      -> {"status": "ok", "version": "..."}
//
// Bodies are one JSON object of at most 1 MiB (413 beyond), valid UTF-8, without unknown
// fields. "text" is required but may be empty (the model then answers its prior for a text
// without words); "texts" must hold 1 to 1000 strings. Every error is a 4xx or 5xx with a JSON
// body {"error": "..."}.
func handler(model *senti.Model) http.Handler {
	return &api{model: model}
}

type api struct {
	model *senti.Model
}

func (a *api) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var err error
	switch r.URL.Path {
	case "/v1/sentiment":
		if err = allow(w, r, http.MethodPost); err == nil {
			err = a.single(w, r)
		}
	case "/v1/sentiment/batch":
		if err = allow(w, r, http.MethodPost); err == nil {
			err = a.batch(w, r)
		}
	case "/healthz":
		if err = allow(w, r, http.MethodGet, http.MethodHead); err == nil {
			writeJSON(w, http.StatusOK, healthResponse{Status: "ok", Version: senti.Version()})
		}
	default:
		err = &httpError{http.StatusNotFound, fmt.Sprintf("no route %s", r.URL.Path)}
	}
	if err != nil {
		var he *httpError
		if !errors.As(err, &he) {
			he = &httpError{http.StatusInternalServerError, "internal error"}
		}
		if he.status >= 500 {
			log.Printf("%s %s: %d %v", r.Method, r.URL.Path, he.status, err)
		}
		writeJSON(w, he.status, errorResponse{Error: he.message})
	}
}

func allow(w http.ResponseWriter, r *http.Request, methods ...string) error {
	for _, m := range methods {
		if r.Method == m {
			return nil
		}
	}
	w.Header().Set("Allow", strings.Join(methods, ", "))
	return &httpError{http.StatusMethodNotAllowed,
		fmt.Sprintf("method %s not allowed on %s; use %s", r.Method, r.URL.Path, strings.Join(methods, " or "))}
}

func (a *api) single(w http.ResponseWriter, r *http.Request) error {
	var req sentimentRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	if req.Text == nil {
		return badRequest(`missing field "text"`)
	}
	p, err := a.model.Predict(*req.Text)
	if err != nil {
		return modelError(err)
	}
	writeJSON(w, http.StatusOK, result(p))
	return nil
}

func (a *api) batch(w http.ResponseWriter, r *http.Request) error {
	var req batchRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	switch {
	case req.Texts == nil:
		return badRequest(`missing field "texts"`)
	case len(req.Texts) == 0:
		return badRequest(`"texts" is empty`)
	case len(req.Texts) > maxBatchTexts:
		return badRequest(`"texts" holds %d texts; the limit is %d`, len(req.Texts), maxBatchTexts)
	}
	texts := make([]string, len(req.Texts))
	for i, t := range req.Texts {
		if t == nil {
			return badRequest(`texts[%d] is null`, i)
		}
		texts[i] = *t
	}
	probs, err := a.model.PredictBatch(texts)
	if err != nil {
		return modelError(err)
	}
	resp := batchResponse{Results: make([]sentiment, len(probs))}
	for i, p := range probs {
		resp.Results[i] = result(p)
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}

func result(p float32) sentiment {
	label := "negative"
	if p > 0.5 {
		label = "positive"
	}
	return sentiment{Positive: p, Label: label}
}

// decode reads one JSON object from the body into dst.
func decode(w http.ResponseWriter, r *http.Request, dst any) error {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return &httpError{http.StatusRequestEntityTooLarge,
				fmt.Sprintf("request body exceeds %d bytes", tooBig.Limit)}
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
		return fmt.Sprintf("field %q must not be a JSON %s", typ.Field, typ.Value)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return "unknown field " + strings.TrimPrefix(err.Error(), "json: unknown field ")
	}
	return "malformed JSON: " + err.Error()
}

// modelError maps a library failure to an HTTP answer.
func modelError(err error) error {
	var e *senti.Error
	if errors.As(err, &e) {
		switch e.Code {
		case senti.ErrInvalidUTF8, senti.ErrInvalidArgument:
			return badRequest("%s", e.Message)
		case senti.ErrInvalidHandle: // closed while shutting down
			return &httpError{http.StatusServiceUnavailable, "the model is not available"}
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
	if err := json.NewEncoder(w).Encode(v); err != nil {
		log.Printf("writing a response: %v", err)
	}
}
