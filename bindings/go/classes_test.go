// SPDX-License-Identifier: MIT OR Apache-2.0

package senti

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
)

// The K-label tests train tiny models in memory on synthetic texts of three topics with
// distinct words; they need no data files.

var topicWords = map[string][]string{
	"sports":  {"goal", "striker", "match", "team", "league", "coach", "referee", "stadium", "penalty", "score"},
	"cooking": {"recipe", "oven", "flour", "sugar", "bake", "garlic", "simmer", "butter", "salad", "spice"},
	"space":   {"rocket", "orbit", "planet", "galaxy", "astronaut", "telescope", "comet", "launch", "moon", "nasa"},
}

var fillerWords = []string{"the", "a", "and", "of", "today", "really", "we", "saw", "about", "new", "some", "it"}

// topicExamples returns n examples per topic: 4 to 7 topic words among as many fillers.
func topicExamples(seed int64, n int) []Example {
	rng := rand.New(rand.NewSource(seed))
	var out []Example
	for i := 0; i < n; i++ {
		for _, label := range []string{"sports", "cooking", "space"} {
			words := topicWords[label]
			var text []string
			for k := 4 + rng.Intn(4); k > 0; k-- {
				text = append(text, words[rng.Intn(len(words))], fillerWords[rng.Intn(len(fillerWords))])
			}
			rng.Shuffle(len(text), func(a, b int) { text[a], text[b] = text[b], text[a] })
			out = append(out, Example{Text: strings.Join(text, " "), Label: label})
		}
	}
	return out
}

// tinyParams are the parameters of every K-label test model: a few seconds on one thread.
func tinyParams() Params {
	return Params{
		Epochs: 3, EmbeddingDim: 16, HiddenSize: 16, VocabSize: 500, MaxLen: 32, Threads: 1,
		EmbeddingPretrainEpochs: Int(0), Seed: Int(7),
	}
}

var clearTexts = map[string]string{
	"sports":  "the striker scored a late penalty and the team won the league match",
	"cooking": "bake the flour and sugar in the oven then add butter",
	"space":   "the rocket launch put the astronaut in orbit around the moon",
}

var (
	topicOnce  sync.Once
	topicModel *Model
	topicErr   error
)

// topics returns the shared 3-label model, trained on first use with inferred labels and a
// held-out validation slice.
func topics(t *testing.T) *Model {
	t.Helper()
	topicOnce.Do(func() {
		topicModel, topicErr = TrainExamples(tinyParams(), topicExamples(1, 100), nil, nil)
	})
	if topicErr != nil {
		t.Fatalf("training the 3-label model: %v", topicErr)
	}
	return topicModel
}

func checkScores(t *testing.T, what string, scores []float32, k int) {
	t.Helper()
	if len(scores) != k {
		t.Fatalf("%s: %d scores, want %d", what, len(scores), k)
	}
	var sum float64
	for _, s := range scores {
		if s < 0 || s > 1 || math.IsNaN(float64(s)) {
			t.Errorf("%s: score %v", what, s)
		}
		sum += float64(s)
	}
	if math.Abs(sum-1) > 1e-4 {
		t.Errorf("%s: scores %v sum to %v", what, scores, sum)
	}
}

func TestTrainExamples(t *testing.T) {
	m := topics(t)
	labels, err := m.Labels()
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"cooking", "space", "sports"}; !slices.Equal(labels, want) {
		t.Fatalf("Labels() = %q, want %q (byte order)", labels, want)
	}
	if copied, _ := m.Labels(); copied != nil {
		copied[0] = "changed" // a copy: the model's labels stay
		if again, _ := m.Labels(); again[0] != "cooking" {
			t.Errorf("Labels() shares its slice: %q", again)
		}
	}
	for want, text := range clearTexts {
		scores, err := m.Scores(text)
		if err != nil {
			t.Fatal(err)
		}
		checkScores(t, text, scores, 3)
		p, err := m.PredictLabel(text)
		if err != nil {
			t.Fatal(err)
		}
		if p.Label != want || p.Index < 0 || p.Index >= 3 || labels[p.Index] != want {
			t.Errorf("PredictLabel(%q) = %+v, want %s (scores %v)", text, p, want, scores)
		}
		best := 0
		for i := range scores {
			if scores[i] > scores[best] {
				best = i
			}
		}
		if p.Index != best || math.Abs(float64(p.Score-scores[best])) > 1e-5 {
			t.Errorf("PredictLabel(%q) = %+v, scores %v", text, p, scores)
		}
	}
	// Empty text, Unicode, a NUL byte: scores still sum to 1; invalid UTF-8 is an error.
	for _, text := range []string{"", "Ünïcödé 😀", "goal\x00oven"} {
		scores, err := m.Scores(text)
		if err != nil {
			t.Fatalf("Scores(%q): %v", text, err)
		}
		checkScores(t, fmt.Sprintf("%q", text), scores, 3)
	}
	_, err = m.Scores("ok \xc3\x28 bad")
	wantCode(t, "Scores invalid utf-8", err, ErrInvalidUTF8, "UTF-8")
	_, err = m.PredictLabel("ok \xc3\x28 bad")
	wantCode(t, "PredictLabel invalid utf-8", err, ErrInvalidUTF8, "UTF-8")

	// The two-label calls refuse three labels.
	_, err = m.Predict(clearTexts["space"])
	wantCode(t, "Predict on 3 labels", err, ErrInvalidArgument, "")
	_, err = m.PredictBatch([]string{clearTexts["space"]})
	wantCode(t, "PredictBatch on 3 labels", err, ErrInvalidArgument, "")

	var info struct {
		Labels []string `json:"labels"`
	}
	if s, err := m.Info(); err != nil || json.Unmarshal([]byte(s), &info) != nil || !slices.Equal(info.Labels, []string{"cooking", "space", "sports"}) {
		t.Errorf("Info() labels %q (%v)", info.Labels, err)
	}
}

func TestScoresBatch(t *testing.T) {
	m := topics(t)
	texts := []string{clearTexts["sports"], "", clearTexts["cooking"], "nothing known here", clearTexts["space"]}
	batch, err := m.ScoresBatch(texts)
	if err != nil {
		t.Fatal(err)
	}
	if len(batch) != len(texts) {
		t.Fatalf("%d rows for %d texts", len(batch), len(texts))
	}
	for i, text := range texts {
		one, err := m.Scores(text)
		if err != nil {
			t.Fatal(err)
		}
		checkScores(t, fmt.Sprintf("batch row %d", i), batch[i], 3)
		for k := range one {
			if math.Abs(float64(one[k]-batch[i][k])) > 1e-5 {
				t.Errorf("text %d: batch %v, single %v", i, batch[i], one)
				break
			}
		}
	}
	batch[0] = append(batch[0], 9) // rows are capped: appending must not overwrite row 1
	if batch[1][0] == 9 {
		t.Error("appending to a row overwrote the next one")
	}
	_, err = m.ScoresBatch(nil)
	wantCode(t, "empty ScoresBatch", err, ErrInvalidArgument, "at least one")
	_, err = m.ScoresBatch([]string{"fine", "ok \xc3\x28 bad"})
	wantCode(t, "ScoresBatch invalid utf-8", err, ErrInvalidUTF8, "UTF-8")
}

func TestSetPredictionThreads(t *testing.T) {
	m := topics(t)
	var texts []string
	for i := 0; i < 200; i++ {
		texts = append(texts, fmt.Sprintf("%s %d", clearTexts[[]string{"sports", "cooking", "space"}[i%3]], i))
	}
	base, err := m.ScoresBatch(texts)
	if err != nil {
		t.Fatal(err)
	}
	defer m.SetPredictionThreads(0)
	for _, threads := range []int{1, 3} {
		if err := m.SetPredictionThreads(threads); err != nil {
			t.Fatal(err)
		}
		got, err := m.ScoresBatch(texts)
		if err != nil {
			t.Fatal(err)
		}
		for i := range got {
			if !slices.Equal(got[i], base[i]) {
				t.Fatalf("%d threads: row %d %v, default %v", threads, i, got[i], base[i])
			}
		}
	}
	wantCode(t, "5000 prediction threads", m.SetPredictionThreads(5000), ErrInvalidArgument, "between 0 and 1024")
	wantCode(t, "negative prediction threads", m.SetPredictionThreads(-1), ErrInvalidArgument, "between 0 and 1024")
}

func checkReport(t *testing.T, what string, r *Report, count int, labels []string) {
	t.Helper()
	if r.Count != count {
		t.Errorf("%s: count %d, want %d", what, r.Count, count)
	}
	if !slices.Equal(r.Labels, labels) {
		t.Errorf("%s: labels %q, want %q", what, r.Labels, labels)
	}
	if len(r.Confusion) != len(labels) || len(r.PerClass) != len(labels) {
		t.Fatalf("%s: %d confusion rows, %d classes for %d labels", what, len(r.Confusion), len(r.PerClass), len(labels))
	}
	var total, correct uint64
	for i, row := range r.Confusion {
		if len(row) != len(labels) {
			t.Fatalf("%s: confusion row %d has %d entries", what, i, len(row))
		}
		var support uint64
		for j, n := range row {
			total += n
			support += n
			if i == j {
				correct += n
			}
		}
		c := r.PerClass[i]
		if c.Label != labels[i] || uint64(c.Support) != support {
			t.Errorf("%s: class %d %+v, want label %s support %d", what, i, c, labels[i], support)
		}
		for _, x := range []float64{c.Precision, c.Recall, c.F1} {
			if x < 0 || x > 1 || math.IsNaN(x) {
				t.Errorf("%s: class %+v", what, c)
			}
		}
	}
	if total != uint64(r.Count) {
		t.Errorf("%s: confusion sums to %d, count %d", what, total, r.Count)
	}
	if acc := float64(correct) / float64(total); math.Abs(acc-r.Accuracy) > 1e-9 {
		t.Errorf("%s: accuracy %v, confusion diagonal %v", what, r.Accuracy, acc)
	}
	if r.MacroF1 < 0 || r.MacroF1 > 1 || math.IsNaN(r.Loss) || r.Loss < 0 {
		t.Errorf("%s: macro F1 %v, loss %v", what, r.MacroF1, r.Loss)
	}
}

func TestEvaluateExamples(t *testing.T) {
	m := topics(t)
	test := topicExamples(99, 20)
	r, err := m.EvaluateExamples(test)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("3-label model on %d held-out texts: accuracy %.3f, macro F1 %.3f, loss %.3f", r.Count, r.Accuracy, r.MacroF1, r.Loss)
	checkReport(t, "EvaluateExamples", r, len(test), []string{"cooking", "space", "sports"})
	if r.Accuracy < 0.9 {
		t.Errorf("accuracy %.3f on texts of distinct topic words: %+v", r.Accuracy, r)
	}
	// A subset of the labels, in any order, still reports every class.
	r, err = m.EvaluateExamples([]Example{{clearTexts["space"], "space"}})
	if err != nil {
		t.Fatal(err)
	}
	checkReport(t, "one example", r, 1, []string{"cooking", "space", "sports"})

	_, err = m.EvaluateExamples(nil)
	wantCode(t, "EvaluateExamples empty", err, ErrInvalidArgument, "at least one")
	_, err = m.EvaluateExamples([]Example{{"goal", "sports"}, {"oven", "baking"}})
	var e *Error
	if !errors.As(err, &e) || !strings.Contains(e.Message, `examples: labels[1] is "baking"`) {
		t.Errorf("unknown label: %v", err)
	}
	_, err = m.EvaluateExamples([]Example{{"goal", "spo\x00rts"}})
	wantCode(t, "label with NUL", err, ErrInvalidArgument, "NUL")
}

func TestTrainExamplesWithLabels(t *testing.T) {
	order := []string{"sports", "cooking", "space", "weather"} // "weather" has no examples
	train := topicExamples(2, 60)
	validation := topicExamples(3, 10)
	p := tinyParams()
	p.WideNgrams = Int(0) // a pure recurrent model, through an explicit validation set
	p.Epochs = 2
	var epochs int
	m, err := TrainExamplesWithLabels(p, order, train, validation, func(pr Progress) bool {
		if pr.Phase == PhaseEpoch {
			epochs++
			if math.IsNaN(pr.ValAccuracy) {
				t.Errorf("epoch report without validation: %+v", pr)
			}
		}
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if epochs != 2 {
		t.Errorf("%d epoch reports, want 2", epochs)
	}
	labels, err := m.Labels()
	if err != nil || !slices.Equal(labels, order) {
		t.Fatalf("Labels() = %q, %v; want %q", labels, err, order)
	}
	scores, err := m.Scores(clearTexts["space"])
	if err != nil {
		t.Fatal(err)
	}
	checkScores(t, "4 labels", scores, 4)
	r, err := m.EvaluateExamples(validation)
	if err != nil {
		t.Fatal(err)
	}
	checkReport(t, "4 labels", r, len(validation), order)
	// Errors of the in-memory path.
	_, err = TrainExamplesWithLabels(p, nil, train, nil, nil)
	wantCode(t, "no labels", err, ErrInvalidArgument, "label")
	_, err = TrainExamplesWithLabels(p, []string{"a", "b\x00"}, train, nil, nil)
	wantCode(t, "label name with NUL", err, ErrInvalidArgument, "NUL")
	_, err = TrainExamples(p, []Example{{"goal", "sports"}, {"oven", "sports"}, {"moon", "sports"}}, nil, nil)
	wantCode(t, "one class", err, ErrData, "")
	_, err = TrainExamples(p, train, []Example{{"goal", "sports"}, {"umbrella", "weather"}}, nil)
	wantCode(t, "validation label unknown to train", err, ErrData, "example")
	_, err = TrainExamples(p, nil, nil, nil)
	if err == nil {
		t.Error("training on no examples: no error")
	}
}

func TestParamsJSON(t *testing.T) {
	s, err := Params{}.JSON()
	if err != nil {
		t.Fatal(err)
	}
	var defaults map[string]any
	if err := json.Unmarshal([]byte(s), &defaults); err != nil {
		t.Fatalf("Params{}.JSON() = %s: %v", s, err)
	}
	// Params has a field for every library parameter and no other.
	tags := map[string]bool{}
	typ := reflect.TypeOf(Params{})
	for i := 0; i < typ.NumField(); i++ {
		tag := typ.Field(i).Tag.Get("senti")
		if tag == "" || tags[tag] {
			t.Errorf("field %s: tag %q missing or repeated", typ.Field(i).Name, tag)
		}
		tags[tag] = true
	}
	for key := range defaults {
		if !tags[key] {
			t.Errorf("the library's parameter %q has no Params field", key)
		}
	}
	for tag := range tags {
		if _, ok := defaults[tag]; !ok && tag != "train_limit" && tag != "embedding_pretrain_epochs" {
			t.Errorf("Params field %q is not a library parameter (%s)", tag, s)
		}
	}
	if defaults["cell"] != "lstm" || defaults["bidirectional"] != true || defaults["epochs"] != 3.0 {
		t.Errorf("defaults: %s", s)
	}

	// Set fields reach the library, zeros of pointer fields included.
	p := Params{
		DataPath: `a "b" \c d.jsonl`, Cell: "gru", Epochs: 2, LearningRate: 0.01, Bidirectional: Bool(false),
		RestoreBest: Bool(false), WideNgrams: Int(0), EmbeddingPretrainEpochs: Int(0), Dropout: Float(0),
		EmbeddingDropout: Float(0), ClipNorm: Float(0), Seed: Int(0), ValidationFraction: Float(0),
		TrainLimit: Int(50), WideL2: Float(0),
	}
	s, err = p.JSON()
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(s), &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"data_path": `a "b" \c d.jsonl`, "cell": "gru", "epochs": 2.0, "learning_rate": 0.01, "bidirectional": false,
		"restore_best": false, "wide_ngrams": 0.0, "embedding_pretrain_epochs": 0.0, "dropout": 0.0,
		"embedding_dropout": 0.0, "clip_norm": 0.0, "seed": 0.0, "validation_fraction": 0.0,
		"train_limit": 50.0, "wide_l2": 0.0, "hidden_size": 128.0,
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %v, want %v (%s)", k, got[k], v, s)
		}
	}
}

// Layers: Int(0) reaches the library as 0 (a value, not the default) and trains a model that is
// its wide path alone, here with three labels.
func TestTheWidePathAloneFromGo(t *testing.T) {
	p := Params{Layers: Int(0)}
	s, err := p.JSON()
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(s), &got); err != nil || got["layers"] != 0.0 {
		t.Fatalf("layers: %v (%v): %s", got["layers"], err, s)
	}
	m, err := TrainExamples(p, topicExamples(2, 60), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	for label, text := range clearTexts {
		pred, err := m.PredictLabel(text)
		if err != nil || pred.Label != label {
			t.Errorf("%q: %+v (%v), want %s", text, pred, err, label)
		}
	}
	e, err := m.Explain(clearTexts["space"])
	if err != nil || e.Method != "wide_path" || e.Steps != 0 {
		t.Errorf("explain: %+v (%v)", e, err)
	}
	_, err = TrainExamples(Params{Layers: Int(0), WideNgrams: Int(0)}, topicExamples(1, 5), nil, nil)
	wantCode(t, "layers 0 without a wide path", err, ErrConfig, "layers 0")
}

func TestParamsErrors(t *testing.T) {
	cases := []struct {
		what   string
		p      Params
		code   Status
		needle string
	}{
		{"negative size", Params{EmbeddingDim: -1}, ErrConfig, "embedding_dim"},
		{"out of range through a pointer", Params{WideNgrams: Int(9)}, ErrConfig, "wide_ngrams"},
		{"unknown cell", Params{Cell: "rnn"}, ErrConfig, "cell"},
		{"unknown pooling", Params{Pooling: "sum"}, ErrConfig, "pooling"},
		{"fraction out of range", Params{ValidationFraction: Float(2)}, ErrConfig, "validation_fraction"},
		{"non-finite rate", Params{LearningRate: math.Inf(1)}, ErrConfig, "learning_rate"},
		{"NUL in a string", Params{Cell: "gr\x00u"}, ErrInvalidArgument, "NUL"},
	}
	for _, c := range cases {
		_, err := c.p.JSON()
		wantCode(t, c.what+" (JSON)", err, c.code, c.needle)
		m, err := TrainExamples(c.p, topicExamples(1, 5), nil, nil)
		if m != nil {
			t.Errorf("%s: got a model", c.what)
			m.Close()
		}
		wantCode(t, c.what+" (TrainExamples)", err, c.code, c.needle)
		m, err = TrainWithParams(c.p, nil)
		if m != nil {
			t.Errorf("%s: got a model", c.what)
			m.Close()
		}
		wantCode(t, c.what+" (TrainWithParams)", err, c.code, c.needle)
	}
	_, err := TrainWithParams(Params{DataPath: "/nonexistent/reviews.json"}, nil)
	wantCode(t, "missing data", err, ErrIO, "/nonexistent/reviews.json")
}

func TestTrainExamplesCallbackPanic(t *testing.T) {
	calls := 0
	var got any
	func() {
		defer func() { got = recover() }()
		m, err := TrainExamples(tinyParams(), topicExamples(4, 40), nil, func(p Progress) bool {
			calls++
			if calls == 2 {
				panic(callbackPanic{7})
			}
			return true
		})
		t.Errorf("TrainExamples returned (%v, %v) instead of panicking", m, err)
	}()
	if got != (callbackPanic{7}) {
		t.Errorf("recovered %#v, want the callback's panic value", got)
	}
	if calls != 2 {
		t.Errorf("progress called %d times; training should stop at the panic", calls)
	}

	calls = 0
	m, err := TrainExamples(tinyParams(), topicExamples(4, 40), nil, func(p Progress) bool {
		calls++
		return calls < 2
	})
	if m != nil {
		m.Close()
		t.Error("cancelled training returned a model")
	}
	wantCode(t, "TrainExamples cancel", err, ErrCancelled, "cancel")
}

// TestTrainWithParamsPath trains from a JSONL file in a folder whose name holds a double quote,
// a backslash and a space: the path travels as a typed string, never through JSON text.
func TestTrainWithParamsPath(t *testing.T) {
	dir := filepath.Join(t.TempDir(), `odd "name" \ here`)
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "topics.jsonl")
	examples := topicExamples(5, 40)
	var b strings.Builder
	for _, e := range examples {
		line, _ := json.Marshal(map[string]string{"text": e.Text, "label": e.Label})
		b.Write(line)
		b.WriteByte('\n')
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	p := tinyParams()
	p.DataPath = path
	p.Epochs = 1
	m, err := TrainWithParams(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	labels, err := m.Labels()
	if err != nil || !slices.Equal(labels, []string{"cooking", "space", "sports"}) {
		t.Errorf("Labels() = %q, %v", labels, err)
	}
	spec, _ := json.Marshal(map[string]any{"path": path})
	r, err := m.EvaluateReport(string(spec))
	if err != nil {
		t.Fatal(err)
	}
	checkReport(t, "EvaluateReport", r, len(examples), labels)

	_, err = m.EvaluateReport(`{"path": 3}`)
	wantCode(t, "EvaluateReport bad json", err, ErrConfig, "data specification")
	_, err = m.EvaluateReport(`{"path": "/nonexistent/x.jsonl"}`)
	wantCode(t, "EvaluateReport missing file", err, ErrIO, "/nonexistent/x.jsonl")
	_, err = m.EvaluateReport("{\"path\": \"x\x00\"}")
	wantCode(t, "EvaluateReport NUL", err, ErrInvalidArgument, "NUL")
}

func TestSaveLoadLabels(t *testing.T) {
	m := topics(t)
	path := filepath.Join(t.TempDir(), "topics.safetensors")
	if err := m.Save(path); err != nil {
		t.Fatal(err)
	}
	loaded, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	defer loaded.Close()
	want, _ := m.Labels()
	if got, err := loaded.Labels(); err != nil || !slices.Equal(got, want) {
		t.Errorf("loaded Labels() = %q, %v; want %q", got, err, want)
	}
	for _, text := range clearTexts {
		a, _ := m.Scores(text)
		b, err := loaded.Scores(text)
		if err != nil || !slices.Equal(a, b) {
			t.Errorf("%q: loaded %v (%v), original %v", text, b, err, a)
		}
	}
}

// TestTwoLabelScores checks the K-label calls on the shared IMDB model.
func TestTwoLabelScores(t *testing.T) {
	m := trained(t)
	labels, err := m.Labels()
	if err != nil || !slices.Equal(labels, []string{"negative", "positive"}) {
		t.Fatalf("IMDB Labels() = %q, %v", labels, err)
	}
	for _, text := range reviews {
		scores, err := m.Scores(text)
		if err != nil {
			t.Fatal(err)
		}
		checkScores(t, text, scores, 2)
		p, err := m.Predict(text)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(float64(p-scores[1])) > 1e-5 {
			t.Errorf("%q: Predict %v, Scores %v", text, p, scores)
		}
		pred, err := m.PredictLabel(text)
		if err != nil {
			t.Fatal(err)
		}
		if wantPositive := scores[1] > scores[0]; (pred.Label == "positive") != wantPositive && scores[0] != scores[1] {
			t.Errorf("%q: PredictLabel %+v, scores %v", text, pred, scores)
		}
	}
	spec, _ := json.Marshal(map[string]any{"path": dataPath, "split": "test", "limit": 200})
	r, err := m.EvaluateReport(string(spec))
	if err != nil {
		t.Fatal(err)
	}
	checkReport(t, "IMDB report", r, 200, labels)
	ev, err := m.Evaluate(string(spec))
	if err != nil {
		t.Fatal(err)
	}
	if ev.Count != r.Count || math.Abs(ev.Accuracy-r.Accuracy) > 1e-9 || uint64(ev.TruePositive) != r.Confusion[1][1] || uint64(ev.FalsePositive) != r.Confusion[0][1] {
		t.Errorf("Evaluate %+v vs report %+v", ev, r)
	}
}

func TestConcurrentScores(t *testing.T) {
	m := topics(t)
	texts := []string{clearTexts["sports"], clearTexts["cooking"], clearTexts["space"], "", "goal oven moon"}
	want := make([][]float32, len(texts))
	for i, text := range texts {
		s, err := m.Scores(text)
		if err != nil {
			t.Fatal(err)
		}
		want[i] = s
	}
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := 0; r < 20; r++ {
				i := (g + r) % len(texts)
				var err error
				switch g % 3 {
				case 0:
					var s []float32
					if s, err = m.Scores(texts[i]); err == nil && !slices.Equal(s, want[i]) {
						err = fmt.Errorf("goroutine %d: Scores(%q) = %v, want %v", g, texts[i], s, want[i])
					}
				case 1:
					_, err = m.PredictLabel(texts[i])
				default:
					var rows [][]float32
					if rows, err = m.ScoresBatch(texts); err == nil && len(rows) != len(texts) {
						err = fmt.Errorf("goroutine %d: %d rows", g, len(rows))
					}
				}
				if err != nil {
					errs <- err
					return
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
