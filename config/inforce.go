package config

import (
	"bytes"
	"strings"

	"github.com/BurntSushi/toml"
)

// InForce renders the configuration as TOML, every option with its value
// (defaults included), for a report of what a run used. The salt is never
// in it: a comment says only whether one is set, since with it anyone who
// has the report could confirm a guessed key against its fingerprints.
func (c *Config) InForce() (string, error) {
	shown := *c
	shown.Keys.Salt = ""
	var b bytes.Buffer
	enc := toml.NewEncoder(&b)
	enc.Indent = ""
	if err := enc.Encode(shown); err != nil {
		return "", err
	}
	note := "# salt: not set (fingerprints are plain SHA-256)"
	if c.Keys.Salt != "" {
		note = "# salt: set (not shown)"
	}
	// The encoder writes the emptied salt as one line of [keys]; the note
	// takes its place.
	before, after, found := strings.Cut(b.String(), "\nsalt = \"\"\n")
	if !found {
		return b.String() + "\n" + note + "\n", nil
	}
	return before + "\n" + note + "\n" + after, nil
}
