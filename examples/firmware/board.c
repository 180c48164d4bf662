/* board.c - the console and halt of board.h for qemu-aarch64's user mode,
 * and the entry point. No C library: formatting is done here. */
#include "board.h"

/* Linux AArch64 system calls: number in x8, arguments in x0..x2, svc #0. */
static long sys_call3(long n, long a, long b, long c) {
  register long x0 __asm__("x0") = a;
  register long x1 __asm__("x1") = b;
  register long x2 __asm__("x2") = c;
  register long x8 __asm__("x8") = n;
  __asm__ volatile("svc #0" : "+r"(x0) : "r"(x1), "r"(x2), "r"(x8) : "memory");
  return x0;
}

void board_puts(const char *s) {
  unsigned long n = 0;
  while (s[n])
    ++n;
  sys_call3(64 /* write */, 1, (long)s, (long)n);
}

void board_put_int(long v) {
  char buf[24];
  int n = sizeof buf - 1;
  int negative = v < 0;
  unsigned long u = negative ? 0UL - (unsigned long)v : (unsigned long)v;
  buf[n] = 0;
  do
    buf[--n] = (char)('0' + u % 10);
  while ((u /= 10) != 0);
  if (negative)
    buf[--n] = '-';
  board_puts(buf + n);
}

void board_put_fixed(float v, int decimals) {
  unsigned long scale = 1, scaled, i;
  char frac[16];
  for (i = 0; i < (unsigned long)decimals; ++i)
    scale *= 10;
  scaled = (unsigned long)(v * (float)scale + 0.5f);
  board_put_int((long)(scaled / scale));
  board_puts(".");
  for (i = decimals; i > 0; --i) {
    frac[i - 1] = (char)('0' + scaled % 10);
    scaled /= 10;
  }
  frac[decimals] = 0;
  board_puts(frac);
}

__attribute__((noreturn)) void board_halt(int code) {
  sys_call3(93 /* exit */, code, 0, 0);
  for (;;)
    ;
}

int main(void);

/* The entry point: sp goes to the top of the stack that firmware.ld
 * reserves in RAM (__stack_top, 16-byte aligned); a cleared frame pointer
 * and link register end the frame chain. Real boot code would also enable
 * the FP/SIMD unit (CPACR_EL1.FPEN), copy .data from its load address in
 * flash and zero .bss first; qemu's loader leaves the FP/SIMD unit on and
 * has placed .data and .bss. */
__attribute__((noreturn, used)) void board_start(void) { board_halt(main()); }

__asm__(".text\n"
        ".global _start\n"
        ".type _start, %function\n"
        "_start:\n"
        "  adrp x0, __stack_top\n"
        "  add x0, x0, :lo12:__stack_top\n"
        "  mov sp, x0\n"
        "  mov x29, #0\n"
        "  mov x30, #0\n"
        "  bl board_start\n"
        "  b .\n"
        ".size _start, . - _start\n");
