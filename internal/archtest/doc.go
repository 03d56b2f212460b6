// Package archtest checks the module's import graph against the allowed
// imports written in the README ("Allowed imports"): each package may import
// only the packages of ours its rule names. It has no code, only the test.
package archtest
