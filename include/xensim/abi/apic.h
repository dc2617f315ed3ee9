/*
 * apic.h - the x2APIC registers guest code and the simulated local APIC
 * use, as MSRs, and the fields of the interrupt command register.
 *
 * From the Intel SDM, vol. 3A, "Extended XAPIC (x2APIC)": in x2APIC mode
 * the local APIC registers are MSRs 0x800-0x8ff (the xAPIC MMIO offset
 * shifted right by 4); the ICR is one 64-bit MSR with the destination's
 * x2APIC ID in bits 63:32, the destination shorthand in bits 19:18, the
 * delivery mode in bits 10:8 and the vector in bits 7:0. Declarations and
 * comments are our own.
 */
#ifndef XENSIM_ABI_APIC_H
#define XENSIM_ABI_APIC_H

#define X2APIC_MSR_FIRST    0x800
#define X2APIC_MSR_LAST     0x8ff
#define X2APIC_MSR_ID       0x802 /* read-only: the vCPU's x2APIC ID */
#define X2APIC_MSR_EOI      0x80b
#define X2APIC_MSR_ICR      0x830
#define X2APIC_MSR_SELF_IPI 0x83f /* write a vector: a fixed IPI to self */

/* ICR fields. */
#define APIC_ICR_VECTOR_MASK     0xffull
#define APIC_ICR_MODE_SHIFT      8 /* delivery mode, bits 10:8 */
#define APIC_ICR_MODE_MASK       7u
#define APIC_ICR_MODE_FIXED      0u
#define APIC_ICR_SHORTHAND_SHIFT 18 /* destination shorthand, bits 19:18 */
#define APIC_ICR_SHORTHAND_MASK  3u
#define APIC_ICR_DEST_SHIFT      32 /* x2APIC destination ID, bits 63:32 */

/* Destination shorthands, in place. */
#define APIC_ICR_NO_SHORTHAND (0ull << APIC_ICR_SHORTHAND_SHIFT)
#define APIC_ICR_SELF         (1ull << APIC_ICR_SHORTHAND_SHIFT)
#define APIC_ICR_ALL          (2ull << APIC_ICR_SHORTHAND_SHIFT)
#define APIC_ICR_ALL_BUT_SELF (3ull << APIC_ICR_SHORTHAND_SHIFT)

/* A fixed interrupt on `vector` to the vCPU with x2APIC ID `cpu`. */
#define APIC_ICR_TO(cpu, vector) \
    (((unsigned long long)(cpu) << APIC_ICR_DEST_SHIFT) | ((vector) & APIC_ICR_VECTOR_MASK))

#endif /* XENSIM_ABI_APIC_H */
