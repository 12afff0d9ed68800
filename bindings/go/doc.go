// Package senti is the Go binding of libsenti: it trains LSTM/GRU sentiment classifiers and
// serves their predictions through the library's C API (include/senti.h).
//
// cgo finds the library through pkg-config (package "senti"). An installed libsenti provides
// senti.pc in <prefix>/lib/pkgconfig; inside the source tree, bindings/go/intree-env.sh writes
// one for the freshly built library:
//
//	source bindings/go/intree-env.sh && cd bindings/go && go test ./...
//
// # Usage
//
//	model, err := senti.Load("imdb.safetensors")
//	if err != nil {
//		log.Fatal(err)
//	}
//	defer model.Close()
//
//	p, err := model.Predict("A moving, beautifully acted film.")
//	if err != nil {
//		log.Fatal(err)
//	}
//	fmt.Printf("positive with probability %.2f\n", p)
//
// Training takes the library's JSON parameters (see the README) and an optional progress
// function, which can cancel by returning false:
//
//	model, err := senti.Train(`{"data_path": "reviews.json", "epochs": 3, "cell": "gru"}`,
//		func(p senti.Progress) bool {
//			if p.Phase == senti.PhaseEpoch {
//				log.Printf("epoch %d/%d: val accuracy %.3f", p.Epoch, p.Epochs, p.ValAccuracy)
//			}
//			return true
//		})
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
// The binding reports its own argument checks the same way: a path or JSON string containing
// a NUL byte, or a labels slice whose length differs from the texts, is ErrInvalidArgument.
//
// # Concurrency and lifetime
//
// A *Model may be used by any number of goroutines at once: Predict, PredictBatch, Evaluate,
// EvaluateTexts, Save and Info all run concurrently on one model. Close waits for the calls in
// flight, then releases the model; every later call returns an *Error with Code
// ErrInvalidHandle, and a second Close returns nil. A Model that is never closed is released
// by a finalizer once it becomes unreachable, but Close releases its memory promptly and
// should be preferred.
//
// Train runs on the calling goroutine (plus the library's own worker threads, the "threads"
// parameter) and calls the progress function on that same goroutine.
package senti
