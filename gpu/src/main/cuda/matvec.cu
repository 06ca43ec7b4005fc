// matvec.cu: y = W x for a few tokens (the generation path); see gpu/KERNELS.md.
//
// mv_<type>(w, rowBytes, x, y, k, rows, tokens): block (32, 4), one warp per weight row, grid
// ceil(rows / 4). A warp walks its row in "units" of 16 weights (4 groups of 4 consecutive
// elements), lane i taking units i, i + 32, ...; consecutive lanes read consecutive bytes of the
// row. Each unit is decoded once into floats, exactly as the Java codecs in
// runtime/src/main/java/dev/panllama/tensor decode it, and multiplied into one accumulator per
// token (up to 8 tokens at a time); the 32 lanes' partial sums meet in a shuffle reduction.
//
// Two #includes, halves.cuh and blocks.cuh: NVRTC is handed them by name.

#define MV_WARPS 4   // rows per block (blockDim.y)
#define MV_TOKENS 8  // tokens accumulated per pass over a row

#include "halves.cuh"   // F16 <-> F32
#include "blocks.cuh"   // the block decoders, shared with dequant.cu

__device__ __forceinline__ float warp_sum(float v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

// Four activations; xal: p is 16-byte aligned.
__device__ __forceinline__ void ldx4(const float* __restrict__ p, bool xal, float v[4]) {
    if (xal) {
        F4 t = *(const F4*) p;
        v[0] = t.a; v[1] = t.b; v[2] = t.c; v[3] = t.d;
    } else {
        v[0] = p[0]; v[1] = p[1]; v[2] = p[2]; v[3] = p[3];
    }
}

// ---- kernel bodies ----------------------------------------------------------------------------

// Writes the warp's per-token sums (already reduced: every lane holds them) for tokens t0..t0+nt-1.
__device__ __forceinline__ void mv_store(float acc[MV_TOKENS], float* __restrict__ y, int row, int rows, int t0, int nt) {
#pragma unroll
    for (int t = 0; t < MV_TOKENS; t++) {
        if (t < nt) {
            float s = warp_sum(acc[t]);
            if (threadIdx.x == t) y[(long long) (t0 + t) * rows + row] = s;
        }
    }
}

template <class D>
__device__ __forceinline__ void mv_quant(const unsigned char* __restrict__ w, long long rowBytes,
                                         const float* __restrict__ x, float* __restrict__ y,
                                         int k, int rows, int tokens) {
    const int lane = threadIdx.x;
    const int row = blockIdx.x * MV_WARPS + threadIdx.y;
    if (row >= rows) return;  // the whole warp leaves together
    const unsigned char* __restrict__ wr = w + (long long) row * rowBytes;
    const bool al = (((unsigned long long) w | (unsigned long long) rowBytes) & 3) == 0;
    const bool xal = ((unsigned long long) x & 15) == 0;  // k is a multiple of 32, so every x row is too
    const int nUnits = (k / D::QK) * D::UNITS;
    for (int t0 = 0; t0 < tokens; t0 += MV_TOKENS) {
        const int nt = imin(MV_TOKENS, tokens - t0);
        const float* __restrict__ xt = x + (long long) t0 * k;
        float acc[MV_TOKENS];
#pragma unroll
        for (int t = 0; t < MV_TOKENS; t++) acc[t] = 0.f;
        for (int u = lane; u < nUnits; u += 32) {
            const int blk = u / D::UNITS, sub = u % D::UNITS;
            float v[16];
            int pos[4];
            D::decode(wr + (long long) blk * D::BYTES, sub, al, v, pos);
            const float* __restrict__ xb = xt + blk * D::QK;
#pragma unroll
            for (int t = 0; t < MV_TOKENS; t++) {
                if (t < nt) {
                    const float* __restrict__ xp = xb + (long long) t * k;
                    float s = 0.f;
#pragma unroll
                    for (int g = 0; g < 4; g++) {
                        float xv[4];
                        ldx4(xp + pos[g], xal, xv);
                        s += v[4 * g] * xv[0] + v[4 * g + 1] * xv[1] + v[4 * g + 2] * xv[2] + v[4 * g + 3] * xv[3];
                    }
                    acc[t] += s;
                }
            }
        }
        mv_store(acc, y, row, rows, t0, nt);
    }
}

// F32 / F16 / BF16 rows: units of 4 consecutive elements; a tail of k % 4 elements is read singly.
template <int E>
__device__ __forceinline__ void mv_float(const unsigned char* __restrict__ w, long long rowBytes,
                                         const float* __restrict__ x, float* __restrict__ y,
                                         int k, int rows, int tokens) {
    constexpr int ES = E == 0 ? 4 : 2;  // bytes per element
    const int lane = threadIdx.x;
    const int row = blockIdx.x * MV_WARPS + threadIdx.y;
    if (row >= rows) return;
    const unsigned char* __restrict__ wr = w + (long long) row * rowBytes;
    const unsigned long long base = (unsigned long long) w | (unsigned long long) rowBytes;
    const bool al = (base & (ES - 1)) == 0;        // element-aligned rows
    const bool wal = (base & (4 * ES - 1)) == 0;   // unit-aligned rows: one vector load per unit
    const bool xal = ((unsigned long long) x & 15) == 0 && (k & 3) == 0;
    const int nUnits = k >> 2, tail = k & 3;
    for (int t0 = 0; t0 < tokens; t0 += MV_TOKENS) {
        const int nt = imin(MV_TOKENS, tokens - t0);
        const float* __restrict__ xt = x + (long long) t0 * k;
        float acc[MV_TOKENS];
#pragma unroll
        for (int t = 0; t < MV_TOKENS; t++) acc[t] = 0.f;
        for (int u = lane; u < nUnits; u += 32) {
            float v[4];
            float4_at<E>(wr + (long long) u * 4 * ES, wal, al, v);
#pragma unroll
            for (int t = 0; t < MV_TOKENS; t++) {
                if (t < nt) {
                    float xv[4];
                    ldx4(xt + (long long) t * k + 4 * u, xal, xv);
                    acc[t] += v[0] * xv[0] + v[1] * xv[1] + v[2] * xv[2] + v[3] * xv[3];
                }
            }
        }
        if (lane < tail) {
            const int j = 4 * nUnits + lane;
            const float wv = float_at<E>(wr + (long long) j * ES, al);
#pragma unroll
            for (int t = 0; t < MV_TOKENS; t++) {
                if (t < nt) acc[t] += wv * xt[(long long) t * k + j];
            }
        }
        mv_store(acc, y, row, rows, t0, nt);
    }
}

// ---- kernels ----------------------------------------------------------------------------------

#define MV_ARGS const unsigned char* __restrict__ w, long long rowBytes, const float* __restrict__ x, \
                float* __restrict__ y, int k, int rows, int tokens

extern "C" __global__ void __launch_bounds__(128) mv_f32(MV_ARGS) { mv_float<0>(w, rowBytes, x, y, k, rows, tokens); }
extern "C" __global__ void __launch_bounds__(128) mv_f16(MV_ARGS) { mv_float<1>(w, rowBytes, x, y, k, rows, tokens); }
extern "C" __global__ void __launch_bounds__(128) mv_bf16(MV_ARGS) { mv_float<2>(w, rowBytes, x, y, k, rows, tokens); }
extern "C" __global__ void __launch_bounds__(128) mv_q8_0(MV_ARGS) { mv_quant<Q8_0>(w, rowBytes, x, y, k, rows, tokens); }
extern "C" __global__ void __launch_bounds__(128) mv_q4_0(MV_ARGS) { mv_quant<Q4_0>(w, rowBytes, x, y, k, rows, tokens); }
extern "C" __global__ void __launch_bounds__(128) mv_q4_k(MV_ARGS) { mv_quant<Q4_K>(w, rowBytes, x, y, k, rows, tokens); }
extern "C" __global__ void __launch_bounds__(128) mv_q5_k(MV_ARGS) { mv_quant<Q5_K>(w, rowBytes, x, y, k, rows, tokens); }
extern "C" __global__ void __launch_bounds__(128) mv_q6_k(MV_ARGS) { mv_quant<Q6_K>(w, rowBytes, x, y, k, rows, tokens); }
extern "C" __global__ void __launch_bounds__(128) mv_iq4_xs(MV_ARGS) { mv_quant<IQ4_XS>(w, rowBytes, x, y, k, rows, tokens); }
