package main

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"

	rtdjs "github.com/rtd-project/rtd/clients/js"
	"github.com/rtd-project/rtd/server"
)

// mountClientJS registers GET /rtd.js (the JavaScript client, an ES module) and GET
// /rtd.d.ts (its TypeScript declarations), both embedded in the binary, and with console
// GET /console, the admin page built on rtd.js.
//
// The module is public code: any site may import it (Access-Control-Allow-Origin: *, no
// credentials), and caches keep it for five minutes, then revalidate it with its ETag.
func mountClientJS(srv *server.Server, console bool) error {
	if err := serveStatic(srv, "/rtd.js", "text/javascript; charset=utf-8", rtdjs.Source, true); err != nil {
		return err
	}
	if err := serveStatic(srv, "/rtd.d.ts", "application/typescript; charset=utf-8", rtdjs.Types, true); err != nil {
		return err
	}
	if !console {
		return nil
	}
	return serveStatic(srv, "/console", "text/html; charset=utf-8", rtdjs.Console, false)
}

// serveStatic serves body at GET path with a strong ETag (a hash of body), answering a
// matching If-None-Match with 304. A public body is cacheable by anyone and readable
// cross-origin; a page is revalidated on every load and kept out of frames.
func serveStatic(srv *server.Server, path, contentType string, body []byte, public bool) error {
	sum := sha256.Sum256(body)
	etag := `"` + hex.EncodeToString(sum[:12]) + `"`
	return srv.HandleFunc("GET", path, func(w *server.ResponseWriter, r *server.Request) {
		w.SetHeader("ETag", etag)
		if public {
			w.SetHeader("Cache-Control", "public, max-age=300")
			w.SetHeader("Access-Control-Allow-Origin", "*")
		} else {
			w.SetHeader("Cache-Control", "no-cache")
			w.SetHeader("X-Frame-Options", "DENY")
			w.SetHeader("Content-Security-Policy", "frame-ancestors 'none'")
		}
		if etagMatches(r.Header("If-None-Match"), etag) {
			w.WriteHeader(304)
			return
		}
		w.SetHeader("Content-Type", contentType)
		_, _ = w.Write(body)
	})
}

// etagMatches reports whether an If-None-Match header names etag (or is "*"); weak
// validators (W/"…") match too, as RFC 9110 has it for If-None-Match.
func etagMatches(header, etag string) bool {
	for part := range strings.SplitSeq(header, ",") {
		part = strings.TrimPrefix(strings.TrimSpace(part), "W/")
		if part == etag || part == "*" {
			return true
		}
	}
	return false
}
