/*
 * cpuid.h - the Xen CPUID leaves: how a guest finds out it runs on Xen,
 * which version, where the hypercall page MSR is, and which HVM features
 * (x2APIC and APIC virtualisation, vCPU id, per-vCPU upcall vector) it has.
 *
 * Written for xensim from the layouts documented in Xen's public header
 * xen/include/public/arch-x86/cpuid.h. Names and values are Xen's;
 * declarations and comments are our own.
 *
 * The leaves start at the first 0x100-aligned base from 0x40000000 that
 * answers with the signature (a Viridian block may come first, putting Xen
 * at 0x40000100). Leaf i of that base, counting from 0:
 *   0: EAX highest Xen leaf; EBX, ECX, EDX "XenVMMXenVMM"
 *   1: EAX major << 16 | minor
 *   2: EAX number of hypercall pages, EBX the MSR that installs them
 *   3: TSC mode and frequency (sub-leaves 0..2)
 *   4: HVM features in EAX (XEN_HVM_CPUID_*); EBX vCPU id, ECX domain id
 *   5: PV parameters
 */
#ifndef XENSIM_ABI_CPUID_H
#define XENSIM_ABI_CPUID_H

#define XEN_CPUID_FIRST_LEAF 0x40000000
#define XEN_CPUID_LEAF(i)    (XEN_CPUID_FIRST_LEAF + (i))

/* "XenVMMXenVMM" in EBX, ECX, EDX of leaf 0. */
#define XEN_CPUID_SIGNATURE_EBX 0x566e6558 /* "XenV" */
#define XEN_CPUID_SIGNATURE_ECX 0x65584d4d /* "MMXe" */
#define XEN_CPUID_SIGNATURE_EDX 0x4d4d566e /* "nVMM" */

/* Leaf 2, ECX. */
#define _XEN_CPUID_FEAT1_MMU_PT_UPDATE_PRESERVE_AD 0
#define XEN_CPUID_FEAT1_MMU_PT_UPDATE_PRESERVE_AD  (1u << 0)

/* Leaf 4, EAX. */
#define XEN_HVM_CPUID_APIC_ACCESS_VIRT (1u << 0) /* APIC register accesses virtualised */
#define XEN_HVM_CPUID_X2APIC_VIRT      (1u << 1) /* x2APIC MSR accesses virtualised */
#define XEN_HVM_CPUID_IOMMU_MAPPINGS   (1u << 2) /* foreign mappings are in the IOMMU */
#define XEN_HVM_CPUID_VCPU_ID_PRESENT  (1u << 3) /* EBX holds the vCPU id */
#define XEN_HVM_CPUID_DOMID_PRESENT    (1u << 4) /* ECX holds the domain id */
#define XEN_HVM_CPUID_EXT_DEST_ID      (1u << 5) /* 15-bit IO-APIC/MSI destination ids */
/* Per-vCPU upcall vectors (HVMOP_set_evtchn_upcall_vector) work, physical
 * IRQs bound to ports included; Linux takes it as the go-ahead to use them. */
#define XEN_HVM_CPUID_UPCALL_VECTOR (1u << 6)

/* Leaf 5, EBX. */
#define XEN_CPUID_MACHINE_ADDRESS_WIDTH_MASK (0xffu << 0)

/* Highest leaf index: leaf 0's EAX is at most base + this (Xen's header
 * numbers the leaves from 1, we count from 0 as XEN_CPUID_LEAF() does). */
#define XEN_CPUID_MAX_NUM_LEAVES 5

/* How far a guest searches for the Xen base, in 0x100 steps (Linux and
 * FreeBSD stop before 0x40010000). Names are xensim's. */
#define XG_XEN_CPUID_BASE_STEP  0x100
#define XG_XEN_CPUID_BASE_LIMIT 0x40010000

/* Leaf indexes for XEN_CPUID_LEAF(); names are xensim's. */
#define XG_XEN_CPUID_LEAF_SIGNATURE 0
#define XG_XEN_CPUID_LEAF_VERSION   1
#define XG_XEN_CPUID_LEAF_HYPERCALL 2
#define XG_XEN_CPUID_LEAF_TIME      3
#define XG_XEN_CPUID_LEAF_HVM       4
#define XG_XEN_CPUID_LEAF_PV        5

#endif /* XENSIM_ABI_CPUID_H */
