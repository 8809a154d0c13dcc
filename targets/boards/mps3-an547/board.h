/* aotc board support for the Arm MPS3 AN547 (Cortex-M55) as emulated by qemu-system-arm -M mps3-an547.
 *
 * Written for aotc's benchmark harness: semihosting output and exit, the SSE-300 system counter,
 * and stack painting for a high-water mark. Everything here is aotc's own code.
 */
#ifndef AOTC_BOARD_H
#define AOTC_BOARD_H

#include <stdint.h>

/* Semihosting (Arm "bkpt 0xAB" convention): write a NUL-terminated string to the host console. */
void aotc_board_puts(const char *s);
/* Append helpers: they format into a small line buffer flushed by aotc_board_flush(). */
void aotc_board_put_str(const char *s);
void aotc_board_put_hex32(uint32_t v);      /* 8 hex digits */
void aotc_board_put_hex64(uint64_t v);      /* 16 hex digits */
void aotc_board_put_dec(uint32_t v);
void aotc_board_put_byte_hex(uint8_t v);    /* 2 hex digits */
void aotc_board_flush(void);                /* writes the buffered text */

/* Leave the emulator with this exit status (semihosting SYS_EXIT_EXTENDED). */
void aotc_board_exit(int status) __attribute__((noreturn));

/* SSE-300 system counter (read frame): raw 64-bit tick count. The host converts ticks to retired
 * instructions (with -icount shift=S one instruction is 2^S ns; the counter runs at 32 MHz). */
uint64_t aotc_board_counter(void);

/* Stack measurement: paint the unused stack below the caller's frame, later find the deepest word
 * that was overwritten. Returns bytes of stack used since start (high-water mark). */
void aotc_board_paint_stack(void);
uint32_t aotc_board_stack_used(void);
uint32_t aotc_board_stack_size(void);

#endif /* AOTC_BOARD_H */
