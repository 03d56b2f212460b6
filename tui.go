package main

import (
	"context"
	"errors"

	"github.com/rebindwatch/rebindwatch/detect"
)

// uiAvailable reports whether this build has the dashboard.
const uiAvailable = false

func runDashboard(ctx context.Context, cancel context.CancelCauseFunc, e *detect.Engine, in <-chan detect.Batch, s *setup, o options) error {
	return errors.New("no dashboard")
}
