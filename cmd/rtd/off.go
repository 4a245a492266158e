package main

import "time"

// offIfZero maps a duration whose 0 means "off" in rtd's configuration
// (ws-heartbeat, ws-idle-timeout) onto the library's way of saying so: a
// negative value, 0 being the library's default there.
func offIfZero(d time.Duration) time.Duration {
	if d == 0 {
		return -1
	}
	return d
}
