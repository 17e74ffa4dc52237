/* Process-wide allocator policy for large activation tensors (see MemoryPolicy.swift). */
#include "CKernels.h"
#include <limits.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

int ck_retain_freed_memory(void) {
#if defined(__GLIBC__)
    /* No mmap for large blocks (they come from the heap and are reused after free), and never
       give the top of the heap back to the system. */
    const int no_mmap = mallopt(M_MMAP_MAX, 0);
    const int no_trim = mallopt(M_TRIM_THRESHOLD, INT_MAX);
    return no_mmap == 1 && no_trim == 1;
#else
    return 0;
#endif
}
