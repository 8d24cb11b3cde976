package audit

// SetSyslogQueueForTest bounds the queue of the targets made from now on
// to n messages; the returned func restores the bound.
func SetSyslogQueueForTest(n int) (restore func()) {
	old := syslogQueue
	syslogQueue = n
	return func() { syslogQueue = old }
}
