// SPDX-License-Identifier: MIT OR Apache-2.0

package senti

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// The tests train one small model (lazily, once) on a slice of IMDB. The data is
// ../../data/imdb/reviews.json from this directory (examples/fetch-imdb.sh), or $SENTI_DATA.

var (
	dataPath string // "" when the data is missing
	scratch  string // removed by TestMain

	trainOnce sync.Once
	shared    *Model
	trainErr  error
	trainLog  []Progress // every report of the shared training run

	saveOnce  sync.Once
	savedPath string
	saveErr   error
)

func TestMain(m *testing.M) {
	dataPath = os.Getenv("SENTI_DATA")
	if dataPath == "" {
		dataPath = filepath.Join("..", "..", "data", "imdb", "reviews.json")
	}
	if abs, err := filepath.Abs(dataPath); err == nil {
		dataPath = abs
	}
	if _, err := os.Stat(dataPath); err != nil {
		fmt.Fprintf(os.Stderr, "senti tests: no IMDB data at %s (run examples/fetch-imdb.sh or set SENTI_DATA); tests that train are skipped\n", dataPath)
		dataPath = ""
	}
	var err error
	if scratch, err = os.MkdirTemp("", "senti-go-test-"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	code := m.Run()
	if shared != nil {
		shared.Close()
	}
	if topicModel != nil {
		topicModel.Close()
	}
	os.RemoveAll(scratch)
	os.Exit(code)
}

func needData(t *testing.T) {
	t.Helper()
	if dataPath == "" {
		t.Skip("IMDB data not found (run examples/fetch-imdb.sh or set SENTI_DATA)")
	}
}

// params builds training parameters for the test data with the given overrides.
func params(t *testing.T, overrides map[string]any) string {
	t.Helper()
	p := map[string]any{
		"data_path": dataPath, "train_limit": 1500, "epochs": 2, "max_len": 100, "vocab_size": 5000,
		"embedding_dim": 32, "hidden_size": 32, "cell": "gru", "seed": 1, "threads": 2,
		"embedding_pretrain_epochs": 1,
	}
	for k, v := range overrides {
		p[k] = v
	}
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// trained returns the shared model, training it on first use.
func trained(t *testing.T) *Model {
	t.Helper()
	needData(t)
	trainOnce.Do(func() {
		start := time.Now()
		shared, trainErr = Train(params(t, nil), func(p Progress) bool {
			trainLog = append(trainLog, p)
			return true
		})
		t.Logf("trained the shared model in %v", time.Since(start).Round(time.Millisecond))
	})
	if trainErr != nil {
		t.Fatalf("training the shared model: %v", trainErr)
	}
	return shared
}

// saved returns the path of the shared model saved to the scratch folder.
func saved(t *testing.T) string {
	t.Helper()
	m := trained(t)
	saveOnce.Do(func() {
		savedPath = filepath.Join(scratch, "shared.safetensors")
		saveErr = m.Save(savedPath)
	})
	if saveErr != nil {
		t.Fatalf("saving the shared model: %v", saveErr)
	}
	return savedPath
}

// wantCode fails unless err is an *Error with the given code whose message contains needle.
func wantCode(t *testing.T, what string, err error, code Status, needle string) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Errorf("%s: got %v (%T), want an *Error with %v", what, err, err, code)
		return
	}
	if e.Code != code {
		t.Errorf("%s: got code %v (%s), want %v", what, e.Code, e.Message, code)
	}
	if !errors.Is(err, code) {
		t.Errorf("%s: errors.Is(err, %v) is false", what, code)
	}
	if !strings.Contains(e.Message, needle) {
		t.Errorf("%s: message %q lacks %q", what, e.Message, needle)
	}
	if want := code.String() + ": " + e.Message; e.Error() != want {
		t.Errorf("%s: Error() = %q, want %q", what, e.Error(), want)
	}
}

var reviews = []string{
	"An absolute masterpiece: moving, funny and beautifully acted. I loved every minute of it.",
	"Terrible. Boring plot, wooden acting, and the ending made no sense. A waste of time.",
	"",
	"It was okay, I guess.",
	"great\x00movie",
	"   ",
	"Ünïcödé review — 素晴らしい映画 😀",
}

// testTexts returns the reviews above plus the first n reviews of the data file.
func testTexts(t *testing.T, n int) []string {
	t.Helper()
	f, err := os.Open(dataPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec := json.NewDecoder(f)
	if _, err := dec.Token(); err != nil { // [
		t.Fatal(err)
	}
	texts := append([]string(nil), reviews...)
	for i := 0; i < n && dec.More(); i++ {
		var r struct {
			T string `json:"t"`
		}
		if err := dec.Decode(&r); err != nil {
			t.Fatal(err)
		}
		texts = append(texts, r.T)
	}
	return texts
}

func TestVersionAndStatus(t *testing.T) {
	if v := Version(); v == "" || strings.Count(v, ".") != 2 {
		t.Errorf("Version() = %q", v)
	}
	if l := SimdLevel(); l != "avx512" && l != "avx2" && l != "baseline" {
		t.Errorf("SimdLevel() = %q", l)
	}
	names := map[Status]string{
		StatusOK: "SENTI_OK", ErrInvalidArgument: "SENTI_ERR_INVALID_ARGUMENT",
		ErrNullPointer: "SENTI_ERR_NULL_POINTER", ErrInvalidHandle: "SENTI_ERR_INVALID_HANDLE",
		ErrInvalidUTF8: "SENTI_ERR_INVALID_UTF8", ErrConfig: "SENTI_ERR_CONFIG", ErrIO: "SENTI_ERR_IO",
		ErrData: "SENTI_ERR_DATA", ErrModelFile: "SENTI_ERR_MODEL_FILE", ErrCancelled: "SENTI_ERR_CANCELLED",
		ErrDiverged: "SENTI_ERR_DIVERGED", ErrResourceLimit: "SENTI_ERR_RESOURCE_LIMIT",
		ErrBufferTooSmall: "SENTI_ERR_BUFFER_TOO_SMALL", ErrInternal: "SENTI_ERR_INTERNAL",
		Status(999): "SENTI_UNKNOWN_STATUS",
	}
	for code, name := range names {
		if code.String() != name {
			t.Errorf("Status(%d).String() = %q, want %q", int32(code), code.String(), name)
		}
	}
	e := &Error{Code: ErrIO, Message: "cannot open x"}
	if e.Error() != "SENTI_ERR_IO: cannot open x" {
		t.Errorf("Error() = %q", e.Error())
	}
	var err error = e
	if !errors.Is(err, ErrIO) || errors.Is(err, ErrConfig) {
		t.Error("errors.Is against a Status")
	}
}

func TestTrainErrors(t *testing.T) {
	cases := []struct {
		what, params string
		code         Status
		needle       string
	}{
		{"bad json", `{"epochs": `, ErrConfig, "training parameters"},
		{"unknown field", `{"epoch": 2}`, ErrConfig, "unknown field `epoch`"},
		{"wrong type", `{"epochs": "two"}`, ErrConfig, "epochs"},
		{"out of range", `{"hidden_size": 0}`, ErrConfig, "hidden_size"},
		{"missing data", `{"data_path": "/nonexistent/reviews.json"}`, ErrIO, "/nonexistent/reviews.json"},
		{"invalid utf-8", "{\"x\xff\": 1}", ErrInvalidUTF8, "UTF-8"},
		{"nul byte", "{}\x00{\"epochs\": 1}", ErrInvalidArgument, "NUL"},
	}
	for _, c := range cases {
		m, err := Train(c.params, nil)
		if m != nil {
			t.Errorf("%s: got a model", c.what)
			m.Close()
		}
		wantCode(t, c.what, err, c.code, c.needle)
	}
}

func TestTrainProgress(t *testing.T) {
	trained(t)
	var batches, epochs, pretrains int
	var last Progress
	for _, p := range trainLog {
		switch p.Phase {
		case PhasePretrain:
			pretrains++
			if batches > 0 || p.Epoch != 1 || p.Epochs != 1 || p.Batch < 1 || p.Batch > p.Batches || !math.IsNaN(p.Loss) {
				t.Errorf("word-vector report out of place: %+v", p)
			}
		case PhaseBatch:
			batches++
			if !math.IsNaN(p.ValLoss) || !math.IsNaN(p.ValAccuracy) {
				t.Errorf("batch report with validation figures: %+v", p)
			}
			if p.Batch < 1 || p.Batch > p.Batches || p.Epochs != 2 {
				t.Errorf("batch report out of range: %+v", p)
			}
		case PhaseEpoch:
			epochs++
			last = p
			t.Logf("epoch %d/%d: loss %.4f acc %.4f val_loss %.4f val_acc %.4f",
				p.Epoch, p.Epochs, p.Loss, p.Accuracy, p.ValLoss, p.ValAccuracy)
		default:
			t.Errorf("unknown phase %d", p.Phase)
		}
	}
	if epochs != 2 || batches < 2 || pretrains < 1 {
		t.Errorf("progress: %d epoch reports, %d batch reports, %d word-vector reports", epochs, batches, pretrains)
	}
	if last.Epoch != 2 || last.Epochs != 2 || math.IsNaN(last.ValAccuracy) || last.ValAccuracy <= 0 {
		t.Errorf("last epoch report: %+v", last)
	}
}

func cancelParams(t *testing.T) string {
	return params(t, map[string]any{"train_limit": 600, "epochs": 1, "max_len": 64})
}

func TestTrainCancel(t *testing.T) {
	needData(t)
	calls := 0
	m, err := Train(cancelParams(t), func(p Progress) bool {
		calls++
		return calls < 3
	})
	if m != nil {
		t.Error("cancelled training returned a model")
		m.Close()
	}
	wantCode(t, "cancel", err, ErrCancelled, "cancel")
	if calls != 3 {
		t.Errorf("progress called %d times after cancelling at the 3rd", calls)
	}
}

type callbackPanic struct{ n int }

func TestTrainCallbackPanic(t *testing.T) {
	needData(t)
	calls := 0
	var got any
	func() {
		defer func() { got = recover() }()
		m, err := Train(cancelParams(t), func(p Progress) bool {
			calls++
			if calls == 2 {
				panic(callbackPanic{42})
			}
			return true
		})
		t.Errorf("Train returned (%v, %v) instead of panicking", m, err)
	}()
	if got != (callbackPanic{42}) {
		t.Errorf("recovered %#v, want the callback's panic value", got)
	}
	if calls != 2 {
		t.Errorf("progress called %d times; training should stop at the panic", calls)
	}
}

func TestPredict(t *testing.T) {
	m := trained(t)
	for _, text := range reviews {
		p, err := m.Predict(text)
		if err != nil {
			t.Fatalf("Predict(%q): %v", text, err)
		}
		if p < 0 || p > 1 || math.IsNaN(float64(p)) {
			t.Errorf("Predict(%q) = %v", text, p)
		}
	}
	// A NUL byte separates words like a space does.
	a, _ := m.Predict("great\x00movie")
	b, _ := m.Predict("great movie")
	if a != b {
		t.Errorf("NUL-separated %v vs space-separated %v", a, b)
	}
	// Invalid UTF-8 is an error, never a crash or a silent replacement.
	_, err := m.Predict("ok \xc3\x28 bad")
	wantCode(t, "invalid utf-8", err, ErrInvalidUTF8, "UTF-8")
	_, err = m.PredictBatch([]string{"fine", "ok \xc3\x28 bad"})
	wantCode(t, "invalid utf-8 in batch", err, ErrInvalidUTF8, "UTF-8")
	_, err = m.PredictBatch(nil)
	wantCode(t, "empty batch", err, ErrInvalidArgument, "at least one")
}

func TestPredictBatchMatchesPredict(t *testing.T) {
	m := trained(t)
	texts := testTexts(t, 200)
	batch, err := m.PredictBatch(texts)
	if err != nil {
		t.Fatal(err)
	}
	if len(batch) != len(texts) {
		t.Fatalf("%d results for %d texts", len(batch), len(texts))
	}
	for i, text := range texts {
		p, err := m.Predict(text)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(float64(p-batch[i])) > 1e-5 {
			t.Errorf("text %d: batch %v, single %v", i, batch[i], p)
		}
	}
	// A batch of one and a batch of only empty texts.
	if one, err := m.PredictBatch(texts[:1]); err != nil || math.Abs(float64(one[0]-batch[0])) > 1e-5 {
		t.Errorf("batch of one: %v, %v", one, err)
	}
	if empty, err := m.PredictBatch([]string{"", ""}); err != nil || empty[0] != empty[1] {
		t.Errorf("batch of empty texts: %v, %v", empty, err)
	}
}

func TestSetPredictionPrecision(t *testing.T) {
	m := trained(t)
	base, err := m.ScoresBatch(reviews)
	if err != nil {
		t.Fatal(err)
	}
	defer m.SetPredictionPrecision("f32")
	for _, precision := range []string{"f16", "i16"} {
		if err := m.SetPredictionPrecision(precision); err != nil {
			t.Fatal(err)
		}
		half, err := m.ScoresBatch(reviews)
		if err != nil {
			t.Fatal(err)
		}
		for i := range half {
			if len(half[i]) != 2 {
				t.Fatalf("%s: row %d has %d scores", precision, i, len(half[i]))
			}
			for k, s := range half[i] {
				if s < 0 || s > 1 || math.IsNaN(float64(s)) || math.Abs(float64(s-base[i][k])) > 1e-2 {
					t.Errorf("%s: row %d %v, f32 %v", precision, i, half[i], base[i])
					break
				}
			}
			if sum := half[i][0] + half[i][1]; math.Abs(float64(sum-1)) > 1e-5 {
				t.Errorf("%s: row %d sums to %v", precision, i, sum)
			}
		}
	}
	if err := m.SetPredictionPrecision("f32"); err != nil {
		t.Fatal(err)
	}
	check := func(what string) {
		t.Helper()
		got, err := m.ScoresBatch(reviews)
		if err != nil {
			t.Fatal(err)
		}
		for i := range got {
			if !slices.Equal(got[i], base[i]) {
				t.Fatalf("%s: row %d %v, first f32 %v", what, i, got[i], base[i])
			}
		}
	}
	check("back to f32")
	wantCode(t, "f64 precision", m.SetPredictionPrecision("f64"), ErrInvalidArgument, "f64")
	wantCode(t, "empty precision", m.SetPredictionPrecision(""), ErrInvalidArgument, "precision")
	wantCode(t, "precision with a NUL", m.SetPredictionPrecision("f16\x00"), ErrInvalidArgument, "NUL")
	check("after refused precisions")
}

func TestConcurrentPredict(t *testing.T) {
	m := trained(t)
	texts := testTexts(t, 100)
	want := make([]float32, len(texts))
	for i, text := range texts {
		p, err := m.Predict(text)
		if err != nil {
			t.Fatal(err)
		}
		want[i] = p
	}
	const goroutines, rounds = 32, 3
	var wg sync.WaitGroup
	errs := make(chan error, goroutines)
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := 0; r < rounds; r++ {
				for k := range texts {
					i := (k + g*7) % len(texts) // each goroutine starts elsewhere
					p, err := m.Predict(texts[i])
					if err != nil {
						errs <- err
						return
					}
					if p != want[i] {
						errs <- fmt.Errorf("goroutine %d, text %d: %v, want %v", g, i, p, want[i])
						return
					}
				}
				if g%4 == 0 { // some goroutines mix in batches
					batch, err := m.PredictBatch(texts)
					if err != nil {
						errs <- err
						return
					}
					for i := range batch {
						if math.Abs(float64(batch[i]-want[i])) > 1e-5 {
							errs <- fmt.Errorf("goroutine %d, batch text %d: %v, want %v", g, i, batch[i], want[i])
							return
						}
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestEvaluate(t *testing.T) {
	m := trained(t)
	spec, _ := json.Marshal(map[string]any{"path": dataPath, "split": "test", "limit": 500})
	ev, err := m.Evaluate(string(spec))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("held-out (500 test reviews): accuracy %.4f loss %.4f", ev.Accuracy, ev.Loss)
	if ev.Count != 500 || ev.TruePositive+ev.TrueNegative+ev.FalsePositive+ev.FalseNegative != 500 {
		t.Errorf("counts: %+v", ev)
	}
	if acc := float64(ev.TruePositive+ev.TrueNegative) / 500; math.Abs(acc-ev.Accuracy) > 1e-9 {
		t.Errorf("accuracy %v vs confusion counts %v", ev.Accuracy, acc)
	}
	// The model is deliberately tiny (near chance); learning is tested by the Rust and C suites.
	if ev.Accuracy < 0 || ev.Accuracy > 1 || math.IsNaN(ev.Loss) || ev.Loss <= 0 {
		t.Errorf("accuracy %v, loss %v", ev.Accuracy, ev.Loss)
	}

	_, err = m.Evaluate(`{"path": 3}`)
	wantCode(t, "evaluate bad json", err, ErrConfig, "data specification")
	_, err = m.Evaluate(`{"path": "x.jsonl", "lim": 3}`)
	wantCode(t, "evaluate unknown field", err, ErrConfig, "unknown field")
	_, err = m.Evaluate(`{"path": "/nonexistent/reviews.json"}`)
	wantCode(t, "evaluate missing file", err, ErrIO, "/nonexistent/reviews.json")

	// The default model has a wide n-gram path: each part can be scored alone.
	for _, part := range []string{"recurrent", "wide", "model"} {
		spec, _ := json.Marshal(map[string]any{"path": dataPath, "split": "test", "limit": 500, "part": part})
		pe, err := m.Evaluate(string(spec))
		if err != nil || pe.Count != 500 {
			t.Errorf("evaluate part %s: %+v, %v", part, pe, err)
		}
		if part == "model" && pe != ev {
			t.Errorf("part \"model\" %+v differs from the default evaluation %+v", pe, ev)
		}
	}
	_, err = m.Evaluate(`{"path": "x.jsonl", "part": "head"}`)
	wantCode(t, "evaluate unknown part", err, ErrConfig, "unknown variant")

	texts := reviews[:2]
	ev, err = m.EvaluateTexts(texts, []uint8{1, 0})
	if err != nil || ev.Count != 2 {
		t.Errorf("EvaluateTexts: %+v, %v", ev, err)
	}
	_, err = m.EvaluateTexts(texts, []uint8{1, 7})
	wantCode(t, "bad label", err, ErrInvalidArgument, "labels[1]")
	_, err = m.EvaluateTexts(texts, []uint8{1})
	wantCode(t, "label count", err, ErrInvalidArgument, "length")
}

func TestInfo(t *testing.T) {
	m := trained(t)
	info, err := m.Info()
	if err != nil {
		t.Fatal(err)
	}
	if !json.Valid([]byte(info)) || !strings.Contains(info, `"cell":"gru"`) {
		t.Errorf("Info() = %.300s", info)
	}
}

func TestSaveLoad(t *testing.T) {
	m := trained(t)
	path := saved(t)
	loaded, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	defer loaded.Close()
	texts := testTexts(t, 50)
	want, err := m.PredictBatch(texts)
	if err != nil {
		t.Fatal(err)
	}
	got, err := loaded.PredictBatch(texts)
	if err != nil {
		t.Fatal(err)
	}
	for i := range texts {
		if got[i] != want[i] {
			t.Errorf("text %d: loaded model %v, original %v", i, got[i], want[i])
		}
	}
	info, _ := loaded.Info()
	if !strings.Contains(info, `"cell":"gru"`) {
		t.Errorf("loaded Info() = %.300s", info)
	}

	err = m.Save("/nonexistent/dir/m.safetensors")
	wantCode(t, "save to missing dir", err, ErrIO, "/nonexistent/dir")
	err = m.Save("x\x00y")
	wantCode(t, "save to path with NUL", err, ErrInvalidArgument, "NUL")
}

func TestLoadErrors(t *testing.T) {
	bytes, err := os.ReadFile(saved(t))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	truncated := filepath.Join(dir, "truncated.safetensors")
	text := filepath.Join(dir, "text.safetensors")
	if err := os.WriteFile(truncated, bytes[:len(bytes)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(text, []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		what, path string
		code       Status
		needle     string
	}{
		{"missing file", "/nonexistent/model.safetensors", ErrIO, "/nonexistent/model.safetensors"},
		{"truncated file", truncated, ErrModelFile, "truncated.safetensors"},
		{"text file", text, ErrModelFile, "text.safetensors"},
		{"path with NUL", "model\x00.safetensors", ErrInvalidArgument, "NUL"},
	}
	for _, c := range cases {
		m, err := Load(c.path)
		if m != nil {
			t.Errorf("%s: got a model", c.what)
			m.Close()
		}
		wantCode(t, c.what, err, c.code, c.needle)
	}
}

func TestClose(t *testing.T) {
	m, err := Load(saved(t))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Predict("fine"); err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := m.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	_, err = m.Predict("fine")
	wantCode(t, "Predict after Close", err, ErrInvalidHandle, "closed")
	_, err = m.PredictBatch([]string{"fine"})
	wantCode(t, "PredictBatch after Close", err, ErrInvalidHandle, "closed")
	_, err = m.Evaluate(`{"path": "x.jsonl"}`)
	wantCode(t, "Evaluate after Close", err, ErrInvalidHandle, "closed")
	_, err = m.EvaluateTexts([]string{"fine"}, []uint8{1})
	wantCode(t, "EvaluateTexts after Close", err, ErrInvalidHandle, "closed")
	_, err = m.Info()
	wantCode(t, "Info after Close", err, ErrInvalidHandle, "closed")
	err = m.Save(filepath.Join(t.TempDir(), "m.safetensors"))
	wantCode(t, "Save after Close", err, ErrInvalidHandle, "closed")
	_, err = m.Labels()
	wantCode(t, "Labels after Close", err, ErrInvalidHandle, "closed")
	_, err = m.Scores("fine")
	wantCode(t, "Scores after Close", err, ErrInvalidHandle, "closed")
	_, err = m.ScoresBatch([]string{"fine"})
	wantCode(t, "ScoresBatch after Close", err, ErrInvalidHandle, "closed")
	_, err = m.PredictLabel("fine")
	wantCode(t, "PredictLabel after Close", err, ErrInvalidHandle, "closed")
	_, err = m.EvaluateReport(`{"path": "x.jsonl"}`)
	wantCode(t, "EvaluateReport after Close", err, ErrInvalidHandle, "closed")
	_, err = m.EvaluateExamples([]Example{{"fine", "positive"}})
	wantCode(t, "EvaluateExamples after Close", err, ErrInvalidHandle, "closed")
}

func TestCloseWhilePredicting(t *testing.T) {
	m, err := Load(saved(t))
	if err != nil {
		t.Fatal(err)
	}
	texts := testTexts(t, 20)
	var wg sync.WaitGroup
	started := make(chan struct{}, 8)
	errs := make(chan error, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				var err error
				if g%2 == 0 {
					_, err = m.Predict(texts[i%len(texts)])
				} else {
					_, err = m.PredictBatch(texts)
				}
				if i == 0 {
					started <- struct{}{}
				}
				if err != nil {
					var e *Error
					if !errors.As(err, &e) || e.Code != ErrInvalidHandle {
						errs <- err
					}
					return
				}
			}
		}()
	}
	for g := 0; g < 8; g++ {
		<-started
	}
	if err := m.Close(); err != nil {
		t.Error(err)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("a call racing Close: %v", err)
	}
}

func TestFinalizer(t *testing.T) {
	path := saved(t)
	before := finalizedModels.Load()
	// Models dropped without Close; rawPredict keeps only the C handle, not the Model.
	var rawPredict func(string) (float32, error)
	func() {
		for i := 0; i < 3; i++ {
			m, err := Load(path)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := m.Predict("fine"); err != nil {
				t.Fatal(err)
			}
			h := m.h
			rawPredict = func(text string) (float32, error) { return predict(h, text) }
		}
	}()
	if _, err := rawPredict("fine"); err != nil {
		t.Fatalf("the last model's handle before GC: %v", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for finalizedModels.Load() < before+3 && time.Now().Before(deadline) {
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
	if n := finalizedModels.Load() - before; n < 3 {
		t.Fatalf("%d of 3 dropped models finalized", n)
	}
	_, err := rawPredict("fine")
	wantCode(t, "handle of a finalized model", err, ErrInvalidHandle, "freed")
}
