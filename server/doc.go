// Package server is part of rtd; see ARCHITECTURE.md.
package server
