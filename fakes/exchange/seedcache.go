package exchange

import (
	"strconv"
	"strings"
	"sync"
)

// Generating and parsing the seeded messages was most of a scenario
// world's start (about 60 ms of 70), and every world of a suite seeds
// alike. The messages of one seeding are kept per process and shared by
// the servers seeded the same way: a GeneratedMessage and its
// ParsedMessage are read-only once made (items hold them, never change
// them).

// seededMessage is one message of a seeding, in generation order.
type seededMessage struct {
	gm *GeneratedMessage
	pm *ParsedMessage
}

// maxSeedings bounds the cache: a suite seeds a few ways.
const maxSeedings = 8

var seedings struct {
	sync.Mutex
	m map[string][]seededMessage
}

// seedKey names a seeding: the generator's seed and domain, the messages
// per user and the users as configured (their order too).
func seedKey(cfg Config, users []User) string {
	var b strings.Builder
	b.WriteString(strconv.FormatUint(cfg.Seed, 10) + "|" + cfg.Domain + "|" + strconv.Itoa(cfg.MessagesPerUser))
	for _, u := range users {
		b.WriteString("|" + u.Name + "\x00" + u.Email + "\x00" + u.DisplayName)
	}
	return b.String()
}

// seedStream returns the seeding's messages one by one: replayed when
// the process made them before, else generated (by newGen's generator)
// and parsed, and kept when done is called at the end of the seeding.
func seedStream(key string, newGen func() *Generator) (next func(to string) (*GeneratedMessage, *ParsedMessage, error), done func()) {
	seedings.Lock()
	cached, ok := seedings.m[key]
	seedings.Unlock()
	if ok {
		i := 0
		return func(string) (*GeneratedMessage, *ParsedMessage, error) {
			m := cached[i]
			i++
			return m.gm, m.pm, nil
		}, func() {}
	}
	var (
		made []seededMessage
		gen  *Generator
	)
	return func(to string) (*GeneratedMessage, *ParsedMessage, error) {
			if gen == nil {
				gen = newGen()
			}
			gm := gen.Next(to)
			pm, err := ParseMIME(gm.Raw)
			if err != nil {
				return nil, nil, err
			}
			made = append(made, seededMessage{gm, pm})
			return gm, pm, nil
		}, func() {
			seedings.Lock()
			defer seedings.Unlock()
			if seedings.m == nil || len(seedings.m) >= maxSeedings {
				seedings.m = map[string][]seededMessage{}
			}
			seedings.m[key] = made
		}
}
