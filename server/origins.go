package server

import (
	"fmt"
	"slices"

	"github.com/rtd-project/rtd/proto/wsframe"
)

// checkOrigins refuses, when a WebSocket or SSE route is registered, origins
// that no browser could match and credentials offered to no site or to every
// site. The requests themselves are matched by wsframe.MatchOrigin, for both
// transports.
func checkOrigins(origins []string, credentials bool) error {
	if err := wsframe.CheckOrigins(origins); err != nil {
		return fmt.Errorf("%w: %w", ErrBadOrigins, err)
	}
	if credentials && (len(origins) == 0 || slices.Contains(origins, "*")) {
		return fmt.Errorf(`%w: AllowCredentials needs Origins naming the sites (not empty, not "*")`, ErrBadOrigins)
	}
	return nil
}
