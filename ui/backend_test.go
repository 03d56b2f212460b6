package ui

import "github.com/rebindwatch/rebindwatch/detect"

// The engine is the dashboard's Backend.
var _ Backend = (*detect.Engine)(nil)
