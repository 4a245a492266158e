// Package bench is part of rtd; see ARCHITECTURE.md.
package bench
