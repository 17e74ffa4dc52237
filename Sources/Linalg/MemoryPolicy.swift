import CKernels

/// Process-wide allocator policy for programs that run large models at large batches.
///
/// glibc serves every allocation above its mmap threshold (at most 32 MiB) with a fresh mmap
/// region and unmaps it on free, so a batch-16 activation tensor (mobilenet_v2's first
/// expansion: 77 MB) is page-faulted in anew on every run: the kernel zeroes and maps ~19,000
/// pages while the convolution writes them. Measured on the 2-core benchmark machine, the
/// 16→96 pointwise conv at 112×112, batch 16, took 28 ms into a reused buffer and 86–95 ms into
/// a fresh one; the whole mobilenet_v2 batch-16 run took 390–440 ms with this policy against
/// 500–560 ms without it, in the same sitting. ONNX Runtime avoids the cost with its own arena.
public enum MemoryPolicy {
    /// Makes freed memory stay in the process for reuse (glibc: no mmap for large blocks, no heap
    /// trimming). The cost is that the peak heap size is kept until exit, which suits a
    /// command-line run. Call once, early, before large tensors are allocated.
    ///
    /// - Returns: true when the policy is in effect; false on a C library without these
    ///   controls, or in a sanitizer build (ASan, TSan), whose allocator replaces malloc and
    ///   ignores them; nothing changes then.
    @discardableResult
    public static func retainFreedMemory() -> Bool { ck_retain_freed_memory() == 1 }
}
