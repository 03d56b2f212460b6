//go:build !unix

package logsrc

import "errors"

func mkfifo(string) error { return errors.New("not supported") }
