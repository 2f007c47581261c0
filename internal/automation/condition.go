package automation

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/heraldsms/herald/internal/contact"
)

// Conditions say which events (and contacts) an automation acts on: every
// condition in All, or at least one in Any. An element may itself be a group
// with All or Any, two levels deep at most. No conditions at all match
// everything.
type Conditions struct {
	All []Condition `json:"all,omitempty"`
	Any []Condition `json:"any,omitempty"`
}

// Condition is one test, {"field": "event.data.amount", "op": "gte",
// "value": 10}, or a nested group, {"any": [...]}.
//
// Fields are event.type, event.program_id, event.data.<path> (dots walk into
// nested objects; a whole number walks into a list), contact.first_name,
// contact.last_name, contact.email, contact.phone_country,
// contact.sms_preference and contact.attributes.<path>.
//
// Operators and their values:
//   - eq, ne: a string, number or boolean;
//   - gt, gte, lt, lte: a number, or a string (compared byte by byte, which
//     orders ISO 8601 dates correctly);
//   - in: a list of 1 to 100 strings, numbers or booleans, matching when the
//     field equals any of them;
//   - exists: true or false.
//
// Numbers compare as numbers, whether JSON gave them as float64 or
// json.Number, and a string holding a decimal number ("10") compares as that
// number when the other side is a number, because event producers quote
// amounts inconsistently. Strings otherwise compare exactly: case matters,
// so "Gold" is not "gold", and no Unicode folding is done, because a silent
// fold would make "in" lists behave in ways a marketer cannot see.
//
// A field that is absent or null satisfies only "exists": false; every other
// operator is false for it, ne included, so that "tier ne gold" never picks
// contacts whose tier is unknown. A present value of a type the operator
// cannot compare (a list against gt, a boolean against a number) makes eq,
// in and the orderings false and ne true. NaN equals and orders against
// nothing.
type Condition struct {
	Field string      `json:"field,omitempty"`
	Op    string      `json:"op,omitempty"`
	Value any         `json:"value,omitempty"`
	All   []Condition `json:"all,omitempty"`
	Any   []Condition `json:"any,omitempty"`
}

// The operators a Condition may use.
const (
	OpEq     = "eq"
	OpNe     = "ne"
	OpGt     = "gt"
	OpGte    = "gte"
	OpLt     = "lt"
	OpLte    = "lte"
	OpIn     = "in"
	OpExists = "exists"
)

// Limits on conditions, so a definition stays readable and a hostile one
// stays cheap to compile and match.
const (
	MaxConditions    = 50   // tests in one definition, groups not counted
	MaxConditionDeep = 3    // the top level and two levels of nested groups
	MaxInValues      = 100  // elements of an "in" list
	MaxValueBytes    = 1000 // length of a string value
	MaxFieldBytes    = 200  // length of a field name
)

// Facts answer a field lookup for one event and contact. The boolean is
// false when the field is absent.
type Facts interface {
	Lookup(field string) (any, bool)
}

// MapFacts are Facts read from an event's parts and a contact's fields.
// Empty EventType and ProgramID count as absent.
// Data is the event's data object as decoded from JSON; Contact holds
// first_name, last_name, email, phone_country, sms_preference and attributes
// (an object), as ContactFields builds it.
type MapFacts struct {
	EventType string
	ProgramID string
	Data      map[string]any
	Contact   map[string]any
}

// Lookup implements Facts. Lookups into Data and Contact do not allocate.
func (m MapFacts) Lookup(field string) (any, bool) {
	root, rest, _ := strings.Cut(field, ".")
	switch root {
	case "event":
		switch {
		case rest == "type":
			return m.EventType, m.EventType != ""
		case rest == "program_id":
			return m.ProgramID, m.ProgramID != ""
		case strings.HasPrefix(rest, "data."):
			return walk(m.Data, rest[len("data."):])
		}
	case "contact":
		if path, ok := strings.CutPrefix(rest, "attributes."); ok {
			return walk(m.Contact["attributes"], path)
		}
		v, ok := m.Contact[rest]
		return v, ok && v != nil
	}
	return nil, false
}

// ContactFields returns the fields of c that conditions may test, for
// MapFacts.Contact. Empty strings are left out, so that "exists" means
// "known": contacts are stored with "" for an unknown name or email.
func ContactFields(c *contact.Contact) map[string]any {
	m := make(map[string]any, 6)
	for k, v := range map[string]string{
		"first_name": c.FirstName, "last_name": c.LastName, "email": c.Email,
		"phone_country": c.PhoneCountry, "sms_preference": string(c.SMSPreference),
	} {
		if v != "" {
			m[k] = v
		}
	}
	if len(c.Attributes) > 0 {
		m["attributes"] = c.Attributes
	}
	return m
}

// walk follows a dotted path into decoded JSON: object keys, and list
// indexes written as whole numbers.
func walk(v any, path string) (any, bool) {
	if path == "" {
		return nil, false
	}
	for path != "" {
		var seg string
		seg, path, _ = strings.Cut(path, ".")
		switch cur := v.(type) {
		case map[string]any:
			var ok bool
			if v, ok = cur[seg]; !ok {
				return nil, false
			}
		case []any:
			i, err := strconv.Atoi(seg)
			if err != nil || i < 0 || i >= len(cur) {
				return nil, false
			}
			v = cur[i]
		default:
			return nil, false
		}
	}
	return v, v != nil
}

// Match reports whether f meets the conditions. It compiles them each time,
// so prefer Compile for anything that runs in a loop; conditions that do not
// compile match nothing.
func (c Conditions) Match(f Facts) bool {
	m, err := c.Compile()
	if err != nil {
		return false
	}
	return m.Match(f)
}

// Compile checks the conditions and turns them into a Matcher. Errors are
// *problem.Error values of kind Invalid whose Field is a path such as
// "conditions.all[2].value".
func (c Conditions) Compile() (*Matcher, error) {
	count := 0
	root, err := compileGroup(c.All, c.Any, "conditions", 1, &count)
	if err != nil {
		return nil, err
	}
	return &Matcher{root: root}, nil
}

// Matcher is compiled Conditions: fields checked and values typed once, so
// matching an event costs a few map lookups and comparisons. It is
// immutable and safe for concurrent use.
type Matcher struct {
	root group
}

// Match reports whether f meets the conditions. A nil Matcher matches
// everything, like empty Conditions.
func (m *Matcher) Match(f Facts) bool {
	return m == nil || m.root.match(f)
}

// group is a compiled all/any list. Leaf tests run before nested groups;
// both are pure, so only the cost changes.
type group struct {
	any    bool
	tests  []test
	groups []group
}

func (g *group) match(f Facts) bool {
	if len(g.tests) == 0 && len(g.groups) == 0 {
		return true // the empty top level
	}
	for i := range g.tests {
		if g.tests[i].match(f) == g.any {
			return g.any
		}
	}
	for i := range g.groups {
		if g.groups[i].match(f) == g.any {
			return g.any
		}
	}
	return !g.any
}

// compileGroup compiles one level. Only the top level can be empty: an
// element with neither all nor any is a test, and fails as one.
func compileGroup(all, anyOf []Condition, path string, depth int, count *int) (group, error) {
	list, key := all, "all"
	switch {
	case len(all) > 0 && len(anyOf) > 0:
		return group{}, invalid("conditions_ambiguous", path, "give either all or any; nest a group to combine them")
	case len(anyOf) > 0:
		list, key = anyOf, "any"
	}
	if depth > MaxConditionDeep {
		return group{}, invalid("conditions_too_deep", path, "groups nest at most %d levels", MaxConditionDeep)
	}
	g := group{any: key == "any"}
	for i, c := range list {
		p := fmt.Sprintf("%s.%s[%d]", path, key, i)
		if len(c.All) > 0 || len(c.Any) > 0 {
			if c.Field != "" || c.Op != "" || c.Value != nil {
				return group{}, invalid("condition_mixed", p, "a condition is either a test (field, op, value) or a group (all or any), not both")
			}
			sub, err := compileGroup(c.All, c.Any, p, depth+1, count)
			if err != nil {
				return group{}, err
			}
			g.groups = append(g.groups, sub)
			continue
		}
		if *count++; *count > MaxConditions {
			return group{}, invalid("conditions_too_many", p, "at most %d conditions", MaxConditions)
		}
		t, err := compileTest(c, p)
		if err != nil {
			return group{}, err
		}
		g.tests = append(g.tests, t)
	}
	return g, nil
}

// test is one compiled condition.
type test struct {
	field  string
	op     opcode
	val    scalar
	set    []scalar // for in: matches when eq matches any element
	exists bool     // for exists
}

type opcode uint8

const (
	opEq opcode = iota + 1
	opNe
	opGt
	opGte
	opLt
	opLte
	opIn
	opExists
)

var opcodes = map[string]opcode{
	OpEq: opEq, OpNe: opNe, OpGt: opGt, OpGte: opGte, OpLt: opLt, OpLte: opLte, OpIn: opIn, OpExists: opExists,
}

func compileTest(c Condition, path string) (test, error) {
	if !validField(c.Field) {
		return test{}, invalid("condition_field_unknown", path+".field",
			"%q is not a field; use event.type, event.program_id, event.data.<path>, contact.<first_name|last_name|email|phone_country|sms_preference> or contact.attributes.<path>", clip(c.Field))
	}
	op, ok := opcodes[c.Op]
	if !ok {
		return test{}, invalid("condition_op_unknown", path+".op", "%q is not an operator; use eq, ne, gt, gte, lt, lte, in or exists", clip(c.Op))
	}
	t := test{field: c.Field, op: op}
	bad := func(format string, args ...any) (test, error) {
		return test{}, invalid("condition_value_invalid", path+".value", format, args...)
	}
	switch op {
	case opExists:
		b, ok := c.Value.(bool)
		if !ok {
			return bad("exists takes true or false")
		}
		t.exists = b
	case opIn:
		list, ok := c.Value.([]any)
		if !ok || len(list) == 0 || len(list) > MaxInValues {
			return bad("in takes a list of 1 to %d strings, numbers or booleans", MaxInValues)
		}
		t.set = make([]scalar, len(list))
		for i, v := range list {
			if t.set[i], ok = literal(v); !ok {
				return bad("in takes a list of 1 to %d strings, numbers or booleans", MaxInValues)
			}
		}
	default:
		s, ok := literal(c.Value)
		switch {
		case op == opEq || op == opNe:
			if !ok {
				return bad("%s takes a string, a number or a boolean", c.Op)
			}
		case !ok || s.kind == kindBool:
			return bad("%s takes a string or a number", c.Op)
		}
		t.val = s
	}
	return t, nil
}

// contactFields are the contact fields a condition may name directly.
var contactFields = map[string]bool{
	"first_name": true, "last_name": true, "email": true, "phone_country": true, "sms_preference": true,
}

func validField(f string) bool {
	if len(f) > MaxFieldBytes {
		return false
	}
	switch f {
	case "event.type", "event.program_id":
		return true
	}
	if p, ok := strings.CutPrefix(f, "event.data."); ok {
		return validPath(p)
	}
	if p, ok := strings.CutPrefix(f, "contact.attributes."); ok {
		return validPath(p)
	}
	if name, ok := strings.CutPrefix(f, "contact."); ok {
		return contactFields[name]
	}
	return false
}

// validPath accepts dotted paths of non-empty segments without spaces or
// control characters.
func validPath(p string) bool {
	if p == "" || p[0] == '.' || p[len(p)-1] == '.' || strings.Contains(p, "..") {
		return false
	}
	for _, r := range p {
		if r <= ' ' || r == 0x7f {
			return false
		}
	}
	return true
}

// clip shortens user input echoed in a message, on a character boundary.
func clip(s string) string {
	if len(s) <= 60 {
		return s
	}
	i := 60
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + "…"
}

func (t *test) match(f Facts) bool {
	v, ok := f.Lookup(t.field)
	ok = ok && v != nil
	if t.op == opExists {
		return ok == t.exists
	}
	if !ok {
		return false
	}
	a, comparable := fact(v)
	switch t.op {
	case opEq:
		return comparable && equal(a, t.val)
	case opNe:
		return !comparable || !equal(a, t.val)
	case opIn:
		for i := range t.set {
			if comparable && equal(a, t.set[i]) {
				return true
			}
		}
		return false
	}
	if !comparable {
		return false
	}
	c, ok := order(a, t.val)
	if !ok {
		return false
	}
	switch t.op {
	case opGt:
		return c > 0
	case opGte:
		return c >= 0
	case opLt:
		return c < 0
	default: // opLte
		return c <= 0
	}
}

// scalar is a typed string, number or boolean.
type scalar struct {
	kind  kind
	str   string
	num   float64 // for kindNum, and for a kindStr holding a decimal number
	isNum bool    // for kindStr: str is a decimal number, num its value
	b     bool
}

type kind uint8

const (
	kindStr kind = iota + 1
	kindNum
	kindBool
)

// literal types a condition's value: JSON's strings, numbers (float64 or
// json.Number), booleans, and Go's int and int64 for definitions built in
// code. NaN, infinities and strings over MaxValueBytes are refused.
func literal(v any) (scalar, bool) {
	s, ok := fact(v)
	switch {
	case !ok:
		return scalar{}, false
	case s.kind == kindNum && (math.IsNaN(s.num) || math.IsInf(s.num, 0)):
		return scalar{}, false
	case s.kind == kindStr:
		if len(s.str) > MaxValueBytes {
			return scalar{}, false
		}
		s.num, s.isNum = decimal(s.str)
	}
	return s, true
}

// fact types a looked-up value; false means it is not a scalar (an object,
// a list, or a Go type JSON does not produce).
func fact(v any) (scalar, bool) {
	switch x := v.(type) {
	case string:
		return scalar{kind: kindStr, str: x}, true
	case float64:
		return scalar{kind: kindNum, num: x}, true
	case bool:
		return scalar{kind: kindBool, b: x}, true
	case json.Number:
		if f, ok := decimal(string(x)); ok {
			return scalar{kind: kindNum, num: f}, true
		}
		return scalar{kind: kindStr, str: string(x)}, true
	case int:
		return scalar{kind: kindNum, num: float64(x)}, true
	case int64:
		return scalar{kind: kindNum, num: float64(x)}, true
	}
	return scalar{}, false
}

// decimal reads s as a decimal number, as JSON writes them. "NaN", "Inf",
// hex floats and surrounding spaces, which strconv.ParseFloat takes, are not
// numbers here, and neither is a value too large for a float64.
func decimal(s string) (float64, bool) {
	if s == "" || strings.Trim(s, "0123456789.eE+-") != "" {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	return f, err == nil
}

// number returns a's numeric value when a is a number, or a decimal string
// compared against the number b.
func number(a scalar) (float64, bool) {
	switch {
	case a.kind == kindNum:
		return a.num, true
	case a.kind == kindStr && a.isNum:
		return a.num, true
	case a.kind == kindStr:
		return decimal(a.str)
	}
	return 0, false
}

// equal reports whether the fact a equals the condition value b.
func equal(a, b scalar) bool {
	c, ok := order(a, b)
	if ok {
		return c == 0
	}
	return a.kind == kindBool && b.kind == kindBool && a.b == b.b
}

// order compares the fact a with the condition value b: numerically when
// either is a number and the other a number or decimal string, byte-wise
// when both are strings. False means they do not compare (NaN included).
func order(a, b scalar) (int, bool) {
	if a.kind == kindNum || b.kind == kindNum {
		x, okx := number(a)
		y, oky := number(b)
		if !okx || !oky || math.IsNaN(x) || math.IsNaN(y) {
			return 0, false
		}
		switch {
		case x < y:
			return -1, true
		case x > y:
			return 1, true
		}
		return 0, true
	}
	if a.kind == kindStr && b.kind == kindStr {
		return strings.Compare(a.str, b.str), true
	}
	return 0, false
}
