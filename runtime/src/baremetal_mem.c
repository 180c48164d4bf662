/* baremetal_mem.c - memcpy and memset for the bare-metal runtime only.
 *
 * Generated code may call memcpy and memset (LLVM turns copy and fill
 * loops into them). Hosted builds take them from libc; the bare-metal
 * libtidalrt.a provides these weak, simple versions so that a firmware
 * image links without a C library. Compiled with
 * -fno-tree-loop-distribute-patterns so GCC does not turn the loops back
 * into calls to themselves.
 */
#include <stddef.h>

__attribute__((weak)) void *memcpy(void *dst, const void *src, size_t n) {
  unsigned char *d = (unsigned char *)dst;
  const unsigned char *s = (const unsigned char *)src;
  while (n--)
    *d++ = *s++;
  return dst;
}

__attribute__((weak)) void *memset(void *dst, int c, size_t n) {
  unsigned char *d = (unsigned char *)dst;
  while (n--)
    *d++ = (unsigned char)c;
  return dst;
}
