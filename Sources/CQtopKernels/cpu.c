/* CPU feature detection: CPUID + XGETBV on x86-64, hwcaps on Linux arm64, sysctl on macOS. */
#include "qtop_kernels.h"
#include <stdio.h>
#include <string.h>

#if defined(__APPLE__)
#include <sys/sysctl.h>
#endif
#if defined(__linux__) && defined(__aarch64__)
#include <sys/auxv.h>
#endif

static const char *const isa_names[QTOP_ISA_COUNT] = {
    "generic", "sse41", "avx2", "avx2_vnni", "avx512_core", "avx512_vnni", "neon", "neon_dotprod",
};

const char *qtop_isa_name(int isa) {
    if (isa < 0 || isa >= QTOP_ISA_COUNT) return "?";
    return isa_names[isa];
}

/* qtop_compiled_isa_mask() lives with the per-ISA kernel table (isa_config.c). */

#if defined(__x86_64__)
static void cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4]) {
    uint32_t a, b, c, d;
    __asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(leaf), "c"(sub));
    r[0] = a; r[1] = b; r[2] = c; r[3] = d;
}
static uint64_t xgetbv0(void) {
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}
#endif

#if defined(__APPLE__)
static int sysctl_flag(const char *name) {
    int v = 0;
    size_t len = sizeof v;
    if (sysctlbyname(name, &v, &len, NULL, 0) != 0) return 0;
    return v != 0;
}
#endif

static uint32_t detect(void) {
    uint32_t m = 1u << QTOP_ISA_GENERIC;
#if defined(__x86_64__)
    uint32_t r[4];
    cpuid(0, 0, r);
    uint32_t max_leaf = r[0];
    cpuid(1, 0, r);
    int sse41 = (r[2] >> 19) & 1;
    int osxsave = (r[2] >> 27) & 1;
    int avx = (r[2] >> 28) & 1;
    int fma = (r[2] >> 12) & 1;
    uint64_t xcr0 = osxsave ? xgetbv0() : 0;
    int os_ymm = (xcr0 & 0x6) == 0x6;
    int os_zmm = (xcr0 & 0xE6) == 0xE6;
#if defined(__APPLE__)
    /* macOS enables AVX-512 state lazily (XCR0 may not show it before first use): trust sysctl. */
    if (sysctl_flag("hw.optional.avx512f")) os_zmm = 1;
#endif
    uint32_t b7 = 0, c7 = 0, a71 = 0;
    if (max_leaf >= 7) {
        cpuid(7, 0, r);
        b7 = r[1]; c7 = r[2];
        uint32_t max_sub = r[0];
        if (max_sub >= 1) { cpuid(7, 1, r); a71 = r[0]; }
    }
    int avx2 = (b7 >> 5) & 1;
    int f = (b7 >> 16) & 1, dq = (b7 >> 17) & 1, bw = (b7 >> 30) & 1, vl = (b7 >> 31) & 1;
    int vnni512 = (c7 >> 11) & 1;
    int avxvnni = (a71 >> 4) & 1;
    if (sse41) m |= 1u << QTOP_ISA_SSE41;
    if (avx && avx2 && fma && os_ymm) {
        m |= 1u << QTOP_ISA_AVX2;
        if (avxvnni) m |= 1u << QTOP_ISA_AVX2_VNNI;
        if (f && dq && bw && vl && os_zmm) {
            m |= 1u << QTOP_ISA_AVX512_CORE;
            if (vnni512) m |= 1u << QTOP_ISA_AVX512_VNNI;
        }
    }
#elif defined(__aarch64__)
    m |= 1u << QTOP_ISA_NEON;
#if defined(__APPLE__)
    if (sysctl_flag("hw.optional.arm.FEAT_DotProd")) m |= 1u << QTOP_ISA_NEON_DOTPROD;
#elif defined(__linux__)
    unsigned long hw = getauxval(AT_HWCAP);
#ifndef HWCAP_ASIMDDP
#define HWCAP_ASIMDDP (1 << 20)
#endif
    if (hw & HWCAP_ASIMDDP) m |= 1u << QTOP_ISA_NEON_DOTPROD;
#endif
#endif
    return m;
}

static uint32_t g_mask;
static int g_mask_done;

uint32_t qtop_cpu_isa_mask(void) {
    if (!__atomic_load_n(&g_mask_done, __ATOMIC_ACQUIRE)) {
        g_mask = detect();
        __atomic_store_n(&g_mask_done, 1, __ATOMIC_RELEASE);
    }
    return g_mask;
}

static char g_model[128];
static int g_model_done;

static void trim(char *s) {
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\n' || s[n - 1] == '\t')) s[--n] = 0;
    size_t i = 0;
    while (s[i] == ' ' || s[i] == '\t') i++;
    if (i) memmove(s, s + i, n - i + 1);
}

static void detect_model(char *out, size_t cap) {
    out[0] = 0;
#if defined(__x86_64__)
    uint32_t r[4];
    cpuid(0x80000000u, 0, r);
    if (r[0] >= 0x80000004u) {
        char b[49];
        for (uint32_t i = 0; i < 3; i++) {
            cpuid(0x80000002u + i, 0, r);
            memcpy(b + 16 * i, r, 16);
        }
        b[48] = 0;
        snprintf(out, cap, "%s", b);
        trim(out);
        if (out[0]) return;
    }
#endif
#if defined(__APPLE__)
    size_t len = cap;
    if (sysctlbyname("machdep.cpu.brand_string", out, &len, NULL, 0) == 0 && out[0]) { trim(out); return; }
#endif
#if defined(__linux__)
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f) {
        char line[256];
        while (fgets(line, sizeof line, f)) {
            if (strncmp(line, "model name", 10) == 0 || strncmp(line, "Model", 5) == 0 ||
                strncmp(line, "Hardware", 8) == 0) {
                char *colon = strchr(line, ':');
                if (colon) {
                    snprintf(out, cap, "%s", colon + 1);
                    trim(out);
                    if (out[0]) break;
                }
            }
        }
        fclose(f);
        if (out[0]) return;
    }
#endif
    snprintf(out, cap, "unknown CPU");
}

const char *qtop_cpu_model_name(void) {
    if (!__atomic_load_n(&g_model_done, __ATOMIC_ACQUIRE)) {
        char tmp[128];
        detect_model(tmp, sizeof tmp);
        memcpy(g_model, tmp, sizeof tmp);
        __atomic_store_n(&g_model_done, 1, __ATOMIC_RELEASE);
    }
    return g_model;
}
