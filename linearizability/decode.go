package linearizability

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"

	"bgwmodel/internal/safefile"
	"bgwmodel/spec"
)

// ErrTruncated is wrapped by the [*DecodeError] of a last line that has no
// trailing newline and is not a whole JSON object: the writer was most
// likely killed in the middle of writing it.
var ErrTruncated = errors.New("linearizability: truncated last line")

// ErrEmpty is wrapped by the [*DecodeError] of a file (or directory) that
// holds no operation.
var ErrEmpty = errors.New("linearizability: no operations")

// DecodeError reports a line that could not be decoded, or an operation
// that is malformed in its history ([History.Validate]), by file and line.
// Line is 0 when the error concerns the whole file.
type DecodeError struct {
	File string // the file name given to Decode, or the path read
	Line int    // 1-based line number, or 0
	Err  error  // what is wrong
}

// Error returns "linearizability: file:line: reason".
func (e *DecodeError) Error() string {
	reason := strings.TrimPrefix(e.Err.Error(), "linearizability: ")
	if e.Line == 0 {
		return fmt.Sprintf("linearizability: %s: %s", e.File, reason)
	}
	return fmt.Sprintf("linearizability: %s:%d: %s", e.File, e.Line, reason)
}

// Unwrap returns Err.
func (e *DecodeError) Unwrap() error { return e.Err }

// ReadFile reads the JSON lines history at path (see [Decode]). It reads
// only a regular file (a symbolic link is judged by what it points at):
// a FIFO, device, socket or directory is refused at once, without
// blocking, and a file larger than [safefile.MaxFileSize] is refused too.
func ReadFile(path string) (History, error) {
	f, err := safefile.Open(path)
	if err != nil {
		return nil, fmt.Errorf("linearizability: %w", err)
	}
	defer f.Close()
	return Decode(safefile.Reader(f), path)
}

// ReadDir reads every *.jsonl file in dir (not its subdirectories), in
// name order, and merges them into one history sorted by Call stamp, as a
// stress run leaves them: one file per process. Each file is opened as by
// [ReadFile] (an entry that is not a regular file is an error naming it)
// and decoded as by [Decode]; the merged history is then validated
// ([History.Validate]), so a client id used in two files is reported too.
func ReadDir(dir string) (History, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.jsonl"))
	if err != nil {
		return nil, fmt.Errorf("linearizability: %w", err)
	}
	if len(paths) == 0 {
		return nil, &DecodeError{File: dir, Err: fmt.Errorf("%w: no *.jsonl file", ErrEmpty)}
	}
	sort.Strings(paths)
	var h History
	var where []position
	for _, p := range paths {
		f, err := safefile.Open(p)
		if err != nil {
			return nil, fmt.Errorf("linearizability: %w", err)
		}
		part, lines, err := decode(safefile.Reader(f), p)
		f.Close()
		if err != nil {
			return nil, err
		}
		h = append(h, part...)
		for _, l := range lines {
			where = append(where, position{p, l})
		}
	}
	order := make([]int, len(h))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return h[order[a]].Call < h[order[b]].Call })
	sorted := make(History, len(h))
	sortedWhere := make([]position, len(h))
	for i, j := range order {
		sorted[i], sortedWhere[i] = h[j], where[j]
	}
	if i, reason := sorted.firstMalformed(); i >= 0 {
		return nil, &DecodeError{File: sortedWhere[i].file, Line: sortedWhere[i].line,
			Err: &OpError{Index: i, Reason: reason}}
	}
	return sorted, nil
}

type position struct {
	file string
	line int
}

// Decode reads a JSON lines history from r; name is the file name used in
// errors. A line longer than [safefile.MaxLineSize] is an error wrapping
// [safefile.ErrLineTooLong], and no more of it is read. Decoding is
// strict: an unknown field, an unknown operation,
// status, result or invalid field name, a missing field, a field the
// operation does not take, a Return before the Call, a known output with a
// null Return or an unknown output with a finite one, anything after the
// object on its line, a blank line and a file without operations are all
// errors, reported as a [*DecodeError] with the file and line. A last line
// without its newline that is not a whole object wraps [ErrTruncated]. The
// decoded history is validated as a whole ([History.Validate]).
func Decode(r io.Reader, name string) (History, error) {
	h, _, err := decode(r, name)
	return h, err
}

// decode is Decode, also returning each operation's line number.
func decode(r io.Reader, name string) (History, []int, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	var h History
	var lines []int
	for n := 1; ; n++ {
		line, err := safefile.ReadLine(br)
		if errors.Is(err, safefile.ErrLineTooLong) {
			return nil, nil, &DecodeError{File: name, Line: n, Err: fmt.Errorf("linearizability: %w", err)}
		}
		if err != nil && err != io.EOF {
			return nil, nil, &DecodeError{File: name, Line: n, Err: fmt.Errorf("linearizability: read: %w", err)}
		}
		if len(line) == 0 && err == io.EOF {
			break
		}
		last := err == io.EOF // no trailing newline
		op, derr := decodeLine(line)
		if derr != nil {
			if last && len(bytes.TrimSpace(line)) > 0 && !json.Valid(line) {
				derr = fmt.Errorf("%w (%d bytes without a newline; was the writer killed?)", ErrTruncated, len(line))
			}
			return nil, nil, &DecodeError{File: name, Line: n, Err: derr}
		}
		h = append(h, op)
		lines = append(lines, n)
		if last {
			break
		}
	}
	if len(h) == 0 {
		return nil, nil, &DecodeError{File: name, Err: ErrEmpty}
	}
	if i, reason := h.firstMalformed(); i >= 0 {
		return nil, nil, &DecodeError{File: name, Line: lines[i], Err: &OpError{Index: i, Reason: reason}}
	}
	return h, lines, nil
}

// Unmarshal decodes one line (without its newline) as [Decode] does.
func Unmarshal(line []byte) (Operation, error) {
	return decodeLine(line)
}

func strict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if rest := bytes.TrimSpace(data[dec.InputOffset():]); len(rest) > 0 {
		return fmt.Errorf("trailing data %q", truncate(rest, 20))
	}
	return nil
}

func truncate(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "..."
	}
	return string(b)
}

func isNull(raw json.RawMessage) bool {
	return raw == nil || bytes.Equal(bytes.TrimSpace(raw), []byte("null"))
}

// decodeLine decodes one line; errors are prefixed and plain.
func decodeLine(line []byte) (Operation, error) {
	var op Operation
	if len(bytes.TrimSpace(line)) == 0 {
		return op, errors.New("linearizability: blank line")
	}
	var l jsonLine
	if err := strict(line, &l); err != nil {
		return op, fmt.Errorf("linearizability: %w", err)
	}
	switch {
	case l.Client == nil:
		return op, errors.New("linearizability: missing field \"client\"")
	case l.Process == nil:
		return op, errors.New("linearizability: missing field \"process\"")
	case *l.Process == "":
		return op, errors.New("linearizability: empty process")
	case l.Op == nil:
		return op, errors.New("linearizability: missing field \"op\"")
	case isNull(l.Input):
		return op, errors.New("linearizability: missing field \"input\"")
	case isNull(l.Output):
		return op, errors.New("linearizability: missing field \"output\"")
	case l.Call == nil:
		return op, errors.New("linearizability: missing field \"call\"")
	}
	kind, ok := lookup(opNames[:], *l.Op)
	if !ok {
		return op, fmt.Errorf("linearizability: unknown op %q", *l.Op)
	}
	op.Client, op.Process = *l.Client, *l.Process
	op.Input.Kind = spec.OpKind(kind)
	op.Call, op.Return = Stamp(*l.Call), Infinity
	if l.Return != nil {
		op.Return = Stamp(*l.Return)
		if op.Return == Infinity {
			return op, errors.New("linearizability: return 2^64-1 is reserved for infinity; write null")
		}
	}
	var err error
	if op.Input, err = decodeInput(op.Input.Kind, l.Input); err != nil {
		return op, fmt.Errorf("linearizability: %s input: %w", *l.Op, err)
	}
	if op.Output, err = decodeOutput(op.Input.Kind, l.Output); err != nil {
		return op, fmt.Errorf("linearizability: %s output: %w", *l.Op, err)
	}
	if reason := op.malformed(); reason != "" {
		return op, errors.New("linearizability: " + reason)
	}
	return op, nil
}

func lookup(names []string, s string) (int, bool) {
	for i, n := range names {
		if n == s {
			return i, true
		}
	}
	return 0, false
}

// fields checks that exactly the wanted fields are present: set[i] tells
// whether names[i] is, want[i] whether it must be.
type fieldSet struct {
	names []string
	set   []bool
}

func (fs *fieldSet) add(name string, set bool) {
	fs.names = append(fs.names, name)
	fs.set = append(fs.set, set)
}

// only returns an error unless the fields set are exactly those in want.
func (fs *fieldSet) only(want ...string) error {
	for i, n := range fs.names {
		wanted := false
		for _, w := range want {
			wanted = wanted || w == n
		}
		switch {
		case wanted && !fs.set[i]:
			return fmt.Errorf("missing field %q", n)
		case !wanted && fs.set[i]:
			return fmt.Errorf("field %q not allowed here", n)
		}
	}
	return nil
}

func decodeHandle(j *jsonHandle) (spec.Handle, error) {
	switch {
	case j.Slot == nil:
		return spec.Handle{}, errors.New("handle: missing field \"slot\"")
	case j.Generation == nil:
		return spec.Handle{}, errors.New("handle: missing field \"generation\"")
	case j.Epoch == nil:
		return spec.Handle{}, errors.New("handle: missing field \"epoch\"")
	}
	return spec.Handle{Slot: *j.Slot, Generation: *j.Generation, Epoch: *j.Epoch}, nil
}

func decodeWorker(j *jsonWorker) (spec.Worker, error) {
	var fs fieldSet
	fs.add("name", j.Name != nil)
	fs.add("flags", j.Flags != nil)
	fs.add("start_time", j.StartTime != nil)
	fs.add("restart_time", j.RestartTime != nil)
	fs.add("library_name", j.LibraryName != nil)
	fs.add("function_name", j.FunctionName != nil)
	fs.add("main_arg", j.MainArg != nil)
	fs.add("notify_pid", j.NotifyPid != nil)
	if err := fs.only(fs.names...); err != nil {
		return spec.Worker{}, fmt.Errorf("worker: %w", err)
	}
	return spec.Worker{
		Name: *j.Name, Flags: spec.Flags(*j.Flags), StartTime: spec.StartTime(*j.StartTime),
		RestartTime: *j.RestartTime, LibraryName: *j.LibraryName, FunctionName: *j.FunctionName,
		MainArg: *j.MainArg, NotifyPid: *j.NotifyPid,
	}, nil
}

func decodeInput(kind spec.OpKind, raw json.RawMessage) (spec.Input, error) {
	in := spec.Input{Kind: kind}
	var j jsonInput
	if err := strict(raw, &j); err != nil {
		return in, err
	}
	var fs fieldSet
	fs.add("worker", j.Worker != nil)
	fs.add("handle", j.Handle != nil)
	fs.add("slot", j.Slot != nil)
	fs.add("pid", j.Pid != nil)
	fs.add("in_use", j.InUse != nil)
	var err error
	switch kind {
	case spec.OpRegister:
		if err = fs.only("worker"); err == nil {
			in.Worker, err = decodeWorker(j.Worker)
		}
	case spec.OpGetPid, spec.OpWaitForStartup:
		if err = fs.only("handle"); err == nil {
			in.Handle, err = decodeHandle(j.Handle)
		}
	case spec.OpLaunch:
		if err = fs.only("slot", "pid"); err == nil {
			in.Slot, in.Pid = *j.Slot, spec.Pid(*j.Pid)
		}
	case spec.OpExit, spec.OpForget:
		if err = fs.only("slot"); err == nil {
			in.Slot = *j.Slot
		}
	case spec.OpReinit:
		if err = fs.only("in_use"); err == nil {
			in.InUse = append([]int{}, (*j.InUse)...)
		}
	case spec.OpDied:
		err = fs.only()
	}
	return in, err
}

func decodeOutput(kind spec.OpKind, raw json.RawMessage) (spec.Output, error) {
	var out spec.Output
	var j jsonOutput
	if err := strict(raw, &j); err != nil {
		return out, err
	}
	var fs fieldSet
	fs.add("unknown", j.Unknown != nil)
	fs.add("result", j.Result != nil)
	fs.add("handle", j.Handle != nil)
	fs.add("field", j.Field != nil)
	fs.add("status", j.Status != nil)
	fs.add("pid", j.Pid != nil)
	if j.Unknown != nil {
		if !*j.Unknown {
			return out, errors.New("\"unknown\" must be true or absent")
		}
		out.Unknown = true
		return out, fs.only("unknown")
	}
	switch kind {
	case spec.OpRegister:
		if j.Result == nil {
			return out, errors.New("missing field \"result\"")
		}
		r, ok := lookup(resultNames[:], *j.Result)
		if !ok {
			return out, fmt.Errorf("unknown result %q", *j.Result)
		}
		out.Result = spec.Result(r)
		switch out.Result {
		case spec.ResultOK:
			if err := fs.only("result", "handle"); err != nil {
				return out, err
			}
			h, err := decodeHandle(j.Handle)
			out.Handle = h
			return out, err
		case spec.ResultInvalid:
			if err := fs.only("result", "field"); err != nil {
				return out, err
			}
			out.Invalid = spec.Field(*j.Field)
			if !knownField(out.Invalid) {
				return out, fmt.Errorf("unknown field name %q", *j.Field)
			}
			return out, nil
		}
		return out, fs.only("result")
	case spec.OpGetPid, spec.OpWaitForStartup:
		if j.Status == nil {
			return out, errors.New("missing field \"status\"")
		}
		s, ok := lookup(statusNames[:], *j.Status)
		if !ok {
			return out, fmt.Errorf("unknown status %q", *j.Status)
		}
		out.Status = spec.Status(s)
		if out.Status == spec.Started {
			if err := fs.only("status", "pid"); err != nil {
				return out, err
			}
			out.Pid = spec.Pid(*j.Pid)
			return out, nil
		}
		return out, fs.only("status")
	}
	return out, fs.only()
}
