// Command sentiserver serves a libsenti model over HTTP: a text classifier with any number of
// labels (/v1/classify), and the two-label sentiment routes of IMDB models (/v1/sentiment).
//
//	sentiserver -model imdb.safetensors -addr 127.0.0.1:8080
//
//	curl -s -d '{"text": "A moving, beautifully acted film."}' http://127.0.0.1:8080/v1/classify
//	curl -s -d '{"texts": ["Loved it.", "Dull."]}' http://127.0.0.1:8080/v1/classify/batch
//	curl -s http://127.0.0.1:8080/v1/labels
//	curl -s -d '{"text": "A moving, beautifully acted film."}' http://127.0.0.1:8080/v1/sentiment
//	curl -s -d '{"texts": ["Loved it.", "Dull."]}' http://127.0.0.1:8080/v1/sentiment/batch
//	curl -s http://127.0.0.1:8080/healthz
//
// See handler for the routes and the request rules. SIGINT or SIGTERM stops accepting
// connections, lets requests in flight finish (up to 20 seconds), then releases the model; a
// second signal kills the process at once.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	senti "github.com/libsenti/senti/bindings/go"
)

const shutdownTimeout = 20 * time.Second

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop() // a second signal gets the default action
	}()
	err := run(ctx, os.Args[1:], os.Stderr, nil)
	stop()
	switch {
	case err == nil:
	case errors.Is(err, flag.ErrHelp):
		os.Exit(0)
	case errors.Is(err, errUsage):
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, "sentiserver:", err)
		os.Exit(1)
	}
}

var errUsage = errors.New("usage")

// run loads the model, serves until ctx is done, then shuts down gracefully. ready, if not
// nil, is called with the listening address once the server accepts connections.
func run(ctx context.Context, args []string, stderr io.Writer, ready func(net.Addr)) error {
	fs := flag.NewFlagSet("sentiserver", flag.ContinueOnError)
	fs.SetOutput(stderr)
	modelPath := fs.String("model", "", "model file written by libsenti (`path`.safetensors), required")
	addr := fs.String("addr", "127.0.0.1:8080", "listen `address`; port 0 picks a free port")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: sentiserver -model path.safetensors [-addr host:port]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	if *modelPath == "" || fs.NArg() > 0 {
		fs.Usage()
		return errUsage
	}
	logger := log.New(stderr, "sentiserver: ", log.LstdFlags)

	model, err := senti.Load(*modelPath)
	if err != nil {
		return err
	}
	defer model.Close()
	labels, err := model.Labels()
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           handler(model),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          logger,
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	logger.Printf("libsenti %s: serving %s (labels %s) on http://%s", senti.Version(), *modelPath,
		strings.Join(labels, ", "), ln.Addr())
	if ready != nil {
		ready(ln.Addr())
	}

	select {
	case err := <-served: // the listener failed
		return err
	case <-ctx.Done():
	}
	logger.Printf("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	err = srv.Shutdown(shutdownCtx)
	if serveErr := <-served; !errors.Is(serveErr, http.ErrServerClosed) && err == nil {
		err = serveErr
	}
	if err != nil {
		return fmt.Errorf("shutting down: %w", err)
	}
	logger.Printf("stopped")
	return nil
}
