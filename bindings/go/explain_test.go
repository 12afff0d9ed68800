// SPDX-License-Identifier: MIT OR Apache-2.0

package senti

import (
	"math"
	"slices"
	"strings"
	"sync"
	"testing"
)

// checkExplanation checks what holds for every explanation of text: the spans index into the
// Go string in text order, ASCII words read back as their (lowercased) token, each token's
// parts add up, and reference + contributions + unexplained is the logit.
func checkExplanation(t *testing.T, what, text string, e *Explanation) {
	t.Helper()
	if e.Method != "integrated_gradients" {
		t.Errorf("%s: method %q", what, e.Method)
	}
	if e.Steps < 1 || e.Steps > MaxExplainSteps {
		t.Errorf("%s: steps %d", what, e.Steps)
	}
	prev := 0
	sum := float64(e.Reference) + float64(e.Unexplained)
	for i, tok := range e.Tokens {
		if tok.Start < prev || tok.Start >= tok.End || tok.End > len(text) {
			t.Errorf("%s: token %d %q: span [%d, %d) in a text of %d bytes after %d", what, i, tok.Token, tok.Start, tok.End, len(text), prev)
			continue
		}
		prev = tok.Start
		if span := text[tok.Start:tok.End]; isASCII(span) && strings.ToLower(span) != tok.Token {
			t.Errorf("%s: token %d: text[%d:%d] = %q, token %q", what, i, tok.Start, tok.End, span, tok.Token)
		}
		if d := tok.Network + tok.Wide - tok.Contribution; math.Abs(float64(d)) > 1e-5 {
			t.Errorf("%s: token %q: network %v + wide %v != contribution %v", what, tok.Token, tok.Network, tok.Wide, tok.Contribution)
		}
		if !tok.ReadByNetwork && tok.Network != 0 {
			t.Errorf("%s: token %q is not read by the network but has network %v", what, tok.Token, tok.Network)
		}
		sum += float64(tok.Contribution)
	}
	if math.Abs(sum-float64(e.Logit)) > 1e-3 {
		t.Errorf("%s: reference %v + contributions + unexplained %v = %v, logit %v", what, e.Reference, e.Unexplained, sum, e.Logit)
	}
}

// recurrent trains a tiny model without the wide path on the topics named, so that its
// explanations come from the network alone, by integrated gradients. (The tiny models with a
// wide path learn to give the network no weight, and their explanations are the wide path's.)
func recurrent(t *testing.T, names ...string) *Model {
	t.Helper()
	var train []Example
	for _, ex := range topicExamples(11, 60) {
		if slices.Contains(names, ex.Label) {
			train = append(train, ex)
		}
	}
	p := tinyParams()
	p.WideNgrams = Int(0)
	m, err := TrainExamples(p, train, nil, nil)
	if err != nil {
		t.Fatalf("training a recurrent model on %q: %v", names, err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// checkNetwork checks that the network, not the wide path, explains e.
func checkNetwork(t *testing.T, what string, e *Explanation) {
	t.Helper()
	var network int
	for _, tok := range e.Tokens {
		if tok.Wide != 0 {
			t.Errorf("%s: token %q has a wide part %v without a wide path", what, tok.Token, tok.Wide)
		}
		if tok.Network != 0 {
			network++
		}
	}
	if network == 0 && len(e.Tokens) > 0 {
		t.Errorf("%s: no token has a network part: %+v", what, e.Tokens)
	}
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// TestExplainTwoLabels: the IMDB model (with its wide path) and a pure recurrent two-label
// model; explaining the other class negates the explanation.
func TestExplainTwoLabels(t *testing.T) {
	imdb := "An absolute MASTERPIECE: moving, funny and beautifully acted. I loved every minute of it."
	e := explainTwoLabels(t, "imdb", trained(t), imdb)
	// The tokens are the tokenizer's: words and punctuation, in order.
	var words []string
	for _, tok := range e.Tokens {
		words = append(words, tok.Token)
	}
	if want := "an absolute masterpiece : moving , funny and beautifully acted . i loved every minute of it ."; strings.Join(words, " ") != want {
		t.Errorf("tokens %q", words)
	}
	e = explainTwoLabels(t, "recurrent", recurrent(t, "sports", "space"), "The ROCKET reached orbit, and the striker scored.")
	checkNetwork(t, "recurrent", e)
}

// explainTwoLabels explains text for the predicted class and for the other, and returns the
// first explanation.
func explainTwoLabels(t *testing.T, what string, m *Model, text string) *Explanation {
	t.Helper()
	e, err := m.Explain(text)
	if err != nil {
		t.Fatal(err)
	}
	checkExplanation(t, what+" predicted", text, e)
	pred, err := m.PredictLabel(text)
	if err != nil {
		t.Fatal(err)
	}
	if e.Class != pred.Index || e.Label != pred.Label || math.Abs(float64(e.Score-pred.Score)) > 1e-6 {
		t.Errorf("explained class %d %q score %v; PredictLabel %+v", e.Class, e.Label, e.Score, pred)
	}
	if e.Steps != DefaultExplainSteps {
		t.Errorf("%s: default steps: %d", what, e.Steps)
	}
	// The two-label score is the sigmoid of the logit.
	if p := 1 / (1 + math.Exp(-float64(e.Logit))); math.Abs(p-float64(e.Score)) > 1e-4 {
		t.Errorf("%s: score %v, sigmoid(logit %v) = %v", what, e.Score, e.Logit, p)
	}

	// The other class is the same explanation, negated.
	other := 1 - e.Class
	o, err := m.Explain(text, ExplainClass(other), ExplainSteps(DefaultExplainSteps))
	if err != nil {
		t.Fatal(err)
	}
	checkExplanation(t, what+" other class", text, o)
	labels, _ := m.Labels()
	if o.Class != other || o.Label != labels[other] || math.Abs(float64(o.Logit+e.Logit)) > 1e-5 ||
		math.Abs(float64(o.Score+e.Score-1)) > 1e-5 || math.Abs(float64(o.Reference+e.Reference)) > 1e-5 {
		t.Errorf("%s: other class: %d %q logit %v score %v reference %v; predicted logit %v score %v reference %v",
			what, o.Class, o.Label, o.Logit, o.Score, o.Reference, e.Logit, e.Score, e.Reference)
	}
	if len(o.Tokens) != len(e.Tokens) {
		t.Fatalf("%s: %d tokens for the other class, %d for the predicted", what, len(o.Tokens), len(e.Tokens))
	}
	for i := range o.Tokens {
		a, b := o.Tokens[i], e.Tokens[i]
		if a.Token != b.Token || a.Start != b.Start || a.End != b.End || math.Abs(float64(a.Contribution+b.Contribution)) > 1e-5 ||
			math.Abs(float64(a.Network+b.Network)) > 1e-5 || math.Abs(float64(a.Wide+b.Wide)) > 1e-5 {
			t.Errorf("%s: token %d: %+v for the other class, %+v for the predicted", what, i, a, b)
		}
	}
	// By name, the same as by index.
	byName, err := m.Explain(text, ExplainLabel(labels[other]))
	if err != nil {
		t.Fatal(err)
	}
	if byName.Class != other || math.Abs(float64(byName.Logit-o.Logit)) > 1e-6 || len(byName.Tokens) != len(o.Tokens) {
		t.Errorf("%s: ExplainLabel(%q): class %d logit %v, want %d %v", what, labels[other], byName.Class, byName.Logit, other, o.Logit)
	}
	return e
}

func TestExplainThreeLabels(t *testing.T) {
	m := topics(t)
	rec := recurrent(t, "sports", "cooking", "space")
	text := clearTexts["space"]
	for _, tc := range []struct {
		what string
		m    *Model
	}{{"wide", m}, {"recurrent", rec}} {
		labels, err := tc.m.Labels()
		if err != nil {
			t.Fatal(err)
		}
		scores, err := tc.m.Scores(text)
		if err != nil {
			t.Fatal(err)
		}
		for k := range labels {
			e, err := tc.m.Explain(text, ExplainClass(k), ExplainSteps(8))
			if err != nil {
				t.Fatal(err)
			}
			checkExplanation(t, tc.what+" "+labels[k], text, e)
			if e.Class != k || e.Label != labels[k] || e.Score != scores[k] || e.Steps != 8 {
				t.Errorf("%s: class %d: %d %q score %v steps %d; scores %v", tc.what, k, e.Class, e.Label, e.Score, e.Steps, scores)
			}
			if tc.m == rec {
				checkNetwork(t, labels[k], e)
			}
		}
	}
	e, err := m.Explain(text)
	if err != nil {
		t.Fatal(err)
	}
	if e.Label != "space" {
		t.Errorf("predicted %q for %q", e.Label, text)
	}

	// Texts without words, with NUL bytes and non-ASCII characters: spans still index the Go
	// string, at character boundaries.
	for _, text := range []string{"", "   ", "rocket\x00orbit", "Ünïcödé ROCKET — 素晴らしい moon 😀"} {
		e, err := m.Explain(text)
		if err != nil {
			t.Fatalf("%q: %v", text, err)
		}
		checkExplanation(t, text, text, e)
		if strings.TrimSpace(text) == "" && len(e.Tokens) != 0 {
			t.Errorf("%q: tokens %+v", text, e.Tokens)
		}
		for _, tok := range e.Tokens {
			if span := text[tok.Start:tok.End]; strings.ToLower(span) != tok.Token {
				t.Errorf("%q: text[%d:%d] = %q, token %q", text, tok.Start, tok.End, span, tok.Token)
			}
		}
	}
	// Past max_len (32, keeping the end) the network reads nothing; only the wide path credits.
	long := strings.Repeat("rocket ", 8) + strings.Repeat("the moon and the orbit ", 7)
	for _, m := range []*Model{m, rec} {
		e, err = m.Explain(long)
		if err != nil {
			t.Fatal(err)
		}
		checkExplanation(t, "long", long, e)
		if len(e.Tokens) != 43 {
			t.Fatalf("%d tokens, want 43", len(e.Tokens))
		}
		for i, tok := range e.Tokens {
			if tok.ReadByNetwork != (i >= 43-32) {
				t.Errorf("token %d read by the network: %v", i, tok.ReadByNetwork)
			}
		}
	}
}

func TestExplainErrors(t *testing.T) {
	m := topics(t)
	_, err := m.Explain("a rocket", ExplainClass(3))
	wantCode(t, "class 3 of 3", err, ErrInvalidArgument, "3 labels")
	_, err = m.Explain("a rocket", ExplainClass(-1))
	wantCode(t, "class -1", err, ErrInvalidArgument, "-1")
	_, err = m.Explain("a rocket", ExplainLabel("weather"))
	wantCode(t, "unknown label", err, ErrInvalidArgument, `unknown label "weather": the model's labels are cooking, space, sports`)
	_, err = m.Explain("a rocket", ExplainSteps(MaxExplainSteps+1))
	wantCode(t, "257 steps", err, ErrInvalidArgument, "between 0")
	_, err = m.Explain("a rocket", ExplainSteps(-1))
	wantCode(t, "-1 steps", err, ErrInvalidArgument, "between 0")
	_, err = m.Explain("bad \xff utf-8")
	wantCode(t, "invalid UTF-8", err, ErrInvalidUTF8, "")
	if e, err := m.Explain("a rocket", ExplainSteps(MaxExplainSteps)); err != nil || e.Steps != MaxExplainSteps {
		t.Errorf("%d steps: %v", MaxExplainSteps, err)
	}

	closed, err := TrainExamples(tinyParams(), topicExamples(5, 10), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	closed.Close()
	_, err = closed.Explain("a rocket")
	wantCode(t, "closed model", err, ErrInvalidHandle, "closed")
}

// TestExplainConcurrent: explanations from many goroutines at once agree with one another.
func TestExplainConcurrent(t *testing.T) {
	m := topics(t)
	want, err := m.Explain(clearTexts["cooking"])
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 5; i++ {
				e, err := m.Explain(clearTexts["cooking"])
				if err != nil {
					t.Error(err)
					return
				}
				if math.Abs(float64(e.Logit-want.Logit)) > 1e-6 || len(e.Tokens) != len(want.Tokens) {
					t.Errorf("logit %v with %d tokens, want %v with %d", e.Logit, len(e.Tokens), want.Logit, len(want.Tokens))
					return
				}
			}
		}()
	}
	wg.Wait()
}
