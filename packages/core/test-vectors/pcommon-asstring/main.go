// Command pcommon-asstring prints the Collector's pcommon Value.AsString output for the inputs the
// signing exporter's tests mirror in JavaScript (test/unit/attribute-string.test.ts).
package main

import (
	"encoding/json"
	"math"
	"os"

	"go.opentelemetry.io/collector/pdata/pcommon"
)

type vector struct {
	Name     string `json:"name"`
	AsString string `json:"asString"`
}

func main() {
	var out []vector
	add := func(name string, set func(v pcommon.Value)) {
		v := pcommon.NewValueEmpty()
		set(v)
		out = append(out, vector{name, v.AsString()})
	}
	add("empty", func(pcommon.Value) {})
	add("string", func(v pcommon.Value) { v.SetStr("héllo <b>&</b>\n") })
	add("int", func(v pcommon.Value) { v.SetInt(-42) })
	add("int above 2^53", func(v pcommon.Value) { v.SetInt(9007199254740994) })
	doubles := map[string]float64{
		"double 0.5": 0.5, "double 0.1": 0.1, "double 1/3": 1.0 / 3, "double 1e-7": 1e-7,
		"double 0.000001": 0.000001, "double -2.5e-8": -2.5e-8, "double 5e-324": 5e-324,
		"double 123.456": 123.456, "double -0.75": -0.75, "double NaN": math.NaN(),
		"double +Inf": math.Inf(1), "double -Inf": math.Inf(-1),
	}
	for _, name := range []string{"double 0.5", "double 0.1", "double 1/3", "double 1e-7", "double 0.000001",
		"double -2.5e-8", "double 5e-324", "double 123.456", "double -0.75", "double NaN", "double +Inf", "double -Inf"} {
		d := doubles[name]
		add(name, func(v pcommon.Value) { v.SetDouble(d) })
	}
	add("bool true", func(v pcommon.Value) { v.SetBool(true) })
	add("bool false", func(v pcommon.Value) { v.SetBool(false) })
	add("bytes", func(v pcommon.Value) { v.SetEmptyBytes().FromRaw([]byte{0, 1, 2, 250, 251, 252, 253}) })
	add("string array", func(v pcommon.Value) {
		s := v.SetEmptySlice()
		s.AppendEmpty().SetStr("a\"b\\c<>&\u2028\u2029\b\f\x01\x7f é 😀")
		s.AppendEmpty().SetStr("")
	})
	add("int array", func(v pcommon.Value) {
		s := v.SetEmptySlice()
		s.AppendEmpty().SetInt(1)
		s.AppendEmpty().SetInt(-2)
		s.AppendEmpty().SetInt(3)
	})
	add("double array", func(v pcommon.Value) {
		s := v.SetEmptySlice()
		s.AppendEmpty().SetDouble(0.5)
		s.AppendEmpty().SetDouble(1e-7)
	})
	add("bool array", func(v pcommon.Value) {
		s := v.SetEmptySlice()
		s.AppendEmpty().SetBool(true)
		s.AppendEmpty().SetBool(false)
	})
	add("array with null", func(v pcommon.Value) {
		s := v.SetEmptySlice()
		s.AppendEmpty().SetStr("a")
		s.AppendEmpty()
	})
	add("array with NaN", func(v pcommon.Value) { v.SetEmptySlice().AppendEmpty().SetDouble(math.NaN()) })
	add("map", func(v pcommon.Value) {
		m := v.SetEmptyMap()
		m.PutStr("zeta", "z")
		m.PutStr("Alpha", "A")
		m.PutStr("é", "e-acute")
		m.PutStr("\uff5e", "fullwidth tilde")
		m.PutStr("😀", "emoji")
		m.PutInt("a", 1)
		n := m.PutEmptyMap("nested")
		n.PutDouble("x", 0.25)
		n.PutEmptySlice("list").AppendEmpty().SetStr("y")
		m.PutEmptyBytes("b").FromRaw([]byte{1, 2, 3})
	})
	enc := json.NewEncoder(os.Stdout)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	_ = enc.Encode(map[string]any{"pdataVersion": "v1.71.0", "vectors": out})
}
