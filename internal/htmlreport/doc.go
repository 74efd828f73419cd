// Package htmlreport renders the HTML report of a violation: one
// self-contained page a newcomer can open from a run directory and read
// without the source.
//
// # The timeline page
//
// A [Page] is a violation told as a timeline: a [Title] naming the check,
// the seed and the flaw; a few [Fact]s (the repro command, the run
// directory); a legend of [LegendEntry] terms for the notation; and the
// [Event]s, one lane per process (the postmaster, each backend, each
// worker), in time order. The events that make the violation carry
// [MarkViolation]: they are highlighted and listed first, in a summary box
// whose links scroll to them. Events worth a look that are not part of it
// (a fault injected, a crash) carry [MarkNote].
//
//	p := htmlreport.Page{
//		Title:  htmlreport.Title("waiters", 42, ""),
//		Facts:  []htmlreport.Fact{{Key: "repro", Value: "bgw stress -seed 42", Code: true}},
//		Events: []htmlreport.Event{
//			{At: 3 * time.Millisecond, Lane: "backend 1", Text: "register slot 2"},
//			{At: 9 * time.Millisecond, Lane: "backend 1", Text: "wait for startup", Mark: htmlreport.MarkViolation,
//				Why: "never ended"},
//		},
//	}
//	err := htmlreport.WriteFile("run/violation.html", p)
//
// [Page.Render] writes the page to a writer and [WriteFile] to a file,
// atomically. Everything given is text: it is escaped by html/template, so
// a worker name or a log line can hold anything.
//
// # Self-contained
//
// The page has its CSS and its script inline and loads nothing: no font,
// no image, no script from elsewhere. Its Content-Security-Policy says so
// (default-src 'none'), so a browser refuses any load, and the browser test
// would see the refusal as a console error. The script is small and
// optional: a filter that shows only the marked events, and a flash on the
// event a summary link scrolls to; without it the page reads the same.
//
// # Porcupine's page
//
// A linearizability violation is shown by porcupine's own visualization,
// which is titled only "Porcupine". [RetitlePorcupine] gives it the same
// title as a [Page] and a banner with the facts, and leaves its script and
// data alone.
//
// # The browser test
//
// browser_test.go renders pages and loads them in a headless Chromium from
// file:// URLs with the network unused, and fails on any script exception
// or console error; it checks the marked events are in the DOM, clicks a
// summary link and the filter, and saves PNG screenshots in
// $BGW_SCREENSHOT_DIR (an absolute path: the test runs in the package
// directory; by default a temporary directory):
//
//	BGW_SCREENSHOT_DIR=$PWD/docs/img go test -count=1 -run Browser -v ./internal/htmlreport
//
// It needs /usr/bin/chromium (Debian's chromium package; .ci/setup-chromium
// installs it). Without it the test skips, unless CI is set, when it fails.
// It is skipped under -short.
package htmlreport
