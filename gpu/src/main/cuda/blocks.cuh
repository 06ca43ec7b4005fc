// blocks.cuh: the block decoders dequant.cu and matvec.cu share (see KERNELS.md). Included by both,
// after halves.cuh (h2f); nvcc finds it beside them, NVRTC is handed it by name (CudaModules), and the
// emulator test's g++ by -I.
// No include guard: each .cu includes it once, and the emulator compiles each .cu in a namespace of its
// own, where it needs its own copy.

struct alignas(16) F4 { float a, b, c, d; };
struct alignas(8) U2 { unsigned a, b; };

__device__ __forceinline__ float bf2f(unsigned short b) {
    return __uint_as_float((unsigned) b << 16);
}

__device__ __forceinline__ int imin(int a, int b) { return a < b ? a : b; }

// Loads of weight bytes. `al` says the row base is 4-byte aligned (w and rowBytes both are), so the
// offsets each layout guarantees to be even (or multiples of 4) can be read as 16-bit (32-bit)
// words; otherwise the bytes are assembled one at a time.
__device__ __forceinline__ unsigned ld16(const unsigned char* __restrict__ p, bool al) {
    if (al) return *(const unsigned short*) p;
    return (unsigned) p[0] | ((unsigned) p[1] << 8);
}

// 4 bytes at an offset that is even when al (two 16-bit loads).
__device__ __forceinline__ unsigned ld32_2(const unsigned char* __restrict__ p, bool al) {
    return ld16(p, al) | (ld16(p + 2, al) << 16);
}

// 4 bytes at an offset that is a multiple of 4 when al.
__device__ __forceinline__ unsigned ld32_4(const unsigned char* __restrict__ p, bool al) {
    if (al) return *(const unsigned*) p;
    return (unsigned) p[0] | ((unsigned) p[1] << 8) | ((unsigned) p[2] << 16) | ((unsigned) p[3] << 24);
}

// The 6-bit scale and min of sub-block j in the 12 packed bytes of Q4_K / Q5_K (KQuantMath.scaleK4,
// minK4), given as three little-endian words s0 (bytes 0-3), s1 (4-7), s2 (8-11): j < 4 in the low six
// bits of bytes j and j + 4; j >= 4 from the nibbles of byte j + 4 and the top two bits of bytes j - 4
// and j.
__device__ __forceinline__ void k4_scale_min(unsigned s0, unsigned s1, unsigned s2, int j, int& sc, int& mn) {
    const int sh = 8 * (j & 3);
    const unsigned a = (s0 >> sh) & 0xFFu, b = (s1 >> sh) & 0xFFu, c = (s2 >> sh) & 0xFFu;
    if (j < 4) {
        sc = (int) (a & 63u);
        mn = (int) (b & 63u);
    } else {
        sc = (int) ((c & 15u) | ((a >> 6) << 4));
        mn = (int) ((c >> 4) | ((b >> 6) << 4));
    }
}

// IQ4_NL / IQ4_XS levels {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113}
// as signed bytes: the four bytes of `nib` (each 0..15) become the four levels they index.
__device__ __forceinline__ unsigned iq4_levels4(unsigned nib) {
    unsigned s = nib & 0x07070707u;
    s |= s >> 4;
    s = (s & 0xFFu) | ((s >> 8) & 0xFF00u);                 // four 3-bit selectors in one word
    unsigned lo = __byte_perm(0xBFAD9881u, 0xF6EADDCFu, s);  // levels 0..7
    unsigned hi = __byte_perm(0x26190D01u, 0x71594535u, s);  // levels 8..15
    unsigned m = ((nib >> 3) & 0x01010101u) * 0xFFu;         // 0xFF where the index is >= 8
    return (hi & m) | (lo & ~m);
}

__device__ __forceinline__ float sbyte(unsigned word, int i) {
    return (float) (int) (signed char) (word >> (8 * i));
}

// ---- block decoders ---------------------------------------------------------------------------
// Each decodes unit u of the block at b into v[16], v[4g..4g+3] being the elements at
// pos[g]..pos[g]+3 of the block. QK: elements per block; BYTES: bytes per block; UNITS: units per block.

struct Q8_0 {  // half d; i8 qs[32]. Unit u: elements 16u..16u+15, value qs[j] * d.
    static constexpr int QK = 32, BYTES = 34, UNITS = 2;
    static __device__ __forceinline__ void decode(const unsigned char* __restrict__ b, int u, bool al, float v[16], int pos[4]) {
        const float d = h2f(ld16(b, al));
#pragma unroll
        for (int g = 0; g < 4; g++) {
            unsigned q = ld32_2(b + 2 + 16 * u + 4 * g, al);
            pos[g] = 16 * u + 4 * g;
#pragma unroll
            for (int i = 0; i < 4; i++) v[4 * g + i] = sbyte(q, i) * d;
        }
    }
};

struct Q4_0 {  // half d; u8 qs[16]. Element j < 16: low nibble of qs[j]; j >= 16: high nibble of qs[j-16].
    static constexpr int QK = 32, BYTES = 18, UNITS = 2;
    // Unit u: qs bytes 8u..8u+7, i.e. elements 8u..8u+7 (low nibbles) and 16+8u..16+8u+7 (high).
    static __device__ __forceinline__ void decode(const unsigned char* __restrict__ b, int u, bool al, float v[16], int pos[4]) {
        const float d = h2f(ld16(b, al));
#pragma unroll
        for (int h = 0; h < 2; h++) {
            unsigned q = ld32_2(b + 2 + 8 * u + 4 * h, al);
            pos[h] = 8 * u + 4 * h;
            pos[2 + h] = 16 + 8 * u + 4 * h;
#pragma unroll
            for (int i = 0; i < 4; i++) {
                v[4 * h + i] = (float) ((int) ((q >> (8 * i)) & 15) - 8) * d;
                v[8 + 4 * h + i] = (float) ((int) ((q >> (8 * i + 4)) & 15) - 8) * d;
            }
        }
    }
};

// Q4_K and Q5_K: the unit's sub-blocks 2c and 2c + 1 (scale s, min m: x = s*q - m) and the positions
// of its elements, 64c + l0 .. +7 and 64c + 32 + l0 .. +7.
__device__ __forceinline__ void k4_unit(const unsigned char* __restrict__ b, int c, int l0, bool al,
                                        float& s0, float& m0, float& s1, float& m1, int pos[4]) {
    const float d = h2f(ld16(b, al)), dmin = h2f(ld16(b + 2, al));
    int sc0, mn0, sc1, mn1;
    const unsigned w0 = ld32_4(b + 4, al), w1 = ld32_4(b + 8, al), w2 = ld32_4(b + 12, al);
    k4_scale_min(w0, w1, w2, 2 * c, sc0, mn0);
    k4_scale_min(w0, w1, w2, 2 * c + 1, sc1, mn1);
    s0 = d * (float) sc0; m0 = dmin * (float) mn0;
    s1 = d * (float) sc1; m1 = dmin * (float) mn1;
    pos[0] = 64 * c + l0; pos[1] = pos[0] + 4; pos[2] = pos[0] + 32; pos[3] = pos[0] + 36;
}

// Q4_K: half d, dmin; u8 scales[12]; u8 qs[128]. Byte 32c + l of qs holds element 64c + l (low
// nibble, sub-block 2c) and 64c + 32 + l (high nibble, sub-block 2c + 1); x = d*sc*q - dmin*mn.
// Unit u: c = u / 4, l0 = 8 (u % 4): qs bytes 32c + l0 .. +7.
struct Q4_K {
    static constexpr int QK = 256, BYTES = 144, UNITS = 16;
    static __device__ __forceinline__ void decode(const unsigned char* __restrict__ b, int u, bool al, float v[16], int pos[4]) {
        const int c = u >> 2, l0 = 8 * (u & 3);
        float s0, m0, s1, m1;
        k4_unit(b, c, l0, al, s0, m0, s1, m1, pos);
#pragma unroll
        for (int h = 0; h < 2; h++) {
            unsigned q = ld32_4(b + 16 + 32 * c + l0 + 4 * h, al);
#pragma unroll
            for (int i = 0; i < 4; i++) {
                v[4 * h + i] = __fsub_rn(__fmul_rn(s0, (float) ((q >> (8 * i)) & 15)), m0);
                v[8 + 4 * h + i] = __fsub_rn(__fmul_rn(s1, (float) ((q >> (8 * i + 4)) & 15)), m1);
            }
        }
    }
};

// Q5_K: half d, dmin; u8 scales[12]; u8 qh[32]; u8 qs[128]. As Q4_K, plus the fifth bit of element
// 32j + l in bit j of qh[l]. Same units as Q4_K.
struct Q5_K {
    static constexpr int QK = 256, BYTES = 176, UNITS = 16;
    static __device__ __forceinline__ void decode(const unsigned char* __restrict__ b, int u, bool al, float v[16], int pos[4]) {
        const int c = u >> 2, l0 = 8 * (u & 3);
        float s0, m0, s1, m1;
        k4_unit(b, c, l0, al, s0, m0, s1, m1, pos);
#pragma unroll
        for (int h = 0; h < 2; h++) {
            unsigned q = ld32_4(b + 48 + 32 * c + l0 + 4 * h, al);
            unsigned qh = ld32_4(b + 16 + l0 + 4 * h, al) >> (2 * c);  // bit 0 / 1 of each byte: sub 2c / 2c+1
#pragma unroll
            for (int i = 0; i < 4; i++) {
                unsigned lo = ((q >> (8 * i)) & 15) | (((qh >> (8 * i)) & 1) << 4);
                unsigned hi = ((q >> (8 * i + 4)) & 15) | (((qh >> (8 * i + 1)) & 1) << 4);
                v[4 * h + i] = __fsub_rn(__fmul_rn(s0, (float) lo), m0);
                v[8 + 4 * h + i] = __fsub_rn(__fmul_rn(s1, (float) hi), m1);
            }
        }
    }
};

// Q6_K: u8 ql[128]; u8 qh[64]; i8 scales[16]; half d. Element 128h + 32k + l (k < 4, l < 32): low
// nibble in ql[64h + 32(k%2) + l] at bit 4(k/2), high two bits in qh[32h + l] at bit 2k; value
// d * scales[e/16] * (q - 32). Unit u: h = u / 8, l0 = 4 (u % 8): elements 128h + 32k + l0..+3, k < 4.
struct Q6_K {
    static constexpr int QK = 256, BYTES = 210, UNITS = 16;
    static __device__ __forceinline__ void decode(const unsigned char* __restrict__ b, int u, bool al, float v[16], int pos[4]) {
        const int h = u >> 3, l0 = 4 * (u & 7);
        const float d = h2f(ld16(b + 208, al));
        const unsigned ql0 = ld32_2(b + 64 * h + l0, al);
        const unsigned ql1 = ld32_2(b + 64 * h + 32 + l0, al);
        const unsigned qh = ld32_2(b + 128 + 32 * h + l0, al);
#pragma unroll
        for (int k = 0; k < 4; k++) {
            const float ds = d * (float) (signed char) b[192 + 8 * h + 2 * k + (l0 >> 4)];
            const unsigned ql = (k & 1) ? ql1 : ql0;
            pos[k] = 128 * h + 32 * k + l0;
#pragma unroll
            for (int i = 0; i < 4; i++) {
                int q = (int) (((ql >> (8 * i + 4 * (k >> 1))) & 15) | (((qh >> (8 * i + 2 * k)) & 3) << 4));
                v[4 * k + i] = ds * (float) (q - 32);
            }
        }
    }
};

// IQ4_XS: half d; u16 scales_h; u8 scales_l[4]; u8 qs[128]. Sub-block ib (32 elements) has the 6-bit
// scale ls (low nibble ib%2 of scales_l[ib/2], high bits 2ib of scales_h) and 16 bytes at 16 ib:
// byte j holds element 32ib + j (low nibble) and 32ib + 16 + j (high); value d * (ls - 32) * level.
// Unit u: ib = u / 2, j0 = 8 (u % 2).
struct IQ4_XS {
    static constexpr int QK = 256, BYTES = 136, UNITS = 16;
    static __device__ __forceinline__ void decode(const unsigned char* __restrict__ b, int u, bool al, float v[16], int pos[4]) {
        const int ib = u >> 1, j0 = 8 * (u & 1);
        const float d = h2f(ld16(b, al));
        const int ls = ((b[4 + (ib >> 1)] >> (4 * (ib & 1))) & 15) | (((ld16(b + 2, al) >> (2 * ib)) & 3) << 4);
        const float dl = d * (float) (ls - 32);
        pos[0] = 32 * ib + j0; pos[1] = pos[0] + 4; pos[2] = pos[0] + 16; pos[3] = pos[0] + 20;
#pragma unroll
        for (int h = 0; h < 2; h++) {
            unsigned q = ld32_4(b + 8 + 16 * ib + j0 + 4 * h, al);
            unsigned lo = iq4_levels4(q & 0x0F0F0F0Fu);
            unsigned hi = iq4_levels4((q >> 4) & 0x0F0F0F0Fu);
#pragma unroll
            for (int i = 0; i < 4; i++) {
                v[4 * h + i] = dl * sbyte(lo, i);
                v[8 + 4 * h + i] = dl * sbyte(hi, i);
            }
        }
    }
};

// F32 / F16 / BF16 rows (E = 0, 1, 2): one element, or four consecutive ones (wal: p is aligned to
// four elements, read as one vector).
template <int E>
__device__ __forceinline__ float float_at(const unsigned char* __restrict__ p, bool al) {
    if (E == 0) return __uint_as_float(ld32_4(p, al));
    if (E == 1) return h2f(ld16(p, al));
    return bf2f(ld16(p, al));
}

template <int E>
__device__ __forceinline__ void float4_at(const unsigned char* __restrict__ p, bool wal, bool al, float v[4]) {
    if (E == 0) {
        if (wal) {
            F4 t = *(const F4*) p;
            v[0] = t.a; v[1] = t.b; v[2] = t.c; v[3] = t.d;
            return;
        }
#pragma unroll
        for (int i = 0; i < 4; i++) v[i] = float_at<0>(p + 4 * i, al);
    } else {
        unsigned lo, hi;
        if (wal) {
            U2 t = *(const U2*) p;
            lo = t.a; hi = t.b;
        } else {
            lo = ld32_2(p, al);
            hi = ld32_2(p + 4, al);
        }
        if (E == 1) {
            v[0] = h2f((unsigned short) lo); v[1] = h2f((unsigned short) (lo >> 16));
            v[2] = h2f((unsigned short) hi); v[3] = h2f((unsigned short) (hi >> 16));
        } else {
            v[0] = __uint_as_float(lo << 16); v[1] = __uint_as_float(lo & 0xFFFF0000u);
            v[2] = __uint_as_float(hi << 16); v[3] = __uint_as_float(hi & 0xFFFF0000u);
        }
    }
}

