/* aotc board support for the Arm MPS3 AN547 (Cortex-M55) under QEMU: see board.h. */
#include "board.h"

#define SEMIHOST_SYS_WRITE0 0x04
#define SEMIHOST_SYS_EXIT_EXTENDED 0x20
#define SEMIHOST_APPLICATION_EXIT 0x20026

/* SSE-300 system counter: control frame (CNTCR, bit 0 enables counting) and read frame (CNTCV). */
#define SYSCNT_CONTROL_CNTCR (*(volatile uint32_t *)0x58100000u)
#define SYSCNT_READ_CNTCVL (*(volatile const uint32_t *)0x58101000u)
#define SYSCNT_READ_CNTCVU (*(volatile const uint32_t *)0x58101004u)

#define STACK_PAINT 0xA5C35A3Cu

extern uint32_t __aotc_stack_limit[];   /* lowest address of the stack (from the linker script) */
extern uint32_t __aotc_stack_top[];     /* initial stack pointer */

static int semihost_call(int op, void *arg)
{
    register int r0 __asm__("r0") = op;
    register void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

void aotc_board_puts(const char *s)
{
    semihost_call(SEMIHOST_SYS_WRITE0, (void *)s);
}

/* harness-only state: kept out of the model's RAM figure (see link.ld) */
#define BENCH_BSS __attribute__((section(".bench_bss")))
static char line[256] BENCH_BSS;
static unsigned line_len BENCH_BSS;

void aotc_board_flush(void)
{
    if (line_len == 0u) {
        return;
    }
    line[line_len] = '\0';
    aotc_board_puts(line);
    line_len = 0u;
}

static void put_char(char c)
{
    if (line_len + 1u >= sizeof line) {
        aotc_board_flush();
    }
    line[line_len++] = c;
    if (c == '\n') {
        aotc_board_flush();
    }
}

void aotc_board_put_str(const char *s)
{
    while (*s != '\0') {
        put_char(*s++);
    }
}

static const char hex_digits[] = "0123456789abcdef";

void aotc_board_put_byte_hex(uint8_t v)
{
    put_char(hex_digits[v >> 4]);
    put_char(hex_digits[v & 15u]);
}

void aotc_board_put_hex32(uint32_t v)
{
    int shift;
    for (shift = 28; shift >= 0; shift -= 4) {
        put_char(hex_digits[(v >> shift) & 15u]);
    }
}

void aotc_board_put_hex64(uint64_t v)
{
    aotc_board_put_hex32((uint32_t)(v >> 32));
    aotc_board_put_hex32((uint32_t)v);
}

void aotc_board_put_dec(uint32_t v)
{
    char buf[11];
    int n = 0;
    do {
        buf[n++] = (char)('0' + v % 10u);
        v /= 10u;
    } while (v != 0u);
    while (n > 0) {
        put_char(buf[--n]);
    }
}

void aotc_board_exit(int status)
{
    uint32_t block[2];
    aotc_board_flush();
    block[0] = SEMIHOST_APPLICATION_EXIT;
    block[1] = (uint32_t)status;
    for (;;) {
        semihost_call(SEMIHOST_SYS_EXIT_EXTENDED, block);
    }
}

void aotc_board_counter_enable(void)
{
    SYSCNT_CONTROL_CNTCR |= 1u;
}

uint64_t aotc_board_counter(void)
{
    uint32_t hi, lo, hi2;
    do {
        hi = SYSCNT_READ_CNTCVU;
        lo = SYSCNT_READ_CNTCVL;
        hi2 = SYSCNT_READ_CNTCVU;
    } while (hi != hi2);
    return ((uint64_t)hi << 32) | lo;
}

__attribute__((noinline)) void aotc_board_paint_stack(void)
{
    volatile uint32_t *p = __aotc_stack_limit;
    uint32_t sp;
    __asm__ volatile("mov %0, sp" : "=r"(sp));
    /* leave 64 bytes under this frame alone */
    while ((uint32_t)(uintptr_t)p < sp - 64u) {
        *p++ = STACK_PAINT;
    }
}

uint32_t aotc_board_stack_used(void)
{
    const volatile uint32_t *p = __aotc_stack_limit;
    while (p < __aotc_stack_top && *p == STACK_PAINT) {
        p++;
    }
    return (uint32_t)((uintptr_t)__aotc_stack_top - (uintptr_t)p);
}

uint32_t aotc_board_stack_size(void)
{
    return (uint32_t)((uintptr_t)__aotc_stack_top - (uintptr_t)__aotc_stack_limit);
}
