//go:build linux || freebsd || netbsd || openbsd || dragonfly

package server

import "golang.org/x/sys/unix"

// streamSocket opens a TCP socket of family, closed on exec.
func streamSocket(family int) (int, error) {
	return unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
}
