// SPDX-License-Identifier: MIT OR Apache-2.0

package main

import (
	"net/http"
	"strings"

	senti "github.com/libsenti/senti/bindings/go"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the service's Prometheus metrics, on a registry of their own (one per api, so
// that tests can run several).
type metrics struct {
	registry   *prometheus.Registry
	handler    http.Handler
	requests   *prometheus.CounterVec   // senti_http_requests_total{route,code}
	duration   *prometheus.HistogramVec // senti_http_request_duration_seconds{route}
	inflight   prometheus.Gauge         // senti_http_requests_in_flight
	predicting prometheus.Gauge         // senti_predictions_in_flight
	rejected   *prometheus.CounterVec   // senti_predictions_rejected_total{reason}
}

// latencyBuckets span a single short text on one core to a batch of 1000 long ones.
var latencyBuckets = []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

func newMetrics(info modelInfo, maxInflight int, ready func() bool) *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "senti_http_requests_total",
			Help: "HTTP requests answered, by route (the mux pattern's path, or \"unmatched\") and status code.",
		}, []string{"route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "senti_http_request_duration_seconds",
			Help:    "Time from routing a request to the end of its handler, by route.",
			Buckets: latencyBuckets,
		}, []string{"route"}),
		inflight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "senti_http_requests_in_flight",
			Help: "HTTP requests being served now (a scrape counts itself).",
		}),
		predicting: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "senti_predictions_in_flight",
			Help: "Predictions running now; at senti_predictions_in_flight_limit new ones answer 429.",
		}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "senti_predictions_rejected_total",
			Help: "Prediction requests refused: reason=\"overload\" (429) or \"shutting_down\" (503).",
		}, []string{"reason"}),
	}
	m.rejected.WithLabelValues("overload")
	m.rejected.WithLabelValues("shutting_down")

	limit := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "senti_predictions_in_flight_limit",
		Help: "The bound on predictions in flight (-max-inflight).",
	})
	limit.Set(float64(maxInflight))
	modelGauge := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "senti_model_info",
		Help: "The model served: the library version recorded in it, its labels (comma-separated, in index order) and its recurrent cell. Always 1.",
		ConstLabels: prometheus.Labels{
			"version": info.Version, "labels": strings.Join(info.Labels, ","), "cell": info.Cell,
		},
	})
	modelGauge.Set(1)
	library := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "senti_library_info",
		Help:        "The libsenti library this server runs on. Always 1.",
		ConstLabels: prometheus.Labels{"version": senti.Version()},
	})
	library.Set(1)
	readyGauge := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "senti_ready",
		Help: "1 while /readyz answers 200, else 0.",
	}, func() float64 {
		if ready() {
			return 1
		}
		return 0
	})

	m.registry.MustRegister(m.requests, m.duration, m.inflight, m.predicting, m.rejected,
		limit, modelGauge, library, readyGauge,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.handler = promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
	return m
}
