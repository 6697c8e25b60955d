package backend

import "sync"

var shared struct {
	once   sync.Once
	choice *Choice
	err    error
}

// Shared is the process's backend, picked once (New) and then reused: every PJRT client
// holds its own thread pools and device memory, so a notebook or a sweep should have one.
func Shared() (*Choice, error) {
	shared.once.Do(func() { shared.choice, shared.err = New() })
	return shared.choice, shared.err
}
