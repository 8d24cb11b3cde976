package reports

// SuiteShare is the fraction of the checklist the suite's specs name,
// whatever this run selected: shown beside Share, so that a short demo
// run's small share does not read as a failure.
func (c Coverage) SuiteShare() float64 {
	if c.Total == 0 {
		return 0
	}
	return float64(len(c.Cited)) / float64(c.Total)
}
