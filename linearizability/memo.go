package linearizability

// stepMemo remembers, during one sweep, what the machine's step returned
// for a configuration and an operation key. The sweep steps the same few
// configurations by the same pending operations again and again (on one
// slot with eight overlapping clients, about fifty times each): every
// configuration with the same machine configuration but different lin
// counts steps alike, and so does every closure after the next return.
//
// A hit is sound because step is a function of the configuration, up to
// the machine's equal, and of the operation's key: two operations with
// equal keys have the same effect and legality in every configuration
// (the contract of [machine.key], on which the sweep's classes rest
// already). The slices it returns are shared and must not be changed; no
// caller does.
type stepMemo[C any] struct {
	m       machine[C]
	buckets map[uint64][]memoEntry[C]
	n       int
}

// memoEntry is one remembered step.
type memoEntry[C any] struct {
	c    C
	key  string
	out  []C
	idle bool // out holds c: the operation is legal in c and leaves it as it is
}

// maxMemo is the most steps a memo remembers; past it, it starts afresh
// (the configurations of a long run change, so old entries go stale).
const maxMemo = 1 << 15

func (s *stepMemo[C]) init(m machine[C]) {
	s.m, s.buckets = m, map[uint64][]memoEntry[C]{}
}

// step returns s.m.step(c, in), where key is s.m.key(in) and khash its
// strhash, and whether that holds c.
func (s *stepMemo[C]) step(c C, in any, key string, khash uint64) (out []C, idle bool) {
	h := s.m.hash(c) ^ khash
	for _, e := range s.buckets[h] {
		if e.key == key && s.m.equal(e.c, c) {
			return e.out, e.idle
		}
	}
	out = s.m.step(c, in)
	for _, d := range out {
		if s.m.equal(d, c) {
			idle = true
			break
		}
	}
	if s.n == maxMemo {
		clear(s.buckets)
		s.n = 0
	}
	s.buckets[h] = append(s.buckets[h], memoEntry[C]{c: c, key: key, out: out, idle: idle})
	s.n++
	return out, idle
}

// step returns the configurations that may follow c when an operation of
// class slot p takes effect, and whether c is one of them.
func (s *sweeper[C]) step(c C, p int) ([]C, bool) {
	cl := &s.classes[p]
	return s.memo.step(c, s.ops[cl.rep].Input, cl.key, cl.khash)
}
