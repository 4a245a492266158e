// Package http1 is part of rtd; see ARCHITECTURE.md.
package http1
