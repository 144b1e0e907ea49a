/* glibc's allocator settings, which Swift's Glibc module does not export (<malloc.h>).
 * docs/performance.md, "The refresh grant and the allocator", says why the server sets them. */
#ifndef TOKEN_AUTHORITY_C_ALLOCATOR_H
#define TOKEN_AUTHORITY_C_ALLOCATOR_H

/* Sets glibc's M_TRIM_THRESHOLD: how much free memory an arena keeps at its top
 * before giving it back to the kernel. Returns 1 when glibc took it, 0 when it
 * refused or the C library is not glibc. */
int token_authority_set_trim_threshold(int bytes);

#endif
