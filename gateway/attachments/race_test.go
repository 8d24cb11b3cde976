//go:build race

package attachments

// raceEnabled shrinks the streaming tests: the race detector makes them slow.
const raceEnabled = true
