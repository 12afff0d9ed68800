// SPDX-License-Identifier: MIT OR Apache-2.0

// Command sentiserver serves a libsenti model over HTTP: a text classifier with any number of
// labels (/v1/classify), the two-label sentiment routes of IMDB models (/v1/sentiment), and
// explanations of a score, token by token (/v1/explain).
//
//	sentiserver -model imdb.safetensors -addr 127.0.0.1:8080
//
//	curl -s -d '{"text": "A moving, beautifully acted film."}' http://127.0.0.1:8080/v1/classify
//	curl -s -d '{"texts": ["Loved it.", "Dull."]}' http://127.0.0.1:8080/v1/classify/batch
//	curl -s http://127.0.0.1:8080/v1/labels
//	curl -s -d '{"text": "A moving, beautifully acted film."}' http://127.0.0.1:8080/v1/sentiment
//	curl -s -d '{"texts": ["Loved it.", "Dull."]}' http://127.0.0.1:8080/v1/sentiment/batch
//	curl -s -d '{"text": "A moving, beautifully acted film.", "label": "positive"}' http://127.0.0.1:8080/v1/explain
//	curl -s http://127.0.0.1:8080/healthz
//	curl -s http://127.0.0.1:8080/readyz
//	curl -s http://127.0.0.1:8080/metrics
//	curl -s http://127.0.0.1:8080/openapi.json
//
// See handler for the routes and the request rules, and sentiserver -help for the flags and
// their environment variables (a flag wins over its variable). Logs are JSON lines on stderr,
// one per request with its X-Request-ID.
//
// SIGINT or SIGTERM turns /readyz to 503 and keeps serving for the drain delay (-drain-delay,
// 5s) so that load balancers stop sending traffic, then stops accepting connections, lets
// requests in flight finish (up to -shutdown-timeout, 20s), and releases the model; a second
// signal kills the process at once.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	senti "github.com/libsenti/senti/bindings/go"
)

const (
	shutdownTimeout   = 20 * time.Second // default -shutdown-timeout
	defaultDrainDelay = 5 * time.Second  // default -drain-delay
)

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

// config is the command line and environment, parsed.
type config struct {
	model           string
	addr            string
	maxInflight     int
	predictThreads  int
	predictPrec     string
	drainDelay      time.Duration
	shutdownTimeout time.Duration
	logLevel        slog.Level
}

// envPrefix names the variables: -max-inflight reads SENTISERVER_MAX_INFLIGHT, and so on.
const envPrefix = "SENTISERVER_"

func envName(flagName string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// parseConfig reads the flags in args over the environment (getenv): each flag's variable sets
// its default, so a flag given on the command line wins. Errors are flag.ErrHelp for -help
// and errUsage (after printing why and the usage to out) for anything else.
func parseConfig(args []string, getenv func(string) string, out io.Writer) (config, error) {
	var cfg config
	fs := flag.NewFlagSet("sentiserver", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.StringVar(&cfg.model, "model", "", "model file written by libsenti (`path`.safetensors), required")
	fs.StringVar(&cfg.addr, "addr", "127.0.0.1:8080", "listen `address`; port 0 picks a free port")
	fs.IntVar(&cfg.maxInflight, "max-inflight", defaultMaxInflight(),
		"predictions in flight at once (`n` >= 1); more answer 429 with Retry-After (default 2 x GOMAXPROCS)")
	fs.IntVar(&cfg.predictThreads, "prediction-threads", 1,
		"threads each prediction splits its reviews between (`n`, 0 = one per core); concurrent requests\n"+
			"already keep the cores busy, so 1 serves the most at a steady latency")
	fs.StringVar(&cfg.predictPrec, "prediction-precision", "f32",
		"`precision` at which predictions store the network's weights: f32 (as trained), f16 (half\n"+
			"floats) or i16 (16-bit integers: the fastest on AVX2-only CPUs); both lower the latency\n"+
			"per review, and scores move by about 1e-4")
	fs.DurationVar(&cfg.drainDelay, "drain-delay", defaultDrainDelay,
		"after SIGTERM/SIGINT, how long /readyz answers 503 while serving on, before shutting down")
	fs.DurationVar(&cfg.shutdownTimeout, "shutdown-timeout", shutdownTimeout,
		"how long requests in flight may take to finish once shutting down")
	fs.TextVar(&cfg.logLevel, "log-level", slog.LevelInfo, "least `level` logged: DEBUG, INFO, WARN or ERROR")
	fs.Usage = func() {
		o := fs.Output()
		fmt.Fprintln(o, "usage: sentiserver -model path.safetensors [-addr host:port] [flags]")
		fmt.Fprintln(o, "\nServes a libsenti text classifier over HTTP (routes: GET /openapi.json).")
		fmt.Fprintf(o, "Every flag can be set by an environment variable, %sNAME (-max-inflight:\n", envPrefix)
		fmt.Fprintf(o, "%s); a flag on the command line wins over its variable.\n\n", envName("max-inflight"))
		fs.VisitAll(func(f *flag.Flag) {
			name, usage := flag.UnquoteUsage(f)
			fmt.Fprintf(o, "  -%s", f.Name)
			if name != "" {
				fmt.Fprintf(o, " %s", name)
			}
			fmt.Fprintf(o, "\t(env %s)\n    \t%s", envName(f.Name), strings.ReplaceAll(usage, "\n", "\n    \t"))
			if f.DefValue != "" && f.DefValue != "0" && !strings.Contains(usage, "(default") {
				fmt.Fprintf(o, " (default %s)", f.DefValue)
			}
			fmt.Fprintln(o)
		})
	}
	usageError := func(format string, args ...any) (config, error) {
		fmt.Fprintf(out, "sentiserver: "+format+"\n", args...)
		fs.Usage()
		return config{}, errUsage
	}
	var envErr error
	fs.VisitAll(func(f *flag.Flag) {
		if v := getenv(envName(f.Name)); v != "" && envErr == nil {
			if err := fs.Set(f.Name, v); err != nil {
				envErr = fmt.Errorf("%s=%q: %v", envName(f.Name), v, err)
			}
		}
	})
	if envErr != nil {
		return usageError("%v", envErr)
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return config{}, err
		}
		return config{}, errUsage // the flag package printed why and the usage
	}
	switch {
	case fs.NArg() > 0:
		return usageError("unexpected arguments %q", fs.Args())
	case cfg.model == "":
		return usageError("no model: give -model or %s", envName("model"))
	case cfg.maxInflight < 1:
		return usageError("-max-inflight must be at least 1, not %d", cfg.maxInflight)
	case cfg.predictThreads < 0:
		return usageError("-prediction-threads must be >= 0, not %d", cfg.predictThreads)
	case cfg.drainDelay < 0 || cfg.shutdownTimeout <= 0:
		return usageError("-drain-delay must be >= 0 and -shutdown-timeout > 0")
	}
	return cfg, nil
}

// hooks let tests watch and steer run; the zero value is what main uses.
type hooks struct {
	ready    func(net.Addr)            // the server accepts connections at this address
	wrap     func(predictor) predictor // wraps the loaded model (to hold predictions)
	draining func()                    // /readyz has turned 503; the drain delay starts
	endDrain <-chan struct{}           // closing it ends the drain delay early
	stopping func()                    // the HTTP server is shutting down
	getenv   func(string) string       // nil: os.Getenv
}

// run loads the model, serves until ctx is done, then shuts down gracefully. ready, if not
// nil, is called with the listening address once the server accepts connections.
func run(ctx context.Context, args []string, stderr io.Writer, ready func(net.Addr)) error {
	return runWith(ctx, args, stderr, hooks{ready: ready})
}

func runWith(ctx context.Context, args []string, stderr io.Writer, h hooks) error {
	getenv := h.getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	cfg, err := parseConfig(args, getenv, stderr)
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: cfg.logLevel}))

	model, err := senti.Load(cfg.model)
	if err != nil {
		return err
	}
	defer model.Close()
	if err := model.SetPredictionThreads(cfg.predictThreads); err != nil {
		return err
	}
	if err := model.SetPredictionPrecision(cfg.predictPrec); err != nil {
		return err
	}
	info, err := describeModel(model)
	if err != nil {
		return err
	}
	var p predictor = model
	if h.wrap != nil {
		p = h.wrap(p)
	}
	a := newAPI(p, info, options{maxInflight: cfg.maxInflight, logger: logger})

	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           a,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	a.setReady()
	logger.Info(fmt.Sprintf("libsenti %s: serving %s (labels %s) on http://%s", senti.Version(), cfg.model,
		strings.Join(info.Labels, ", "), ln.Addr()),
		slog.String("library_version", senti.Version()), slog.String("model", cfg.model),
		slog.Any("labels", info.Labels), slog.String("cell", info.Cell), slog.String("addr", ln.Addr().String()),
		slog.Int("max_inflight", cfg.maxInflight), slog.Int("prediction_threads", cfg.predictThreads),
		slog.String("prediction_precision", cfg.predictPrec))
	if h.ready != nil {
		h.ready(ln.Addr())
	}

	select {
	case err := <-served: // the listener failed
		return err
	case <-ctx.Done():
	}
	a.startDraining()
	logger.Info("draining: /readyz answers 503", slog.String("drain_delay", cfg.drainDelay.String()))
	if h.draining != nil {
		h.draining()
	}
	if cfg.drainDelay > 0 {
		t := time.NewTimer(cfg.drainDelay)
		select {
		case <-t.C:
		case <-h.endDrain: // nil outside tests: blocks forever
		case err := <-served:
			t.Stop()
			return err
		}
		t.Stop()
	}
	a.startStopping()
	logger.Info("shutting down", slog.String("shutdown_timeout", cfg.shutdownTimeout.String()))
	if h.stopping != nil {
		h.stopping()
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.shutdownTimeout)
	defer cancel()
	err = srv.Shutdown(shutdownCtx)
	if serveErr := <-served; !errors.Is(serveErr, http.ErrServerClosed) && err == nil {
		err = serveErr
	}
	if err != nil {
		return fmt.Errorf("shutting down: %w", err)
	}
	logger.Info("stopped")
	return nil
}
