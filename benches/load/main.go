// SPDX-License-Identifier: MIT OR Apache-2.0

// Command load proves the web service example (examples/go/sentiserver) under load, over
// loopback only. It starts the sentiserver binary as a child process on a free 127.0.0.1 port
// for each group of phases and attacks it over HTTP with vegeta's attacker (used as a
// library): a fixed number of workers, one connection each, every worker sending its next
// request as soon as its last one is answered (no set rate). It reads the server's RSS from
// /proc/<pid>/status.
//
// Phases (each has its own duration flag; 0 skips it):
//
//	single    -clients on POST /v1/sentiment, one IMDB test review per request
//	batch     -clients on POST /v1/sentiment/batch, -batch-size reviews per request
//	at-limit  -overload-inflight clients against a server whose -max-inflight is that many:
//	          the uncontended latency at the limit (nothing may be refused)
//	overload  -clients against the same server: 200s and 429/503s, and the latency of the
//	          admitted (200) requests
//	soak      -clients on the single route for -soak, RSS sampled every -soak-sample
//
// single, batch and soak run against servers with -max-inflight equal to -clients, so that
// no request may be refused. The command prints the machine, a table (phase, requests,
// throughput, p50/p99 of the 200s, errors, 429/503s, RSS) and the checks, and exits 1 when a
// check fails:
//
//   - errors: any answer other than 200, or a transport error; in the overload phase 429 and
//     503 are expected and not errors
//   - overload: at least one 200 and one 429/503
//   - steady latency: the overload phase's admitted p99 within -latency-factor times the
//     at-limit p99
//   - soak: RSS at the end at most -rss-growth (10%) above RSS after -soak-warmup
//
// With -train PATH it trains a model for the benchmark on -data instead, saves it to PATH
// and exits.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	senti "github.com/libsenti/senti/bindings/go"
	vegeta "github.com/tsenart/vegeta/v12/lib"
)

type config struct {
	server, model, data, train string
	trainLimit                 int
	clients                    int
	single, batch              time.Duration
	overload, soak, warmup     time.Duration
	soakWarmup, soakSample     time.Duration
	batchSize, reviews         int
	minWords, maxWords         int
	overloadInflight           int
	latencyFactor, rssGrowth   float64
	serverLog, serverLogLevel  string
}

func main() {
	os.Exit(run())
}

func run() int {
	var c config
	defaultData := os.Getenv("SENTI_DATA")
	if defaultData == "" {
		defaultData = "data/imdb/reviews.json"
	}
	flag.StringVar(&c.server, "server", "", "the sentiserver binary (required unless -train)")
	flag.StringVar(&c.model, "model", "", "the model file to serve (required unless -train)")
	flag.StringVar(&c.data, "data", defaultData, "IMDB reviews.json ($SENTI_DATA)")
	flag.StringVar(&c.train, "train", "", "train a benchmark model on -data, save it to this `path` and exit")
	flag.IntVar(&c.trainLimit, "train-limit", 5000, "with -train: training reviews")
	flag.IntVar(&c.clients, "clients", 64, "concurrent clients (vegeta workers, one connection each)")
	flag.DurationVar(&c.single, "single", 60*time.Second, "single-route phase (0 skips it)")
	flag.DurationVar(&c.batch, "batch", 60*time.Second, "batch-route phase (0 skips it)")
	flag.DurationVar(&c.overload, "overload", 60*time.Second, "at-limit and overload phases, each (0 skips them)")
	flag.DurationVar(&c.soak, "soak", 10*time.Minute, "soak phase (0 skips it)")
	flag.DurationVar(&c.warmup, "warmup", 3*time.Second, "unmeasured load before the single, batch, at-limit and overload phases")
	flag.DurationVar(&c.soakWarmup, "soak-warmup", 30*time.Second, "soak: the RSS baseline is the sample taken this long into it")
	flag.DurationVar(&c.soakSample, "soak-sample", 10*time.Second, "soak: RSS sampling interval")
	flag.IntVar(&c.batchSize, "batch-size", 32, "reviews per batch request")
	flag.IntVar(&c.reviews, "reviews", 256, "distinct test reviews sent (half negative, half positive)")
	flag.IntVar(&c.minWords, "min-words", 150, "shortest review used, in words")
	flag.IntVar(&c.maxWords, "max-words", 250, "longest review used, in words")
	flag.IntVar(&c.overloadInflight, "overload-inflight", 4, "the server's -max-inflight in the at-limit and overload phases")
	flag.Float64Var(&c.latencyFactor, "latency-factor", 8,
		"overload check: admitted p99 <= this x at-limit p99 (0: not checked); 8 is half of the 64/4 = 16x a queue would add")
	flag.Float64Var(&c.rssGrowth, "rss-growth", 0.10, "soak check: end RSS <= (1 + this) x RSS after -soak-warmup")
	flag.StringVar(&c.serverLog, "server-log", "", "append the servers' stderr (JSON logs) to this file (default: discarded)")
	flag.StringVar(&c.serverLogLevel, "server-log-level", "ERROR", "the servers' -log-level (INFO logs every request)")
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "load: unexpected arguments %q\n", flag.Args())
		return 2
	}
	if c.train != "" {
		if err := trainModel(c); err != nil {
			fmt.Fprintln(os.Stderr, "load:", err)
			return 1
		}
		return 0
	}
	if c.server == "" || c.model == "" {
		fmt.Fprintln(os.Stderr, "load: give -server and -model (or -train)")
		return 2
	}
	if c.clients < 1 || c.batchSize < 1 || c.reviews < 2 || c.overloadInflight < 1 || c.soakSample <= 0 {
		fmt.Fprintln(os.Stderr, "load: -clients, -batch-size, -overload-inflight must be >= 1, -reviews >= 2, -soak-sample > 0")
		return 2
	}
	ok, err := bench(c)
	if err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		return 1
	}
	if !ok {
		return 1
	}
	return 0
}

// trainModel trains the benchmark model: the library's default architecture (so that a
// prediction costs what it costs with the defaults), trained briefly (one epoch on
// -train-limit reviews, no embedding pre-training): its accuracy is not what is measured.
func trainModel(c config) error {
	data, err := filepath.Abs(c.data)
	if err != nil {
		return err
	}
	params, _ := json.Marshal(map[string]any{
		"data_path": data, "train_limit": c.trainLimit, "epochs": 1, "embedding_pretrain_epochs": 0,
		"threads": min(runtime.NumCPU(), 8), "seed": 1,
	})
	fmt.Printf("training %s: %s\n", c.train, params)
	start := time.Now()
	last := time.Now()
	m, err := senti.Train(string(params), func(p senti.Progress) bool {
		if time.Since(last) > 10*time.Second || p.Phase == senti.PhaseEpoch {
			last = time.Now()
			fmt.Printf("  epoch %d/%d batch %d/%d loss %.3f accuracy %.3f\n", p.Epoch, p.Epochs, p.Batch, p.Batches, p.Loss, p.Accuracy)
		}
		return true
	})
	if err != nil {
		return fmt.Errorf("training: %w", err)
	}
	defer m.Close()
	if err := os.MkdirAll(filepath.Dir(c.train), 0o755); err != nil {
		return err
	}
	tmp := c.train + ".tmp"
	if err := m.Save(tmp); err != nil {
		return err
	}
	if err := os.Rename(tmp, c.train); err != nil {
		return err
	}
	fmt.Printf("trained in %v, saved %s\n", time.Since(start).Round(time.Second), c.train)
	return nil
}

// testReviews returns n IMDB test reviews of minWords..maxWords words, half negative and
// half positive, the first ones of each block in file order. reviews.json holds 12,500 test
// negatives, 12,500 training negatives, 12,500 test positives, 12,500 training positives.
func testReviews(path string, n, minWords, maxWords int) ([]string, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var all []struct {
		T string `json:"t"`
	}
	if err := json.Unmarshal(raw, &all); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(all) != 50000 {
		return nil, fmt.Errorf("%s: %d reviews, want the 50,000 of IMDB", path, len(all))
	}
	var out []string
	for _, start := range []int{0, 25000} {
		want := n / 2
		if start == 25000 {
			want = n - n/2
		}
		for i := start; i < start+12500 && want > 0; i++ {
			if w := len(strings.Fields(all[i].T)); w >= minWords && w <= maxWords {
				out = append(out, all[i].T)
				want--
			}
		}
		if want > 0 {
			return nil, fmt.Errorf("%s: too few test reviews of %d..%d words", path, minWords, maxWords)
		}
	}
	return out, nil
}

func jsonTarget(url string, body any) vegeta.Target {
	b, _ := json.Marshal(body)
	return vegeta.Target{Method: http.MethodPost, URL: url, Body: b, Header: http.Header{"Content-Type": {"application/json"}}}
}

// server is a sentiserver child process.
type server struct {
	cmd  *exec.Cmd
	base string
	done chan error
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func startServer(c config, inflight int, log io.Writer) (*server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	cmd := exec.Command(c.server, "-model", c.model, "-addr", addr, "-max-inflight", strconv.Itoa(inflight),
		"-log-level", c.serverLogLevel, "-drain-delay", "0s")
	cmd.Stdout, cmd.Stderr = log, log
	cmd.Env = os.Environ()
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &server{cmd: cmd, base: "http://" + addr, done: make(chan error, 1)}
	go func() { s.done <- cmd.Wait() }()
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case err := <-s.done:
			return nil, fmt.Errorf("sentiserver exited before it was ready: %v", err)
		default:
		}
		if resp, err := client.Get(s.base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s, nil
			}
		}
		if time.Now().After(deadline) {
			s.stop()
			return nil, errors.New("sentiserver was not ready within 60 s")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop sends SIGTERM and waits for a clean exit (SIGKILL after 40 s).
func (s *server) stop() error {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-s.done:
		if err != nil {
			return fmt.Errorf("sentiserver: %v", err)
		}
		return nil
	case <-time.After(40 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
		return errors.New("sentiserver did not stop within 40 s of SIGTERM")
	}
}

// rssKiB reads VmRSS of pid from /proc.
func rssKiB(pid int) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			return strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
		}
	}
	return 0, errors.New("no VmRSS")
}

type rssSample struct {
	at  time.Duration // since the phase started
	kib int64
}

// sampleRSS samples pid's RSS every interval (and once at once) until ctx is done, then
// sends the samples.
func sampleRSS(ctx context.Context, pid int, interval time.Duration) <-chan []rssSample {
	out := make(chan []rssSample, 1)
	go func() {
		start := time.Now()
		var samples []rssSample
		take := func() {
			if kib, err := rssKiB(pid); err == nil {
				samples = append(samples, rssSample{time.Since(start), kib})
			}
		}
		take()
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				take()
			case <-ctx.Done():
				if len(samples) == 0 || time.Since(start)-samples[len(samples)-1].at > time.Second {
					take()
				}
				out <- samples
				return
			}
		}
	}()
	return out
}

// phase is one attack's figures.
type phase struct {
	name         string
	clients      int
	inflight     int
	perRequest   int            // reviews per request
	duration     time.Duration  // of sending; requests in flight at its end are still awaited
	wall         time.Duration  // until the last answer
	inWindow     uint64         // answers received within duration
	okInWindow   uint64         // 200s received within duration
	all, ok      vegeta.Metrics // every result; the 200s only
	refused      uint64         // 429 and 503
	errs         uint64         // anything else, transport errors included
	errSamples   []string
	expectRefuse bool
	rss          []rssSample
}

func (p *phase) rssEnd() int64 {
	if len(p.rss) == 0 {
		return 0
	}
	return p.rss[len(p.rss)-1].kib
}

func (p *phase) rssMax() int64 {
	var m int64
	for _, s := range p.rss {
		m = max(m, s.kib)
	}
	return m
}

// attack runs clients workers on targets for d and returns the figures; the server's RSS is
// sampled every rssEvery.
func attack(name string, s *server, targets []vegeta.Target, clients, inflight, perRequest int, d, rssEvery time.Duration, expectRefuse bool) *phase {
	p := &phase{name: name, clients: clients, inflight: inflight, perRequest: perRequest, expectRefuse: expectRefuse, duration: d}
	ctx, cancel := context.WithCancel(context.Background())
	rss := sampleRSS(ctx, s.cmd.Process.Pid, rssEvery)
	atk := vegeta.NewAttacker(vegeta.Workers(uint64(clients)), vegeta.MaxWorkers(uint64(clients)),
		vegeta.Connections(clients), vegeta.MaxConnections(clients), vegeta.KeepAlive(true),
		vegeta.Timeout(30*time.Second), vegeta.MaxBody(512))
	start := time.Now()
	for res := range atk.Attack(vegeta.NewStaticTargeter(targets...), vegeta.ConstantPacer{}, d, name) {
		p.all.Add(res)
		inWindow := res.Timestamp.Add(res.Latency).Sub(start) <= d
		if inWindow {
			p.inWindow++
		}
		switch {
		case res.Code == http.StatusOK && res.Error == "":
			p.ok.Add(res)
			if inWindow {
				p.okInWindow++
			}
		case expectRefuse && (res.Code == http.StatusTooManyRequests || res.Code == http.StatusServiceUnavailable):
			p.refused++
		default:
			if res.Code == http.StatusTooManyRequests || res.Code == http.StatusServiceUnavailable {
				p.refused++
			}
			p.errs++
			if len(p.errSamples) < 5 {
				p.errSamples = append(p.errSamples, fmt.Sprintf("status %d %s %.200q", res.Code, res.Error, res.Body))
			}
		}
	}
	p.wall = time.Since(start)
	p.all.Close()
	p.ok.Close()
	cancel()
	p.rss = <-rss
	return p
}

// warm sends load for d without measuring it.
func warm(s *server, targets []vegeta.Target, clients int, d time.Duration) {
	if d <= 0 {
		return
	}
	atk := vegeta.NewAttacker(vegeta.Workers(uint64(clients)), vegeta.MaxWorkers(uint64(clients)),
		vegeta.Connections(clients), vegeta.MaxConnections(clients), vegeta.MaxBody(0))
	for range atk.Attack(vegeta.NewStaticTargeter(targets...), vegeta.ConstantPacer{}, d, "warm-up") {
	}
}

func errOr(err error, ok string) string {
	if err != nil {
		return err.Error()
	}
	return ok
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/1e6) }
func mib(kib int64) float64     { return float64(kib) / 1024 }

// cpuModel returns the first "model name" of /proc/cpuinfo and the number of processors it lists.
func cpuModel() (string, int) {
	raw, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown", 0
	}
	name, n := "unknown", 0
	for _, line := range strings.Split(string(raw), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		switch strings.TrimSpace(k) {
		case "processor":
			n++
		case "model name":
			if name == "unknown" {
				name = strings.TrimSpace(v)
			}
		}
	}
	return name, n
}

// describe returns a one-line summary of the served model.
func describe(path string) (string, error) {
	m, err := senti.Load(path)
	if err != nil {
		return "", err
	}
	defer m.Close()
	raw, err := m.Info()
	if err != nil {
		return "", err
	}
	var info struct {
		Labels      []string       `json:"labels"`
		ModelConfig map[string]any `json:"model_config"`
		TextConfig  map[string]any `json:"text_config"`
		VocabLen    int            `json:"vocab_len"`
	}
	if err := json.Unmarshal([]byte(raw), &info); err != nil {
		return "", err
	}
	if len(info.Labels) != 2 {
		return "", fmt.Errorf("%s has %d labels; the sentiment routes need a two-label (IMDB) model", path, len(info.Labels))
	}
	var parts []string
	for _, k := range []string{"cell", "embedding_dim", "hidden_size", "layers", "bidirectional", "pooling"} {
		if v, ok := info.ModelConfig[k]; ok {
			parts = append(parts, fmt.Sprintf("%s %v", k, v))
		}
	}
	if v, ok := info.TextConfig["max_len"]; ok {
		parts = append(parts, fmt.Sprintf("max_len %v", v))
	}
	parts = append(parts, fmt.Sprintf("vocabulary %d", info.VocabLen))
	return strings.Join(parts, ", "), nil
}

// slope fits RSS (MiB) against time (minutes) by least squares.
func slope(samples []rssSample) float64 {
	if len(samples) < 2 {
		return 0
	}
	var sx, sy, sxx, sxy float64
	for _, s := range samples {
		x, y := s.at.Minutes(), mib(s.kib)
		sx, sy, sxx, sxy = sx+x, sy+y, sxx+x*x, sxy+x*y
	}
	n := float64(len(samples))
	den := n*sxx - sx*sx
	if den == 0 {
		return 0
	}
	return (n*sxy - sx*sy) / den
}

func bench(c config) (bool, error) {
	var log io.Writer = io.Discard
	if c.serverLog != "" {
		f, err := os.OpenFile(c.serverLog, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return false, err
		}
		defer f.Close()
		log = f
	}
	reviews, err := testReviews(c.data, c.reviews, c.minWords, c.maxWords)
	if err != nil {
		return false, err
	}
	desc, err := describe(c.model)
	if err != nil {
		return false, err
	}
	cpu, procs := cpuModel()
	words := 0
	for _, r := range reviews {
		words += len(strings.Fields(r))
	}
	fmt.Printf("libsenti %s load benchmark, %s\n", senti.Version(), time.Now().UTC().Format(time.RFC3339))
	fmt.Printf("cpu: %s; %d processors online, %d usable (GOMAXPROCS %d); kernels: %s\n", cpu, procs, runtime.NumCPU(), runtime.GOMAXPROCS(0), senti.SimdLevel())
	if load, err := os.ReadFile("/proc/loadavg"); err == nil {
		fmt.Printf("load average at start: %s\n", strings.Join(strings.Fields(string(load))[:3], " "))
	}
	fmt.Printf("model: %s (%s)\n", c.model, desc)
	fmt.Printf("server: %s over loopback (127.0.0.1), -log-level %s; client and server share the CPUs\n", c.server, c.serverLogLevel)
	fmt.Printf("requests: %d IMDB test reviews of %d-%d words (mean %d), single: one per request, batch: %d per request\n",
		len(reviews), c.minWords, c.maxWords, words/len(reviews), c.batchSize)
	fmt.Printf("clients: vegeta %d workers, one keep-alive connection each, no set rate; %v unmeasured warm-up before each phase but soak\n\n",
		c.clients, c.warmup)

	var single, batch []vegeta.Target
	for _, r := range reviews {
		single = append(single, jsonTarget("", map[string]string{"text": r}))
	}
	for i := 0; i < len(reviews); i += 4 {
		texts := make([]string, c.batchSize)
		for k := range texts {
			texts[k] = reviews[(i+k)%len(reviews)]
		}
		batch = append(batch, jsonTarget("", map[string][]string{"texts": texts}))
	}
	at := func(base, path string, ts []vegeta.Target) []vegeta.Target {
		out := make([]vegeta.Target, len(ts))
		for i, t := range ts {
			t.URL = base + path
			out[i] = t
		}
		return out
	}

	var phases []*phase
	var atLimit, overload, soak *phase
	var stopErrs []error // of each server's shutdown: a crash or an unclean exit fails the run
	if c.single > 0 || c.batch > 0 {
		s, err := startServer(c, c.clients, log)
		if err != nil {
			return false, err
		}
		if c.single > 0 {
			ts := at(s.base, "/v1/sentiment", single)
			warm(s, ts, c.clients, c.warmup)
			phases = append(phases, attack("single", s, ts, c.clients, c.clients, 1, c.single, time.Second, false))
		}
		if c.batch > 0 {
			ts := at(s.base, "/v1/sentiment/batch", batch)
			warm(s, ts, c.clients, c.warmup)
			phases = append(phases, attack("batch", s, ts, c.clients, c.clients, c.batchSize, c.batch, time.Second, false))
		}
		stopErrs = append(stopErrs, s.stop())
	}
	if c.overload > 0 {
		s, err := startServer(c, c.overloadInflight, log)
		if err != nil {
			return false, err
		}
		ts := at(s.base, "/v1/sentiment", single)
		warm(s, ts, c.overloadInflight, c.warmup)
		atLimit = attack("at-limit", s, ts, c.overloadInflight, c.overloadInflight, 1, c.overload, time.Second, false)
		warm(s, ts, c.clients, c.warmup)
		overload = attack("overload", s, ts, c.clients, c.overloadInflight, 1, c.overload, time.Second, true)
		phases = append(phases, atLimit, overload)
		stopErrs = append(stopErrs, s.stop())
	}
	if c.soak > 0 {
		s, err := startServer(c, c.clients, log)
		if err != nil {
			return false, err
		}
		soak = attack("soak", s, at(s.base, "/v1/sentiment", single), c.clients, c.clients, 1, c.soak, c.soakSample, false)
		phases = append(phases, soak)
		stopErrs = append(stopErrs, s.stop())
	}

	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "phase\tclients\tmax-inflight\tseconds\trequests\treq/s\t200/s\treviews/s\tp50 (200)\tp99 (200)\terrors\t429/503\tRSS end MiB\tRSS max MiB\t")
	for _, p := range phases {
		secs := p.duration.Seconds()
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.0f (%.1f)\t%d\t%.0f\t%.0f\t%.0f\t%s\t%s\t%d\t%d\t%.1f\t%.1f\t\n", p.name, p.clients, p.inflight,
			secs, p.wall.Seconds(), p.all.Requests, float64(p.inWindow)/secs, float64(p.okInWindow)/secs,
			float64(p.okInWindow*uint64(p.perRequest))/secs, ms(p.ok.Latencies.P50), ms(p.ok.Latencies.P99),
			p.errs, p.refused, mib(p.rssEnd()), mib(p.rssMax()))
	}
	tw.Flush()
	fmt.Println("\nseconds: of sending requests (until the last answer); requests, errors, 429/503 and latencies count every")
	fmt.Println("request sent, answered within the phase or after it. req/s, 200/s and reviews/s: the answers (all; 200s;")
	fmt.Println("reviews in 200s) received within the phase's seconds, per second. p50/p99: of the 200s, vegeta's estimate.")

	pass := true
	check := func(ok bool, format string, args ...any) {
		verdict := "PASS"
		if !ok {
			verdict, pass = "FAIL", false
		}
		fmt.Printf("%s  %s\n", verdict, fmt.Sprintf(format, args...))
	}
	fmt.Println()
	for _, p := range phases {
		what := "answers other than 200"
		if p.expectRefuse {
			what = "answers other than 200, 429 and 503"
		}
		check(p.errs == 0 && p.all.Requests > 0, "%s: %d requests, %d errors (%s, or transport errors)", p.name, p.all.Requests, p.errs, what)
		for _, e := range p.errSamples {
			fmt.Printf("      %s\n", e)
		}
	}
	if overload != nil {
		check(overload.ok.Requests > 0 && overload.refused > 0, "overload: %d admitted (200), %d refused (429/503) past -max-inflight %d",
			overload.ok.Requests, overload.refused, c.overloadInflight)
		if c.latencyFactor > 0 {
			ratio := float64(overload.ok.Latencies.P99) / float64(max(atLimit.ok.Latencies.P99, 1))
			check(ratio <= c.latencyFactor, "steady latency: admitted p99 %s under overload is %.2fx the p99 %s of %d clients at the limit (bound %.1fx); p50 %s vs %s",
				ms(overload.ok.Latencies.P99), ratio, ms(atLimit.ok.Latencies.P99), atLimit.clients, c.latencyFactor,
				ms(overload.ok.Latencies.P50), ms(atLimit.ok.Latencies.P50))
		}
		fmt.Printf("      admitted throughput under overload: %.0f/s, %.0f%% of the %.0f/s at the limit (refusing costs CPU: the\n"+
			"      server reads and checks each request before it refuses it, and the clients share the CPUs)\n",
			float64(overload.okInWindow)/overload.duration.Seconds(),
			100*float64(overload.okInWindow)/overload.duration.Seconds()/(float64(atLimit.okInWindow)/atLimit.duration.Seconds()),
			float64(atLimit.okInWindow)/atLimit.duration.Seconds())
	}
	if soak != nil {
		var after []rssSample
		for _, s := range soak.rss {
			if s.at >= c.soakWarmup {
				after = append(after, s)
			}
		}
		if len(after) < 2 {
			check(false, "soak: too short for RSS after the %v warm-up (%d samples)", c.soakWarmup, len(after))
		} else {
			start, end := after[0], after[len(after)-1]
			maxKiB := soak.rssMax()
			growth := float64(end.kib-start.kib) / float64(start.kib)
			var series []string
			for _, s := range soak.rss {
				series = append(series, fmt.Sprintf("%.0fs %.1f", s.at.Seconds(), mib(s.kib)))
			}
			fmt.Printf("\nsoak RSS MiB every %v: %s\n", c.soakSample, strings.Join(series, ", "))
			check(growth <= c.rssGrowth, "soak RSS: %.1f MiB at %.0f s (after warm-up), %.1f MiB at the end (%.0f s), max %.1f MiB, slope %+.3f MiB/min after warm-up; growth %+.1f%% (bound %+.0f%%)",
				mib(start.kib), start.at.Seconds(), mib(end.kib), end.at.Seconds(), mib(maxKiB), slope(after), 100*growth, 100*c.rssGrowth)
		}
	}
	for _, err := range stopErrs {
		check(err == nil, "server shutdown on SIGTERM: %v", errOr(err, "clean"))
	}
	if len(phases) == 0 {
		check(false, "no phase ran")
	}
	if pass {
		fmt.Println("\nall checks passed")
	} else {
		fmt.Println("\nsome checks failed")
	}
	return pass, nil
}
