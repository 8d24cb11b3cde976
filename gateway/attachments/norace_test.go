//go:build !race

package attachments

const raceEnabled = false
