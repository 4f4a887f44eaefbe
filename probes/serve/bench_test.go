package serve

import (
	"bytes"
	"net/http"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkServeSubmit: 16 clients at once submit one name each against
// 2 workers and a queue of 4 (the in-process lab, no sockets but the
// HTTP ones). It reports submissions a second, the latency of an answer
// (p50, p99), the share of 429s (the queue full: refused, not held), the
// queue's length at most (never past its capacity) and the process's RSS.
func BenchmarkServeSubmit(b *testing.B) {
	h := newHarness(b, func(o *Options) { o.Workers, o.Queue, o.MaxNames = 2, 4, 10 })
	const clients = 16
	var mu sync.Mutex
	var lat []time.Duration
	var accepted, refused, other atomic.Int64
	var maxQueue atomic.Int64
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
	b.SetParallelism(max(1, clients/runtime.GOMAXPROCS(0)))
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		var mine []time.Duration
		for pb.Next() {
			t0 := time.Now()
			resp, err := client.Post(h.ts.URL+"/api/v1/runs", "text/plain", strings.NewReader("ok.test\nnotimp.test\n"))
			if err != nil {
				other.Add(1)
				continue
			}
			var buf bytes.Buffer
			buf.ReadFrom(resp.Body)
			resp.Body.Close()
			mine = append(mine, time.Since(t0))
			switch resp.StatusCode {
			case http.StatusCreated:
				accepted.Add(1)
			case http.StatusTooManyRequests:
				refused.Add(1)
			default:
				other.Add(1)
			}
			if q := int64(len(h.srv.jobs)); q > maxQueue.Load() {
				maxQueue.Store(q)
			}
		}
		mu.Lock()
		lat = append(lat, mine...)
		mu.Unlock()
	})
	el := time.Since(start)
	b.StopTimer()
	if maxQueue.Load() > int64(cap(h.srv.jobs)) {
		b.Fatalf("queue reached %d, capacity %d", maxQueue.Load(), cap(h.srv.jobs))
	}
	if other.Load() > 0 {
		b.Errorf("%d answers neither 201 nor 429", other.Load())
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	if len(lat) > 0 {
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
	}
	b.ReportMetric(float64(len(lat))/el.Seconds(), "req/s")
	b.ReportMetric(float64(accepted.Load()), "accepted")
	b.ReportMetric(float64(refused.Load()), "429s")
	b.ReportMetric(float64(maxQueue.Load()), "max-queue")
	b.ReportMetric(float64(rssKiB()), "rss-KiB")
}

// rssKiB is this process's resident set (Linux; 0 elsewhere).
func rssKiB() int {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			n, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			return n
		}
	}
	return 0
}
