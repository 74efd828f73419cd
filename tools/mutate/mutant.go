package main

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Operator names a kind of source mutation.
type Operator string

// The operators. Each changes one token or one statement, so that a
// mutant is one small defect, as a tired programmer would write it.
const (
	// OpRelational swaps a comparison for its neighbour: < and <=, > and
	// >=, == and !=.
	OpRelational Operator = "relational"
	// OpLogical swaps && and ||.
	OpLogical Operator = "logical"
	// OpArith swaps + and -.
	OpArith Operator = "arith"
	// OpNegateIf negates an if statement's condition.
	OpNegateIf Operator = "negate-if"
	// OpDropCall deletes a call made as a statement (a store, a signal,
	// a record).
	OpDropCall Operator = "drop-call"
	// OpConstant changes an integer literal n to n+1.
	OpConstant Operator = "constant"
	// OpOrder weakens a memory order or a barrier: Acquire or Release
	// becomes Relaxed, a barrier is dropped.
	OpOrder Operator = "order"
)

// Mutant is one mutation: in File, replace the bytes [Off, End) by New.
type Mutant struct {
	ID       int      `json:"id"`
	File     string   `json:"file"` // slash-separated, relative to the module
	Line     int      `json:"line"`
	Operator Operator `json:"operator"`
	Off, End int      `json:"-"`
	Old      string   `json:"old"`
	New      string   `json:"new"`
	Func     string   `json:"func"` // the enclosing function
	// Nth tells apart mutants of one function alike in all else: the
	// first is 1.
	Nth int `json:"nth"`
}

// Key names the mutant independently of line numbers and ids, which move
// as the code changes: "file func operator old -> new", and "#N" for the
// Nth of several alike.
func (m Mutant) Key() string {
	k := m.baseKey()
	if m.Nth > 1 {
		k += fmt.Sprintf(" #%d", m.Nth)
	}
	return k
}

func (m Mutant) baseKey() string {
	return fmt.Sprintf("%s %s %s %s -> %s", m.File, m.Func, m.Operator, oneLine(m.Old), oneLine(m.New))
}

// String is "file:line (func): op: old -> new".
func (m Mutant) String() string {
	return fmt.Sprintf("%s:%d (%s): %s: %s -> %s", m.File, m.Line, m.Func, m.Operator, oneLine(m.Old), oneLine(m.New))
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 60 {
		s = s[:57] + "..."
	}
	return s
}

// swaps are the token swaps of the binary operators.
var swaps = map[token.Token]struct {
	to token.Token
	op Operator
}{
	token.LSS: {token.LEQ, OpRelational}, token.LEQ: {token.LSS, OpRelational},
	token.GTR: {token.GEQ, OpRelational}, token.GEQ: {token.GTR, OpRelational},
	token.EQL: {token.NEQ, OpRelational}, token.NEQ: {token.EQL, OpRelational},
	token.LAND: {token.LOR, OpLogical}, token.LOR: {token.LAND, OpLogical},
	token.ADD: {token.SUB, OpArith}, token.SUB: {token.ADD, OpArith},
}

// Enumerate returns every mutant of the Go files (not tests) at paths,
// relative to root, in a fixed order.
func Enumerate(root string, paths []string) ([]Mutant, error) {
	var out []Mutant
	for _, rel := range paths {
		src, err := os.ReadFile(filepath.Join(root, rel))
		if err != nil {
			return nil, err
		}
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, rel, src, 0)
		if err != nil {
			return nil, err
		}
		out = append(out, fileMutants(fset, f, src, filepath.ToSlash(rel))...)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].File != out[j].File {
			return out[i].File < out[j].File
		}
		return out[i].Off < out[j].Off
	})
	seen := map[string]int{}
	for i := range out {
		out[i].ID = i + 1
		seen[out[i].baseKey()]++
		out[i].Nth = seen[out[i].baseKey()]
	}
	return out, nil
}

// fileMutants lists the mutants of one parsed file.
func fileMutants(fset *token.FileSet, f *ast.File, src []byte, rel string) []Mutant {
	var out []Mutant
	for _, decl := range f.Decls {
		fn, ok := decl.(*ast.FuncDecl)
		if !ok || fn.Body == nil {
			continue
		}
		name := fn.Name.Name
		if fn.Recv != nil && len(fn.Recv.List) > 0 {
			name = recvName(fn.Recv.List[0].Type) + "." + name
		}
		add := func(op Operator, from, to token.Pos, repl string) {
			off, end := fset.Position(from).Offset, fset.Position(to).Offset
			out = append(out, Mutant{File: rel, Line: fset.Position(from).Line, Operator: op, Off: off, End: end,
				Old: string(src[off:end]), New: repl, Func: name})
		}
		ast.Inspect(fn.Body, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.BinaryExpr:
				if s, ok := swaps[n.Op]; ok && !isStringConcat(n) && !isErrCheck(n) {
					add(s.op, n.OpPos, n.OpPos+token.Pos(len(n.Op.String())), s.to.String())
				}
			case *ast.IfStmt:
				if !isErrCheck(n.Cond) {
					add(OpNegateIf, n.Cond.Pos(), n.Cond.End(), "!("+string(src[fset.Position(n.Cond.Pos()).Offset:fset.Position(n.Cond.End()).Offset])+")")
				}
			case *ast.ExprStmt:
				if _, ok := n.X.(*ast.CallExpr); ok {
					add(OpDropCall, n.Pos(), n.End(), "/* dropped */")
				}
			case *ast.BasicLit:
				if n.Kind == token.INT {
					add(OpConstant, n.Pos(), n.End(), "("+n.Value+"+1)")
				}
			case *ast.SelectorExpr:
				if x, ok := n.X.(*ast.Ident); ok && x.Name == "shmem" {
					switch n.Sel.Name {
					case "Acquire", "Release":
						add(OpOrder, n.Pos(), n.End(), "shmem.Relaxed")
					}
				}
			}
			return true
		})
	}
	return out
}

// isErrCheck reports whether e is error plumbing: err != nil, err == nil
// (any identifier ending in "err" or "Err" against nil), or such checks
// joined by && or ||. Mutating them fails every call the path takes, which
// any gate sees at once, and says nothing of the gates' power to find a
// protocol defect, so they are not mutated.
func isErrCheck(e ast.Expr) bool {
	b, ok := ast.Unparen(e).(*ast.BinaryExpr)
	if !ok {
		return false
	}
	switch b.Op {
	case token.LAND, token.LOR:
		return isErrCheck(b.X) && isErrCheck(b.Y)
	case token.EQL, token.NEQ:
		x, okx := b.X.(*ast.Ident)
		y, oky := b.Y.(*ast.Ident)
		return okx && oky && y.Name == "nil" && (strings.HasSuffix(x.Name, "err") || strings.HasSuffix(x.Name, "Err"))
	}
	return false
}

// isStringConcat reports whether n adds strings (a message, not logic).
func isStringConcat(n *ast.BinaryExpr) bool {
	for _, e := range []ast.Expr{n.X, n.Y} {
		if l, ok := e.(*ast.BasicLit); ok && l.Kind == token.STRING {
			return true
		}
	}
	return false
}

func recvName(e ast.Expr) string {
	switch t := e.(type) {
	case *ast.StarExpr:
		return recvName(t.X)
	case *ast.Ident:
		return t.Name
	case *ast.IndexExpr:
		return recvName(t.X)
	}
	return "?"
}

// Apply returns src with m applied. It checks that src still holds
// m.Old where the mutant was enumerated.
func Apply(src []byte, m Mutant) ([]byte, error) {
	if m.End > len(src) || string(src[m.Off:m.End]) != m.Old {
		return nil, fmt.Errorf("mutate: %s: the source changed since the mutants were listed", m)
	}
	out := make([]byte, 0, len(src)+len(m.New))
	out = append(out, src[:m.Off]...)
	out = append(out, m.New...)
	return append(out, src[m.End:]...), nil
}
