package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/caaprobe/caaprobe/fixtures"
	"github.com/caaprobe/caaprobe/probes/check"
	"github.com/caaprobe/caaprobe/probes/input"
	"github.com/caaprobe/caaprobe/probes/model"
	"github.com/caaprobe/caaprobe/probes/render"
	"github.com/spf13/cobra"
)

// newBenchLabCmd starts the bench lab (one provider, two addresses, N zones)
// in this process and checks every zone as `check --format json` would,
// writing the JSON to nowhere, then prints throughput and memory. It is
// what `make bench` runs; nothing leaves the loopback.
func newBenchLabCmd(env *cliEnv) *cobra.Command {
	cmd := &cobra.Command{Use: "bench-lab [-n N] [flags]", Short: "measure throughput on a lab of N zones at one provider (loopback only)", Args: cobra.NoArgs}
	fs := cmd.Flags()
	var f checkFlags
	f.register(fs)
	fs.MarkHidden("output") // bench-lab has its own --out
	n := fs.IntP("zones", "n", 10000, "number of zones in the bench lab")
	shape := fs.String("shape", "provider", "bench lab shape: provider (every zone on the provider's two NS names) or vanity (every zone has its own in-bailiwick ns1/ns2.<zone> with glue)")
	out := fs.String("out", "", "also write the report to `FILE` (default: discarded)")
	blockprofile := fs.String("blockprofile", "", "write a profile of where goroutines waited to `FILE`")
	memprofile := fs.String("memprofile", "", "write a heap profile taken halfway through the check to `FILE` (go tool pprof)")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of the check to `FILE` (go tool pprof)")
	fs.Lookup("timeout").DefValue = "1s"
	f.timeout = time.Second
	fs.Lookup("retries").DefValue = "1"
	f.retries = 1
	fs.Lookup("rate").DefValue = "0"
	f.rate = 0
	fs.Lookup("format").DefValue = "json"
	f.format = "json"
	// The lab answers in microseconds, so the run is bound by CPU, not by
	// waiting: 32 domains of the full plan (about 1,000 exchanges) at once
	// keep 2 cores as busy as 64 did (984 vs 900 domains/s at 10k), and
	// the other 32 only added goroutine stacks and garbage in flight (peak
	// RSS 92 vs 105 MB). A CAA-only domain is 3 exchanges, so it keeps 64.
	// check's own default stays 64: on the network a domain mostly waits.
	fs.Lookup("concurrency").DefValue = "64; 32 for the full plan"
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		ctx, stdout := env.ctx, env.stdout
		if *n < 1 {
			return usageErr("-n %d: want at least 1", *n)
		}
		if *shape != "provider" && *shape != "vanity" {
			return usageErr("--shape %q: want provider or vanity", *shape)
		}
		b, err := fixtures.StartBench(fixtures.BenchOptions{N: *n, Vanity: *shape == "vanity"})
		if err != nil {
			return fmt.Errorf("starting the bench lab: %w", err)
		}
		defer b.Close()
		f.root = b.Root.String()
		f.port = b.Port
		if !fs.Changed("concurrency") && f.probeList == "" {
			f.concurrency = 32
		}
		cfg, err := f.config()
		if err != nil {
			return err
		}
		if cfg.TrustAnchor == nil {
			cfg.TrustAnchor = b.TrustAnchor()
		}
		// The bench zones are named as they are read, like lines of a list
		// file: the input is a stream, never a slice of N names.
		var readErr error
		items := input.Stream(nil, func(r *input.Reader) error {
			for i := range *n {
				r.AddArgs([]string{fixtures.BenchDomain(i)})
			}
			return nil
		}, &readErr)

		var sink io.Writer = io.Discard
		if *out != "" {
			of, err := os.Create(*out)
			if err != nil {
				return fmt.Errorf("bench output: %w", err)
			}
			defer of.Close()
			bw := bufio.NewWriter(of)
			defer bw.Flush()
			sink = bw
		}
		if *blockprofile != "" {
			runtime.SetBlockProfileRate(10000)
			defer func() {
				if pf, err := os.Create(*blockprofile); err == nil {
					pprof.Lookup("block").WriteTo(pf, 0)
					pf.Close()
				}
			}()
		}
		runtime.GC()
		cpu0 := cpuTime()
		if *cpuprofile != "" {
			pf, err := os.Create(*cpuprofile)
			if err != nil {
				return fmt.Errorf("cpu profile: %w", err)
			}
			defer pf.Close()
			if err := pprof.StartCPUProfile(pf); err != nil {
				return fmt.Errorf("cpu profile: %w", err)
			}
			defer pprof.StopCPUProfile()
		}
		peaks := watchMemory()
		sched0, wait0 := readSched(), runQueueWait()
		start := time.Now()
		c := check.New(cfg)
		defer c.Close()
		limitMemory(c.LiveEstimate(f.concurrency))
		verdicts := map[model.Verdict]int{}
		// The report is rendered as check renders it (render.New), counted,
		// and kept only with --out.
		counted := &countingWriter{w: sink}
		rs, err := render.New(f.format, counted, render.Options{Summary: render.SummaryOff, Title: "caaprobe bench-lab"})
		if err != nil {
			return usageErr("%v", err)
		}
		done := 0
		c.Run(ctx, items, f.concurrency, func(_ input.Item, d *model.Domain) {
			if done++; done == *n/2 && *memprofile != "" {
				// Halfway: the live heap of a run in progress, which is what
				// must not grow with the input.
				writeHeapProfile(*memprofile)
			}
			verdicts[d.Verdict]++
			rs.Domain(render.Record{Domain: d})
		})
		rs.Close()
		encoded := counted.n
		wall := time.Since(start)
		cpu := cpuTime() - cpu0
		sched := readSched().since(sched0)
		waited := runQueueWait() - wait0
		sent := c.X.Sent()
		secs := wall.Seconds()
		plan := "full"
		if f.probeList != "" {
			plan = f.probeList
		}
		fmt.Fprintf(stdout, "bench-lab: %d zones (%s shape), probes %s, concurrency %d, rate %g/s per address, GOMAXPROCS %d\n",
			*n, *shape, plan, f.concurrency, f.rate, runtime.GOMAXPROCS(0))
		fmt.Fprintf(stdout, "  wall time        %.3f s\n", secs)
		fmt.Fprintf(stdout, "  domains/s        %.0f\n", float64(*n)/secs)
		fmt.Fprintf(stdout, "  queries          %d (%.2f per domain)\n", sent, float64(sent)/float64(*n))
		fmt.Fprintf(stdout, "  queries/s        %.0f\n", float64(sent)/secs)
		// CPU time is the figure to compare between runs on a shared machine:
		// wall time also counts time the process waited for a CPU.
		fmt.Fprintf(stdout, "  CPU time         %.3f s (%.0f µs per domain, %.1f µs per query; lab servers included)\n",
			cpu.Seconds(), float64(cpu.Microseconds())/float64(*n), float64(cpu.Microseconds())/float64(max(sent, 1)))
		fmt.Fprintf(stdout, "  load average     %s\n", loadAvg())
		fmt.Fprintf(stdout, "  Go scheduler     %s\n", sched)
		// The kernel's count of the time this process's threads were
		// runnable but had no CPU: on a shared machine, the wall time the
		// others took.
		fmt.Fprintf(stdout, "  waited for a CPU %.3f s (threads runnable, no CPU free: the machine's other load)\n", waited.Seconds())
		fmt.Fprintf(stdout, "  output           %.1f MB of %s\n", float64(encoded)/1e6, f.format)
		fmt.Fprintf(stdout, "  verdicts         %s\n", formatCounts(verdicts))
		fmt.Fprintf(stdout, "  peak RSS         %s\n", peakRSS())
		fmt.Fprintf(stdout, "  peak heap        %.1f MB (Go runtime, live+garbage at the last GC cycle)\n", heapMB())
		fmt.Fprintf(stdout, "  peaks (sampled)  %s\n", peaks())
		if verdicts[model.VerdictPass] != *n {
			return &exitError{exitFindings, "bench-lab: some bench zones did not pass; the figures above are not a clean run"}
		}
		return nil
	}
	return cmd
}

// countingWriter counts the bytes written through it.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// writeHeapProfile writes the heap profile after a collection, so it shows
// what is live.
func writeHeapProfile(path string) {
	if pf, err := os.Create(path); err == nil {
		runtime.GC()
		pprof.Lookup("heap").WriteTo(pf, 0)
		pf.Close()
	}
}

func formatCounts(m map[model.Verdict]int) string {
	var parts []string
	for _, k := range []model.Verdict{model.VerdictPass, model.VerdictWarn, model.VerdictFail, model.VerdictError} {
		if m[k] > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
		}
	}
	return strings.Join(parts, ", ")
}

// watchMemory samples the runtime's memory classes and goroutine count
// every 50 ms until the returned function is called, which reports the
// highest of each: what makes up the peak RSS.
func watchMemory() func() string {
	names := []string{"/memory/classes/total:bytes", "/memory/classes/heap/objects:bytes",
		"/memory/classes/heap/unused:bytes", "/memory/classes/heap/free:bytes", "/memory/classes/heap/stacks:bytes",
		"/sched/goroutines:goroutines"}
	samples := make([]metrics.Sample, len(names))
	for i, n := range names {
		samples[i].Name = n
	}
	peak := make([]uint64, len(names))
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(samples)
			for i, s := range samples {
				if s.Value.Kind() == metrics.KindUint64 {
					peak[i] = max(peak[i], s.Value.Uint64())
				}
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	return func() string {
		close(stop)
		<-done
		mb := func(i int) float64 { return float64(peak[i]) / 1e6 }
		return fmt.Sprintf("Go total %.1f MB, heap objects %.1f MB, heap unused %.1f MB, heap free %.1f MB, stacks %.1f MB, %d goroutines",
			mb(0), mb(1), mb(2), mb(3), mb(4), peak[5])
	}
}

// peakRSS reads the kernel's high-water mark of resident memory for this
// process (Linux); elsewhere it says it cannot.
func peakRSS() string {
	fh, err := os.Open("/proc/self/status")
	if err != nil {
		return "unknown (no /proc/self/status)"
	}
	defer fh.Close()
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			if err != nil {
				return strings.TrimSpace(v)
			}
			return fmt.Sprintf("%.1f MB (VmHWM)", float64(kb)/1024)
		}
	}
	return "unknown"
}

func heapMB() float64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return float64(s[0].Value.Uint64()) / 1e6
}

// cpuTime is the user and system time this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// loadAvg is the machine's 1-minute load average: a benchmark on a busy
// machine measures the other work too.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return "unknown"
	}
	return f[0] + fmt.Sprintf(" (on %d CPUs)", runtime.NumCPU())
}

// schedSample is the Go runtime's own account of its processors' time
// (runtime/metrics /cpu/classes): it tells a core left idle because the
// run had nothing to do (idle) from one taken by other processes on a
// shared machine (which the runtime counts as running).
type schedSample struct{ total, idle, gc, user float64 }

func readSched() schedSample {
	s := []metrics.Sample{{Name: "/cpu/classes/total:cpu-seconds"}, {Name: "/cpu/classes/idle:cpu-seconds"},
		{Name: "/cpu/classes/gc/total:cpu-seconds"}, {Name: "/cpu/classes/user:cpu-seconds"}}
	metrics.Read(s)
	f := func(i int) float64 {
		if s[i].Value.Kind() != metrics.KindFloat64 {
			return 0
		}
		return s[i].Value.Float64()
	}
	return schedSample{f(0), f(1), f(2), f(3)}
}

func (s schedSample) since(o schedSample) string {
	total := s.total - o.total
	if total <= 0 {
		return "unknown"
	}
	pct := func(v float64) float64 { return 100 * v / total }
	return fmt.Sprintf("%.0f %% of GOMAXPROCS × wall idle (nothing runnable), %.0f %% GC, %.0f %% user code (estimates of the runtime; time taken by other processes counts as running)",
		pct(s.idle-o.idle), pct(s.gc-o.gc), pct(s.user-o.user))
}

// runQueueWait is the time this process's threads have spent runnable
// but waiting for a CPU (the second field of each thread's
// /proc/.../schedstat, Linux); 0 where that cannot be read.
func runQueueWait() time.Duration {
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return 0
	}
	var total time.Duration
	for _, t := range tasks {
		b, err := os.ReadFile("/proc/self/task/" + t.Name() + "/schedstat")
		if err != nil {
			continue
		}
		if f := strings.Fields(string(b)); len(f) >= 2 {
			if ns, err := strconv.ParseInt(f[1], 10, 64); err == nil {
				total += time.Duration(ns)
			}
		}
	}
	return total
}
