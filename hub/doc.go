// Package hub is part of rtd; see ARCHITECTURE.md.
package hub
