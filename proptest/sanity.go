package proptest

import (
	"bgwmodel/internal/implspec"
	"errors"
	"fmt"

	"pgregory.net/rapid"

	"bgwmodel/impl/bgworker"
	"bgwmodel/spec"
)

// Validator is the validity checking under test: the implementation's three
// entry points that accept or refuse a worker definition. The properties
// take it as a value so that the same property body runs against the
// implementation ([ImplValidator]) and against deliberately broken
// variants built in the tests.
type Validator struct {
	// Validate is ValidateWorker: the Go API's input rules, then the
	// seed's sanity check. It returns nil or an error wrapping a
	// [*bgworker.InvalidError].
	Validate func(*bgworker.Worker) error
	// Sanity is SanityCheckBackgroundWorker, the seed's three rules alone.
	Sanity func(*bgworker.Worker) error
	// Static is the check of RegisterBackgroundWorker (static workers):
	// Validate, then notify_pid must be 0.
	Static func(bgworker.Worker) error
}

// ImplValidator returns the implementation's validity checks:
// [bgworker.ValidateWorker], [bgworker.SanityCheckBackgroundWorker], and
// [bgworker.Postmaster.RegisterBackgroundWorker] on a fresh postmaster
// with one free place, so that only the worker's validity decides.
func ImplValidator() Validator {
	return Validator{
		Validate: bgworker.ValidateWorker,
		Sanity:   bgworker.SanityCheckBackgroundWorker,
		Static: func(w bgworker.Worker) error {
			pm, err := bgworker.NewPostmaster(bgworker.PostmasterConfig{MaxWorkers: 1})
			if err != nil {
				return fmt.Errorf("proptest: new postmaster: %w", err)
			}
			return pm.RegisterBackgroundWorker(w)
		},
	}
}

// ImplVerdict interprets what an implementation check returned: valid
// (nil), or refused naming a field, translated to the specification's
// [spec.Field] with [implspec.Field]. Any other error, an InvalidError that does
// not wrap [bgworker.ErrInvalidWorker] or names an unknown field, is
// returned as err.
func ImplVerdict(res error) (field spec.Field, valid bool, err error) {
	if res == nil {
		return "", true, nil
	}
	var inv *bgworker.InvalidError
	if !errors.As(res, &inv) {
		return "", false, fmt.Errorf("not an *InvalidError: %w", res)
	}
	if !errors.Is(res, bgworker.ErrInvalidWorker) {
		return "", false, fmt.Errorf("does not wrap ErrInvalidWorker: %w", res)
	}
	f, ok := implspec.Field(inv.Field)
	if !ok {
		return "", false, fmt.Errorf("names field %q unknown to spec: %w", inv.Field, res)
	}
	return f, false, nil
}

// compareVerdicts checks that the implementation's result res agrees with
// the specification's want for w: both accept, or both refuse naming the
// same field. It returns nil on agreement, or an error describing the
// difference.
func compareVerdicts(w bgworker.Worker, res error, want *spec.Invalid) error {
	field, valid, err := ImplVerdict(res)
	if err != nil {
		return err
	}
	switch {
	case valid && want == nil:
		return nil
	case valid:
		return fmt.Errorf("impl accepts; spec refuses: %v", want)
	case want == nil:
		return fmt.Errorf("impl refuses (%v); spec accepts", res)
	case field != want.Field:
		return fmt.Errorf("impl refuses naming %s (%v); spec names %s (%v)", field, res, want.Field, want)
	}
	var inv *bgworker.InvalidError
	if errors.As(res, &inv) && inv.Worker != w.Name {
		return fmt.Errorf("InvalidError.Worker = %q, want the worker's name %q", inv.Worker, w.Name)
	}
	return nil
}

// SanityProperty is the sanity-check property: for a worker drawn by
// [WorkerGen], each check of v agrees with its specification, accepting or
// refusing alike and naming the same field:
//
//   - v.Validate with [spec.Validate];
//   - v.Sanity with [spec.SanityCheck];
//   - v.Static with [spec.ValidateStatic].
//
// Neither Validate nor Sanity may change the worker they are given. A
// refusal must be a [*bgworker.InvalidError] carrying the worker's name and
// wrapping [bgworker.ErrInvalidWorker].
func SanityProperty(v Validator) func(*rapid.T) {
	return func(t *rapid.T) {
		w := WorkerGen().Draw(t, "worker")
		sw := implspec.Worker(w)
		for _, c := range []struct {
			name string
			call func(*bgworker.Worker) error
			want *spec.Invalid
		}{
			{"ValidateWorker", v.Validate, spec.Validate(sw)},
			{"SanityCheckBackgroundWorker", v.Sanity, spec.SanityCheck(sw)},
			{"RegisterBackgroundWorker", func(w *bgworker.Worker) error { return v.Static(*w) }, spec.ValidateStatic(sw)},
		} {
			arg := w
			res := c.call(&arg)
			if arg != w {
				t.Fatalf("%s changed the worker: %#v became %#v", c.name, w, arg)
			}
			if err := compareVerdicts(w, res, c.want); err != nil {
				t.Fatalf("%s(%v) disagrees with spec: %v", c.name, sw, err)
			}
		}
	}
}
