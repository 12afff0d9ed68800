// SPDX-License-Identifier: MIT OR Apache-2.0

package main

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	senti "github.com/libsenti/senti/bindings/go"
)

// route is one entry of the API: a Go 1.22 ServeMux pattern ("METHOD /path") and its handler.
// routes is the only list of them: newAPI registers it on the mux, and the tests compare it
// with the paths and methods of openapi.json. A GET route answers HEAD too (the mux's rule).
type route struct {
	method, path string
	serve        func(a *api, w http.ResponseWriter, r *http.Request) error
}

func (rt route) pattern() string { return rt.method + " " + rt.path }

var routes = []route{
	{http.MethodPost, "/v1/classify", (*api).classify},
	{http.MethodPost, "/v1/classify/batch", (*api).classifyBatch},
	{http.MethodGet, "/v1/labels", (*api).labels},
	{http.MethodPost, "/v1/sentiment", (*api).sentiment},
	{http.MethodPost, "/v1/sentiment/batch", (*api).sentimentBatch},
	{http.MethodPost, "/v1/explain", (*api).explain},
	{http.MethodGet, "/healthz", (*api).healthz},
	{http.MethodGet, "/readyz", (*api).readyz},
	{http.MethodGet, "/metrics", (*api).serveMetrics},
	{http.MethodGet, "/openapi.json", (*api).openapi},
}

// unmatchedRoute is the route label of requests that no pattern matched (404, 405).
const unmatchedRoute = "unmatched"

// The server's life: not ready until the model is loaded and the listener is up; draining
// (not ready, still serving) from the first SIGTERM/SIGINT for the drain delay; stopping
// (new predictions answer 503) once the HTTP server shuts down.
const (
	stateStarting int32 = iota
	stateReady
	stateDraining
	stateStopping
)

var stateNames = [...]string{"starting", "ready", "draining", "stopping"}

// options configure newAPI; zero values pick the defaults.
type options struct {
	maxInflight int          // predictions in flight at once; <= 0: defaultMaxInflight()
	logger      *slog.Logger // access and error logs; nil: slog.Default()
}

func defaultMaxInflight() int { return 2 * runtime.GOMAXPROCS(0) }

// api is the HTTP handler: the routes on a ServeMux behind request IDs, metrics and access logs.
type api struct {
	model   predictor
	mux     *http.ServeMux
	known   map[string]string // mux pattern -> route label (its path)
	logger  *slog.Logger
	metrics *metrics
	slots   chan struct{} // one token per prediction in flight
	state   atomic.Int32
}

func newAPI(model predictor, info modelInfo, opts options) *api {
	if opts.maxInflight <= 0 {
		opts.maxInflight = defaultMaxInflight()
	}
	if opts.logger == nil {
		opts.logger = slog.Default()
	}
	a := &api{
		model:  model,
		mux:    http.NewServeMux(),
		known:  make(map[string]string, len(routes)),
		logger: opts.logger,
		slots:  make(chan struct{}, opts.maxInflight),
	}
	a.metrics = newMetrics(info, opts.maxInflight, func() bool { return a.state.Load() == stateReady })
	for _, rt := range routes {
		a.mux.HandleFunc(rt.pattern(), func(w http.ResponseWriter, r *http.Request) {
			if err := rt.serve(a, w, r); err != nil {
				a.writeError(w, err)
			}
		})
		a.known[rt.pattern()] = rt.path
	}
	return a
}

func (a *api) setReady()      { a.state.CompareAndSwap(stateStarting, stateReady) }
func (a *api) startDraining() { a.state.CompareAndSwap(stateReady, stateDraining) }
func (a *api) startStopping() { a.state.Store(stateStopping) }

// acquire takes a prediction slot, or answers 429 when all are taken (no queueing) and 503
// once the server is stopping. The caller runs release when the prediction is done.
func (a *api) acquire() (release func(), err error) {
	if a.state.Load() == stateStopping {
		a.metrics.rejected.WithLabelValues("shutting_down").Inc()
		return nil, &httpError{status: http.StatusServiceUnavailable, message: "the server is shutting down", retryAfter: 1}
	}
	select {
	case a.slots <- struct{}{}:
	default:
		a.metrics.rejected.WithLabelValues("overload").Inc()
		return nil, &httpError{status: http.StatusTooManyRequests, retryAfter: 1,
			message: fmt.Sprintf("too many predictions in flight (the limit is %d); retry later", cap(a.slots))}
	}
	a.metrics.predicting.Inc()
	return func() {
		a.metrics.predicting.Dec()
		<-a.slots
	}, nil
}

func (a *api) healthz(w http.ResponseWriter, _ *http.Request) error {
	writeJSON(w, http.StatusOK, healthResponse{Status: "ok", Version: senti.Version()})
	return nil
}

func (a *api) readyz(w http.ResponseWriter, _ *http.Request) error {
	if s := a.state.Load(); s != stateReady {
		return &httpError{status: http.StatusServiceUnavailable, message: "not ready: " + stateNames[s]}
	}
	writeJSON(w, http.StatusOK, readyResponse{Status: "ready"})
	return nil
}

func (a *api) serveMetrics(w http.ResponseWriter, r *http.Request) error {
	a.metrics.handler.ServeHTTP(w, r)
	return nil
}

func (a *api) openapi(w http.ResponseWriter, _ *http.Request) error {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(openapiJSON)
	return nil
}

// writeError answers err as JSON: an *httpError with its status, anything else as a 500
// whose cause goes to the log only.
func (a *api) writeError(w http.ResponseWriter, err error) {
	var he *httpError
	if !errors.As(err, &he) {
		he = &httpError{status: http.StatusInternalServerError, message: "internal error"}
	}
	if rec, ok := w.(*recorder); ok {
		rec.err = err
	}
	if he.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(he.retryAfter))
	}
	writeJSON(w, he.status, errorResponse{Error: he.message})
}

// ServeHTTP gives each request an ID, routes it through the mux, and records it in the
// metrics and the access log.
func (a *api) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	id := r.Header.Get("X-Request-ID")
	if !validRequestID(id) {
		id = newRequestID()
	}
	w.Header().Set("X-Request-ID", id)
	a.metrics.inflight.Inc()
	defer a.metrics.inflight.Dec()

	h, pattern := a.mux.Handler(r)
	route, matched := a.known[pattern]
	if !matched {
		route = unmatchedRoute
	}
	rec := &recorder{ResponseWriter: w, r: r, muxError: !matched}
	h.ServeHTTP(rec, r)
	status := rec.status
	if status == 0 {
		status = http.StatusOK // nothing written
	}
	elapsed := time.Since(start)
	a.metrics.requests.WithLabelValues(route, strconv.Itoa(status)).Inc()
	a.metrics.duration.WithLabelValues(route).Observe(elapsed.Seconds())

	level := slog.LevelInfo
	attrs := []slog.Attr{
		slog.String("request_id", id),
		slog.String("method", r.Method),
		slog.String("route", route),
		slog.String("path", r.URL.Path),
		slog.Int("status", status),
		slog.Float64("duration_ms", float64(elapsed.Microseconds())/1000),
		slog.Int64("bytes", rec.bytes),
		slog.String("remote", r.RemoteAddr),
	}
	if rec.err != nil {
		attrs = append(attrs, slog.String("error", rec.err.Error()))
	}
	switch {
	case status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable:
		level = slog.LevelWarn // load shedding, shutting down, not ready: expected, not a fault
	case status >= 500:
		level = slog.LevelError
	}
	a.logger.LogAttrs(r.Context(), level, "request", attrs...)
}

const maxRequestIDLen = 128

// validRequestID accepts 1 to 128 characters of [A-Za-z0-9._:-]: enough for UUIDs, trace IDs
// and the IDs of common proxies, and nothing that could forge a log line or a header.
func validRequestID(id string) bool {
	if id == "" || len(id) > maxRequestIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '_', c == '.', c == ':':
		default:
			return false
		}
	}
	return true
}

// newRequestID returns 16 random bytes in hex.
func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails on the supported systems (Go 1.24 makes it fatal)
	return hex.EncodeToString(b[:])
}

// recorder notes the status, the bytes written and a handler's error for ServeHTTP. For a
// request that no pattern matched it turns the mux's plain-text 404 and 405 (whose Allow
// header the mux has set) into the API's JSON errors.
type recorder struct {
	http.ResponseWriter
	r        *http.Request
	muxError bool  // the mux answers this request itself
	replaced bool  // the mux's body is being dropped
	status   int   // 0 until the header is written
	bytes    int64 // body bytes written
	err      error // what a route handler answered with, for the log
}

func (w *recorder) WriteHeader(code int) {
	if w.status != 0 {
		return
	}
	if w.muxError && (code == http.StatusNotFound || code == http.StatusMethodNotAllowed) {
		var msg string
		if code == http.StatusNotFound {
			msg = fmt.Sprintf("no route %s", w.r.URL.Path)
		} else {
			allow := w.Header().Get("Allow")
			msg = fmt.Sprintf("method %s not allowed on %s; use %s", w.r.Method, w.r.URL.Path,
				strings.ReplaceAll(allow, ", ", " or "))
		}
		w.err = errors.New(msg)
		w.muxError = false // writeJSON calls WriteHeader and Write on w again
		writeJSON(w, code, errorResponse{Error: msg})
		w.replaced = true
		return
	}
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

func (w *recorder) Write(p []byte) (int, error) {
	if w.replaced {
		return len(p), nil
	}
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	n, err := w.ResponseWriter.Write(p)
	w.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (w *recorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Flush passes flushes on (the metrics handler may compress and flush).
func (w *recorder) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// modelInfo is what senti_model_info reports under the labels of the senti_model_info metric.
type modelInfo struct {
	Version string   // the library version recorded in the model info
	Labels  []string // class labels in index order
	Cell    string   // recurrent cell (lstm, gru, ...)
}

// describeModel reads the model's info JSON.
func describeModel(m *senti.Model) (modelInfo, error) {
	raw, err := m.Info()
	if err != nil {
		return modelInfo{}, err
	}
	var doc struct {
		LibraryVersion string   `json:"library_version"`
		Labels         []string `json:"labels"`
		// null for a model without a network (the wide path alone).
		ModelConfig *struct {
			Cell string `json:"cell"`
		} `json:"model_config"`
	}
	if err := json.NewDecoder(strings.NewReader(raw)).Decode(&doc); err != nil && err != io.EOF {
		return modelInfo{}, fmt.Errorf("reading the model info: %w", err)
	}
	cell := "none"
	if doc.ModelConfig != nil {
		cell = doc.ModelConfig.Cell
	}
	return modelInfo{Version: doc.LibraryVersion, Labels: doc.Labels, Cell: cell}, nil
}
