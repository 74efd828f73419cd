package explore

import "fmt"

// output is what an execution produces besides its choices: its first
// failure, the rows of a trace table, and the checks and observers that
// judge it.
type output struct {
	verbose   bool // rows are made: kept, observed, or both
	keepRows  bool
	rows      Table
	failure   *Failure
	checks    []func(*End) error
	observers []func(*Step) error
	notes     []Step // notes made during Setup, emitted once it returns
}

// fail records f if it is the first failure.
func (o *output) fail(f *Failure) {
	if o.failure == nil {
		o.failure = f
	}
}

// record keeps s if rows are kept and shows it to the observers, which see
// nothing past a counterexample. It returns the failure of the first
// observer that rejects s.
func (o *output) record(s Step) *Failure {
	if o.keepRows {
		o.rows = append(o.rows, s)
	}
	for _, obs := range o.observers {
		if o.failure != nil {
			return nil
		}
		if err := observe(obs, &s); err != nil {
			return &Failure{Kind: FailObserver, Thread: s.Name, Err: err}
		}
	}
	return nil
}

func observe(obs func(*Step) error, s *Step) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("observer panicked: %v", p)
		}
	}()
	return obs(s)
}

// check runs the checks at the normal end of the execution and returns
// the failure of the first that fails.
func (o *output) check(end *End) *Failure {
	for _, c := range o.checks {
		if err := runCheck(c, end); err != nil {
			return &Failure{Kind: FailCheck, Err: err}
		}
	}
	return nil
}

func runCheck(c func(*End) error, e *End) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("check panicked: %v", p)
		}
	}()
	return c(e)
}
