//go:build !amd64 || purego

package model

// simdInt8 is false where there is no assembly kernel: AddRows takes its portable loop.
var simdInt8 = false

func addRows4Int8(z *float64, r0, r1, r2, r3 *int8, v *[4]float64, n int) {
	panic("model: addRows4Int8 has no implementation on this platform")
}
