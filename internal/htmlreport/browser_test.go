package htmlreport

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// The browser test loads the reports in Debian's headless Chromium, from
// file:// URLs with nothing served, and fails on any script exception,
// console error or load of anything but the page itself. See doc.go for
// how to run it and where its screenshots go.

// screenshotDirEnv names the directory the screenshots are written to.
const screenshotDirEnv = "BGW_SCREENSHOT_DIR"

// chromiumEnv overrides the browser's path.
const chromiumEnv = "BGW_CHROMIUM"

// chromium returns the browser's path, or skips the test when there is none
// and CI is unset; under CI a missing browser fails the test.
func chromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv(chromiumEnv); p != "" {
		return p
	}
	for _, name := range []string{"/usr/bin/chromium", "chromium"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("htmlreport: chromium not found and CI is set: run .ci/setup-chromium (apt-get install chromium)")
	}
	t.Skip("browser test skipped: no chromium (apt-get install chromium, or bash .ci/setup-chromium)")
	return ""
}

// browser starts a headless Chromium with a fresh profile and the flags
// of a closed network, and returns its context.
func browser(t *testing.T) context.Context {
	t.Helper()
	if testing.Short() {
		t.Skip("browser test skipped under -short")
	}
	path := chromium(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	alloc, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-breakpad", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	t.Cleanup(cancelAlloc)
	bctx, cancelBrowser := chromedp.NewContext(alloc)
	t.Cleanup(cancelBrowser)
	start := time.Now()
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("htmlreport: start chromium %s: %v", path, err)
	}
	t.Logf("chromium %s started in %v", path, time.Since(start).Round(time.Millisecond))
	return bctx
}

// watch collects what a tab reports that a clean page never causes.
type watch struct {
	mu       sync.Mutex
	problems []string // exceptions, console errors, error log entries
	requests []string // URLs requested
}

func (w *watch) add(list *[]string, s string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	*list = append(*list, s)
}

func (w *watch) snapshot() (problems, requests []string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.problems), slices.Clone(w.requests)
}

// open opens a tab on the file at path and waits for it to load; the tab's
// watch sees everything from before the load on.
func open(t *testing.T, bctx context.Context, path string) (context.Context, *watch) {
	t.Helper()
	tab, cancel := chromedp.NewContext(bctx)
	t.Cleanup(cancel)
	w := &watch{}
	err := chromedp.Listen(tab, func(ev any) {
		switch ev := ev.(type) {
		case *runtime.EventExceptionThrown:
			d := ev.ExceptionDetails
			text := d.Text
			if d.Exception != nil {
				text += " " + d.Exception.Description
			}
			w.add(&w.problems, fmt.Sprintf("exception: %s (%s:%d)", text, d.URL, d.LineNumber))
		case *runtime.EventConsoleAPICalled:
			if ev.Type == "error" || ev.Type == "assert" {
				var args []string
				for _, a := range ev.Args {
					args = append(args, strings.Trim(string(a.Value), `"`)+a.Description)
				}
				w.add(&w.problems, "console."+string(ev.Type)+": "+strings.Join(args, " "))
			}
		case *log.EventEntryAdded:
			if ev.Entry.Level == log.EntryLevelError {
				w.add(&w.problems, "log ("+string(ev.Entry.Source)+"): "+ev.Entry.Text)
			}
		case *network.EventRequestWillBeSent:
			w.add(&w.requests, ev.Request.URL)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	u := (&url.URL{Scheme: "file", Path: path}).String()
	if err := chromedp.Do(tab, chromedp.Navigate(u)); err != nil {
		t.Fatalf("htmlreport: load %s: %v", u, err)
	}
	return tab, w
}

// clean fails the test if the tab had a problem or loaded anything but
// the page at path.
func clean(t *testing.T, tab context.Context, w *watch, path string) {
	t.Helper()
	// A round trip, so that every event sent before it has arrived.
	if _, err := chromedp.Run(tab, chromedp.Evaluate[int](`1`)); err != nil {
		t.Fatal(err)
	}
	problems, requests := w.snapshot()
	for _, p := range problems {
		t.Errorf("the page reported: %s", p)
	}
	page := (&url.URL{Scheme: "file", Path: path}).String()
	for _, r := range requests {
		if r != page {
			t.Errorf("the page requested %s", r)
		}
	}
}

func run[T any](t *testing.T, tab context.Context, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(tab, a)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func do(t *testing.T, tab context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(tab, steps...); err != nil {
		t.Fatal(err)
	}
}

// screenshot saves a PNG of the whole page as name in $BGW_SCREENSHOT_DIR,
// or in a temporary directory.
func screenshot(t *testing.T, tab context.Context, name string) {
	t.Helper()
	dir := os.Getenv(screenshotDirEnv)
	if dir == "" {
		dir = t.TempDir()
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	png := run(t, tab, chromedp.FullScreenshot(100))
	if !strings.HasPrefix(string(png), "\x89PNG\r\n\x1a\n") {
		t.Fatalf("the screenshot is not a PNG (%d bytes)", len(png))
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s (%d bytes)", path, len(png))
}

type domRow struct {
	ID   string `json:"id"`
	Mark string `json:"mark"`
	Text string `json:"text"`
}

// TestBrowser starts one browser for all its subtests: starting one is
// the slow part on a loaded machine.
func TestBrowser(t *testing.T) {
	bctx := browser(t)
	t.Run("watch catches errors", func(t *testing.T) { testCatches(t, bctx) })
	t.Run("timeline", func(t *testing.T) { testTimeline(t, bctx) })
	t.Run("porcupine", func(t *testing.T) { testPorcupine(t, bctx) })
}

func testTimeline(t *testing.T, bctx context.Context) {
	p := samplePage()
	path := filepath.Join(t.TempDir(), "violation.html")
	if err := WriteFile(path, p); err != nil {
		t.Fatal(err)
	}
	tab, w := open(t, bctx, path)

	if got := run(t, tab, chromedp.Title()); got != p.Title {
		t.Errorf("document title %q, want %q", got, p.Title)
	}
	if ready := run(t, tab, chromedp.Evaluate[string](`document.documentElement.getAttribute('data-ready') || ''`)); ready != "true" {
		t.Fatal("the page's script did not run to its end")
	}
	screenshot(t, tab, "violation-timeline.png")

	// The marked events are in the DOM, as rows with their mark, in time
	// order, and the summary links to each.
	rows := run(t, tab, chromedp.Evaluate[[]domRow](`Array.from(document.querySelectorAll('tr.ev:not(.mark-none)')).map(r => ({
		id: r.id, mark: r.dataset.mark, text: r.querySelector('td.here .event').firstChild.textContent}))`))
	var want []domRow
	for _, e := range p.Events {
		if e.Mark != MarkNone {
			want = append(want, domRow{Mark: e.Mark.String(), Text: e.Text})
		}
	}
	if len(rows) != len(want) {
		t.Fatalf("marked rows %+v, want %+v", rows, want)
	}
	for i := range rows {
		if rows[i].Mark != want[i].Mark || rows[i].Text != want[i].Text {
			t.Errorf("marked row %d: %+v, want %+v", i, rows[i], want[i])
		}
	}
	links := run(t, tab, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll('#summary a')).map(a => a.getAttribute('href'))`))
	var targets []string
	for _, r := range rows {
		if r.Mark == "violation" {
			targets = append(targets, "#"+r.ID)
		}
	}
	for _, r := range rows {
		if r.Mark == "note" {
			targets = append(targets, "#"+r.ID)
		}
	}
	if !slices.Equal(links, targets) {
		t.Errorf("summary links %q, want violations then notes %q", links, targets)
	}

	// Hostile text is text: nothing it holds ran or became an element.
	hacked := run(t, tab, chromedp.Evaluate[bool](`window.hacked !== undefined || document.querySelectorAll('img').length > 0 ||
		document.querySelectorAll('script').length !== 1`))
	if hacked {
		t.Error("hostile text became markup")
	}
	if !strings.Contains(run(t, tab, chromedp.Text(chromedp.CSS("#timeline"))), "<script>window.hacked=1</script>") {
		t.Error("hostile text is not shown as text")
	}

	// A summary link scrolls to its event and flashes it.
	second := strings.TrimPrefix(targets[1], "#")
	do(t, tab, chromedp.Click(chromedp.CSS(`#summary ol.violations li:nth-child(2) a`)))
	type place struct {
		Hash    string  `json:"hash"`
		Flash   bool    `json:"flash"`
		Top     float64 `json:"top"`
		Bottom  float64 `json:"bottom"`
		Height  float64 `json:"height"`
		ScrollY float64 `json:"scrollY"`
	}
	var at place
	for deadline := time.Now().Add(5 * time.Second); ; {
		at = run(t, tab, chromedp.Evaluate[place](fmt.Sprintf(`(() => { const r = document.getElementById(%q), b = r.getBoundingClientRect();
			return {hash: location.hash, flash: r.classList.contains('flash'), top: b.top, bottom: b.bottom,
				height: window.innerHeight, scrollY: window.scrollY}; })()`, second)))
		if at.Hash == "#"+second && at.Flash || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if at.Hash != "#"+second || !at.Flash {
		t.Errorf("after the click: hash %q, flash %v; want %q flashing", at.Hash, at.Flash, "#"+second)
	}
	if at.Top < 0 || at.Bottom > at.Height {
		t.Errorf("after the click the event is at %.0f..%.0f, outside the window of height %.0f", at.Top, at.Bottom, at.Height)
	}

	// The filter shows only the marked events, and all of them again.
	visible := `Array.from(document.querySelectorAll('tr.ev')).filter(r => r.offsetParent !== null).length`
	do(t, tab, chromedp.Click(chromedp.ID("only-marked")))
	if n := run(t, tab, chromedp.Evaluate[int](visible)); n != len(want) {
		t.Errorf("with the filter on, %d rows shown, want the %d marked", n, len(want))
	}
	do(t, tab, chromedp.Click(chromedp.ID("only-marked")))
	if n := run(t, tab, chromedp.Evaluate[int](visible)); n != len(p.Events) {
		t.Errorf("with the filter off, %d rows shown, want %d", n, len(p.Events))
	}

	clean(t, tab, w, path)
}

func testPorcupine(t *testing.T, bctx context.Context) {
	title := Title("linearizability", 42, "stale-read")
	page, err := RetitlePorcupine(porcupinePage(t), title, []Fact{
		{Key: "repro", Value: "bgw stress -seed 42 -flaw stale-read", Code: true},
		{Key: "run directory", Value: "/tmp/bgw-out-42", Code: true},
	})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "linearizability.html")
	if err := os.WriteFile(path, page, 0o644); err != nil {
		t.Fatal(err)
	}
	tab, w := open(t, bctx, path)

	if got := run(t, tab, chromedp.Title()); got != title {
		t.Errorf("document title %q, want %q", got, title)
	}
	if got := run(t, tab, chromedp.Text(chromedp.CSS("#bgw-banner h1"))); got != title {
		t.Errorf("banner %q, want %q", got, title)
	}
	type layout struct {
		SVGs         int     `json:"svgs"`
		JumpActive   bool    `json:"jumpActive"`
		BannerBottom float64 `json:"bannerBottom"`
		LegendTop    float64 `json:"legendTop"`
	}
	l := run(t, tab, chromedp.Evaluate[layout](`(() => ({
		svgs: document.querySelectorAll('#canvas svg').length,
		jumpActive: !document.getElementById('jump-link').classList.contains('inactive'),
		bannerBottom: document.getElementById('bgw-banner').getBoundingClientRect().bottom,
		legendTop: document.getElementById('legend').getBoundingClientRect().top}))()`))
	if l.SVGs == 0 {
		t.Error("porcupine drew nothing: its script did not run")
	}
	if !l.JumpActive {
		t.Error("porcupine shows no error to jump to, for a history that is not linearizable")
	}
	if l.LegendTop < l.BannerBottom {
		t.Errorf("porcupine's legend (top %.0f) covers the banner (bottom %.0f)", l.LegendTop, l.BannerBottom)
	}
	screenshot(t, tab, "violation-porcupine.png")
	clean(t, tab, w, path)
}

// testCatches shows the watch is not blind: a page that throws, logs an
// error and tries to load an image from the network is caught.
func testCatches(t *testing.T, bctx context.Context) {
	path := filepath.Join(t.TempDir(), "broken.html")
	broken := `<!doctype html><html><head>
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'">
<title>broken</title></head><body><img src="https://example.invalid/x.png">
<script>console.error('console says no'); throw new Error('boom');</script></body></html>`
	if err := os.WriteFile(path, []byte(broken), 0o644); err != nil {
		t.Fatal(err)
	}
	tab, w := open(t, bctx, path)
	if _, err := chromedp.Run(tab, chromedp.Evaluate[int](`1`)); err != nil {
		t.Fatal(err)
	}
	problems, _ := w.snapshot()
	all := strings.Join(problems, "\n")
	for _, want := range []string{"exception: Uncaught Error: boom", "console.error: console says no", "Content Security Policy"} {
		if !strings.Contains(all, want) {
			t.Errorf("the watch missed %q; it saw:\n%s", want, all)
		}
	}
}
