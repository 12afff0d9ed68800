// SPDX-License-Identifier: MIT OR Apache-2.0

package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	senti "github.com/libsenti/senti/bindings/go"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
)

// holdingPredictor holds every prediction whose text (a batch's first) contains "hold": it
// sends the text on entered, then waits until release is closed. Others run at once.
type holdingPredictor struct {
	predictor
	entered chan string
	release chan struct{}
}

func newHolding(p predictor) *holdingPredictor {
	return &holdingPredictor{predictor: p, entered: make(chan string, 16), release: make(chan struct{})}
}

func (h *holdingPredictor) hold(text string) {
	if strings.Contains(text, "hold") {
		h.entered <- text
		<-h.release
	}
}

func (h *holdingPredictor) Scores(text string) ([]float32, error) {
	h.hold(text)
	return h.predictor.Scores(text)
}

func (h *holdingPredictor) ScoresBatch(texts []string) ([][]float32, error) {
	if len(texts) > 0 {
		h.hold(texts[0])
	}
	return h.predictor.ScoresBatch(texts)
}

func (h *holdingPredictor) Explain(text string, opts ...senti.ExplainOption) (*senti.Explanation, error) {
	h.hold(text)
	return h.predictor.Explain(text, opts...)
}

// waitEntered waits for n held predictions to start.
func (h *holdingPredictor) waitEntered(t *testing.T, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		select {
		case <-h.entered:
		case <-time.After(30 * time.Second):
			t.Fatalf("only %d of %d held predictions started", i, n)
		}
	}
}

// failingPredictor fails every prediction with an error the API does not know: a 500.
type failingPredictor struct{ predictor }

func (failingPredictor) Scores(string) ([]float32, error) { return nil, errors.New("boom") }

func newTestAPI(t *testing.T, m *senti.Model, p predictor, opts options) (*api, *httptest.Server) {
	t.Helper()
	info, err := describeModel(m)
	if err != nil {
		t.Fatal(err)
	}
	if p == nil {
		p = m
	}
	a := newAPI(p, info, opts)
	a.setReady()
	srv := httptest.NewServer(a)
	t.Cleanup(srv.Close)
	return a, srv
}

// scrape reads /metrics with the Prometheus text parser, which rejects malformed exposition.
func scrape(t *testing.T, base string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain; version=0.0.4") {
		t.Fatalf("GET /metrics: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var parser expfmt.TextParser
	fams, err := parser.TextToMetricFamilies(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("/metrics is not valid text exposition: %v\n%s", err, raw)
	}
	for name, f := range fams {
		if strings.HasPrefix(name, "senti_") && (f.GetHelp() == "" || f.GetType() == dto.MetricType_UNTYPED) {
			t.Errorf("/metrics lacks # HELP or # TYPE for %s", name)
		}
	}
	return fams
}

// sample finds the metric of family name whose labels include want; nil if none.
func sample(fams map[string]*dto.MetricFamily, name string, want map[string]string) *dto.Metric {
	f := fams[name]
	if f == nil {
		return nil
	}
	for _, m := range f.GetMetric() {
		have := map[string]string{}
		for _, l := range m.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		ok := true
		for k, v := range want {
			if have[k] != v {
				ok = false
			}
		}
		if ok {
			return m
		}
	}
	return nil
}

// value is a counter's or gauge's value, or -1 when there is no such metric.
func value(fams map[string]*dto.MetricFamily, name string, labels map[string]string) float64 {
	m := sample(fams, name, labels)
	switch {
	case m == nil:
		return -1
	case m.Counter != nil:
		return m.Counter.GetValue()
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	}
	return -1
}

func TestMetrics(t *testing.T) {
	_, srv := newTestAPI(t, topics, nil, options{logger: slog.New(slog.NewJSONHandler(io.Discard, nil))})
	c := srv.Client()
	for i := 0; i < 2; i++ {
		call(t, c, http.MethodPost, srv.URL+"/v1/classify", `{"text": "a rocket in orbit"}`, nil)
	}
	wantError(t, c, http.MethodPost, srv.URL+"/v1/classify", `{}`, http.StatusBadRequest, "missing")
	wantError(t, c, http.MethodGet, srv.URL+"/v1/classify", ``, http.StatusMethodNotAllowed, "not allowed")
	wantError(t, c, http.MethodGet, srv.URL+"/nope", ``, http.StatusNotFound, "no route")
	call(t, c, http.MethodGet, srv.URL+"/v1/labels", "", nil)
	call(t, c, http.MethodPost, srv.URL+"/v1/classify/batch", `{"texts": ["a", "b"]}`, nil)

	fams := scrape(t, srv.URL)
	for _, tc := range []struct {
		route, code string
		want        float64
	}{
		{"/v1/classify", "200", 2},
		{"/v1/classify", "400", 1},
		{"/v1/classify/batch", "200", 1},
		{"/v1/labels", "200", 1},
		{unmatchedRoute, "405", 1},
		{unmatchedRoute, "404", 1},
		{"/v1/sentiment", "200", -1}, // never called: no series
	} {
		if got := value(fams, "senti_http_requests_total", map[string]string{"route": tc.route, "code": tc.code}); got != tc.want {
			t.Errorf("senti_http_requests_total{route=%q,code=%q} = %v, want %v", tc.route, tc.code, got, tc.want)
		}
	}
	if f := fams["senti_http_requests_total"]; f.GetType() != dto.MetricType_COUNTER {
		t.Errorf("senti_http_requests_total is a %v", f.GetType())
	}

	h := sample(fams, "senti_http_request_duration_seconds", map[string]string{"route": "/v1/classify"})
	if h == nil || h.Histogram == nil {
		t.Fatalf("no histogram for /v1/classify: %v", fams["senti_http_request_duration_seconds"])
	}
	if h.Histogram.GetSampleCount() != 3 || h.Histogram.GetSampleSum() <= 0 {
		t.Errorf("/v1/classify latency: count %d sum %v, want 3 and > 0", h.Histogram.GetSampleCount(), h.Histogram.GetSampleSum())
	}
	var prev uint64
	for _, b := range h.Histogram.GetBucket() {
		if b.GetCumulativeCount() < prev {
			t.Errorf("buckets not cumulative: %v", h.Histogram.GetBucket())
		}
		prev = b.GetCumulativeCount()
	}
	// The parser keeps the +Inf bucket, which holds every observation.
	buckets := h.Histogram.GetBucket()
	if n := len(buckets); n != len(latencyBuckets)+1 || !math.IsInf(buckets[n-1].GetUpperBound(), 1) || prev != 3 {
		t.Errorf("%d buckets (want %d and +Inf), the last holds %d of 3", n, len(latencyBuckets), prev)
	}

	for name, want := range map[string]float64{
		"senti_predictions_in_flight":       0,
		"senti_http_requests_in_flight":     1, // this scrape
		"senti_predictions_in_flight_limit": float64(defaultMaxInflight()),
		"senti_ready":                       1,
	} {
		if got := value(fams, name, nil); got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	info, _ := describeModel(topics)
	if info.Cell == "" || info.Version == "" {
		t.Errorf("model info %+v", info)
	}
	if got := value(fams, "senti_model_info", map[string]string{"labels": "cooking,space,sports", "cell": info.Cell, "version": info.Version}); got != 1 {
		t.Errorf("senti_model_info for %+v: %v\n%v", info, got, fams["senti_model_info"])
	}
	if got := value(fams, "senti_library_info", map[string]string{"version": senti.Version()}); got != 1 {
		t.Errorf("senti_library_info{version=%q}: %v", senti.Version(), got)
	}
	if fams["go_goroutines"] == nil || fams["process_resident_memory_bytes"] == nil {
		t.Error("no Go runtime or process metrics")
	}
}

// TestMetricsEscaping: label values with quotes, backslashes and newlines (a model's labels
// may hold any text) still give a parseable exposition that reads back the same.
func TestMetricsEscaping(t *testing.T) {
	info := modelInfo{Version: "0.0.0-test", Labels: []string{`say "hi"`, `back\slash`, "new\nline", "ünï"}, Cell: "lstm"}
	a := newAPI(topics, info, options{logger: slog.New(slog.NewJSONHandler(io.Discard, nil))})
	a.setReady()
	srv := httptest.NewServer(a)
	defer srv.Close()
	fams := scrape(t, srv.URL)
	want := strings.Join(info.Labels, ",")
	if got := value(fams, "senti_model_info", map[string]string{"labels": want, "cell": "lstm", "version": "0.0.0-test"}); got != 1 {
		t.Errorf("senti_model_info with labels %q: %v\n%v", want, got, fams["senti_model_info"])
	}
}

// logLines decodes the JSON log lines in buf.
func logLines(t *testing.T, buf string) []map[string]any {
	t.Helper()
	var lines []map[string]any
	sc := bufio.NewScanner(strings.NewReader(buf))
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("log line %q is not JSON: %v", sc.Text(), err)
		}
		lines = append(lines, m)
	}
	return lines
}

func findLog(lines []map[string]any, id string) map[string]any {
	for _, l := range lines {
		if l["msg"] == "request" && l["request_id"] == id {
			return l
		}
	}
	return nil
}

func TestRequestIDAndAccessLog(t *testing.T) {
	var logs syncBuffer
	logger := slog.New(slog.NewJSONHandler(&logs, nil))
	_, srv := newTestAPI(t, topics, nil, options{logger: logger})
	_, failing := newTestAPI(t, topics, failingPredictor{topics}, options{logger: logger})
	send := func(base, method, path, body, id string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		if id != "" {
			req.Header.Set("X-Request-ID", id)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	generated := regexp.MustCompile(`^[0-9a-f]{32}$`)

	// Honoured: a valid ID comes back and names the access log line.
	if got := send(srv.URL, http.MethodPost, "/v1/classify", `{"text": "bake a cake"}`, "req-42.a:b_C").Header.Get("X-Request-ID"); got != "req-42.a:b_C" {
		t.Errorf("valid X-Request-ID came back as %q", got)
	}
	// Generated: none, or one too long or with characters outside the set.
	seen := map[string]bool{}
	for _, id := range []string{"", strings.Repeat("a", maxRequestIDLen+1), "has space", `quote"d`, "ünï"} {
		got := send(srv.URL, http.MethodGet, "/healthz", "", id).Header.Get("X-Request-ID")
		if !generated.MatchString(got) || seen[got] {
			t.Errorf("X-Request-ID %q: answered %q, want a new generated ID", id, got)
		}
		seen[got] = true
	}
	if got := send(srv.URL, http.MethodGet, "/healthz", "", strings.Repeat("b", maxRequestIDLen)).Header.Get("X-Request-ID"); got != strings.Repeat("b", maxRequestIDLen) {
		t.Errorf("an ID of %d characters was replaced by %q", maxRequestIDLen, got)
	}
	send(srv.URL, http.MethodPost, "/v1/classify", `{"txt": 1}`, "bad-request-1")
	send(srv.URL, http.MethodDelete, "/v1/labels", "", "wrong-method-1")
	if resp := send(failing.URL, http.MethodPost, "/v1/classify", `{"text": "x"}`, "fails-1"); resp.StatusCode != http.StatusInternalServerError {
		t.Errorf("failing predictor: status %d", resp.StatusCode)
	}

	// ServeHTTP logs before it returns, and net/http sends these small answers only after
	// that, so every line is there once its response has been read.
	lines := logLines(t, logs.String())
	ok := findLog(lines, "req-42.a:b_C")
	if ok == nil {
		t.Fatalf("no access log line for req-42.a:b_C:\n%s", logs.String())
	}
	if ok["method"] != "POST" || ok["route"] != "/v1/classify" || ok["path"] != "/v1/classify" || ok["status"] != 200.0 ||
		ok["level"] != "INFO" || ok["bytes"].(float64) <= 0 || ok["duration_ms"] == nil || ok["error"] != nil {
		t.Errorf("access log line: %v", ok)
	}
	if l := findLog(lines, "bad-request-1"); l == nil || l["status"] != 400.0 || !strings.Contains(fmt.Sprint(l["error"]), `unknown field "txt"`) {
		t.Errorf("400 log line: %v", l)
	}
	if l := findLog(lines, "wrong-method-1"); l == nil || l["status"] != 405.0 || l["route"] != unmatchedRoute || !strings.Contains(fmt.Sprint(l["error"]), "not allowed") {
		t.Errorf("405 log line: %v", l)
	}
	if l := findLog(lines, "fails-1"); l == nil || l["status"] != 500.0 || l["level"] != "ERROR" || !strings.Contains(fmt.Sprint(l["error"]), "boom") {
		t.Errorf("500 log line: %v", l)
	}
}

// TestOverload: past -max-inflight predictions answer 429 at once; other routes still serve.
func TestOverload(t *testing.T) {
	hp := newHolding(topics)
	_, srv := newTestAPI(t, topics, hp, options{maxInflight: 2, logger: slog.New(slog.NewJSONHandler(io.Discard, nil))})
	c := srv.Client()
	var wg sync.WaitGroup
	results := make(chan int, 2)
	for _, body := range []string{`{"text": "hold the rocket"}`, `{"texts": ["hold the oven", "x"]}`} {
		path := "/v1/classify"
		if strings.Contains(body, "texts") {
			path += "/batch"
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := do(c, http.MethodPost, srv.URL+path, body, nil)
			if err != nil {
				t.Error(err)
				return
			}
			results <- resp.StatusCode
		}()
	}
	hp.waitEntered(t, 2)

	for _, path := range []string{"/v1/classify", "/v1/classify/batch"} {
		body := `{"text": "a"}`
		if strings.HasSuffix(path, "batch") {
			body = `{"texts": ["a"]}`
		}
		var e errorResponse
		resp := call(t, c, http.MethodPost, srv.URL+path, body, &e)
		if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "1" || !strings.Contains(e.Error, "limit is 2") {
			t.Errorf("%s at the limit: %d Retry-After %q %q", path, resp.StatusCode, resp.Header.Get("Retry-After"), e.Error)
		}
	}
	// A bad request is still a 400, not a 429.
	wantError(t, c, http.MethodPost, srv.URL+"/v1/classify", `{}`, http.StatusBadRequest, "missing")
	if resp := call(t, c, http.MethodGet, srv.URL+"/v1/labels", "", nil); resp.StatusCode != http.StatusOK {
		t.Errorf("labels while overloaded: %d", resp.StatusCode)
	}
	fams := scrape(t, srv.URL)
	if got := value(fams, "senti_predictions_rejected_total", map[string]string{"reason": "overload"}); got != 2 {
		t.Errorf("rejected overload = %v, want 2", got)
	}
	if got := value(fams, "senti_predictions_in_flight", nil); got != 2 {
		t.Errorf("predictions in flight = %v, want 2", got)
	}
	if got := value(fams, "senti_http_requests_in_flight", nil); got != 3 { // 2 held + the scrape
		t.Errorf("requests in flight = %v, want 3", got)
	}

	close(hp.release)
	wg.Wait()
	close(results)
	for code := range results {
		if code != http.StatusOK {
			t.Errorf("a held prediction answered %d", code)
		}
	}
	fams = scrape(t, srv.URL)
	if got := value(fams, "senti_predictions_in_flight", nil); got != 0 {
		t.Errorf("predictions in flight after = %v, want 0", got)
	}
	if got := value(fams, "senti_http_requests_total", map[string]string{"route": "/v1/classify", "code": "429"}); got != 1 {
		t.Errorf("429s counted on /v1/classify: %v", got)
	}
	if resp := call(t, c, http.MethodPost, srv.URL+"/v1/classify", `{"text": "a"}`, nil); resp.StatusCode != http.StatusOK {
		t.Errorf("after the overload: %d", resp.StatusCode)
	}
}

// TestStopping: once shutting down, predictions answer 503 with Retry-After, /readyz 503,
// /healthz still 200.
func TestStopping(t *testing.T) {
	a, srv := newTestAPI(t, model, nil, options{logger: slog.New(slog.NewJSONHandler(io.Discard, nil))})
	c := srv.Client()
	a.startDraining()
	wantError(t, c, http.MethodGet, srv.URL+"/readyz", "", http.StatusServiceUnavailable, "not ready: draining")
	if resp := call(t, c, http.MethodPost, srv.URL+"/v1/sentiment", `{"text": "fine"}`, nil); resp.StatusCode != http.StatusOK {
		t.Errorf("a prediction while draining: %d", resp.StatusCode)
	}
	a.startStopping()
	for _, p := range []struct{ path, body string }{
		{"/v1/classify", `{"text": "x"}`}, {"/v1/classify/batch", `{"texts": ["x"]}`},
		{"/v1/sentiment", `{"text": "x"}`}, {"/v1/sentiment/batch", `{"texts": ["x"]}`},
		{"/v1/explain", `{"text": "x"}`},
	} {
		var e errorResponse
		resp := call(t, c, http.MethodPost, srv.URL+p.path, p.body, &e)
		if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" || !strings.Contains(e.Error, "shutting down") {
			t.Errorf("%s while stopping: %d Retry-After %q %q", p.path, resp.StatusCode, resp.Header.Get("Retry-After"), e.Error)
		}
	}
	wantError(t, c, http.MethodGet, srv.URL+"/readyz", "", http.StatusServiceUnavailable, "not ready: stopping")
	if resp := call(t, c, http.MethodGet, srv.URL+"/healthz", "", nil); resp.StatusCode != http.StatusOK {
		t.Errorf("healthz while stopping: %d", resp.StatusCode)
	}
	fams := scrape(t, srv.URL)
	if got := value(fams, "senti_predictions_rejected_total", map[string]string{"reason": "shutting_down"}); got != 5 {
		t.Errorf("rejected shutting_down = %v, want 5", got)
	}
	if got := value(fams, "senti_ready", nil); got != 0 {
		t.Errorf("senti_ready = %v while stopping", got)
	}
}

// TestRunDrain: at the signal /readyz turns 503 while the server still serves for the drain
// delay; then it shuts down, and a prediction in flight all along still completes.
func TestRunDrain(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var logs syncBuffer
	var hp *holdingPredictor
	draining, stopping := make(chan struct{}), make(chan struct{})
	endDrain := make(chan struct{})
	h := hooks{
		wrap:     func(p predictor) predictor { hp = newHolding(p); return hp },
		draining: func() { close(draining) },
		endDrain: endDrain,
		stopping: func() { close(stopping) },
		getenv:   func(string) string { return "" },
	}
	base, done := startServer(t, &logs, func(ready func(net.Addr)) error {
		h.ready = ready
		return runWith(ctx, []string{"-model", topicsPath, "-addr", "127.0.0.1:0", "-drain-delay", "10m"}, &logs, h)
	})
	client := &http.Client{Timeout: 30 * time.Second}
	var ready readyResponse
	if resp := call(t, client, http.MethodGet, base+"/readyz", "", &ready); resp.StatusCode != http.StatusOK || ready.Status != "ready" {
		t.Fatalf("readyz before the signal: %d %+v", resp.StatusCode, ready)
	}

	held := make(chan error, 1)
	go func() {
		var got classification
		resp, err := do(&http.Client{Timeout: time.Minute}, http.MethodPost, base+"/v1/classify", `{"text": "hold the rocket launch"}`, &got)
		if err == nil && (resp.StatusCode != http.StatusOK || got.Label == "") {
			err = fmt.Errorf("status %d, %+v", resp.StatusCode, got)
		}
		held <- err
	}()
	hp.waitEntered(t, 1)

	cancel() // SIGTERM
	<-draining
	wantError(t, client, http.MethodGet, base+"/readyz", "", http.StatusServiceUnavailable, "not ready: draining")
	if resp := call(t, client, http.MethodGet, base+"/healthz", "", nil); resp.StatusCode != http.StatusOK {
		t.Errorf("healthz while draining: %d", resp.StatusCode)
	}
	var got classification
	if resp := call(t, client, http.MethodPost, base+"/v1/classify", `{"text": "a rocket"}`, &got); resp.StatusCode != http.StatusOK {
		t.Errorf("a prediction while draining: %d", resp.StatusCode)
	}
	select {
	case err := <-held:
		t.Fatalf("the held request ended early: %v", err)
	default:
	}

	close(endDrain) // the drain delay is over
	<-stopping
	close(hp.release)
	if err := <-held; err != nil {
		t.Errorf("the request in flight at shutdown: %v", err)
	}
	waitStopped(t, done)
	if _, err := client.Get(base + "/healthz"); err == nil {
		t.Error("the server still answers after shutdown")
	}
	var msgs []string
	for _, l := range logLines(t, logs.String()) {
		msgs = append(msgs, fmt.Sprint(l["msg"]))
	}
	for _, want := range []string{"draining: /readyz answers 503", "shutting down", "stopped"} {
		if !slices.Contains(msgs, want) {
			t.Errorf("no log %q in %q", want, msgs)
		}
	}
}

func TestConfig(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	var out bytes.Buffer
	cfg, err := parseConfig([]string{"-model", "m.safetensors"}, env(nil), &out)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.addr != "127.0.0.1:8080" || cfg.maxInflight != 2*runtime.GOMAXPROCS(0) || cfg.predictThreads != 1 || cfg.predictPrec != "f32" || cfg.drainDelay != defaultDrainDelay ||
		cfg.shutdownTimeout != shutdownTimeout || cfg.logLevel != slog.LevelInfo {
		t.Errorf("defaults: %+v", cfg)
	}

	vars := map[string]string{
		"SENTISERVER_MODEL": "env.safetensors", "SENTISERVER_ADDR": "127.0.0.1:9999",
		"SENTISERVER_MAX_INFLIGHT": "7", "SENTISERVER_PREDICTION_THREADS": "0", "SENTISERVER_PREDICTION_PRECISION": "f16",
		"SENTISERVER_DRAIN_DELAY": "3s", "SENTISERVER_SHUTDOWN_TIMEOUT": "9s", "SENTISERVER_LOG_LEVEL": "debug",
	}
	cfg, err = parseConfig(nil, env(vars), &out)
	if err != nil {
		t.Fatal(err)
	}
	want := config{model: "env.safetensors", addr: "127.0.0.1:9999", maxInflight: 7, predictThreads: 0, predictPrec: "f16", drainDelay: 3 * time.Second,
		shutdownTimeout: 9 * time.Second, logLevel: slog.LevelDebug}
	if cfg != want {
		t.Errorf("from the environment: %+v, want %+v", cfg, want)
	}
	cfg, err = parseConfig([]string{"-addr", ":0", "-max-inflight", "3", "-model", "flag.safetensors"}, env(vars), &out)
	if err != nil {
		t.Fatal(err)
	}
	want.addr, want.maxInflight, want.model = ":0", 3, "flag.safetensors"
	if cfg != want {
		t.Errorf("flags over the environment: %+v, want %+v", cfg, want)
	}

	for _, tc := range []struct {
		args   []string
		vars   map[string]string
		needle string
	}{
		{nil, nil, "no model"},
		{[]string{"-model", "m", "-max-inflight", "0"}, nil, "at least 1"},
		{[]string{"-model", "m", "-prediction-threads", "-1"}, nil, "-prediction-threads must be >= 0"},
		{[]string{"-model", "m"}, map[string]string{"SENTISERVER_MAX_INFLIGHT": "lots"}, "SENTISERVER_MAX_INFLIGHT"},
		{[]string{"-model", "m"}, map[string]string{"SENTISERVER_DRAIN_DELAY": "5"}, "SENTISERVER_DRAIN_DELAY"},
		// A bad variable is an error even under its flag: a typo in a deployment shows.
		{[]string{"-model", "m", "-max-inflight", "3"}, map[string]string{"SENTISERVER_MAX_INFLIGHT": "lots"}, "SENTISERVER_MAX_INFLIGHT"},
		{[]string{"-model", "m", "extra"}, nil, "unexpected"},
		{[]string{"-model", "m", "-no-such-flag"}, nil, "no-such-flag"},
	} {
		out.Reset()
		if _, err := parseConfig(tc.args, env(tc.vars), &out); !errors.Is(err, errUsage) || !strings.Contains(out.String(), tc.needle) {
			t.Errorf("%q %v: %v, output lacks %q:\n%s", tc.args, tc.vars, err, tc.needle, out.String())
		}
	}
	out.Reset()
	if _, err := parseConfig([]string{"-help"}, env(nil), &out); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("-help: %v", err)
	}
	for _, name := range []string{"SENTISERVER_ADDR", "SENTISERVER_MODEL", "SENTISERVER_MAX_INFLIGHT", "SENTISERVER_DRAIN_DELAY",
		"SENTISERVER_SHUTDOWN_TIMEOUT", "SENTISERVER_LOG_LEVEL", "SENTISERVER_PREDICTION_PRECISION", "-max-inflight", "429"} {
		if !strings.Contains(out.String(), name) {
			t.Errorf("-help lacks %s:\n%s", name, out.String())
		}
	}
}

// TestOpenAPI: the document describes exactly the routes the mux serves, and every
// reference in it resolves.
func TestOpenAPI(t *testing.T) {
	var doc map[string]any
	if err := json.Unmarshal(openapiJSON, &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	if v, _ := doc["openapi"].(string); !strings.HasPrefix(v, "3.") {
		t.Errorf("openapi version %q", v)
	}
	methods := map[string]bool{"get": true, "put": true, "post": true, "delete": true, "options": true, "head": true, "patch": true, "trace": true}
	var documented []string
	paths, _ := doc["paths"].(map[string]any)
	for path, item := range paths {
		ops, _ := item.(map[string]any)
		for m, op := range ops {
			if !methods[m] {
				continue
			}
			documented = append(documented, strings.ToUpper(m)+" "+path)
			o, _ := op.(map[string]any)
			if resp, _ := o["responses"].(map[string]any); len(resp) == 0 || resp["200"] == nil {
				t.Errorf("%s %s: no 200 response", m, path)
			}
		}
	}
	var served []string
	for _, rt := range routes {
		served = append(served, rt.pattern())
	}
	sort.Strings(documented)
	sort.Strings(served)
	if !slices.Equal(documented, served) {
		t.Errorf("openapi.json documents\n  %q\nthe mux serves\n  %q", documented, served)
	}

	// Each $ref names a component that exists.
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if ref, ok := v["$ref"].(string); ok {
				var at any = doc
				for _, part := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
					m, _ := at.(map[string]any)
					at = m[part]
				}
				if at == nil {
					t.Errorf("unresolved $ref %q", ref)
				}
			}
			for _, x := range v {
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(doc)

	// The mux answers each route, and /openapi.json serves the document.
	a, srv := newTestAPI(t, model, nil, options{logger: slog.New(slog.NewJSONHandler(io.Discard, nil))})
	for _, rt := range routes {
		req := httptest.NewRequest(rt.method, rt.path, nil)
		if _, pattern := a.mux.Handler(req); pattern != rt.pattern() {
			t.Errorf("%s %s is routed to %q", rt.method, rt.path, pattern)
		}
	}
	resp, err := http.Get(srv.URL + "/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") || !bytes.Equal(body, openapiJSON) {
		t.Errorf("GET /openapi.json: %d %q, %d bytes", resp.StatusCode, resp.Header.Get("Content-Type"), len(body))
	}
}
