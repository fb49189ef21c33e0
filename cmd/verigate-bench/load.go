package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// newTransport is the load generator's one connection pool: conns
// keep-alive connections per host, never more.
func newTransport(conns int) *http.Transport {
	return &http.Transport{
		MaxIdleConns:        2 * conns,
		MaxIdleConnsPerHost: conns,
		MaxConnsPerHost:     conns,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
}

// request is one request of a case. Body is sent as JSON.
type request struct {
	method, url string
	header      http.Header
	body        []byte
}

// nextFunc returns the i-th request of a case, or false when the case has
// no more (the OTP case runs out of accounts waiting for a code).
type nextFunc func(i int64) (request, bool)

// sample is what one run of one case measured.
type sample struct {
	Requests int64            `json:"requests"`
	Seconds  float64          `json:"seconds"`
	RPS      float64          `json:"rps"`
	P50Ms    float64          `json:"p50Ms"`
	P99Ms    float64          `json:"p99Ms"`
	Non2xx   int64            `json:"non2xx"`
	Statuses map[string]int64 `json:"statuses"` // "200": n; "error": transport errors
	Ratio    float64          `json:"ratioToBare"`
}

// drive sends the case's requests over conns connections until d has
// passed or next runs out; requests in flight at the deadline finish and
// count. A transport error counts as a non-2xx response ("error").
func drive(ctx context.Context, tr http.RoundTripper, conns int, d time.Duration, next nextFunc) sample {
	var seq atomic.Int64
	type worker struct {
		lat      []time.Duration
		statuses map[string]int64
	}
	workers := make([]worker, conns)
	start := time.Now()
	deadline := start.Add(d)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func(wk *worker) {
			defer wg.Done()
			wk.statuses = map[string]int64{}
			for ctx.Err() == nil && time.Now().Before(deadline) {
				rq, ok := next(seq.Add(1) - 1)
				if !ok {
					return
				}
				t0 := time.Now()
				status := roundTrip(ctx, tr, rq)
				wk.lat = append(wk.lat, time.Since(t0))
				wk.statuses[status]++
			}
		}(&workers[w])
	}
	wg.Wait()
	elapsed := time.Since(start)
	s := sample{Seconds: elapsed.Seconds(), Statuses: map[string]int64{}}
	var lat []time.Duration
	for _, wk := range workers {
		lat = append(lat, wk.lat...)
		for k, n := range wk.statuses {
			s.Statuses[k] += n
			if len(k) != 3 || k[0] != '2' {
				s.Non2xx += n
			}
		}
	}
	s.Requests = int64(len(lat))
	if elapsed > 0 {
		s.RPS = float64(s.Requests) / elapsed.Seconds()
	}
	slices.Sort(lat)
	s.P50Ms, s.P99Ms = ms(percentile(lat, 0.50)), ms(percentile(lat, 0.99))
	return s
}

// roundTrip sends one request, reads the whole answer (so the connection
// is reused) and returns its status code, or "error".
func roundTrip(ctx context.Context, tr http.RoundTripper, rq request) string {
	var body io.Reader
	if rq.body != nil {
		body = bytes.NewReader(rq.body)
	}
	req, err := http.NewRequestWithContext(ctx, rq.method, rq.url, body)
	if err != nil {
		return "error"
	}
	for k, v := range rq.header {
		req.Header[k] = v
	}
	if rq.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := tr.RoundTrip(req)
	if err != nil {
		return "error"
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return strconv.Itoa(resp.StatusCode)
}

// percentile is the nearest-rank percentile of sorted latencies.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*p+0.999999) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// median of xs (the mean of the middle two for an even count).
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if n := len(s); n%2 == 1 {
		return s[n/2]
	} else {
		return (s[n/2-1] + s[n/2]) / 2
	}
}
