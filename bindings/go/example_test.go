// SPDX-License-Identifier: MIT OR Apache-2.0

package senti_test

import (
	"errors"
	"fmt"
	"log"

	senti "github.com/libsenti/senti/bindings/go"
)

func ExampleLoad() {
	model, err := senti.Load("imdb.safetensors")
	if err != nil {
		log.Fatal(err)
	}
	defer model.Close()

	probs, err := model.PredictBatch([]string{
		"An absolute masterpiece.",
		"A waste of time.",
	})
	if err != nil {
		log.Fatal(err)
	}
	for _, p := range probs {
		fmt.Printf("%.2f\n", p)
	}
}

func ExampleTrainWithParams() {
	params := senti.Params{
		DataPath: "data/imdb/reviews.json",
		Cell:     "gru",
		Epochs:   2,
		Threads:  2,
		// Pointer fields: their zero is a value of its own, nil is the default.
		Bidirectional: senti.Bool(false),
		WideNgrams:    senti.Int(0), // a pure recurrent model
	}
	model, err := senti.TrainWithParams(params, func(p senti.Progress) bool {
		if p.Phase == senti.PhaseEpoch {
			fmt.Printf("epoch %d/%d: validation accuracy %.3f\n", p.Epoch, p.Epochs, p.ValAccuracy)
		}
		return true // false cancels
	})
	if err != nil {
		log.Fatal(err)
	}
	defer model.Close()
	if err := model.Save("imdb.safetensors"); err != nil {
		log.Fatal(err)
	}
}

func ExampleTrainExamples() {
	train := []senti.Example{
		{Text: "The striker scored twice before half time.", Label: "sports"},
		{Text: "Simmer the garlic in butter for two minutes.", Label: "cooking"},
		{Text: "The probe entered orbit around the moon.", Label: "space"},
		// ... many more
	}
	model, err := senti.TrainExamples(senti.Params{Epochs: 5, MaxLen: 200}, train, nil, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer model.Close()

	labels, _ := model.Labels() // [cooking space sports]: names in byte order
	scores, err := model.Scores("Knead the dough and bake it for an hour.")
	if err != nil {
		log.Fatal(err)
	}
	for i, s := range scores {
		fmt.Printf("%s %.2f\n", labels[i], s)
	}
	best, _ := model.PredictLabel("A late penalty won the match.")
	fmt.Println(best.Label, best.Score)
}

func ExampleModel_EvaluateExamples() {
	model, err := senti.Load("topics.safetensors")
	if err != nil {
		log.Fatal(err)
	}
	defer model.Close()
	report, err := model.EvaluateExamples([]senti.Example{
		{Text: "The keeper saved a penalty.", Label: "sports"},
		{Text: "Whisk the eggs with sugar.", Label: "cooking"},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("accuracy %.3f, macro F1 %.3f\n", report.Accuracy, report.MacroF1)
	for _, c := range report.PerClass {
		fmt.Printf("%-8s precision %.2f recall %.2f (%d texts)\n", c.Label, c.Precision, c.Recall, c.Support)
	}
}

func ExampleModel_Explain() {
	model, err := senti.Load("imdb.safetensors")
	if err != nil {
		log.Fatal(err)
	}
	defer model.Close()
	text := "A moving, beautifully acted film."
	e, err := model.Explain(text, senti.ExplainLabel("positive"), senti.ExplainSteps(32))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s %.2f: logit %.3f = reference %.3f + contributions + %.4f\n",
		e.Label, e.Score, e.Logit, e.Reference, e.Unexplained)
	for _, tok := range e.Tokens {
		fmt.Printf("%-12s %+.3f\n", text[tok.Start:tok.End], tok.Contribution)
	}
}

func ExampleError() {
	_, err := senti.Load("/nonexistent/model.safetensors")

	fmt.Println(errors.Is(err, senti.ErrIO))
	var e *senti.Error
	if errors.As(err, &e) {
		fmt.Println(e.Code)
	}
	// Output:
	// true
	// SENTI_ERR_IO
}
