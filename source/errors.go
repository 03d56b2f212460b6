package source

// ErrInput matches (errors.Is) every error a source returns for an input it
// cannot use as asked: not a capture, no known log format, a binary file, a
// glob that matches nothing, no such interface, no privilege to capture. It
// is the user's to fix (exit status 2), not a failure of the run.
var ErrInput error = &inputError{"unusable input"}

// InputError returns a sentinel error with text that errors.Is matches both
// with itself and with ErrInput.
func InputError(text string) error { return &inputError{text} }

type inputError struct{ text string }

func (e *inputError) Error() string        { return e.text }
func (e *inputError) Is(target error) bool { return target == ErrInput }
