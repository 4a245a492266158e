// Package sse is part of rtd; see ARCHITECTURE.md.
package sse
