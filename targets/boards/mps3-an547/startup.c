/* aotc startup code for the Arm MPS3 AN547 (Cortex-M55) under QEMU.
 *
 * Reset: enable the FPU and MVE (CPACR CP10/CP11 full access) before any compiled C runs, since gcc
 * may emit floating-point or Helium instructions in any function; then copy .data from its load
 * image, clear .bss, start the SSE-300 system counter and call main(). Faults print a line through
 * semihosting and leave the emulator with status 3 instead of locking up.
 */
#include <stdint.h>
#include <string.h>

#include "board.h"

extern uint32_t __aotc_stack_top[];
extern uint32_t __aotc_data_load[], __aotc_data_start[], __aotc_data_end[];
extern uint32_t __aotc_bss_start[], __aotc_bench_bss_end[];  /* .bss then .bench_bss */

int main(void);
void aotc_board_counter_enable(void);
void Reset_Handler(void);
void aotc_board_start(void) __attribute__((noreturn));

/* newlib pieces may refer to these when crt0 is not linked (-nostartfiles) */
void *__dso_handle = 0;
void _init(void);
void _fini(void);
void _init(void) {}
void _fini(void) {}

__attribute__((naked, noreturn)) void Reset_Handler(void)
{
    __asm__ volatile(
        "ldr r0, =0xE000ED88\n"      /* CPACR */
        "ldr r1, [r0]\n"
        "orr r1, r1, #0x00F00000\n"  /* CP10, CP11: full access (FPU and MVE) */
        "str r1, [r0]\n"
        "dsb\n"
        "isb\n"
        "b aotc_board_start\n");
}

void aotc_board_start(void)
{
    size_t data_bytes = (size_t)((uintptr_t)__aotc_data_end - (uintptr_t)__aotc_data_start);
    size_t bss_bytes = (size_t)((uintptr_t)__aotc_bench_bss_end - (uintptr_t)__aotc_bss_start);
    if (data_bytes != 0u && (uintptr_t)__aotc_data_load != (uintptr_t)__aotc_data_start) {
        memcpy(__aotc_data_start, __aotc_data_load, data_bytes);
    }
    memset(__aotc_bss_start, 0, bss_bytes);
    aotc_board_counter_enable();
    aotc_board_exit(main());
}

static void fault(const char *what)
{
    aotc_board_flush();
    aotc_board_puts("aotc-bench fault ");
    aotc_board_puts(what);
    aotc_board_puts("\n");
    aotc_board_exit(3);
}

static void NMI_Handler(void) { fault("NMI"); }
static void HardFault_Handler(void) { fault("HardFault"); }
static void MemManage_Handler(void) { fault("MemManage"); }
static void BusFault_Handler(void) { fault("BusFault"); }
static void UsageFault_Handler(void) { fault("UsageFault"); }
static void SecureFault_Handler(void) { fault("SecureFault"); }
static void Other_Handler(void) { fault("unexpected exception"); }

typedef void (*vector_t)(void);

__attribute__((section(".vectors"), used)) static const vector_t vectors[16 + 32] = {
    (vector_t)(uintptr_t)__aotc_stack_top,
    Reset_Handler,
    NMI_Handler,
    HardFault_Handler,
    MemManage_Handler,
    BusFault_Handler,
    UsageFault_Handler,
    SecureFault_Handler,
    0, 0, 0,
    Other_Handler,   /* SVCall */
    Other_Handler,   /* DebugMonitor */
    0,
    Other_Handler,   /* PendSV */
    Other_Handler,   /* SysTick */
    Other_Handler, Other_Handler, Other_Handler, Other_Handler, Other_Handler, Other_Handler, Other_Handler,
    Other_Handler, Other_Handler, Other_Handler, Other_Handler, Other_Handler, Other_Handler, Other_Handler,
    Other_Handler, Other_Handler, Other_Handler, Other_Handler, Other_Handler, Other_Handler, Other_Handler,
    Other_Handler, Other_Handler, Other_Handler, Other_Handler, Other_Handler, Other_Handler, Other_Handler,
    Other_Handler, Other_Handler, Other_Handler, Other_Handler
};
