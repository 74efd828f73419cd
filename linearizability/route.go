package linearizability

import (
	"fmt"

	"bgwmodel/spec"
)

// route says which checks of the partitioned mode an operation belongs to.
type route struct {
	drop     bool // no effect and always legal: in no check at all
	validity bool // decided by the input alone: the "validity" check
	slot     int  // its slot's partition; -1 none; outOfRange: the partition of operations naming no slot
	global   bool // every slot partition (Reinit, Died, unknown Register)
	count    bool // the "no-free-slot" check's projection
}

// outOfRange is the route of a GetPid or WaitForStartup whose handle names
// a slot that does not exist: such operations have a partition of their
// own, with every global operation, in which the slot they name is slot
// -1 of the view (so STOPPED is their one legal answer, and
// POSTMASTER_DIED once the postmaster is dead).
const outOfRange = -2

// validReinit reports whether a Reinit's list names existing, distinct
// slots; spec.Step rejects any other list in every state.
func validReinit(inUse []int, nslots int) bool {
	seen := make(map[int]bool, len(inUse))
	for _, i := range inUse {
		if i < 0 || i >= nslots || seen[i] {
			return false
		}
		seen[i] = true
	}
	return true
}

// routeOf classifies one operation for a cluster of nslots slots. The
// rules, and why dropping or splitting an operation this way keeps every
// check sound, are in docs/checking.md:
//
//   - an unknown GetPid or WaitForStartup, an unknown Register of an
//     invalid worker, and an unknown Launch, Exit, Forget or Reinit that
//     spec.Step rejects in every state have no effect and are always legal:
//     dropped;
//   - a known Register of an invalid worker, a known ResultInvalid, a
//     known ResultOK, Launch, Exit or Forget naming no slot, and a known
//     Reinit with a bad list are legal or not whatever the state: validity;
//   - Register ResultOK, GetPid and WaitForStartup go to the handle's slot,
//     Launch, Exit and Forget to their slot; a Register ResultOK and a
//     Forget also go to the count projection; a GetPid or WaitForStartup
//     whose handle names no slot goes to the partition of such operations;
//   - Register ResultNoFreeSlot goes to the count projection only;
//   - an unknown Register of a valid worker goes to every slot and to the
//     count projection; Reinit to every slot and the count projection; Died
//     to every slot.
func routeOf(op *Operation, nslots int) route {
	in, out := &op.Input, &op.Output
	inRange := func(i int) bool { return i >= 0 && i < nslots }
	slotOf := func(i int) int {
		if inRange(i) {
			return i
		}
		return outOfRange
	}
	r := route{slot: -1}
	switch in.Kind {
	case spec.OpRegister:
		valid := spec.Validate(in.Worker) == nil
		switch {
		case !valid && out.Unknown:
			r.drop = true
		case !valid || out.Result == spec.ResultInvalid:
			r.validity = true
		case out.Unknown:
			r.global, r.count = true, true
		case out.Result == spec.ResultOK && !inRange(out.Handle.Slot):
			r.validity = true // names no slot: illegal in every state
		case out.Result == spec.ResultOK:
			r.slot, r.count = out.Handle.Slot, true
		case out.Result == spec.ResultNoFreeSlot:
			r.count = true
		default:
			r.validity = true // an unknown Result: illegal in every state
		}
	case spec.OpGetPid, spec.OpWaitForStartup:
		if out.Unknown {
			r.drop = true
		} else {
			r.slot = slotOf(in.Handle.Slot)
		}
	case spec.OpLaunch, spec.OpExit, spec.OpForget:
		switch {
		case out.Unknown && (!inRange(in.Slot) || in.Kind == spec.OpLaunch && in.Pid <= 0):
			r.drop = true
		case !inRange(in.Slot):
			r.validity = true // names no slot: illegal in every state
		default:
			r.slot, r.count = in.Slot, in.Kind == spec.OpForget
		}
	case spec.OpReinit:
		switch {
		case validReinit(in.InUse, nslots):
			r.global, r.count = true, true
		case out.Unknown:
			r.drop = true
		default:
			r.validity = true
		}
	case spec.OpDied:
		r.global = true
	default:
		r.validity = true
	}
	return r
}

// inSlot reports whether r belongs to the partition of slot i.
func (r route) inSlot(i int) bool {
	return r.global || r.slot == i
}

// canonicalWorker stands for every valid worker in an unknown Register's
// pool class: they all have the same effect on the state.
var canonicalWorker = spec.Worker{Name: "w", StartTime: spec.ConsistentState}

// classKey names the pool class of an unknown operation in a view: two
// unknown operations with the same key have the same possible effects.
func classKey(in spec.Input) string {
	switch in.Kind {
	case spec.OpRegister:
		return "register"
	case spec.OpLaunch:
		return fmt.Sprintf("launch s%d pid=%d", in.Slot, in.Pid)
	case spec.OpExit, spec.OpForget:
		return fmt.Sprintf("%v s%d", in.Kind, in.Slot)
	case spec.OpReinit:
		return fmt.Sprintf("reinit %v", in.InUse)
	}
	return in.Kind.String()
}
