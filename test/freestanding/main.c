/* main.c - a freestanding AArch64 program around a compiled model.
 *
 * The proof that a model object needs nothing from an operating system or
 * a C library: this program has its own _start, a static workspace, the
 * model's input embedded as bytes, and talks to the world only through two
 * raw Linux system calls (write and exit), so that it also runs under
 * qemu-aarch64's user mode. It is linked with
 *
 *     aarch64-linux-gnu-gcc -nostdlib -static -ffreestanding \
 *         main.c net.o build/lib/cortex-a53-baremetal/libtidalrt.a
 *
 * and nothing else: no libc, no libgcc, no start files. The bare-metal
 * runtime archive provides the tidal_* math functions and weak memcpy and
 * memset, which is everything a compiled model may reference
 * (docs/targets.md). The test script (test/scripts/freestanding.py)
 * compiles the model as `net`, writes input_data.h with the bytes of the
 * reference input, and checks what this program prints:
 *
 *     class N                     the argmax of output 0
 *     output 0x3f800000 ...       the bits of every output 0 element
 *
 * On a real board the same code runs once the boot code has set up a stack,
 * enabled the FP/SIMD unit (CPACR_EL1.FPEN) and replaced the two system
 * calls by a UART write and a halt.
 */
#include "input_data.h" /* input_bytes[]: the reference input's bytes */
#include "net.h"

typedef char one_input[NET_NUM_INPUTS == 1 ? 1 : -1];
typedef char f32_output[NET_OUTPUT0_TYPE == TIDAL_TYPE_F32 ? 1 : -1];
typedef char input_size_matches[sizeof(input_bytes) == NET_INPUT0_SIZE ? 1 : -1];

/* Everything tensor-sized is static: no heap, no large stack frames. */
static unsigned char workspace[NET_WORKSPACE_SIZE ? NET_WORKSPACE_SIZE : 1]
    __attribute__((aligned(NET_WORKSPACE_ALIGN)));
static float output[NET_OUTPUT0_NUM_ELEMENTS] __attribute__((aligned(64)));

/* Linux AArch64 system calls: number in x8, arguments in x0..x2, svc #0. */
static long sys_write(int fd, const char *buf, unsigned long len) {
  register long x0 __asm__("x0") = fd;
  register long x1 __asm__("x1") = (long)buf;
  register long x2 __asm__("x2") = (long)len;
  register long x8 __asm__("x8") = 64; /* __NR_write */
  __asm__ volatile("svc #0" : "+r"(x0) : "r"(x1), "r"(x2), "r"(x8) : "memory");
  return x0;
}

__attribute__((noreturn)) static void sys_exit(int code) {
  register long x0 __asm__("x0") = code;
  register long x8 __asm__("x8") = 93; /* __NR_exit */
  __asm__ volatile("svc #0" : : "r"(x0), "r"(x8) : "memory");
  for (;;)
    ;
}

/* A small line buffer, written with one system call per line. */
static char line[64 + 11 * NET_OUTPUT0_NUM_ELEMENTS];
static unsigned long line_len;

static void put_str(const char *s) {
  while (*s)
    line[line_len++] = *s++;
}

static void put_dec(unsigned long v) {
  char digits[20];
  int n = 0;
  do
    digits[n++] = (char)('0' + v % 10);
  while ((v /= 10) != 0);
  while (n > 0)
    line[line_len++] = digits[--n];
}

static void put_hex32(unsigned int v) {
  int shift;
  put_str("0x");
  for (shift = 28; shift >= 0; shift -= 4)
    line[line_len++] = "0123456789abcdef"[(v >> shift) & 15];
}

static void flush_line(void) {
  line[line_len++] = '\n';
  sys_write(1, line, line_len);
  line_len = 0;
}

static unsigned long argmax(const float *v, unsigned long n) {
  unsigned long best = 0, i;
  for (i = 1; i < n; ++i)
    if (v[i] > v[best])
      best = i;
  return best;
}

static int run(void) {
  const void *const inputs[1] = {input_bytes};
  void *const outputs[1] = {output};
  unsigned long i;
  int rc = net_run(inputs, outputs, workspace);
  if (rc != 0) {
    put_str("net_run returned ");
    put_dec((unsigned long)rc);
    flush_line();
    return 1;
  }
  put_str("class ");
  put_dec(argmax(output, NET_OUTPUT0_NUM_ELEMENTS));
  flush_line();
  put_str("output");
  for (i = 0; i < NET_OUTPUT0_NUM_ELEMENTS; ++i) {
    union {
      float f;
      unsigned int u;
    } bits;
    bits.f = output[i];
    put_str(" ");
    put_hex32(bits.u);
  }
  flush_line();
  return 0;
}

/* The entry point. Linux (and qemu) leave sp 16-byte aligned at argc; a
 * cleared frame pointer and link register end the frame chain. */
__attribute__((noreturn, used)) void tidal_freestanding_main(void) {
  sys_exit(run());
}

__asm__(".text\n"
        ".global _start\n"
        ".type _start, %function\n"
        "_start:\n"
        "  mov x29, #0\n"
        "  mov x30, #0\n"
        "  bl tidal_freestanding_main\n"
        "  b .\n"
        ".size _start, . - _start\n");
