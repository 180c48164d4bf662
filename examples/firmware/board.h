/* board.h - what the firmware needs from its board: a console and a halt.
 *
 * Here the "board" is qemu-aarch64's user mode, reached by two raw Linux
 * system calls; on real hardware these become a UART and a wait-for-event
 * loop. Nothing in board.c knows the model, so changing the model never
 * recompiles it.
 */
#ifndef BOARD_H
#define BOARD_H

void board_puts(const char *s);
/* v as a decimal number, with `decimals` digits after the point (v >= 0). */
void board_put_fixed(float v, int decimals);
void board_put_int(long v);
__attribute__((noreturn)) void board_halt(int code);

#endif
