//go:build !unix

package source

import (
	"context"
	"os"
)

// openInterruptible opens path; elsewhere than Unix a FIFO cannot be
// waited on apart, and stdin is read as it is.
func openInterruptible(ctx context.Context, path string) (*os.File, error) {
	if path == "-" {
		return os.Stdin, nil
	}
	return os.Open(path)
}
