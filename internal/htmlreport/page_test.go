package htmlreport

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

func render(t *testing.T, p Page) string {
	t.Helper()
	var buf bytes.Buffer
	if err := p.Render(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

var (
	rowRE     = regexp.MustCompile(`<tr id="(ev-[0-9]+)" class="ev mark-([a-z]+)" data-mark="([a-z]+)">`)
	laneRE    = regexp.MustCompile(`<th class="lane">([^<]*)</th>`)
	linkRE    = regexp.MustCompile(`<li><a href="#(ev-[0-9]+)">`)
	timeRE    = regexp.MustCompile(`<td class="time mono">([0-9.]+)`)
	eventRE   = regexp.MustCompile(`<td class="here"><div class="event">([^<]*)`)
	summaryRE = regexp.MustCompile(`(?s)<section id="summary">.*?</section>`)
)

func TestRender(t *testing.T) {
	p := samplePage()
	out := render(t, p)

	if !strings.Contains(out, "<title>bgw: waiters violation, seed 42, flaw no-notify-on-crash</title>") {
		t.Error("the title does not name the check, seed and flaw")
	}
	// Lanes: the listed ones first, then the others as they first appear.
	var lanes []string
	for _, m := range laneRE.FindAllStringSubmatch(out, -1) {
		lanes = append(lanes, m[1])
	}
	if want := []string{"postmaster", "backend 1", "backend 2", "worker 4242", "fault"}; !slices.Equal(lanes, want) {
		t.Errorf("lanes %q, want %q", lanes, want)
	}
	// One row per event, in time order, each marked as given.
	rows := rowRE.FindAllStringSubmatch(out, -1)
	if len(rows) != len(p.Events) {
		t.Fatalf("%d rows, want %d", len(rows), len(p.Events))
	}
	var times []string
	for _, m := range timeRE.FindAllStringSubmatch(out, -1) {
		times = append(times, m[1])
	}
	for i := 1; i < len(times); i++ {
		if times[i] < times[i-1] {
			t.Errorf("row %d at %s comes after %s", i, times[i], times[i-1])
		}
	}
	if times[0] != "0.000000" || times[len(times)-1] != "1.201000" {
		t.Errorf("times run from %s to %s", times[0], times[len(times)-1])
	}
	marks := map[string]string{}
	count := map[string]int{}
	for _, m := range rows {
		if m[2] != m[3] {
			t.Errorf("row %s: class mark-%s but data-mark %s", m[1], m[2], m[3])
		}
		marks[m[1]] = m[2]
		count[m[2]]++
	}
	if count["violation"] != 3 || count["note"] != 1 || count["none"] != 7 {
		t.Errorf("marks %v, want 3 violation, 1 note, 7 none", count)
	}
	// Events at the same time keep their order: worker 4242 started
	// before backend 2's wait.
	texts := eventRE.FindAllStringSubmatch(out, -1)
	if texts[4][1] != "started in s3/g1" || !strings.HasPrefix(texts[5][1], "WaitForBackgroundWorkerStartup(s3/g1)") {
		t.Errorf("rows 4 and 5 are %q and %q", texts[4][1], texts[5][1])
	}
	// The summary links to the marked events, violations first, each
	// link to a row that exists and has that mark.
	summary := summaryRE.FindString(out)
	links := linkRE.FindAllStringSubmatch(summary, -1)
	if len(links) != 4 {
		t.Fatalf("%d summary links, want 4", len(links))
	}
	for i, l := range links {
		want := "violation"
		if i == 3 {
			want = "note"
		}
		if marks[l[1]] != want {
			t.Errorf("summary link %d to %s, a row marked %q, want %q", i, l[1], marks[l[1]], want)
		}
	}
	for _, s := range []string{p.Summary, "never returned", "the notify the wait needs is dropped",
		"s3/g1", "slot 3, generation 1", "bgw stress -seed 42 -flaw no-notify-on-crash -duration 25s"} {
		if !strings.Contains(out, s) {
			t.Errorf("the page does not show %q", s)
		}
	}
}

func TestRenderEscapes(t *testing.T) {
	p := Page{
		Title:   hostile,
		Summary: hostile,
		Facts:   []Fact{{Key: hostile, Value: hostile}, {Key: "code", Value: hostile, Code: true}},
		Legend:  []LegendEntry{{Term: hostile, Meaning: hostile}},
		Lanes:   []string{hostile},
		Events:  []Event{{Lane: hostile, Text: hostile, Stamp: hostile, Why: hostile, Mark: MarkViolation}},
	}
	out := render(t, p)
	for _, bad := range []string{"<script>window", "<img", "onerror=\"window", "</td></tr> "} {
		if strings.Contains(out, bad) {
			t.Errorf("the page holds %q unescaped", bad)
		}
	}
	if n := strings.Count(out, "&lt;script&gt;window.hacked=1&lt;/script&gt;"); n < 10 {
		t.Errorf("the hostile text is shown escaped %d times, want every place (at least 10)", n)
	}
	if n := strings.Count(out, "<script>"); n != 1 {
		t.Errorf("%d <script> elements, want only the page's own", n)
	}
}

func TestRenderSelfContained(t *testing.T) {
	p := samplePage()
	p.Events = slices.DeleteFunc(p.Events, func(e Event) bool { return e.Text == hostile })
	out := render(t, p)
	for _, bad := range []string{"http:", "https:", "file:", "src=", "url(", "@import", "<link", "@font-face"} {
		if strings.Contains(out, bad) {
			t.Errorf("the page refers to something outside it: %q", bad)
		}
	}
	if !strings.Contains(out, `content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'"`) {
		t.Error("no Content-Security-Policy forbidding loads")
	}
}

func TestRenderEmpty(t *testing.T) {
	out := render(t, Page{Title: "t"})
	for _, s := range []string{"No event is marked", "No events.", "0 events, 0 processes"} {
		if !strings.Contains(out, s) {
			t.Errorf("an empty page does not say %q", s)
		}
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		p    Page
		want string
	}{
		{"no title", Page{Title: " "}, "no title"},
		{"blank lane", Page{Title: "t", Lanes: []string{""}}, "lane 0: empty name"},
		{"lane twice", Page{Title: "t", Lanes: []string{"a", "a"}}, `lane "a" listed twice`},
		{"event without lane", Page{Title: "t", Events: []Event{{}}}, "event 0: no lane"},
		{"negative time", Page{Title: "t", Events: []Event{{Lane: "a", At: -time.Second}}}, "negative time -1s"},
		{"unknown mark", Page{Title: "t", Events: []Event{{Lane: "a", Mark: 7}}}, "unknown mark MarkKind(7)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.p.Validate()
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.want) ||
				!strings.HasPrefix(err.Error(), "htmlreport: invalid page: ") {
				t.Fatalf("Validate() = %v, want ErrInvalid naming %q", err, tc.want)
			}
			var buf bytes.Buffer
			if err := tc.p.Render(&buf); !errors.Is(err, ErrInvalid) || buf.Len() != 0 {
				t.Fatalf("Render() = %v and wrote %d bytes", err, buf.Len())
			}
		})
	}
}

func TestTitle(t *testing.T) {
	for _, tc := range []struct {
		check string
		seed  int64
		flaw  string
		want  string
	}{
		{"policy", 42, "", "bgw: policy violation, seed 42, flaw none"},
		{"linearizability", -7, "lost-notify", "bgw: linearizability violation, seed -7, flaw lost-notify"},
	} {
		if got := Title(tc.check, tc.seed, tc.flaw); got != tc.want {
			t.Errorf("Title(%q, %d, %q) = %q, want %q", tc.check, tc.seed, tc.flaw, got, tc.want)
		}
	}
}

func TestMarkKindString(t *testing.T) {
	for m, want := range map[MarkKind]string{MarkNone: "none", MarkViolation: "violation", MarkNote: "note", 9: "MarkKind(9)"} {
		if got := m.String(); got != want {
			t.Errorf("MarkKind(%d).String() = %q, want %q", m, got, want)
		}
	}
}

func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "violation.html")
	if err := WriteFile(path, samplePage()); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(data) != render(t, samplePage()) {
		t.Error("the file is not the rendered page")
	}
	if err := WriteFile(path, Page{}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("WriteFile(invalid) = %v", err)
	}
	if again, _ := os.ReadFile(path); !bytes.Equal(again, data) {
		t.Error("an invalid page changed the file")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("%d files in the directory, want 1", len(entries))
	}
}
