package server

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// streamSocket opens a TCP socket of family, closed on exec. Darwin has no
// SOCK_CLOEXEC: the flag is set under the fork lock, as package net does.
func streamSocket(family int) (int, error) {
	syscall.ForkLock.RLock()
	defer syscall.ForkLock.RUnlock()
	fd, err := unix.Socket(family, unix.SOCK_STREAM, 0)
	if err == nil {
		unix.CloseOnExec(fd)
	}
	return fd, err
}
