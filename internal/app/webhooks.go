package app

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/verigate/verigate/internal/delivery"
	"github.com/verigate/verigate/internal/webhook"
)

// WebhookSendTimeout is the longest one webhook attempt takes.
const WebhookSendTimeout = 15 * time.Second

// PruneEvery is how often the event pruner runs.
const PruneEvery = time.Hour

// newDeliveries makes the webhook worker: it sends through the SSRF
// guard's client, is woken by every commit that wrote events, and counts
// what it does on the server's registry.
func (a *App) newDeliveries(guard webhook.Guard) {
	m := newWebhookMetrics()
	a.Deliveries = delivery.NewWorker(a.Webhooks, webhook.NewClient(guard, WebhookSendTimeout),
		delivery.WorkerOptions{SendTimeout: WebhookSendTimeout, OnAttempt: m.observe})
	a.DB.OnEvents(a.Deliveries.Wake)
	a.Server.Registry().MustRegister(m.attempts, m.latency, &webhookQueueCollector{w: a.Deliveries, now: func() time.Time { return a.now() }})
}

// RunWebhooks delivers webhooks and prunes old events until ctx ends; it
// returns once the attempts under way have finished and been recorded.
// Every replica may run it: claims are leases.
func (a *App) RunWebhooks(ctx context.Context) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		a.Deliveries.Run(ctx)
	}()
	t := time.NewTicker(PruneEvery)
	defer t.Stop()
	for {
		if n, err := a.Deliveries.Prune(ctx, a.Config.EventRetention); err != nil && ctx.Err() == nil {
			a.Log.Error("prune events", "err", err)
		} else if n > 0 {
			a.Log.Info("pruned events", "count", n, "retention", a.Config.EventRetention)
		}
		select {
		case <-ctx.Done():
			<-done
			return
		case <-t.C:
		}
	}
}

type webhookMetrics struct {
	attempts *prometheus.CounterVec
	latency  prometheus.Histogram
}

func newWebhookMetrics() *webhookMetrics {
	m := &webhookMetrics{
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "verigate_webhook_attempts_total",
			Help: "Webhook delivery attempts by outcome: delivered, failed_retrying, failed, aborted, disabled.",
		}, []string{"outcome"}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "verigate_webhook_delivery_seconds",
			Help:    "Time from a message being queued (its event dispatched) to its delivery, for event messages.",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 7200, 36000},
		}),
	}
	for _, o := range []string{delivery.OutcomeDelivered, delivery.OutcomeRetrying, delivery.OutcomeFailed,
		delivery.OutcomeAborted, delivery.OutcomeDisabled} {
		m.attempts.WithLabelValues(o) // every outcome shows, at 0
	}
	return m
}

func (m *webhookMetrics) observe(outcome string, queued time.Duration) {
	m.attempts.WithLabelValues(outcome).Inc()
	if queued >= 0 {
		m.latency.Observe(queued.Seconds())
	}
}

// webhookQueueCollector measures the delivery queue when scraped: one
// query for both gauges.
type webhookQueueCollector struct {
	w   *delivery.Worker
	now func() time.Time
}

var (
	queueDepthDesc = prometheus.NewDesc("verigate_webhook_queue_depth",
		"Webhook messages waiting to be delivered (pending or being sent).", nil, nil)
	oldestPendingDesc = prometheus.NewDesc("verigate_webhook_oldest_pending_seconds",
		"Age of the oldest webhook message waiting to be delivered; 0 when none waits.", nil, nil)
)

func (c *webhookQueueCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- queueDepthDesc
	ch <- oldestPendingDesc
}

func (c *webhookQueueCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st, err := c.w.Stats(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(queueDepthDesc, err)
		return
	}
	age := 0.0
	if !st.OldestPending.IsZero() {
		age = max(0, c.now().Sub(st.OldestPending).Seconds())
	}
	ch <- prometheus.MustNewConstMetric(queueDepthDesc, prometheus.GaugeValue, float64(st.Depth))
	ch <- prometheus.MustNewConstMetric(oldestPendingDesc, prometheus.GaugeValue, age)
}
