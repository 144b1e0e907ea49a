#include <stdlib.h>
#include "CAllocator.h"

#if defined(__GLIBC__)
#include <malloc.h>

int token_authority_set_trim_threshold(int bytes) {
    return mallopt(M_TRIM_THRESHOLD, bytes);
}
#else
int token_authority_set_trim_threshold(int bytes) {
    (void)bytes;
    return 0;
}
#endif
