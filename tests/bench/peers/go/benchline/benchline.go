// Package benchline is what the Go peers of the watch benchmark share: the arguments, the
// clock and the one JSON line that every tool of compare_watch.sh prints.
package benchline

import (
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Args are the peers' common command line: KUBECONFIG NAMESPACE EVENTS TIMEOUT_S.
type Args struct {
	Kubeconfig string
	Namespace  string
	Events     int64
	Timeout    time.Duration
}

// ParseArgs reads os.Args, exiting with a usage line when they are wrong.
func ParseArgs(tool string) Args {
	if len(os.Args) != 5 {
		fmt.Fprintf(os.Stderr, "usage: %s KUBECONFIG NAMESPACE EVENTS TIMEOUT_S\n", tool)
		os.Exit(2)
	}
	events, err1 := strconv.ParseInt(os.Args[3], 10, 64)
	timeout, err2 := strconv.ParseFloat(os.Args[4], 64)
	if err1 != nil || err2 != nil || events <= 0 || timeout <= 0 {
		fmt.Fprintf(os.Stderr, "%s: EVENTS and TIMEOUT_S must be positive numbers\n", tool)
		os.Exit(2)
	}
	return Args{os.Args[1], os.Args[2], events, time.Duration(timeout * float64(time.Second))}
}

// Meter counts the watch events seen after the list and prints the result line.
type Meter struct {
	tool      string
	wanted    int64
	rssBefore int64
	start     time.Time
	listed    atomic.Bool
	listSecs  float64
	events    atomic.Int64
	first     atomic.Int64 // unix nanoseconds of the first event after the list
	last      atomic.Int64 // unix nanoseconds of the wanted-th event
	done      chan struct{}
	once      sync.Once
}

// NewMeter starts the clock; make it before the client so that its memory is counted.
func NewMeter(tool string, a Args) *Meter {
	return &Meter{tool: tool, wanted: a.Events, rssBefore: statusKB("VmRSS:"), start: time.Now(), done: make(chan struct{})}
}

// Listed marks the end of list+sync (every listed object in the cache and handed to the
// handler), and says so on stderr: compare_watch.sh waits for the word "listed".
func (m *Meter) Listed(objects int) {
	m.listSecs = time.Since(m.start).Seconds()
	m.listed.Store(true)
	fmt.Fprintf(os.Stderr, "%s: listed %d objects in %.2f s\n", m.tool, objects, m.listSecs)
}

// Event counts one watch event (an add, update or delete handed to the handler); those
// before Listed are the list's own.
func (m *Meter) Event() {
	if !m.listed.Load() {
		return
	}
	n := m.events.Add(1)
	now := time.Now().UnixNano()
	if n == 1 {
		m.first.Store(now)
	}
	if n == m.wanted {
		m.last.Store(now)
		m.once.Do(func() { close(m.done) })
	}
}

// Wait returns true when the wanted events were seen, false at the timeout.
func (m *Meter) Wait(timeout time.Duration) bool {
	select {
	case <-m.done:
		return true
	case <-time.After(timeout):
		return false
	}
}

// Finish prints the JSON line (after a GC that gives freed memory back, as watch-bench's
// malloc_trim does) and exits: 0 when the wanted events were seen.
func (m *Meter) Finish(objects int, done bool) {
	runtime.GC()
	debug.FreeOSMemory()
	rss := statusKB("VmRSS:")
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	watchSecs := -1.0
	eps := int64(0)
	if done {
		watchSecs = float64(m.last.Load()-m.first.Load()) / 1e9
		if watchSecs > 0 {
			eps = int64(float64(m.events.Load())/watchSecs + 0.5)
		}
	}
	perObject := int64(0)
	if objects > 0 {
		perObject = (rss - m.rssBefore) * 1024 / int64(objects)
	}
	line, _ := json.Marshal(map[string]any{
		"tool": m.tool, "objects_listed": objects, "list_seconds": m.listSecs, "watch_events": m.events.Load(),
		"watch_seconds": watchSecs, "watch_events_per_second": eps, "peak_rss_kb": ru.Maxrss, "rss_kb": rss,
		"rss_per_object_bytes": perObject, "completed": done,
	})
	fmt.Println(string(line))
	if done {
		os.Exit(0)
	}
	os.Exit(1)
}

func statusKB(field string) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, field) {
			f := strings.Fields(l[len(field):])
			if len(f) > 0 {
				v, _ := strconv.ParseInt(f[0], 10, 64)
				return v
			}
		}
	}
	return -1
}
