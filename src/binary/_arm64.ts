// Fixed-pattern matching of the few arm64 instructions the split-SP scanner needs (Arm A64 ISA:
// ADD/SUB immediate and extended register, MOVZ/MOVK, LDP/LDR). Not a disassembler.

/** An SP ← SP ± imm12[<<12] instruction, decoded; undefined for anything else. */
export interface SpImmediate {
	readonly sub: boolean;
	readonly shifted: boolean;
	/** Bytes added to SP (negative for SUB). */
	readonly delta: number;
}

/** Decodes `ADD/SUB SP, SP, #imm[, lsl #12]` (64-bit, no flags). */
export function decodeSpImmediate(w: number): SpImmediate | undefined {
	if ((w & 0xbf8003ff) >>> 0 !== 0x910003ff) return undefined;
	const sub = (w & 0x40000000) !== 0;
	const shifted = (w & 0x00400000) !== 0;
	const imm = ((w >>> 10) & 0xfff) * (shifted ? 0x1000 : 1);
	return { sub, shifted, delta: sub ? -imm : imm };
}

/** `ADD SP, SP, X27` (Go `ADD R27, RSP, RSP`), the single-write epilogue of fixed toolchains. */
export const addSpR27 = 0x8b3b63ff;

/** Decodes MOVZ/MOVK into register `rd`: returns [isMovk, halfword index, imm16] or undefined. */
export function decodeMoveWide(w: number, rd: number): [boolean, number, number] | undefined {
	if ((w & 0x1f) !== rd) return undefined;
	const top = (w & 0xff800000) >>> 0;
	if (top !== 0xd2800000 && top !== 0xf2800000) return undefined;
	return [top === 0xf2800000, (w >>> 21) & 3, (w >>> 5) & 0xffff];
}

/** Whether `w` loads X30 (the link register): LDP/LDNP X with Rt or Rt2 = 30, or LDR/LDUR X30. */
export function loadsLinkRegister(w: number): boolean {
	if ((w & 0xfe400000) >>> 0 === 0xa8400000) return (w & 0x1f) === 30 || ((w >>> 10) & 0x1f) === 30;
	if ((w & 0x1f) !== 30) return false;
	return (w & 0xffc00000) >>> 0 === 0xf9400000 || (w & 0xffe00000) >>> 0 === 0xf8400000;
}
