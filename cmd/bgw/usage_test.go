package main

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"bgwmodel/stress"
)

// badCase is a command line that is bad input: a flag's value, an unknown
// flag, a stray argument, a missing or bad file.
type badCase struct {
	name string
	args []string // after "bgw"
	// offender: each must be on the error line (the flag, the file and
	// line, the value); want: each too (what is accepted).
	offender []string
	want     []string
}

// fixtures makes the files the bad cases read, in dir.
type fixtures struct {
	dir string
	t   *testing.T
}

// file writes a file and returns its path.
func (x fixtures) file(name, content string) string {
	x.t.Helper()
	p := filepath.Join(x.dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		x.t.Fatal(err)
	}
	return p
}

// fifo makes a named pipe: reading it would block for ever.
func (x fixtures) fifo(name string) string {
	x.t.Helper()
	p := filepath.Join(x.dir, name)
	if err := syscall.Mkfifo(p, 0o600); err != nil {
		x.t.Fatal(err)
	}
	return p
}

// loop makes a symbolic link to itself: unreadable, even for root.
func (x fixtures) loop(name string) string {
	x.t.Helper()
	p := filepath.Join(x.dir, name)
	if err := os.Symlink(name, p); err != nil {
		x.t.Fatal(err)
	}
	return p
}

// run copies the saved clean run stress/testdata/clean-1 to a new
// directory name, writes the files given over it (content "" removes the
// file), seals it again (as if the run had written those files), and
// returns its path.
func (x fixtures) run(name string, files map[string]string) string {
	x.t.Helper()
	dst := x.damagedRun(name, files)
	if err := stress.SealRunDir(dst); err != nil {
		x.t.Fatal(err)
	}
	return dst
}

// damagedRun is run without the new seal: the files were changed after
// the run.
func (x fixtures) damagedRun(name string, files map[string]string) string {
	x.t.Helper()
	src := filepath.Join("..", "..", "stress", "testdata", "clean-1")
	dst := filepath.Join(x.dir, name)
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o700)
		}
		data, err := os.ReadFile(p)
		if err == nil {
			err = os.WriteFile(filepath.Join(dst, rel), data, 0o600)
		}
		return err
	})
	if err != nil {
		x.t.Fatal(err)
	}
	for f, content := range files {
		p := filepath.Join(dst, f)
		if content == "" {
			if err := os.RemoveAll(p); err != nil {
				x.t.Fatal(err)
			}
			continue
		}
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			x.t.Fatal(err)
		}
	}
	return dst
}

// TestBadInput: every flag of every command with a bad value, unknown
// flags, stray arguments, and missing, unreadable, empty, garbage and
// truncated files, are exit 2 with one line on stderr naming the offender
// (and what is accepted), nothing on stdout, and nothing left in -out.
func TestBadInput(t *testing.T) {
	x := fixtures{t.TempDir(), t}
	missing := filepath.Join(x.dir, "missing.json")
	regular := x.file("regular", "x\n")
	hist1 := `{"client":1,"process":"b1","op":"get_pid","input":{"handle":{"slot":0,"generation":1,"epoch":0}},"output":{"status":"STOPPED"},"call":1,"return":2}`
	var cases []badCase
	add := func(name string, args []string, offender ...string) *badCase {
		cases = append(cases, badCase{name: name, args: args, offender: offender})
		return &cases[len(cases)-1]
	}
	want := func(c *badCase, w ...string) { c.want = append(c.want, w...) }

	// Top level.
	add("bgw/none", nil, "no command given")
	want(add("bgw/unknown", []string{"frobnicate"}, "unknown command frobnicate"), "stress", "check")
	add("bgw/flag", []string{"-bogus"}, "unknown command -bogus")

	// stress: every flag.
	s := func(name string, args []string, offender ...string) *badCase {
		return add("stress/"+name, append([]string{"stress"}, args...), offender...)
	}
	want(s("duration-unit", []string{"-duration", "5"}, "-duration 5"), "want a duration")
	want(s("duration-negative", []string{"-duration", "-1s"}, "-duration -1s"), "want more than 0")
	want(s("duration-long", []string{"-duration", "25h"}, "-duration 25h0m0s"), "at most 24h")
	want(s("seed", []string{"-seed", "x"}, "-seed x"), "want an integer")
	want(s("seed-range", []string{"-seed", "99999999999999999999"}, "-seed 99999999999999999999"), "want an integer in range")
	want(s("backends-word", []string{"-backends", "x"}, "-backends x"), "want an integer")
	want(s("backends-zero", []string{"-backends", "0"}, "-backends 0"), "want 1..64")
	want(s("backends-many", []string{"-backends", "65"}, "-backends 65"), "want 1..64")
	want(s("backends-none", []string{"-backends"}, "-backends"), "no value given", "want an integer")
	want(s("slots-zero", []string{"-slots", "0"}, "-slots 0"), "want 1..1024")
	want(s("slots-many", []string{"-slots", "2000"}, "-slots 2000"), "want 1..1024")
	want(s("slots-word", []string{"-slots", "x"}, "-slots x"), "want an integer")
	want(s("print-config-and-bad-flag", []string{"-print-config", "-backends", "0"}, "-backends 0"), "want 1..64")
	want(s("faults", []string{"-faults", "kill-all"}, "-faults kill-all", `unknown fault "kill-all"`), "known: kill-worker")
	want(s("faults-list", []string{"-faults", "kill-worker,bogus"}, "-faults kill-worker,bogus", `unknown fault "bogus"`), "known:")
	want(s("waive", []string{"-waive", "register-ok,bogus"}, "-waive register-ok,bogus", `unknown kind "bogus"`), "known: register-ok")
	s("faults-none-and-more", []string{"-faults", "none,kill-worker"}, "-faults none,kill-worker", `"none" stands alone`)
	s("faults-empty", []string{"-faults", ""}, `-faults ""`, "an empty fault list")
	want(s("flaw", []string{"-flaw", "bogus"}, "-flaw bogus"), "known: no-forget-barrier")
	want(s("flaw-weak", []string{"-flaw", "no-forget-barrier"}, "-flaw no-forget-barrier", "shows only under a weak memory model"),
		"bgw explore -flaw no-forget-barrier -model view")
	want(s("flaw-weak-2", []string{"-flaw", "unordered-pmsignal"}, "-flaw unordered-pmsignal", "shows only under a weak memory model"),
		"bgw explore -flaw unordered-pmsignal -model view")
	want(s("out-missing", []string{"-out", filepath.Join(x.dir, "nowhere")}, "-out "+filepath.Join(x.dir, "nowhere"), "no such file"),
		"want an existing directory")
	want(s("out-file", []string{"-out", regular}, "-out "+regular, "not a directory"), "want an existing directory")
	want(s("stop-on-violation", []string{"-stop-on-violation=maybe"}, "-stop-on-violation maybe"), "want true or false")
	want(s("soak-zero", []string{"-soak", "0"}, "-soak 0"), "at least 1")
	want(s("soak-negative", []string{"-soak", "-3"}, "-soak -3"), "at least 1")
	want(s("soak-word", []string{"-soak", "x"}, "-soak x"), "want an integer")
	want(s("runs-zero", []string{"-runs", "0"}, "-runs 0"), "at least 1")
	want(s("keep", []string{"-keep=2"}, "-keep 2"), "want true or false")
	want(s("print-config", []string{"-print-config=yes"}, "-print-config yes"), "want true or false")
	want(s("unknown-flag", []string{"-bogus"}, "unknown flag -bogus"), "known: -backends", "-soak")
	want(s("unknown-flag-dashes", []string{"--bogus=1"}, "unknown flag -bogus"), "known:")
	want(s("stray", []string{"-seed", "1", "extra"}, `unexpected argument extra`), "takes flags only")
	// -config: missing, unreadable, not a file, empty, garbage, truncated,
	// a syntax error, an unknown field, a bad value, a wrong type.
	want(s("config-missing", []string{"-config", missing}, "-config "+missing, "no such file"), "want a JSON file")
	want(s("config-dir", []string{"-config", x.dir}, "-config "+x.dir, "is a directory"), "want a JSON file")
	want(s("config-fifo", []string{"-config", x.fifo("fifo.json")}, "fifo.json", "not a regular file"), "want a JSON file")
	want(s("config-loop", []string{"-config", x.loop("loop.json")}, "loop.json", "too many levels of symbolic links"), "want a JSON file")
	want(s("config-empty", []string{"-config", x.file("empty.json", "")}, "empty.json:1:1", "unexpected end of the file"), "want a JSON object")
	want(s("config-garbage", []string{"-config", x.file("garbage.json", "\x7fELF\x02\x01\x01")}, "garbage.json:1:1", "invalid character"), "want a JSON object")
	want(s("config-truncated", []string{"-config", x.file("truncated.json", "{\n  \"duration\": \"3s\",\n  \"workload\": {\"think\": ")},
		"truncated.json:3:", "unexpected end of the file"), "want a JSON object")
	want(s("config-syntax", []string{"-config", x.file("syntax.json", "{\n  \"duration\": \"3s\",\n}\n")}, "syntax.json:3:1", "invalid character '}'"),
		"want a JSON object")
	want(s("config-unknown-field", []string{"-config", x.file("unknown.json", "{\n  \"workload\": {\"thinkk\": \"1ms\"}\n}\n")},
		"unknown.json:2:", "workload.thinkk", "unknown field"), "known: register")
	want(s("config-bad-duration", []string{"-config", x.file("think.json", `{"workload": {"think": "fast"}}`)},
		"think.json:1:", "workload.think"), "want a duration")
	want(s("config-bad-value", []string{"-config", x.file("backends.json", "{\n\"seed\": 3,\n\"backends\": 99}")},
		"backends.json:3:", "backends"), "want 1..64")
	want(s("config-wrong-type", []string{"-config", x.file("type.json", "{\"slots\": \"twelve\"}")}, "type.json:1:", "slots"),
		"want an integer")
	want(s("config-not-object", []string{"-config", x.file("list.json", "[]")}, "list.json:1:1"), "want a JSON object")
	want(s("config-flag-conflict", []string{"-config", x.file("static.json", `{"static_workers": [
		{"name": "a", "behaviour": "exit1", "restart_time": 1, "start_time": "PostmasterStart"},
		{"name": "b", "behaviour": "exit1", "restart_time": 1, "start_time": "PostmasterStart"}]}`), "-slots", "1"},
		"-slots 1", "2 static workers for 1 slots"))

	// check.
	c := func(name string, args []string, offender ...string) *badCase {
		return add("check/"+name, append([]string{"check"}, args...), offender...)
	}
	clean := filepath.Join("..", "..", "stress", "testdata", "clean-1")
	want(c("none", nil, "no run directory or file given"), "want DIR or FILE")
	want(c("timeout-zero", []string{"-timeout", "0s", clean}, "-timeout 0s"), "want more than 0")
	want(c("timeout-word", []string{"-timeout", "x", clean}, "-timeout x"), "want a duration")
	want(c("slots-negative", []string{"-slots", "-1", clean}, "-slots -1"), "want 1..1024")
	want(c("slots-many", []string{"-slots", "2000", clean}, "-slots 2000"), "want 1..1024")
	want(c("static-negative", []string{"-static", "-1", clean}, "-static -1"), "want 0 or more")
	want(c("static-over-slots", []string{"-slots", "2", "-static", "3", clean}, "-static 3"), "want at most -slots (2)")
	want(c("static-word", []string{"-static", "x", clean}, "-static x"), "want an integer")
	want(c("html-no-dir", []string{"-html", filepath.Join(x.dir, "nowhere", "v.html"), clean}, "-html "+filepath.Join(x.dir, "nowhere", "v.html")),
		"want a file in an existing directory")
	want(c("html-dir", []string{"-html", x.dir, clean}, "-html "+x.dir, "not a regular file"), "want a file")
	want(c("unknown-flag", []string{"-bogus", clean}, "unknown flag -bogus"), "known: -html")
	want(c("waive", []string{"-waive", "nope", clean}, "-waive nope", `unknown kind "nope"`), "known: register-ok")
	want(c("memory-word", []string{"-memory", "lots", clean}, "-memory lots"), "want a size such as 512MiB")
	want(c("memory-small", []string{"-memory", "100KiB", clean}, "-memory 100KiB"), "want at least 1MiB")
	want(c("missing", []string{missing}, missing, "no such file"), "want a run directory or a history file")
	want(c("fifo", []string{x.fifo("fifo.jsonl")}, "fifo.jsonl", "not a regular file or a directory"), "want a run directory")
	want(c("loop", []string{x.loop("loop.jsonl")}, "loop.jsonl", "too many levels of symbolic links"))
	emptyDir := filepath.Join(x.dir, "emptydir")
	os.Mkdir(emptyDir, 0o700)
	want(c("empty-dir", []string{emptyDir}, emptyDir, "not a run directory"), "no history/")
	c("empty-history-file", []string{x.file("empty.jsonl", "")}, "empty.jsonl", "no operations")
	c("garbage-history-file", []string{x.file("garbage.jsonl", "\x00\x01garbage\n")}, "garbage.jsonl:1:")
	c("truncated-history-file", []string{x.file("truncated.jsonl", hist1+"\n"+hist1[:40])}, "truncated.jsonl:2:", "truncated last line")
	c("bad-history-line", []string{x.file("bad.jsonl", hist1+"\n"+strings.Replace(hist1, `"get_pid"`, `"get_pids"`, 1)+"\n")}, "bad.jsonl:2:")
	c("history-blank-line", []string{x.file("blank.jsonl", hist1+"\n\n")}, "blank.jsonl:2:")
	c("records-garbage", []string{x.file("b2.jsonl", strings.Replace(hist1, `"call":1,"return":2`, `"call":5,"return":6`, 1)+"\n"),
		x.file("records.jsonl", "{\"kind\":\"init\",\"now_ns\":0,\"call\":1,\"return\":2,\"epoch\":0,\"slot\":-1}\n{\"kind\":\"launch\",\"bogus\":1}\n")},
		"records.jsonl:2:")
	c("run-garbage-campaign", []string{x.run("r-campaign", map[string]string{"campaign.json": "{\"backends\": [1]}\n"})},
		filepath.Join(x.dir, "r-campaign", "campaign.json")+":1:", "backends")
	c("run-truncated-campaign", []string{x.run("r-campaign2", map[string]string{"campaign.json": "{\"duration\": \"3s\",\n"})},
		filepath.Join(x.dir, "r-campaign2", "campaign.json")+":2:", "unexpected end of the file")
	c("run-empty-history-dir", []string{x.run("r-nohist", map[string]string{"history": ""})},
		filepath.Join(x.dir, "r-nohist", "history"), "no history file")
	c("run-garbage-history", []string{x.run("r-hist", map[string]string{"history/b2.jsonl": "{\"client\": 2}\n"})},
		filepath.Join(x.dir, "r-hist", "history", "b2.jsonl")+":1:")
	c("run-garbage-records", []string{x.run("r-recs", map[string]string{"records.jsonl": "{\"kind\":\"init\"}\nnot json\n"})},
		filepath.Join(x.dir, "r-recs", "records.jsonl")+":")
	c("run-empty-records", []string{x.run("r-recs0", map[string]string{"records.jsonl": "\n"})},
		filepath.Join(x.dir, "r-recs0", "records.jsonl"), "no init record")
	c("run-garbage-waits", []string{x.run("r-waits", map[string]string{"waits.jsonl": "{\"process\": \"b1\", \"outcome\": \"gone\", \"call\": 3}\n"})},
		filepath.Join(x.dir, "r-waits", "waits.jsonl")+":1:", `unknown outcome "gone"`)
	c("run-garbage-stop", []string{x.run("r-stop", map[string]string{"stop.json": "{\n  \"outcome\": \"MAYBE\",\n  \"summary\": \"x\"\n}\n"})},
		filepath.Join(x.dir, "r-stop", "stop.json")+":2:", "outcome")
	c("run-truncated-stop", []string{x.run("r-stop2", map[string]string{"stop.json": "{\"outcome\": \"PA"})},
		filepath.Join(x.dir, "r-stop2", "stop.json")+":1:")
	c("run-garbage-postmaster-exit", []string{x.run("r-exit", map[string]string{"postmaster-exit.json": "{\"pid\": 7,\n\"ended\": \"sideways\"}\n"})},
		filepath.Join(x.dir, "r-exit", "postmaster-exit.json")+":2:", "ended", `"sideways"`)
	c("run-no-manifest", []string{x.damagedRun("r-killed", map[string]string{stress.ManifestFile: ""})},
		filepath.Join(x.dir, "r-killed"), "no manifest.json", "did not finish")
	c("run-changed-records", []string{x.damagedRun("r-torn", map[string]string{stress.RecordsFile: "{\"kind\":\"init\"}\n{\"kind\":\"lau"})},
		filepath.Join(x.dir, "r-torn", "records.jsonl"), "cut or changed after the run")
	c("run-missing-stop", []string{x.run("r-nostop", map[string]string{stress.StopFile: ""})},
		filepath.Join(x.dir, "r-nostop"), "the part stop.json is missing")
	c("run-no-verdict", []string{x.run("r-io", map[string]string{"postmaster-exit.json": `{"pid": 7, "ended": "on its own", "code": 1,
		"cause": "FATAL:  postmaster: record log: write records: file too large"}`})},
		filepath.Join(x.dir, "r-io", "records.jsonl"), "file too large", "no verdict")
	// A bad input among good ones: still no verdict printed.
	c("good-and-bad", []string{clean, missing}, missing)

	// explore.
	e := func(name string, args []string, offender ...string) *badCase {
		return add("explore/"+name, append([]string{"explore"}, args...), offender...)
	}
	want(e("model", []string{"-model", "arm"}, "-model arm"), "want sc, tso, view or all")
	want(e("scenario", []string{"-scenario", "nope"}, "-scenario nope"), "want crash-reinit, ")
	want(e("flaw", []string{"-flaw", "nope"}, "-flaw nope"), "known: no-forget-barrier")
	want(e("mutant", []string{"-mutant", "nope"}, "-mutant nope"), "known: ")
	want(e("bound", []string{"-bound", "-2"}, "-bound -2"), "want -1 for unbounded")
	want(e("bound-word", []string{"-bound", "x"}, "-bound x"), "want an integer")
	want(e("budget", []string{"-budget", "-1s"}, "-budget -1s"), "want 0 (none) or more")
	want(e("budget-word", []string{"-budget", "soon"}, "-budget soon"), "want a duration")
	want(e("random", []string{"-random", "-1"}, "-random -1"), "want 0 (DFS) or more")
	want(e("random-word", []string{"-random", "x"}, "-random x"), "want an integer")
	want(e("seed", []string{"-seed", "-1"}, "-seed -1"), "want an integer >= 0")
	want(e("list", []string{"-list=maybe"}, "-list maybe"), "want true or false")
	want(e("unknown-flag", []string{"-bogus"}, "unknown flag -bogus"), "known: -bound")
	e("stray", []string{"stray"}, "unexpected argument stray")

	// replay.
	r := func(name string, args []string, offender ...string) *badCase {
		return add("replay/"+name, append([]string{"replay"}, args...), offender...)
	}
	want(r("scenario", []string{"-scenario", "nope", "sc:"}, "-scenario nope"), "want crash-reinit,")
	want(r("flaw", []string{"-scenario", "reuse", "-flaw", "nope", "sc:"}, "-flaw nope"), "known:")
	want(r("mutant", []string{"-scenario", "reuse", "-mutant", "nope", "sc:"}, "-mutant nope"), "known:")
	want(r("flaw-litmus", []string{"-scenario", "MP", "-flaw", "silent-forget", "view:"}, "litmus test MP"), "do not apply")
	want(r("no-trace", []string{"-scenario", "reuse"}, "got 0 arguments"), "want exactly one TRACE")
	want(r("two-traces", []string{"sc:", "sc:t0"}, "got 2 arguments"), "want exactly one TRACE")
	want(r("model", []string{"-scenario", "reuse", "arm:t0"}, "bad trace", `"arm"`), "want sc, tso or view")
	r("choice", []string{"-scenario", "reuse", "sc:t0.x1"}, "bad trace", `unknown choice kind 'x'`)
	r("no-fit", []string{"-scenario", "reuse", "sc:t7"}, "trace does not fit", `"t7"`)
	want(r("fits-none", []string{"sc:t9*40"}, "fits no scenario"), "give -scenario")
	want(r("fits-several", []string{"sc:"}, "fits several scenarios (crash-reinit, "), "give -scenario")
	want(r("unknown-flag", []string{"-bogus", "sc:"}, "unknown flag -bogus"), "known: -file")
	trace := x.file("trace.txt", "# made by bgw explore\nview:t0*3.t1.r1\n")
	want(r("file-and-arg", []string{"-file", trace, "sc:"}, `unexpected argument "sc:"`), "not both")
	want(r("file-missing", []string{"-file", missing}, "-file "+missing, "no such file"), "want a file holding a trace")
	want(r("file-dir", []string{"-file", x.dir}, "-file "+x.dir, "is a directory"), "want a file")
	want(r("file-fifo", []string{"-file", x.fifo("trace.fifo")}, "trace.fifo", "not a regular file"), "want a file")
	want(r("file-loop", []string{"-file", x.loop("trace.loop")}, "trace.loop", "too many levels"), "want a file")
	want(r("file-empty", []string{"-file", x.file("empty.trace", "")}, "empty.trace", "no trace"), "want one line")
	want(r("file-comments", []string{"-file", x.file("comments.trace", "# nothing\n\n")}, "comments.trace", "no trace"), "want one line")
	r("file-garbage", []string{"-file", x.file("garbage.trace", "\n\x00\x01\x02\n")}, "garbage.trace:2:", "bad trace")
	r("file-truncated", []string{"-scenario", "reuse", "-file", x.file("truncated.trace", "# cut\nview:t0*")}, "truncated.trace:2:", "bad trace", "repeat count")
	want(r("file-two", []string{"-file", x.file("two.trace", "sc:\nsc:t0\n")}, "two.trace:2:", "a second trace"), "want one trace per file")
	r("file-no-fit", []string{"-scenario", "reuse", "-file", x.file("nofit.trace", "sc:t7\n")}, "nofit.trace:1:", "trace does not fit")

	// litmus and flaws.
	want(add("litmus/model", []string{"litmus", "-model", "q"}, "-model q"), "want sc, tso, view or all")
	want(add("litmus/json", []string{"litmus", "-json=2"}, "-json 2"), "want true or false")
	add("litmus/stray", []string{"litmus", "x"}, "unexpected argument x")
	want(add("litmus/unknown-flag", []string{"litmus", "-bogus"}, "unknown flag -bogus"), "known: -json, -model")
	want(add("flaws/json", []string{"flaws", "-json=3"}, "-json 3"), "want true or false")
	add("flaws/stray", []string{"flaws", "x"}, "unexpected argument x")
	want(add("flaws/unknown-flag", []string{"flaws", "-bogus"}, "unknown flag -bogus"), "known: -json")

	cwd, _ := os.Getwd()
	for _, bc := range cases {
		t.Run(bc.name, func(t *testing.T) {
			args := bc.args
			var out string
			if len(args) > 0 && args[0] == "stress" && !strings.Contains(bc.name, "out-") {
				out = t.TempDir()
				args = append([]string{"stress", "-out", out}, args[1:]...)
			}
			code, stdout, stderr := runBGW(t, args...)
			if code != exitUsage {
				t.Errorf("exit %d, want %d", code, exitUsage)
			}
			if stdout != "" {
				t.Errorf("stdout not empty:\n%s", stdout)
			}
			line, ok := strings.CutSuffix(stderr, "\n")
			if !ok || line == "" || strings.Contains(line, "\n") {
				t.Fatalf("stderr is not one line:\n%s", stderr)
			}
			t.Log(line)
			cmd := "bgw"
			if len(args) > 0 && !strings.HasPrefix(bc.name, "bgw/") {
				cmd = "bgw " + args[0]
			}
			if !strings.HasPrefix(line, cmd+": ") {
				t.Errorf("%q does not start with %q", line, cmd+": ")
			}
			for _, w := range append(bc.offender, bc.want...) {
				if !strings.Contains(line, w) {
					t.Errorf("%q lacks %q", line, w)
				}
			}
			if out != "" {
				if ents, _ := os.ReadDir(out); len(ents) != 0 {
					t.Errorf("-out holds %v", ents)
				}
			}
			if m, _ := filepath.Glob(filepath.Join(cwd, "bgw-out-*")); len(m) > 0 {
				t.Errorf("left %v", m)
			}
		})
	}
}

// TestHelp: -h prints the full usage on stderr and exits 0, for bgw and
// every command.
func TestHelp(t *testing.T) {
	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"-h"}, []string{"usage: bgw <command>", "stress", "exit codes"}},
		{[]string{"help"}, []string{"usage: bgw <command>"}},
		{[]string{"stress", "-h"}, []string{"usage: bgw stress", "-soak", "alias of -soak", "-backends", "exit codes", "a hang"}},
		{[]string{"stress", "--help"}, []string{"usage: bgw stress"}},
		{[]string{"check", "-h"}, []string{"usage: bgw check", "-timeout", "-html"}},
		{[]string{"explore", "-h"}, []string{"usage: bgw explore", "-model", "-bound"}},
		{[]string{"replay", "-h"}, []string{"usage: bgw replay", "-file", "-scenario"}},
		{[]string{"litmus", "-h"}, []string{"usage: bgw litmus", "-json"}},
		{[]string{"flaws", "-h"}, []string{"usage: bgw flaws", "-json"}},
	} {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			code, stdout, stderr := runBGW(t, c.args...)
			if code != exitOK || stdout != "" {
				t.Errorf("exit %d, stdout %q", code, stdout)
			}
			for _, w := range c.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("usage lacks %q:\n%s", w, stderr)
				}
			}
		})
	}
	for _, c := range []struct {
		args     []string
		duration string
		backends float64
	}{
		{[]string{"-print-config"}, "25s", 5},
		{[]string{"-print-config", "-duration", "3s", "-backends", "7"}, "3s", 7},
	} {
		code, out, _ := runBGW(t, append([]string{"stress"}, c.args...)...)
		var cfg map[string]any
		if code != exitOK || json.Unmarshal([]byte(out), &cfg) != nil || cfg["duration"] != c.duration || cfg["backends"] != c.backends {
			t.Errorf("bgw stress %v: exit %d:\n%s", c.args, code, out)
		}
	}
}
