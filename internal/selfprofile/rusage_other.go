//go:build !unix

package selfprofile

// readRusage has no getrusage to read here: the usage file then has the Go runtime's figures only.
func readRusage(*Usage) {}
