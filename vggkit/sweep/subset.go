package sweep

import "fmt"

// Subset is a named selection of results, for comparing some trials without the rest.
type Subset struct {
	Name string
	Keep func(Result) bool
}

// Subsets are the selections a notebook offers: all trials, the best three, the trials
// that reached the last rung, and one per value of each choice parameter.
func Subsets(rs []Result, space Space) []Subset {
	top := map[string]bool{}
	most := 0
	for i, r := range rs {
		top[r.Name] = i < 3
		most = max(most, r.Epochs)
	}
	out := []Subset{
		{"all trials", func(Result) bool { return true }},
		{"best 3", func(r Result) bool { return top[r.Name] }},
		{fmt.Sprintf("trained %d epochs (not stopped early)", most), func(r Result) bool { return r.Epochs == most }},
	}
	for _, p := range space.Params {
		for _, v := range p.Values {
			path := p.Path // compared as written: plan.json gives numbers back as float64.
			out = append(out, Subset{Label(path) + ": " + Format(v), func(r Result) bool { return Format(r.Params[path]) == Format(v) }})
		}
	}
	return out
}

// Filter keeps the results s selects, in order.
func (s Subset) Filter(rs []Result) []Result {
	var out []Result
	for _, r := range rs {
		if s.Keep(r) {
			out = append(out, r)
		}
	}
	return out
}
