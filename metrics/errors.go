package metrics

import "errors"

// ErrBadMetric is returned by NewRegistry, wrapped with the metric's name and
// the reason, for a Metric without a Value, with an invalid name or label,
// or clashing with another series (same name and labels, or the same name
// with a different Help, Kind or set of label names).
var ErrBadMetric = errors.New("metrics: bad metric")
