// SPDX-License-Identifier: MIT OR Apache-2.0

package main

// The short version of the load benchmark (benches/load): vegeta's attacker, used as a
// library, drives the in-process API with a fixed number of workers sending as fast as they
// can. Every answer is checked, not only counted: each target carries its own X-Request-ID,
// which the API echoes, so a 200 is compared with the model's own result for that target's
// text(s).

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

const (
	loadWorkers  = 16              // vegeta workers (and connections)
	loadDuration = 2 * time.Second // of each attack
	loadBatch    = 8               // texts per batch request
)

// loadTexts returns n distinct review-like texts of 20 to 40 words.
func loadTexts(n int) []string {
	words := []string{"the", "film", "was", "wonderful", "boring", "acting", "plot", "terrible", "moving",
		"and", "a", "great", "cast", "but", "dull", "script", "funny", "slow", "beautiful", "ending"}
	texts := make([]string, n)
	for i := range texts {
		var b strings.Builder
		fmt.Fprintf(&b, "review %d:", i)
		for k := 0; k < 20+i%21; k++ {
			b.WriteByte(' ')
			b.WriteString(words[(i*7+k*k+k*i)%len(words)])
		}
		texts[i] = b.String()
	}
	return texts
}

// loadCase is what an attack sends and what each 200 must answer: want[id] holds the
// positive probabilities of the text(s) of the target whose X-Request-ID is id.
type loadCase struct {
	targets []vegeta.Target
	want    map[string][]float32
	batch   bool
}

func singleCase(t *testing.T, base string, texts []string) loadCase {
	t.Helper()
	c := loadCase{want: map[string][]float32{}}
	for i, text := range texts {
		p, err := model.Predict(text)
		if err != nil {
			t.Fatal(err)
		}
		id := "single-" + strconv.Itoa(i)
		body, _ := json.Marshal(map[string]string{"text": text})
		c.targets = append(c.targets, vegeta.Target{Method: http.MethodPost, URL: base + "/v1/sentiment", Body: body,
			Header: http.Header{"Content-Type": {"application/json"}, "X-Request-Id": {id}}})
		c.want[id] = []float32{p}
	}
	return c
}

func batchCase(t *testing.T, base string, texts []string) loadCase {
	t.Helper()
	c := loadCase{want: map[string][]float32{}, batch: true}
	for i := 0; i+loadBatch <= len(texts); i += loadBatch {
		batch := texts[i : i+loadBatch]
		ps, err := model.PredictBatch(batch)
		if err != nil {
			t.Fatal(err)
		}
		id := "batch-" + strconv.Itoa(i)
		body, _ := json.Marshal(map[string][]string{"texts": batch})
		c.targets = append(c.targets, vegeta.Target{Method: http.MethodPost, URL: base + "/v1/sentiment/batch", Body: body,
			Header: http.Header{"Content-Type": {"application/json"}, "X-Request-Id": {id}}})
		c.want[id] = ps
	}
	return c
}

// attack runs vegeta with loadWorkers workers at no set rate (each sends its next request
// when its last is answered) for loadDuration, and returns every result.
func attack(c loadCase) []*vegeta.Result {
	atk := vegeta.NewAttacker(vegeta.Workers(loadWorkers), vegeta.MaxWorkers(loadWorkers),
		vegeta.Connections(loadWorkers), vegeta.MaxConnections(loadWorkers), vegeta.Timeout(30*time.Second))
	var out []*vegeta.Result
	for res := range atk.Attack(vegeta.NewStaticTargeter(c.targets...), vegeta.ConstantPacer{}, loadDuration, "load-test") {
		out = append(out, res)
	}
	return out
}

// checkOK checks that a 200 answers its target's text(s) with the model's own results.
func (c loadCase) checkOK(res *vegeta.Result) error {
	id := res.Headers.Get("X-Request-ID")
	want, ok := c.want[id]
	if !ok {
		return fmt.Errorf("a 200 with X-Request-ID %q, which no target sent", id)
	}
	var got []sentiment
	if c.batch {
		var b batchResponse
		if err := json.Unmarshal(res.Body, &b); err != nil {
			return fmt.Errorf("%s: %v in %q", id, err, res.Body)
		}
		got = b.Results
	} else {
		var s sentiment
		if err := json.Unmarshal(res.Body, &s); err != nil {
			return fmt.Errorf("%s: %v in %q", id, err, res.Body)
		}
		got = []sentiment{s}
	}
	if len(got) != len(want) {
		return fmt.Errorf("%s: %d results for %d texts", id, len(got), len(want))
	}
	for i := range got {
		if math.Abs(float64(got[i].Positive-want[i])) > 1e-5 {
			return fmt.Errorf("%s: text %d: positive %v, want %v", id, i, got[i].Positive, want[i])
		}
	}
	return nil
}

// checkRejected checks a 429: Retry-After and the JSON error naming the limit.
func checkRejected(res *vegeta.Result, limit int) error {
	var e errorResponse
	if err := json.Unmarshal(res.Body, &e); err != nil {
		return fmt.Errorf("429: %v in %q", err, res.Body)
	}
	if res.Headers.Get("Retry-After") != "1" || !strings.Contains(e.Error, fmt.Sprintf("limit is %d", limit)) {
		return fmt.Errorf("429: Retry-After %q, error %q", res.Headers.Get("Retry-After"), e.Error)
	}
	return nil
}

// TestLoad: loadWorkers clients for loadDuration on the single and the batch sentiment routes,
// with an in-flight bound equal to the number of clients: every request is answered 200 with
// its own texts' results, and there are no transport errors.
func TestLoad(t *testing.T) {
	_, srv := newTestAPI(t, model, nil, options{maxInflight: loadWorkers, logger: slog.New(slog.NewJSONHandler(io.Discard, nil))})
	texts := loadTexts(64)
	for _, c := range []loadCase{singleCase(t, srv.URL, texts), batchCase(t, srv.URL, texts)} {
		name := "single"
		if c.batch {
			name = "batch"
		}
		t.Run(name, func(t *testing.T) {
			results := attack(c)
			var m vegeta.Metrics
			bad := 0
			for _, res := range results {
				m.Add(res)
				err := error(nil)
				if res.Code != http.StatusOK || res.Error != "" {
					err = fmt.Errorf("status %d, error %q", res.Code, res.Error)
				} else {
					err = c.checkOK(res)
				}
				if err != nil {
					if bad++; bad <= 5 {
						t.Error(err)
					}
				}
			}
			m.Close()
			// Each worker sends at least one request, however slow the machine.
			if m.Requests < loadWorkers || bad > 0 || m.Success != 1 {
				t.Errorf("%d requests, %d bad, success ratio %v, status codes %v", m.Requests, bad, m.Success, m.StatusCodes)
			}
			t.Logf("%d requests in %v: %.0f/s, p50 %v, p99 %v", m.Requests, m.Duration.Round(time.Millisecond), m.Rate,
				m.Latencies.P50.Round(time.Microsecond), m.Latencies.P99.Round(time.Microsecond))
		})
	}
}

// gate holds predictions until it is opened, by the first 429 or after gateTimeout: a
// server that queues instead of refusing makes the test fail in seconds, not hang.
type gate struct {
	open chan struct{}
	once sync.Once
}

const gateTimeout = 10 * time.Second

func newGate() *gate { return &gate{open: make(chan struct{})} }

func (g *gate) release() { g.once.Do(func() { close(g.open) }) }

func (g *gate) wait() {
	select {
	case <-g.open:
	default:
		timer := time.NewTimer(gateTimeout)
		defer timer.Stop()
		select {
		case <-g.open:
		case <-timer.C:
			g.release()
		}
	}
}

// gatedPredictor waits at its gate before each prediction, then lets it run after a short
// delay, so that predictions keep their slots for a while.
type gatedPredictor struct {
	predictor
	gate *gate
}

func (g gatedPredictor) Scores(text string) ([]float32, error) {
	g.gate.wait()
	time.Sleep(time.Millisecond)
	return g.predictor.Scores(text)
}

func (g gatedPredictor) ScoresBatch(texts []string) ([][]float32, error) {
	g.gate.wait()
	time.Sleep(time.Millisecond)
	return g.predictor.ScoresBatch(texts)
}

// statusWriter notes the status code a handler writes.
type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

// TestLoadOverload: loadWorkers clients against an in-flight bound of 2. The answers are
// only 200 (with the right results) and 429 (with Retry-After), at least one of each. Both
// are certain, not a matter of timing: the predictions are held until the API has refused a
// request, which it must do as soon as a third request arrives while two are held.
func TestLoadOverload(t *testing.T) {
	const limit = 2
	info, err := describeModel(model)
	if err != nil {
		t.Fatal(err)
	}
	texts := loadTexts(64)
	for _, batch := range []bool{false, true} {
		name := map[bool]string{false: "single", true: "batch"}[batch]
		t.Run(name, func(t *testing.T) {
			g := newGate()
			a := newAPI(gatedPredictor{predictor: model, gate: g}, info,
				options{maxInflight: limit, logger: slog.New(slog.NewJSONHandler(io.Discard, nil))})
			a.setReady()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				sw := &statusWriter{ResponseWriter: w}
				a.ServeHTTP(sw, r)
				if sw.code == http.StatusTooManyRequests {
					g.release()
				}
			}))
			defer srv.Close()
			c := singleCase(t, srv.URL, texts)
			if batch {
				c = batchCase(t, srv.URL, texts)
			}
			counts := map[uint16]int{}
			bad := 0
			for _, res := range attack(c) {
				counts[res.Code]++
				var err error
				switch res.Code {
				case http.StatusOK:
					err = c.checkOK(res)
				case http.StatusTooManyRequests:
					err = checkRejected(res, limit)
				default:
					err = fmt.Errorf("status %d, error %q", res.Code, res.Error)
				}
				if err != nil {
					if bad++; bad <= 5 {
						t.Error(err)
					}
				}
			}
			if counts[http.StatusOK] == 0 || counts[http.StatusTooManyRequests] == 0 || bad > 0 {
				t.Errorf("status codes %v, %d bad; want only 200 and 429, at least one of each", counts, bad)
			}
			t.Logf("status codes %v", counts)
		})
	}
}
