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

func ExampleTrain() {
	params := `{"data_path": "data/imdb/reviews.json", "epochs": 2, "cell": "gru", "threads": 2}`
	model, err := senti.Train(params, func(p senti.Progress) bool {
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
