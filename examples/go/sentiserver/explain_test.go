// SPDX-License-Identifier: MIT OR Apache-2.0

package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	senti "github.com/libsenti/senti/bindings/go"
)

// explainBody is a /v1/explain request body.
func explainBody(t *testing.T, fields map[string]any) string {
	t.Helper()
	b, err := json.Marshal(fields)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// checkExplained checks a /v1/explain answer for text: the spans index into the text as sent,
// the sums hold, and it is what the model itself explains.
func checkExplained(t *testing.T, m *senti.Model, text string, got *senti.Explanation, opts ...senti.ExplainOption) {
	t.Helper()
	prev := 0
	sum := float64(got.Reference) + float64(got.Unexplained)
	for i, tok := range got.Tokens {
		if tok.Start < prev || tok.Start >= tok.End || tok.End > len(text) {
			t.Fatalf("%.40q: token %d %q: span [%d, %d) in %d bytes", text, i, tok.Token, tok.Start, tok.End, len(text))
		}
		prev = tok.Start
		if span := text[tok.Start:tok.End]; strings.ToLower(span) != tok.Token {
			t.Errorf("%.40q: text[%d:%d] = %q, token %q", text, tok.Start, tok.End, span, tok.Token)
		}
		sum += float64(tok.Contribution)
	}
	if math.Abs(sum-float64(got.Logit)) > 1e-3 {
		t.Errorf("%.40q: reference + contributions + unexplained = %v, logit %v", text, sum, got.Logit)
	}
	want, err := m.Explain(text, opts...)
	if err != nil {
		t.Fatal(err)
	}
	if got.Class != want.Class || got.Label != want.Label || got.Steps != want.Steps || got.Method != want.Method ||
		math.Abs(float64(got.Logit-want.Logit)) > 1e-5 || math.Abs(float64(got.Score-want.Score)) > 1e-6 || len(got.Tokens) != len(want.Tokens) {
		t.Errorf("%.40q: answered %+v, the model explains %+v", text, got, want)
	}
}

func TestExplain(t *testing.T) {
	srv := httptest.NewServer(handler(topics))
	defer srv.Close()
	c := srv.Client()
	for _, text := range []string{
		clearTexts["space"],
		"The ROCKET, the Moon: ORBIT!",
		"Ünïcödé rocket — 素晴らしい moon 😀",
		"rocket\x00orbit",
		"",
	} {
		var got senti.Explanation
		resp := call(t, c, http.MethodPost, srv.URL+"/v1/explain", explainBody(t, map[string]any{"text": text}), &got)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%q: status %d", text, resp.StatusCode)
		}
		checkExplained(t, topics, text, &got)
		if text == "" && (got.Tokens == nil || len(got.Tokens) != 0) {
			t.Errorf("empty text: tokens %#v, want []", got.Tokens)
		}
	}

	// A label and steps of one's own.
	text := "bake the rocket in the oven"
	var got senti.Explanation
	resp := call(t, c, http.MethodPost, srv.URL+"/v1/explain", explainBody(t, map[string]any{"text": text, "label": "space", "steps": 4}), &got)
	if resp.StatusCode != http.StatusOK || got.Label != "space" || got.Class != 1 || got.Steps != 4 {
		t.Fatalf("label space, 4 steps: status %d, %+v", resp.StatusCode, got)
	}
	checkExplained(t, topics, text, &got, senti.ExplainClass(1), senti.ExplainSteps(4))
	// null is absent; 0 steps is the default.
	resp = call(t, c, http.MethodPost, srv.URL+"/v1/explain", `{"text": "a rocket", "label": null, "steps": 0}`, &got)
	if resp.StatusCode != http.StatusOK || got.Steps != senti.DefaultExplainSteps {
		t.Errorf("null label, 0 steps: status %d, steps %d", resp.StatusCode, got.Steps)
	}
	checkExplained(t, topics, "a rocket", &got)

	// The field names are the library's, every one of them.
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/explain", strings.NewReader(`{"text": "the moon"}`))
	raw, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(raw.Body)
	raw.Body.Close()
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatalf("%s: %v", body, err)
	}
	var tokens []map[string]json.RawMessage
	if err := json.Unmarshal(doc["tokens"], &tokens); err != nil || len(tokens) != 2 {
		t.Fatalf("tokens %s: %v", doc["tokens"], err)
	}
	for _, tc := range []struct {
		fields map[string]json.RawMessage
		want   []string
	}{
		{doc, []string{"class", "label", "logit", "method", "reference", "score", "steps", "tokens", "unexplained"}},
		{tokens[0], []string{"contribution", "end", "network", "read_by_network", "start", "token", "wide"}},
	} {
		var keys []string
		for k := range tc.fields {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		if !slices.Equal(keys, tc.want) {
			t.Errorf("fields %q, want %q", keys, tc.want)
		}
	}

	// A two-label model: the label's explanation is the other's, negated.
	srv2 := httptest.NewServer(handler(model))
	defer srv2.Close()
	text = "A moving, beautifully acted film. Loved it!"
	var pos, neg senti.Explanation
	call(t, srv2.Client(), http.MethodPost, srv2.URL+"/v1/explain", explainBody(t, map[string]any{"text": text, "label": "positive"}), &pos)
	call(t, srv2.Client(), http.MethodPost, srv2.URL+"/v1/explain", explainBody(t, map[string]any{"text": text, "label": "negative"}), &neg)
	checkExplained(t, model, text, &pos, senti.ExplainClass(1))
	checkExplained(t, model, text, &neg, senti.ExplainClass(0))
	if pos.Label != "positive" || neg.Label != "negative" || math.Abs(float64(pos.Logit+neg.Logit)) > 1e-5 || len(pos.Tokens) != len(neg.Tokens) {
		t.Fatalf("positive %+v, negative %+v", pos, neg)
	}
	for i := range pos.Tokens {
		if math.Abs(float64(pos.Tokens[i].Contribution+neg.Tokens[i].Contribution)) > 1e-5 {
			t.Errorf("token %d: %+v and %+v", i, pos.Tokens[i], neg.Tokens[i])
		}
	}
}

func TestExplainErrors(t *testing.T) {
	srv := httptest.NewServer(handler(topics))
	defer srv.Close()
	c := srv.Client()
	url := srv.URL + "/v1/explain"
	bad := http.StatusBadRequest
	wantErrors(t, c, singleTextErrors(url), []errorCase{
		{url, `{"text": "a rocket", "label": "weather"}`, bad, `unknown label "weather": the model's labels are cooking, space, sports`},
		{url, `{"text": "a rocket", "label": ""}`, bad, `unknown label ""`},
		{url, `{"text": "a rocket", "steps": 257}`, bad, `"steps" must be between 1 and 256`},
		{url, `{"text": "a rocket", "steps": -1}`, bad, `"steps" must be between 1 and 256`},
		{url, `{"text": "a rocket", "steps": 2.5}`, bad, `field "steps" must be an integer, not a JSON number 2.5`},
		{url, `{"text": "a rocket", "steps": "8"}`, bad, `field "steps" must be an integer, not a JSON string`},
		{url, `{"text": "a rocket", "label": 1}`, bad, `field "label" must be a string, not a JSON number`},
		{url, `{"text": "a rocket", "class": 1}`, bad, `unknown field "class"`},
		{url, `{"label": "space"}`, bad, `missing field "text"`},
		{url, `{"text": "` + strings.Repeat("a ", maxExplainBytes/2+1) + `"}`, http.StatusRequestEntityTooLarge, "takes at most 65536"},
	})
	wantMethodsRefused(t, c, []methodCase{{http.MethodGet, url, "POST"}, {http.MethodPut, url, "POST"}})
}

// TestExplainOverload: an explanation takes a prediction slot like any prediction: past the
// limit it answers 429, and a held explanation keeps other predictions out.
func TestExplainOverload(t *testing.T) {
	hp := newHolding(topics)
	_, srv := newTestAPI(t, topics, hp, options{maxInflight: 1, logger: slog.New(slog.NewJSONHandler(io.Discard, nil))})
	c := srv.Client()
	var wg sync.WaitGroup
	wg.Add(1)
	status := make(chan int, 1)
	go func() {
		defer wg.Done()
		var got senti.Explanation
		resp, err := do(c, http.MethodPost, srv.URL+"/v1/explain", `{"text": "hold the rocket", "label": "space"}`, &got)
		if err != nil {
			t.Error(err)
			return
		}
		if got.Label != "space" {
			t.Errorf("held explanation: %+v", got)
		}
		status <- resp.StatusCode
	}()
	hp.waitEntered(t, 1)
	for _, p := range []struct{ path, body string }{
		{"/v1/explain", `{"text": "a rocket"}`},
		{"/v1/classify", `{"text": "a rocket"}`},
	} {
		var e errorResponse
		resp := call(t, c, http.MethodPost, srv.URL+p.path, p.body, &e)
		if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "1" || !strings.Contains(e.Error, "limit is 1") {
			t.Errorf("%s at the limit: %d Retry-After %q %q", p.path, resp.StatusCode, resp.Header.Get("Retry-After"), e.Error)
		}
	}
	// Bad requests are still 400s, not 429s.
	wantError(t, c, http.MethodPost, srv.URL+"/v1/explain", `{"text": "x", "label": "weather"}`, http.StatusBadRequest, "unknown label")
	close(hp.release)
	wg.Wait()
	if code := <-status; code != http.StatusOK {
		t.Errorf("the held explanation answered %d", code)
	}
	fams := scrape(t, srv.URL)
	if got := value(fams, "senti_http_requests_total", map[string]string{"route": "/v1/explain", "code": "429"}); got != 1 {
		t.Errorf("429s counted on /v1/explain: %v", got)
	}
	if got := value(fams, "senti_http_requests_total", map[string]string{"route": "/v1/explain", "code": "200"}); got != 1 {
		t.Errorf("200s counted on /v1/explain: %v", got)
	}
}

// TestRunExplain explains through the command serving the 3-label model file.
func TestRunExplain(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var logs syncBuffer
	base, done := startServer(t, &logs, func(ready func(net.Addr)) error {
		return run(ctx, []string{"-model", topicsPath, "-addr", "127.0.0.1:0", "-drain-delay", "0s"}, &logs, ready)
	})
	client := &http.Client{Timeout: 10 * time.Second}
	text := "Simmer the GARLIC in butter — 素晴らしい"
	var got senti.Explanation
	if resp := call(t, client, http.MethodPost, base+"/v1/explain", explainBody(t, map[string]any{"text": text, "label": "cooking"}), &got); resp.StatusCode != http.StatusOK {
		t.Fatalf("explain: status %d", resp.StatusCode)
	}
	checkExplained(t, topics, text, &got, senti.ExplainClass(0))
	var e errorResponse
	if resp := call(t, client, http.MethodPost, base+"/v1/explain", `{"text": "x", "label": "weather"}`, &e); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("unknown label: status %d %q", resp.StatusCode, e.Error)
	}
	cancel()
	waitStopped(t, done)
	var found bool
	for _, l := range logLines(t, logs.String()) {
		if l["msg"] == "request" && l["route"] == "/v1/explain" && l["status"] == 200.0 {
			found = true
		}
	}
	if !found {
		t.Errorf("no access log line for /v1/explain:\n%s", logs.String())
	}
}
