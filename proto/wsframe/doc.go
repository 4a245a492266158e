// Package wsframe is part of rtd; see ARCHITECTURE.md.
package wsframe
