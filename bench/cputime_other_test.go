//go:build !unix

package bench

import "time"

// cpu is not measured on this system.
func cpu() time.Duration { return 0 }
