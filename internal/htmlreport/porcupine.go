package htmlreport

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"os"
)

// BannerID is the id of the banner [RetitlePorcupine] puts at the top of
// porcupine's page.
const BannerID = "bgw-banner"

// ErrNotPorcupine is wrapped by the errors of [RetitlePorcupine] for input
// that does not have the shape of porcupine's page (a porcupine upgrade
// that changed it, say).
var ErrNotPorcupine = errors.New("htmlreport: not porcupine's visualization page")

var bannerTemplate = template.Must(template.New("banner").Parse(
	`<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'">` +
		`<style>` +
		`#bgw-banner { margin: -8px -8px 8px; padding: 8px 12px; background: #fdecea; border-bottom: 2px solid #c62828; font: 14px/1.45 system-ui, "DejaVu Sans", sans-serif; }` +
		`#bgw-banner h1 { font-size: 18px; margin: 0 0 4px; }` +
		`#bgw-banner dl { display: grid; grid-template-columns: max-content 1fr; gap: 0 12px; margin: 0; }` +
		`#bgw-banner dt { color: #5f6670; } #bgw-banner dd { margin: 0; overflow-wrap: anywhere; }` +
		`#bgw-banner code { font: 13px ui-monospace, "DejaVu Sans Mono", monospace; }` +
		`#legend { position: sticky !important; top: 0 !important; left: auto !important; z-index: 2; display: inline-block; }` +
		`#canvas { margin-top: 8px !important; }` +
		`</style>`))

var bannerBodyTemplate = template.Must(template.New("banner-body").Parse(
	`<div id="bgw-banner"><h1>{{.Title}}</h1>` +
		`{{if .Facts}}<dl>{{range .Facts}}<dt>{{.Key}}</dt><dd>{{if .Code}}<code>{{.Value}}</code>{{else}}{{.Value}}{{end}}</dd>{{end}}</dl>{{end}}` +
		`</div>`))

// RetitlePorcupine returns porcupine's visualization page (the output of
// porcupine.Visualize) with title in its <title> and, at the top of its
// body, a banner with the title and the facts. It also gives the page the
// same Content-Security-Policy as a [Page], and moves porcupine's legend,
// which floats over the top of the page, below the banner. Porcupine's
// script and data are left as they are.
//
// It returns an error wrapping [ErrNotPorcupine] if page has no <title>
// and <body> where porcupine puts them, or has a banner already.
func RetitlePorcupine(page []byte, title string, facts []Fact) ([]byte, error) {
	if isBlank(title) {
		return nil, fmt.Errorf("%w: no title", ErrInvalid)
	}
	headEnd := bytes.Index(page, []byte("</head>"))
	if headEnd < 0 {
		return nil, fmt.Errorf("%w: no </head>", ErrNotPorcupine)
	}
	head := page[:headEnd]
	if bytes.Contains(head, []byte("<script")) {
		return nil, fmt.Errorf("%w: a script in the head", ErrNotPorcupine)
	}
	titleStart := bytes.Index(head, []byte("<title>"))
	titleEnd := bytes.Index(head, []byte("</title>"))
	if titleStart < 0 || titleEnd < titleStart {
		return nil, fmt.Errorf("%w: no <title> in the head", ErrNotPorcupine)
	}
	bodyTag := bytes.Index(page[headEnd:], []byte("<body>"))
	if bodyTag < 0 {
		return nil, fmt.Errorf("%w: no <body> after the head", ErrNotPorcupine)
	}
	bodyStart := headEnd + bodyTag + len("<body>")
	if bytes.Contains(page, []byte(`id="`+BannerID+`"`)) {
		return nil, fmt.Errorf("%w: it has a banner already", ErrNotPorcupine)
	}

	data := struct {
		Title string
		Facts []Fact
	}{title, facts}
	var style, banner bytes.Buffer
	if err := bannerTemplate.Execute(&style, data); err != nil {
		return nil, fmt.Errorf("htmlreport: banner: %w", err)
	}
	if err := bannerBodyTemplate.Execute(&banner, data); err != nil {
		return nil, fmt.Errorf("htmlreport: banner: %w", err)
	}

	var out bytes.Buffer
	out.Grow(len(page) + style.Len() + banner.Len() + len(title))
	out.Write(page[:titleStart])
	out.WriteString("<title>")
	out.WriteString(template.HTMLEscapeString(title))
	out.WriteString("</title>")
	out.Write(page[titleEnd+len("</title>") : headEnd])
	out.Write(style.Bytes())
	out.Write(page[headEnd:bodyStart])
	out.WriteString("\n")
	out.Write(banner.Bytes())
	out.Write(page[bodyStart:])
	return out.Bytes(), nil
}

// RetitlePorcupineFile rewrites the porcupine page at path in place with
// [RetitlePorcupine], atomically.
func RetitlePorcupineFile(path, title string, facts []Fact) error {
	page, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("htmlreport: %w", err)
	}
	out, err := RetitlePorcupine(page, title, facts)
	if err != nil {
		return fmt.Errorf("%w (%s)", err, path)
	}
	return writeAtomic(path, out)
}
