package linearizability

// prune drops configurations dominated by another: f dominates e if f's
// machine configuration dominates e's and f can reach e's lin counts at
// once, by linearizing now operations in flight that leave f's
// configuration as it is (a GetPid whose answer is right in f's state,
// say). Anything e can do from here, f can then do too.
func (s *sweeper[C]) prune(cs []config[C]) []config[C] {
	if len(cs) < 2 || len(cs) > maxPrune {
		return cs
	}
	var idle map[[2]int]bool // made when first needed
	out := cs[:0:0]
outer:
	for i, c := range cs {
		for j, d := range cs {
			if i == j || !s.m.dominates(d.c, c.c) {
				continue
			}
			if c.lin == d.lin && (!s.m.dominates(c.c, d.c) || j < i) || c.lin != d.lin && s.reaches(d, j, c.lin, &idle) {
				continue outer
			}
		}
		out = append(out, c)
	}
	return out
}

// maxPrune is the most configurations prune compares pairwise.
const maxPrune = 64

// reaches reports whether configuration d (index j of its set) reaches the
// lin counts lin by linearizing operations in flight that leave d.c as it
// is. idle caches, by index and class slot, whether a class does so.
func (s *sweeper[C]) reaches(d config[C], j int, lin string, idle *map[[2]int]bool) bool {
	e := config[C]{lin: lin}
	for p := range max(len(lin), len(d.lin)) {
		switch {
		case d.count(p) > e.count(p):
			return false
		case d.count(p) == e.count(p):
			continue
		}
		still, ok := (*idle)[[2]int{j, p}]
		if !ok {
			if *idle == nil {
				*idle = map[[2]int]bool{}
			}
			_, still = s.step(d.c, p)
			(*idle)[[2]int{j, p}] = still
		}
		if !still {
			return false
		}
	}
	return true
}
