package analytics

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// This file is a recursive-descent parser for the GraphQL subset the analytics endpoint
// accepts: one or more operations (`query`, named or anonymous, or the `{ ... }` shorthand)
// with variable definitions (types and defaults), nested selection sets, field aliases and
// arguments whose values are variables, strings (including block strings), numbers, booleans,
// null, enums, lists and input objects. Fragments, directives, mutations and subscriptions are
// rejected with a GraphQL error.

// pos is a 1-based position in the query text.
type pos struct{ line, col int }

// syntaxError is a parse error at a position.
type syntaxError struct {
	msg string
	at  pos
}

func (e *syntaxError) Error() string {
	return fmt.Sprintf("Syntax Error: %s (line %d, column %d)", e.msg, e.at.line, e.at.col)
}

type tokenKind int

const (
	tokEOF tokenKind = iota
	tokPunct
	tokName
	tokInt
	tokFloat
	tokString
)

type token struct {
	kind tokenKind
	text string // punctuator, name, number text, or decoded string
	at   pos
}

func (t token) describe() string {
	switch t.kind {
	case tokEOF:
		return "<EOF>"
	case tokString:
		return strconv.Quote(t.text)
	case tokName:
		return "Name " + strconv.Quote(t.text)
	default:
		return strconv.Quote(t.text)
	}
}

type lexer struct {
	src  string
	i    int
	line int
	col  int
}

func (l *lexer) errorf(at pos, format string, args ...any) error {
	return &syntaxError{msg: fmt.Sprintf(format, args...), at: at}
}

func (l *lexer) advance(n int) {
	for k := 0; k < n && l.i < len(l.src); k++ {
		if l.src[l.i] == '\n' {
			l.line++
			l.col = 1
		} else if l.src[l.i]&0xC0 != 0x80 { // count runes, not continuation bytes
			l.col++
		}
		l.i++
	}
}

func isNameStart(c byte) bool { return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isNameChar(c byte) bool  { return isNameStart(c) || c >= '0' && c <= '9' }
func isDigit(c byte) bool     { return c >= '0' && c <= '9' }

func (l *lexer) next() (token, error) {
	// Skip ignored tokens: whitespace, line terminators, commas, comments, BOM.
	for l.i < len(l.src) {
		c := l.src[l.i]
		if c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ',' {
			l.advance(1)
		} else if c == '#' {
			for l.i < len(l.src) && l.src[l.i] != '\n' {
				l.advance(1)
			}
		} else if strings.HasPrefix(l.src[l.i:], "\uFEFF") {
			l.advance(3)
		} else {
			break
		}
	}
	at := pos{l.line, l.col}
	if l.i >= len(l.src) {
		return token{kind: tokEOF, at: at}, nil
	}
	c := l.src[l.i]
	switch {
	case strings.HasPrefix(l.src[l.i:], "..."):
		l.advance(3)
		return token{kind: tokPunct, text: "...", at: at}, nil
	case strings.IndexByte("!$&()=:@[]{}|", c) >= 0:
		l.advance(1)
		return token{kind: tokPunct, text: string(c), at: at}, nil
	case isNameStart(c):
		start := l.i
		for l.i < len(l.src) && isNameChar(l.src[l.i]) {
			l.advance(1)
		}
		return token{kind: tokName, text: l.src[start:l.i], at: at}, nil
	case c == '-' || isDigit(c):
		return l.number(at)
	case c == '"':
		if strings.HasPrefix(l.src[l.i:], `"""`) {
			return l.blockString(at)
		}
		return l.str(at)
	}
	r, _ := utf8.DecodeRuneInString(l.src[l.i:])
	return token{}, l.errorf(at, "Unexpected character %q", r)
}

func (l *lexer) number(at pos) (token, error) {
	start := l.i
	if l.src[l.i] == '-' {
		l.advance(1)
	}
	digits := func() int {
		n := 0
		for l.i < len(l.src) && isDigit(l.src[l.i]) {
			l.advance(1)
			n++
		}
		return n
	}
	intStart := l.i
	if digits() == 0 {
		return token{}, l.errorf(at, "Invalid number, expected digit")
	}
	if l.i-intStart > 1 && l.src[intStart] == '0' {
		return token{}, l.errorf(at, "Invalid number, unexpected digit after 0")
	}
	kind := tokInt
	if l.i < len(l.src) && l.src[l.i] == '.' {
		kind = tokFloat
		l.advance(1)
		if digits() == 0 {
			return token{}, l.errorf(at, "Invalid number, expected digit after \".\"")
		}
	}
	if l.i < len(l.src) && (l.src[l.i] == 'e' || l.src[l.i] == 'E') {
		kind = tokFloat
		l.advance(1)
		if l.i < len(l.src) && (l.src[l.i] == '+' || l.src[l.i] == '-') {
			l.advance(1)
		}
		if digits() == 0 {
			return token{}, l.errorf(at, "Invalid number, expected digit in exponent")
		}
	}
	if l.i < len(l.src) && (isNameStart(l.src[l.i]) || l.src[l.i] == '.') {
		return token{}, l.errorf(at, "Invalid number, unexpected %q", l.src[l.i])
	}
	return token{kind: kind, text: l.src[start:l.i], at: at}, nil
}

func (l *lexer) str(at pos) (token, error) {
	l.advance(1) // opening quote
	var b strings.Builder
	for {
		if l.i >= len(l.src) || l.src[l.i] == '\n' || l.src[l.i] == '\r' {
			return token{}, l.errorf(at, "Unterminated string")
		}
		c := l.src[l.i]
		if c == '"' {
			l.advance(1)
			return token{kind: tokString, text: b.String(), at: at}, nil
		}
		if c != '\\' {
			r, size := utf8.DecodeRuneInString(l.src[l.i:])
			b.WriteRune(r)
			l.advance(size)
			continue
		}
		escAt := pos{l.line, l.col}
		if l.i+1 >= len(l.src) {
			return token{}, l.errorf(at, "Unterminated string")
		}
		e := l.src[l.i+1]
		switch e {
		case '"', '\\', '/':
			b.WriteByte(e)
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'u':
			if l.i+6 > len(l.src) {
				return token{}, l.errorf(escAt, "Invalid Unicode escape sequence")
			}
			n, err := strconv.ParseUint(l.src[l.i+2:l.i+6], 16, 32)
			if err != nil {
				return token{}, l.errorf(escAt, "Invalid Unicode escape sequence %q", l.src[l.i:l.i+6])
			}
			b.WriteRune(rune(n))
			l.advance(6)
			continue
		default:
			return token{}, l.errorf(escAt, "Invalid character escape sequence \\%c", e)
		}
		l.advance(2)
	}
}

func (l *lexer) blockString(at pos) (token, error) {
	l.advance(3)
	var raw strings.Builder
	for {
		if l.i >= len(l.src) {
			return token{}, l.errorf(at, "Unterminated string")
		}
		if strings.HasPrefix(l.src[l.i:], `"""`) {
			l.advance(3)
			return token{kind: tokString, text: blockStringValue(raw.String()), at: at}, nil
		}
		if strings.HasPrefix(l.src[l.i:], `\"""`) {
			raw.WriteString(`"""`)
			l.advance(4)
			continue
		}
		raw.WriteByte(l.src[l.i])
		l.advance(1)
	}
}

// blockStringValue removes the common indentation and blank first/last lines (spec §2.9.4).
func blockStringValue(raw string) string {
	lines := strings.Split(strings.ReplaceAll(strings.ReplaceAll(raw, "\r\n", "\n"), "\r", "\n"), "\n")
	common := -1
	for _, ln := range lines[1:] {
		indent := len(ln) - len(strings.TrimLeft(ln, " \t"))
		if indent < len(ln) && (common < 0 || indent < common) {
			common = indent
		}
	}
	if common > 0 {
		for i := 1; i < len(lines); i++ {
			if len(lines[i]) >= common {
				lines[i] = lines[i][common:]
			} else {
				lines[i] = strings.TrimLeft(lines[i], " \t")
			}
		}
	}
	for len(lines) > 0 && strings.TrimSpace(lines[0]) == "" {
		lines = lines[1:]
	}
	for len(lines) > 0 && strings.TrimSpace(lines[len(lines)-1]) == "" {
		lines = lines[:len(lines)-1]
	}
	return strings.Join(lines, "\n")
}

// AST.

type document struct {
	ops []*operation
}

type operation struct {
	name string
	vars []*varDef
	sel  []*field
	at   pos
}

type varDef struct {
	name string
	typ  *typeRef
	def  *value // nil when there is no default
	at   pos
}

type typeRef struct {
	name    string   // named type, when elem is nil
	elem    *typeRef // list element type
	nonNull bool
}

func (t *typeRef) String() string {
	s := t.name
	if t.elem != nil {
		s = "[" + t.elem.String() + "]"
	}
	if t.nonNull {
		s += "!"
	}
	return s
}

type field struct {
	alias string // response key; the name when there is no alias
	name  string
	args  []*argument
	sel   []*field // nil for a leaf
	at    pos
}

type argument struct {
	name string
	val  *value
	at   pos
}

type valueKind int

const (
	valVariable valueKind = iota
	valInt
	valFloat
	valString
	valBool
	valNull
	valEnum
	valList
	valObject
)

type value struct {
	kind   valueKind
	text   string // variable name, number text, string, enum name
	b      bool
	list   []*value
	fields []*objectField
	at     pos
}

type objectField struct {
	name string
	val  *value
	at   pos
}

type parser struct {
	lex lexer
	tok token
}

// parseQuery parses a GraphQL document.
func parseQuery(src string) (*document, error) {
	p := &parser{lex: lexer{src: src, line: 1, col: 1}}
	if err := p.advance(); err != nil {
		return nil, err
	}
	doc := &document{}
	if p.tok.kind == tokEOF {
		return nil, &syntaxError{msg: "Unexpected <EOF>, expected an operation", at: p.tok.at}
	}
	for p.tok.kind != tokEOF {
		op, err := p.operation()
		if err != nil {
			return nil, err
		}
		doc.ops = append(doc.ops, op)
	}
	return doc, nil
}

func (p *parser) advance() error {
	t, err := p.lex.next()
	if err != nil {
		return err
	}
	p.tok = t
	return nil
}

func (p *parser) errorf(format string, args ...any) error {
	return &syntaxError{msg: fmt.Sprintf(format, args...), at: p.tok.at}
}

func (p *parser) unexpected(expected string) error {
	return p.errorf("Expected %s, found %s", expected, p.tok.describe())
}

func (p *parser) isPunct(s string) bool { return p.tok.kind == tokPunct && p.tok.text == s }

func (p *parser) expectPunct(s string) error {
	if !p.isPunct(s) {
		return p.unexpected(strconv.Quote(s))
	}
	return p.advance()
}

func (p *parser) name() (string, error) {
	if p.tok.kind != tokName {
		return "", p.unexpected("Name")
	}
	n := p.tok.text
	return n, p.advance()
}

func (p *parser) rejectDirectives() error {
	if p.isPunct("@") {
		return p.errorf("directives are not supported by this endpoint")
	}
	return nil
}

func (p *parser) operation() (*operation, error) {
	op := &operation{at: p.tok.at}
	if p.isPunct("{") {
		sel, err := p.selectionSet()
		op.sel = sel
		return op, err
	}
	if p.tok.kind != tokName {
		return nil, p.unexpected("an operation")
	}
	switch p.tok.text {
	case "query":
	case "mutation", "subscription":
		return nil, p.errorf("%s operations are not supported: the analytics API is read-only", p.tok.text)
	case "fragment":
		return nil, p.errorf("fragments are not supported by this endpoint")
	default:
		return nil, p.errorf("Unexpected Name %q, expected \"query\" or \"{\"", p.tok.text)
	}
	if err := p.advance(); err != nil {
		return nil, err
	}
	if p.tok.kind == tokName {
		op.name = p.tok.text
		if err := p.advance(); err != nil {
			return nil, err
		}
	}
	if p.isPunct("(") {
		vars, err := p.variableDefinitions()
		if err != nil {
			return nil, err
		}
		op.vars = vars
	}
	if err := p.rejectDirectives(); err != nil {
		return nil, err
	}
	sel, err := p.selectionSet()
	op.sel = sel
	return op, err
}

func (p *parser) variableDefinitions() ([]*varDef, error) {
	if err := p.expectPunct("("); err != nil {
		return nil, err
	}
	var defs []*varDef
	for !p.isPunct(")") {
		d := &varDef{at: p.tok.at}
		if err := p.expectPunct("$"); err != nil {
			return nil, err
		}
		n, err := p.name()
		if err != nil {
			return nil, err
		}
		d.name = n
		if err := p.expectPunct(":"); err != nil {
			return nil, err
		}
		if d.typ, err = p.typeRef(); err != nil {
			return nil, err
		}
		if p.isPunct("=") {
			if err := p.advance(); err != nil {
				return nil, err
			}
			if d.def, err = p.value(true); err != nil {
				return nil, err
			}
		}
		if err := p.rejectDirectives(); err != nil {
			return nil, err
		}
		for _, prev := range defs {
			if prev.name == d.name {
				return nil, &syntaxError{msg: fmt.Sprintf("There can be only one variable named \"$%s\"", d.name), at: d.at}
			}
		}
		defs = append(defs, d)
	}
	if len(defs) == 0 {
		return nil, p.unexpected("Variable")
	}
	return defs, p.advance()
}

func (p *parser) typeRef() (*typeRef, error) {
	t := &typeRef{}
	if p.isPunct("[") {
		if err := p.advance(); err != nil {
			return nil, err
		}
		elem, err := p.typeRef()
		if err != nil {
			return nil, err
		}
		t.elem = elem
		if err := p.expectPunct("]"); err != nil {
			return nil, err
		}
	} else {
		n, err := p.name()
		if err != nil {
			return nil, err
		}
		t.name = n
	}
	if p.isPunct("!") {
		t.nonNull = true
		if err := p.advance(); err != nil {
			return nil, err
		}
	}
	return t, nil
}

func (p *parser) selectionSet() ([]*field, error) {
	if err := p.expectPunct("{"); err != nil {
		return nil, err
	}
	var sel []*field
	for !p.isPunct("}") {
		if p.isPunct("...") {
			return nil, p.errorf("fragments are not supported by this endpoint")
		}
		f, err := p.field()
		if err != nil {
			return nil, err
		}
		sel = append(sel, f)
	}
	if len(sel) == 0 {
		return nil, p.unexpected("Name")
	}
	return sel, p.advance()
}

func (p *parser) field() (*field, error) {
	f := &field{at: p.tok.at}
	n, err := p.name()
	if err != nil {
		return nil, err
	}
	f.alias, f.name = n, n
	if p.isPunct(":") {
		if err := p.advance(); err != nil {
			return nil, err
		}
		if f.name, err = p.name(); err != nil {
			return nil, err
		}
	}
	if p.isPunct("(") {
		if f.args, err = p.arguments(); err != nil {
			return nil, err
		}
	}
	if err := p.rejectDirectives(); err != nil {
		return nil, err
	}
	if p.isPunct("{") {
		if f.sel, err = p.selectionSet(); err != nil {
			return nil, err
		}
	}
	return f, nil
}

func (p *parser) arguments() ([]*argument, error) {
	if err := p.expectPunct("("); err != nil {
		return nil, err
	}
	var args []*argument
	for !p.isPunct(")") {
		a := &argument{at: p.tok.at}
		n, err := p.name()
		if err != nil {
			return nil, err
		}
		a.name = n
		if err := p.expectPunct(":"); err != nil {
			return nil, err
		}
		if a.val, err = p.value(false); err != nil {
			return nil, err
		}
		for _, prev := range args {
			if prev.name == a.name {
				return nil, &syntaxError{msg: fmt.Sprintf("There can be only one argument named %q", a.name), at: a.at}
			}
		}
		args = append(args, a)
	}
	if len(args) == 0 {
		return nil, p.unexpected("Name")
	}
	return args, p.advance()
}

// value parses a value; constant values (variable defaults) cannot contain variables.
func (p *parser) value(constant bool) (*value, error) {
	v := &value{at: p.tok.at}
	switch {
	case p.isPunct("$"):
		if constant {
			return nil, p.errorf("Unexpected variable in a constant value")
		}
		if err := p.advance(); err != nil {
			return nil, err
		}
		n, err := p.name()
		v.kind, v.text = valVariable, n
		return v, err
	case p.isPunct("["):
		v.kind = valList
		if err := p.advance(); err != nil {
			return nil, err
		}
		for !p.isPunct("]") {
			if p.tok.kind == tokEOF {
				return nil, p.unexpected(`"]"`)
			}
			item, err := p.value(constant)
			if err != nil {
				return nil, err
			}
			v.list = append(v.list, item)
		}
		return v, p.advance()
	case p.isPunct("{"):
		v.kind = valObject
		if err := p.advance(); err != nil {
			return nil, err
		}
		for !p.isPunct("}") {
			of := &objectField{at: p.tok.at}
			n, err := p.name()
			if err != nil {
				return nil, err
			}
			of.name = n
			if err := p.expectPunct(":"); err != nil {
				return nil, err
			}
			if of.val, err = p.value(constant); err != nil {
				return nil, err
			}
			for _, prev := range v.fields {
				if prev.name == of.name {
					return nil, &syntaxError{msg: fmt.Sprintf("There can be only one input field named %q", of.name), at: of.at}
				}
			}
			v.fields = append(v.fields, of)
		}
		return v, p.advance()
	}
	switch p.tok.kind {
	case tokInt:
		v.kind = valInt
	case tokFloat:
		v.kind = valFloat
	case tokString:
		v.kind = valString
	case tokName:
		switch p.tok.text {
		case "true", "false":
			v.kind, v.b = valBool, p.tok.text == "true"
		case "null":
			v.kind = valNull
		default:
			v.kind = valEnum
		}
	default:
		return nil, p.unexpected("a value")
	}
	v.text = p.tok.text
	return v, p.advance()
}

// resolve turns a value into Go data, substituting variables: strings and enums become
// string, numbers json.Number, lists []any, objects map[string]any; null and unset variables
// become nil.
func resolve(v *value, vars map[string]any) any {
	switch v.kind {
	case valVariable:
		return vars[v.text]
	case valInt, valFloat:
		return json.Number(v.text)
	case valString, valEnum:
		return v.text
	case valBool:
		return v.b
	case valNull:
		return nil
	case valList:
		out := make([]any, 0, len(v.list))
		for _, item := range v.list {
			out = append(out, resolve(item, vars))
		}
		return out
	case valObject:
		out := make(map[string]any, len(v.fields))
		for _, of := range v.fields {
			out[of.name] = resolve(of.val, vars)
		}
		return out
	}
	return nil
}

// collectVariables calls fn for every variable referenced in the selection set.
func collectVariables(sel []*field, fn func(name string, at pos)) {
	var walk func(v *value)
	walk = func(v *value) {
		switch v.kind {
		case valVariable:
			fn(v.text, v.at)
		case valList:
			for _, item := range v.list {
				walk(item)
			}
		case valObject:
			for _, of := range v.fields {
				walk(of.val)
			}
		}
	}
	for _, f := range sel {
		for _, a := range f.args {
			walk(a.val)
		}
		collectVariables(f.sel, fn)
	}
}

// Execution.
//
// Schema subset (names as in Cloudflare's GraphQL Analytics API):
//
//	query { viewer { accounts(filter: {accountTag}) { workersInvocationsAdaptive(limit, filter, orderBy) {
//	  sum       { requests errors subrequests wallTime cpuTimeUs clientDisconnects duration responseBodySize }
//	  quantiles { wallTimeP25 … wallTimeP999 cpuTimeP25 … cpuTimeP999 (P25 P50 P75 P90 P99 P999)
//	              durationP* responseBodySizeP* }
//	  max / min { wallTime cpuTime duration responseBodySize }
//	  avg       { sampleInterval }
//	  dimensions { scriptName scriptVersion status datetime datetimeMinute datetimeFiveMinutes
//	               datetimeFifteenMinutes datetimeHalfOfHour datetimeHour datetimeSixHours date }
//	} } } }
//
// Times (wallTime, cpuTime, cpuTimeUs) are microseconds, as on Cloudflare. Fields the local
// edge does not measure (subrequests, duration, responseBodySize) are 0. Time dimensions have
// minute resolution: `datetime` is the start of the invocation's minute, and time filters
// compare that minute.

// Response is a GraphQL response: data is null when there are errors.
type gqlResponse struct {
	Data   any        `json:"data"`
	Errors []gqlError `json:"errors"`
}

type gqlError struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path,omitempty"`
	Locations  []gqlLocation  `json:"locations,omitempty"`
	Extensions map[string]any `json:"extensions,omitempty"`
}

type gqlLocation struct {
	Line   int `json:"line"`
	Column int `json:"column"`
}

// execError is a GraphQL error raised while validating or executing.
type execError struct {
	msg  string
	code string
	path []any
	at   pos
}

func (e *execError) Error() string { return e.msg }

// object is a JSON object that keeps its keys in selection order.
type object struct {
	keys []string
	vals map[string]any
}

func newObject() *object { return &object{vals: map[string]any{}} }

func (o *object) set(k string, v any) {
	if _, ok := o.vals[k]; !ok {
		o.keys = append(o.keys, k)
	}
	o.vals[k] = v
}

func (o *object) MarshalJSON() ([]byte, error) {
	var b strings.Builder
	b.WriteByte('{')
	for i, k := range o.keys {
		if i > 0 {
			b.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		b.Write(kb)
		b.WriteByte(':')
		vb, err := json.Marshal(o.vals[k])
		if err != nil {
			return nil, err
		}
		b.Write(vb)
	}
	b.WriteByte('}')
	return []byte(b.String()), nil
}

// executor runs one operation.
type executor struct {
	rec       *Recorder
	accountID string
	vars      map[string]any
	now       time.Time
}

func appendPath(path []any, elems ...any) []any {
	out := make([]any, 0, len(path)+len(elems))
	return append(append(out, path...), elems...)
}

func (x *executor) errorf(f *field, path []any, code, format string, args ...any) error {
	return &execError{msg: fmt.Sprintf(format, args...), code: code, path: path, at: f.at}
}

func (x *executor) unknownField(f *field, path []any, typ string) error {
	return x.errorf(f, appendPath(path, f.alias), "validation", "Cannot query field %q on type %q.", f.name, typ)
}

func (x *executor) checkArgs(f *field, path []any, allowed ...string) (map[string]any, error) {
	out := map[string]any{}
	for _, a := range f.args {
		ok := false
		for _, name := range allowed {
			ok = ok || a.name == name
		}
		if !ok {
			return nil, x.errorf(f, appendPath(path, f.alias), "validation", "Unknown argument %q on field %q.", a.name, f.name)
		}
		out[a.name] = resolve(a.val, x.vars)
	}
	return out, nil
}

func (x *executor) leaf(f *field, path []any) error {
	if f.sel != nil {
		return x.errorf(f, appendPath(path, f.alias), "validation", "Field %q must not have a selection since it is a scalar.", f.name)
	}
	if len(f.args) > 0 {
		return x.errorf(f, appendPath(path, f.alias), "validation", "Unknown argument %q on field %q.", f.args[0].name, f.name)
	}
	return nil
}

func (x *executor) needsSelection(f *field, path []any, typ string) error {
	if f.sel == nil {
		return x.errorf(f, appendPath(path, f.alias), "validation", "Field %q of type %q must have a selection of subfields.", f.name, typ)
	}
	return nil
}

func (x *executor) query(sel []*field) (*object, error) {
	out := newObject()
	for _, f := range sel {
		switch f.name {
		case "__typename":
			out.set(f.alias, "Query")
		case "viewer":
			if _, err := x.checkArgs(f, nil); err != nil {
				return nil, err
			}
			if err := x.needsSelection(f, nil, "viewer"); err != nil {
				return nil, err
			}
			v, err := x.viewer(f, []any{f.alias})
			if err != nil {
				return nil, err
			}
			out.set(f.alias, v)
		default:
			return nil, x.unknownField(f, nil, "Query")
		}
	}
	return out, nil
}

func (x *executor) viewer(vf *field, path []any) (*object, error) {
	out := newObject()
	for _, f := range vf.sel {
		switch f.name {
		case "__typename":
			out.set(f.alias, "viewer")
		case "accounts":
			args, err := x.checkArgs(f, path, "filter")
			if err != nil {
				return nil, err
			}
			if err := x.needsSelection(f, path, "account"); err != nil {
				return nil, err
			}
			filter, _ := args["filter"].(map[string]any)
			tag, ok := filter["accountTag"].(string)
			if !ok || tag == "" {
				return nil, x.errorf(f, appendPath(path, f.alias), "validation", "accounts: filter must set accountTag")
			}
			for k := range filter {
				if k != "accountTag" {
					return nil, x.errorf(f, appendPath(path, f.alias), "validation", "accounts: unsupported filter field %q", k)
				}
			}
			if tag != x.accountID {
				return nil, x.errorf(f, appendPath(path, f.alias), "authz", "not authorized for that account")
			}
			acct, err := x.account(f, appendPath(path, f.alias, 0))
			if err != nil {
				return nil, err
			}
			out.set(f.alias, []any{acct})
		case "zones":
			return nil, x.errorf(f, appendPath(path, f.alias), "validation", "zones are not supported by the local edge; query accounts")
		default:
			return nil, x.unknownField(f, path, "viewer")
		}
	}
	return out, nil
}

func (x *executor) account(af *field, path []any) (*object, error) {
	out := newObject()
	for _, f := range af.sel {
		switch f.name {
		case "__typename":
			out.set(f.alias, "account")
		case "workersInvocationsAdaptive":
			rows, err := x.workersInvocations(f, appendPath(path, f.alias))
			if err != nil {
				return nil, err
			}
			out.set(f.alias, rows)
		default:
			return nil, x.unknownField(f, path, "account")
		}
	}
	return out, nil
}

// Dimensions of workersInvocationsAdaptive, with the time truncation of the time dimensions.
var timeDimensions = map[string]time.Duration{
	"datetime":               time.Minute,
	"datetimeMinute":         time.Minute,
	"datetimeFiveMinutes":    5 * time.Minute,
	"datetimeFifteenMinutes": 15 * time.Minute,
	"datetimeHalfOfHour":     30 * time.Minute,
	"datetimeHour":           time.Hour,
	"datetimeSixHours":       6 * time.Hour,
}

func isDimension(name string) bool {
	_, isTime := timeDimensions[name]
	return isTime || name == "date" || name == "scriptName" || name == "scriptVersion" || name == "status"
}

// dimensionValue is a bucket's value of a dimension; time values are RFC 3339 in UTC (so
// they sort chronologically as strings), dates YYYY-MM-DD.
func dimensionValue(k bucketKey, name string) string {
	switch name {
	case "scriptName":
		return k.script
	case "scriptVersion":
		return k.version
	case "status":
		return InvocationStatus(k.status, k.thrown)
	case "date":
		return bucketTime(k).Format(time.DateOnly)
	}
	return bucketTime(k).Truncate(timeDimensions[name]).Format(time.RFC3339)
}

var (
	sumFields      = []string{"requests", "errors", "subrequests", "wallTime", "cpuTimeUs", "clientDisconnects", "duration", "responseBodySize"}
	quantileLevels = map[string]float64{"P25": 0.25, "P50": 0.50, "P75": 0.75, "P90": 0.90, "P99": 0.99, "P999": 0.999}
	minMaxFields   = []string{"wallTime", "cpuTime", "duration", "responseBodySize"}
)

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// quantileField splits e.g. "wallTimeP99" into ("wallTime", 0.99).
func quantileField(name string) (metric string, q float64, ok bool) {
	i := strings.LastIndex(name, "P")
	if i <= 0 {
		return "", 0, false
	}
	metric = name[:i]
	q, ok = quantileLevels[name[i:]]
	return metric, q, ok && contains([]string{"wallTime", "cpuTime", "duration", "responseBodySize"}, metric)
}

func sumValue(a *agg, name string) uint64 {
	switch name {
	case "requests":
		return a.requests
	case "errors":
		return a.errors
	case "wallTime":
		return a.wall.sum
	case "cpuTimeUs":
		return a.cpu.sum
	case "clientDisconnects":
		return a.disconnects
	}
	return 0 // subrequests, duration, responseBodySize: not measured by the local edge
}

func histFor(a *agg, metric string) *hist {
	switch metric {
	case "wallTime":
		return &a.wall
	case "cpuTime":
		return &a.cpu
	}
	return nil
}

// group is one result row.
type group struct {
	dims []string // values of the selected dimensions, in order
	agg  agg
}

const maxLimit = 10000

func (x *executor) workersInvocations(f *field, path []any) ([]any, error) {
	errf := func(format string, args ...any) error {
		return &execError{msg: fmt.Sprintf(format, args...), code: "validation", path: path, at: f.at}
	}
	args, err := x.checkArgs(f, path[:len(path)-1], "limit", "filter", "orderBy")
	if err != nil {
		return nil, err
	}
	if err := x.needsSelection(f, path[:len(path)-1], "AccountWorkersInvocationsAdaptive"); err != nil {
		return nil, err
	}
	limit := maxLimit
	if v, ok := args["limit"]; ok && v != nil {
		n, ok := toInt(v)
		if !ok || n < 0 {
			return nil, errf("limit must be a non-negative integer")
		}
		if n > maxLimit {
			return nil, errf("limit must be less than or equal to %d", maxLimit)
		}
		limit = n
	}
	pred, err := compileFilter(args["filter"])
	if err != nil {
		return nil, errf("filter: %v", err)
	}

	// Validate the selection and collect the dimensions to group by.
	var dims []string
	for _, sf := range f.sel {
		var allowed func(string) bool
		typ := ""
		switch sf.name {
		case "__typename":
			continue
		case "sum":
			allowed, typ = func(n string) bool { return contains(sumFields, n) }, "AccountWorkersInvocationsAdaptiveSum"
		case "quantiles":
			allowed, typ = func(n string) bool { _, _, ok := quantileField(n); return ok }, "AccountWorkersInvocationsAdaptiveQuantiles"
		case "max", "min":
			allowed, typ = func(n string) bool { return contains(minMaxFields, n) }, "AccountWorkersInvocationsAdaptive"+strings.ToUpper(sf.name[:1])+sf.name[1:]
		case "avg":
			allowed, typ = func(n string) bool { return n == "sampleInterval" }, "AccountWorkersInvocationsAdaptiveAvg"
		case "dimensions":
			allowed, typ = isDimension, "AccountWorkersInvocationsAdaptiveDimensions"
		default:
			return nil, x.unknownField(sf, path, "AccountWorkersInvocationsAdaptive")
		}
		if len(sf.args) > 0 {
			return nil, x.errorf(sf, appendPath(path, sf.alias), "validation", "Unknown argument %q on field %q.", sf.args[0].name, sf.name)
		}
		if err := x.needsSelection(sf, path, typ); err != nil {
			return nil, err
		}
		for _, leaf := range sf.sel {
			if leaf.name == "__typename" {
				continue
			}
			if !allowed(leaf.name) {
				return nil, x.unknownField(leaf, appendPath(path, sf.alias), typ)
			}
			if err := x.leaf(leaf, appendPath(path, sf.alias)); err != nil {
				return nil, err
			}
			if sf.name == "dimensions" && !contains(dims, leaf.name) {
				dims = append(dims, leaf.name)
			}
		}
	}
	orders, err := compileOrderBy(args["orderBy"], dims)
	if err != nil {
		return nil, errf("orderBy: %v", err)
	}

	// Aggregate the matching buckets by the selected dimensions.
	groups := map[string]*group{}
	x.rec.visit(x.now, func(k bucketKey, a *agg) {
		if !pred(k) {
			return
		}
		vals := make([]string, len(dims))
		for i, d := range dims {
			vals[i] = dimensionValue(k, d)
		}
		id := strings.Join(vals, "\x00")
		g := groups[id]
		if g == nil {
			g = &group{dims: vals}
			groups[id] = g
		}
		g.agg.merge(a)
	})
	rows := make([]*group, 0, len(groups))
	for _, g := range groups {
		rows = append(rows, g)
	}
	sortGroups(rows, orders)
	if len(rows) > limit {
		rows = rows[:limit]
	}

	out := make([]any, 0, len(rows))
	for _, g := range rows {
		row := newObject()
		for _, sf := range f.sel {
			if sf.name == "__typename" {
				row.set(sf.alias, "AccountWorkersInvocationsAdaptive")
				continue
			}
			sub := newObject()
			for _, leaf := range sf.sel {
				if leaf.name == "__typename" {
					sub.set(leaf.alias, "AccountWorkersInvocationsAdaptive"+strings.ToUpper(sf.name[:1])+sf.name[1:])
					continue
				}
				sub.set(leaf.alias, fieldValue(g, dims, sf.name, leaf.name))
			}
			row.set(sf.alias, sub)
		}
		out = append(out, row)
	}
	return out, nil
}

func fieldValue(g *group, dims []string, section, name string) any {
	switch section {
	case "sum":
		return sumValue(&g.agg, name)
	case "quantiles":
		metric, q, _ := quantileField(name)
		if h := histFor(&g.agg, metric); h != nil {
			return h.quantile(q)
		}
		return 0
	case "max", "min":
		h := histFor(&g.agg, name)
		if h == nil || h.n == 0 {
			return 0
		}
		if section == "max" {
			return h.max
		}
		return h.min
	case "avg":
		return 1 // sampleInterval: every invocation is recorded
	case "dimensions":
		for i, d := range dims {
			if d == name {
				return g.dims[i]
			}
		}
	}
	return nil
}

// order is one orderBy entry: a dimension or a sum field, ascending or descending.
type order struct {
	dim  int    // index into the group's dims, or -1
	sum  string // sum field when dim < 0
	desc bool
}

func compileOrderBy(v any, dims []string) ([]order, error) {
	if v == nil {
		return nil, nil
	}
	list, ok := v.([]any)
	if !ok {
		list = []any{v} // a single value is coerced to a one-element list
	}
	var out []order
	for _, item := range list {
		s, ok := item.(string)
		if !ok {
			return nil, fmt.Errorf("expected an enum value such as datetimeMinute_ASC, got %v", item)
		}
		var o order
		name, isAsc := strings.CutSuffix(s, "_ASC")
		if !isAsc {
			var isDesc bool
			if name, isDesc = strings.CutSuffix(s, "_DESC"); !isDesc {
				return nil, fmt.Errorf("%q must end in _ASC or _DESC", s)
			}
			o.desc = true
		}
		o.dim = -1
		if f, ok := strings.CutPrefix(name, "sum_"); ok && contains(sumFields, f) {
			o.sum = f
		} else if isDimension(name) {
			for i, d := range dims {
				if d == name {
					o.dim = i
				}
			}
			if o.dim < 0 {
				return nil, fmt.Errorf("cannot order by %s: dimension %q is not selected", s, name)
			}
		} else {
			return nil, fmt.Errorf("unknown value %q", s)
		}
		out = append(out, o)
	}
	return out, nil
}

// sortGroups orders rows by the orderBy entries, then by every dimension ascending so that
// the result is deterministic.
func sortGroups(rows []*group, orders []order) {
	sort.Slice(rows, func(i, j int) bool {
		a, b := rows[i], rows[j]
		for _, o := range orders {
			c := 0
			if o.dim >= 0 {
				c = strings.Compare(a.dims[o.dim], b.dims[o.dim])
			} else {
				x, y := sumValue(&a.agg, o.sum), sumValue(&b.agg, o.sum)
				if x < y {
					c = -1
				} else if x > y {
					c = 1
				}
			}
			if o.desc {
				c = -c
			}
			if c != 0 {
				return c < 0
			}
		}
		for d := range a.dims {
			if c := strings.Compare(a.dims[d], b.dims[d]); c != 0 {
				return c < 0
			}
		}
		return false
	})
}

func toInt(v any) (int, bool) {
	switch n := v.(type) {
	case json.Number:
		i, err := n.Int64()
		return int(i), err == nil
	case float64:
		return int(n), n == float64(int(n))
	case int:
		return n, true
	}
	return 0, false
}

// compileFilter turns a workersInvocationsAdaptive filter into a predicate over buckets.
// Supported: AND / OR lists; for every dimension the operators eq (no suffix), _neq, _gt,
// _geq, _lt, _leq, _in, _notin. Null values (e.g. unset optional variables) are ignored.
func compileFilter(v any) (func(bucketKey) bool, error) {
	if v == nil {
		return func(bucketKey) bool { return true }, nil
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("expected an input object, got %v", v)
	}
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Strings(keys) // deterministic error messages
	var preds []func(bucketKey) bool
	for _, k := range keys {
		val := obj[k]
		if val == nil {
			continue
		}
		if k == "AND" || k == "OR" {
			list, ok := val.([]any)
			if !ok {
				return nil, fmt.Errorf("%s expects a list of filters", k)
			}
			var subs []func(bucketKey) bool
			for _, item := range list {
				p, err := compileFilter(item)
				if err != nil {
					return nil, err
				}
				subs = append(subs, p)
			}
			if k == "AND" {
				preds = append(preds, func(b bucketKey) bool {
					for _, p := range subs {
						if !p(b) {
							return false
						}
					}
					return true
				})
			} else if len(subs) > 0 {
				preds = append(preds, func(b bucketKey) bool {
					for _, p := range subs {
						if p(b) {
							return true
						}
					}
					return false
				})
			}
			continue
		}
		p, err := compileCondition(k, val)
		if err != nil {
			return nil, err
		}
		preds = append(preds, p)
	}
	return func(b bucketKey) bool {
		for _, p := range preds {
			if !p(b) {
				return false
			}
		}
		return true
	}, nil
}

var filterOps = []string{"_notin", "_neq", "_geq", "_leq", "_gt", "_lt", "_in"}

func compileCondition(key string, val any) (func(bucketKey) bool, error) {
	dim, op := key, ""
	for _, suffix := range filterOps {
		if d, ok := strings.CutSuffix(key, suffix); ok && isDimension(d) {
			dim, op = d, suffix
			break
		}
	}
	if !isDimension(dim) {
		return nil, fmt.Errorf("unknown field %q", key)
	}
	// compare returns the order of a bucket's dimension value against a filter operand.
	parse := func(item any) (func(bucketKey) int, error) {
		s, ok := item.(string)
		if !ok {
			return nil, fmt.Errorf("%s: expected a string, got %v", key, item)
		}
		if trunc, isTime := timeDimensions[dim]; isTime {
			t, err := time.Parse(time.RFC3339Nano, s)
			if err != nil {
				return nil, fmt.Errorf("%s: invalid Time %q: expected RFC 3339 such as 2024-01-02T15:04:05Z", key, s)
			}
			return func(b bucketKey) int { return bucketTime(b).Truncate(trunc).Compare(t) }, nil
		}
		if dim == "date" {
			t, err := time.Parse(time.DateOnly, s)
			if err != nil {
				return nil, fmt.Errorf("%s: invalid Date %q: expected YYYY-MM-DD", key, s)
			}
			want := t.Format(time.DateOnly)
			return func(b bucketKey) int { return strings.Compare(dimensionValue(b, dim), want) }, nil
		}
		return func(b bucketKey) int { return strings.Compare(dimensionValue(b, dim), s) }, nil
	}
	if op == "_in" || op == "_notin" {
		list, ok := val.([]any)
		if !ok {
			list = []any{val}
		}
		var cmps []func(bucketKey) int
		for _, item := range list {
			c, err := parse(item)
			if err != nil {
				return nil, err
			}
			cmps = append(cmps, c)
		}
		in := op == "_in"
		return func(b bucketKey) bool {
			for _, c := range cmps {
				if c(b) == 0 {
					return in
				}
			}
			return !in
		}, nil
	}
	c, err := parse(val)
	if err != nil {
		return nil, err
	}
	test := map[string]func(int) bool{
		"":     func(c int) bool { return c == 0 },
		"_neq": func(c int) bool { return c != 0 },
		"_gt":  func(c int) bool { return c > 0 },
		"_geq": func(c int) bool { return c >= 0 },
		"_lt":  func(c int) bool { return c < 0 },
		"_leq": func(c int) bool { return c <= 0 },
	}[op]
	return func(b bucketKey) bool { return test(c(b)) }, nil
}

func bucketTime(k bucketKey) time.Time { return time.Unix(k.minute*60, 0).UTC() }

// execute parses and runs a query for the given account.
func (r *Recorder) execute(accountID, query string, vars map[string]any, operationName string) gqlResponse {
	doc, err := parseQuery(query)
	if err != nil {
		var se *syntaxError
		if !errors.As(err, &se) {
			return errorResponse(gqlError{Message: err.Error(), Extensions: map[string]any{"code": "parsing"}})
		}
		return errorResponse(gqlError{
			Message:    se.Error(),
			Locations:  []gqlLocation{{se.at.line, se.at.col}},
			Extensions: map[string]any{"code": "parsing"},
		})
	}
	op, gerr := pickOperation(doc, operationName)
	if gerr != nil {
		return errorResponse(*gerr)
	}
	resolved, gerr := coerceVariables(op, vars)
	if gerr != nil {
		return errorResponse(*gerr)
	}
	x := &executor{rec: r, accountID: accountID, vars: resolved, now: r.clock()}
	data, err := x.query(op.sel)
	if err != nil {
		var ee *execError
		if !errors.As(err, &ee) {
			return errorResponse(gqlError{Message: err.Error(), Extensions: map[string]any{"code": "internal"}})
		}
		return errorResponse(gqlError{
			Message:    ee.msg,
			Path:       ee.path,
			Locations:  []gqlLocation{{ee.at.line, ee.at.col}},
			Extensions: map[string]any{"code": ee.code, "timestamp": x.now.UTC().Format(time.RFC3339Nano)},
		})
	}
	return gqlResponse{Data: data}
}

func errorResponse(e gqlError) gqlResponse { return gqlResponse{Errors: []gqlError{e}} }

func pickOperation(doc *document, name string) (*operation, *gqlError) {
	if name == "" {
		if len(doc.ops) > 1 {
			return nil, &gqlError{Message: "Must provide operation name if query contains multiple operations.", Extensions: map[string]any{"code": "validation"}}
		}
		return doc.ops[0], nil
	}
	for _, op := range doc.ops {
		if op.name == name {
			return op, nil
		}
	}
	return nil, &gqlError{Message: fmt.Sprintf("Unknown operation named %q.", name), Extensions: map[string]any{"code": "validation"}}
}

// coerceVariables applies defaults, checks required variables and that every variable used
// is defined. Values are not type-checked beyond what the resolvers need.
func coerceVariables(op *operation, given map[string]any) (map[string]any, *gqlError) {
	out := map[string]any{}
	for _, d := range op.vars {
		v, ok := given[d.name]
		if !ok && d.def != nil {
			v, ok = resolve(d.def, nil), true
		}
		if (!ok || v == nil) && d.typ.nonNull {
			return nil, &gqlError{
				Message:    fmt.Sprintf("Variable \"$%s\" of required type %q was not provided.", d.name, d.typ.String()),
				Locations:  []gqlLocation{{d.at.line, d.at.col}},
				Extensions: map[string]any{"code": "validation"},
			}
		}
		out[d.name] = v
	}
	var undefined *gqlError
	collectVariables(op.sel, func(name string, at pos) {
		if _, ok := out[name]; !ok && undefined == nil && !declared(op, name) {
			undefined = &gqlError{
				Message:    fmt.Sprintf("Variable \"$%s\" is not defined.", name),
				Locations:  []gqlLocation{{at.line, at.col}},
				Extensions: map[string]any{"code": "validation"},
			}
		}
	})
	return out, undefined
}

func declared(op *operation, name string) bool {
	for _, d := range op.vars {
		if d.name == name {
			return true
		}
	}
	return false
}

// maxBodyBytes bounds a GraphQL request body.
const maxBodyBytes = 1 << 20

// Handler serves POST /client/v4/graphql for the given account: a JSON body
// {"query": "...", "variables": {...}, "operationName": "..."} answered, like Cloudflare,
// with HTTP 200 and {"data": {...}, "errors": null}, or {"data": null, "errors": [...]} when
// the query does not parse or validate or names another account. Authentication is the
// caller's job.
func (r *Recorder) Handler(accountID string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		var body struct {
			Query         string          `json:"query"`
			Variables     json.RawMessage `json:"variables"`
			OperationName string          `json:"operationName"`
		}
		dec := json.NewDecoder(http.MaxBytesReader(w, req.Body, maxBodyBytes))
		if err := dec.Decode(&body); err != nil {
			writeGraphQL(w, errorResponse(gqlError{Message: "could not parse request body: " + err.Error(), Extensions: map[string]any{"code": "bad_request"}}))
			return
		}
		vars, err := decodeVariables(body.Variables)
		if err != nil {
			writeGraphQL(w, errorResponse(gqlError{Message: "variables: " + err.Error(), Extensions: map[string]any{"code": "bad_request"}}))
			return
		}
		if strings.TrimSpace(body.Query) == "" {
			writeGraphQL(w, errorResponse(gqlError{Message: "Must provide query string.", Extensions: map[string]any{"code": "bad_request"}}))
			return
		}
		writeGraphQL(w, r.execute(accountID, body.Query, vars, body.OperationName))
	})
}

// decodeVariables accepts an object, null, or an object encoded as a JSON string (some
// clients send variables that way). Numbers stay json.Number.
func decodeVariables(raw json.RawMessage) (map[string]any, error) {
	raw = json.RawMessage(strings.TrimSpace(string(raw)))
	if len(raw) == 0 || string(raw) == "null" {
		return map[string]any{}, nil
	}
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, err
		}
		if strings.TrimSpace(s) == "" {
			return map[string]any{}, nil
		}
		raw = json.RawMessage(s)
	}
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.UseNumber()
	var vars map[string]any
	if err := dec.Decode(&vars); err != nil {
		return nil, fmt.Errorf("expected a JSON object: %v", err)
	}
	if vars == nil {
		vars = map[string]any{}
	}
	return vars, nil
}

func writeGraphQL(w http.ResponseWriter, resp gqlResponse) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_ = json.NewEncoder(w).Encode(resp)
}
