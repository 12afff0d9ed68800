// SPDX-License-Identifier: MIT OR Apache-2.0

// Package senti is the Go binding of libsenti: it trains LSTM/GRU text classifiers with K >= 2
// labels (IMDB sentiment models have "negative" and "positive") and serves their predictions
// through the library's C API (include/senti.h).
//
// cgo finds the library through pkg-config (package "senti"). An installed libsenti provides
// senti.pc in <prefix>/lib/pkgconfig; inside the source tree, bindings/go/intree-env.sh writes
// one for the freshly built library:
//
//	source bindings/go/intree-env.sh && cd bindings/go && go test ./...
//
// # Usage
//
//	model, err := senti.Load("topics.safetensors")
//	if err != nil {
//		log.Fatal(err)
//	}
//	defer model.Close()
//
//	pred, err := model.PredictLabel("The striker scored twice before half time.")
//	if err != nil {
//		log.Fatal(err)
//	}
//	fmt.Printf("%s with probability %.2f\n", pred.Label, pred.Score)
//
// Scores and ScoresBatch return every label's probability, in the order of Labels. Predict and
// PredictBatch return the probability of the second label of a two-label model (positive, for
// IMDB models), and fail with ErrInvalidArgument for more labels.
//
// # Training
//
// Params holds one typed field per training parameter; zero values are the library's defaults,
// and the fields whose zero is a meaningful value of its own are pointers (Bool, Int, Float).
// TrainWithParams reads the data file p.DataPath; TrainExamples trains on examples in memory.
// Both take an optional progress function, which can cancel by returning false:
//
//	model, err := senti.TrainExamples(senti.Params{Cell: "gru", Epochs: 3}, train, nil,
//		func(p senti.Progress) bool {
//			if p.Phase == senti.PhaseEpoch {
//				log.Printf("epoch %d/%d: val accuracy %.3f", p.Epoch, p.Epochs, p.ValAccuracy)
//			}
//			return true
//		})
//
// Train takes the same parameters as one JSON object (see the README).
//
// # Explanations
//
// Explain says why a text got its score: every token with its byte range in the text and its
// signed contribution to the logit of the predicted class, or of the class ExplainClass (by
// index) or ExplainLabel (by name) chooses. The wide n-gram path's part is exact; the
// network's comes from integrated gradients with ExplainSteps steps (default 8, at most 256).
// Reference + the contributions + Unexplained equals Logit:
//
//	text := "A moving, beautifully acted film."
//	e, err := model.Explain(text, senti.ExplainLabel("positive"))
//	if err != nil {
//		log.Fatal(err)
//	}
//	for _, tok := range e.Tokens {
//		fmt.Printf("%-12s %+.3f\n", text[tok.Start:tok.End], tok.Contribution)
//	}
//
// The Explanation is a plain Go value, copied out of the library's explanation, which is
// freed before Explain returns.
//
// # Errors
//
// Every failure reported by the library is an *Error carrying the library's stable status code
// and its full message. Test for a code with errors.As, or with errors.Is against the Status
// constants, which are errors themselves:
//
//	if errors.Is(err, senti.ErrIO) { ... }
//	var e *senti.Error
//	if errors.As(err, &e) && e.Code == senti.ErrModelFile { ... }
//
// The binding reports its own argument checks the same way: a path, JSON string, Params string
// or label name containing a NUL byte, or a labels slice whose length differs from the texts,
// is ErrInvalidArgument. A Params value the library rejects is ErrConfig naming the field.
//
// # Concurrency and lifetime
//
// A *Model may be used by any number of goroutines at once: every method but Close (Predict,
// Scores, PredictLabel, Explain, the batch and evaluation calls, Labels, Save, Info) runs concurrently
// on one model. Close waits for the calls in flight, then releases the model; every later call
// returns an *Error with Code ErrInvalidHandle, and a second Close returns nil. A Model that is
// never closed is released by a finalizer once it becomes unreachable, but Close releases its
// memory promptly and should be preferred.
//
// Training runs on the calling goroutine (plus the library's own worker threads, the "threads"
// parameter) and calls the progress function on that same goroutine. If the progress function
// panics, training is cancelled and the training call panics with the same value once the
// library has returned.
package senti
