// Package jsonenc appends JSON text without allocating: what the fan-out
// tier's envelope needs on the publish path, where encoding/json would
// allocate for every field.
package jsonenc
