//go:build amd64 && !purego

package model

import "golang.org/x/sys/cpu"

// simdInt8 says whether AddRows adds int8 rows with addRows4Int8 (AVX2: four tags per
// instruction) rather than the portable loop. Both give the same sums bit for bit: each lane
// does, for its tag, the portable loop's conversion, multiplication and addition in the same
// order, with the same rounding. Tests turn it off to compare the two.
var simdInt8 = cpu.X86.HasAVX2

// addRows4Int8 does, for t in [0, n) (n a multiple of 4), what the portable loop of AddRows does
// for one block of four int8 rows:
//
//	s := z[t]; s += v[0]*float64(r0[t]); s += v[1]*float64(r1[t]); ...; z[t] = s
//
//go:noescape
func addRows4Int8(z *float64, r0, r1, r2, r3 *int8, v *[4]float64, n int)
