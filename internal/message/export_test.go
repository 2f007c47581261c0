package message

// The second passes over parked carrier reports, for tests that stage the
// races they settle.
var (
	Unpark       = (*Service).unpark
	SweepPending = (*Service).sweepPending
)
