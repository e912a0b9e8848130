//go:build amd64 && !purego

#include "textflag.h"

// ROW adds one row's four products to Y0: its four int8 weights at (ptr)(BX*1) are
// sign-extended to int32 (VPMOVSXBD), converted exactly to float64 (VCVTDQ2PD), multiplied by
// the row's value (vreg) and added. No fused multiply-add: the product is rounded before the
// sum, as in Go.
#define ROW(ptr, vreg) \
	VPMOVSXBD (ptr)(BX*1), X1 \
	VCVTDQ2PD X1, Y1 \
	VMULPD    vreg, Y1, Y1 \
	VADDPD    Y1, Y0, Y0

// func addRows4Int8(z *float64, r0, r1, r2, r3 *int8, v *[4]float64, n int)
//
// Four tags per iteration: Y0 holds z[t:t+4] and takes the four rows' products in row order,
// as the portable loop's s does.
TEXT ·addRows4Int8(SB), NOSPLIT, $0-56
	MOVQ z+0(FP), DI
	MOVQ r0+8(FP), R8
	MOVQ r1+16(FP), R9
	MOVQ r2+24(FP), R10
	MOVQ r3+32(FP), R11
	MOVQ v+40(FP), AX
	MOVQ n+48(FP), CX
	VBROADCASTSD 0(AX), Y4
	VBROADCASTSD 8(AX), Y5
	VBROADCASTSD 16(AX), Y6
	VBROADCASTSD 24(AX), Y7
	XORQ BX, BX

loop:
	CMPQ    BX, CX
	JGE     done
	VMOVUPD (DI)(BX*8), Y0
	ROW(R8, Y4)
	ROW(R9, Y5)
	ROW(R10, Y6)
	ROW(R11, Y7)
	VMOVUPD Y0, (DI)(BX*8)
	ADDQ    $4, BX
	JMP     loop

done:
	VZEROUPPER
	RET
