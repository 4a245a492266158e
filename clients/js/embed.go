// Package rtdjs embeds the JavaScript client rtd.js and the console page, which `rtd
// serve` serves at GET /rtd.js and GET /console (with --console).
package rtdjs

import _ "embed"

// Source is rtd.js, an ES module.
//
//go:embed rtd.js
var Source []byte

// Types is rtd.d.ts, the module's TypeScript declarations.
//
//go:embed rtd.d.ts
var Types []byte

// Console is the console page, an HTML page that imports /rtd.js.
//
//go:embed console.html
var Console []byte
