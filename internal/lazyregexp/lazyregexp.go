// Package lazyregexp is a regular expression compiled on its first use. Terraform starts the
// provider process several times per command and most starts never validate a gateway route
// or a saga template, so compiling every package-level expression at start (about 55 of them,
// 1.2 MB of allocations each time) is work thrown away.
package lazyregexp

import (
	"regexp"
	"sync"
)

// Regexp is a regular expression compiled on first use; it panics then if expr is invalid,
// as regexp.MustCompile would have at start (a test of this package compiles every
// expression the project passes to New).
type Regexp struct {
	expr    string
	compile func() *regexp.Regexp
}

// New is a Regexp for expr, not yet compiled.
func New(expr string) *Regexp {
	return &Regexp{expr: expr, compile: sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(expr) })}
}

// Regexp is the compiled expression.
func (r *Regexp) Regexp() *regexp.Regexp { return r.compile() }

// MatchString reports whether s contains any match of the expression.
func (r *Regexp) MatchString(s string) bool { return r.compile().MatchString(s) }

// FindString is regexp.Regexp.FindString.
func (r *Regexp) FindString(s string) string { return r.compile().FindString(s) }

// FindStringSubmatch is regexp.Regexp.FindStringSubmatch.
func (r *Regexp) FindStringSubmatch(s string) []string { return r.compile().FindStringSubmatch(s) }

// FindAllStringSubmatch is regexp.Regexp.FindAllStringSubmatch.
func (r *Regexp) FindAllStringSubmatch(s string, n int) [][]string {
	return r.compile().FindAllStringSubmatch(s, n)
}

// ReplaceAllString is regexp.Regexp.ReplaceAllString.
func (r *Regexp) ReplaceAllString(src, repl string) string {
	return r.compile().ReplaceAllString(src, repl)
}

// String is the source text of the expression (it does not compile it).
func (r *Regexp) String() string { return r.expr }
