package gocrash

import (
	"bytes"
	"fmt"
	"math"
	"reflect"
	"runtime/debug"
	"strconv"
	"strings"
	"time"
)

// Recover, deferred, stops a panic and reports it as a recovered panic: `defer client.Recover()`.
// It must be the deferred function itself (recover works only there); the panicking goroutine
// then returns from the function that deferred it.
func (c *Client) Recover() {
	if v := recover(); v != nil {
		_ = c.ReportPanic(v, debug.Stack())
	}
}

// ReportPanic posts a recovered panic's value and its goroutine's stack (debug.Stack() in the
// deferred function that recovered it) as a report of kind "recovered", retrying for at most
// Config.RetryFor. The text reads as the runtime prints a recovered panic,
// `panic: VALUE [recovered]` and the goroutine, with the frames above the panic (the deferred
// function and debug.Stack) cut, so that the server groups it with the same panic uncaught.
func (c *Client) ReportPanic(value any, stack []byte) error {
	s := c.settings
	r := report{
		Text:       FormatRecovered(value, stack),
		Kind:       "recovered",
		Time:       time.Now().UTC().Format(time.RFC3339Nano),
		Host:       s.Host,
		Service:    s.Service,
		Version:    s.Version,
		Attributes: s.Attributes,
	}
	key := newKey()
	return c.poster.postRetrying("/api/v1/crashes", r, key, s.RetryFor)
}

// FormatRecovered is the text ReportPanic sends for a panic value and its debug.Stack().
func FormatRecovered(value any, stack []byte) string {
	var b strings.Builder
	b.WriteString("panic: ")
	b.WriteString(formatPanicValue(value))
	b.WriteString(" [recovered]\n\n")
	b.Write(cutAbovePanic(stack))
	if b.Len() > 0 && !strings.HasSuffix(b.String(), "\n") {
		b.WriteByte('\n')
	}
	return b.String()
}

// cutAbovePanic removes the frames down to the topmost runtime.gopanic (which runtime/traceback.go
// prints as `panic(...)`) from a goroutine's stack as debug.Stack prints it: a header line, then
// each frame as a function line and a tab-indented file line. A stack without it is kept whole.
func cutAbovePanic(stack []byte) []byte {
	lines := bytes.SplitAfter(stack, []byte("\n"))
	if len(lines) == 0 {
		return stack
	}
	for i := 1; i+1 < len(lines); i++ {
		fn := lines[i]
		if bytes.HasPrefix(fn, []byte("panic(")) || bytes.HasPrefix(fn, []byte("runtime.gopanic(")) {
			out := append([]byte{}, lines[0]...)
			for _, l := range lines[i+2:] {
				out = append(out, l...)
			}
			return out
		}
	}
	return stack
}

// formatPanicValue prints a panic value as the runtime does (runtime/error.go printpanicval and
// printanycustomtype, after preprintpanics turned errors and Stringers into strings): strings
// with each newline followed by a tab, numbers as print prints them, other types by type name.
func formatPanicValue(v any) string {
	switch v := v.(type) {
	case nil:
		return "nil"
	case error:
		return indent(v.Error())
	case fmt.Stringer:
		return indent(v.String())
	case string:
		return indent(v)
	case bool:
		return strconv.FormatBool(v)
	case int, int8, int16, int32, int64:
		return strconv.FormatInt(reflect.ValueOf(v).Int(), 10)
	case uint, uint8, uint16, uint32, uint64, uintptr:
		return strconv.FormatUint(reflect.ValueOf(v).Uint(), 10)
	case float32:
		return printFloat(float64(v))
	case float64:
		return printFloat(v)
	case complex64:
		return "(" + printFloat(float64(real(v))) + printFloat(float64(imag(v))) + "i)"
	case complex128:
		return "(" + printFloat(real(v)) + printFloat(imag(v)) + "i)"
	}
	rv := reflect.ValueOf(v)
	name := rv.Type().String()
	switch rv.Kind() {
	case reflect.String:
		return name + `("` + indent(rv.String()) + `")`
	case reflect.Bool:
		return name + "(" + strconv.FormatBool(rv.Bool()) + ")"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return name + "(" + strconv.FormatInt(rv.Int(), 10) + ")"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return name + "(" + strconv.FormatUint(rv.Uint(), 10) + ")"
	case reflect.Float32, reflect.Float64:
		return name + "(" + printFloat(rv.Float()) + ")"
	case reflect.Complex64, reflect.Complex128:
		c := rv.Complex()
		return name + "(" + printFloat(real(c)) + printFloat(imag(c)) + "i)"
	case reflect.Pointer, reflect.UnsafePointer, reflect.Map, reflect.Chan, reflect.Func:
		return fmt.Sprintf("(%s) %#x", name, rv.Pointer())
	}
	// The runtime prints the address of the interface's data; a copy's address is as telling.
	return fmt.Sprintf("(%s) %p", name, &v)
}

// indent is runtime/error.go printindented: each newline followed by a tab.
func indent(s string) string { return strings.ReplaceAll(s, "\n", "\n\t") }

// printFloat prints as runtime/print.go printfloat: sign, one digit, '.', six digits, 'e', sign and
// three exponent digits, such as +1.500000e+000; NaN, +Inf and -Inf. (The runtime rounds by adding
// half a unit, so the last digit may differ; the server's signatures ignore numbers.)
func printFloat(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "+Inf"
	case math.IsInf(f, -1):
		return "-Inf"
	}
	s := strconv.FormatFloat(f, 'e', 6, 64) // 1.500000e+00
	mantissa, exp, _ := strings.Cut(s, "e")
	if !strings.HasPrefix(mantissa, "-") {
		mantissa = "+" + mantissa
	}
	sign, digits := exp[:1], exp[1:]
	for len(digits) < 3 {
		digits = "0" + digits
	}
	return mantissa + "e" + sign + digits
}
