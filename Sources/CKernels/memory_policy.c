/* Process-wide allocator policy for large activation tensors (see MemoryPolicy.swift). */
#include "CKernels.h"
#include <limits.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || __has_feature(memory_sanitizer)
#define CK_SANITIZER_ALLOCATOR 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define CK_SANITIZER_ALLOCATOR 1
#endif

int ck_retain_freed_memory(void) {
#if defined(CK_SANITIZER_ALLOCATOR)
    /* A sanitizer runtime replaces malloc with its own allocator, which mallopt does not govern
       (TSan lets the call through to glibc, which then reports success for an allocator nobody
       uses), so the policy is not in effect. */
    return 0;
#elif defined(__GLIBC__)
    /* No mmap for large blocks (they come from the heap and are reused after free), and never
       give the top of the heap back to the system. */
    const int no_mmap = mallopt(M_MMAP_MAX, 0);
    const int no_trim = mallopt(M_TRIM_THRESHOLD, INT_MAX);
    return no_mmap == 1 && no_trim == 1;
#else
    return 0;
#endif
}
