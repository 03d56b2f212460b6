// Package e2e holds rebindwatch's end-to-end tests: TestMain builds the
// binary once and the tests run it, as a user or a pipeline would, on the
// recordings under testdata/ (made by the scripts there from real
// software), with one file per concern: alerts, tshark agreement, usage
// and exit codes, terminal safety of hostile input, secrets, signals and
// output faults, the dashboard under a pty, privileges, memory under a
// flood, and the tools around detection.
//
//	go test ./e2e                  # everything, under a minute
//	go test ./e2e -run Hostile -v  # the hostile-input, fault and privilege runs
//	go test ./e2e -short           # skips the pty run and the flood
//
// The package has no code of its own; tests elsewhere share helpers
// through internal/testkit.
package e2e
