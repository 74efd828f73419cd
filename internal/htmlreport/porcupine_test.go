package htmlreport

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRetitlePorcupine(t *testing.T) {
	orig := porcupinePage(t)
	if !bytes.Contains(orig, []byte("<title>Porcupine</title>")) {
		t.Fatal("porcupine's page is not titled Porcupine any more: check RetitlePorcupine against the new template")
	}
	title := Title("linearizability", 42, "")
	facts := []Fact{{Key: "repro", Value: "bgw stress -seed 42", Code: true}, {Key: "note", Value: hostile}}
	out, err := RetitlePorcupine(orig, title, facts)
	if err != nil {
		t.Fatal(err)
	}
	s := string(out)
	if strings.Count(s, "<title>") != 1 || !strings.Contains(s, "<title>"+title+"</title>") {
		t.Error("the title is not replaced")
	}
	body := strings.Index(s, "<body>")
	banner := strings.Index(s, `<div id="bgw-banner"><h1>`+title+`</h1>`)
	if body < 0 || banner < 0 || strings.TrimSpace(s[body+len("<body>"):banner]) != "" {
		t.Error("the banner is not the first thing in the body")
	}
	if !strings.Contains(s, "<code>bgw stress -seed 42</code>") {
		t.Error("the banner does not show the facts")
	}
	if strings.Contains(s, "<script>window.hacked") || strings.Contains(s, "<img") {
		t.Error("a fact is not escaped")
	}
	// Porcupine's script and data are untouched: everything from the
	// first <script> on is as porcupine wrote it.
	script := bytes.Index(orig, []byte("<script>"))
	if script < 0 || !bytes.HasSuffix(out, orig[script:]) {
		t.Error("porcupine's script or data changed")
	}
	// Taking out what was added gives back porcupine's page.
	back := strings.Replace(s, "<title>"+title+"</title>", "<title>Porcupine</title>", 1)
	styleStart, styleEnd := strings.Index(back, `<meta http-equiv="Content-Security-Policy"`), strings.Index(back, "</head>")
	back = back[:styleStart] + back[styleEnd:]
	bannerStart := strings.Index(back, "\n"+`<div id="bgw-banner">`)
	bannerEnd := bannerStart + strings.Index(back[bannerStart:], "</div>") + len("</div>")
	back = back[:bannerStart] + back[bannerEnd:]
	if back != string(orig) {
		t.Error("RetitlePorcupine changed more than the title, the head's end and the banner")
	}

	// Twice is refused, so a page never gets two banners.
	if _, err := RetitlePorcupine(out, title, nil); !errors.Is(err, ErrNotPorcupine) {
		t.Errorf("retitling twice: %v, want ErrNotPorcupine", err)
	}
}

func TestRetitlePorcupineRefuses(t *testing.T) {
	for _, tc := range []struct {
		name, page, want string
	}{
		{"empty", "", "no </head>"},
		{"no title", "<html><head></head><body></body></html>", "no <title>"},
		{"script in head", "<html><head><title>x</title><script></script></head><body></body></html>", "a script in the head"},
		{"no body", "<html><head><title>x</title></head><p>x</p></html>", "no <body>"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := RetitlePorcupine([]byte(tc.page), "t", nil)
			if !errors.Is(err, ErrNotPorcupine) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want ErrNotPorcupine naming %q", err, tc.want)
			}
		})
	}
	if _, err := RetitlePorcupine(porcupinePage(t), " ", nil); !errors.Is(err, ErrInvalid) {
		t.Errorf("a blank title: %v, want ErrInvalid", err)
	}
}

func TestRetitlePorcupineFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "linearizability.html")
	if err := os.WriteFile(path, porcupinePage(t), 0o644); err != nil {
		t.Fatal(err)
	}
	title := Title("linearizability", 7, "stale-read")
	if err := RetitlePorcupineFile(path, title, nil); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	if !bytes.Contains(data, []byte("<title>"+title+"</title>")) {
		t.Error("the file is not retitled")
	}
	err := RetitlePorcupineFile(path, title, nil)
	if !errors.Is(err, ErrNotPorcupine) || !strings.Contains(err.Error(), path) {
		t.Errorf("retitling the file twice: %v, want ErrNotPorcupine naming the path", err)
	}
	if err := RetitlePorcupineFile(filepath.Join(t.TempDir(), "missing.html"), title, nil); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a missing file: %v", err)
	}
}
