// SPDX-License-Identifier: MIT OR Apache-2.0

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	senti "github.com/libsenti/senti/bindings/go"
)

// TestMain trains a tiny model on a slice of IMDB (../../../data/imdb/reviews.json from this
// directory, or $SENTI_DATA) and saves it; the tests serve it. Its quality does not matter.
// It also trains a tiny 3-label model in memory on synthetic texts of three topics with
// distinct words, which it does learn.
var (
	modelPath  string
	model      *senti.Model
	topicsPath string
	topics     *senti.Model
)

var topicWords = map[string][]string{
	"sports":  {"goal", "striker", "match", "team", "league", "coach", "referee", "stadium", "penalty", "score"},
	"cooking": {"recipe", "oven", "flour", "sugar", "bake", "garlic", "simmer", "butter", "salad", "spice"},
	"space":   {"rocket", "orbit", "planet", "galaxy", "astronaut", "telescope", "comet", "launch", "moon", "nasa"},
}

var clearTexts = map[string]string{
	"sports":  "the striker scored a late penalty and the team won the league match",
	"cooking": "bake the flour and sugar in the oven then add butter",
	"space":   "the rocket launch put the astronaut in orbit around the moon",
}

// topicExamples returns n synthetic examples per topic.
func topicExamples(seed int64, n int) []senti.Example {
	filler := []string{"the", "a", "and", "of", "today", "really", "we", "saw", "about", "new", "some", "it"}
	rng := rand.New(rand.NewSource(seed))
	var out []senti.Example
	for i := 0; i < n; i++ {
		for _, label := range []string{"sports", "cooking", "space"} {
			words := topicWords[label]
			var text []string
			for k := 4 + rng.Intn(4); k > 0; k-- {
				text = append(text, words[rng.Intn(len(words))], filler[rng.Intn(len(filler))])
			}
			rng.Shuffle(len(text), func(a, b int) { text[a], text[b] = text[b], text[a] })
			out = append(out, senti.Example{Text: strings.Join(text, " "), Label: label})
		}
	}
	return out
}

// trainTopics trains, saves and reloads the 3-label model.
func trainTopics(dir string) error {
	trained, err := senti.TrainExamples(senti.Params{
		Epochs: 3, EmbeddingDim: 16, HiddenSize: 16, VocabSize: 500, MaxLen: 32, Threads: 1,
		EmbeddingPretrainEpochs: senti.Int(0), Seed: senti.Int(7),
	}, topicExamples(1, 100), nil, nil)
	if err != nil {
		return fmt.Errorf("training the 3-label model: %w", err)
	}
	topicsPath = filepath.Join(dir, "topics.safetensors")
	err = trained.Save(topicsPath)
	trained.Close()
	if err != nil {
		return fmt.Errorf("saving the 3-label model: %w", err)
	}
	if topics, err = senti.Load(topicsPath); err != nil {
		return fmt.Errorf("loading the 3-label model: %w", err)
	}
	return nil
}

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	data := os.Getenv("SENTI_DATA")
	if data == "" {
		data = filepath.Join("..", "..", "..", "data", "imdb", "reviews.json")
	}
	data, _ = filepath.Abs(data)
	if _, err := os.Stat(data); err != nil {
		fmt.Fprintf(os.Stderr, "sentiserver tests need the IMDB data at %s (examples/fetch-imdb.sh) or $SENTI_DATA\n", data)
		return 1
	}
	dir, err := os.MkdirTemp("", "sentiserver-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)

	params, _ := json.Marshal(map[string]any{
		"data_path": data, "train_limit": 400, "epochs": 1, "max_len": 64, "vocab_size": 2000,
		"embedding_dim": 16, "hidden_size": 16, "cell": "gru", "seed": 1, "threads": 2,
	})
	trained, err := senti.Train(string(params), nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, "training the test model:", err)
		return 1
	}
	modelPath = filepath.Join(dir, "tiny.safetensors")
	err = trained.Save(modelPath)
	trained.Close()
	if err != nil {
		fmt.Fprintln(os.Stderr, "saving the test model:", err)
		return 1
	}
	if model, err = senti.Load(modelPath); err != nil {
		fmt.Fprintln(os.Stderr, "loading the test model:", err)
		return 1
	}
	defer model.Close()
	if err := trainTopics(dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer topics.Close()
	return m.Run()
}

// do sends a request and decodes the JSON answer into out (nil: only check that it is JSON).
func do(client *http.Client, method, url, body string, out any) (*http.Response, error) {
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if method == http.MethodHead {
		return resp, nil
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		return resp, fmt.Errorf("%s %s: Content-Type %q", method, url, ct)
	}
	if out == nil {
		out = new(any)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(out); err != nil {
		return resp, fmt.Errorf("%s %s: answer %q is not the expected JSON: %v", method, url, raw, err)
	}
	return resp, nil
}

// call is do for the test goroutine: a failure ends the test.
func call(t *testing.T, client *http.Client, method, url, body string, out any) *http.Response {
	t.Helper()
	resp, err := do(client, method, url, body, out)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// wantError checks a 4xx/5xx answer: the status and a JSON error whose text contains needle.
func wantError(t *testing.T, client *http.Client, method, url, body string, status int, needle string) {
	t.Helper()
	var e errorResponse
	resp := call(t, client, method, url, body, &e)
	if resp.StatusCode != status {
		t.Errorf("%s %s %.60q: status %d, want %d (%q)", method, url, body, resp.StatusCode, status, e.Error)
	}
	if e.Error == "" || !strings.Contains(e.Error, needle) {
		t.Errorf("%s %s %.60q: error %q lacks %q", method, url, body, e.Error, needle)
	}
}

func checkResult(t *testing.T, text string, got sentiment) {
	t.Helper()
	want, err := model.Predict(text)
	if err != nil {
		t.Error(err) // called from other goroutines too: no Fatal
		return
	}
	if math.Abs(float64(got.Positive-want)) > 1e-5 {
		t.Errorf("%.40q: positive %v, want %v", text, got.Positive, want)
	}
	if wantLabel := map[bool]string{false: "negative", true: "positive"}[want > 0.5]; got.Label != wantLabel || (got.Label == "positive") != (got.Positive > 0.5) {
		t.Errorf("%.40q: label %q for %v", text, got.Label, got.Positive)
	}
	if len(got.Scores) != 2 || got.Scores["positive"] != got.Positive || math.Abs(float64(got.Scores["negative"]+got.Scores["positive"]-1)) > 1e-5 {
		t.Errorf("%.40q: scores %v for positive %v", text, got.Scores, got.Positive)
	}
}

// checkClass checks a /v1/classify answer against the model's own scores.
func checkClass(t *testing.T, m *senti.Model, text string, got classification) {
	t.Helper()
	labels, err := m.Labels()
	if err != nil {
		t.Error(err)
		return
	}
	scores, err := m.Scores(text)
	if err != nil {
		t.Error(err)
		return
	}
	want, err := m.PredictLabel(text)
	if err != nil {
		t.Error(err)
		return
	}
	if got.Label != want.Label || math.Abs(float64(got.Score-want.Score)) > 1e-5 {
		t.Errorf("%.40q: label %q score %v, want %+v", text, got.Label, got.Score, want)
	}
	if len(got.Scores) != len(labels) {
		t.Errorf("%.40q: scores %v for labels %q", text, got.Scores, labels)
	}
	var sum float64
	for i, l := range labels {
		s, ok := got.Scores[l]
		if !ok || math.Abs(float64(s-scores[i])) > 1e-5 {
			t.Errorf("%.40q: scores[%q] = %v, want %v", text, l, s, scores[i])
		}
		sum += float64(s)
	}
	if math.Abs(sum-1) > 1e-4 || got.Scores[got.Label] != got.Score {
		t.Errorf("%.40q: scores %v sum to %v; label %q score %v", text, got.Scores, sum, got.Label, got.Score)
	}
}

func TestSentiment(t *testing.T) {
	srv := httptest.NewServer(handler(model))
	defer srv.Close()
	c := srv.Client()
	for _, text := range []string{
		"An absolute masterpiece: moving, funny and beautifully acted.",
		"Terrible. Boring plot, wooden acting. A waste of time.",
		"",               // allowed: the model's prior
		"great\x00movie", // a NUL byte, escaped in JSON
		"Ünïcödé — 素晴らしい 😀",
	} {
		body, _ := json.Marshal(map[string]string{"text": text})
		var got sentiment
		resp := call(t, c, http.MethodPost, srv.URL+"/v1/sentiment", string(body), &got)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%q: status %d", text, resp.StatusCode)
		}
		checkResult(t, text, got)
	}
}

func TestBatch(t *testing.T) {
	srv := httptest.NewServer(handler(model))
	defer srv.Close()
	c := srv.Client()
	texts := []string{"Loved it, wonderful cast.", "", "Dull and far too long.", "meh"}
	body, _ := json.Marshal(map[string]any{"texts": texts})
	var got batchResponse
	resp := call(t, c, http.MethodPost, srv.URL+"/v1/sentiment/batch", string(body), &got)
	if resp.StatusCode != http.StatusOK || len(got.Results) != len(texts) {
		t.Fatalf("status %d, %d results for %d texts", resp.StatusCode, len(got.Results), len(texts))
	}
	for i, text := range texts {
		checkResult(t, text, got.Results[i])
	}

	full := make([]string, maxBatchTexts)
	for i := range full {
		full[i] = fmt.Sprintf("review number %d was fine", i)
	}
	body, _ = json.Marshal(map[string]any{"texts": full})
	resp = call(t, c, http.MethodPost, srv.URL+"/v1/sentiment/batch", string(body), &got)
	if resp.StatusCode != http.StatusOK || len(got.Results) != maxBatchTexts {
		t.Errorf("a batch at the limit: status %d, %d results", resp.StatusCode, len(got.Results))
	}
	body, _ = json.Marshal(map[string]any{"texts": append(full, "one too many")})
	wantError(t, c, http.MethodPost, srv.URL+"/v1/sentiment/batch", string(body), http.StatusBadRequest, "limit is 1000")
}

// errorCase is a request a route must refuse: the status and a part of the message.
type errorCase struct {
	url, body string
	status    int
	needle    string
}

// singleTextErrors: what a route that reads {"text": ...} refuses whatever its other fields.
func singleTextErrors(url string) []errorCase {
	bad := http.StatusBadRequest
	return []errorCase{
		{url, `{"text": "unterminated`, bad, "malformed JSON"},
		{url, `{"text": "x",}`, bad, "malformed JSON"},
		{url, ``, bad, "empty"},
		{url, `{}`, bad, `missing field "text"`},
		{url, `{"text": null}`, bad, `missing field "text"`},
		{url, `["x"]`, bad, "want an object"},
		{url, `{"text": "x"} {"text": "y"}`, bad, "more than one"},
		{url, "{\"text\": \"ok \xc3\x28 bad\"}", bad, "UTF-8"},
		{url, `{"text": "` + strings.Repeat("a", maxBodyBytes) + `"}`, http.StatusRequestEntityTooLarge, "exceeds"},
	}
}

// batchErrors: what a route that reads {"texts": [...]} refuses.
func batchErrors(url string) []errorCase {
	bad := http.StatusBadRequest
	return []errorCase{
		{url, `{}`, bad, `missing field "texts"`},
		{url, `{"texts": []}`, bad, "empty"},
		{url, `{"texts": ["a", null]}`, bad, "texts[1] is null"},
		{url, `{"texts": "a"}`, bad, `field "texts"`},
		{url, `{"text": "a"}`, bad, `unknown field "text"`},
		{url, "{\"texts\": [\"\xff\"]}", bad, "UTF-8"},
	}
}

func wantErrors(t *testing.T, c *http.Client, cases ...[]errorCase) {
	t.Helper()
	for _, list := range cases {
		for _, tc := range list {
			wantError(t, c, http.MethodPost, tc.url, tc.body, tc.status, tc.needle)
		}
	}
}

// methodCase is a method a route does not serve and the Allow header its 405 names.
type methodCase struct{ method, url, allow string }

func wantMethodsRefused(t *testing.T, c *http.Client, cases []methodCase) {
	t.Helper()
	for _, m := range cases {
		wantError(t, c, m.method, m.url, "", http.StatusMethodNotAllowed, "not allowed")
		req, _ := http.NewRequest(m.method, m.url, nil)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := resp.Header.Get("Allow"); got != m.allow {
			t.Errorf("%s %s: Allow %q, want %q", m.method, m.url, got, m.allow)
		}
	}
}

func TestErrors(t *testing.T) {
	srv := httptest.NewServer(handler(model))
	defer srv.Close()
	c := srv.Client()
	one, batch := srv.URL+"/v1/sentiment", srv.URL+"/v1/sentiment/batch"
	bad := http.StatusBadRequest
	wantErrors(t, c, singleTextErrors(one), batchErrors(batch), []errorCase{
		{one, `{"text": "x", "lang": "en"}`, bad, `unknown field "lang"`},
		{one, `null`, bad, `missing field "text"`},
		{one, `{"text": 3}`, bad, `field "text"`},
		{srv.URL + "/v2/sentiment", `{"text": "x"}`, http.StatusNotFound, "no route"},
	})
	wantMethodsRefused(t, c, []methodCase{
		{http.MethodGet, one, "POST"},
		{http.MethodPut, batch, "POST"},
		{http.MethodPost, srv.URL + "/healthz", "GET, HEAD"},
	})
}

func TestHealthz(t *testing.T) {
	srv := httptest.NewServer(handler(model))
	defer srv.Close()
	var got healthResponse
	resp := call(t, srv.Client(), http.MethodGet, srv.URL+"/healthz", "", &got)
	if resp.StatusCode != http.StatusOK || got.Status != "ok" || got.Version != senti.Version() {
		t.Errorf("status %d, %+v", resp.StatusCode, got)
	}
	if resp := call(t, srv.Client(), http.MethodHead, srv.URL+"/healthz", "", nil); resp.StatusCode != http.StatusOK {
		t.Errorf("HEAD /healthz: status %d", resp.StatusCode)
	}
}

// TestConcurrentRequests: predictions from many goroutines at once are all answered, each
// with its own text's result. The in-flight bound is set to the number of clients, so no
// request is refused: overload is TestOverload's concern, and the default bound (two per
// CPU) would refuse some of these on a 2-core machine.
func TestConcurrentRequests(t *testing.T) {
	const clients = 16
	info, err := describeModel(model)
	if err != nil {
		t.Fatal(err)
	}
	a := newAPI(model, info, options{maxInflight: clients})
	a.setReady()
	srv := httptest.NewServer(a)
	defer srv.Close()
	var wg sync.WaitGroup
	for g := 0; g < clients; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 10; i++ {
				text := fmt.Sprintf("goroutine %d says review %d was wonderful", g, i)
				body, _ := json.Marshal(map[string]string{"text": text})
				var got sentiment
				resp, err := do(srv.Client(), http.MethodPost, srv.URL+"/v1/sentiment", string(body), &got)
				if err != nil {
					t.Error(err)
					return
				}
				if resp.StatusCode != http.StatusOK {
					t.Errorf("status %d", resp.StatusCode)
					return
				}
				checkResult(t, text, got)
			}
		}()
	}
	wg.Wait()
}

// syncBuffer is a log destination shared by the server's goroutines and the test.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestRun runs the command on a loopback port, calls it, and shuts it down as a signal would.
func TestRun(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var logs syncBuffer
	base, done := startServer(t, &logs, func(ready func(net.Addr)) error {
		return run(ctx, []string{"-model", modelPath, "-addr", "127.0.0.1:0", "-drain-delay", "0s", "-prediction-precision", "f16"}, &logs, ready)
	})
	client := &http.Client{Timeout: 10 * time.Second}
	var health healthResponse
	if resp := call(t, client, http.MethodGet, base+"/healthz", "", &health); resp.StatusCode != http.StatusOK || health.Status != "ok" {
		t.Errorf("healthz: %d %+v", resp.StatusCode, health)
	}
	var got sentiment
	if resp := call(t, client, http.MethodPost, base+"/v1/sentiment", `{"text": "a fine film"}`, &got); resp.StatusCode != http.StatusOK {
		t.Errorf("sentiment: status %d", resp.StatusCode)
	}
	checkResult(t, "a fine film", got)

	cancel() // what SIGINT / SIGTERM do in main
	waitStopped(t, done)
	if !strings.Contains(logs.String(), "stopped") || !strings.Contains(logs.String(), `"prediction_precision":"f16"`) {
		t.Errorf("logs:\n%s", logs.String())
	}
	if _, err := client.Get(base + "/healthz"); err == nil {
		t.Error("the server still answers after shutdown")
	}
}

func TestRunErrors(t *testing.T) {
	var logs syncBuffer
	ctx := context.Background()
	if err := run(ctx, nil, &logs, nil); !errors.Is(err, errUsage) {
		t.Errorf("without -model: %v", err)
	}
	err := run(ctx, []string{"-model", "/nonexistent/model.safetensors", "-addr", "127.0.0.1:0"}, &logs, nil)
	if !errors.Is(err, senti.ErrIO) {
		t.Errorf("missing model file: %v", err)
	}
	err = run(ctx, []string{"-model", modelPath, "-addr", "127.0.0.1:0", "-prediction-precision", "f64"}, &logs, nil)
	if !errors.Is(err, senti.ErrInvalidArgument) || !strings.Contains(err.Error(), "f64") {
		t.Errorf("unknown prediction precision: %v", err)
	}
	err = run(ctx, []string{"-model", modelPath, "-addr", "256.0.0.1:http"}, &logs, nil)
	if err == nil {
		t.Error("bad address: no error")
	}
}

func TestClassify(t *testing.T) {
	srv := httptest.NewServer(handler(topics))
	defer srv.Close()
	c := srv.Client()
	for want, text := range clearTexts {
		body, _ := json.Marshal(map[string]string{"text": text})
		var got classification
		resp := call(t, c, http.MethodPost, srv.URL+"/v1/classify", string(body), &got)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%q: status %d", text, resp.StatusCode)
		}
		checkClass(t, topics, text, got)
		if got.Label != want {
			t.Errorf("%q: label %q, want %q (%v)", text, got.Label, want, got.Scores)
		}
	}
	for _, text := range []string{"", "great\x00movie", "Ünïcödé — 素晴らしい 😀"} {
		body, _ := json.Marshal(map[string]string{"text": text})
		var got classification
		if resp := call(t, c, http.MethodPost, srv.URL+"/v1/classify", string(body), &got); resp.StatusCode != http.StatusOK {
			t.Fatalf("%q: status %d", text, resp.StatusCode)
		}
		checkClass(t, topics, text, got)
	}

	// A two-label model classifies too.
	srv2 := httptest.NewServer(handler(model))
	defer srv2.Close()
	text := "Loved it, wonderful cast."
	body, _ := json.Marshal(map[string]string{"text": text})
	var got classification
	if resp := call(t, srv2.Client(), http.MethodPost, srv2.URL+"/v1/classify", string(body), &got); resp.StatusCode != http.StatusOK {
		t.Fatalf("IMDB model: status %d", resp.StatusCode)
	}
	checkClass(t, model, text, got)
}

func TestClassifyBatch(t *testing.T) {
	srv := httptest.NewServer(handler(topics))
	defer srv.Close()
	c := srv.Client()
	texts := []string{clearTexts["space"], "", clearTexts["sports"], "nothing known", clearTexts["cooking"]}
	body, _ := json.Marshal(map[string]any{"texts": texts})
	var got classifyBatchResponse
	resp := call(t, c, http.MethodPost, srv.URL+"/v1/classify/batch", string(body), &got)
	if resp.StatusCode != http.StatusOK || len(got.Results) != len(texts) {
		t.Fatalf("status %d, %d results for %d texts", resp.StatusCode, len(got.Results), len(texts))
	}
	for i, text := range texts {
		checkClass(t, topics, text, got.Results[i])
	}
	if got.Results[0].Label != "space" || got.Results[2].Label != "sports" || got.Results[4].Label != "cooking" {
		t.Errorf("batch labels: %+v", got.Results)
	}

	full := make([]string, maxBatchTexts)
	for i := range full {
		full[i] = fmt.Sprintf("text number %d about a rocket", i)
	}
	body, _ = json.Marshal(map[string]any{"texts": full})
	resp = call(t, c, http.MethodPost, srv.URL+"/v1/classify/batch", string(body), &got)
	if resp.StatusCode != http.StatusOK || len(got.Results) != maxBatchTexts {
		t.Errorf("a batch at the limit: status %d, %d results", resp.StatusCode, len(got.Results))
	}
	body, _ = json.Marshal(map[string]any{"texts": append(full, "one too many")})
	wantError(t, c, http.MethodPost, srv.URL+"/v1/classify/batch", string(body), http.StatusBadRequest, "limit is 1000")
}

func TestLabels(t *testing.T) {
	for _, tc := range []struct {
		m    *senti.Model
		want []string
	}{
		{topics, []string{"cooking", "space", "sports"}},
		{model, []string{"negative", "positive"}},
	} {
		srv := httptest.NewServer(handler(tc.m))
		var got labelsResponse
		resp := call(t, srv.Client(), http.MethodGet, srv.URL+"/v1/labels", "", &got)
		if resp.StatusCode != http.StatusOK || !slices.Equal(got.Labels, tc.want) {
			t.Errorf("GET /v1/labels: status %d, %q; want %q", resp.StatusCode, got.Labels, tc.want)
		}
		if resp := call(t, srv.Client(), http.MethodHead, srv.URL+"/v1/labels", "", nil); resp.StatusCode != http.StatusOK {
			t.Errorf("HEAD /v1/labels: status %d", resp.StatusCode)
		}
		srv.Close()
	}
}

// TestSentimentNeedsTwoLabels: the sentiment routes refuse a 3-label model, pointing to
// /v1/classify; bad requests are still 400 first.
func TestSentimentNeedsTwoLabels(t *testing.T) {
	srv := httptest.NewServer(handler(topics))
	defer srv.Close()
	c := srv.Client()
	wantError(t, c, http.MethodPost, srv.URL+"/v1/sentiment", `{"text": "a rocket"}`, http.StatusUnprocessableEntity, "use /v1/classify")
	wantError(t, c, http.MethodPost, srv.URL+"/v1/sentiment/batch", `{"texts": ["a rocket"]}`, http.StatusUnprocessableEntity, "use /v1/classify")
	wantError(t, c, http.MethodPost, srv.URL+"/v1/sentiment", `{"text": "a rocket"}`, http.StatusUnprocessableEntity, "3 labels (cooking, space, sports)")
	wantError(t, c, http.MethodPost, srv.URL+"/v1/sentiment", `{"txt": "a rocket"}`, http.StatusBadRequest, `unknown field "txt"`)
}

func TestClassifyErrors(t *testing.T) {
	srv := httptest.NewServer(handler(topics))
	defer srv.Close()
	c := srv.Client()
	one, batch := srv.URL+"/v1/classify", srv.URL+"/v1/classify/batch"
	bad := http.StatusBadRequest
	wantErrors(t, c, singleTextErrors(one), batchErrors(batch), []errorCase{
		{one, `{"text": "x", "top_k": 2}`, bad, `unknown field "top_k"`},
		{one, `{"texts": ["x"]}`, bad, `unknown field "texts"`},
		{one, `{"text": 3}`, bad, `field "text"`},
		{batch, `{"texts": ["a"], "labels": ["b"]}`, bad, `unknown field "labels"`},
		{srv.URL + "/v1/classify/", `{"text": "x"}`, http.StatusNotFound, "no route"},
	})
	wantMethodsRefused(t, c, []methodCase{
		{http.MethodGet, one, "POST"},
		{http.MethodPut, batch, "POST"},
		{http.MethodPost, srv.URL + "/v1/labels", "GET, HEAD"},
	})
}

// TestClosedModel: a model closed under the handler (as at shutdown) answers 503.
func TestClosedModel(t *testing.T) {
	m, err := senti.Load(topicsPath)
	if err != nil {
		t.Fatal(err)
	}
	m.Close()
	srv := httptest.NewServer(handler(m))
	defer srv.Close()
	c := srv.Client()
	wantError(t, c, http.MethodPost, srv.URL+"/v1/classify", `{"text": "x"}`, http.StatusServiceUnavailable, "not available")
	wantError(t, c, http.MethodPost, srv.URL+"/v1/classify/batch", `{"texts": ["x"]}`, http.StatusServiceUnavailable, "not available")
	wantError(t, c, http.MethodGet, srv.URL+"/v1/labels", "", http.StatusServiceUnavailable, "not available")
	wantError(t, c, http.MethodPost, srv.URL+"/v1/sentiment", `{"text": "x"}`, http.StatusServiceUnavailable, "not available")
	wantError(t, c, http.MethodPost, srv.URL+"/v1/explain", `{"text": "x"}`, http.StatusServiceUnavailable, "not available")
	wantError(t, c, http.MethodPost, srv.URL+"/v1/explain", `{"text": "x", "label": "space"}`, http.StatusServiceUnavailable, "not available")
}

// TestRunTopics serves the 3-label model file through the command.
func TestRunTopics(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var logs syncBuffer
	base, done := startServer(t, &logs, func(ready func(net.Addr)) error {
		return run(ctx, []string{"-model", topicsPath, "-addr", "127.0.0.1:0", "-drain-delay", "0s"}, &logs, ready)
	})
	client := &http.Client{Timeout: 10 * time.Second}
	var got classification
	if resp := call(t, client, http.MethodPost, base+"/v1/classify", `{"text": "the rocket reached orbit"}`, &got); resp.StatusCode != http.StatusOK {
		t.Errorf("classify: status %d", resp.StatusCode)
	}
	checkClass(t, topics, "the rocket reached orbit", got)
	cancel()
	waitStopped(t, done)
	if !strings.Contains(logs.String(), "labels cooking, space, sports") {
		t.Errorf("logs lack the labels:\n%s", logs.String())
	}
}

// waitStopped waits for serve's result on done after a shutdown began: it must come within the
// shutdown timeout, and be nil.
func waitStopped(t *testing.T, done <-chan error) {
	t.Helper()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("run after shutdown: %v", err)
		}
	case <-time.After(shutdownTimeout + 5*time.Second):
		t.Fatal("the server did not shut down")
	}
}

// startServer runs serve (which calls ready with the listening address) in the background and
// waits until it listens; it returns the base URL and the channel serve's result arrives on.
func startServer(t *testing.T, logs *syncBuffer, serve func(ready func(net.Addr)) error) (string, chan error) {
	t.Helper()
	addrc := make(chan net.Addr, 1)
	done := make(chan error, 1)
	go func() { done <- serve(func(a net.Addr) { addrc <- a }) }()
	select {
	case a := <-addrc:
		return "http://" + a.String(), done
	case err := <-done:
		t.Fatalf("run: %v\n%s", err, logs.String())
	case <-time.After(30 * time.Second):
		t.Fatal("the server did not start")
	}
	return "", done
}
